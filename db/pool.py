"""Connections: DATABASE_URL when set, else the embedded server; asyncpg pools
whose jsonb columns read and write through msgspec."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import msgspec

from db.embedded import DEFAULT_DATA_DIR, EmbeddedServer, start_embedded
from db.errors import DatabaseUnreachable


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


async def connect(url: str, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    try:
        pool = await asyncpg.create_pool(
            url, min_size=min_size, max_size=max_size, init=setup_connection, reset=keep_session
        )
    except _CONNECT_ERRORS as error:
        raise unreachable(url, error) from error
    assert pool is not None  # create_pool only returns None when awaited lazily
    return pool


async def connect_one(url: str) -> asyncpg.Connection:
    """A single connection, with the same message as `connect` when there is none to be had."""
    try:
        return await asyncpg.connect(url)
    except _CONNECT_ERRORS as error:
        raise unreachable(url, error) from error
