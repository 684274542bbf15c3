"""From a problem to index form: slots, availability sets, room classes and the
static domain of every meeting (the (start, room class) pairs that no single
rule forbids). The greedy baseline, the CP-SAT model and the explanations all
start from here; the validator deliberately does not.

Rooms that are interchangeable (same venue, seats, features and unavailable
slots, and pinned by nobody) form one room class; the model then only counts
meetings per class and slot, and rooms are handed out afterwards.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from solver.model import Meeting, Participant, Problem, Room, attendees, participants_by_id
from solver.spots import domain_pairs, spot_table
from solver.timegrid import TimeGrid


@dataclass(frozen=True)
class RoomClass:
    index: int
    rooms: tuple[Room, ...]
    venue: str | None
    seats: int
    features: frozenset[str]
    open_slots: frozenset[int]

    @property
    def size(self) -> int:
        return len(self.rooms)


@dataclass
class MeetingInfo:
    index: int
    meeting: Meeting
    length: int  # in slots
    people: tuple[str, ...]
    delegations: tuple[str, ...]
    weight: int  # cost of leaving it unplaced
    principal: bool  # attended by at least one principal
    domain: list[tuple[int, int]] = field(default_factory=list)  # (start slot, class index)
    starts: list[int] = field(default_factory=list)  # distinct starts of the domain
    preferred_starts: frozenset[int] = frozenset()
    pinned_start: int | None = None
    previous: tuple[int, str] | None = None  # (start slot, room id)
    # The meeting's id, a field rather than a property: the local search reads it
    # millions of times a minute. Set from `meeting`, also by dataclasses.replace.
    id: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.id = self.meeting.id

    def covers(self, start: int) -> range:
        return range(start, start + self.length)


@dataclass
class Compiled:
    problem: Problem
    grid: TimeGrid
    meetings: list[MeetingInfo]
    classes: list[RoomClass]
    people: dict[str, Participant]
    delegation_of: dict[str, str]
    available: dict[str, frozenset[int]]  # participant -> slots free of rules
    buffer_slots: dict[str, int]
    travel_slots: dict[tuple[str | None, str | None], int]
    by_id: dict[str, MeetingInfo]
    # Meetings held at one (start slot, room id) each, their only choice (a re-solve's kept ones).
    pinned: dict[str, tuple[int, str]] = field(default_factory=dict)
    # Facts derived from this compiled problem alone, kept by the code that
    # computes them (each participant's meetings, the zero-break answer, the
    # windows), so they live exactly as long as it does; a dataclasses.replace
    # copy starts empty, as it must (it may have other meetings).
    derived: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def meetings_of(self, person: str) -> list[MeetingInfo]:
        # Indexed once per meeting count (compile_problem appends them one by
        # one): the B2B floor search asks for everyone's in every model it builds.
        counted, by_person = self.derived.get("meetings_of", (-1, {}))
        if counted != len(self.meetings):
            grouped: dict[str, list[MeetingInfo]] = defaultdict(list)
            for info in self.meetings:
                for attendee in info.people:
                    grouped[attendee].append(info)
            by_person = {attendee: tuple(infos) for attendee, infos in grouped.items()}
            self.derived["meetings_of"] = (len(self.meetings), by_person)
        return list(by_person.get(person, ()))

    def gap_needed(self, person: str, venue_a: str | None, venue_b: str | None) -> int:
        """Slots that must separate two meetings of `person` at these venues."""
        return max(self.buffer_slots.get(person, 0), self.travel_slots.get((venue_a, venue_b), 0))


def compile_problem(problem: Problem, pinned: dict[str, tuple[int, str]] | None = None) -> Compiled:
    """`pinned` (meeting id -> start slot, room id): meetings whose one choice is that spot.

    A pinned meeting's domain is not computed in full only to be replaced: a
    re-solve at UNGA's size pins 1,087 of 1,100 meetings, each with up to 180
    starts in each of 20 rooms. Its preferred starts are what they would be with
    the full domain (the pin, if the full domain has it and it is preferred).
    """
    grid = TimeGrid.of(problem.forum)
    people = {pid: person for pid, (_, person) in participants_by_id(problem).items()}
    delegation_of = {pid: delegation.id for pid, (delegation, _) in participants_by_id(problem).items()}
    available = {pid: _available_slots(problem, grid, person) for pid, person in people.items()}
    classes = _room_classes(problem, grid)
    slot = problem.forum.slot_minutes
    compiled = Compiled(
        problem=problem,
        grid=grid,
        meetings=[],
        classes=classes,
        people=people,
        delegation_of=delegation_of,
        available=available,
        buffer_slots={pid: math.ceil(p.buffer_minutes / slot) for pid, p in people.items()},
        travel_slots=_travel_slots(problem),
        by_id={},
        pinned=dict(pinned or {}),
    )
    previous = _previous_spots(problem, grid)
    for index, meeting in enumerate(problem.meetings):
        info = _meeting_info(compiled, index, meeting, previous.get(meeting.id))
        compiled.meetings.append(info)
        compiled.by_id[meeting.id] = info
    return compiled


def _available_slots(problem: Problem, grid: TimeGrid, person: Participant) -> frozenset[int]:
    free = grid.within(person.arrival, person.departure)
    for window in person.blocked:
        free -= grid.covered_by(window)
    for session in problem.sessions:
        if session_blocks(session.scope, session.participants, person):
            free -= grid.overlapping(session.start, session.end)
    return frozenset(free)


def session_blocks(scope: str, listed: list[str], person: Participant) -> bool:
    if scope == "everyone":
        return True
    if scope == "principals":
        return person.principal or person.id in listed
    return person.id in listed


def _room_classes(problem: Problem, grid: TimeGrid) -> list[RoomClass]:
    pinned = {meeting.pinned_room for meeting in problem.meetings if meeting.pinned_room}
    # Stability and keep-apart speak of individual rooms: keep rooms apart then.
    individual = bool(problem.previous) or bool(problem.keep_apart)
    groups: dict[tuple, list[Room]] = defaultdict(list)
    for room in problem.rooms:
        open_slots = frozenset(range(grid.size)) - _room_closed(grid, room)
        own_class = room.id if individual or room.id in pinned else None
        key: tuple = (room.venue, room.seats, frozenset(room.features), open_slots, own_class)
        groups[key].append(room)
    return [
        RoomClass(index, tuple(rooms), key[0], key[1], key[2], key[3])
        for index, (key, rooms) in enumerate(groups.items())
    ]


def _room_closed(grid: TimeGrid, room: Room) -> set[int]:
    closed: set[int] = set()
    for window in room.unavailable:
        closed |= grid.covered_by(window)
    return closed


def _travel_slots(problem: Problem) -> dict[tuple[str | None, str | None], int]:
    slot = problem.forum.slot_minutes
    table: dict[tuple[str | None, str | None], int] = {}
    for travel in problem.travel:
        first, second = travel.between
        if first != second:
            gap = math.ceil(travel.minutes / slot)
            table[(first, second)] = table[(second, first)] = gap
    return table


def _previous_spots(problem: Problem, grid: TimeGrid) -> dict[str, tuple[int, str]]:
    """Each meeting's (start slot, room id) in the previous schedule: its last
    placement there that is on the grid. Indexed once: a scan of the previous
    schedule per meeting cost a re-solve at UNGA's size 1.2 million steps."""
    spots: dict[str, tuple[int, str]] = {}
    for placement in problem.previous:
        start = grid.slot_at(placement.start)
        if start is not None:
            spots[placement.meeting] = (start, placement.room)
    return spots


