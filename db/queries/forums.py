"""Forums and the caller lookups behind the API's guards."""

from __future__ import annotations

from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

from db.records import ForumRecord, ForumSettings, Stored
from solver.model import ObjectiveSettings


class TokenOwner(msgspec.Struct, frozen=True):
    """Whose token a hash is: a forum's organiser (delegation_id None) or one delegation."""

    forum_id: UUID
    delegation_id: str | None


def forum_from_row(row: asyncpg.Record) -> Stored[ForumRecord]:
    """The forum as the API answers it: its deadline (stored as an instant) in the forum's own
    time with its offset, as every other time the API answers (asyncpg reads it back in UTC)."""
    values = {name: row[name] for name in ("name", "time_zone", "slot_minutes", "days", "request_deadline")}
    if values["request_deadline"] is not None:
        values["request_deadline"] = values["request_deadline"].astimezone(ZoneInfo(row["time_zone"]))
    return Stored(msgspec.convert({"id": str(row["id"]), **values}, ForumRecord, strict=False), row["version"])


async def insert_forum(connection: asyncpg.Connection, settings: ForumSettings, token_hash: str) -> Stored[ForumRecord]:
    row = await connection.fetchrow(
        "INSERT INTO forums (name, time_zone, slot_minutes, days, request_deadline, organiser_token_hash)"
        " VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
        settings.name,
        settings.time_zone,
        settings.slot_minutes,
        settings.days,
        settings.request_deadline,
        token_hash,
    )
    assert row is not None
    return forum_from_row(row)


async def get_forum(
    connection: asyncpg.Connection, forum_id: Any, *, for_update: bool = False
) -> Stored[ForumRecord] | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await connection.fetchrow(f"SELECT * FROM forums WHERE id = $1{lock}", forum_id)
    return None if row is None else forum_from_row(row)


async def update_forum(connection: asyncpg.Connection, forum_id: Any, settings: ForumSettings) -> Stored[ForumRecord]:
    row = await connection.fetchrow(
        "UPDATE forums SET name = $2, time_zone = $3, slot_minutes = $4, days = $5, request_deadline = $6,"
        " version = version + 1 WHERE id = $1 RETURNING *",
        forum_id,
        settings.name,
        settings.time_zone,
        settings.slot_minutes,
        settings.days,
        settings.request_deadline,
    )
    assert row is not None
    return forum_from_row(row)


async def find_token_owner(connection: asyncpg.Connection, token_hash: str) -> TokenOwner | None:
    row = await connection.fetchrow(
        "SELECT id AS forum_id, NULL::text AS delegation_id FROM forums WHERE organiser_token_hash = $1"
        " UNION ALL SELECT forum_id, id FROM delegations WHERE token_hash = $1",
        token_hash,
    )
    return None if row is None else TokenOwner(row["forum_id"], row["delegation_id"])


async def get_objective(connection: asyncpg.Connection, forum_id: Any) -> ObjectiveSettings:
    """The forum's objective settings (the solver's defaults until set)."""
    stored = await connection.fetchval("SELECT objective FROM forums WHERE id = $1", forum_id)
    return msgspec.convert(stored or {}, ObjectiveSettings)


async def set_objective(connection: asyncpg.Connection, forum_id: Any, objective: ObjectiveSettings) -> None:
    await connection.execute(
        "UPDATE forums SET objective = $2, version = version + 1 WHERE id = $1", forum_id, objective
    )
