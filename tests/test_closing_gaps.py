"""Closing a forum stops what was already under way (migration 0019): its queued runs end
cancelled and no worker takes them, a running run is stopped and stores no grid, a change that
passed its token lookup before the close committed is refused at its own COMMIT, and a worker
whose grid is ready when the close commits stores none.

Real PostgreSQL, real worker and solves (the spawned solver process); the races are made by
holding a real lock from a second connection until the close has committed.
"""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import asyncpg
import httpx
import pytest

from api.worker import claim_next, process_run
from db.load import load_problem
from db.pool import connect_one
from db.queries.runs import CLOSED_REASON
from solver.scenarios import generate
from tests.conftest import World, bearer
from tests.test_api_runs import FAST
from tests.test_cancel_keeps_grid import SETTINGS, TIME_LIMIT
from tests.test_transient import _blocked_by

pytestmark = pytest.mark.anyio


async def _load(pool: asyncpg.Pool, scenario: str) -> tuple[str, dict[str, str]]:
    async with pool.acquire() as connection:
        loaded = await load_problem(connection, generate(scenario, 0))
    return f"/forums/{loaded.forum_id}", bearer(loaded.organiser_token)


async def _get(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> Any:
    answer = await client.get(url, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def _close(client: httpx.AsyncClient, base: str, organiser: dict[str, str]) -> None:
    closed = await client.post(f"{base}/close", headers=organiser)
    assert closed.status_code == 200, closed.text


async def test_closing_cancels_a_queued_run_and_no_worker_takes_it(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    base, organiser = await _load(pool, "cdma")
    started = await client.post(f"{base}/runs", json={"time_limit": 1, "workers": 1}, headers=organiser)
    assert started.status_code == 202, started.text
    run_url = started.headers["location"]
    await _close(client, base, organiser)
    run = await _get(client, run_url, organiser)
    assert (run["status"], run["cancel_requested"], run["error"]) == ("cancelled", True, CLOSED_REASON), run
    taken = await claim_next(pool, "after-close", FAST.lease_seconds)
    if taken is not None:  # would solve it, and store a version in the closed forum
        await process_run(pool, taken, "after-close", FAST)
    assert taken is None, f"run {taken.number} of forum {taken.forum_id} was taken"
    assert (await _get(client, f"{base}/schedules", organiser)) == []
    audit = await _get(client, f"{base}/audit?limit=1000", organiser)
    assert [(e["action"], e["entity"]) for e in audit[-2:]] == [("close", "forum"), ("cancel", "run")]
    assert audit[-1]["after"]["status"] == "cancelled" and audit[-1]["before"]["status"] == "queued"


async def test_closing_stops_a_running_run_which_stores_no_grid(client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    base, organiser = await _load(pool, "unga-week")
    started = await client.post(f"{base}/runs", json={"time_limit": TIME_LIMIT, "workers": 2}, headers=organiser)
    assert started.status_code == 202, started.text
    run_url = started.headers["location"]
    claimed = await claim_next(pool, "closer", SETTINGS.lease_seconds)
    assert claimed is not None and f"/forums/{claimed.forum_id}" == base, "another test left a run queued"
    worked = asyncio.create_task(process_run(pool, claimed, "closer", SETTINGS))
    try:
        with anyio.fail_after(120):  # searching: a grid is reported
            while (await _get(client, run_url, organiser))["progress"] is None:
                await asyncio.sleep(0.2)
        await _close(client, base, organiser)
        asked = await _get(client, run_url, organiser)
        assert (asked["status"], asked["cancel_requested"]) == ("running", True), asked
        with anyio.fail_after(30):  # stopped at its next heartbeat, not at its 300 s limit
            status = await worked
    finally:
        worked.cancel()
    run = await _get(client, run_url, organiser)
    assert (status, run["status"], run["version"], run["error"]) == ("cancelled", "cancelled", None, CLOSED_REASON)
    assert (await _get(client, f"{base}/schedules", organiser)) == []  # a closed forum takes no version


async def test_a_grid_ready_when_the_close_commits_is_not_stored(client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    """The worker is about to store its grid (it waits for the forum's row, which a second
    connection holds) when the close commits there: it stores nothing, and the run ends cancelled."""
    base, organiser = await _load(pool, "cdma")
    started = await client.post(f"{base}/runs", json={"time_limit": 1, "workers": 1}, headers=organiser)
    run_url = started.headers["location"]
    claimed = await claim_next(pool, "storer", FAST.lease_seconds)
    assert claimed is not None and f"/forums/{claimed.forum_id}" == base, "another test left a run queued"
    async with pool.acquire() as holder, pool.acquire() as watcher:
        transaction = holder.transaction()
        await transaction.start()
        await holder.execute("SELECT 1 FROM forums WHERE id = $1 FOR UPDATE", claimed.forum_id)
        worked = asyncio.create_task(process_run(pool, claimed, "storer", FAST))
        try:
            with anyio.fail_after(120):
                await _blocked_by(watcher, holder.get_server_pid(), 1)  # the worker, storing
            await holder.execute("UPDATE forums SET closed_at = now() WHERE id = $1", claimed.forum_id)
            await transaction.commit()
            with anyio.fail_after(30):
                status = await worked
        finally:
            worked.cancel()
    run = await _get(client, run_url, organiser)
    assert (status, run["status"], run["version"], run["error"]) == ("cancelled", "cancelled", None, CLOSED_REASON)
    assert (await _get(client, f"{base}/schedules", organiser)) == []


async def test_a_change_past_its_token_lookup_when_the_close_commits_is_refused(
    client: httpx.AsyncClient, world: World, database_url: str
) -> None:
    """The change (room R1 renamed) waits in its transaction for room R1's row, which a second
    connection holds (FOR UPDATE: no lock on the forum's row, which the close takes); meanwhile
    the close commits; the second connection ends and the change goes on to its COMMIT, which
    finds the forum closed: 409, and R1 as it was."""
    holder = await connect_one(database_url)
    watcher = await connect_one(database_url)
    transaction = holder.transaction()
    await transaction.start()
    renamed = {"id": "R1", "name": "Renamed after the close", "seats": 8}
    try:
        await holder.execute("SELECT 1 FROM rooms WHERE forum_id = $1 AND id = 'R1' FOR UPDATE", world.forum_id)
        headers = {**world.organiser, "If-Match": "*"}
        task = asyncio.create_task(client.put(f"{world.base}/rooms/R1", json=renamed, headers=headers))
        await _blocked_by(watcher, holder.get_server_pid(), 1)  # past its token lookup, in its work
        await _close(client, world.base, world.organiser)  # touches no room: it commits meanwhile
        await transaction.rollback()
        answer = await asyncio.wait_for(task, 30)
    finally:
        await holder.close()
        await watcher.close()
    assert answer.status_code == 409, answer.text
    problem = answer.json()
    assert "closed" in problem["detail"] and "reopen" in problem["detail"], problem
    assert (await _get(client, f"{world.base}/rooms/R1", world.organiser))["name"] == "Room 1"
    audit = await _get(client, f"{world.base}/audit?limit=1000", world.organiser)
    assert audit[-1]["action"] == "close" and [e["action"] for e in audit if e["entity_id"] == "R1"] == ["create"]
    reopened = await client.post(f"{world.base}/reopen", headers=world.organiser)
    assert reopened.status_code == 200, reopened.text
    again = await client.put(f"{world.base}/rooms/R1", json=renamed, headers={**world.organiser, "If-Match": "*"})
    assert again.status_code == 200, again.text  # reopened: changes land again
