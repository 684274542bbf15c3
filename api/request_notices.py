"""Request notices: what a delegation is told when a meeting request it is party to changes.

Written through the same outbox as a publication's `schedule.changed` (db/queries/notices.py),
in the transaction that changes the request: a rolled-back change leaves none, and the webhooks
and the event stream carry them as any notice. Each notice holds the request as
`GET /requests/{id}` shows that delegation at that moment (its `needs.after` only names requests
it is party to), nothing more; the delegation that made the change is not told of it.

- `request.received`: to each delegation asked (the invitees of a delegation's request; every
  party of one the organiser arranges or imports, which starts agreed).
- `request.answered`: to the other parties, naming who answered (`by`) and what (`answer`).
- `request.withdrawn`: to the other parties.
- A change of parties (the organiser's edit): each added party gets `request.received` (it is
  asked, as by a new request), each removed one `request.withdrawn` (the request as it last saw it,
  status withdrawn: for it the request is gone, and it reads 404 from then on), the others
  `request.changed` (`changes.parties`).
- `request.changed`: to every other party whose view of the request an edit changed (`changes`:
  each field before and after), with `asked_again` true for those whose answer it cleared; and to
  every party of an expired request the organiser's later deadline opens again (`changes.status`
  expired to pending, `by` "organiser").
- `request.expired`: to every party of a request still waiting for an answer when the forum's
  request deadline passes (`by` "organiser", whose deadline it is). Nothing is written when the
  clock passes it, so the worker's dispatcher writes them (`tell_expired`), once per deadline, in
  a transaction of their own under the forum's row lock; a deadline the organiser moves into the
  past is told the same way (within the dispatcher's idle second).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

from db.queries import notices
from db.queries import requests as request_queries
from db.records import PartyStatus, RequestRecord

RECEIVED: Final = "request.received"
ANSWERED: Final = "request.answered"
WITHDRAWN: Final = "request.withdrawn"
CHANGED: Final = "request.changed"
EXPIRED: Final = "request.expired"
RequestNoticeType = Literal[
    "request.received", "request.answered", "request.withdrawn", "request.changed", "request.expired"
]
ORGANISER: Final = "organiser"


class FieldChange(msgspec.Struct, frozen=True):
    before: Any
    after: Any


class RequestNotice(msgspec.Struct, frozen=True):
    """One delegation's notice of a request it is party to (see the module's docstring)."""

    type: RequestNoticeType
    forum: str
    delegation: str  # the delegation told
    request: RequestRecord  # as GET /requests/{id} shows it to `delegation`, after the change
    by: str  # who changed it: a delegation's id, or "organiser"
    at: datetime
    answer: PartyStatus | None = None  # request.answered: `by`'s answer
    asked_again: bool = False  # request.changed: `delegation`'s answer was cleared; it answers again
    changes: dict[str, FieldChange] = {}  # request.changed: each field `delegation` sees, before and after


def _by(actor_delegation: str | None) -> str:
    return actor_delegation if actor_delegation is not None else ORGANISER


def _others(record: RequestRecord, actor_delegation: str | None) -> list[str]:
    return [party.delegation for party in record.parties if party.delegation != actor_delegation]


async def _party_to(
    connection: asyncpg.Connection, forum_id: Any, records: Iterable[RequestRecord]
) -> set[tuple[str, str]]:
    """(delegation, request) for each request named in the records' `needs.after` and each of their parties."""
    named = sorted({other for record in records for other in record.needs.after})
    if not named:
        return set()
    rows = await connection.fetch(
        "SELECT delegation_id, request_id FROM request_parties WHERE forum_id = $1 AND request_id = ANY($2::text[])",
        forum_id,
        named,
    )
    return {(row["delegation_id"], row["request_id"]) for row in rows}


def after_only(record: RequestRecord, own: set[str]) -> RequestRecord:
    """The request with `needs.after` naming only the requests in `own`: a delegation's copy names
    only requests it is party to (another's request id would tell who meets whom)."""
    after = [other for other in record.needs.after if other in own]
    if after == record.needs.after:
        return record
    return msgspec.structs.replace(record, needs=msgspec.structs.replace(record.needs, after=after))


