"""Cancelling a running run keeps the best grid its search had, as Ctrl-C on `sidelines solve`
does: the run ends `cancelled` naming a version that validates and is no worse than greedy.
A queued run cancelled before any worker took it makes no version.

Real solves in the worker's spawned solver process (with its twin search), real PostgreSQL:
UNGA week (about 1,100 meetings) with a 300 s limit is still searching when it is cancelled.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import anyio
import asyncpg
import httpx
import msgspec
import pytest

from api.worker import WorkerSettings, claim_next, process_run
from db.load import load_problem
from db.problem import build_problem
from db.queries import runs
from solver.engine import solve
from solver.options import SolveOptions
from solver.result import Schedule
from solver.scenarios import generate
from solver.validate import validate
from tests.conftest import bearer

pytestmark = pytest.mark.anyio

SETTINGS = WorkerSettings(lease_seconds=10.0, heartbeat_seconds=0.5)  # the default heartbeat
TIME_LIMIT = 300.0
SEARCHING = 5.0  # seconds of local search before the cancel
CANCEL_TO_VERSION = 5.0  # seconds: the search stops, the twin hands in its grid, the version is stored


async def _load(pool: asyncpg.Pool, scenario: str) -> tuple[str, dict[str, str]]:
    async with pool.acquire() as connection:
        loaded = await load_problem(connection, generate(scenario, 0))
    return f"/forums/{loaded.forum_id}", bearer(loaded.organiser_token)


async def _run(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> dict[str, Any]:
    answer = await client.get(url, headers=headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_a_cancelled_running_run_keeps_its_best_grid(client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    base, organiser = await _load(pool, "unga-week")
    started = await client.post(f"{base}/runs", json={"time_limit": TIME_LIMIT, "workers": 2}, headers=organiser)
    assert started.status_code == 202, started.text
    run_url = started.headers["location"]
    claimed = await claim_next(pool, "canceller", SETTINGS.lease_seconds)
    assert claimed is not None and f"/forums/{claimed.forum_id}" == base, "another test left a run queued"
    worked = asyncio.create_task(process_run(pool, claimed, "canceller", SETTINGS))
    try:
        # Searching: greedy's grid reported (the local search starts from it), then a few seconds more.
        with anyio.fail_after(120):
            while (progress := (await _run(client, run_url, organiser))["progress"]) is None:
                await asyncio.sleep(0.2)
        assert progress["objective"] is not None
        await asyncio.sleep(SEARCHING)
        assert (await _run(client, run_url, organiser))["status"] == "running"
        asked = await client.post(f"{run_url}/cancel", headers=organiser)
        assert asked.status_code == 202, asked.text
        cancelled_at = time.perf_counter()
        assert asked.json()["status"] == "running" and asked.json()["cancel_requested"] is True
        with anyio.fail_after(60):
            while (run := await _run(client, run_url, organiser))["status"] == "running":
                await asyncio.sleep(0.05)
        took = time.perf_counter() - cancelled_at
        status = await worked
    finally:
        worked.cancel()
    assert (status, run["status"]) == ("cancelled", "cancelled")
    assert run["version"] == 1 and run["error"] is None, run
    assert took < CANCEL_TO_VERSION, f"{took:.1f} s from the cancel to the version"

    version = await client.get(f"{base}/schedules/1", headers=organiser)
    assert version.status_code == 200, version.text
    listed = (await client.get(f"{base}/schedules", headers=organiser)).json()
    assert [(v["number"], v["run_id"]) for v in listed] == [(1, run["id"])]
    async with pool.acquire() as connection:
        stored = await runs.get_version(connection, claimed.forum_id, 1)
        problem = await build_problem(connection, claimed.forum_id, datetime.now(UTC))
    assert stored is not None and problem is not None
    schedule = msgspec.convert(stored.schedule, Schedule)
    assert schedule.status == "FEASIBLE" and schedule.objective is not None
    assert schedule.stats.solve_seconds < TIME_LIMIT / 4  # stopped, not run to its limit
    checked = validate(problem, schedule)
    assert checked.violations == [] and checked.objective == schedule.objective
    greedy = solve(problem, SolveOptions(method="greedy"))
    assert greedy.objective is not None and checked.objective <= greedy.objective
    assert len(schedule.placed) == len(version.json()["placements"]) > 1000


async def test_a_queued_run_cancelled_makes_no_version(client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    base, organiser = await _load(pool, "cdma")
    started = await client.post(f"{base}/runs", json={"time_limit": 1, "workers": 1}, headers=organiser)
    run_url = started.headers["location"]
    cancelled = await client.post(f"{run_url}/cancel", headers=organiser)
    assert cancelled.status_code == 202 and cancelled.json()["status"] == "cancelled"
    # A worker comes by: the run is not taken up, nor solved for a grid to keep.
    taken = await claim_next(pool, "late", SETTINGS.lease_seconds)
    if taken is not None:
        await process_run(pool, taken, "late", SETTINGS)
    assert taken is None, f"run {taken.number} of forum {taken.forum_id} was taken"
    run = await _run(client, run_url, organiser)
    assert (run["status"], run["version"], run["started_at"]) == ("cancelled", None, None)
    assert (await client.get(f"{base}/schedules", headers=organiser)).json() == []
