"""Publication history, calendar feed keys, and the names that exports and feeds print."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from solver.diff import ScheduleDiff


class PublicationRow(msgspec.Struct, frozen=True):
    id: int  # server-wide: never shown (it would count other forums' publications)
    number: int  # the publication's number in its forum (migration 0010): what callers see
    version_id: int
    version: int  # the version's number in its forum
    previous_version: int | None
    published_at: datetime
    diff: ScheduleDiff


class RoomLabel(msgspec.Struct, frozen=True):
    id: str
    name: str
    venue: str | None  # the venue's name


class DelegationLabel(msgspec.Struct, frozen=True):
    id: str
    name: str
    country: str


class PersonLabel(msgspec.Struct, frozen=True):
    delegation: str
    id: str  # unique within the delegation
    name: str
    rank: str
    principal: bool


class FeedKey(msgspec.Struct, frozen=True):
    forum_id: Any
    delegation_id: str
    generation: int
    closed: bool = False  # the forum is closed: the feed is gone


async def insert_publication(
    connection: asyncpg.Connection, forum_id: Any, version_id: int, previous_version_id: int | None, diff: ScheduleDiff
) -> PublicationRow:
    # The publisher holds the forum's row lock, which keeps numbers unique.
    row = await connection.fetchrow(
        "INSERT INTO publications (forum_id, version_id, previous_version_id, diff, number)"
        " SELECT $1, $2, $3, $4, coalesce(max(number), 0) + 1 FROM publications WHERE forum_id = $1 RETURNING id",
        forum_id,
        version_id,
        previous_version_id,
        msgspec.to_builtins(diff),
    )
    assert row is not None
    found = await list_publications(connection, forum_id, row["id"])
    return found[0]


async def list_publications(
    connection: asyncpg.Connection,
    forum_id: Any,
    only_id: int | None = None,
    *,
    after: int = 0,
    limit: int | None = None,
) -> list[PublicationRow]:
    """The forum's publications numbered above `after`, oldest first (or just `only_id`);
    all of them without `limit`. Numbers follow ids: both are assigned under the forum's lock."""
    rows = await connection.fetch(
        "SELECT p.id, p.number, p.version_id, v.number AS version, pv.number AS previous_version,"
        " p.published_at, p.diff"
        " FROM publications p JOIN schedule_versions v ON v.id = p.version_id"
        " LEFT JOIN schedule_versions pv ON pv.id = p.previous_version_id"
        " WHERE p.forum_id = $1 AND ($2::bigint IS NULL OR p.id = $2) AND p.number > $3::bigint"
        " ORDER BY p.number LIMIT $4",
        forum_id,
        only_id,
        after,
        limit,
    )
    return [msgspec.convert(dict(row), PublicationRow, strict=False) for row in rows]


async def publication_of(connection: asyncpg.Connection, forum_id: Any, version_id: int) -> int | None:
    """The number of the latest publication of the version (None: published before publications were recorded)."""
    number = await connection.fetchval(
        "SELECT max(number) FROM publications WHERE forum_id = $1 AND version_id = $2", forum_id, version_id
    )
    return None if number is None else int(number)


async def last_published(connection: asyncpg.Connection, forum_id: Any, version_id: int) -> datetime | None:
    """When the version was last published, also once another has replaced it; None: never."""
    stamp = await connection.fetchval(
        "SELECT max(published_at) FROM publications WHERE forum_id = $1 AND version_id = $2", forum_id, version_id
    )
    return stamp if isinstance(stamp, datetime) else None


async def room_labels(connection: asyncpg.Connection, forum_id: Any) -> list[RoomLabel]:
    rows = await connection.fetch(
        "SELECT r.id, r.name, v.name AS venue FROM rooms r"
        " LEFT JOIN venues v ON v.forum_id = r.forum_id AND v.id = r.venue WHERE r.forum_id = $1 ORDER BY r.id",
        forum_id,
    )
    return [RoomLabel(row["id"], row["name"], row["venue"]) for row in rows]


async def delegation_countries(connection: asyncpg.Connection, forum_id: Any) -> dict[str, str]:
    rows = await connection.fetch("SELECT id, country FROM delegations WHERE forum_id = $1", forum_id)
    return {row["id"]: row["country"] for row in rows}


async def participant_names(connection: asyncpg.Connection, forum_id: Any, delegation_id: str) -> dict[str, str]:
    rows = await connection.fetch(
        "SELECT id, name FROM participants WHERE forum_id = $1 AND delegation_id = $2", forum_id, delegation_id
    )
    return {row["id"]: row["name"] for row in rows}


async def meeting_titles(connection: asyncpg.Connection, forum_id: Any) -> dict[str, str]:
    rows = await connection.fetch("SELECT id, title FROM meeting_requests WHERE forum_id = $1", forum_id)
    return {row["id"]: row["title"] for row in rows}


