"""The forum's slot grid: slot index <-> wall-clock time.

Slots are numbered across the whole forum, day after day, so one integer
says both the day and the time. A meeting never crosses a day boundary.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from solver.model import Forum, Window


@dataclass(frozen=True)
class TimeGrid:
    zone: ZoneInfo
    slot_minutes: int
    starts: tuple[datetime, ...]  # aware start of each slot
    day_of_slot: tuple[int, ...]
    day_ranges: tuple[range, ...]  # slots of each day

    @classmethod
    def of(cls, forum: Forum) -> TimeGrid:
        zone = ZoneInfo(forum.time_zone)
        step = timedelta(minutes=forum.slot_minutes)
        starts: list[datetime] = []
        days: list[int] = []
        ranges: list[range] = []
        for index, day in enumerate(forum.days):
            first = len(starts)
            moment = datetime.combine(day.date, day.start, zone)
            end = datetime.combine(day.date, day.end, zone)
            while moment + step <= end:
                starts.append(moment)
                days.append(index)
                moment += step
            ranges.append(range(first, len(starts)))
        return cls(zone, forum.slot_minutes, tuple(starts), tuple(days), tuple(ranges))

    @property
    def size(self) -> int:
        return len(self.starts)

    def local(self, moment: datetime) -> datetime:
        """`moment` in the forum's zone; naive datetimes are taken as local."""
        if moment.tzinfo is None:
            return moment.replace(tzinfo=self.zone)
        return moment.astimezone(self.zone)

    def slot_end(self, slot: int) -> datetime:
        return self.starts[slot] + timedelta(minutes=self.slot_minutes)

    def end_of(self, slot: int, length: int) -> datetime:
        """End of a meeting of `length` slots starting at `slot`."""
        return self.slot_end(slot + length - 1)

    def slot_at(self, moment: datetime) -> int | None:
        """The slot starting exactly at `moment`, or None when off the grid."""
        return self._slot_of_start.get(self.local(moment))

    @cached_property
    def _slot_of_start(self) -> dict[datetime, int]:
        """Each slot start's index (the first, should two starts be equal); a scan per
        lookup made checking many pins on a fine grid take minutes."""
        found: dict[datetime, int] = {}
        for slot, start in enumerate(self.starts):
            found.setdefault(start, slot)
        return found

    def fits(self, slot: int, length: int) -> bool:
        """True when `length` slots from `slot` stay inside one day."""
        last = slot + length - 1
        return last < self.size and self.day_of_slot[last] == self.day_of_slot[slot]

    def fitting_starts(self, length: int) -> list[int]:
        """Every slot from which `length` slots stay inside one day (`fits`, a day at a
        time: asked slot by slot, 2.3 M calls were 3.5 s of a profiled compile of an
        800-meeting OptaPlanner file)."""
        return [slot for day in self.day_ranges for slot in range(day.start, day.stop - length + 1)]

    @cached_property
    def ends(self) -> tuple[datetime, ...]:
        """The end of each slot (sorted, like the starts)."""
        return tuple(self.slot_end(slot) for slot in range(self.size))

    def overlapping(self, start: datetime, end: datetime) -> set[int]:
        """Slots that overlap the half-open interval [start, end)."""
        start, end = self.local(start), self.local(end)
        # Starts and ends both increase with the slot, so the overlap is one index range.
        return set(range(bisect_right(self.ends, start), bisect_left(self.starts, end)))

    def covered_by(self, window: Window) -> set[int]:
        return self.overlapping(window.start, window.end)

    def within(self, start: datetime | None, end: datetime | None) -> set[int]:
        """Slots lying entirely inside [start, end); None leaves a side open."""
        low = self.local(start) if start else None
        high = self.local(end) if end else None
        return {
            slot
            for slot, slot_start in enumerate(self.starts)
            if (low is None or slot_start >= low) and (high is None or self.slot_end(slot) <= high)
        }

    def describe(self, moment: datetime) -> str:
        """'Saturday 12:00' in the forum's zone, for messages people read; with the seconds when
        there are any ('Friday 09:15:30'), or a time off the grid reads as a slot start."""
        local = self.local(moment)
        clock = local.time().isoformat() if local.second or local.microsecond else f"{local:%H:%M}"
        return f"{local:%A} {clock}"
