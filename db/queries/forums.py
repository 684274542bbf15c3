"""Forums and the caller lookups behind the API's guards."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

from db.records import ForumRecord, ForumSettings, Stored
from solver.model import ObjectiveSettings


class TokenOwner(msgspec.Struct, frozen=True):
    """Whose token a hash is: one of a forum's organiser tokens (`organiser_token`, its number;
    delegation_id None) or one delegation; `closed`: the forum is closed (migration 0018)."""

    forum_id: UUID
    delegation_id: str | None
    organiser_token: int | None = None
    closed: bool = False


class OrganiserToken(msgspec.Struct, frozen=True):
    """An organiser token as listed: never the token itself, which is stored only as a hash."""

    number: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


FIRST_TOKEN_NAME = "first organiser token"
# last_used_at is written at most once a minute per token, in the statement that looks the token up
LAST_USED_STEP = "1 minute"


def forum_from_row(row: asyncpg.Record) -> Stored[ForumRecord]:
    """The forum as the API answers it: its deadline and closing (stored as instants) in the
    forum's own time with its offset, as every other time the API answers (asyncpg reads them
    back in UTC)."""
    values = {
        name: row[name]
        for name in ("name", "time_zone", "slot_minutes", "days", "request_deadline", "directory", "closed_at")
    }
    for instant in ("request_deadline", "closed_at"):
        if values[instant] is not None:
            values[instant] = values[instant].astimezone(ZoneInfo(row["time_zone"]))
    return Stored(msgspec.convert({"id": str(row["id"]), **values}, ForumRecord, strict=False), row["version"])


async def insert_forum(connection: asyncpg.Connection, settings: ForumSettings, token_hash: str) -> Stored[ForumRecord]:
    """A new forum, with `token_hash` as its organiser token 1."""
    row = await connection.fetchrow(
        "WITH forum AS (INSERT INTO forums (name, time_zone, slot_minutes, days, request_deadline, directory)"
        " VALUES ($1, $2, $3, $4, $5, $8) RETURNING *),"
        " token AS (INSERT INTO organiser_tokens (forum_id, number, name, token_hash)"
        " SELECT id, 1, $7, $6 FROM forum)"
        " SELECT * FROM forum",
        settings.name,
        settings.time_zone,
        settings.slot_minutes,
        settings.days,
        settings.request_deadline,
        token_hash,
        FIRST_TOKEN_NAME,
        settings.directory,
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
        " directory = $7, version = version + 1 WHERE id = $1 RETURNING *",
        forum_id,
        settings.name,
        settings.time_zone,
        settings.slot_minutes,
        settings.days,
        settings.request_deadline,
        settings.directory,
    )
    assert row is not None
    return forum_from_row(row)


async def find_token_owner(connection: asyncpg.Connection, token_hash: str) -> TokenOwner | None:
    """Whose token this is, in one statement that also notes an organiser token's use (at most once
    a minute: a write per request would cost more than the lookup). A revoked one is nobody's."""
    row = await connection.fetchrow(
        "WITH used AS (UPDATE organiser_tokens SET last_used_at = now()"
        " WHERE token_hash = $1 AND revoked_at IS NULL"
        f" AND (last_used_at IS NULL OR last_used_at < now() - interval '{LAST_USED_STEP}'))"
        " SELECT t.forum_id, NULL::text AS delegation_id, t.number, f.closed_at IS NOT NULL AS closed"
        " FROM organiser_tokens t JOIN forums f ON f.id = t.forum_id"
        " WHERE t.token_hash = $1 AND t.revoked_at IS NULL"
        " UNION ALL SELECT d.forum_id, d.id, NULL, f.closed_at IS NOT NULL"
        " FROM delegations d JOIN forums f ON f.id = d.forum_id WHERE d.token_hash = $1",
        token_hash,
    )
    if row is None:
        return None
    return TokenOwner(row["forum_id"], row["delegation_id"], row["number"], row["closed"])


# ---- organiser tokens (migration 0018)


def _organiser_token(row: asyncpg.Record) -> OrganiserToken:
    return OrganiserToken(row["number"], row["name"], row["created_at"], row["last_used_at"], row["revoked_at"])


async def list_organiser_tokens(connection: asyncpg.Connection, forum_id: Any) -> list[OrganiserToken]:
    rows = await connection.fetch(
        "SELECT number, name, created_at, last_used_at, revoked_at FROM organiser_tokens"
        " WHERE forum_id = $1 ORDER BY number",
        forum_id,
    )
    return [_organiser_token(row) for row in rows]


async def insert_organiser_token(
    connection: asyncpg.Connection, forum_id: Any, name: str, token_hash: str
) -> OrganiserToken:
    """A new organiser token, numbered after the forum's last (revoked ones keep their numbers)."""
    await connection.execute("SELECT 1 FROM forums WHERE id = $1 FOR UPDATE", forum_id)  # numbers one at a time
    row = await connection.fetchrow(
        "INSERT INTO organiser_tokens (forum_id, number, name, token_hash)"
        " SELECT $1, coalesce(max(number), 0) + 1, $2, $3 FROM organiser_tokens WHERE forum_id = $1"
        " RETURNING number, name, created_at, last_used_at, revoked_at",
        forum_id,
        name,
        token_hash,
    )
    assert row is not None
    return _organiser_token(row)


async def active_organiser_tokens(connection: asyncpg.Connection, forum_id: Any) -> list[int]:
    """The numbers of the forum's tokens not revoked, locked until the transaction ends."""
    rows = await connection.fetch(
        "SELECT number FROM organiser_tokens WHERE forum_id = $1 AND revoked_at IS NULL ORDER BY number FOR UPDATE",
        forum_id,
    )
    return [row["number"] for row in rows]


async def revoke_organiser_token(connection: asyncpg.Connection, forum_id: Any, number: int) -> OrganiserToken:
    row = await connection.fetchrow(
        "UPDATE organiser_tokens SET revoked_at = now() WHERE forum_id = $1 AND number = $2"
        " RETURNING number, name, created_at, last_used_at, revoked_at",
        forum_id,
        number,
    )
    assert row is not None
    return _organiser_token(row)


# ---- closing (migration 0018)


async def set_closed(connection: asyncpg.Connection, forum_id: Any, closed: bool) -> Stored[ForumRecord]:
    """Close (archive) or reopen the forum; closing again keeps the first closing's time."""
    row = await connection.fetchrow(
        "UPDATE forums SET closed_at = CASE WHEN $2 THEN coalesce(closed_at, now()) END,"
        " version = version + 1 WHERE id = $1 RETURNING *",
        forum_id,
        closed,
    )
    assert row is not None
    return forum_from_row(row)


async def get_objective(connection: asyncpg.Connection, forum_id: Any) -> ObjectiveSettings:
    """The forum's objective settings (the solver's defaults until set)."""
    stored = await connection.fetchval("SELECT objective FROM forums WHERE id = $1", forum_id)
    return msgspec.convert(stored or {}, ObjectiveSettings)


async def set_objective(connection: asyncpg.Connection, forum_id: Any, objective: ObjectiveSettings) -> None:
    await connection.execute(
        "UPDATE forums SET objective = $2, version = version + 1 WHERE id = $1", forum_id, objective
    )
