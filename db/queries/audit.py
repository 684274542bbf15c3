"""The audit log: one row per change, written in the change's own transaction.

Each entry is numbered within its forum when its transaction commits (migration 0014);
the table's id is one counter for the whole server and is never shown."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

from db.records import AuditEntry


async def record_change(
    connection: asyncpg.Connection,
    forum_id: Any,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    before: object = None,
    after: object = None,
) -> None:
    await connection.execute(
        "INSERT INTO audit_log (forum_id, actor, action, entity, entity_id, before, after)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        forum_id,
        actor,
        action,
        entity,
        entity_id,
        None if before is None else msgspec.to_builtins(before),
        None if after is None else msgspec.to_builtins(after),
    )


async def list_changes(connection: asyncpg.Connection, forum_id: Any, after: int, limit: int) -> list[AuditEntry]:
    """The forum's entries numbered above `after`, in order: numbers are given at commit, in
    commit order (migration 0014), so an entry committed later is never numbered below a page read."""
    rows = await connection.fetch(
        "SELECT number AS id, actor, action, entity, entity_id, before, after, at FROM audit_log"
        " WHERE forum_id = $1 AND number > $2 ORDER BY number LIMIT $3",
        forum_id,
        after,
        limit,
    )
    return [AuditEntry(**dict(row)) for row in rows]
