"""An independent check of a schedule against docs/rules.md.

Everything here is recomputed from the raw problem and the placements' own
times, without OR-Tools and without `solver/compile.py`, so that a mistake in
the shared index form or in a solver cannot hide behind itself. Times are
compared as instants in the forum's zone; a placement that is off the grid is
reported under `grid` and is still checked against every other rule at the
times it claims.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from itertools import pairwise

import msgspec

from solver.model import (
    TERMS,
    Attendance,
    Meeting,
    Participant,
    Problem,
    ProgrammeSession,
    Room,
    attendees,
    move_weights,
)
from solver.result import Placement, Schedule, Unplaced
from solver.timegrid import TimeGrid


class Violation(msgspec.Struct, frozen=True):
    rule: str  # a rule name of docs/rules.md
    message: str
    meetings: list[str] = []


class Report(msgspec.Struct):
    violations: list[Violation]
    terms: dict[str, int]
    objective: int

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def broken(self) -> set[str]:
        """Names of the rules with at least one violation."""
        return {violation.rule for violation in self.violations}


@dataclass(frozen=True, eq=False)
class _Placed:
    """A usable placement: a known meeting, placed for the first time."""

    meeting: Meeting
    placement: Placement
    room: Room | None  # None when the room is unknown
    start: datetime  # forum-local
    end: datetime  # forum-local
    people: tuple[str, ...]
    slots: frozenset[int]  # grid slots overlapping [start, end)
    # Stored, not derived: the pair checks read them 70,000 times a UNGA validation.
    id: str  # the meeting's
    day: date  # the start's

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and self.end > start


@dataclass
class _Context:
    problem: Problem
    grid: TimeGrid
    people: dict[str, Participant]
    placed: list[_Placed]
    by_id: dict[str, _Placed]

    @cached_property
    def shared_pairs(self) -> dict[tuple[str, str], list[str]]:
        """`_shared_pairs`, once: three checks read it (UNGA: 20,000 pairs)."""
        return _shared_pairs(self)

    @cached_property
    def sequential_pairs(self) -> list[tuple[_Placed, _Placed, list[str], timedelta]]:
        """`_sequential_pairs`, once: the buffer and travel checks both read it."""
        return list(_sequential_pairs(self))

    @cached_property
    def buffers(self) -> dict[str, timedelta]:
        """Each participant's buffer, built once rather than once per pair and person."""
        return {person_id: timedelta(minutes=person.buffer_minutes) for person_id, person in self.people.items()}

    def when(self, moment: datetime) -> str:
        return self.grid.describe(moment)

    def span(self, placed: _Placed) -> str:
        return f"{self.when(placed.start)}-{placed.end:%H:%M}"

    def person(self, person_id: str) -> str:
        person = self.people.get(person_id)
        return person.name if person else repr(person_id)

    def persons(self, person_ids: Iterable[str]) -> str:
        return ", ".join(self.person(person_id) for person_id in person_ids)

    def local(self, moment: datetime) -> datetime:
        return self.grid.local(moment)


def _label(meeting: Meeting) -> str:
    return f'"{meeting.title}" ({meeting.id})' if meeting.title else meeting.id


def _room_label(placed: _Placed) -> str:
    return placed.room.name if placed.room else repr(placed.placement.room)


def validate(problem: Problem, schedule: Schedule) -> Report:
    """Every broken hard rule of `schedule` and its objective terms, recomputed."""
    context, violations = _checked(problem, schedule)
    breaks = _breaks(context)
    violations.extend(_check_break_spread(context, breaks))
    violations.extend(_check_must_held(problem, schedule, context))
    terms = _terms(context, breaks)
    return Report(violations=_in_rule_order(violations), terms=terms, objective=sum(terms.values()))


def placement_violations(problem: Problem, schedule: Schedule) -> list[Violation]:
    """The broken rules that concern placements (every rule but `break_spread`
    and `must_held`, which are about the whole grid), without the objective:
    what a re-solve asks of a published grid after a change, several times a second."""
    return _in_rule_order(_checked(problem, schedule)[1])


