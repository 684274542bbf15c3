"""`sidelines db migrate`, `sidelines serve` and `sidelines worker`: DATABASE_URL when
set, else the embedded PostgreSQL in .sidelines/pgdata (started here, stopped on exit).

`serve` runs the API and, by default, one solve worker in the same event loop (each
solve still runs in a spawned process, so the loop never blocks); `--workers 0`
leaves solving to separate `sidelines worker` processes. SIGTERM or SIGINT stops
both cleanly: uvicorn finishes the requests in flight, each worker claims nothing
more and hands back a run it has not finished, and the process exits 0. A second
SIGINT during shutdown aborts the requests still open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import asyncpg

from api.worker import WorkerSettings, default_owner, run_worker
from db.load import LoadedForum, load_problem
from db.migrate import migrate_url
from db.pool import Database, connect, connect_one, resolve_database, setup_connection
from solver.model import Problem

if TYPE_CHECKING:
    import uvicorn

T = TypeVar("T")

_log = logging.getLogger("sidelines")
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
GRACEFUL_SHUTDOWN_SECONDS = 5  # event streams stay open until told; do not wait on them forever


def run_migrate() -> list[str]:
    database = resolve_database()
    try:
        return asyncio.run(migrate_url(database.url))
    finally:
        _stop(database)


def run_serve(host: str, port: int, workers: int = 1, settings: WorkerSettings | None = None) -> None:
    import uvicorn  # only the server needs it

    from api.app import create_app

    database = resolve_database()

    async def serve() -> None:
        await _migrate(database.url)
        pool = await connect(database.url)
        config = uvicorn.Config(
            create_app(pool),
            host=host,
            port=port,
            log_level="info",
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )
        stop = asyncio.Event()
        server = stoppable_server(config, stop)

        async def serve_http() -> None:
            try:
                await server.serve()
            finally:
                stop.set()  # however the server ended, the workers end with it

        try:
            await asyncio.gather(serve_http(), run_workers(database.url, workers, stop, settings))
        finally:
            await pool.close()

    try:
        run_loop(serve())
    finally:
        _stop(database)


def stoppable_server(config: uvicorn.Config, stop: asyncio.Event) -> uvicorn.Server:
    """A uvicorn server that SIGTERM or SIGINT stops (setting `stop` too), a second
    SIGINT aborting the requests still open, and that exits 0 once shut down.

    uvicorn's own handlers re-raise the signal they caught once it has shut
    down, which would end the process by that signal instead of exit 0: these
    replace them, on the running loop (`sidelines serve` and `sidelines demo`).
    """
    import uvicorn  # only the server needs it

    class Server(uvicorn.Server):
        def capture_signals(self) -> contextlib.nullcontext[None]:  # type: ignore[override]
            return contextlib.nullcontext()

    server = Server(config)

    def on_signal(signum: int) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            server.force_exit = True
        stop.set()
        server.should_exit = True

    _handle_stop_signals(on_signal)
    return server


def run_loop(main: Coroutine[Any, Any, None]) -> None:
    """asyncio.run, on uvloop where it is installed (not on Windows): a faster event loop
    for the same code, measured in docs/benchmarks.md."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main)


def run_worker_process(owner: str | None, settings: WorkerSettings) -> None:
    """`sidelines worker`: one worker until SIGTERM or SIGINT."""
    database = resolve_database()

    async def work() -> None:
        await _migrate(database.url)
        stop = asyncio.Event()
        _handle_stop_signals(lambda signum: stop.set())
        await run_workers(database.url, 1, stop, settings, owner)

    try:
        run_loop(work())
    finally:
        _stop(database)


async def run_workers(
    url: str, count: int, stop: asyncio.Event, settings: WorkerSettings | None, owner: str | None = None
) -> None:
    """`count` workers on a pool of their own (the API's load cannot starve their heartbeats)."""
    if count == 0:
        return
    base = owner or default_owner()
    owners = [base] if count == 1 else [f"{base}#{index}" for index in range(1, count + 1)]
    # Sized to them, so they wait for a connection as long as it takes (no acquire timeout).
    pool: asyncpg.Pool = await connect(url, max_size=count + 1, acquire_timeout=None)
    try:
        await asyncio.gather(*(run_worker(pool, name, stop, settings or WorkerSettings()) for name in owners))
    finally:
        await pool.close()


def _handle_stop_signals(handler: Callable[[int], None]) -> None:
    loop = asyncio.get_running_loop()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, handler, signum)


async def _migrate(url: str) -> None:
    applied = await migrate_url(url)
    if applied:
        _log.warning("applied migrations: %s", ", ".join(applied))


def _stop(database: Database) -> None:
    if database.embedded is not None:
        database.embedded.stop()


def run_in_transaction(work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """Migrate, then run `work` in one transaction: the command-line twin of an API change."""
    database = resolve_database()

    async def run() -> T:
        await migrate_url(database.url)
        connection = await connect_one(database.url)
        try:
            await setup_connection(connection)
            async with connection.transaction():
                return await work(connection)
        finally:
            await connection.close()

    try:
        return asyncio.run(run())
    finally:
        _stop(database)


def run_load(problem: Problem) -> LoadedForum:
    """`sidelines load`: store `problem` as a new forum."""
    return run_in_transaction(lambda connection: load_problem(connection, problem, actor="cli"))
