"""Setup edits made while a run solves: the version it stores says it is out of date (since
which edit), publishing it is refused with a 409 that says why, and a version built after
the edit is current. Edits are made between the worker's load and its store, as a real
edit lands while the solver runs."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest

from api import worker
from db.queries.runs import RunRecord
from tests.conftest import World
from tests.test_api_runs import RUN, arrange, work_one

pytestmark = pytest.mark.anyio

Edit = Callable[[httpx.AsyncClient, World, dict[str, str]], Awaitable[str]]


async def _withdraw(client: httpx.AsyncClient, world: World, meetings: dict[str, str]) -> str:
    answer = await client.post(f"{world.base}/requests/{meetings['SGP-AUS']}/withdraw", headers=world.organiser)
    assert answer.status_code == 200, answer.text
    return f"request {meetings['SGP-AUS']} withdrawn"


async def _accept(client: httpx.AsyncClient, world: World, meetings: dict[str, str]) -> str:
    answer = await client.post(
        f"{world.base}/requests/{meetings['pending']}/accept", json={"attendees": []}, headers=world.tokens["JPN"]
    )
    assert answer.status_code == 200 and answer.json()["status"] == "accepted", answer.text
    return f"request {meetings['pending']} accepted"


async def _add_room(client: httpx.AsyncClient, world: World, meetings: dict[str, str]) -> str:
    body = {"id": "R2", "name": "Room 2", "seats": 8}
    answer = await client.post(f"{world.base}/rooms", json=body, headers=world.organiser)
    assert answer.status_code == 201, answer.text
    return "room R2 created"


async def _availability(client: httpx.AsyncClient, world: World, meetings: dict[str, str]) -> str:
    url = f"{world.base}/delegations/AUS/participants/min"
    current = await client.get(url, headers=world.organiser)
    body = {**current.json(), "arrival": "2023-06-03T09:00:00"}  # misses the first day now
    answer = await client.put(url, json=body, headers={**world.tokens["AUS"], "If-Match": current.headers["ETag"]})
    assert answer.status_code == 200, answer.text
    return "participant AUS/min edited"


async def _settings(client: httpx.AsyncClient, world: World, meetings: dict[str, str]) -> str:
    current = await client.get(world.base, headers=world.organiser)
    headers = {**world.organiser, "If-Match": current.headers["ETag"]}
    answer = await client.patch(world.base, json={"name": "Shangri-La Dialogue 2023"}, headers=headers)
    assert answer.status_code == 200, answer.text
    return f"forum {world.forum_id} edited"


async def _meetings(client: httpx.AsyncClient, world: World) -> dict[str, str]:
    pending = await client.post(
        f"{world.base}/requests", json={"parties": ["SGP", "JPN"], "duration_minutes": 30}, headers=world.tokens["SGP"]
    )
    assert pending.status_code == 201 and pending.json()["status"] == "pending", pending.text
    return {
        "SGP-AUS": await arrange(client, world, ["SGP", "AUS"]),
        "AUS-JPN": await arrange(client, world, ["AUS", "JPN"]),
        "pending": pending.json()["id"],
    }


def _edit_between_load_and_store(monkeypatch: pytest.MonkeyPatch, edit: Callable[[], Awaitable[Any]]) -> None:
    """The worker loads the forum, then `edit` commits, then the solver starts: its answer is stored after."""
    load = worker._load_problem

    async def load_then_edit(pool: asyncpg.Pool, run: RunRecord) -> worker._Loaded | str:
        loaded = await load(pool, run)
        await edit()
        return loaded

    monkeypatch.setattr(worker, "_load_problem", load_then_edit)


async def _run(client: httpx.AsyncClient, world: World, pool: asyncpg.Pool) -> dict[str, Any]:
    started = await client.post(f"{world.base}/runs", json=RUN, headers=world.organiser)
    assert started.status_code == 202, started.text
    assert await work_one(pool, world.forum_id) == "succeeded"
    run = (await client.get(f"{world.base}/runs/{started.json()['id']}", headers=world.organiser)).json()
    listed = (await client.get(f"{world.base}/schedules", headers=world.organiser)).json()
    return next(version for version in listed if version["number"] == run["version"])


@pytest.mark.parametrize("edit", [_withdraw, _accept, _add_room, _availability, _settings])
async def test_a_setup_edit_during_a_run_leaves_a_version_out_of_date_that_publishing_refuses(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch, edit: Edit
) -> None:
    meetings = await _meetings(client, world)
    said: list[str] = []

    async def make_edit() -> None:
        said.append(await edit(client, world, meetings))

    with monkeypatch.context() as patched:
        _edit_between_load_and_store(patched, make_edit)
        stale = await _run(client, world, pool)
    assert said and stale["out_of_date"] is not None, stale
    assert stale["out_of_date"]["edits"] == 1
    (shown,) = stale["out_of_date"]["first"]
    assert f"{shown['entity']} {shown['entity_id']}" in said[0]
    assert stale["out_of_date"]["since"] == shown["at"]
    grid = (await client.get(f"{world.base}/schedules/{stale['number']}", headers=world.organiser)).json()
    assert grid["out_of_date"] == stale["out_of_date"]

    refused = await client.post(f"{world.base}/schedules/{stale['number']}/publish", headers=world.organiser)
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    detail = refused.json()["detail"]
    assert f"version {stale['number']} is out of date" in detail and "Queue a new run" in detail
    assert f"{shown['entity']} {shown['entity_id']}" in detail
    assert (await client.get(f"{world.base}/publications", headers=world.organiser)).json() == []

    fresh = await _run(client, world, pool)  # built from the edited forum
    assert fresh["out_of_date"] is None and fresh["forum_revision"] == stale["forum_revision"] + 1
    published = await client.post(f"{world.base}/schedules/{fresh['number']}/publish", headers=world.organiser)
    assert published.status_code == 200, published.text


async def test_edits_that_change_no_solve_leave_the_version_current(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request still pending, a token rotated, a webhook registered: no solve would differ."""
    await _meetings(client, world)

    async def harmless() -> None:
        asked = {"parties": ["AUS", "JPN"], "duration_minutes": 30}
        assert (await client.post(f"{world.base}/requests", json=asked, headers=world.tokens["AUS"])).status_code == 201
        hook = {"url": "https://93.184.216.34/hook"}
        registered = await client.post(f"{world.base}/delegations/SGP/webhooks", json=hook, headers=world.tokens["SGP"])
        assert registered.status_code == 201, registered.text
        rotated = await client.post(f"{world.base}/delegations/JPN/token", headers=world.organiser)
        assert rotated.status_code == 201, rotated.text

    with monkeypatch.context() as patched:
        _edit_between_load_and_store(patched, harmless)
        version = await _run(client, world, pool)
    assert version["out_of_date"] is None
    published = await client.post(f"{world.base}/schedules/{version['number']}/publish", headers=world.organiser)
    assert published.status_code == 200, published.text


