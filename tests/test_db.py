"""Database-level guarantees: migrations, exclusion constraints, hashed tokens, immutable schedules."""

from __future__ import annotations

import asyncio
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import asyncpg
import httpx
import pytest

from db.migrate import MIGRATIONS_DIR, load_migrations, migrate, migrate_url
from db.queries.runs import grid_placements
from db.queries.schedules import StoredPlacement, insert_placements, insert_version
from tests.conftest import Databases, World

pytestmark = pytest.mark.anyio

NINE = datetime(2023, 6, 2, 1, 0, tzinfo=UTC)  # 09:00 in Singapore


async def test_migrations_are_idempotent_and_serialised(databases: Databases) -> None:
    url = await databases.create()
    first, second = await asyncio.gather(migrate_url(url), migrate_url(url))
    expected = [f"{m.number:04d}_{m.name}" for m in load_migrations()]
    assert sorted([first, second], key=len) == [[], expected]  # one applied everything, the other waited
    connection = await asyncpg.connect(url)
    try:
        assert await migrate(connection) == []
        rows = await connection.fetch("SELECT number FROM schema_migrations ORDER BY number")
        assert [row["number"] for row in rows] == [m.number for m in load_migrations()]
    finally:
        await connection.close()


async def _placement(
    meeting: str, room: str, start: datetime, minutes: int, *people: tuple[str, str]
) -> StoredPlacement:
    return StoredPlacement(meeting, room, start, start + timedelta(minutes=minutes), list(people))


async def _two_requests(client: httpx.AsyncClient, world: World) -> list[str]:
    ids = []
    for invitee in ("AUS", "JPN"):
        body = {"parties": ["SGP", invitee], "duration_minutes": 30}
        ids.append((await client.post(f"{world.base}/requests", json=body, headers=world.organiser)).json()["id"])
    room = {"id": "R2", "name": "Room 2", "seats": 4}
    assert (await client.post(f"{world.base}/rooms", json=room, headers=world.organiser)).status_code == 201
    return ids


