"""Solve runs and schedules over HTTP: queue, progress, events, cancel, publish, agenda.

Runs are solved by the real worker (api/worker.py) on tiny forums with 1 s time limits,
each in a spawned solver process, against the test PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import anyio
import asyncpg
import httpx
import msgspec
import pytest

from api.worker import WorkerSettings, claim_next, process_run, run_worker
from db.problem import build_problem
from db.queries import runs as queries
from solver.result import Placement, Schedule, Unplaced
from solver.validate import validate
from tests.conftest import ADMIN_TOKEN, World, bearer

pytestmark = pytest.mark.anyio

FAST = WorkerSettings(lease_seconds=5.0, heartbeat_seconds=0.2, idle_seconds=0.2)
RUN = {"time_limit": 1, "workers": 1, "seed": 1}


async def arrange(client: httpx.AsyncClient, world: World, parties: list[str]) -> str:
    """An organiser's request: agreed by every party at once, so it is a meeting to schedule."""
    made = await client.post(
        f"{world.base}/requests", json={"parties": parties, "duration_minutes": 30}, headers=world.organiser
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


async def start(client: httpx.AsyncClient, world: World, **headers: str) -> httpx.Response:
    answer = await client.post(f"{world.base}/runs", json=RUN, headers={**world.organiser, **headers})
    assert answer.status_code == 202, answer.text
    return answer


async def work_one(pool: asyncpg.Pool, forum_id: str, owner: str = "test-worker") -> str:
    """Claim the next queued run, which must be this forum's, and process it.

    The worker claims the oldest queued run in the whole database, and the tests
    share one: a run another test left queued would be worked here instead of
    this test's (fixtures cancel theirs, as tests/authz_scene.py does)."""
    run = await claim_next(pool, owner, FAST.lease_seconds)
    assert run is not None
    assert str(run.forum_id) == forum_id, f"claimed run {run.id} of forum {run.forum_id}: a test left it queued"
    return await process_run(pool, run, owner, FAST)


async def wait_for(client: httpx.AsyncClient, url: str, headers: dict[str, str], statuses: set[str]) -> dict[str, Any]:
    with anyio.fail_after(60):
        while True:
            run = (await client.get(url, headers=headers)).json()
            if run["status"] in statuses:
                return run
            await asyncio.sleep(0.1)


@pytest.fixture
async def worker(pool: asyncpg.Pool) -> AsyncIterator[None]:
    """A worker loop in the test's event loop (its solves run in child processes)."""
    stop = asyncio.Event()
    task = asyncio.create_task(run_worker(pool, "loop-worker", stop, FAST))
    yield
    stop.set()
    with anyio.fail_after(60):
        await task


async def test_run_from_post_to_a_valid_version(client: httpx.AsyncClient, world: World, pool: asyncpg.Pool) -> None:
    meetings = {await arrange(client, world, ["SGP", "AUS"]), await arrange(client, world, ["AUS", "JPN"])}
    started = await start(client, world, **{"Idempotency-Key": "run-1"})
    run_url = started.headers["location"]
    assert started.json()["status"] == "queued" and started.json()["options"]["time_limit"] == 1
    again = await start(client, world, **{"Idempotency-Key": "run-1"})
    assert again.headers["idempotency-replayed"] == "true" and again.json()["id"] == started.json()["id"]

    assert await work_one(pool, world.forum_id) == "succeeded"
    run = (await client.get(run_url, headers=world.organiser)).json()
    assert run["status"] == "succeeded" and run["version"] == 1 and run["finished_at"] is not None
    assert run["progress"] is not None and run["progress"]["solutions"] >= 1  # the latest progress report

    grid = await client.get(f"{world.base}/schedules/1", headers=world.organiser)
    assert grid.status_code == 200, grid.text
    body = grid.json()
    assert {p["meeting"] for p in body["placements"]} | {u["meeting"] for u in body["unplaced"]} == meetings
    assert body["placements"][0]["start"].endswith("+08:00")  # forum-local instants
    for placement in body["placements"]:  # both parties' principals, in (delegation, participant) order
        assert placement["attendees"] in (["AUS/min", "JPN/min"], ["AUS/min", "SGP/min"]), placement
    schedule = Schedule(
        status="FEASIBLE",
        placed=[
            Placement(p["meeting"], datetime.fromisoformat(p["start"]), datetime.fromisoformat(p["end"]), p["room"])
            for p in body["placements"]
        ],
        unplaced=msgspec.convert(body["unplaced"], list[Unplaced]),
    )
    async with pool.acquire() as connection:
        problem = await build_problem(connection, world.forum_id, datetime.now(UTC))
    assert problem is not None
    assert validate(problem, schedule).violations == []
    listed = (await client.get(f"{world.base}/schedules", headers=world.organiser)).json()
    assert [(v["number"], v["run_id"], v["published"]) for v in listed] == [(1, run["id"], False)]
    runs = await client.get(f"{world.base}/runs", headers=world.organiser)
    assert runs.status_code == 200 and "link" not in runs.headers
    assert runs.json() == [{key: value for key, value in run.items() if key != "moves"}]


@pytest.mark.parametrize(
    "content", [b"", b"\xef\xbb\xbf", b"\xef\xbb\xbf\r\n", b" \n"], ids=["empty", "BOM", "BOM+CRLF", "blank"]
)
async def test_a_run_without_a_json_value_in_its_body_takes_the_defaults(
    client: httpx.AsyncClient, world: World, content: bytes
) -> None:
    """The body is optional, and an empty one means the defaults. A leading byte-order mark is
    ignored (RFC 8259), so a body of only a BOM, or of white space, is as empty: it was refused."""
    headers = {**world.organiser, "Content-Type": "application/json"}
    answer = await client.post(f"{world.base}/runs", content=content, headers=headers)
    assert answer.status_code == 202, answer.text
    assert answer.json()["options"] == {"time_limit": 10.0, "workers": 2, "seed": 0, "resolve": None}
    cancelled = await client.post(f"{answer.headers['location']}/cancel", headers=world.organiser)
    assert cancelled.json()["status"] == "cancelled"  # queued runs are claimed by other tests' workers


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"time_limit": "10"}, "time_limit", "Expected `float | null`, got `str`"),
        ({"workers": "2"}, "workers", "Expected `int`, got `str`"),
        ({"seed": 1.0}, "seed", "Expected `int`, got `float`"),
        ({"resolve": {"reoptimise": "true"}}, "resolve.reoptimise", "Expected `bool`, got `str`"),
        ({"resolve": {"reoptimise": 1}}, "resolve.reoptimise", "Expected `bool`, got `int`"),
        ({"resolve": {"free": [], "fre": []}}, "resolve.fre", "Object contains unknown field `fre`"),
    ],
)
async def test_a_run_option_of_the_wrong_json_type_is_refused_naming_it(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool, body: dict[str, Any], field: str, message: str
) -> None:
    """{"time_limit": "10"} started a run of 10 s: Litestar decoded bodies in msgspec's lax mode."""
    answer = await client.post(f"{world.base}/runs", json=body, headers=world.organiser)
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"] == [{"field": field, "message": message}]
    assert answer.json()["detail"] == f"{field}: {message}"
    assert await pool.fetchval("SELECT count(*) FROM solve_runs WHERE forum_id = $1", UUID(world.forum_id)) == 0


