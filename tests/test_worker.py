"""The worker's lease: a run whose worker dies is taken up again, and exactly one
version results, even when the first worker comes back and finishes late."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import anyio
import asyncpg
import httpx
import pytest

from api.app import create_app
from api.worker import FORUM_CHANGED, WorkerSettings, claim_next, process_run, run_worker
from db.migrate import migrate_url
from db.pool import connect
from db.queries import runs
from tests.conftest import ADMIN_TOKEN, Databases, World, asgi_client, make_world
from tests.processes import Isolated, eventually, serving, stopped
from tests.test_api_runs import FAST, arrange

pytestmark = pytest.mark.anyio


async def queue_run(client: httpx.AsyncClient, world: World, time_limit: float = 1) -> int:
    await arrange(client, world, ["SGP", "AUS"])
    await arrange(client, world, ["AUS", "JPN"])
    body = {"time_limit": time_limit, "workers": 1}
    started = await client.post(f"{world.base}/runs", json=body, headers=world.organiser)
    assert started.status_code == 202, started.text
    return int(started.json()["id"])


_LEASE_OWNER = "SELECT lease_owner FROM solve_runs WHERE forum_id = $1 AND number = $2"


async def versions_of(pool: asyncpg.Pool, run_id: int) -> int:
    """The versions of the run with internal id `run_id`."""
    return int(await pool.fetchval("SELECT count(*) FROM schedule_versions WHERE run_id = $1", run_id))


async def test_lapsed_lease_is_retried_and_late_finisher_adds_nothing(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    run_id = await queue_run(client, world)
    ghost = await claim_next(pool, "ghost", lease_seconds=60)  # claims, then "dies" without a heartbeat
    assert ghost is not None and ghost.number == run_id and ghost.status == "running"
    assert await claim_next(pool, "rescuer") is None  # the lease still holds: nobody else takes it

    await pool.execute("UPDATE solve_runs SET lease_expires_at = now() - interval '1 second' WHERE id = $1", ghost.id)
    rescued = await claim_next(pool, "rescuer", FAST.lease_seconds)
    assert rescued is not None and rescued.id == ghost.id and rescued.attempts == 2
    assert await process_run(pool, rescued, "rescuer", FAST) == "succeeded"

    # The ghost comes back: its heartbeat finds the lease gone, so it stops and stores nothing.
    assert await process_run(pool, ghost, "ghost", FAST) == "lost"
    async with pool.acquire() as connection:
        assert await runs.store_result(connection, ghost.id, {"status": "FEASIBLE", "placed": []}, []) is None
        run = await runs.get_run(connection, world.forum_id, run_id)
    assert run is not None and run.status == "succeeded" and run.lease_owner == "rescuer"
    assert await versions_of(pool, ghost.id) == 1


async def test_killed_worker_process_run_is_taken_up_again(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool, database_url: str
) -> None:
    run_id = await queue_run(client, world, time_limit=2)
    environment = {**os.environ, "DATABASE_URL": database_url}
    doomed = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "api", "worker", "--owner", "doomed", "--lease", "2", env=environment
    )
    try:
        with anyio.fail_after(60):
            while await pool.fetchval(_LEASE_OWNER, world.forum_id, run_id) != "doomed":
                await asyncio.sleep(0.1)
    finally:
        doomed.kill()  # mid-solve: its lease is no longer renewed
        await doomed.wait()
    settings = WorkerSettings(lease_seconds=5.0, heartbeat_seconds=0.2)
    with anyio.fail_after(60):
        rescued = None
        while rescued is None:  # once the 2 s lease lapses
            rescued = await claim_next(pool, "rescuer", settings.lease_seconds)
            await asyncio.sleep(0.2)
        assert rescued.number == run_id and rescued.attempts == 2
        assert await process_run(pool, rescued, "rescuer", settings) == "succeeded"
    assert await versions_of(pool, rescued.id) == 1


async def test_chores_run_each_pass_and_a_failing_one_does_not_stop_the_worker(databases: Databases) -> None:
    url = await databases.create()  # an empty queue of its own: this worker must find no run to take
    await migrate_url(url)
    pool = await connect(url, max_size=2)
    stop = asyncio.Event()
    calls: list[str] = []

    async def broken(pool: asyncpg.Pool) -> None:
        calls.append("broken")
        raise RuntimeError("webhook endpoint down")

    async def counting(pool: asyncpg.Pool) -> None:
        calls.append("counting")
        if calls.count("counting") == 3:
            stop.set()

    settings = WorkerSettings(idle_seconds=0.05)
    try:
        with anyio.fail_after(30):
            assert await run_worker(pool, "chores", stop, settings, chores=[broken, counting]) == 0
    finally:
        await pool.close()
    assert calls == ["broken", "counting"] * 3


async def killed_mid_solve(isolated: Isolated, client: httpx.AsyncClient, world: World, owner: str) -> int:
    """A run whose worker process was SIGKILLed while solving it: its lease (3 s) is left to lapse."""
    run_id = await queue_run(client, world, time_limit=3)
    doomed = await isolated.start("worker", "--owner", owner, "--lease", "3")
    try:
        await eventually(lambda: _owned_by(isolated, run_id, owner))
    finally:
        doomed.kill()
        await doomed.wait()
    return run_id


async def _owned_by(isolated: Isolated, run_id: int, owner: str) -> bool:
    return (await isolated.run_row(run_id))["lease_owner"] == owner


async def test_a_cancelled_run_whose_worker_died_ends_cancelled(isolated: Isolated) -> None:
    async with asgi_client(create_app(isolated.pool, admin_token=ADMIN_TOKEN)) as client:
        world = await make_world(client)
        # Cancelled while the dead worker's lease still holds: the next worker's claim ends it.
        early = await killed_mid_solve(isolated, client, world, "doomed")
        cancel = await client.post(f"{world.base}/runs/{early}/cancel", headers=world.organiser)
        assert cancel.status_code == 202 and cancel.json()["status"] == "running"

        async def cancelled() -> bool:
            assert await claim_next(isolated.pool, "rescuer", FAST.lease_seconds) is None  # nothing to solve
            return (await isolated.run_row(early))["status"] == "cancelled"

        await eventually(cancelled)

        # Cancelled once the lease has lapsed: it ends at once, no worker needed.
        late = await killed_mid_solve(isolated, client, world, "doomed-too")
        await eventually(lambda: _lapsed(isolated, late))
        cancel = await client.post(f"{world.base}/runs/{late}/cancel", headers=world.organiser)
        assert cancel.status_code == 202 and cancel.json()["status"] == "cancelled"
    for run_id in (early, late):
        row = await isolated.run_row(run_id)
        assert (row["status"], row["lease_expires_at"], row["version_id"]) == ("cancelled", None, None)


async def _lapsed(isolated: Isolated, run_id: int) -> bool:
    query = "SELECT lease_expires_at < now() FROM solve_runs WHERE number = $1"
    return bool(await isolated.pool.fetchval(query, run_id))


async def test_a_delegation_deleted_mid_solve_fails_the_run_and_serve_goes_on(isolated: Isolated) -> None:
    async with serving(isolated) as (process, client):  # its one in-process worker solves
        world = await make_world(client)
        run_id = await queue_run(client, world, time_limit=3)
        await eventually(lambda: _solving(isolated, run_id))  # its problem loaded, its solver starting
        gone = await client.delete(f"{world.base}/delegations/JPN", headers={**world.organiser, "If-Match": "*"})
        assert gone.status_code == 204, gone.text

        async def ended() -> bool:
            return (await isolated.run_row(run_id))["status"] != "running"

        await eventually(ended)
        run = (await client.get(f"{world.base}/runs/{run_id}", headers=world.organiser)).json()
        assert (run["status"], run["error"], run["version"]) == ("failed", FORUM_CHANGED, None)
        assert (await client.get("/health/ready")).status_code == 200  # the worker's failure did not end serve
        assert await stopped(process, signal.SIGTERM) == 0


async def test_a_change_recorded_mid_solve_fails_the_run_naming_it(isolated: Isolated) -> None:
    """Its grid would ignore the change (a late arrival), and could be published so: the
    run fails, naming the change, and the next run takes it into account."""
    async with serving(isolated) as (process, client):
        world = await make_world(client)
        run_id = await queue_run(client, world, time_limit=3)
        await eventually(lambda: _solving(isolated, run_id))  # its problem loaded, its solver starting
        late = {"kind": "arrival_changed", "participant": "JPN/min", "arrival": "2023-06-03T11:00:00"}
        recorded = await client.post(f"{world.base}/changes", json=late, headers=world.organiser)
        assert recorded.status_code == 201, recorded.text

        async def ended(run_id: int) -> bool:
            return (await isolated.run_row(run_id))["status"] not in ("queued", "running")

        await eventually(lambda: ended(run_id))
        run = (await client.get(f"{world.base}/runs/{run_id}", headers=world.organiser)).json()
        assert (run["status"], run["version"]) == ("failed", None)
        assert "change 1 (" in run["error"] and "queue a new run" in run["error"]
        again = await client.post(f"{world.base}/runs", json={"time_limit": 1}, headers=world.organiser)
        await eventually(lambda: ended(int(again.json()["id"])))
        assert (await isolated.run_row(int(again.json()["id"])))["status"] == "succeeded"
        assert await stopped(process, signal.SIGTERM) == 0


async def _solving(isolated: Isolated, run_id: int) -> bool:
    """Past its first heartbeat: the worker has loaded the run's problem."""
    query = "SELECT heartbeat_at > started_at FROM solve_runs WHERE number = $1"
    return bool(await isolated.pool.fetchval(query, run_id))