async def test_exclusion_constraints_refuse_double_booking(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    first, second = await _two_requests(client, world)
    forum_id = UUID(world.forum_id)
    async with pool.acquire() as connection:
        version = await insert_version(connection, forum_id, {"status": "FEASIBLE"})
        await insert_placements(
            connection, forum_id, version, [await _placement(first, "R1", NINE, 30, ("SGP", "min"), ("AUS", "min"))]
        )
        same_room = await _placement(second, "R1", NINE + timedelta(minutes=15), 30)
        with pytest.raises(asyncpg.ExclusionViolationError, match="no_room_double_booking"):
            await insert_placements(connection, forum_id, version, [same_room])
        same_person = await _placement(second, "R2", NINE + timedelta(minutes=15), 30, ("SGP", "min"))
        with pytest.raises(asyncpg.ExclusionViolationError, match="no_participant_double_booking"):
            async with connection.transaction():
                await insert_placements(connection, forum_id, version, [same_person])
        # back to back in the same room, and another person at the same time, are fine
        after = await _placement(second, "R1", NINE + timedelta(minutes=30), 30, ("SGP", "min"), ("JPN", "min"))
        await insert_placements(connection, forum_id, version, [after])
        # another version may reuse the same room and time
        next_version = await insert_version(connection, forum_id, {"status": "FEASIBLE"})
        await insert_placements(connection, forum_id, next_version, [await _placement(first, "R1", NINE, 30)])
        with pytest.raises(asyncpg.PostgresError, match="immutable"):
            await connection.execute("UPDATE schedule_placements SET room_id = 'R2' WHERE version_id = $1", version)
        published = await connection.execute("UPDATE schedule_versions SET published = true WHERE id = $1", version)
        assert published == "UPDATE 1"
        # where a version came from is part of it too
        derived = await insert_version(connection, forum_id, {"status": "FEASIBLE"}, derived_from=1)
        parent = await connection.fetchval("SELECT derived_from_id FROM schedule_versions WHERE id = $1", derived)
        assert parent == version
        with pytest.raises(asyncpg.PostgresError, match="immutable"):
            await connection.execute(
                "UPDATE schedule_versions SET derived_from_id = $2 WHERE id = $1", derived, next_version
            )


async def test_placements_are_stored_as_one_batch(client: httpx.AsyncClient, world: World, pool: asyncpg.Pool) -> None:
    """A version's placements go in as a batch (two statements, not two per placement): every
    placement and attendee reads back, and a batch with one double booking stores none of it."""
    first, second = await _two_requests(client, world)
    forum_id = UUID(world.forum_id)
    batch = [
        await _placement(first, "R1", NINE, 30, ("SGP", "min"), ("AUS", "min")),
        await _placement(second, "R2", NINE + timedelta(minutes=30), 30, ("SGP", "min"), ("JPN", "min")),
    ]
    clash = await _placement(second, "R2", NINE + timedelta(minutes=15), 30, ("AUS", "min"))
    async with pool.acquire() as connection:
        version = await insert_version(connection, forum_id, {"status": "FEASIBLE"})
        await insert_placements(connection, forum_id, version, batch)
        stored = await grid_placements(connection, version)
        assert [(p.meeting, p.room, p.start, p.attendees) for p in stored] == [
            (first, "R1", NINE, ["AUS/min", "SGP/min"]),
            (second, "R2", NINE + timedelta(minutes=30), ["JPN/min", "SGP/min"]),
        ]
        other = await insert_version(connection, forum_id, {"status": "FEASIBLE"})
        with pytest.raises(asyncpg.ExclusionViolationError, match="no_participant_double_booking"):
            async with connection.transaction():
                await insert_placements(connection, forum_id, other, [batch[0], clash])
        assert await grid_placements(connection, other) == []


async def test_tokens_are_stored_hashed_only(client: httpx.AsyncClient, world: World, pool: asyncpg.Pool) -> None:
    rotated = await client.post(f"{world.base}/delegations/SGP/token", headers=world.organiser)
    tokens = [*world.plain_tokens, rotated.json()["token"]]
    async with pool.acquire() as connection:
        tables = await connection.fetch(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
        dump: list[str] = []
        for table in tables:
            rows = await connection.fetch(f'SELECT t::text AS row FROM "{table["table_name"]}" t')
            dump.extend(row["row"] for row in rows)
        body_rows = await connection.fetch("SELECT convert_from(body, 'UTF8') AS body FROM idempotency_keys")
        dump.extend(row["body"] for row in body_rows)
    everything = "\n".join(dump)
    assert world.forum_id in everything  # the dump does see this forum's rows
    for token in tokens:
        assert token not in everything


async def test_publication_numbers_are_backfilled_per_forum_with_their_notices(
    databases: Databases, tmp_path: Path
) -> None:
    """Migration 0010 on a database holding publications of two forums interleaved, and a
    notice naming its publication by the old server-wide id."""
    before = tmp_path / "migrations"
    before.mkdir()
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if int(path.name[:4]) < 10:
            shutil.copy(path, before / path.name)
    url = await databases.create()
    connection = await asyncpg.connect(url)
    try:
        await migrate(connection, before)
        forums = []
        for name in ("A", "B"):
            forum = await connection.fetchval(
                "INSERT INTO forums (name, time_zone, slot_minutes, days, organiser_token_hash)"
                " VALUES ($1, 'UTC', 15, '[]', $2) RETURNING id",
                name,
                f"hash-{name}",
            )
            await connection.execute(
                "INSERT INTO delegations (forum_id, id, name, country, token_hash) VALUES ($1, 'SGP', 'S', 'SGP', $2)",
                forum,
                f"token-{name}",
            )
            forums.append(forum)
        publications = []
        for number, forum in enumerate([forums[0], forums[1], forums[1], forums[0]], start=1):
            version = await connection.fetchval(
                "INSERT INTO schedule_versions (forum_id, number) VALUES ($1, $2) RETURNING id", forum, number
            )
            publications.append(
                await connection.fetchval(
                    "INSERT INTO publications (forum_id, version_id, diff) VALUES ($1, $2, '{}') RETURNING id",
                    forum,
                    version,
                )
            )
        last = publications[3]  # forum A's second publication, the server's fourth
        await connection.execute(
            "INSERT INTO notices (forum_id, delegation_id, publication_id, payload, number)"
            " VALUES ($1, 'SGP', $2, jsonb_build_object('publication', $2::bigint, 'version', 4), 1)",
            forums[0],
            last,
        )
        await migrate(connection)
        numbers = await connection.fetch("SELECT forum_id, number FROM publications ORDER BY id")
        assert [(row["forum_id"], row["number"]) for row in numbers] == [
            (forums[0], 1),
            (forums[1], 1),
            (forums[1], 2),
            (forums[0], 2),
        ]
        payload = await connection.fetchval("SELECT payload::text FROM notices")
        assert json.loads(payload) == {"publication": 2, "version": 4}
    finally:
        await connection.close()
