"""Publishing a version: the publication row with its diff, and the change notices.

Everything here runs in the caller's transaction, so the publication, its diff,
the outbox notices and their webhook deliveries commit or roll back together.
Each delegation sees the grid through its own meetings only: its notice (and its
calendar feed) compares the meetings it attends before and after, with the same
`solver.diff.diff_schedules` the organiser's version diff uses, and which of its
own people attend them (`attendees`).
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

from db.queries import notices, publications, revisions
from db.queries import runs as versions
from db.queries.runs import GridPlacement
from solver.diff import Move, ScheduleDiff, diff_schedules
from solver.result import Placement

NOTICE_TYPE: Final = "schedule.changed"


class AttendeeChange(msgspec.Struct, frozen=True):
    """A meeting the delegation attends before and after, with other people of its own."""

    meeting: str
    before: list[str]  # the delegation's own attendees, "delegation/participant"
    after: list[str]


class NoticePayload(msgspec.Struct, frozen=True):
    """What a delegation is told: only its own meetings that the publication changed."""

    type: Literal["schedule.changed"]
    forum: str
    delegation: str
    publication: int  # the publication's number in this forum (1, 2, 3 ...), as GET publications lists it
    version: int
    previous_version: int | None
    published_at: datetime
    moved: list[Move]
    added: list[Placement]
    removed: list[Placement]
    attendees: list[AttendeeChange] = []  # meetings kept whose own attendees changed


class PublishOutcome(msgspec.Struct, frozen=True):
    found: bool  # False: no such version
    publication: publications.PublicationRow | None  # None when it was already the published version
    notified: list[str] = []  # delegations given a notice


def attends(placement: GridPlacement, delegation_id: str) -> bool:
    prefix = f"{delegation_id}/"
    return any(attendee.startswith(prefix) for attendee in placement.attendees)


def own_attendees(placement: GridPlacement, delegation_id: str) -> list[str]:
    """The placement's attendees from this delegation, sorted."""
    return sorted(a for a in placement.attendees if a.partition("/")[0] == delegation_id)


def attendee_changes(
    before: list[GridPlacement], after: list[GridPlacement], delegation_id: str
) -> list[AttendeeChange]:
    """The delegation's meetings in both grids whose own attendees differ."""
    old = {p.meeting: own_attendees(p, delegation_id) for p in before if attends(p, delegation_id)}
    new = {p.meeting: own_attendees(p, delegation_id) for p in after if attends(p, delegation_id)}
    return [AttendeeChange(m, old[m], new[m]) for m in sorted(old.keys() & new.keys()) if old[m] != new[m]]


def by_delegation(grid: list[GridPlacement]) -> dict[str, list[GridPlacement]]:
    """Each attending delegation's placements, in the grid's order (as `attends` would filter them)."""
    found: dict[str, list[GridPlacement]] = {}
    for placement in grid:
        for delegation_id in dict.fromkeys(attendee.partition("/")[0] for attendee in placement.attendees):
            found.setdefault(delegation_id, []).append(placement)
    return found


def in_zone(grid: list[GridPlacement], zone: tzinfo) -> list[GridPlacement]:
    return [msgspec.structs.replace(p, start=p.start.astimezone(zone), end=p.end.astimezone(zone)) for p in grid]


def as_placements(grid: list[GridPlacement], zone: tzinfo, delegation_id: str | None = None) -> list[Placement]:
    """Stored placements as solver placements in forum-local time; with a delegation, only its meetings."""
    return [
        Placement(p.meeting, p.start.astimezone(zone), p.end.astimezone(zone), p.room)
        for p in grid
        if delegation_id is None or attends(p, delegation_id)
    ]


async def _grid(connection: asyncpg.Connection, version_id: int | None) -> list[GridPlacement]:
    return [] if version_id is None else await versions.grid_placements(connection, version_id)


