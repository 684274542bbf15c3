"""Meeting requests and the answers of their parties.

A request's status is derived, never stored: withdrawn, else declined when a
party declined, else accepted when every party accepted, else expired once the
forum's request deadline has passed, else pending.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from db.records import (
    CreatedBy,
    MeetingNeeds,
    PartyRecord,
    PartyStatus,
    RequestIn,
    RequestRecord,
    RequestStatus,
    Stored,
)


def effective_status(
    withdrawn: bool, parties: Sequence[PartyRecord], deadline: datetime | None, now: datetime
) -> RequestStatus:
    if withdrawn:
        return "withdrawn"
    if any(party.status == "declined" for party in parties):
        return "declined"
    if all(party.status == "accepted" for party in parties):
        return "accepted"
    if deadline is not None and now >= deadline:
        return "expired"
    return "pending"


def organiser_parties(request: RequestIn) -> list[PartyRecord]:
    """The parties of a request the organiser arranges: every one has agreed, with the attendees named."""
    return [PartyRecord(party, "invitee", "accepted", request.attendees.get(party, [])) for party in request.parties]


async def insert_request(
    connection: asyncpg.Connection,
    forum_id: Any,
    request_id: str,
    request: RequestIn,
    created_by: CreatedBy,
    requester: str | None,
    parties: Sequence[PartyRecord],
    needs: MeetingNeeds | None = None,
) -> None:
    await connection.execute(
        "INSERT INTO meeting_requests (forum_id, id, title, duration_minutes, priority, preferred, created_by,"
        " requester_id, needs) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        forum_id,
        request_id,
        request.title,
        request.duration_minutes,
        request.priority,
        request.preferred,
        created_by,
        requester,
        needs or MeetingNeeds(),
    )
    await connection.executemany(
        "INSERT INTO request_parties (forum_id, request_id, delegation_id, role, status, attendees)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        [(forum_id, request_id, p.delegation, p.role, p.status, p.attendees) for p in parties],
    )


async def list_requests(
    connection: asyncpg.Connection,
    forum_id: Any,
    deadline: datetime | None,
    now: datetime,
    party: str | None = None,
    request_id: str | None = None,
    for_update: bool = False,
) -> list[Stored[RequestRecord]]:
    """The forum's requests, or only those `party` is party to, or only `request_id`; by creation."""
    lock = " FOR UPDATE" if for_update else ""
    rows = await connection.fetch(
        "SELECT * FROM meeting_requests r WHERE forum_id = $1"
        " AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM request_parties p"
        "      WHERE p.forum_id = r.forum_id AND p.request_id = r.id AND p.delegation_id = $2))"
        f" AND ($3::text IS NULL OR id = $3) ORDER BY created_at, id{lock}",
        forum_id,
        party,
        request_id,
    )
    parties = await _parties(connection, forum_id, [row["id"] for row in rows])
    return [_request(row, parties.get(row["id"], []), deadline, now) for row in rows]


async def get_request(
    connection: asyncpg.Connection,
    forum_id: Any,
    request_id: str,
    deadline: datetime | None,
    now: datetime,
    for_update: bool = False,
) -> Stored[RequestRecord] | None:
    found = await list_requests(connection, forum_id, deadline, now, request_id=request_id, for_update=for_update)
    return found[0] if found else None


async def _parties(connection: asyncpg.Connection, forum_id: Any, ids: list[str]) -> dict[str, list[PartyRecord]]:
    rows = await connection.fetch(
        "SELECT * FROM request_parties WHERE forum_id = $1 AND request_id = ANY($2::text[])"
        " ORDER BY request_id, role DESC, delegation_id",  # requester first
        forum_id,
        ids,
    )
    by_request: dict[str, list[PartyRecord]] = {}
    for row in rows:
        party = PartyRecord(row["delegation_id"], row["role"], row["status"], list(row["attendees"]))
        by_request.setdefault(row["request_id"], []).append(party)
    return by_request


def _request(
    row: asyncpg.Record, parties: list[PartyRecord], deadline: datetime | None, now: datetime
) -> Stored[RequestRecord]:
    names = ("id", "title", "duration_minutes", "priority", "preferred", "created_at", "needs")
    values = {name: row[name] for name in names}
    record = msgspec.convert(
        {
            **values,
            "created_by": row["created_by"],
            "requester": row["requester_id"],
            "status": effective_status(row["withdrawn_at"] is not None, parties, deadline, now),
            "parties": [msgspec.to_builtins(party) for party in parties],
        },
        RequestRecord,
        strict=False,
    )
    return Stored(record, row["version"])


async def set_party_answer(
    connection: asyncpg.Connection,
    forum_id: Any,
    request_id: str,
    delegation_id: str,
    status: PartyStatus,
    attendees: Sequence[str],
) -> None:
    await connection.execute(
        "UPDATE request_parties SET status = $4, attendees = $5, responded_at = now()"
        " WHERE forum_id = $1 AND request_id = $2 AND delegation_id = $3",
        forum_id,
        request_id,
        delegation_id,
        status,
        list(attendees),
    )
    await _bump(connection, forum_id, request_id)


async def withdraw_request(connection: asyncpg.Connection, forum_id: Any, request_id: str) -> None:
    await connection.execute(
        "UPDATE meeting_requests SET withdrawn_at = now() WHERE forum_id = $1 AND id = $2", forum_id, request_id
    )
    await _bump(connection, forum_id, request_id)


async def _bump(connection: asyncpg.Connection, forum_id: Any, request_id: str) -> None:
    await connection.execute(
        "UPDATE meeting_requests SET version = version + 1 WHERE forum_id = $1 AND id = $2", forum_id, request_id
    )
