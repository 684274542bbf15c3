"""Manual moves over HTTP: the check changes nothing, a valid move stores a new version,
a blocking one is refused naming the rules, and delegations see none of it.

The version moved is a real solve by the worker (1 s limit) of the conftest world:
SGP, AUS and JPN, one room R1, two mornings in 15-minute slots.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import World
from tests.test_api_runs import arrange, start, work_one

pytestmark = pytest.mark.anyio


async def solved(client: httpx.AsyncClient, world: World, pool: asyncpg.Pool) -> dict[str, Any]:
    """Version 1 of the world with SGP-AUS and AUS-JPN both placed."""
    for parties in (["SGP", "AUS"], ["AUS", "JPN"]):
        await arrange(client, world, parties)
    await start(client, world)
    assert await work_one(pool, world.forum_id) == "succeeded"
    grid = (await client.get(f"{world.base}/schedules/1", headers=world.organiser)).json()
    assert len(grid["placements"]) == 2, grid
    return grid


def free_start(grid: dict[str, Any], moving: dict[str, Any]) -> str:
    """A slot start, forum-local, where `moving` overlaps no other meeting and is not already."""
    others = [(datetime.fromisoformat(p["start"]), datetime.fromisoformat(p["end"])) for p in grid["placements"]]
    length = datetime.fromisoformat(moving["end"]) - datetime.fromisoformat(moving["start"])
    for day in ("2023-06-02", "2023-06-03"):
        for quarter in range(0, 14):
            begin = datetime.fromisoformat(f"{day}T09:00:00+08:00") + timedelta(minutes=15 * quarter)
            if all(begin + length <= s or begin >= e for s, e in others):
                return begin.replace(tzinfo=None).isoformat()
    raise AssertionError("no free slot")


async def versions(client: httpx.AsyncClient, world: World) -> list[int]:
    return [v["number"] for v in (await client.get(f"{world.base}/schedules", headers=world.organiser)).json()]


async def test_a_clash_is_reported_and_refused_and_changes_nothing(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    grid = await solved(client, world, pool)
    first, second = grid["placements"]
    clash = {"meeting": second["meeting"], "start": first["start"], "room": "R1"}
    check = await client.post(f"{world.base}/schedules/1/moves/check", json=clash, headers=world.organiser)
    assert check.status_code == 200, check.text
    body = check.json()
    assert body["allowed"] is False
    # both meetings have AUS's principal and R1
    assert {v["rule"] for v in body["blocking"]} == {"room_overlap", "participant_overlap"}
    assert datetime.fromisoformat(body["before"]["start"]) == datetime.fromisoformat(second["start"])

    refused = await client.post(f"{world.base}/schedules/1/moves", json=clash, headers=world.organiser)
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert {e["field"] for e in refused.json()["errors"]} == {"rule:room_overlap", "rule:participant_overlap"}
    assert await versions(client, world) == [1]
    again = (await client.get(f"{world.base}/schedules/1", headers=world.organiser)).json()
    assert again["placements"] == grid["placements"]


async def test_a_valid_move_stores_a_new_version_and_leaves_the_old_one(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    grid = await solved(client, world, pool)
    moving = grid["placements"][0]
    target = free_start(grid, moving)
    body = {"meeting": moving["meeting"], "start": target, "room": "R1"}
    check = await client.post(f"{world.base}/schedules/1/moves/check", json=body, headers=world.organiser)
    assert check.json()["allowed"] is True and check.json()["blocking"] == []
    assert await versions(client, world) == [1]

    stored = await client.post(f"{world.base}/schedules/1/moves", json=body, headers=world.organiser)
    assert stored.status_code == 201, stored.text
    assert stored.json()["version"] == 2 and stored.json()["derived_from"] == 1
    assert stored.headers["location"] == f"{world.base}/schedules/2"
    assert await versions(client, world) == [1, 2]
    new = (await client.get(f"{world.base}/schedules/2", headers=world.organiser)).json()
    assert new["derived_from"] == 1  # recorded with the version, not only in the answer
    listed = (await client.get(f"{world.base}/schedules", headers=world.organiser)).json()
    assert [(v["number"], v["derived_from"]) for v in listed] == [(1, None), (2, 1)]
    moved = next(p for p in new["placements"] if p["meeting"] == moving["meeting"])
    assert datetime.fromisoformat(moved["start"]) == datetime.fromisoformat(target + "+08:00")
    assert sorted(moved["attendees"]) == sorted(moving["attendees"])  # attendance moved with it
    old = (await client.get(f"{world.base}/schedules/1", headers=world.organiser)).json()
    assert old["placements"] == grid["placements"]
    audit = (await client.get(f"{world.base}/audit", headers=world.organiser)).json()
    assert any(entry["action"] == "move" and entry["entity_id"] == "2" for entry in audit)


async def test_a_move_to_the_minute_is_read_as_on_the_minute(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    """RFC 3339 needs seconds (msgspec refused 2023-06-02T09:15); people, the CSV import and
    HTML's datetime-local inputs write none. A time still unreadable says what to write."""
    grid = await solved(client, world, pool)
    moving = grid["placements"][0]
    target = free_start(grid, moving)  # 2023-06-02T09:15:00, say
    path = f"{world.base}/schedules/1/moves"
    body = {"meeting": moving["meeting"], "start": target.removesuffix(":00"), "room": "R1"}
    for when in (body["start"], body["start"] + "+08:00"):
        check = await client.post(f"{path}/check", json={**body, "start": when}, headers=world.organiser)
        assert check.status_code == 200 and check.json()["allowed"] is True, (when, check.text)
    stored = await client.post(path, json=body, headers=world.organiser)
    assert stored.status_code == 201, stored.text
    new = (await client.get(f"{world.base}/schedules/2", headers=world.organiser)).json()
    moved = next(p for p in new["placements"] if p["meeting"] == moving["meeting"])
    assert datetime.fromisoformat(moved["start"]) == datetime.fromisoformat(target + "+08:00")
    between = {**body, "start": target.removesuffix(":00") + ":30"}  # half a minute past a slot start
    check = (await client.post(f"{path}/check", json=between, headers=world.organiser)).json()
    expected = f"starts at {datetime.fromisoformat(target):%A %H:%M}:30, which is not a slot start of the grid"
    assert [v["rule"] for v in check["blocking"]] == ["grid"] and expected in check["blocking"][0]["message"], check
    noon = await client.post(f"{path}/check", json={**body, "start": "noon"}, headers=world.organiser)
    assert noon.status_code == 400
    expected = "must be a date and time such as 2024-05-31T14:30 or 2024-05-31T14:30:00"
    assert noon.json()["errors"] == [{"field": "start", "message": expected}], noon.text


