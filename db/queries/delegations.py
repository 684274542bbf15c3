"""Delegations, their tokens and their participants."""

from __future__ import annotations

from typing import Any

import asyncpg

from db.queries.items import Family
from db.records import DelegationRecord, ParticipantRecord

DELEGATIONS = Family("delegation", "delegations", DelegationRecord)
PARTICIPANTS = Family("participant", "participants", ParticipantRecord, scope=("forum_id", "delegation_id"))


async def set_token_hash(connection: asyncpg.Connection, forum_id: Any, delegation_id: str, token_hash: str) -> bool:
    """Replace the delegation's token, and retire its calendar link and its webhooks: the link's
    key is an HMAC of the old token, so whoever held that token could compute it and go on reading
    the feed; and whoever held it could have registered a webhook, which would go on receiving the
    delegation's notices. False when there is no such delegation."""
    status = await connection.execute(
        "UPDATE delegations SET token_hash = $3, version = version + 1 WHERE forum_id = $1 AND id = $2",
        forum_id,
        delegation_id,
        token_hash,
    )
    for table in ("calendar_feeds", "webhooks"):  # a webhook's deliveries go with it (ON DELETE CASCADE)
        await connection.execute(
            f"DELETE FROM {table} WHERE forum_id = $1 AND delegation_id = $2", forum_id, delegation_id
        )
    return status.endswith(" 1")


async def delegation_ids(connection: asyncpg.Connection, forum_id: Any) -> set[str]:
    rows = await connection.fetch("SELECT id FROM delegations WHERE forum_id = $1", forum_id)
    return {row["id"] for row in rows}


async def participant_ids(connection: asyncpg.Connection, forum_id: Any, delegation_id: str) -> set[str]:
    rows = await connection.fetch(
        "SELECT id FROM participants WHERE forum_id = $1 AND delegation_id = $2", forum_id, delegation_id
    )
    return {row["id"] for row in rows}


async def all_participants(connection: asyncpg.Connection, forum_id: Any) -> dict[str, list[ParticipantRecord]]:
    """Every participant of the forum, by delegation id."""
    rows = await connection.fetch("SELECT * FROM participants WHERE forum_id = $1 ORDER BY delegation_id, id", forum_id)
    by_delegation: dict[str, list[ParticipantRecord]] = {}
    for row in rows:
        by_delegation.setdefault(row["delegation_id"], []).append(PARTICIPANTS.row_to_stored(row).item)
    return by_delegation


async def insert_keep_apart(connection: asyncpg.Connection, forum_id: Any, first: str, second: str) -> None:
    """Keep the two delegations' meetings apart (stored once, lower id first; a repeat is a no-op)."""
    low, high = sorted((first, second))
    await connection.execute(
        "INSERT INTO keep_apart (forum_id, first_id, second_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        forum_id,
        low,
        high,
    )


async def keep_apart_pairs(connection: asyncpg.Connection, forum_id: Any) -> list[tuple[str, str]]:
    rows = await connection.fetch(
        "SELECT first_id, second_id FROM keep_apart WHERE forum_id = $1 ORDER BY first_id, second_id", forum_id
    )
    return [(row["first_id"], row["second_id"]) for row in rows]
