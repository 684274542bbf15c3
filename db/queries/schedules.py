"""Stored schedule versions. Double-booking is refused by the database itself
(exclusion constraints no_room_double_booking and no_participant_double_booking)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
import msgspec
from asyncpg import Range


class StoredPlacement(msgspec.Struct, frozen=True):
    meeting_id: str
    room_id: str
    start: datetime  # instants with an offset
    end: datetime
    attendees: list[tuple[str, str]] = []  # (delegation id, participant id)


async def insert_version(
    connection: asyncpg.Connection,
    forum_id: Any,
    schedule: object,
    derived_from: int | None = None,
    forum_revision: int | None = None,
) -> int:
    """A new version numbered after the forum's last, made from version number
    `derived_from` when it was (a move, a fit option), built from the forum at
    `forum_revision` (None: as it is now, in this transaction); returns its id."""
    version_id = await connection.fetchval(
        "INSERT INTO schedule_versions (forum_id, number, schedule, derived_from_id, forum_revision)"
        " SELECT $1, coalesce(max(number), 0) + 1, $2,"
        "  (SELECT id FROM schedule_versions WHERE forum_id = $1 AND number = $3),"
        "  coalesce($4, (SELECT revision FROM forum_revisions WHERE forum_id = $1), 0)"
        " FROM schedule_versions WHERE forum_id = $1 RETURNING id",
        forum_id,
        msgspec.to_builtins(schedule),
        derived_from,
        forum_revision,
    )
    return int(version_id)


async def insert_placements(
    connection: asyncpg.Connection, forum_id: Any, version_id: int, placements: Sequence[StoredPlacement]
) -> None:
    # Two statements over arrays: one per placement was 2,200 round trips at UNGA's size (1.8 s a
    # move), and a batch of executions (executemany) a fifth slower than one over `unnest`.
    ranges = [Range(placement.start, placement.end) for placement in placements]
    await connection.execute(
        "INSERT INTO schedule_placements (version_id, forum_id, meeting_id, room_id, during)"
        " SELECT $1, $2, meeting, room, during FROM unnest($3::text[], $4::text[], $5::tstzrange[])"
        " AS placed(meeting, room, during)",
        version_id,
        forum_id,
        [p.meeting_id for p in placements],
        [p.room_id for p in placements],
        ranges,
    )
    attending = [
        (p.meeting_id, delegation, participant, during)
        for p, during in zip(placements, ranges, strict=True)
        for delegation, participant in p.attendees
    ]
    await connection.execute(
        "INSERT INTO schedule_attendance (version_id, forum_id, meeting_id, delegation_id, participant_id, during)"
        " SELECT $1, $2, meeting, delegation, participant, during"
        " FROM unnest($3::text[], $4::text[], $5::text[], $6::tstzrange[])"
        " AS attending(meeting, delegation, participant, during)",
        version_id,
        forum_id,
        [row[0] for row in attending],
        [row[1] for row in attending],
        [row[2] for row in attending],
        [row[3] for row in attending],
    )