def _meeting_info(compiled: Compiled, index: int, meeting: Meeting, previous: tuple[int, str] | None) -> MeetingInfo:
    problem, grid = compiled.problem, compiled.grid
    people = tuple(attendees(problem, meeting))
    info = MeetingInfo(
        index=index,
        meeting=meeting,
        length=meeting.duration_minutes // problem.forum.slot_minutes,
        people=people,
        delegations=tuple(meeting.delegations),
        weight=getattr(problem.objective.priority_weights, meeting.priority),
        principal=any(compiled.people[p].principal for p in people),
        previous=previous,
    )
    if meeting.pinned_start is not None:
        info.pinned_start = grid.slot_at(meeting.pinned_start)
    starts = feasible_starts(compiled, info)
    pin = compiled.pinned.get(meeting.id)
    if pin is not None:
        starts = [start for start in starts if start == pin[0]]  # the full domain, at the pin's start only
    rooms = suitable_classes(compiled, meeting)
    always_open = {room_class.index for room_class in rooms if len(room_class.open_slots) == grid.size}
    info.domain = domain_pairs(_spots(compiled), starts, rooms, always_open, info.length)
    if len(always_open) == len(rooms):  # every start with a room: the starts as they are (sorted)
        info.starts = starts if rooms else []
    else:
        info.starts = sorted({start for start, _ in info.domain})
    if meeting.preferred:  # else every start's end was worked out for nothing (1.5 M at 800 meetings)
        length = info.length
        info.preferred_starts = frozenset(start for start in info.starts if in_preferred(grid, meeting, start, length))
    if pin is not None:
        start, room_id = pin
        info.domain = [(start, next(rc.index for rc in compiled.classes for room in rc.rooms if room.id == room_id))]
        info.starts = [start]
    return info