async def test_a_request_accepted_after_publication_is_fitted_into_a_current_version(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    """The published grid is out of date once a request is accepted; the fit option that places
    it reads today's forum and breaks none of its rules, so it is current and publishes."""
    meetings = await _meetings(client, world)
    first = await _run(client, world, pool)
    assert (await client.post(f"{world.base}/schedules/{first['number']}/publish", headers=world.organiser)).is_success
    await _accept(client, world, meetings)
    listed = (await client.get(f"{world.base}/schedules", headers=world.organiser)).json()
    assert listed[0]["published"] and listed[0]["out_of_date"]["first"][0]["entity_id"] == meetings["pending"]

    options = await client.get(f"{world.base}/fit", params={"meeting": meetings["pending"]}, headers=world.organiser)
    assert options.status_code == 200 and options.json(), options.text
    body = {"meeting": meetings["pending"], "option": options.json()[0]}
    applied = await client.post(f"{world.base}/fit/apply", json=body, headers=world.organiser)
    assert applied.status_code == 201, applied.text
    number = applied.json()["version"]
    fitted = (await client.get(f"{world.base}/schedules/{number}", headers=world.organiser)).json()
    assert fitted["out_of_date"] is None
    assert (await client.post(f"{world.base}/schedules/{number}/publish", headers=world.organiser)).is_success


def _free_start(taken: list[tuple[datetime, datetime]]) -> datetime:
    """The first hour of the forum at which a 30-minute meeting overlaps none of `taken`."""
    zone = ZoneInfo("Asia/Singapore")
    for day, hour in itertools.product((2, 3), range(9, 13)):
        start = datetime(2023, 6, day, hour, tzinfo=zone)
        if all(start + timedelta(minutes=30) <= begin or end <= start for begin, end in taken):
            return start
    raise AssertionError("no free hour")


def _window(placement: dict[str, Any]) -> tuple[datetime, datetime]:
    return datetime.fromisoformat(placement["start"]), datetime.fromisoformat(placement["end"])


async def test_a_move_keeps_a_version_out_of_date_while_an_edit_breaks_its_grid(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    """A move reads today's forum but keeps the rest of its source's grid: while a placement
    there breaks an edit (a principal now busy at that time), the moved version is no newer
    than its source; moving that meeting where the edit allows makes it current."""
    meetings = await _meetings(client, world)
    first = await _run(client, world, pool)
    grid = (await client.get(f"{world.base}/schedules/{first['number']}", headers=world.organiser)).json()
    where = {placement["meeting"]: _window(placement) for placement in grid["placements"]}
    broken, other = where[meetings["SGP-AUS"]], where[meetings["AUS-JPN"]]
    url = f"{world.base}/delegations/AUS/participants/min"
    current = await client.get(url, headers=world.organiser)
    blocked = {"start": broken[0].replace(tzinfo=None).isoformat(), "end": broken[1].replace(tzinfo=None).isoformat()}
    body = {**current.json(), "blocked": [blocked]}  # busy just when SGP-AUS was placed
    edited = await client.put(url, json=body, headers={**world.tokens["AUS"], "If-Match": current.headers["ETag"]})
    assert edited.status_code == 200, edited.text

    async def move(version: int, meeting: str, start: datetime) -> dict[str, Any]:
        body = {"meeting": meeting, "start": start.replace(tzinfo=None).isoformat(), "room": "R1"}
        answer = await client.post(f"{world.base}/schedules/{version}/moves", json=body, headers=world.organiser)
        assert answer.status_code == 201, answer.text
        number = answer.json()["version"]
        return dict((await client.get(f"{world.base}/schedules/{number}", headers=world.organiser)).json())

    elsewhere = _free_start([broken, other])
    still = await move(first["number"], meetings["AUS-JPN"], elsewhere)
    assert still["out_of_date"] is not None and still["out_of_date"]["first"][0]["entity_id"] == "AUS/min"
    mended = await move(
        still["number"], meetings["SGP-AUS"], _free_start([broken, (elsewhere, elsewhere + timedelta(minutes=30))])
    )
    assert mended["out_of_date"] is None
    publish = await client.post(f"{world.base}/schedules/{mended['number']}/publish", headers=world.organiser)
    assert publish.status_code == 200, publish.text
