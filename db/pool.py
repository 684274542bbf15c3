"""Connections: DATABASE_URL when set, else the embedded server; asyncpg pools
whose jsonb columns read and write through msgspec."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Generator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import msgspec

from db.embedded import DEFAULT_DATA_DIR, EmbeddedServer, start_embedded
from db.errors import DatabaseUnavailable, DatabaseUnreachable


class Database(msgspec.Struct):
    url: str
    embedded: EmbeddedServer | None = None


def resolve_database(environ: Mapping[str, str] = os.environ, data_dir: Path = DEFAULT_DATA_DIR) -> Database:
    """The server to use: DATABASE_URL when set and not empty, else an embedded one in `data_dir`."""
    url = environ.get("DATABASE_URL", "").strip()
    if url:
        return Database(url)
    server = start_embedded(data_dir)
    return Database(server.url, server)


def _encode_json(value: object) -> str:
    return msgspec.json.encode(value).decode()


async def setup_connection(connection: asyncpg.Connection) -> None:
    """jsonb in and out through msgspec, so structs, datetimes and lists need no conversion."""
    await connection.set_type_codec("jsonb", encoder=_encode_json, decoder=msgspec.json.decode, schema="pg_catalog")


async def keep_session(connection: asyncpg.Connection) -> None:
    """The pool's reset between two uses of a connection: nothing beyond asyncpg's own.

    Before calling it asyncpg rolls back a transaction left open and drops listeners.
    Its default reset query (RESET ALL, CLOSE ALL, UNLISTEN *, pg_advisory_unlock_all)
    clears session state this code never creates (settings are SET LOCAL, advisory
    locks transaction-level, no LISTEN, no cursor outside a transaction; see
    tests/test_pool.py), and costs a database round trip per release: two per API
    request, measured at about 5% of the server's time under load (docs/benchmarks.md).
    """


# What asyncpg raises when it cannot open a connection: refused, unknown host, timed out,
# no such database or role, a wrong password, a server still starting, a malformed URL.
_CONNECT_ERRORS = (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError, ValueError)


def unreachable(url: str, error: BaseException) -> DatabaseUnreachable:
    return DatabaseUnreachable(f"cannot connect to the database at {without_password(url)}: {error}")


def without_password(url: str) -> str:
    """The URL as it may be printed: a password in it replaced by ***."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:  # not a URL at all: nothing in it is shown
        return "(DATABASE_URL)"


# How long an API request waits for a free connection before it answers 503 (Retry-After):
# the pool's connections all busy this long means the server is overloaded, and a client told
# to come back later does better than one whose request hangs.
ACQUIRE_TIMEOUT_SECONDS = 10.0


class Pool(asyncpg.Pool):
    """asyncpg's pool, whose `acquire` waits at most `acquire_timeout` seconds (None: for ever)
    for a free connection and says why it has none with DatabaseUnavailable: the server does not
    answer or refuses connections, or every connection stayed busy past the timeout."""

    __slots__ = ("acquire_timeout",)

    def acquire(self, *, timeout: float | None = None) -> Acquiring:
        return Acquiring(self, self.acquire_timeout if timeout is None else timeout)


class Acquiring:
    """`pool.acquire()` as asyncpg's own: awaited, or `async with` (released at its end)."""

    __slots__ = ("connection", "pool", "timeout")

    def __init__(self, pool: Pool, timeout: float | None) -> None:
        self.pool, self.timeout = pool, timeout
        self.connection: asyncpg.Connection | None = None

    async def _acquire(self) -> asyncpg.Connection:
        try:
            return await asyncpg.Pool.acquire(self.pool, timeout=self.timeout)
        except TimeoutError as error:
            if self.timeout is None:  # asyncpg's own connect timeout
                raise DatabaseUnavailable("connecting to the database timed out") from error
            message = f"no database connection came free within {self.timeout:g} s"
            raise DatabaseUnavailable(message, busy=True) from error
        except _CONNECT_ERRORS as error:
            raise DatabaseUnavailable(f"cannot connect to the database: {type(error).__name__}: {error}") from error

    async def __aenter__(self) -> asyncpg.Connection:
        self.connection = await self._acquire()
        return self.connection

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        connection, self.connection = self.connection, None
        await self.pool.release(connection)

    def __await__(self) -> Generator[Any, None, asyncpg.Connection]:
        return self._acquire().__await__()


async def connect(
    url: str, min_size: int = 1, max_size: int = 10, acquire_timeout: float | None = ACQUIRE_TIMEOUT_SECONDS
) -> Pool:
    """A pool (db.pool.Pool) made as asyncpg.create_pool makes one (its arguments and defaults),
    connections set up for msgspec."""
    try:
        pool = Pool(
            url,
            min_size=min_size,
            max_size=max_size,
            max_queries=50000,
            max_inactive_connection_lifetime=300.0,
            init=setup_connection,
            reset=keep_session,
            loop=None,
            connection_class=asyncpg.Connection,
            record_class=asyncpg.Record,
        )
        pool.acquire_timeout = acquire_timeout
        await pool
    except _CONNECT_ERRORS as error:
        raise unreachable(url, error) from error
    return pool


async def connect_one(url: str) -> asyncpg.Connection:
    """A single connection, with the same message as `connect` when there is none to be had."""
    try:
        return await asyncpg.connect(url)
    except _CONNECT_ERRORS as error:
        raise unreachable(url, error) from error
