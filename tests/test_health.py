"""Liveness and readiness: unauthenticated, liveness without the database,
readiness only once the database answers and every shipped migration is applied."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from api.app import create_app
from db.migrate import load_migrations, migrate_url
from db.pool import connect
from tests.conftest import ADMIN_TOKEN, Databases, asgi_client

pytestmark = pytest.mark.anyio


def _client(pool: asyncpg.Pool) -> httpx.AsyncClient:
    return asgi_client(create_app(pool, admin_token=ADMIN_TOKEN))


async def test_both_answer_without_a_token_even_with_a_bad_one(client: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic eA=="}):
        alive = await client.get("/health", headers=headers)
        assert alive.status_code == 200 and alive.json() == {"status": "ok"}
        ready = await client.get("/health/ready", headers=headers)
        assert ready.status_code == 200 and ready.json() == {"status": "ready"}
        assert ready.headers["cache-control"] == "no-store"


async def test_readiness_waits_for_migrations_and_liveness_does_not(databases: Databases) -> None:
    url = await databases.create()  # an empty database: nothing migrated yet
    pool = await connect(url, max_size=2)
    try:
        async with _client(pool) as client:
            assert (await client.get("/health")).status_code == 200
            unready = await client.get("/health/ready")
            assert unready.status_code == 503 and unready.headers["retry-after"] == "5"
            assert unready.json()["missing_migrations"] == [m.number for m in load_migrations()]

            await migrate_url(url)
            assert (await client.get("/health/ready")).json() == {"status": "ready"}

            latest = load_migrations()[-1].number
            await pool.execute("DELETE FROM schema_migrations WHERE number = $1", latest)  # as if a build ran ahead
            behind = await client.get("/health/ready")
            assert behind.status_code == 503 and behind.json()["missing_migrations"] == [latest]
    finally:
        await pool.close()


async def test_a_lost_database_fails_readiness_only(databases: Databases) -> None:
    url = await databases.create()
    await migrate_url(url)
    pool = await connect(url, max_size=2)
    async with _client(pool) as client:
        assert (await client.get("/health/ready")).status_code == 200
        await pool.close()  # the database is gone as far as this app can tell
        lost = await client.get("/health/ready")
        assert lost.status_code == 503 and lost.json()["detail"].startswith("database unreachable")
        assert (await client.get("/health")).json() == {"status": "ok"}


async def test_health_is_documented_without_security(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    for path in ("/health", "/health/ready"):
        assert paths[path]["get"]["security"] == []  # no requirement: no token needed