def _checked(problem: Problem, schedule: Schedule) -> tuple[_Context, list[Violation]]:
    """The context of `schedule` and the violations of every per-placement rule."""
    grid = TimeGrid.of(problem.forum)
    placed, violations = _collect(problem, grid, schedule)
    context = _context(problem, grid, placed)
    for check in _CHECKS:
        violations.extend(check(context))
    return context, violations


def breaks_by_participant(problem: Problem, schedule: Schedule) -> dict[str, int]:
    """Breaks of every participant summed over the days, as docs/rules.md defines them."""
    grid = TimeGrid.of(problem.forum)
    placed, _ = _collect(problem, grid, schedule)
    return _breaks(_context(problem, grid, placed))


def _context(problem: Problem, grid: TimeGrid, placed: list[_Placed]) -> _Context:
    people = {person.id: person for delegation in problem.delegations for person in delegation.participants}
    return _Context(problem, grid, people, placed, {item.id: item for item in placed})


# ---------------------------------------------------------------- schedule


def _collect(problem: Problem, grid: TimeGrid, schedule: Schedule) -> tuple[list[_Placed], list[Violation]]:
    """The usable placements (first of each known meeting) and the `schedule` violations."""
    meetings = {meeting.id: meeting for meeting in problem.meetings}
    rooms = {room.id: room for room in problem.rooms}
    attendance = Attendance(problem)
    usable: dict[str, _Placed] = {}
    found: list[Violation] = []
    for placement in schedule.placed:
        meeting = meetings.get(placement.meeting)
        if meeting is None:
            found.append(_schedule(f"Placed meeting {placement.meeting!r} is not a meeting of the problem.", placement))
        elif meeting.id in usable:
            found.append(_schedule(f"Meeting {_label(meeting)} is placed more than once.", placement))
        else:
            room = rooms.get(placement.room)
            if room is None:
                text = f"Meeting {_label(meeting)} is placed in unknown room {placement.room!r}."
                found.append(_schedule(text, placement))
            usable[meeting.id] = _placed(attendance, grid, meeting, placement, room)
    found.extend(_check_unplaced(meetings, usable, schedule))
    return list(usable.values()), found


def _check_unplaced(
    meetings: dict[str, Meeting], usable: dict[str, _Placed], schedule: Schedule
) -> Iterator[Violation]:
    for unplaced in schedule.unplaced:
        if unplaced.meeting in usable:
            text = f"Meeting {_label(usable[unplaced.meeting].meeting)} is both placed and listed as unplaced."
            yield _schedule(text, unplaced)
        elif unplaced.meeting not in meetings:
            yield _schedule(f"Unplaced meeting {unplaced.meeting!r} is not a meeting of the problem.", unplaced)


def _schedule(message: str, entry: Placement | Unplaced) -> Violation:
    return Violation("schedule", message, [entry.meeting])


def _placed(
    attendance: Attendance, grid: TimeGrid, meeting: Meeting, placement: Placement, room: Room | None
) -> _Placed:
    start, end = grid.local(placement.start), grid.local(placement.end)
    people = tuple(attendance.of(meeting))
    slots = frozenset(grid.overlapping(start, end))
    return _Placed(meeting, placement, room, start, end, people, slots, meeting.id, start.date())


# ---------------------------------------------------------------- grid


def _check_grid(context: _Context) -> Iterator[Violation]:
    grid = context.grid
    slot_of = {start: index for index, start in enumerate(grid.starts)}
    for placed in context.placed:
        faults: list[str] = []
        slot = slot_of.get(placed.start)
        length = placed.meeting.duration_minutes // grid.slot_minutes
        if slot is None:
            faults.append(f"starts at {context.when(placed.start)}, which is not a slot start of the grid")
        elif not grid.fits(slot, length):
            faults.append("runs past the end of its day's grid")
        expected_end = placed.start + timedelta(minutes=placed.meeting.duration_minutes)
        if placed.end != expected_end:
            faults.append(f"ends at {placed.end:%H:%M} instead of {expected_end:%H:%M}")
        if faults:
            yield Violation("grid", f"Meeting {_label(placed.meeting)} {' and '.join(faults)}.", [placed.id])


