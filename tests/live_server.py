"""The real app served by uvicorn on a free localhost port, for tests that drive a browser.

The server, its asyncpg pool and a solve worker live on one event loop in a
background thread (asyncpg connections belong to the loop that made them);
`call` runs a coroutine there, with the pool, from the test's own thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import asyncpg
import uvicorn

from api.app import create_app
from api.worker import WorkerSettings, run_worker
from db.migrate import migrate_url
from db.pool import connect

T = TypeVar("T")
FAST_WORKER = WorkerSettings(lease_seconds=10.0, heartbeat_seconds=0.2, idle_seconds=0.2)


class LiveServer:
    def __init__(self, database_url: str, admin_token: str) -> None:
        self.database_url = database_url
        self.admin_token = admin_token
        self.loop = asyncio.new_event_loop()
        self.pool: asyncpg.Pool | None = None
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", 0))  # the OS picks a free port
        host, port = self.socket.getsockname()
        self.url = f"http://{host}:{port}"
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="live-server", daemon=True)

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(60) or self._error is not None:
            raise RuntimeError(f"the live server did not start: {self._error!r}")

    def call(self, work: Callable[[asyncpg.Pool], Coroutine[Any, Any, T]], timeout: float = 120) -> T:
        """Run `work(pool)` on the server's loop and wait for its result (run_coroutine_threadsafe
        takes a coroutine, not any awaitable: a Future or Task would be a TypeError)."""
        assert self.pool is not None
        return asyncio.run_coroutine_threadsafe(work(self.pool), self.loop).result(timeout)

    def stop(self) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(60)
        self.socket.close()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._serve())
        except BaseException as error:  # reported to start() or surfaces as a failed test
            self._error = error
            self._ready.set()
        finally:
            self.loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        await migrate_url(self.database_url)
        self.pool = await connect(self.database_url, min_size=1, max_size=6)
        config = uvicorn.Config(
            create_app(self.pool, admin_token=self.admin_token), log_level="warning", lifespan="off"
        )
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve(sockets=[self.socket]))
        worker = asyncio.create_task(run_worker(self.pool, "browser-test-worker", self._stop, FAST_WORKER))
        while not server.started:
            await asyncio.sleep(0.05)
        self._ready.set()
        await self._stop.wait()
        server.should_exit = True
        await serving
        with contextlib.suppress(asyncio.CancelledError):
            await worker
        await self.pool.close()


@contextlib.contextmanager
def live_server(database_url: str, admin_token: str) -> Iterator[LiveServer]:
    server = LiveServer(database_url, admin_token)
    server.start()
    try:
        yield server
    finally:
        server.stop()
