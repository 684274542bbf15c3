"""The greedy baseline: what event platforms do, and the CP-SAT warm start.

Meetings are taken one at a time, most important first, and each gets the
earliest start at which every hard rule of docs/rules.md holds together with
the meetings already placed, in the smallest room that fits. A meeting that
fits nowhere is left out; it is never revisited.

The static rules (availability, sessions, room fit, windows, pins) are already
in each meeting's domain (solver/compile.py); the dynamic ones are checked
here against per-slot occupancy, so placing a meeting costs time in its own
domain and its attendees' few meetings, never a scan over all meetings.

`objective.break_spread_limit` is NOT enforced: it depends on the whole
schedule, not on one meeting at a time. The engine checks the result against
it and discards the baseline when it does not hold.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter

from solver.compile import Compiled, MeetingInfo
from solver.model import PRIORITIES, KeepApart, Room
from solver.terms import Assignment

OrderKey = tuple[int, int, str]  # (priority rank, static options, meeting id)


def greedy_assign(compiled: Compiled, kept: Assignment | None = None) -> Assignment:
    """Meeting id -> (start slot, room id) for every meeting greedy could place.

    Order: priority (must, high, normal, low), then fewest static options
    (len(info.domain)), then meeting id; a predecessor (`after`) of the same
    priority goes just before its successor. For each meeting: the earliest
    feasible start, and there the room with fewest seats, then lowest id.
    Meetings in `kept` (a re-solve's unbroken grid) are booked first, where they are.
    """
    ledger = Ledger(compiled)
    rooms = {room.id: room for room in compiled.problem.rooms}
    assignment: Assignment = {}
    for meeting_id, (start, room_id) in (kept or {}).items():
        ledger.book(compiled.by_id[meeting_id], start, rooms[room_id])
        assignment[meeting_id] = (start, room_id)
    for info in placement_order(compiled):
        if info.id in assignment:
            continue
        choice = first_fit(ledger, info)
        if choice is not None:
            start, room = choice
            ledger.book(info, start, room)
            assignment[info.id] = (start, room.id)
    return assignment


def placement_order(compiled: Compiled) -> list[MeetingInfo]:
    """Meetings in the order greedy places them.

    Predecessors are pulled forward only within a priority level: pulling a
    low predecessor ahead of a must successor could let it take the must
    meeting's only slot, and precedence binds only when both are held. Across
    levels the rule is still enforced, in whichever order they are placed.
    """
    own = {info.id: _own_key(info) for info in compiled.meetings}
    successors = _same_level_successors(compiled)
    urgency = _inherited_keys(compiled, own, successors)
    waiting = {info.id: 0 for info in compiled.meetings}
    for followers in successors.values():
        for follower in followers:
            waiting[follower] += 1
    ready = [(urgency[m], own[m], m) for m, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[MeetingInfo] = []
    while len(order) < len(compiled.meetings):
        if not ready:  # a precedence cycle (unchecked input): break it at the most urgent meeting
            stuck = min((urgency[m], own[m], m) for m, count in waiting.items() if count > 0)
            waiting[stuck[2]] = 0
            ready.append(stuck)
        _, _, meeting_id = heapq.heappop(ready)
        if waiting.pop(meeting_id, None) is None:
            continue  # already placed in the order by a cycle break
        order.append(compiled.by_id[meeting_id])
        for follower in successors[meeting_id]:
            if follower in waiting:
                waiting[follower] -= 1
                if waiting[follower] == 0:
                    heapq.heappush(ready, (urgency[follower], own[follower], follower))
    return order


def _own_key(info: MeetingInfo) -> OrderKey:
    return (PRIORITIES.index(info.meeting.priority), len(info.domain), info.id)


def _same_level_successors(compiled: Compiled) -> dict[str, list[str]]:
    successors: dict[str, list[str]] = {info.id: [] for info in compiled.meetings}
    for info in compiled.meetings:
        for earlier_id in info.meeting.after:
            earlier = compiled.by_id.get(earlier_id)
            if earlier is not None and earlier.meeting.priority == info.meeting.priority:
                successors[earlier_id].append(info.id)
    return successors


def _inherited_keys(
    compiled: Compiled, own: dict[str, OrderKey], successors: dict[str, list[str]]
) -> dict[str, OrderKey]:
    """Each meeting's key lowered to that of its most urgent same-level successor,
    so a chain is placed when its most constrained member's turn comes."""
    predecessors: dict[str, list[str]] = {info.id: [] for info in compiled.meetings}
    for earlier, followers in successors.items():
        for follower in followers:
            predecessors[follower].append(earlier)
    try:
        order = list(TopologicalSorter(predecessors).static_order())
    except CycleError:  # unchecked input; placement_order breaks the cycle
        return dict(own)
    urgency = dict(own)
    for meeting_id in reversed(order):  # every successor is final before its predecessors
        for follower in successors[meeting_id]:
            urgency[meeting_id] = min(urgency[meeting_id], urgency[follower])
    return urgency


def first_fit(ledger: Ledger, info: MeetingInfo) -> tuple[int, Room] | None:
    """The earliest feasible start and, there, the smallest free room."""
    for start, class_indices in by_start(info.domain):
        if not ledger.people_and_order_allow(info, start):
            continue
        for room in ledger.rooms_of(class_indices):
            if ledger.room_allows(info, start, room) and ledger.gaps_allow(info, start, room.venue):
                return start, room
    return None


def by_start(domain: list[tuple[int, int]]) -> Iterator[tuple[int, tuple[int, ...]]]:
    """Each start of the domain, earliest first, with its classes in the domain's order.

    compile builds a domain start by start, so such a domain is read as it
    stands, only as far as `first_fit` needs (grouping every pair first took
    2.4 s of greedy's 2.7 on an 800-meeting OptaPlanner file, 6.3 M pairs);
    a domain in any other order is grouped whole."""
    if _start_by_start(domain):
        yield from _runs(domain)
    else:
        yield from sorted(_first_seen(domain).items())


def classes_by_start(domain: list[tuple[int, int]]) -> dict[int, tuple[int, ...]]:
    """Each start of the domain with its classes, the starts in the order they first appear."""
    return dict(_runs(domain)) if _start_by_start(domain) else _first_seen(domain)


def _start_by_start(domain: list[tuple[int, int]]) -> bool:
    """The starts never go down from one pair to the next."""
    previous = -1
    for start, _ in domain:
        if start < previous:
            return False
        previous = start
    return True


def _runs(domain: list[tuple[int, int]]) -> Iterator[tuple[int, tuple[int, ...]]]:
    """The runs of pairs with one start, of a domain that goes start by start. Equal
    class tuples are one object: most starts of a meeting have the same classes,
    and the local search keeps them for every meeting (2.3 M at 800 meetings)."""
    index, size = 0, len(domain)
    shared: dict[tuple[int, ...], tuple[int, ...]] = {}
    while index < size:
        start = domain[index][0]
        classes: list[int] = []
        while index < size and domain[index][0] == start:
            classes.append(domain[index][1])
            index += 1
        found = tuple(classes)
        yield start, shared.setdefault(found, found)


def _first_seen(domain: list[tuple[int, int]]) -> dict[int, tuple[int, ...]]:
    grouped: dict[int, list[int]] = defaultdict(list)
    for start, class_index in domain:
        grouped[start].append(class_index)
    return {start: tuple(classes) for start, classes in grouped.items()}


@dataclass(frozen=True)
class Booking:
    """A placed meeting as one attendee's day sees it."""

    start: int
    end: int  # first slot after the meeting
    venue: str | None


class Ledger:
    """What the meetings placed so far occupy, slot by slot."""

    def __init__(self, compiled: Compiled) -> None:
        size = compiled.grid.size
        problem = compiled.problem
        self.compiled = compiled
        self.placed: dict[str, tuple[int, int]] = {}  # meeting id -> (start, end)
        self.person_busy = {person: bytearray(size) for person in compiled.people}
        self.person_day: dict[tuple[str, int], list[Booking]] = defaultdict(list)
        self.room_busy = {room.id: bytearray(size) for room in problem.rooms}
        self.resource_used = {resource.id: [0] * size for resource in problem.resources}
        self.capacity = {resource.id: resource.capacity for resource in problem.resources}
        # Delegations of the meeting ending / starting in (room, slot boundary), for keep-apart.
        self.ending_in: dict[tuple[str, int], frozenset[str]] = {}
        self.starting_in: dict[tuple[str, int], frozenset[str]] = {}
        self.successors: dict[str, list[str]] = defaultdict(list)
        for info in compiled.meetings:
            for earlier in info.meeting.after:
                self.successors[earlier].append(info.id)
        self.room_order: dict[tuple[int, ...], list[Room]] = {}
        # No buffer or travel is this long: a gap at least this wide needs no look at either.
        self.widest_gap = max([*compiled.buffer_slots.values(), *compiled.travel_slots.values(), 0])

    def rooms_of(self, class_indices: tuple[int, ...]) -> list[Room]:
        """The concrete rooms of these classes, fewest seats first, then by id."""
        if class_indices not in self.room_order:
            classes = self.compiled.classes
            rooms = [room for index in class_indices for room in classes[index].rooms]
            self.room_order[class_indices] = sorted(rooms, key=lambda room: (room.seats, room.id))
        return self.room_order[class_indices]

    def people_and_order_allow(self, info: MeetingInfo, start: int) -> bool:
        """The rules that do not depend on the room: overlap, daily limit,
        precedence and resources."""
        return self._attendees_free(info, start) and self.order_allows(info, start)

    def order_allows(self, info: MeetingInfo, start: int) -> bool:
        """`people_and_order_allow` for a start where the attendees are known to be free."""
        return (
            self._under_daily_limits(info, start)
            and self._precedence_holds(info, start)
            and self._resources_suffice(info, start)
        )

    def _attendees_free(self, info: MeetingInfo, start: int) -> bool:
        end = start + info.length
        return not any(any(self.person_busy[person][start:end]) for person in info.people)

    def _under_daily_limits(self, info: MeetingInfo, start: int) -> bool:
        day = self.compiled.grid.day_of_slot[start]
        for person in info.people:
            limit = self.compiled.people[person].max_meetings_per_day
            if limit is not None and len(self.person_day[(person, day)]) >= limit:
                return False
        return True

    def _precedence_holds(self, info: MeetingInfo, start: int) -> bool:
        for earlier in info.meeting.after:
            if earlier in self.placed and self.placed[earlier][1] > start:
                return False
        end = start + info.length
        return all(later not in self.placed or end <= self.placed[later][0] for later in self.successors[info.id])

    def _resources_suffice(self, info: MeetingInfo, start: int) -> bool:
        for resource, amount in _resource_amounts(info).items():
            used, limit = self.resource_used[resource], self.capacity[resource]
            if any(used[slot] + amount > limit for slot in info.covers(start)):
                return False
        return True

    def room_allows(self, info: MeetingInfo, start: int, room: Room) -> bool:
        end = start + info.length
        return not any(self.room_busy[room.id][start:end]) and self.kept_apart(info, start, room.id)

    def kept_apart(self, info: MeetingInfo, start: int, room: str) -> bool:
        """No keep-apart pair meets back to back with this meeting in `room`."""
        pairs = self.compiled.problem.keep_apart
        if not pairs:
            return True
        end = start + info.length
        days = self.compiled.grid.day_of_slot
        before = self.ending_in.get((room, start)) if start > 0 and days[start - 1] == days[start] else None
        after = self.starting_in.get((room, end)) if end < len(days) and days[end - 1] == days[end] else None
        if before is None and after is None:  # most rooms, most starts: nothing back to back
            return True
        own = frozenset(info.delegations)
        return not (
            (before is not None and _clash(pairs, before, own)) or (after is not None and _clash(pairs, own, after))
        )

    def gaps_allow(self, info: MeetingInfo, start: int, venue: str | None) -> bool:
        """Buffer and travel against each attendee's other meetings that day."""
        end = start + info.length
        day = self.compiled.grid.day_of_slot[start]
        gap_needed, widest = self.compiled.gap_needed, self.widest_gap
        for person in info.people:
            for other in self.person_day[(person, day)]:
                if other.end <= start:
                    gap = start - other.end
                    if gap < widest and gap < gap_needed(person, other.venue, venue):
                        return False
                elif other.start >= end:
                    gap = other.start - end
                    if gap < widest and gap < gap_needed(person, venue, other.venue):
                        return False
        return True

    def book(self, info: MeetingInfo, start: int, room: Room) -> None:
        end = start + info.length
        day = self.compiled.grid.day_of_slot[start]
        self.placed[info.id] = (start, end)
        for person in info.people:
            self.person_busy[person][start:end] = b"\x01" * info.length
            self.person_day[(person, day)].append(Booking(start, end, room.venue))
        self.room_busy[room.id][start:end] = b"\x01" * info.length
        for resource, amount in _resource_amounts(info).items():
            used = self.resource_used[resource]
            for slot in info.covers(start):
                used[slot] += amount
        self.ending_in[(room.id, end)] = frozenset(info.delegations)
        self.starting_in[(room.id, start)] = frozenset(info.delegations)

    def unbook(self, info: MeetingInfo, start: int, room: Room) -> None:
        """Undo `book` (the fit search tries a grid without one meeting, then restores it)."""
        end = start + info.length
        day = self.compiled.grid.day_of_slot[start]
        del self.placed[info.id]
        for person in info.people:
            self.person_busy[person][start:end] = bytes(info.length)
            bookings = self.person_day[(person, day)]
            # By start: a person's meetings do not overlap, and comparing whole
            # Bookings (`list.remove`) took most of this method's time.
            del bookings[next(index for index, booking in enumerate(bookings) if booking.start == start)]
        self.room_busy[room.id][start:end] = bytes(info.length)
        for resource, amount in _resource_amounts(info).items():
            used = self.resource_used[resource]
            for slot in info.covers(start):
                used[slot] -= amount
        del self.ending_in[(room.id, end)]
        del self.starting_in[(room.id, start)]


def _resource_amounts(info: MeetingInfo) -> dict[str, int]:
    amounts: dict[str, int] = defaultdict(int)
    for use in info.meeting.resources:
        amounts[use.resource] += use.amount
    return amounts


def _clash(pairs: list[KeepApart], ending: frozenset[str], starting: frozenset[str]) -> bool:
    """True when a keep-apart pair has one side (without the other) in the
    ending meeting and the other side (without the first) in the starting one."""
    for pair in pairs:
        for one, other in (pair.delegations, pair.delegations[::-1]):
            if one in ending and other not in ending and other in starting and one not in starting:
                return True
    return False
