"""`sidelines db migrate` and `sidelines serve`: DATABASE_URL when set, else the
embedded PostgreSQL in .sidelines/pgdata (started here, stopped on exit)."""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from db.load import LoadedForum, load_problem
from db.migrate import migrate_url
from db.pool import Database, connect, resolve_database, setup_connection
from solver.model import Problem


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


def run_load(problem: Problem) -> LoadedForum:
    """`sidelines load`: migrate, then store `problem` as a new forum."""
    database = resolve_database()

    async def load() -> LoadedForum:
        await migrate_url(database.url)
        connection = await asyncpg.connect(database.url)
        try:
            await setup_connection(connection)
            return await load_problem(connection, problem, actor="cli")
        finally:
            await connection.close()

    try:
        return asyncio.run(load())
    finally:
        _stop(database)
