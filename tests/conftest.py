"""Fixtures for database and API tests: a real PostgreSQL, never a mock.

DATABASE_URL (when set) names a server on which a throwaway database is created
for the test run and dropped after it; without it, the embedded pgserver starts
in a temporary directory. Async tests use anyio's pytest plugin (anyio ships
with Litestar, so it adds no dependency, and it keeps the session-scoped pool and
every test on one event loop, which asyncpg requires).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator, MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias, cast

import asyncpg
import httpx
import msgspec
import pytest
from litestar import Litestar

from api.app import create_app
from db.embedded import start_embedded
from db.migrate import migrate_url
from db.pool import connect

if TYPE_CHECKING:
    from tests.processes import Isolated

ADMIN_TOKEN = "test-admin-token"


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server on which tests may create databases."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        yield url
        return
    server = start_embedded(Path(tmp_path_factory.mktemp("pgdata")))
    yield server.url
    server.stop()


def _with_database(url: str, name: str) -> str:
    """`url` pointing at database `name` (works for host:port and socket-directory URLs)."""
    base, _, query = url.partition("?")
    scheme_and_host = base.rsplit("/", 1)[0] if base.count("/") > 2 else base
    return f"{scheme_and_host}/{name}" + (f"?{query}" if query else "")


class Databases:
    """Creates throwaway databases and drops them at the end of the session."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.names: list[str] = []

    async def create(self) -> str:
        name = f"sidelines_test_{secrets.token_hex(4)}"
        connection = await asyncpg.connect(self.server_url)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        self.names.append(name)
        return _with_database(self.server_url, name)

    async def drop_all(self) -> None:
        connection = await asyncpg.connect(self.server_url)
        try:
            for name in self.names:
                await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


@pytest.fixture(scope="session")
async def databases(server_url: str) -> AsyncIterator[Databases]:
    created = Databases(server_url)
    yield created
    await created.drop_all()


@pytest.fixture(scope="session")
async def database_url(databases: Databases) -> str:
    """The migrated database shared by the session's tests (each test makes its own forum)."""
    url = await databases.create()
    await migrate_url(url)
    return url


@pytest.fixture(scope="session")
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    created = await connect(database_url, min_size=1, max_size=5)
    yield created
    await created.close()


# An ASGI scope or message as the spec has it, and httpx and anyio take it: a mapping of any values.
Message: TypeAlias = MutableMapping[str, Any]
ASGIApp: TypeAlias = Callable[
    [Message, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Coroutine[Any, Any, None]
]


def asgi(app: Litestar) -> ASGIApp:
    """`app` as an ASGI application. Litestar types scopes and messages as TypedDicts with keys of
    its own (`route_handler`, `litestar_app`), httpx as plain mappings (encode/httpx#3111): the same
    calls at run time, which mypy cannot match."""
    return cast(ASGIApp, app)


def asgi_client(app: Litestar) -> httpx.AsyncClient:
    """A client that runs `app` in the test's own event loop. Not litestar.testing.AsyncTestClient:
    in Litestar 2.x it runs the app on another thread's event loop (litestar-org/litestar#1920),
    where the pool's connections cannot be used."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=asgi(app)), base_url="http://testserver")


@pytest.fixture
async def client(pool: asyncpg.Pool) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(create_app(pool, admin_token=ADMIN_TOKEN)) as test_client:
        yield test_client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


FORUM_BODY: dict[str, Any] = {
    "name": "Shangri-La Dialogue",
    "time_zone": "Asia/Singapore",
    "slot_minutes": 15,
    "days": [
        {"date": "2023-06-02", "start": "09:00:00", "end": "13:00:00"},
        {"date": "2023-06-03", "start": "09:00:00", "end": "13:00:00"},
    ],
}


class World(msgspec.Struct):
    """A forum with its organiser and three delegations, each with a principal and an aide."""

    forum_id: str
    organiser: dict[str, str]
    tokens: dict[str, dict[str, str]]  # delegation id -> auth headers
    plain_tokens: list[str]

    @property
    def base(self) -> str:
        return f"/forums/{self.forum_id}"


async def make_world(client: httpx.AsyncClient) -> World:
    answer = await client.post("/forums", json=FORUM_BODY, headers=bearer(ADMIN_TOKEN))
    assert answer.status_code == 201, answer.text
    forum_id = answer.json()["forum"]["id"]
    organiser_token = answer.json()["organiser_token"]
    organiser = bearer(organiser_token)
    tokens: dict[str, dict[str, str]] = {}
    plain = [organiser_token]
    for code, name in (("SGP", "Singapore"), ("AUS", "Australia"), ("JPN", "Japan")):
        made = await client.post(
            f"/forums/{forum_id}/delegations", json={"id": code, "name": name, "country": code}, headers=organiser
        )
        assert made.status_code == 201, made.text
        tokens[code] = bearer(made.json()["token"])
        plain.append(made.json()["token"])
        for person, principal in (("min", True), ("aide", False)):
            body = {"id": person, "name": f"{code} {person}", "principal": principal, "rank": "minister"}
            added = await client.post(
                f"/forums/{forum_id}/delegations/{code}/participants", json=body, headers=tokens[code]
            )
            assert added.status_code == 201, added.text
    room = await client.post(
        f"/forums/{forum_id}/rooms", json={"id": "R1", "name": "Room 1", "seats": 8}, headers=organiser
    )
    assert room.status_code == 201, room.text
    return World(forum_id, organiser, tokens, plain)


@pytest.fixture
async def world(client: httpx.AsyncClient) -> World:
    return await make_world(client)


@pytest.fixture
async def isolated(databases: Databases, tmp_path: Path) -> AsyncIterator[Isolated]:
    """A migrated database of the test's own, for real `sidelines` processes (tests/processes.py)."""
    from tests.processes import Isolated  # it imports this module

    url = await databases.create()
    await migrate_url(url)
    created = await connect(url, max_size=3)
    try:
        yield Isolated(url, created, tmp_path)
    finally:
        await created.close()
