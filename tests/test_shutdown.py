"""Real `sidelines serve` and `sidelines worker` processes: the API's in-process worker,
and clean shutdown on SIGTERM/SIGINT (exit 0, an unfinished run handed back at once
and then solved exactly once by another worker). Each test has a database of its
own (the `isolated` fixture), so no other test's queued run is taken by these workers."""

from __future__ import annotations

import asyncio
import signal
import time
from functools import partial

import httpx
import pytest

from api.app import create_app
from tests.conftest import ADMIN_TOKEN, World, asgi_client, make_world
from tests.processes import Isolated, eventually, serving, stopped
from tests.test_api_runs import arrange

pytestmark = pytest.mark.anyio

# These tiny forums solve in well under a second once the solver process runs, but that process
# takes over a second to start (spawn, then OR-Tools imports), and the tests signal within 0.1 s
# of the claim: a run is still unsolved when its worker is told to stop.
RUN = {"time_limit": 4, "workers": 1}


async def queue_runs(client: httpx.AsyncClient, world: World, count: int) -> list[int]:
    await arrange(client, world, ["SGP", "AUS"])
    await arrange(client, world, ["AUS", "JPN"])
    ids = []
    for _ in range(count):
        started = await client.post(f"{world.base}/runs", json=RUN, headers=world.organiser)
        assert started.status_code == 202, started.text
        ids.append(int(started.json()["id"]))
    return ids


async def running(isolated: Isolated, run_id: int, owner_prefix: str = "") -> bool:
    row = await isolated.run_row(run_id)
    return row["status"] == "running" and str(row["lease_owner"]).startswith(owner_prefix)


async def test_worker_hands_back_its_run_on_sigterm_and_another_completes_it(isolated: Isolated) -> None:
    async with asgi_client(create_app(isolated.pool, admin_token=ADMIN_TOKEN)) as client:
        world = await make_world(client)
        (run_id,) = await queue_runs(client, world, 1)
    leaving = await isolated.start("worker", "--owner", "leaving", "--lease", "60")
    await eventually(lambda: running(isolated, run_id, "leaving"))

    assert await stopped(leaving, signal.SIGTERM) == 0
    # handed back, not left to its 60 s lease: queued again with no owner, at once
    row = await isolated.run_row(run_id)
    assert (row["status"], row["lease_owner"], row["lease_expires_at"]) == ("queued", None, None)

    alive, started = isolated.logs / "taker.alive", time.time()
    taker = await isolated.start("worker", "--owner", "taker", "--alive-file", str(alive))
    try:
        await eventually(lambda: _succeeded(isolated, run_id))
    finally:
        assert await stopped(taker, signal.SIGINT) == 0  # idle: stops at once, exit 0 on SIGINT too
    row = await isolated.run_row(run_id)
    assert row["attempts"] == 2 and row["lease_owner"] == "taker"
    assert alive.stat().st_mtime > started  # its health check's file, touched while it worked
    assert await isolated.versions_of(run_id) == 1


async def _succeeded(isolated: Isolated, run_id: int) -> bool:
    return (await isolated.run_row(run_id))["status"] == "succeeded"


async def test_serve_workers_hand_back_on_sigint_and_the_default_worker_solves(isolated: Isolated) -> None:
    async with serving(isolated, "--workers", "2") as (process, client):
        world = await make_world(client)
        run_ids = await queue_runs(client, world, 2)
        for run_id in run_ids:
            await eventually(partial(running, isolated, run_id))
        owners = {(await isolated.run_row(run_id))["lease_owner"] for run_id in run_ids}
        assert {owner.rsplit("#", 1)[1] for owner in owners} == {"1", "2"}  # two in-process workers at once
        assert await stopped(process, signal.SIGINT) == 0
    for run_id in run_ids:  # the first-claimed run may have finished before the second was claimed
        row = await isolated.run_row(run_id)
        assert (row["status"], row["lease_owner"]) == ("queued", None) or row["status"] == "succeeded"

    async with serving(isolated) as (process, client):  # one in-process worker by default
        for run_id in run_ids:
            await eventually(partial(_succeeded, isolated, run_id))
            answer = await client.get(f"{world.base}/runs/{run_id}", headers=world.organiser)
            assert answer.json()["status"] == "succeeded" and answer.json()["version"] is not None
        assert await stopped(process, signal.SIGTERM) == 0
    for run_id in run_ids:
        assert await isolated.versions_of(run_id) == 1


async def test_serve_with_no_workers_leaves_runs_queued(isolated: Isolated) -> None:
    async with serving(isolated, "--workers", "0") as (process, client):
        world = await make_world(client)
        (run_id,) = await queue_runs(client, world, 1)
        await asyncio.sleep(3)  # an in-process worker would have claimed it within a second
        assert (await isolated.run_row(run_id))["status"] == "queued"
        assert await stopped(process, signal.SIGTERM) == 0
