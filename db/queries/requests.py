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

from db.queries.forums import forum_from_row
from db.queries.notices import notice_arguments, notices_written
from db.records import (
    CreatedBy,
    ForumRecord,
    MeetingNeeds,
    PartyRecord,
    PartyStatus,
    Priority,
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


class RequestContext(msgspec.Struct, frozen=True):
    """What checking a new request needs, read in one round trip."""

    forum: Stored[ForumRecord]
    delegations: frozenset[str]  # every delegation of the forum
    participants: dict[str, set[str]]  # participant ids of the delegations asked about only
    # and their ranks (participant id -> rank) and principals: who attends when none is named
    ranks: dict[str, dict[str, str]] = {}
    principals: dict[str, set[str]] = {}


async def request_context(
    connection: asyncpg.Connection, forum_id: Any, delegations: Sequence[str]
) -> RequestContext | None:
    """The forum, its delegation ids and the participants of `delegations`; None without the forum."""
    row = await connection.fetchrow(
        "SELECT f.*, d.ids AS delegation_ids, p.owners AS participant_owners, p.ids AS participant_ids,"
        " p.ranks AS participant_ranks, p.principal_owners, p.principal_ids"
        " FROM forums f"
        " CROSS JOIN LATERAL (SELECT array_agg(id) AS ids FROM delegations WHERE forum_id = f.id) d"
        " CROSS JOIN LATERAL (SELECT array_agg(delegation_id) AS owners, array_agg(id) AS ids,"
        # principals as ids, not a boolean[]: that type costs asyncpg a round trip to look up
        "      array_agg(rank) AS ranks, array_agg(delegation_id) FILTER (WHERE principal) AS principal_owners,"
        "      array_agg(id) FILTER (WHERE principal) AS principal_ids FROM participants"
        "      WHERE forum_id = f.id AND delegation_id = ANY($2::text[])) p"
        " WHERE f.id = $1",
        forum_id,
        list(delegations),
    )
    if row is None:
        return None
    participants: dict[str, set[str]] = {delegation: set() for delegation in delegations}
    ranks: dict[str, dict[str, str]] = {delegation: {} for delegation in delegations}
    principals: dict[str, set[str]] = {delegation: set() for delegation in delegations}
    people = zip(
        row["participant_owners"] or [], row["participant_ids"] or [], row["participant_ranks"] or [], strict=True
    )
    for owner, participant, rank in people:
        participants[owner].add(participant)
        ranks[owner][participant] = rank
    for owner, participant in zip(row["principal_owners"] or [], row["principal_ids"] or [], strict=True):
        principals[owner].add(participant)
    delegation_ids = frozenset(row["delegation_ids"] or [])
    return RequestContext(forum_from_row(row), delegation_ids, participants, ranks, principals)


class RoomOffer(msgspec.Struct, frozen=True):
    """What the forum's rooms offer between them: every feature, and the most seats."""

    features: frozenset[str]
    seats: int | None  # None: no room yet


async def room_offer(connection: asyncpg.Connection, forum_id: Any) -> RoomOffer:
    row = await connection.fetchrow(
        "SELECT (SELECT array_agg(DISTINCT feature) FROM rooms, jsonb_array_elements_text(features) AS feature"
        "        WHERE forum_id = $1) AS features,"
        " (SELECT max(seats) FROM rooms WHERE forum_id = $1) AS seats",
        forum_id,
    )
    return RoomOffer(frozenset(row["features"] or []), row["seats"])


def ordered_parties(parties: Sequence[PartyRecord]) -> list[PartyRecord]:
    """The order every read gives: the requester first, then by delegation id (byte order, as `_parties`)."""
    return sorted(parties, key=lambda party: (party.role != "requester", party.delegation.encode()))


class AuditNote(msgspec.Struct, frozen=True):
    """The audit row of an insert, written by the same statement: who, why, and the record they built."""

    actor: str
    action: str
    after: RequestRecord


# One statement: PostgreSQL makes it atomic on its own, and checks the parties' foreign key
# to the request at its end, after both inserts. The audit row (when $12 is given) records
# `after` ($13), the record the caller built from the same values.
_INSERT_REQUEST = (
    "WITH request AS (INSERT INTO meeting_requests (forum_id, id, title, duration_minutes, priority, preferred,"
    " created_by, requester_id, needs, created_at, requested_priority, updated_at, priority_decided_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, coalesce($10, now()), coalesce($15, $5), coalesce($10, now()),"
    # the organiser chose the priority of a request it makes; a delegation's waits for its decision
    "  CASE WHEN $7 = 'organiser' THEN coalesce($10, now()) END)"
    " RETURNING forum_id, id, version),"
    " parties AS (INSERT INTO request_parties (forum_id, request_id, delegation_id, role, status, attendees)"
    " SELECT request.forum_id, request.id, party.delegation, party.role, party.status, party.attendees"
    " FROM request, jsonb_to_recordset($11::jsonb)"
    "      AS party(delegation text, role text, status text, attendees text[])),"
    " audit AS (INSERT INTO audit_log (forum_id, actor, action, entity, entity_id, after)"
    " SELECT request.forum_id, $12, $14, 'request', request.id, $13::jsonb FROM request WHERE $12::text IS NOT NULL),"
    # The change notices to its parties ($16, $17: none when empty), numbered as any (db/queries/notices.py).
    f" {notices_written('$1', '$16', '$17', 'NULL::bigint')}"
    " SELECT version FROM request"
)


async def insert_request(
    connection: asyncpg.Connection,
    forum_id: Any,
    request_id: str,
    request: RequestIn,
    created_by: CreatedBy,
    requester: str | None,
    parties: Sequence[PartyRecord],
    needs: MeetingNeeds | None = None,
    *,
    created_at: datetime | None = None,
    audit: AuditNote | None = None,
    requested_priority: Priority | None = None,
    notices: Sequence[tuple[str, object]] = (),
) -> int:
    """Insert the request and its parties (and `audit`'s row, and `notices`: (delegation, payload))
    in one statement; the request's version.

    `created_at` defaults to the transaction's start; `requested_priority` (what the asker chose)
    to `request.priority` (the priority the solver uses).
    """
    version = await connection.fetchval(
        _INSERT_REQUEST,
        forum_id,
        request_id,
        request.title,
        request.duration_minutes,
        request.priority,
        request.preferred,
        created_by,
        requester,
        needs or MeetingNeeds(),
        created_at,
        list(parties),
        None if audit is None else audit.actor,
        None if audit is None else msgspec.to_builtins(audit.after),
        None if audit is None else audit.action,
        requested_priority,
        *notice_arguments(notices),
    )
    return int(version)


def _party_to(alias: str) -> str:
    """SQL: `party` ($2) is a party to request `alias`, or no party is asked about."""
    return (
        f"($2::text IS NULL OR EXISTS (SELECT 1 FROM request_parties p"
        f" WHERE p.forum_id = {alias}.forum_id AND p.request_id = {alias}.id AND p.delegation_id = $2))"
    )


async def list_requests(
    connection: asyncpg.Connection,
    forum_id: Any,
    deadline: datetime | None,
    now: datetime,
    party: str | None = None,
    request_id: str | None = None,
    for_update: bool = False,
    *,
    after: str | None = None,
    limit: int | None = None,
) -> list[Stored[RequestRecord]]:
    """The forum's requests, or only those `party` is party to, or only `request_id`; by creation
    (then id: both are fixed once the request is made). With `after`, those that come after that
    request, which must be one `party` is party to (else none: see `sees_request`); all without `limit`."""
    lock = " FOR UPDATE" if for_update else ""
    rows = await connection.fetch(
        f"SELECT * FROM meeting_requests r WHERE forum_id = $1 AND {_party_to('r')}"
        " AND ($3::text IS NULL OR id = $3)"
        " AND ($4::text IS NULL OR (created_at, id) > (SELECT mark.created_at, mark.id FROM meeting_requests mark"
        f"      WHERE mark.forum_id = $1 AND mark.id = $4 AND {_party_to('mark')}))"
        f" ORDER BY created_at, id LIMIT $5{lock}",
        forum_id,
        party,
        request_id,
        after,
        limit,
    )
    parties = await _parties(connection, forum_id, [row["id"] for row in rows])
    return [_request(row, parties.get(row["id"], []), deadline, now) for row in rows]


class PartyName(msgspec.Struct, frozen=True):
    name: str
    country: str


class InboxRows(msgspec.Struct, frozen=True):
    """What one delegation's inbox reads: the requests it made and those still asking its answer."""

    requests: list[RequestRecord]  # by creation, then id
    names: dict[str, PartyName]  # every party's, by delegation id


class InboxOwner(msgspec.Struct, frozen=True):
    forum: str
    time_zone: str
    request_deadline: datetime | None
    name: str  # the delegation's
    country: str


async def inbox_owner(connection: asyncpg.Connection, forum_id: Any, delegation_id: str) -> InboxOwner | None:
    """The forum's name, zone and request deadline and the delegation's name; None without either."""
    row = await connection.fetchrow(
        "SELECT f.name AS forum, f.time_zone, f.request_deadline, d.name, d.country"
        " FROM forums f JOIN delegations d ON d.forum_id = f.id AND d.id = $2 WHERE f.id = $1",
        forum_id,
        delegation_id,
    )
    return None if row is None else msgspec.convert(dict(row), InboxOwner)


# Driven from the delegation's own party rows (request_parties_by_delegation), not from the forum's
# requests: one statement for the requests, their parties and the parties' names. Requests it made
# (any status) and those it was invited to and has not answered; the rest are on its agenda or gone.
_INBOX = (
    "SELECT r.*, p.delegation_id AS party, p.role AS party_role, p.status AS party_status,"
    " p.attendees AS party_attendees, d.name AS party_name, d.country AS party_country"
    " FROM request_parties mine"
    " JOIN meeting_requests r ON r.forum_id = mine.forum_id AND r.id = mine.request_id"
    " JOIN request_parties p ON p.forum_id = mine.forum_id AND p.request_id = mine.request_id"
    " JOIN delegations d ON d.forum_id = p.forum_id AND d.id = p.delegation_id"
    " WHERE mine.forum_id = $1 AND mine.delegation_id = $2 AND (mine.role = 'requester' OR mine.status = 'pending')"
    # requester first, then byte order, as ordered_parties
    ' ORDER BY r.created_at, r.id, p.role DESC, p.delegation_id COLLATE "C"'
)


async def inbox_requests(
    connection: asyncpg.Connection, forum_id: Any, delegation_id: str, deadline: datetime | None, now: datetime
) -> InboxRows:
    """The requests `delegation_id` made, and those it is invited to and has not answered (their
    status as of `now`: an open one may have been declined by another party, or have expired)."""
    rows = await connection.fetch(_INBOX, forum_id, delegation_id)
    grouped: dict[str, tuple[asyncpg.Record, list[PartyRecord]]] = {}
    names: dict[str, PartyName] = {}
    for row in rows:
        party = PartyRecord(row["party"], row["party_role"], row["party_status"], list(row["party_attendees"]))
        grouped.setdefault(row["id"], (row, []))[1].append(party)
        names[row["party"]] = PartyName(row["party_name"], row["party_country"])
    requests = [_request(row, parties, deadline, now).item for row, parties in grouped.values()]
    return InboxRows(requests, names)


async def sees_request(connection: asyncpg.Connection, forum_id: Any, request_id: str, party: str | None) -> bool:
    """Whether the request exists and `party` (None: the organiser) is party to it."""
    found = await connection.fetchval(
        f"SELECT EXISTS (SELECT 1 FROM meeting_requests r WHERE forum_id = $1 AND id = $3 AND {_party_to('r')})",
        forum_id,
        party,
        request_id,
    )
    return bool(found)


async def party_request_ids(
    connection: asyncpg.Connection, forum_id: Any, delegation_id: str, among: Sequence[str]
) -> set[str]:
    """Which of the requests `among` the delegation is party to."""
    rows = await connection.fetch(
        "SELECT request_id FROM request_parties WHERE forum_id = $1 AND delegation_id = $2"
        " AND request_id = ANY($3::text[])",
        forum_id,
        delegation_id,
        list(among),
    )
    return {row["request_id"] for row in rows}


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
        # requester first; byte order, whatever the database's collation, so ordered_parties agrees
        ' ORDER BY request_id, role DESC, delegation_id COLLATE "C"',
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
    names = ["id", "title", "duration_minutes", "priority", "requested_priority", "preferred", "created_at"]
    names += ["updated_at", "needs", "priority_decided_at"]
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


async def set_priority(connection: asyncpg.Connection, forum_id: Any, request_id: str, priority: Priority) -> None:
    await connection.execute(
        "UPDATE meeting_requests SET priority = $3, version = version + 1 WHERE forum_id = $1 AND id = $2",
        forum_id,
        request_id,
        priority,
    )


async def update_request(
    connection: asyncpg.Connection,
    forum_id: Any,
    before: RequestRecord,
    edited: RequestRecord,
    asked_again: Sequence[str],
) -> None:
    """Store the edit of `before` into `edited`: its own fields, needs and priority decision, its
    parties (those it no longer has deleted, answer and all; new ones inserted as `edited` has
    them), each party's attendees, and the parties in `asked_again` back to pending (their answer
    cleared). The caller holds its row lock."""
    await _change_parties(connection, forum_id, edited, before.parties)
    await connection.execute(
        "UPDATE meeting_requests SET title = $3, duration_minutes = $4, priority = $5, preferred = $6, needs = $7,"
        " priority_decided_at = $8, version = version + 1 WHERE forum_id = $1 AND id = $2",
        forum_id,
        edited.id,
        edited.title,
        edited.duration_minutes,
        edited.priority,
        edited.preferred,
        edited.needs,
        edited.priority_decided_at,
    )
    await connection.execute(
        "UPDATE request_parties p SET attendees = party.attendees,"
        " status = CASE WHEN p.delegation_id = ANY($4::text[]) THEN 'pending' ELSE p.status END,"
        " responded_at = CASE WHEN p.delegation_id = ANY($4::text[]) THEN NULL ELSE p.responded_at END"
        " FROM jsonb_to_recordset($3::jsonb) AS party(delegation text, attendees text[])"
        " WHERE p.forum_id = $1 AND p.request_id = $2 AND p.delegation_id = party.delegation",
        forum_id,
        edited.id,
        [{"delegation": party.delegation, "attendees": party.attendees} for party in edited.parties],
        list(asked_again),
    )


async def _change_parties(
    connection: asyncpg.Connection, forum_id: Any, edited: RequestRecord, parties_before: Sequence[PartyRecord]
) -> None:
    before = {party.delegation for party in parties_before}
    after = {party.delegation for party in edited.parties}
    if not parties_before or before == after:
        return
    await connection.execute(
        "DELETE FROM request_parties WHERE forum_id = $1 AND request_id = $2 AND delegation_id = ANY($3::text[])",
        forum_id,
        edited.id,
        sorted(before - after),
    )
    added = [msgspec.to_builtins(party) for party in edited.parties if party.delegation not in before]
    await connection.execute(
        "INSERT INTO request_parties (forum_id, request_id, delegation_id, role, status, attendees)"
        " SELECT $1, $2, party.delegation, party.role, party.status, party.attendees"
        " FROM jsonb_to_recordset($3::jsonb) AS party(delegation text, role text, status text, attendees text[])",
        forum_id,
        edited.id,
        added,
    )


async def withdraw_request(connection: asyncpg.Connection, forum_id: Any, request_id: str) -> None:
    await connection.execute(
        "UPDATE meeting_requests SET withdrawn_at = now() WHERE forum_id = $1 AND id = $2", forum_id, request_id
    )
    await _bump(connection, forum_id, request_id)


async def _bump(connection: asyncpg.Connection, forum_id: Any, request_id: str) -> None:
    await connection.execute(
        "UPDATE meeting_requests SET version = version + 1 WHERE forum_id = $1 AND id = $2", forum_id, request_id
    )


class ListPulse(msgspec.Struct, frozen=True):
    """What the organiser's list of a forum's requests is a function of, but the clock (a pending
    request expires at the deadline): read in one statement on two primary keys, however many
    requests the forum has."""

    changes: int  # committed changes of the forum's requests (migration 0020), or of the forum
    request_deadline: datetime | None
    time_zone: str  # the forum's: the list's times are shown in it


async def list_pulse(connection: asyncpg.Connection, forum_id: Any) -> ListPulse | None:
    """The forum's request change count, deadline and zone; None without the forum."""
    row = await connection.fetchrow(
        "SELECT coalesce(r.requests, 0) AS changes, f.request_deadline, f.time_zone FROM forums f"
        " LEFT JOIN forum_revisions r ON r.forum_id = f.id WHERE f.id = $1",
        forum_id,
    )
    return None if row is None else msgspec.convert(dict(row), ListPulse)
