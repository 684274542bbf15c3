"""Free spots of one meeting in a stored version (GET .../schedules/{v}/spots): exactly the
places the move check allows, cheapest first, in the forum's zone; bad queries name the
parameter; a delegation sees nothing.

The version is a real solve by the worker (tests/test_api_moves.py's `solved`) of the conftest
world, given a second room, and a third meeting requested after the solve (so the version
neither places nor lists it, as for a request accepted since).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg
import httpx
import pytest

from tests.conftest import FORUM_BODY, World
from tests.test_api_moves import solved
from tests.test_api_runs import arrange

pytestmark = pytest.mark.anyio


def every_start() -> list[str]:
    """Each slot start of the forum's days, forum-local without an offset, as a move takes it."""
    starts = []
    for day in FORUM_BODY["days"]:
        at = datetime.fromisoformat(f"{day['date']}T{day['start']}")
        end = datetime.fromisoformat(f"{day['date']}T{day['end']}")
        while at < end:
            starts.append(at.isoformat())
            at += timedelta(minutes=FORUM_BODY["slot_minutes"])
    return starts


async def allowed_by_check(client: httpx.AsyncClient, world: World, meeting: str, rooms: list[str]) -> set[str]:
    found = set()
    for start in every_start():
        for room in rooms:
            body = {"meeting": meeting, "start": start, "room": room}
            check = await client.post(f"{world.base}/schedules/1/moves/check", json=body, headers=world.organiser)
            assert check.status_code == 200, check.text
            if check.json()["allowed"]:
                found.add(f"{start} {room}")
    return found


async def spots(client: httpx.AsyncClient, world: World, query: str) -> httpx.Response:
    return await client.get(f"{world.base}/schedules/1/spots?{query}", headers=world.organiser)


async def test_the_spots_are_exactly_those_the_move_check_allows_cheapest_first(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    grid = await solved(client, world, pool)
    room = {"id": "R2", "name": "Room 2", "seats": 4}
    assert (await client.post(f"{world.base}/rooms", json=room, headers=world.organiser)).status_code == 201
    late = await arrange(client, world, ["SGP", "JPN"])
    for meeting in [late, *(p["meeting"] for p in grid["placements"])]:
        answer = await spots(client, world, f"meeting={meeting}&k=200")
        assert answer.status_code == 200, answer.text
        listed = answer.json()
        assert all(datetime.fromisoformat(s["start"]).utcoffset() == timedelta(hours=8) for s in listed), listed
        found = {f"{datetime.fromisoformat(s['start']).replace(tzinfo=None).isoformat()} {s['room']}" for s in listed}
        assert len(found) == len(listed)
        assert found == await allowed_by_check(client, world, meeting, ["R1", "R2"]), meeting
        assert [s["cost"] for s in listed] == sorted(s["cost"] for s in listed)
        assert all(s["cost"] == sum(s["costs"].values()) for s in listed)
    placed = grid["placements"][0]
    best = (await spots(client, world, f"meeting={placed['meeting']}&k=1")).json()
    # a placed meeting's own place moves nothing: it is the cheapest, at no cost
    assert [(best[0]["start"], best[0]["room"], best[0]["cost"])] == [(placed["start"], placed["room"], 0)]
    # the forum compiled for the spots above is not the forum after an edit
    room = {"id": "R3", "name": "Room 3", "seats": 4}
    assert (await client.post(f"{world.base}/rooms", json=room, headers=world.organiser)).status_code == 201
    listed = (await spots(client, world, f"meeting={late}&k=200")).json()
    assert "R3" in {s["room"] for s in listed}


async def test_bad_queries_name_the_parameter_and_delegations_see_nothing(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    grid = await solved(client, world, pool)
    meeting = grid["placements"][0]["meeting"]
    k = "must be an integer from 1 to 200"
    cases = {
        "": (400, "query:meeting", "required"),
        "meeting=nope": (422, "query:meeting", "no meeting nope to schedule in this forum"),
        f"meeting={meeting}&k=0": (400, "query:k", k),
        f"meeting={meeting}&k=201": (400, "query:k", k),
        f"meeting={meeting}&k=x": (400, "query:k", k),
    }
    for query, (status, field, message) in cases.items():
        answer = await spots(client, world, query)
        assert answer.status_code == status, (query, answer.text)
        assert answer.headers["content-type"] == "application/problem+json", query
        assert answer.json()["errors"] == [{"field": field, "message": message}], (query, answer.text)
    unknown = await client.get(f"{world.base}/schedules/9/spots?meeting={meeting}", headers=world.organiser)
    assert unknown.status_code == 404, unknown.text
    for token in world.tokens.values():
        hidden = await client.get(f"{world.base}/schedules/1/spots?meeting={meeting}", headers=token)
        assert hidden.status_code == 404, hidden.text
