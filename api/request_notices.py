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
- `request.changed`: to every other party whose view of the request an edit changed (`changes`:
  each field before and after), with `asked_again` true for those whose answer it cleared.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Final, Literal

import asyncpg
import msgspec

from db.queries import notices
from db.records import PartyStatus, RequestRecord

RECEIVED: Final = "request.received"
ANSWERED: Final = "request.answered"
WITHDRAWN: Final = "request.withdrawn"
CHANGED: Final = "request.changed"
RequestNoticeType = Literal["request.received", "request.answered", "request.withdrawn", "request.changed"]
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


def _seen(record: RequestRecord, delegation: str, party_to: set[tuple[str, str]]) -> RequestRecord:
    """The request as GET shows it to `delegation` (api/controllers/requests.py `_as_seen`)."""
    after = [other for other in record.needs.after if (delegation, other) in party_to]
    if after == record.needs.after:
        return record
    return msgspec.structs.replace(record, needs=msgspec.structs.replace(record.needs, after=after))


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
    written: list[tuple[str, RequestNotice]] = []
    by = _by(actor_delegation)
    for delegation in _others(after, actor_delegation):
        seen = _seen(after, delegation, party_to)
        notice = RequestNotice(CHANGED, str(forum_id), delegation, seen, by, at)
        if action in ("accept", "decline"):
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
