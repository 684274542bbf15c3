"""Apply the numbered SQL migrations in db/migrations, in order, once each.

Everything runs in one transaction under a transaction-level advisory lock, so
two `sidelines db migrate` (or two test workers) started together never apply a
migration twice: the second waits, then finds nothing left to do.
"""

from __future__ import annotations

import re
from pathlib import Path

import asyncpg
import msgspec

from db.pool import connect_one

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Any constant shared by every migrator of this schema; "sidelines" in ASCII.
MIGRATION_LOCK = 0x736964656C696E65
_NAME = re.compile(r"^(?P<number>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")


class Migration(msgspec.Struct, frozen=True):
    number: int
    name: str
    sql: str


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Every NNNN_name.sql file in `directory`, by number; duplicate numbers are an error."""
    migrations: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if match is None:
            raise ValueError(f"{path.name}: migration files are named NNNN_name.sql")
        number = int(match["number"])
        if number in migrations:
            raise ValueError(f"{path.name}: migration number {number} is used twice")
        migrations[number] = Migration(number, match["name"], path.read_text())
    return [migrations[number] for number in sorted(migrations)]


async def migrate(connection: asyncpg.Connection, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply the pending migrations; return the names of those applied (empty when up to date)."""
    migrations = load_migrations(directory)
    applied_now: list[str] = []
    async with connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " number integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {row["number"] for row in await connection.fetch("SELECT number FROM schema_migrations")}
        for migration in migrations:
            if migration.number in done:
                continue
            await connection.execute(migration.sql)
            await connection.execute(
                "INSERT INTO schema_migrations (number, name) VALUES ($1, $2)", migration.number, migration.name
            )
            applied_now.append(f"{migration.number:04d}_{migration.name}")
    return applied_now


async def migrate_url(url: str) -> list[str]:
    connection = await connect_one(url)
    try:
        return await migrate(connection)
    finally:
        await connection.close()