async def test_bad_moves_name_the_field_and_delegations_see_nothing(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    grid = await solved(client, world, pool)
    meeting = grid["placements"][0]["meeting"]
    path = f"{world.base}/schedules/1/moves"
    good = {"meeting": meeting, "start": "2023-06-02T12:00:00", "room": "R1"}
    for body, field in (
        ({**good, "room": "R9"}, "room"),
        ({**good, "meeting": "m-nope"}, "meeting"),
    ):
        answer = await client.post(f"{path}/check", json=body, headers=world.organiser)
        assert answer.status_code == 422, answer.text
        assert [e["field"] for e in answer.json()["errors"]] == [field]
    malformed = await client.post(f"{path}/check", json={**good, "start": "noon"}, headers=world.organiser)
    assert malformed.status_code == 400 and malformed.json()["errors"][0]["field"] == "start"
    missing = await client.post(f"{world.base}/schedules/9/moves/check", json=good, headers=world.organiser)
    assert missing.status_code == 404
    for suffix in ("/check", ""):
        hidden = await client.post(f"{path}{suffix}", json=good, headers=world.tokens["SGP"])
        assert hidden.status_code == 404, hidden.text
    assert (await client.post(f"{path}/check", json=good)).status_code == 401
    assert await versions(client, world) == [1]


async def test_a_move_is_checked_against_the_recorded_changes(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    grid = await solved(client, world, pool)
    saturday = {"start": "2023-06-03T09:00:00", "end": "2023-06-03T13:00:00"}
    lost = {"kind": "room_unavailable", "room": "R1", "window": saturday}
    recorded = await client.post(f"{world.base}/changes", json=lost, headers=world.organiser)
    assert recorded.status_code == 201, recorded.text
    body = {"meeting": grid["placements"][0]["meeting"], "start": "2023-06-03T12:00:00", "room": "R1"}
    check = await client.post(f"{world.base}/schedules/1/moves/check", json=body, headers=world.organiser)
    assert {v["rule"] for v in check.json()["blocking"]} == {"room_unavailable"}  # R1 is lost on Saturday


async def test_a_move_leaves_out_a_meeting_withdrawn_since_the_version(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    """The moved version copied every placement of its source, a withdrawn meeting too:
    published, it would have announced that meeting again (a fit option leaves it out)."""
    grid = await solved(client, world, pool)
    gone, moving = grid["placements"]
    withdrawn = await client.post(f"{world.base}/requests/{gone['meeting']}/withdraw", headers=world.organiser)
    assert withdrawn.status_code == 200, withdrawn.text
    body = {"meeting": moving["meeting"], "start": free_start(grid, moving), "room": "R1"}
    stored = await client.post(f"{world.base}/schedules/1/moves", json=body, headers=world.organiser)
    assert stored.status_code == 201, stored.text
    moved = (await client.get(f"{world.base}/schedules/{stored.json()['version']}", headers=world.organiser)).json()
    assert [p["meeting"] for p in moved["placements"]] == [moving["meeting"]]
    placed = await pool.fetchval(
        "SELECT count(*) FROM schedule_placements p JOIN schedule_versions v ON v.id = p.version_id"
        " WHERE v.forum_id = $1 AND v.number = $2",
        world.forum_id,
        stored.json()["version"],
    )
    assert placed == 1  # the stored grid too, which feeds the agendas and calendars
