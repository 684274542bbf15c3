"""Health checks for orchestrators (Docker Compose, Kubernetes, load balancers).

Both are unauthenticated: they take no `caller` dependency, so a missing or bad
Authorization header never reaches them, and they reveal nothing about forums.
Liveness (`/health`) answers from the process alone, so a database outage does
not get a healthy API restarted; readiness (`/health/ready`) answers 503 until
the database is reachable and every migration this build ships is applied.
"""

from __future__ import annotations

import asyncio

import asyncpg
import msgspec
from litestar import Response, get
from litestar.openapi.datastructures import ResponseSpec

from api.controllers.common import PoolDep
from api.http import json_response
from db.migrate import load_migrations

LIVENESS_PATH = "/health"
READINESS_PATH = "/health/ready"
READINESS_TIMEOUT_SECONDS = 2.0
# The migrations this build ships, read once: readiness is polled every few seconds.
_SHIPPED = frozenset(migration.number for migration in load_migrations())


class Health(msgspec.Struct, omit_defaults=True):
    status: str  # "ok", "ready" or "unavailable"
    detail: str = ""
    missing_migrations: list[int] = []


_ALIVE = msgspec.json.encode(Health("ok"))


@get(LIVENESS_PATH, tags=["health"], summary="Liveness: the process answers (no database)")
async def liveness() -> Response[bytes]:
    return Response(content=_ALIVE, media_type="application/json", headers={"Cache-Control": "no-store"})


@get(
    READINESS_PATH,
    tags=["health"],
    summary="Readiness: database reachable, migrations applied",
    responses={503: ResponseSpec(Health, description="The database is unreachable, or migrations are missing")},
)
async def readiness(pool: PoolDep) -> Response[Health]:
    try:
        applied = await asyncio.wait_for(_applied_migrations(pool), READINESS_TIMEOUT_SECONDS)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        return _unavailable(Health("unavailable", f"database unreachable: {type(error).__name__}"))
    missing = sorted(_SHIPPED - applied)
    if missing:
        return _unavailable(Health("unavailable", "migrations not applied", missing))
    return json_response(Health("ready"), headers={"Cache-Control": "no-store"})


async def _applied_migrations(pool: asyncpg.Pool) -> set[int]:
    async with pool.acquire() as connection:
        try:
            rows = await connection.fetch("SELECT number FROM schema_migrations")
        except asyncpg.UndefinedTableError:  # never migrated
            return set()
    return {row["number"] for row in rows}


def _unavailable(health: Health) -> Response[Health]:
    return json_response(health, 503, {"Cache-Control": "no-store", "Retry-After": "5"})


ROUTES = [liveness, readiness]