def for_delegation(record: RequestRecord) -> RequestRecord:
    """The request without the organiser's working state: when it decided the priority. A
    confirmation at the same value changes nothing a delegation sees or could act on (`priority`
    shows what was decided), so it is told no change (only `updated_at` moves for it)."""
    return msgspec.structs.replace(record, priority_decided_at=msgspec.UNSET)


def _seen(record: RequestRecord, delegation: str, party_to: set[tuple[str, str]]) -> RequestRecord:
    """The request as GET shows it to `delegation` (api/controllers/requests.py `_as_seen`)."""
    return after_only(for_delegation(record), {request for party, request in party_to if party == delegation})


def received_notices(
    forum_id: Any,
    records: Sequence[RequestRecord],
    actor_delegation: str | None,
    at: datetime,
    party_to: set[tuple[str, str]] | None = None,
) -> list[tuple[str, RequestNotice]]:
    """New requests' notices, (delegation, notice): one to each party asked, every party of the
    organiser's (which start agreed). `party_to` as `_party_to` reads it, for a `needs.after`."""
    return [
        (
            delegation,
            RequestNotice(
                RECEIVED,
                str(forum_id),
                delegation,
                _seen(record, delegation, party_to or set()),
                _by(actor_delegation),
                at,
            ),
        )
        for record in records
        for delegation in _others(record, actor_delegation)
    ]


async def received(
    connection: asyncpg.Connection,
    forum_id: Any,
    records: Sequence[RequestRecord],
    actor_delegation: str | None,
    at: datetime,
) -> None:
    """Write `received_notices`: one statement for them all, however many (a CSV import's)."""
    party_to = await _party_to(connection, forum_id, records)
    await notices.insert_notices(
        connection, forum_id, received_notices(forum_id, records, actor_delegation, at, party_to)
    )


async def changed(
    connection: asyncpg.Connection,
    forum_id: Any,
    before: RequestRecord,
    after: RequestRecord,
    actor_delegation: str | None,
    action: str,
    at: datetime,
) -> None:
    """An answer (`action` accept or decline), a withdrawal, or an edit: each other party is told
    what it sees change (for an edit, only those whose view changed)."""
    party_to = await _party_to(connection, forum_id, [before, after])
    by = _by(actor_delegation)
    written = _removed(forum_id, before, after, by, at, party_to)
    was_party = {party.delegation for party in before.parties}
    for delegation in _others(after, actor_delegation):
        seen = _seen(after, delegation, party_to)
        notice = RequestNotice(CHANGED, str(forum_id), delegation, seen, by, at)
        if delegation not in was_party:  # added by the organiser's edit: asked, as by a new request
            notice = msgspec.structs.replace(notice, type=RECEIVED)
        elif action in ("accept", "decline"):
            answer: PartyStatus = "accepted" if action == "accept" else "declined"
            notice = msgspec.structs.replace(notice, type=ANSWERED, answer=answer)
        elif action == "withdraw":
            notice = msgspec.structs.replace(notice, type=WITHDRAWN)
        else:
            changes = _changes(_seen(before, delegation, party_to), seen)
            if not changes:
                continue
            mine = {party.delegation: party.status for party in before.parties}
            again = mine.get(delegation) == "accepted" and _status_of(after, delegation) == "pending"
            notice = msgspec.structs.replace(notice, changes=changes, asked_again=again)
        written.append((delegation, notice))
    await notices.insert_notices(connection, forum_id, written)


def _removed(
    forum_id: Any, before: RequestRecord, after: RequestRecord, by: str, at: datetime, party_to: set[tuple[str, str]]
) -> list[tuple[str, RequestNotice]]:
    """`request.withdrawn` to each party the organiser's edit removed: to it, the request is gone as
    if withdrawn (it reads 404 from now on). It carries the request as that party last saw it, status
    withdrawn, not as it is now: who else was added is no longer its business."""
    remaining = {party.delegation for party in after.parties}
    return [
        (
            party.delegation,
            RequestNotice(
                WITHDRAWN,
                str(forum_id),
                party.delegation,
                msgspec.structs.replace(_seen(before, party.delegation, party_to), status="withdrawn"),
                by,
                at,
            ),
        )
        for party in before.parties
        if party.delegation not in remaining
    ]


def _status_of(record: RequestRecord, delegation: str) -> PartyStatus | None:
    return next((party.status for party in record.parties if party.delegation == delegation), None)