async def delegation_labels(
    connection: asyncpg.Connection, forum_id: Any, delegation_ids: Sequence[str]
) -> list[DelegationLabel]:
    rows = await connection.fetch(
        "SELECT id, name, country FROM delegations WHERE forum_id = $1 AND id = ANY($2::text[]) ORDER BY id",
        forum_id,
        list(delegation_ids),
    )
    return [DelegationLabel(row["id"], row["name"], row["country"]) for row in rows]


async def people_labels(
    connection: asyncpg.Connection, forum_id: Any, delegation_ids: Sequence[str]
) -> list[PersonLabel]:
    """The delegations' participants, by delegation then id."""
    rows = await connection.fetch(
        "SELECT delegation_id, id, name, rank, principal FROM participants"
        " WHERE forum_id = $1 AND delegation_id = ANY($2::text[]) ORDER BY delegation_id, id",
        forum_id,
        list(delegation_ids),
    )
    return [PersonLabel(*row) for row in rows]


async def accepted_titles(connection: asyncpg.Connection, forum_id: Any, meeting_ids: Sequence[str]) -> dict[str, str]:
    """The titles of those of the meetings whose requests are accepted now (not withdrawn, every
    party accepted: `requests.effective_status`), the meetings a solver problem would hold."""
    rows = await connection.fetch(
        "SELECT r.id, r.title FROM meeting_requests r"
        " WHERE r.forum_id = $1 AND r.id = ANY($2::text[]) AND r.withdrawn_at IS NULL"
        " AND NOT EXISTS (SELECT 1 FROM request_parties p"
        "  WHERE p.forum_id = r.forum_id AND p.request_id = r.id AND p.status <> 'accepted')",
        forum_id,
        list(meeting_ids),
    )
    return {row["id"]: row["title"] for row in rows}


# ---- calendar feed keys


async def feed_generation(connection: asyncpg.Connection, forum_id: Any, delegation_id: str) -> int:
    """The delegation's current key generation (1 before any key was issued)."""
    generation = await connection.fetchval(
        "SELECT generation FROM calendar_feeds WHERE forum_id = $1 AND delegation_id = $2", forum_id, delegation_id
    )
    return 1 if generation is None else int(generation)


async def store_feed_key(
    connection: asyncpg.Connection, forum_id: Any, delegation_id: str, generation: int, key_hash: str
) -> None:
    await connection.execute(
        "INSERT INTO calendar_feeds (forum_id, delegation_id, generation, key_hash) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (forum_id, delegation_id) DO UPDATE SET generation = $3, key_hash = $4, created_at = now()"
        " WHERE calendar_feeds.key_hash IS DISTINCT FROM $4",
        forum_id,
        delegation_id,
        generation,
        key_hash,
    )


async def find_feed(connection: asyncpg.Connection, key_hash: str) -> FeedKey | None:
    row = await connection.fetchrow(
        "SELECT c.forum_id, c.delegation_id, c.generation, f.closed_at IS NOT NULL AS closed"
        " FROM calendar_feeds c JOIN forums f ON f.id = c.forum_id WHERE c.key_hash = $1",
        key_hash,
    )
    if row is None:
        return None
    return FeedKey(row["forum_id"], row["delegation_id"], row["generation"], row["closed"])


# ---- calendar event sequences (migration 0009)


async def served_sequences(
    connection: asyncpg.Connection, forum_id: Any, delegation_id: str, events: list[tuple[str, str, int]]
) -> dict[str, int]:
    """The SEQUENCE to serve for each (meeting, fingerprint, counted sequence): the number last
    served while the event shows the same, else one more than that (at least the count), the
    count for an event never served. Rows are taken in the order given (the feed's, the same
    for every reader), so two reads at once wait for each other and raise a number once."""
    if not events:
        return {}
    meetings, fingerprints, counted = (list(column) for column in zip(*events, strict=True))
    await connection.execute(
        "INSERT INTO calendar_event_sequences AS s (forum_id, delegation_id, meeting_id, fingerprint, sequence)"
        " SELECT $1, $2, t.meeting, t.fingerprint, t.counted"
        " FROM unnest($3::text[], $4::text[], $5::int[]) WITH ORDINALITY AS t(meeting, fingerprint, counted, position)"
        " ORDER BY t.position"
        " ON CONFLICT (forum_id, delegation_id, meeting_id) DO UPDATE"
        " SET fingerprint = EXCLUDED.fingerprint, sequence = greatest(s.sequence + 1, EXCLUDED.sequence)"
        " WHERE s.fingerprint <> EXCLUDED.fingerprint",
        forum_id,
        delegation_id,
        meetings,
        fingerprints,
        counted,
    )
    found = await connection.fetch(
        "SELECT meeting_id, sequence FROM calendar_event_sequences"
        " WHERE forum_id = $1 AND delegation_id = $2 AND meeting_id = ANY($3::text[])",
        forum_id,
        delegation_id,
        meetings,
    )
    return {row["meeting_id"]: int(row["sequence"]) for row in found}
