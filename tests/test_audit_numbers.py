"""Audit entries are numbered within their forum when their transaction commits (migration
0014): the ids the audit list shows and pages by count only the forum's own entries, and
writers of one forum never share a number or deadlock over the count."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any
from uuid import UUID

import anyio
import asyncpg
import httpx
import pytest

from db.migrate import MIGRATIONS_DIR, migrate
from tests.conftest import Databases, World, make_world

pytestmark = pytest.mark.anyio

ENTRY = "INSERT INTO audit_log (forum_id, actor, action, entity, entity_id) VALUES ($1, 'test', $2, $3, $4)"
FORUM = (
    "INSERT INTO forums (name, time_zone, slot_minutes, days, organiser_token_hash)"
    " VALUES ($1, 'UTC', 15, '[]', $2) RETURNING id"
)


async def _audit(client: httpx.AsyncClient, world: World, after: int = 0) -> list[dict[str, Any]]:
    answer = await client.get(f"{world.base}/audit?after={after}&limit=1000", headers=world.organiser)
    assert answer.status_code == 200, answer.text
    return list(answer.json())


async def _rename(client: httpx.AsyncClient, world: World, name: str) -> None:
    read = await client.get(f"{world.base}/rooms/R1", headers=world.organiser)
    body = {"id": "R1", "name": name, "seats": 8}
    headers = {**world.organiser, "If-Match": read.headers["etag"]}
    assert (await client.put(f"{world.base}/rooms/R1", json=body, headers=headers)).status_code == 200


async def test_each_forum_numbers_its_audit_entries_from_1(client: httpx.AsyncClient) -> None:
    first, second = await make_world(client), await make_world(client)
    for name in ("A", "B", "C"):  # interleaved: each forum's entries alternate with the other's
        for world in (first, second):
            await _rename(client, world, f"{name} {world.forum_id[:4]}")
    rooms = [
        client.post(f"{first.base}/rooms", json={"id": f"C{n}", "name": "c", "seats": 2}, headers=first.organiser)
        for n in range(6)
    ]
    assert {answer.status_code for answer in await asyncio.gather(*rooms)} == {201}  # at once: one number each
    for world in (first, second):
        entries = await _audit(client, world)
        assert [entry["id"] for entry in entries] == list(range(1, len(entries) + 1))
        renamed = [entry["after"]["name"][0] for entry in entries if entry["action"] == "update"]
        assert renamed == ["A", "B", "C"]  # in the order they were made
        middle = entries[len(entries) // 2]["id"]
        assert await _audit(client, world, after=middle) == entries[middle:]
    assert len(await _audit(client, first)) == len(await _audit(client, second)) + 6


@pytest.fixture
async def forum(pool: asyncpg.Pool) -> AsyncIterator[UUID]:
    forum_id: UUID = await pool.fetchval(FORUM, "numbers", f"hash-{id(pool)}-{asyncio.get_running_loop().time()}")
    await pool.execute("INSERT INTO rooms (forum_id, id, name, seats) VALUES ($1, 'R', 'Room', 4)", forum_id)
    yield forum_id
    await pool.execute("DELETE FROM forums WHERE id = $1", forum_id)


async def _numbers(pool: asyncpg.Pool, forum_id: UUID) -> list[tuple[str, int | None, int | None]]:
    rows = await pool.fetch(
        "SELECT entity_id, number, revision FROM audit_log WHERE forum_id = $1 ORDER BY number", forum_id
    )
    return [(row["entity_id"], row["number"], row["revision"]) for row in rows]


async def _waiting(pool: asyncpg.Pool, *connections: asyncpg.Connection) -> None:
    """Until each of `connections` waits for a lock another session holds."""
    pids = [connection.get_server_pid() for connection in connections]
    query = "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1::int[]) AND wait_event_type = 'Lock'"
    with anyio.fail_after(30):
        while await pool.fetchval(query, pids) < len(pids):
            await asyncio.sleep(0.05)


async def test_numbers_are_given_at_commit_in_commit_order_and_a_rollback_takes_none(
    pool: asyncpg.Pool, forum: UUID
) -> None:
    with anyio.fail_after(30):  # counted at insert, `two` would wait for `one` for ever
        await _in_commit_order(pool, forum)
    assert await _numbers(pool, forum) == [("late", 1, 1), ("late-run", 2, None), ("early", 3, 2)]
    counts = await pool.fetchrow("SELECT revision, audit_entries FROM forum_revisions WHERE forum_id = $1", forum)
    assert tuple(counts) == (2, 3)


async def _in_commit_order(pool: asyncpg.Pool, forum: UUID) -> None:
    async with pool.acquire() as one, pool.acquire() as two, pool.acquire() as three:
        early, late, undone = one.transaction(), two.transaction(), three.transaction()
        for transaction in (early, late, undone):
            await transaction.start()
        await one.execute(ENTRY, forum, "update", "room", "early")
        await three.execute(ENTRY, forum, "update", "room", "undone")
        await two.execute(ENTRY, forum, "update", "room", "late")
        await two.execute(ENTRY, forum, "create", "run", "late-run")  # not a setup edit: no revision
        assert await one.fetchval("SELECT number FROM audit_log WHERE entity_id = 'early'") is None
        await late.commit()
        await undone.rollback()
        await early.commit()


async def test_a_writer_that_goes_on_after_its_entry_does_not_deadlock_with_another(
    pool: asyncpg.Pool, forum: UUID
) -> None:
    """A CSV import writes an entry, then its next row; a PUT of that row writes the row, then its
    entry. Counted at insert, the import held the count while it waited for the PUT's row, and the
    PUT waited for the count: a deadlock."""
    with anyio.fail_after(30):
        await _import_beside_a_put(pool, forum)
    assert await _numbers(pool, forum) == [("R", 1, 1), ("first", 2, 2)]


async def _import_beside_a_put(pool: asyncpg.Pool, forum: UUID) -> None:
    async with pool.acquire() as importer, pool.acquire() as editor:
        imported, edited = importer.transaction(), editor.transaction()
        await imported.start()
        await edited.start()
        await importer.execute(ENTRY, forum, "import", "room", "first")
        await editor.execute("UPDATE rooms SET seats = 6 WHERE forum_id = $1 AND id = 'R'", forum)
        entry = asyncio.create_task(editor.execute(ENTRY, forum, "update", "room", "R"))
        goes_on = asyncio.create_task(
            importer.execute("UPDATE rooms SET seats = 5 WHERE forum_id = $1 AND id = 'R'", forum)
        )
        await _waiting(pool, importer)  # the import waits for the PUT's row
        await entry
        await edited.commit()
        await goes_on
        await imported.commit()


async def test_writers_of_two_forums_take_their_counts_in_one_order(pool: asyncpg.Pool) -> None:
    """Two transactions that each wrote entries of the same two forums, in opposite orders, commit
    while a third holds one count: taken in the order written, each would hold one and wait for
    the other's."""
    forums = sorted([await pool.fetchval(FORUM, name, f"two-{name}-{id(pool)}") for name in ("X", "Y")])
    low, high = forums
    for forum_id in forums:  # each forum's count exists: its waiters queue on it in turn
        await pool.execute(ENTRY, forum_id, "create", "forum", "made")
    try:
        async with pool.acquire() as holder, pool.acquire() as one, pool.acquire() as two:
            held, first, second = holder.transaction(), one.transaction(), two.transaction()
            for transaction in (held, first, second):
                await transaction.start()
            for connection, order in ((one, (high, low)), (two, (low, high))):
                for forum_id in order:
                    await connection.execute(ENTRY, forum_id, "update", "room", str(order.index(forum_id)))
            await holder.execute("SELECT 1 FROM forum_revisions WHERE forum_id = $1 FOR UPDATE", high)
            commits: list[Awaitable[None]] = [asyncio.ensure_future(first.commit())]
            await _waiting(pool, one)
            commits.append(asyncio.ensure_future(second.commit()))
            await _waiting(pool, one, two)
            await held.commit()
            with anyio.fail_after(30):
                await asyncio.gather(*commits)
        for forum_id in forums:
            assert [number for _, number, _ in await _numbers(pool, forum_id)] == [1, 2, 3]
    finally:
        await pool.execute("DELETE FROM forums WHERE id = ANY($1::uuid[])", forums)


