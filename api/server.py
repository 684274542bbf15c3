"""`sidelines db migrate` and `sidelines serve`: DATABASE_URL when set, else the
embedded PostgreSQL in .sidelines/pgdata (started here, stopped on exit)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg

from db.load import LoadedForum, load_problem
from db.migrate import migrate_url
from db.pool import Database, connect, resolve_database, setup_connection
from solver.model import Problem

T = TypeVar("T")


def run_migrate() -> list[str]:
    database = resolve_database()
    try:
        return asyncio.run(migrate_url(database.url))
    finally:
        _stop(database)


def run_serve(host: str, port: int) -> None:
    import uvicorn  # only the server needs it

    from api.app import create_app

    database = resolve_database()

    async def serve() -> None:
        applied = await migrate_url(database.url)
        if applied:
            logging.getLogger("sidelines").warning("applied migrations: %s", ", ".join(applied))
        pool = await connect(database.url)
        try:
            config = uvicorn.Config(create_app(pool), host=host, port=port, log_level="info")
            await uvicorn.Server(config).serve()
        finally:
            await pool.close()

    try:
        asyncio.run(serve())
    finally:
        _stop(database)


def _stop(database: Database) -> None:
    if database.embedded is not None:
        database.embedded.stop()


def run_in_transaction(work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """Migrate, then run `work` in one transaction: the command-line twin of an API change."""
    database = resolve_database()

    async def run() -> T:
        await migrate_url(database.url)
        connection = await asyncpg.connect(database.url)
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