# Moved by every change (the notice's `at` tells when): no change of its own to report.
_NOT_CHANGES = frozenset({"updated_at"})


def _changes(before: RequestRecord, after: RequestRecord) -> dict[str, FieldChange]:
    old, new = msgspec.to_builtins(before), msgspec.to_builtins(after)
    return {
        name: FieldChange(old[name], new[name])
        for name in new
        if name not in _NOT_CHANGES and old.get(name) != new[name]
    }


async def tell_expired(pool: asyncpg.Pool, now: datetime) -> int:
    """`request.expired` for each forum whose request deadline has passed and was not told yet
    (`forums.expiry_told`, migration 0022): to every party of each request it left waiting, as
    GET shows that party the request (expired). One forum a transaction, its row locked (a PATCH
    of its deadline waits, or is waited for; another dispatcher skips it); returns how many forums
    were told. A closed forum is told once reopened."""
    told = 0
    while True:
        async with pool.acquire() as connection, connection.transaction():
            row = await connection.fetchrow(
                "SELECT id, request_deadline, time_zone FROM forums WHERE request_deadline <= $1"
                " AND expiry_told IS DISTINCT FROM request_deadline AND closed_at IS NULL"
                " ORDER BY request_deadline, id LIMIT 1 FOR UPDATE SKIP LOCKED",
                now,
            )
            if row is None:
                return told
            forum_id, deadline, zone = row["id"], row["request_deadline"], ZoneInfo(row["time_zone"])
            stored = await request_queries.list_requests(connection, forum_id, deadline, now)
            expired = [_in_zone(entry.item, zone) for entry in stored if entry.item.status == "expired"]
            party_to = await _party_to(connection, forum_id, expired)
            written = [
                (
                    party.delegation,
                    RequestNotice(
                        EXPIRED,
                        str(forum_id),
                        party.delegation,
                        _seen(record, party.delegation, party_to),
                        ORGANISER,
                        now,
                    ),
                )
                for record in expired
                for party in record.parties
            ]
            await notices.insert_notices(connection, forum_id, written)
            await connection.execute("UPDATE forums SET expiry_told = request_deadline WHERE id = $1", forum_id)
            told += 1


def _in_zone(record: RequestRecord, zone: ZoneInfo) -> RequestRecord:
    """As reads show it: its times in the forum's zone (api/controllers/requests.py `in_forum_time`)."""
    return msgspec.structs.replace(
        record, created_at=record.created_at.astimezone(zone), updated_at=record.updated_at.astimezone(zone)
    )


async def deadline_moved(
    connection: asyncpg.Connection, forum_id: Any, before: datetime | None, after: datetime | None, now: datetime
) -> None:
    """In the PATCH that moves the request deadline: a deadline that had passed and now has not
    (later, or none) opens the expired requests again, each party told by `request.changed` (status
    expired to pending), and the next passing is told afresh; one passed moved to another passed
    changes no status and is not told again. One moved into the past is `tell_expired`'s."""
    passed_before = before is not None and now >= before
    passed_after = after is not None and now >= after
    if passed_before and passed_after:
        await connection.execute(
            "UPDATE forums SET expiry_told = $2 WHERE id = $1 AND expiry_told = $3", forum_id, after, before
        )
        return
    if not passed_before or passed_after:
        return
    await connection.execute("UPDATE forums SET expiry_told = NULL WHERE id = $1", forum_id)
    zone = ZoneInfo(await connection.fetchval("SELECT time_zone FROM forums WHERE id = $1", forum_id))
    stored = await request_queries.list_requests(connection, forum_id, before, now)
    expired = [_in_zone(entry.item, zone) for entry in stored if entry.item.status == "expired"]
    party_to = await _party_to(connection, forum_id, expired)
    written: list[tuple[str, RequestNotice]] = []
    for record in expired:
        opened = msgspec.structs.replace(record, status="pending")
        for party in record.parties:
            seen = _seen(opened, party.delegation, party_to)
            changes = _changes(_seen(record, party.delegation, party_to), seen)
            notice = RequestNotice(CHANGED, str(forum_id), party.delegation, seen, ORGANISER, now, changes=changes)
            written.append((party.delegation, notice))
    await notices.insert_notices(connection, forum_id, written)
