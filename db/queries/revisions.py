"""A forum's revision: how many setup edits it has had (counted by migration 0011, at commit since 0014).

A schedule version records the revision it was built from; once the forum has
moved past it, the version is out of date, and these say since which edit.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec

SHOWN_EDITS = 5  # an import counts one edit per record: the first few say enough


class Edit(msgspec.Struct, frozen=True):
    """One setup edit, as the audit log (GET .../audit) has it."""

    revision: int
    at: datetime
    action: str  # create, update, delete, import, accept, withdraw ...
    entity: str  # room, participant, request, forum ...
    entity_id: str


class OutOfDate(msgspec.Struct, frozen=True):
    """The setup edits a version was built without."""

    since: datetime  # the first of them
    edits: int  # how many
    first: list[Edit]  # the first SHOWN_EDITS, oldest first


async def current_revision(connection: asyncpg.Connection, forum_id: Any) -> int:
    revision = await connection.fetchval("SELECT revision FROM forum_revisions WHERE forum_id = $1", forum_id)
    return int(revision or 0)


class Pulse(msgspec.Struct, frozen=True):
    """What an open grid page compares with what it shows, to learn of a colleague's work."""

    revision: int  # setup edits so far: a version built at a lower revision is out of date
    latest_version: int | None  # the highest version number (a new run or move added one)
    published_version: int | None
    publications: int  # a count: publishing v2, then v3, then v2 again leaves the rest as it was


async def pulse(connection: asyncpg.Connection, forum_id: Any) -> Pulse:
    """One statement on three indexed lookups and a count of the forum's publications (tens):
    its cost does not grow with the grid, which is what lets a page ask every few seconds."""
    row = await connection.fetchrow(
        "SELECT coalesce((SELECT revision FROM forum_revisions WHERE forum_id = $1), 0) AS revision,"
        " (SELECT max(number) FROM schedule_versions WHERE forum_id = $1) AS latest_version,"
        " (SELECT number FROM schedule_versions WHERE forum_id = $1 AND published) AS published_version,"
        " (SELECT count(*) FROM publications WHERE forum_id = $1) AS publications",
        forum_id,
    )
    return msgspec.convert(dict(row), Pulse)


async def out_of_date(connection: asyncpg.Connection, forum_id: Any, revisions: Iterable[int]) -> dict[int, OutOfDate]:
    """For each of `revisions` the forum has moved past, the edits since; current ones are left out.
    One statement for all of them: a version list names many revisions."""
    current = await current_revision(connection, forum_id)
    behind = sorted({r for r in revisions if r < current})
    rows = await connection.fetch(
        "SELECT behind.revision AS since_revision, edit.revision, edit.at, edit.action, edit.entity, edit.entity_id"
        " FROM unnest($2::bigint[]) AS behind(revision)"
        " CROSS JOIN LATERAL (SELECT revision, at, action, entity, entity_id FROM audit_log"
        "  WHERE forum_id = $1 AND revision > behind.revision ORDER BY revision LIMIT $3) AS edit"
        " ORDER BY behind.revision, edit.revision",
        forum_id,
        behind,
        SHOWN_EDITS,
    )
    first: dict[int, list[Edit]] = {revision: [] for revision in behind}
    for row in rows:
        first[row["since_revision"]].append(
            Edit(row["revision"], row["at"], row["action"], row["entity"], row["entity_id"])
        )
    return {revision: OutOfDate(edits[0].at, current - revision, edits) for revision, edits in first.items() if edits}


def describe(state: OutOfDate) -> str:
    """The edits in a sentence, for a refusal."""
    named = "; ".join(
        f"{edit.entity} {edit.entity_id} {_past(edit.action)} at {edit.at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
        for edit in state.first
    )
    more = f" and {state.edits - len(state.first)} more" if state.edits > len(state.first) else ""
    return f"{state.edits} setup edit{'s' if state.edits != 1 else ''} ({named}{more})"


# Audit actions as a sentence says them ("declin" is how the requests flow records a decline).
_PAST = {
    "create": "created",
    "update": "edited",
    "delete": "deleted",
    "import": "imported",
    "load": "loaded",
    "accept": "accepted",
    "declin": "declined",
    "withdraw": "withdrawn",
}


def _past(action: str) -> str:
    return _PAST.get(action, action)


def derived_revision(current: int, source: int, valid_now: bool) -> int:
    """The revision a version made from another (a move, a fit option) is built from. It reads
    the forum as it is now (`current`: its meetings, attendees, rules), but keeps the rest of its
    source's grid: current when that grid breaks no rule of today's forum (an accepted request
    merely waits for its placement), else no newer than its source (an edit broke a placement it
    kept, which only a solve mends)."""
    return current if valid_now else min(source, current)


async def version_revision(connection: asyncpg.Connection, forum_id: Any, number: int) -> int:
    revision = await connection.fetchval(
        "SELECT forum_revision FROM schedule_versions WHERE forum_id = $1 AND number = $2", forum_id, number
    )
    return int(revision or 0)