async def publish(connection: asyncpg.Connection, forum_id: Any, number: int) -> PublishOutcome:
    """Publish version `number` (withdrawing the other), record the publication and its notices;
    raises Superseded when `number` was made from a published version another has replaced since,
    and OutOfDate when the forum has had setup edits since `number` was built.

    Every publisher goes through here (the API, `sidelines demo`...), so that no publication
    is missing from the history that calendar feeds and notices are built from.
    """
    # The row lock makes one publisher at a time; the zone puts the diff's times in forum time.
    zone_name = await connection.fetchval("SELECT time_zone FROM forums WHERE id = $1 FOR UPDATE", forum_id)
    if zone_name is None:
        return PublishOutcome(found=False, publication=None)
    zone = ZoneInfo(zone_name)
    previous = await versions.get_version(connection, forum_id, None, published_only=True)
    if previous is not None and previous.number != number:
        await _refuse_if_superseded(connection, forum_id, number, previous.number)
    if previous is None or previous.number != number:
        await _refuse_if_out_of_date(connection, forum_id, number)
    if not await versions.publish_version(connection, forum_id, number):
        return PublishOutcome(found=False, publication=None)
    if previous is not None and previous.number == number:
        return PublishOutcome(found=True, publication=None)  # already published: nothing changed
    current = await versions.get_version(connection, forum_id, number)
    assert current is not None
    previous_id = None if previous is None else previous.id
    before, after = await _grid(connection, previous_id), await _grid(connection, current.id)
    diff = diff_schedules(as_placements(before, zone), as_placements(after, zone))
    publication = await publications.insert_publication(connection, forum_id, current.id, previous_id, diff)
    written: list[tuple[str, NoticePayload]] = []
    # Each delegation's own meetings picked out once: filtering both whole grids for each of them
    # made a UNGA publication (190 delegations, 1,100 meetings) cost about 0.5 s.
    old_by, new_by = by_delegation(before), by_delegation(after)
    for delegation_id in sorted(old_by.keys() | new_by.keys()):
        mine_before, mine_after = old_by.get(delegation_id, []), new_by.get(delegation_id, [])
        own = diff_schedules(as_placements(mine_before, zone), as_placements(mine_after, zone))
        people = attendee_changes(mine_before, mine_after, delegation_id)
        if own.is_empty and not people:
            continue
        written.append((delegation_id, _payload(str(forum_id), delegation_id, publication, own, people)))
    await notices.insert_notices(connection, forum_id, written, publication.id)
    return PublishOutcome(found=True, publication=publication, notified=[delegation for delegation, _ in written])


class Superseded(Exception):
    """The version was made from a published grid that another publication has replaced since."""

    def __init__(self, number: int, base: int, published: int) -> None:
        super().__init__(
            f"version {number} was made from version {base}, and version {published} has been published"
            f" since: publishing {number} would undo what {published} changed (a meeting it placed or moved)."
            f" Make it again from version {published} (fit, move or re-solve)"
        )


async def _refuse_if_superseded(connection: asyncpg.Connection, forum_id: Any, number: int, published: int) -> None:
    """Raise Superseded when `number` was made (through any chain of `derived_from`: a move of
    an unpublished fit option...) from a version once published and no longer: two fit options,
    moves or re-solves made from the same published grid each leave out what the other changed,
    so the second to be published would silently drop the first's."""
    base = await connection.fetchval(
        "WITH RECURSIVE chain (id, parent, depth) AS ("
        "  SELECT id, derived_from_id, 0 FROM schedule_versions WHERE forum_id = $1 AND number = $2"
        "  UNION ALL SELECT v.id, v.derived_from_id, chain.depth + 1"
        "  FROM schedule_versions v JOIN chain ON v.id = chain.parent)"
        " SELECT v.number FROM chain JOIN schedule_versions v ON v.id = chain.id"
        " WHERE chain.depth > 0 AND EXISTS (SELECT 1 FROM publications p WHERE p.version_id = chain.id)"
        " ORDER BY chain.depth LIMIT 1",
        forum_id,
        number,
    )
    if base is not None and base != published:
        raise Superseded(number, int(base), published)


class OutOfDate(Exception):
    """The version was built from the forum before setup edits it does not take into account."""

    def __init__(self, number: int, state: revisions.OutOfDate) -> None:
        super().__init__(
            f"version {number} is out of date: it was built before {revisions.describe(state)}, so its grid"
            " does not take them into account (a withdrawn meeting may still be placed, a changed availability"
            " or room ignored, an accepted request missing). Queue a new run, or a re-solve of the published"
            " version, and publish its version"
        )


async def _refuse_if_out_of_date(connection: asyncpg.Connection, forum_id: Any, number: int) -> None:
    """Raise OutOfDate when the forum has had setup edits since version `number` was built.
    Runs the check under the forum row lock the publisher holds; an edit committed after it
    makes the published version out of date, which the versions list then shows."""
    revision = await connection.fetchval(
        "SELECT forum_revision FROM schedule_versions WHERE forum_id = $1 AND number = $2", forum_id, number
    )
    if revision is None:
        return  # no such version: publish_version answers that
    state = (await revisions.out_of_date(connection, forum_id, [revision])).get(revision)
    if state is not None:
        raise OutOfDate(number, state)


def _payload(
    forum_id: str,
    delegation_id: str,
    publication: publications.PublicationRow,
    own: ScheduleDiff,
    people: list[AttendeeChange],
) -> NoticePayload:
    return NoticePayload(
        type=NOTICE_TYPE,
        forum=forum_id,
        delegation=delegation_id,
        publication=publication.number,
        version=publication.version,
        previous_version=publication.previous_version,
        published_at=publication.published_at,
        moved=own.moved,
        added=own.added,
        removed=own.removed,
        attendees=people,
    )
