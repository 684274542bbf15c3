"""The request deadline passing: requests still waiting for an answer read as expired everywhere
(derived at read time, nothing written), are no meeting of the grid, and their parties are told
once (`request.expired`, written by the worker's dispatcher); a deadline moved later opens them
again and says so (`request.changed`, status expired to pending).

The world: SGP, AUS and JPN, each with a principal ("min") and an aide.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest

from api.dispatcher import DispatchSettings, end_dispatcher, start_dispatcher
from api.request_notices import tell_expired
from db.problem import build_problem
from tests.conftest import World
from tests.test_request_notices import ask, notices_of, types

pytestmark = pytest.mark.anyio


async def _deadline(client: httpx.AsyncClient, world: World, at: datetime | None) -> None:
    forum = await client.get(world.base, headers=world.organiser)
    body = {"request_deadline": at.isoformat() if at else None}
    moved = await client.patch(world.base, json=body, headers={**world.organiser, "If-Match": forum.headers["etag"]})
    assert moved.status_code == 200, moved.text


async def _statuses(client: httpx.AsyncClient, world: World) -> dict[str, str]:
    listed = await client.get(f"{world.base}/requests", headers=world.organiser)
    assert listed.status_code == 200, listed.text
    return {request["id"]: request["status"] for request in listed.json()}


async def _inbox(client: httpx.AsyncClient, world: World, delegation: str) -> dict[str, Any]:
    answer = await client.get(f"{world.base}/delegations/{delegation}/inbox", headers=world.tokens[delegation])
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def _meetings(pool: asyncpg.Pool, world: World) -> list[str]:
    async with pool.acquire() as connection:
        problem = await build_problem(connection, UUID(world.forum_id), datetime.now(UTC))
    assert problem is not None
    return [meeting.id for meeting in problem.meetings]


async def test_both_sides_of_the_deadline_and_the_expiry_told_once(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    waiting = await ask(client, world, "SGP", ["SGP", "AUS"])
    agreed = await ask(client, world, "SGP", ["SGP", "JPN"])
    refused = await ask(client, world, "AUS", ["AUS", "JPN"])
    tokens = world.tokens
    accepted = await client.post(f"{world.base}/requests/{agreed}/accept", json={}, headers=tokens["JPN"])
    declined = await client.post(f"{world.base}/requests/{refused}/decline", headers=tokens["JPN"])
    assert accepted.status_code == declined.status_code == 200
    # The sweep covers every forum of the database: first tell what earlier tests' forums left
    # untold (a deadline they moved into the past), so that the counts below are this forum's.
    await tell_expired(pool, datetime.now(UTC))
    before = {d: len(listed) for d, listed in (await notices_of(pool, world)).items()}

    # before the deadline: waiting, in the organiser's list and the invitee's inbox; nothing told
    await _deadline(client, world, datetime.now(UTC) + timedelta(hours=1))
    assert await _statuses(client, world) == {waiting: "pending", agreed: "accepted", refused: "declined"}
    assert [r["id"] for r in (await _inbox(client, world, "AUS"))["waiting"]] == [waiting]
    assert await tell_expired(pool, datetime.now(UTC)) == 0
    assert types(await notices_of(pool, world), before) == {}
    assert await _meetings(pool, world) == [agreed]

    # after it: expired in every read (the requests page reads this list), no meeting of the grid
    await _deadline(client, world, datetime.now(UTC) - timedelta(minutes=1))
    assert await _statuses(client, world) == {waiting: "expired", agreed: "accepted", refused: "declined"}
    assert (await _inbox(client, world, "AUS"))["waiting"] == []
    assert [(r["id"], r["status"]) for r in (await _inbox(client, world, "SGP"))["sent"]] == [
        (waiting, "expired"),
        (agreed, "accepted"),
    ]
    assert await _meetings(pool, world) == [agreed]
    late = await client.post(f"{world.base}/requests/{waiting}/accept", json={}, headers=tokens["AUS"])
    assert late.status_code == 409, late.text

    # told once, to both its parties, as each reads it
    assert await tell_expired(pool, datetime.now(UTC)) == 1
    assert await tell_expired(pool, datetime.now(UTC)) == 0
    found = await notices_of(pool, world)
    assert types(found, before) == {"SGP": ["request.expired"], "AUS": ["request.expired"]}
    for delegation in ("SGP", "AUS"):
        notice = found[delegation][-1]
        read = await client.get(f"{world.base}/requests/{waiting}", headers=tokens[delegation])
        assert (notice["by"], notice["delegation"], notice["forum"]) == ("organiser", delegation, world.forum_id)
        assert notice["request"] == read.json() and notice["request"]["status"] == "expired"
    told = {d: len(listed) for d, listed in found.items()}

    # moved later: open again, and told so in that PATCH; its next passing is told afresh
    await _deadline(client, world, datetime.now(UTC) + timedelta(hours=1))
    assert (await _statuses(client, world))[waiting] == "pending"
    found = await notices_of(pool, world)
    assert types(found, told) == {"SGP": ["request.changed"], "AUS": ["request.changed"]}
    assert found["AUS"][-1]["changes"] == {"status": {"before": "expired", "after": "pending"}}
    assert found["AUS"][-1]["request"]["status"] == "pending"
    told = {d: len(listed) for d, listed in found.items()}
    await _deadline(client, world, datetime.now(UTC) - timedelta(minutes=2))
    await _deadline(client, world, datetime.now(UTC) - timedelta(minutes=3))  # passed to passed: no news
    assert await tell_expired(pool, datetime.now(UTC)) == 1
    await _deadline(client, world, datetime.now(UTC) - timedelta(minutes=4))
    assert await tell_expired(pool, datetime.now(UTC)) == 0
    assert types(await notices_of(pool, world), told) == {"SGP": ["request.expired"], "AUS": ["request.expired"]}


async def test_the_worker_s_dispatcher_tells_a_deadline_passing(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    """No request changes when the clock passes the deadline: the dispatcher, running beside the
    solve loop, writes the notices within its idle second."""
    waiting = await ask(client, world, "JPN", ["JPN", "SGP"])
    before = {d: len(listed) for d, listed in (await notices_of(pool, world)).items()}
    await _deadline(client, world, datetime.now(UTC) + timedelta(seconds=1))
    stop = asyncio.Event()
    task = start_dispatcher(pool, stop, DispatchSettings(idle_seconds=0.1))
    try:
        for _ in range(100):
            found = await notices_of(pool, world)
            if types(found, before):
                break
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await end_dispatcher(task)
    assert types(found, before) == {"JPN": ["request.expired"], "SGP": ["request.expired"]}
    assert found["SGP"][-1]["request"]["id"] == waiting
