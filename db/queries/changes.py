"""Recorded last-minute changes of a forum (db/migrations/0006_forum_changes.sql)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from solver.changes import Change, Impact


class ChangeRecord(msgspec.Struct, frozen=True):
    number: int
    change: Change
    summary: str
    checked_version: int | None  # the published version number it was checked against
    breaks: list[str]
    removes: list[str]
    adds: list[str]
    actor: str
    created_at: datetime


_COLUMNS = "number, change, summary, checked_version, breaks, removes, adds, actor, created_at"


def _record(row: asyncpg.Record) -> ChangeRecord:
    return msgspec.convert(dict(row), ChangeRecord)


async def lock_forum(connection: asyncpg.Connection, forum_id: Any) -> None:
    """The forum's row lock, held to the end of the transaction: one change (or publication) at a time."""
    await connection.execute("SELECT 1 FROM forums WHERE id = $1 FOR UPDATE", forum_id)


async def insert_change(
    connection: asyncpg.Connection,
    forum_id: Any,
    change: Change,
    impact: Impact,
    checked_version: int | None,
    actor: str,
) -> ChangeRecord:
    # Numbered under the forum's row lock, so two organisers' changes get distinct numbers in order.
    await lock_forum(connection, forum_id)
    row = await connection.fetchrow(
        "INSERT INTO forum_changes (forum_id, number, change, summary, checked_version, breaks, removes, adds, actor)"
        " SELECT $1, coalesce(max(number), 0) + 1, $2, $3, $4, $5, $6, $7, $8 FROM forum_changes WHERE forum_id = $1"
        f" RETURNING {_COLUMNS}",
        forum_id,
        msgspec.to_builtins(change),
        impact.summary,
        checked_version,
        impact.breaks,
        impact.removes,
        impact.adds,
        actor,
    )
    assert row is not None
    return _record(row)


async def list_changes(
    connection: asyncpg.Connection, forum_id: Any, after: int = 0, limit: int | None = None
) -> list[ChangeRecord]:
    """The changes numbered above `after`, in order; all of them without `limit`."""
    rows = await connection.fetch(
        f"SELECT {_COLUMNS} FROM forum_changes WHERE forum_id = $1 AND number > $2::bigint ORDER BY number LIMIT $3",
        forum_id,
        after,
        limit,
    )
    return [_record(row) for row in rows]