async def test_a_run_with_a_seed_past_int32_succeeds(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    """The API takes any seed of at least 0; CP-SAT takes an int32 and raised TypeError past it."""
    await arrange(client, world, ["SGP", "AUS"])
    answer = await client.post(f"{world.base}/runs", json={**RUN, "seed": 2**40}, headers=world.organiser)
    assert answer.status_code == 202, answer.text
    assert await work_one(pool, world.forum_id) == "succeeded"


async def test_events_stream_progress_then_end(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool, worker: None
) -> None:
    await arrange(client, world, ["SGP", "AUS"])
    run_url = (await start(client, world)).headers["location"]
    events: list[tuple[str, str]] = []
    with anyio.fail_after(60):  # a bounded read: the stream must end with the run
        async with client.stream("GET", f"{run_url}/events", headers=world.organiser) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            event = ""
            async for line in stream.aiter_lines():
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:"):
                    events.append((event, line.split(":", 1)[1].strip()))
    kinds = [kind for kind, _ in events]
    assert "progress" in kinds and kinds[-1] == "end" and kinds.count("end") == 1
    assert msgspec.json.decode(events[-1][1])["status"] == "succeeded"
    first = msgspec.json.decode(events[kinds.index("progress")][1])
    assert set(first) == {"elapsed", "objective", "best_bound", "gap", "solutions"}


async def read_events(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> list[tuple[str, str]]:
    """The stream's (event, id) pairs, read to its end."""
    events: list[tuple[str, str]] = []
    with anyio.fail_after(60):
        async with client.stream("GET", url, headers=headers) as stream:
            assert stream.status_code == 200
            event, event_id = "", ""
            async for line in stream.aiter_lines():
                field, _, value = line.partition(":")
                if field == "event":
                    event = value.strip()
                elif field == "id":
                    event_id = value.strip()
                elif field == "data":
                    events.append((event, event_id))
                    event, event_id = "", ""
    return events


async def test_a_reconnecting_event_stream_resumes_after_its_last_event_id(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    await arrange(client, world, ["SGP", "AUS"])
    run_url = (await start(client, world)).headers["location"]
    assert await work_one(pool, world.forum_id) == "succeeded"
    every = await read_events(client, f"{run_url}/events", world.organiser)
    ids = [event_id for kind, event_id in every if kind == "progress"]
    assert ids and every[-1][0] == "end"

    resumed = await read_events(client, f"{run_url}/events", {**world.organiser, "Last-Event-ID": ids[0]})
    assert resumed == every[1:]  # nothing the client already had
    garbled = await read_events(client, f"{run_url}/events", {**world.organiser, "Last-Event-ID": "x"})
    assert garbled == every  # not an id: from the start


async def test_cancel_queued_and_running_runs(client: httpx.AsyncClient, world: World, pool: asyncpg.Pool) -> None:
    await arrange(client, world, ["SGP", "AUS"])
    queued_url = (await start(client, world)).headers["location"]
    cancelled = await client.post(f"{queued_url}/cancel", headers=world.organiser)
    assert cancelled.status_code == 202 and cancelled.json()["status"] == "cancelled"
    again = await client.post(f"{queued_url}/cancel", headers=world.organiser)
    assert again.status_code == 409

    running_url = (await start(client, world)).headers["location"]
    task = asyncio.create_task(work_one(pool, world.forum_id))
    await wait_for(client, running_url, world.organiser, {"running"})
    asked = await client.post(f"{running_url}/cancel", headers=world.organiser)
    assert asked.status_code == 202 and asked.json()["cancel_requested"] is True
    # What only the workers need stays theirs: the lease names a worker's host and process.
    assert not {"lease_owner", "lease_expires_at", "heartbeat_at", "version_id"} & set(asked.json())
    audit = (await client.get(f"{world.base}/audit", headers=world.organiser)).text
    assert "test-worker" not in audit  # nor through the audit log's copy of the run
    with anyio.fail_after(60):
        assert await task == "cancelled"
    # The stopped search's grid is kept (tests/test_cancel_keeps_grid.py); the queued run made none.
    run = (await client.get(running_url, headers=world.organiser)).json()
    assert run["status"] == "cancelled" and run["version"] == 1
    listed = await client.get(f"{world.base}/schedules", headers=world.organiser)
    assert [(v["number"], v["run_id"]) for v in listed.json()] == [(1, run["id"])]


EMPTY_GRID = {"status": "OPTIMAL", "placed": []}


async def test_a_cancel_asked_while_the_grid_is_stored_is_exact(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    """The worker has its answer after the last heartbeat: a cancel accepted before the grid is
    stored ends the run cancelled with that grid as its version; one that comes while it is
    stored answers 409, the run succeeded. Either way one state, and one version."""
    await arrange(client, world, ["SGP", "AUS"])
    first = int((await start(client, world)).json()["id"])
    claimed = await claim_next(pool, "storer", FAST.lease_seconds)
    assert claimed is not None and claimed.number == first
    asked = await client.post(f"{world.base}/runs/{first}/cancel", headers=world.organiser)
    assert asked.status_code == 202 and asked.json()["status"] == "running"
    async with pool.acquire() as connection:
        stored = await queries.store_result(connection, claimed.id, EMPTY_GRID, [])
        assert stored is not None and stored.status == "cancelled"
        assert await queries.store_result(connection, claimed.id, EMPTY_GRID, []) is None  # one version
    run = (await client.get(f"{world.base}/runs/{first}", headers=world.organiser)).json()
    assert (run["status"], run["version"]) == ("cancelled", 1)

    second = int((await start(client, world)).json()["id"])
    claimed = await claim_next(pool, "storer", FAST.lease_seconds)
    assert claimed is not None and claimed.number == second
    async with pool.acquire() as connection, connection.transaction():
        assert await queries.store_result(connection, claimed.id, EMPTY_GRID, []) is not None  # not yet committed
        cancel = asyncio.create_task(client.post(f"{world.base}/runs/{second}/cancel", headers=world.organiser))
        with anyio.fail_after(30):
            while not await pool.fetchval("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"):
                await asyncio.sleep(0.05)  # the cancel waits for the stored run's row
    answer = await cancel
    assert answer.status_code == 409, answer.text
    run = (await client.get(f"{world.base}/runs/{second}", headers=world.organiser)).json()
    assert (run["status"], run["cancel_requested"], run["version"]) == ("succeeded", False, 2)


# Three must meetings of the same two people, musts hard, and two slots to hold them.
IMPOSSIBLE = {
    "forum": {
        "name": "Too short",
        "time_zone": "Asia/Singapore",
        "slot_minutes": 30,
        "days": [{"date": "2024-05-31", "start": "13:00:00", "end": "14:00:00"}],
    },
    "rooms": [{"id": "r1", "name": "Room 1", "seats": 8}],
    "delegations": [
        {
            "id": code,
            "name": code,
            "country": code,
            "participants": [{"id": f"{code}-1", "name": code, "principal": True}],
        }
        for code in ("SG", "AU")
    ],
    "meetings": [
        {"id": f"m{index}", "delegations": ["SG", "AU"], "duration_minutes": 30, "priority": "must"}
        for index in (1, 2, 3)
    ],
    "objective": {"must_is_hard": True},
}


async def test_a_run_that_finds_no_grid_fails_saying_why_and_stores_no_version(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    made = await client.post("/forums/import", json=IMPOSSIBLE, headers=bearer(ADMIN_TOKEN))
    assert made.status_code == 201, made.text
    base, organiser = f"/forums/{made.json()['forum']['id']}", bearer(made.json()["organiser_token"])
    started = await client.post(f"{base}/runs", json=RUN, headers=organiser)
    assert await work_one(pool, made.json()["forum"]["id"]) == "failed"
    run = (await client.get(f"{base}/runs/{started.json()['id']}", headers=organiser)).json()
    assert (run["status"], run["version"]) == ("failed", None)
    assert run["error"].startswith("no grid found (INFEASIBLE): ") and "(m1, m2, m3)" in run["error"]
    assert (await client.get(f"{base}/schedules", headers=organiser)).json() == []  # nothing to publish


async def test_delegations_cannot_run_nor_read_unpublished(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    await arrange(client, world, ["SGP", "AUS"])
    sgp = world.tokens["SGP"]
    refused = await client.post(f"{world.base}/runs", json=RUN, headers=sgp)
    assert refused.status_code == 403
    run_url = (await start(client, world)).headers["location"]
    assert (await client.get(run_url, headers=sgp)).status_code == 403
    assert (await client.post(f"{run_url}/cancel", headers=sgp)).status_code == 403
    assert (await client.get(f"{run_url}/events", headers=sgp)).status_code == 403
    assert await work_one(pool, world.forum_id) == "succeeded"
    assert (await client.get(f"{world.base}/schedules/1", headers=sgp)).status_code == 404
    assert (await client.get(f"{world.base}/delegations/SGP/agenda", headers=sgp)).status_code == 404
    assert (await client.get(f"{world.base}/schedules", headers=sgp)).status_code == 403
    assert (await client.post(f"{world.base}/schedules/1/publish", headers=sgp)).status_code == 403
    other_forum = (await client.get(f"/forums/{world.forum_id[:-4]}0000/runs/1", headers=world.organiser)).status_code
    assert other_forum == 404
    assert (await client.get(f"{world.base}/runs/999999", headers=world.organiser)).status_code == 404


async def test_publish_then_agenda_shows_own_meetings(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    with_sgp = await arrange(client, world, ["SGP", "AUS"])
    without_sgp = await arrange(client, world, ["AUS", "JPN"])
    for _ in range(2):  # two versions, to see that publishing one withdraws the other
        await start(client, world)
        assert await work_one(pool, world.forum_id) == "succeeded"
    first = await client.post(f"{world.base}/schedules/1/publish", headers=world.organiser)
    assert first.status_code == 200 and first.json()["published"] is True
    second = await client.post(f"{world.base}/schedules/2/publish", headers=world.organiser)
    assert second.status_code == 200
    listed = (await client.get(f"{world.base}/schedules", headers=world.organiser)).json()
    assert [v["published"] for v in listed] == [False, True]
    assert (await client.post(f"{world.base}/schedules/9/publish", headers=world.organiser)).status_code == 404

    agenda = await client.get(f"{world.base}/delegations/SGP/agenda", headers=world.tokens["SGP"])
    assert agenda.status_code == 200, agenda.text
    body = agenda.json()
    assert body["version"] == 2
    assert [m["meeting"] for m in body["meetings"]] == [with_sgp]
    assert without_sgp not in agenda.text
    jpn = await client.get(f"{world.base}/delegations/JPN/agenda", headers=world.tokens["JPN"])
    assert [m["meeting"] for m in jpn.json()["meetings"]] == [without_sgp]
    peeking = await client.get(f"{world.base}/delegations/JPN/agenda", headers=world.tokens["SGP"])
    assert peeking.status_code == 404
    assert (await client.get(f"{world.base}/schedules/2", headers=world.tokens["SGP"])).status_code == 404