# ---------------------------------------------------------------- people


def _shared_pairs(context: _Context) -> dict[tuple[str, str], list[str]]:
    """Every pair of placed meetings with a common attendee (earlier first) that overlap or
    share a day, and those attendees: the only pairs the checks that read it look at."""
    by_person: dict[str, list[_Placed]] = defaultdict(list)
    for placed in sorted(context.placed, key=lambda item: (item.start, item.end, item.id)):
        for person in placed.people:
            by_person[person].append(placed)
    pairs: dict[tuple[str, str], list[str]] = defaultdict(list)
    for person, meetings in by_person.items():
        for index, first in enumerate(meetings):
            for second in meetings[index + 1 :]:
                # Starts only grow from here, so no later one overlaps `first` or shares its day
                # either (every pair of a person's 40 UNGA meetings was a third of a validation).
                if second.start >= first.end and second.day != first.day:
                    break
                pairs[(first.id, second.id)].append(person)
    return pairs


def _check_participant_overlap(context: _Context) -> Iterator[Violation]:
    for (first_id, second_id), people in context.shared_pairs.items():
        first, second = context.by_id[first_id], context.by_id[second_id]
        if first.overlaps(second.start, second.end):
            yield Violation(
                "participant_overlap",
                f"{context.persons(people)} would attend {_label(first.meeting)} ({context.span(first)}) "
                f"and {_label(second.meeting)} ({context.span(second)}) at the same time.",
                [first_id, second_id],
            )


def _sequential_pairs(context: _Context) -> Iterator[tuple[_Placed, _Placed, list[str], timedelta]]:
    """Pairs of one day's meetings with a common attendee that do not overlap, and the gap between them.

    Overlapping pairs are left to `participant_overlap`, so one fault is reported once.
    """
    for (first_id, second_id), people in context.shared_pairs.items():
        first, second = context.by_id[first_id], context.by_id[second_id]
        if first.day == second.day and not first.overlaps(second.start, second.end):
            yield first, second, people, second.start - first.end


def _check_buffer(context: _Context) -> Iterator[Violation]:
    for first, second, people, gap in context.sequential_pairs:
        short = [p for p in people if p in context.buffers and gap < context.buffers[p]]
        if short:
            needed = max(context.people[p].buffer_minutes for p in short)
            yield Violation(
                "buffer",
                f"{context.persons(short)} {_need(short)} {_count(needed, 'minute')} between {_label(first.meeting)} "
                f"(ends {first.end:%H:%M}) and {_label(second.meeting)} (starts {context.when(second.start)}), "
                f"but get {_minutes(gap)}.",
                [first.id, second.id],
            )


def _travel_minutes(problem: Problem) -> dict[frozenset[str], int]:
    table: dict[frozenset[str], int] = {}
    for travel in problem.travel:
        pair = frozenset(travel.between)
        if len(pair) == 2:
            table[pair] = max(table.get(pair, 0), travel.minutes)
    return table


def _check_travel(context: _Context) -> Iterator[Violation]:
    table = _travel_minutes(context.problem)
    for first, second, people, gap in context.sequential_pairs:
        if first.room is None or second.room is None or first.room.venue == second.room.venue:
            continue
        venues = frozenset(room.venue for room in (first.room, second.room) if room.venue is not None)
        needed = table.get(venues, 0)  # a room without a venue has no travel entry
        if gap < timedelta(minutes=needed):
            yield Violation(
                "travel",
                f"{context.persons(people)} {_need(people)} {_count(needed, 'minute')} to get from "
                f"{_room_label(first)} "
                f"(after {_label(first.meeting)}, ends {first.end:%H:%M}) to {_room_label(second)} "
                f"(for {_label(second.meeting)}, starts {context.when(second.start)}), but get {_minutes(gap)}.",
                [first.id, second.id],
            )


