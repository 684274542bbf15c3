"""`sidelines demo`: a running service with a solved, published forum, in one command.

The forum goes through the real pipeline: `db.load.load_problem` stores the
problem and issues tokens, a solve run is queued exactly as `POST .../runs`
queues it, the worker's own code (`api.worker.process_run`) claims and solves
it in a child process, the version is published as `POST .../publish` does,
and the API is served. The printed block (`demo_lines`) gives the URLs, the
tokens and curl commands that work as printed.

Each start loads a new copy of the forum (tokens are shown once and stored
hashed, so an earlier copy's tokens cannot be shown again; they keep working).
Ctrl-C or SIGTERM stops the server and the embedded PostgreSQL, exit 0; during
the solve they stop the demo with exit 130.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

import asyncpg
import msgspec

from api import publishing
from api.server import STOP_SIGNALS, run_workers, stoppable_server
from api.worker import LEASE_SECONDS, default_owner, process_run
from db.embedded import DEFAULT_DATA_DIR
from db.load import load_problem
from db.migrate import migrate_url
from db.pool import connect, resolve_database
from db.queries import runs
from db.queries.audit import record_change
from solver.model import Problem
from solver.result import Unplaced

if TYPE_CHECKING:
    import uvicorn

DEFAULT_PROBLEM = Path(__file__).resolve().parent.parent / "examples" / "shangri-la.json"
SHOWN_DELEGATIONS = 2
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130
LAST_LINE = "Press Ctrl-C to stop."
PAGES_NOTE = "open in a browser; the token after # stays in the browser"


class DemoError(Exception):
    """The demo cannot go on (the solve failed); the message says why."""


class DemoForum(msgspec.Struct, frozen=True):
    """What the printed block shows: the forum, its solved and published version, its tokens."""

    base_url: str
    forum_id: str
    forum_name: str
    organiser_token: str
    delegations: list[tuple[str, str]]  # (delegation id, token) of the delegations shown
    version: int
    meetings: int
    placed: int
    unplaced: list[Unplaced]


def _curl(token: str, url: str) -> str:
    return f"curl -s -w '\\nHTTP %{{http_code}}\\n' -H 'Authorization: Bearer {token}' {url}"


def page_lines(base_url: str, organiser_token: str, delegation: tuple[str, str] | None) -> list[str]:
    """The pages to open, each with its token in the fragment; `sidelines load` prints them too."""
    lines = [
        f"  organiser grid   {base_url}/grid#token={organiser_token}",
        f"  requests         {base_url}/requests#token={organiser_token}",
    ]
    if delegation is not None:  # a forum loaded without delegations has no agenda yet
        first, first_token = delegation
        lines.append(f"  agenda of {first:<6} {base_url}/agenda#token={first_token}")
    return lines


def token_lines(organiser_token: str, delegations: Iterable[tuple[str, str]]) -> list[str]:
    """The tokens under a heading that says they are shown once; `sidelines load` prints them too."""
    lines = [
        "Tokens (shown once, stored hashed; send as 'Authorization: Bearer <token>'):",
        f"  organiser        {organiser_token}",
    ]
    return lines + [f"  delegation {delegation:<5} {token}" for delegation, token in delegations]


def demo_lines(demo: DemoForum) -> list[str]:
    """The block `sidelines demo` prints once the server answers. Later features add their lines here."""
    forum = f"{demo.base_url}/forums/{demo.forum_id}"
    (first, first_token), (second, _) = demo.delegations[:2]
    lines = [
        "",
        f"Sidelines demo: {demo.forum_name}",
        f"  forum id         {demo.forum_id}",
        f"  schedule         version {demo.version} (published): {demo.placed} of {demo.meetings} meetings placed",
    ]
    lines += [f"  unplaced         {u.meeting}: {u.message}" for u in demo.unplaced[:3]]
    lines += [
        "",
        f"  API              {demo.base_url}",
        f"  API docs         {demo.base_url}/schema",
        "",
        f"Pages ({PAGES_NOTE}):",
        *page_lines(demo.base_url, demo.organiser_token, (first, first_token)),
        "",
        *token_lines(demo.organiser_token, demo.delegations),
        "",
        "Try (each prints the JSON answer, then its HTTP status):",
        "  # the organiser reads the whole grid",
        f"  {_curl(demo.organiser_token, f'{forum}/schedules/{demo.version}')}",
        f"  # delegation {first} reads its own agenda: only the meetings it attends",
        f"  {_curl(first_token, f'{forum}/delegations/{first}/agenda')}",
        f"  # delegation {first} asks for delegation {second}'s agenda: 404, as if it did not exist",
        f"  {_curl(first_token, f'{forum}/delegations/{second}/agenda')}",
        "  # the organiser's command line (docs/organisers.md), from another shell: where the forum stands",
        f"  SIDELINES={demo.base_url} SIDELINES_TOKEN={demo.organiser_token} sidelines forum status {demo.forum_id}",
        "",
        LAST_LINE,
    ]
    return lines


# ---- the pipeline


async def _solve_and_publish(pool: asyncpg.Pool, forum_id: str, time_limit: float, owner: str) -> int:
    """Queue a run, let the worker code solve it, publish its version; returns the version number."""
    async with pool.acquire() as connection:
        run = await runs.insert_run(connection, UUID(forum_id), runs.RunOptions(time_limit=time_limit))
    finished = await _solved(pool, run, owner)
    if finished.status != "succeeded" or finished.version is None:
        raise DemoError(f"solve run {run.number} ended {finished.status}: {finished.error or 'no grid'}")
    async with pool.acquire() as connection, connection.transaction():
        await publishing.publish(connection, UUID(forum_id), finished.version)  # history, feeds, notices
        await record_change(connection, UUID(forum_id), "demo", "publish", "schedule", str(finished.version))
    return finished.version


async def _solved(pool: asyncpg.Pool, run: runs.RunRecord, owner: str) -> runs.RunRecord:
    """Work as a worker until `run` has finished. A shared database may hold older queued
    runs, taken first in queue order, or another worker may take this one: then wait for it."""
    while True:
        async with pool.acquire() as connection:
            current = await runs.get_run(connection, run.forum_id, run.number)
            assert current is not None
            if current.status in runs.FINISHED:
                return current
            async with connection.transaction():
                claimed = await runs.claim_next(connection, owner, LEASE_SECONDS)
        if claimed is None:
            await asyncio.sleep(0.5)
        else:
            await process_run(pool, claimed, owner)


async def prepare_forum(
    pool: asyncpg.Pool, problem: Problem, time_limit: float, say: Callable[[str], None]
) -> DemoForum:
    """Load, solve through a run, publish; the block's contents without the server's address."""
    async with pool.acquire() as connection:
        loaded = await load_problem(connection, problem, actor="demo")
    say(f"loaded {problem.forum.name}: {len(problem.delegations)} delegations, {len(problem.meetings)} meetings")
    say(f"solving through a solve run (time limit {time_limit:g} s)...")
    version = await _solve_and_publish(pool, loaded.forum_id, time_limit, default_owner())
    async with pool.acquire() as connection:
        row = await runs.get_version(connection, UUID(loaded.forum_id), version)
    assert row is not None
    unplaced = msgspec.convert(row.schedule.get("unplaced", []), list[Unplaced])
    say(f"published version {version}")
    shown = [(d.id, loaded.delegation_tokens[d.id]) for d in problem.delegations[:SHOWN_DELEGATIONS]]
    return DemoForum(
        base_url="",
        forum_id=loaded.forum_id,
        forum_name=problem.forum.name,
        organiser_token=loaded.organiser_token,
        delegations=shown,
        version=version,
        meetings=len(problem.meetings),
        placed=len(row.schedule.get("placed", [])),
        unplaced=unplaced,
    )


# ---- serving


def _display_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


async def _serve(pool: asyncpg.Pool, demo: DemoForum, host: str, port: int, url: str) -> None:
    """Serve the API with one solve worker beside it, as `sidelines serve` does: without it,
    a run queued from the grid page or over HTTP would wait forever."""
    import uvicorn  # only the server needs it

    from api.app import create_app

    # The stop handlers replace the solve's (which cancel the demo): Ctrl-C or SIGTERM now stop the server.
    stop = asyncio.Event()
    server = stoppable_server(uvicorn.Config(create_app(pool), host=host, port=port, log_level="info"), stop)
    serving = asyncio.create_task(server.serve())
    working = asyncio.create_task(run_workers(url, 1, stop, None))
    try:
        await _announce(server, serving, demo, host, port)
        await serving
    finally:
        stop.set()  # however the server ended, the worker ends with it
        await working


async def _announce(server: uvicorn.Server, serving: asyncio.Task[None], demo: DemoForum, host: str, port: int) -> None:
    """Print the block once the server listens."""
    while not server.started:
        if serving.done():
            await serving  # it failed to start (the port is taken): its error ends the demo
            raise DemoError(f"the server did not start on {host}:{port}")
        await asyncio.sleep(0.05)
    bound = server.servers[0].sockets[0].getsockname()[1]
    shown = msgspec.structs.replace(demo, base_url=f"http://{_display_host(host)}:{bound}")
    print("\n".join(demo_lines(shown)), flush=True)


async def _demo(problem: Problem, host: str, port: int, time_limit: float, url: str) -> None:
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    assert main is not None
    for stop_signal in STOP_SIGNALS:
        loop.add_signal_handler(stop_signal, main.cancel)  # during the solve: stop at once
    pool: asyncpg.Pool | None = None
    try:
        await migrate_url(url)
        pool = await connect(url, max_size=5)
        demo = await prepare_forum(pool, problem, time_limit, _say)
        await _serve(pool, demo, host, port, url)
    finally:
        if pool is not None:
            await pool.close()


def _say(line: str) -> None:
    print(line, flush=True)


def run_demo(problem: Problem, host: str, port: int, time_limit: float) -> int:
    database = resolve_database()
    if database.embedded is not None:
        _say(f"embedded PostgreSQL started (data in {DEFAULT_DATA_DIR.resolve()})")
    try:
        asyncio.run(_demo(problem, host, port, time_limit, database.url))
    except asyncio.CancelledError:
        print("sidelines: demo interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except DemoError as error:
        print(f"sidelines: error: {error}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if database.embedded is not None:
            with contextlib.suppress(Exception):
                database.embedded.stop()
    return 0