def candidate_starts(compiled: Compiled, info: MeetingInfo) -> list[int]:
    """Starts allowed by the grid, earliest/latest and the pin (not by people)."""
    grid, meeting = compiled.grid, info.meeting
    starts = list(_fitting_starts(compiled, info.length))
    if meeting.earliest is not None or meeting.latest is not None:
        allowed = grid.within(meeting.earliest, meeting.latest)
        starts = [s for s in starts if allowed.issuperset(info.covers(s))]
    if meeting.pinned_start is not None:
        starts = [s for s in starts if s == info.pinned_start]
    return starts


def _spots(compiled: Compiled) -> list[list[tuple[int, int]]]:
    """The shared (start, class) pairs (solver/spots.py), made once."""
    table: list[list[tuple[int, int]]] | None = compiled.derived.get("spots")
    if table is None:
        table = compiled.derived["spots"] = spot_table(compiled.grid.size, len(compiled.classes))
    return table


def _fitting_starts(compiled: Compiled, length: int) -> tuple[int, ...]:
    """Starts from which `length` slots stay inside one day, found once per length
    (UNGA: 1,100 meetings of two lengths, 180 slots)."""
    fitting: dict[int, tuple[int, ...]] = compiled.derived.setdefault("fitting_starts", {})
    found = fitting.get(length)
    if found is None:
        found = fitting[length] = tuple(compiled.grid.fitting_starts(length))
    return found


def feasible_starts(compiled: Compiled, info: MeetingInfo) -> list[int]:
    """Candidate starts at which every attendee is available throughout.
    Through the runs of slots free to all: a set of covered slots per start
    took half the compiling of an 800-meeting OptaPlanner file."""
    size = compiled.grid.size
    everyone = frozenset(range(size)).intersection(*(compiled.available[p] for p in info.people))
    free_run = [0] * (size + 1)  # slots free to all from this one on, without a gap
    for slot in range(size - 1, -1, -1):
        if slot in everyone:
            free_run[slot] = free_run[slot + 1] + 1
    return [start for start in candidate_starts(compiled, info) if free_run[start] >= info.length]


def suitable_classes(compiled: Compiled, meeting: Meeting) -> list[RoomClass]:
    """Room classes with the seats, features, venue and pin the meeting needs."""
    seats = meeting.seats if meeting.seats is not None else len(attendees(compiled.problem, meeting))
    required = set(meeting.features)
    return [
        room_class
        for room_class in compiled.classes
        if room_class.seats >= seats
        and required <= room_class.features
        and (not meeting.venues or room_class.venue in meeting.venues)
        and (meeting.pinned_room is None or meeting.pinned_room in {r.id for r in room_class.rooms})
    ]


def in_preferred(grid: TimeGrid, meeting: Meeting, start: int, length: int) -> bool:
    """True when the meeting starting at `start` lies inside a preferred window."""
    begin, end = grid.starts[start], grid.end_of(start, length)
    return any(grid.local(window.start) <= begin and end <= grid.local(window.end) for window in meeting.preferred)