def _minutes(gap: timedelta) -> str:
    return _count(int(gap.total_seconds() // 60), "minute")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _need(people: list[str]) -> str:
    """The verb agreeing with the people named before it ("Marles needs", "Marles, Kihara need")."""
    return "needs" if len(people) == 1 else "need"


def _check_daily_limit(context: _Context) -> Iterator[Violation]:
    by_person_day: dict[tuple[str, date], list[_Placed]] = defaultdict(list)
    for placed in context.placed:
        for attendee in placed.people:
            by_person_day[(attendee, placed.day)].append(placed)
    for (person_id, day), meetings in by_person_day.items():
        person = context.people.get(person_id)
        if person and person.max_meetings_per_day is not None and len(meetings) > person.max_meetings_per_day:
            yield Violation(
                "daily_limit",
                f"{person.name} has {len(meetings)} meetings on {day:%A %d %B}, "
                f"more than the limit of {person.max_meetings_per_day}.",
                [placed.id for placed in meetings],
            )


def _check_availability(context: _Context) -> Iterator[Violation]:
    for placed in context.placed:
        for person_id in placed.people:
            person = context.people.get(person_id)
            if person is None:
                continue
            reasons = _unavailable_reasons(context, person, placed.start, placed.end)
            if reasons:
                yield Violation(
                    "availability",
                    f"{person.name} is not available for {_label(placed.meeting)} ({context.span(placed)}): "
                    f"{'; '.join(reasons)}.",
                    [placed.id],
                )


def _unavailable_reasons(context: _Context, person: Participant, start: datetime, end: datetime) -> list[str]:
    reasons: list[str] = []
    if person.arrival is not None and start < context.local(person.arrival):
        reasons.append(f"arrives {context.when(person.arrival)}")
    if person.departure is not None and end > context.local(person.departure):
        reasons.append(f"leaves {context.when(person.departure)}")
    for window in person.blocked:
        if start < context.local(window.end) and end > context.local(window.start):
            reasons.append(f"blocked {context.when(window.start)}-{context.local(window.end):%H:%M}")
    return reasons


def _session_blocks(session: ProgrammeSession, person: Participant) -> bool:
    if session.scope == "everyone":
        return True
    if session.scope == "principals":
        return person.principal or person.id in session.participants
    return person.id in session.participants


def _check_session(context: _Context) -> Iterator[Violation]:
    # Each session's times converted once, not once per placement (UNGA: 1,100 x 40).
    spans = [
        (session, context.local(session.start), context.local(session.end)) for session in context.problem.sessions
    ]
    nearby = _sessions_by_day(spans)
    for placed in context.placed:
        for session, start, end in nearby(placed):
            if not placed.overlaps(start, end):
                continue
            blocked = [p for p in placed.people if p in context.people and _session_blocks(session, context.people[p])]
            if blocked:
                yield Violation(
                    "session",
                    f"{_label(placed.meeting)} ({context.span(placed)}) clashes with the session {session.name!r} "
                    f"({context.when(session.start)}-{context.local(session.end):%H:%M}) "
                    f"that {context.persons(blocked)} must attend.",
                    [placed.id],
                )


_Span = tuple[ProgrammeSession, datetime, datetime]
_LONGEST_INDEXED = timedelta(days=31)


def _sessions_by_day(spans: list[_Span]) -> Callable[[_Placed], list[_Span]]:
    """For a placement, in their order, the sessions that may overlap it: those sharing one of
    its days (an overlap has an instant in both), and any too odd to file by day (backwards,
    or longer than a month). A placement that ends before it starts gets every session."""
    by_day: dict[date, list[int]] = defaultdict(list)
    anywhere: list[int] = []
    for index, (_, start, end) in enumerate(spans):
        if end < start or end - start > _LONGEST_INDEXED:
            anywhere.append(index)
            continue
        day = start.date()
        while day <= end.date():
            by_day[day].append(index)
            day += timedelta(days=1)

    def nearby(placed: _Placed) -> list[_Span]:
        if placed.end < placed.start or placed.end - placed.start > _LONGEST_INDEXED:
            return spans
        found = set(anywhere)
        day = placed.day
        while day <= placed.end.date():
            found.update(by_day.get(day, ()))
            day += timedelta(days=1)
        return [spans[index] for index in sorted(found)]

    return nearby


def _check_precedence(context: _Context) -> Iterator[Violation]:
    for placed in context.placed:
        for before_id in placed.meeting.after:
            before = context.by_id.get(before_id)
            if before is not None and before.end > placed.start:
                yield Violation(
                    "precedence",
                    f"{_label(placed.meeting)} starts {context.when(placed.start)}, before "
                    f"{_label(before.meeting)} has ended ({before.end:%H:%M}).",
                    [before.id, placed.id],
                )


# ---------------------------------------------------------------- meetings


def _check_window(context: _Context) -> Iterator[Violation]:
    for placed in context.placed:
        meeting = placed.meeting
        if meeting.earliest is not None and placed.start < context.local(meeting.earliest):
            yield Violation(
                "window",
                f"{_label(meeting)} starts {context.when(placed.start)}, before its earliest start "
                f"{context.when(meeting.earliest)}.",
                [meeting.id],
            )
        if meeting.latest is not None and placed.end > context.local(meeting.latest):
            yield Violation(
                "window",
                f"{_label(meeting)} ends {placed.end:%H:%M} on {placed.end:%A}, after its latest end "
                f"{context.when(meeting.latest)}.",
                [meeting.id],
            )


def _check_pinned(context: _Context) -> Iterator[Violation]:
    for placed in context.placed:
        meeting = placed.meeting
        if meeting.pinned_start is not None and placed.start != context.local(meeting.pinned_start):
            yield Violation(
                "pinned",
                f"{_label(meeting)} is pinned to {context.when(meeting.pinned_start)} "
                f"but starts {context.when(placed.start)}.",
                [meeting.id],
            )
        if meeting.pinned_room is not None and placed.placement.room != meeting.pinned_room:
            yield Violation(
                "pinned",
                f"{_label(meeting)} is pinned to room {meeting.pinned_room!r} but is in {_room_label(placed)}.",
                [meeting.id],
            )


def _check_resource_capacity(context: _Context) -> Iterator[Violation]:
    for resource in context.problem.resources:
        users = {placed.id: _amount(placed.meeting, resource.id) for placed in context.placed}
        users = {meeting_id: amount for meeting_id, amount in users.items() if amount}
        reported: set[frozenset[str]] = set()
        # The load only rises when a meeting starts, so checking at every start finds each peak.
        for meeting_id in users:
            moment = context.by_id[meeting_id].start
            running = [m for m in users if context.by_id[m].start <= moment < context.by_id[m].end]
            load = sum(users[m] for m in running)
            if load > resource.capacity and frozenset(running) not in reported:
                reported.add(frozenset(running))
                yield Violation(
                    "resource_capacity",
                    f"{resource.name} is needed {load} times at {context.when(moment)} "
                    f"({', '.join(running)}) but only {resource.capacity} are available.",
                    running,
                )


def _amount(meeting: Meeting, resource_id: str) -> int:
    return sum(use.amount for use in meeting.resources if use.resource == resource_id)


# ---------------------------------------------------------------- rooms


def _in_known_rooms(context: _Context) -> Iterator[tuple[_Placed, Room]]:
    for placed in context.placed:
        if placed.room is not None:
            yield placed, placed.room


def _check_room_overlap(context: _Context) -> Iterator[Violation]:
    by_room: dict[str, list[_Placed]] = defaultdict(list)
    for placed, room in _in_known_rooms(context):
        by_room[room.id].append(placed)
    for meetings in by_room.values():
        ordered = sorted(meetings, key=lambda item: (item.start, item.id))
        for index, first in enumerate(ordered):
            for second in ordered[index + 1 :]:
                if second.start >= first.end:
                    break  # starts only grow from here: no later one overlaps `first`
                if not first.overlaps(second.start, second.end):
                    continue
                yield Violation(
                    "room_overlap",
                    f"{_room_label(first)} would hold {_label(first.meeting)} ({context.span(first)}) "
                    f"and {_label(second.meeting)} ({context.span(second)}) at the same time.",
                    [first.id, second.id],
                )


def _check_room_unavailable(context: _Context) -> Iterator[Violation]:
    for placed, room in _in_known_rooms(context):
        for window in room.unavailable:
            if placed.overlaps(context.local(window.start), context.local(window.end)):
                yield Violation(
                    "room_unavailable",
                    f"{room.name} is unavailable {context.when(window.start)}-{context.local(window.end):%H:%M} "
                    f"but holds {_label(placed.meeting)} ({context.span(placed)}).",
                    [placed.id],
                )


def _check_room_fit(context: _Context) -> Iterator[Violation]:
    for placed, room in _in_known_rooms(context):
        meeting = placed.meeting
        faults: list[str] = []
        seats = meeting.seats if meeting.seats is not None else len(placed.people)
        if room.seats < seats:
            faults.append(f"it seats {room.seats}, {seats} are needed")
        missing = sorted(set(meeting.features) - set(room.features))
        if missing:
            faults.append(f"it lacks {', '.join(missing)}")
        if meeting.venues and room.venue not in meeting.venues:
            faults.append(f"its venue {room.venue!r} is not one of {', '.join(meeting.venues)}")
        if faults:
            yield Violation(
                "room_fit", f"{room.name} does not suit {_label(meeting)}: {'; '.join(faults)}.", [meeting.id]
            )


def _check_keep_apart(context: _Context) -> Iterator[Violation]:
    starting: dict[tuple[str, datetime], list[_Placed]] = defaultdict(list)
    for placed in context.placed:
        starting[(placed.placement.room, placed.start)].append(placed)
    for pair in context.problem.keep_apart:
        for one, other in (pair.delegations, pair.delegations[::-1]):
            for first in context.placed:
                if not _with_but_not(first, one, other):
                    continue
                for second in starting[(first.placement.room, first.end)]:
                    if _with_but_not(second, other, one):
                        yield Violation(
                            "keep_apart",
                            f"{_label(second.meeting)} with {other} starts in {_room_label(second)} at "
                            f"{context.when(second.start)}, just as {_label(first.meeting)} with {one} ends there; "
                            f"{one} and {other} must be kept apart.",
                            [first.id, second.id],
                        )


def _with_but_not(placed: _Placed, present: str, absent: str) -> bool:
    return present in placed.meeting.delegations and absent not in placed.meeting.delegations


# ---------------------------------------------------------------- breaks


def _breaks(context: _Context) -> dict[str, int]:
    busy: dict[str, set[int]] = defaultdict(set)
    for placed in context.placed:
        for person in placed.people:
            busy[person] |= placed.slots
    return {person_id: _breaks_of(context, person, busy[person_id]) for person_id, person in context.people.items()}


def _breaks_of(context: _Context, person: Participant, busy: set[int]) -> int:
    if not busy:
        return 0
    grid = context.grid
    counts_all = context.problem.objective.breaks_count_unavailable
    buffer = math.ceil(person.buffer_minutes / context.problem.forum.slot_minutes)
    total = 0
    for day_slots in grid.day_ranges:
        busy_today = sorted(slot for slot in day_slots if slot in busy)
        for earlier, later in pairwise(busy_today):
            # idle slots inside the buffer after a meeting are the buffer, not a break. Only these
            # gaps' slots are looked at: checking every slot of every day for every person made
            # two thirds of a UNGA validation (0.8 of 1.0 s, which a move check does twice).
            gap = range(earlier + buffer + 1, later)
            if any(
                counts_all or not _unavailable_in_slot(context, person, grid.starts[slot], grid.slot_end(slot))
                for slot in gap
            ):
                total += 1
    return total


def _unavailable_in_slot(context: _Context, person: Participant, start: datetime, end: datetime) -> bool:
    if _unavailable_reasons(context, person, start, end):
        return True
    return any(
        _session_blocks(session, person) and start < context.local(session.end) and end > context.local(session.start)
        for session in context.problem.sessions
    )


def _check_must_held(problem: Problem, schedule: Schedule, context: _Context) -> Iterator[Violation]:
    """With must_is_hard, a grid (not an INFEASIBLE or UNKNOWN answer) holds every must meeting."""
    if not problem.objective.must_is_hard or schedule.status in ("INFEASIBLE", "UNKNOWN"):
        return
    missing = [m.id for m in problem.meetings if m.priority == "must" and m.id not in context.by_id]
    if missing:
        yield Violation("must_held", f"Must meetings are hard here, but {', '.join(missing)} are not placed.", missing)


def _check_break_spread(context: _Context, breaks: dict[str, int]) -> Iterator[Violation]:
    limit = context.problem.objective.break_spread_limit
    if limit is None or not breaks:
        return
    most = max(breaks, key=breaks.__getitem__)
    fewest = min(breaks, key=breaks.__getitem__)
    if breaks[most] - breaks[fewest] > limit:
        yield Violation(
            "break_spread",
            f"{context.person(most)} has {breaks[most]} breaks and {context.person(fewest)} {breaks[fewest]}; "
            f"the spread may be at most {limit}.",
            sorted({placed.id for placed in context.placed if most in placed.people}),
        )


# ---------------------------------------------------------------- objective


def _terms(context: _Context, breaks: dict[str, int]) -> dict[str, int]:
    weights = context.problem.objective.weights
    values = {
        "held": _held(context),
        "fairness": weights.fairness * (100 - _worst_service(context)),
        "breaks": weights.breaks * sum(breaks.values()),
        "preferences": weights.preferences * _outside_preferences(context),
        "stability": _stability(context),
    }
    return {term: values[term] for term in TERMS}


def _held(context: _Context) -> int:
    priority_weights = context.problem.objective.priority_weights
    return sum(
        getattr(priority_weights, meeting.priority)
        for meeting in context.problem.meetings
        if meeting.id not in context.by_id
    )


def _worst_service(context: _Context) -> int:
    """min over delegations with requests of floor(100 x placed / requested); 100 when none asked."""
    requested: dict[str, int] = defaultdict(int)
    held: dict[str, int] = defaultdict(int)
    for meeting in context.problem.meetings:
        for delegation in meeting.delegations:
            requested[delegation] += 1
            held[delegation] += meeting.id in context.by_id
    return min((100 * held[d] // requested[d] for d in requested), default=100)


def _outside_preferences(context: _Context) -> int:
    return sum(
        1
        for placed in context.placed
        if placed.meeting.preferred
        and not any(
            context.local(window.start) <= placed.start and placed.end <= context.local(window.end)
            for window in placed.meeting.preferred
        )
    )


def _stability(context: _Context) -> int:
    weights = context.problem.objective.weights
    meetings = {meeting.id: meeting for meeting in context.problem.meetings}
    cost = 0
    for previous in context.problem.previous:
        meeting = meetings.get(previous.meeting)
        people = attendees(context.problem, meeting) if meeting else []
        principal = any(p in context.people and context.people[p].principal for p in people)
        moved_time, moved_room = move_weights(weights, principal)
        placed = context.by_id.get(previous.meeting)
        if placed is None or placed.start != context.local(previous.start):
            cost += moved_time
        elif placed.placement.room != previous.room:
            cost += moved_room
    return cost


# ---------------------------------------------------------------- order

_CHECKS: tuple[Callable[[_Context], Iterable[Violation]], ...] = (
    _check_grid,
    _check_participant_overlap,
    _check_room_overlap,
    _check_resource_capacity,
    _check_availability,
    _check_session,
    _check_room_unavailable,
    _check_room_fit,
    _check_window,
    _check_pinned,
    _check_precedence,
    _check_buffer,
    _check_travel,
    _check_daily_limit,
    _check_keep_apart,
)

RULES: tuple[str, ...] = (
    "grid",
    "participant_overlap",
    "room_overlap",
    "resource_capacity",
    "availability",
    "session",
    "room_unavailable",
    "room_fit",
    "window",
    "pinned",
    "precedence",
    "buffer",
    "travel",
    "daily_limit",
    "keep_apart",
    "break_spread",
    "must_held",
    "schedule",
)


def _in_rule_order(violations: list[Violation]) -> list[Violation]:
    """Violations in the order of the table in docs/rules.md (stable within a rule)."""
    return sorted(violations, key=lambda violation: RULES.index(violation.rule))