async def test_existing_entries_are_numbered_per_forum_in_their_order(databases: Databases, tmp_path: Path) -> None:
    """Migration 0014 on a database whose two forums' entries are interleaved (counted by 0011's
    trigger), with an entry of no forum; entries written after it go on from there."""
    before = tmp_path / "migrations"
    before.mkdir()
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if int(path.name[:4]) < 14:
            shutil.copy(path, before / path.name)
    connection = await asyncpg.connect(await databases.create())
    try:
        await migrate(connection, before)
        a, b = [await connection.fetchval(FORUM, name, f"hash-{name}") for name in ("A", "B")]
        written = [(a, "update", "room"), (b, "update", "room"), (b, "create", "run"), (None, "create", "forum")]
        written += [(a, "create", "webhook"), (a, "update", "forum")]
        for position, (forum_id, action, entity) in enumerate(written):
            await connection.execute(ENTRY, forum_id, action, entity, str(position))
        await migrate(connection)
        rows = await connection.fetch("SELECT forum_id, number, revision FROM audit_log ORDER BY id")
        assert [tuple(row) for row in rows] == [
            (a, 1, 1),
            (b, 1, 1),
            (b, 2, None),
            (None, None, None),
            (a, 2, None),
            (a, 3, 2),
        ]
        async with connection.transaction():
            await connection.execute(ENTRY, a, "delete", "room", "after")
            await connection.execute(ENTRY, b, "create", "run", "after")
        after = await connection.fetch("SELECT forum_id, number, revision FROM audit_log WHERE entity_id = 'after'")
        assert sorted(tuple(row) for row in after) == sorted([(a, 4, 3), (b, 3, None)])
    finally:
        await connection.close()
