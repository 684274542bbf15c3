"""Real `sidelines serve` and `sidelines worker` processes for tests, each on a database
of its own, so that no other test's queued run is taken by these workers."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import anyio
import asyncpg
import httpx

from tests.conftest import ADMIN_TOKEN


class Isolated:
    def __init__(self, url: str, pool: asyncpg.Pool, logs: Path) -> None:
        self.url = url
        self.pool = pool
        self.logs = logs

    async def start(self, *args: str) -> asyncio.subprocess.Process:
        """`python -m api ARGS` on this database; its output goes to a log file of the test."""
        environment = {**os.environ, "DATABASE_URL": self.url, "SIDELINES_ADMIN_TOKEN": ADMIN_TOKEN}
        with (self.logs / f"{args[0]}-{len(list(self.logs.iterdir()))}.log").open("wb") as log:
            return await asyncio.create_subprocess_exec(
                sys.executable, "-m", "api", *args, env=environment, stdout=log, stderr=log
            )

    # Runs by the number the API answers as their id; the tests of an isolated database make one forum.
    async def run_row(self, run_id: int) -> asyncpg.Record:
        rows = await self.pool.fetch(
            "SELECT status, lease_owner, lease_expires_at, attempts, version_id FROM solve_runs WHERE number = $1",
            run_id,
        )
        assert len(rows) == 1, rows
        return rows[0]

    async def versions_of(self, run_id: int) -> int:
        return int(
            await self.pool.fetchval(
                "SELECT count(*) FROM schedule_versions v JOIN solve_runs r ON r.id = v.run_id WHERE r.number = $1",
                run_id,
            )
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 60) -> None:
    with anyio.fail_after(seconds):
        while not await check():
            await asyncio.sleep(0.1)


async def stopped(process: asyncio.subprocess.Process, signum: int, seconds: float = 30) -> int:
    process.send_signal(signum)
    with anyio.fail_after(seconds):
        return await process.wait()


@contextlib.asynccontextmanager
async def serving(
    isolated: Isolated, *options: str
) -> AsyncIterator[tuple[asyncio.subprocess.Process, httpx.AsyncClient]]:
    """`sidelines serve` on a free port, once ready, and an HTTP client for it."""
    port = free_port()
    process = await isolated.start("serve", "--port", str(port), *options)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:

            async def ready() -> bool:
                assert process.returncode is None, "serve exited early"
                try:
                    return (await client.get("/health/ready")).status_code == 200
                except httpx.TransportError:
                    return False

            await eventually(ready)
            yield process, client
    finally:
        if process.returncode is None:  # the test failed before stopping it
            process.kill()
            await process.wait()
