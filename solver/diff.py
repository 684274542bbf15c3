"""What changed between two grids of the same forum: meetings moved, added, removed.

Shared by everything that reports change: the version diff the organiser reads,
the moves a re-solve reports, the iCalendar SEQUENCE, the notices sent to the
delegations whose meetings changed, and the grid page's highlighting. Pure: it
compares placements by meeting id and knows nothing of how they were stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Literal

import msgspec

from solver.result import Placement

ChangeKind = Literal["time", "room", "time_and_room"]


class Move(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A meeting placed in both grids, somewhere else in the second."""

    meeting: Annotated[str, msgspec.Meta(description="the meeting's id")]
    before: Annotated[Placement, msgspec.Meta(description="its placement in the first grid")]
    after: Annotated[Placement, msgspec.Meta(description="its placement in the second")]
    kind: Annotated[ChangeKind, msgspec.Meta(description="what changed: time, room or time_and_room")]


class ScheduleDiff(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    moved: list[Move] = []
    added: list[Placement] = []  # placed only in the second grid
    removed: list[Placement] = []  # placed only in the first grid
    unchanged: list[str] = []  # meeting ids at the same start and room in both

    @property
    def changed_meetings(self) -> set[str]:
        """Ids of every meeting whose placement differs between the two grids."""
        return {m.meeting for m in self.moved} | {p.meeting for p in self.added} | {p.meeting for p in self.removed}

    @property
    def is_empty(self) -> bool:
        return not (self.moved or self.added or self.removed)


def change_kind(before: Placement, after: Placement) -> ChangeKind | None:
    """How a meeting's placement changed; None when it did not.

    A different end with the same start counts as a time change (the meeting's
    duration changed), since attendees' calendars must update for it.
    """
    time_changed = before.start != after.start or before.end != after.end
    room_changed = before.room != after.room
    if time_changed and room_changed:
        return "time_and_room"
    if time_changed:
        return "time"
    if room_changed:
        return "room"
    return None


def diff_schedules(before: Iterable[Placement], after: Iterable[Placement]) -> ScheduleDiff:
    """Compare two grids meeting by meeting; every list is sorted by meeting id."""
    old = {p.meeting: p for p in before}
    new = {p.meeting: p for p in after}
    moved: list[Move] = []
    unchanged: list[str] = []
    for meeting in sorted(old.keys() & new.keys()):
        kind = change_kind(old[meeting], new[meeting])
        if kind is None:
            unchanged.append(meeting)
        else:
            moved.append(Move(meeting, old[meeting], new[meeting], kind))
    return ScheduleDiff(
        moved=moved,
        added=[new[m] for m in sorted(new.keys() - old.keys())],
        removed=[old[m] for m in sorted(old.keys() - new.keys())],
        unchanged=unchanged,
    )
