"""A second start for a forum whose local search keeps one participant's break.

Measured on Shangri-La (docs/engine.md, fifth session): every run of the local
search ended with the US minister's break. A pinned meeting at 10:30 on
Saturday leaves him no way to continue his day after it, and his meetings with
their buffers must then fill the rest of his break-free time almost exactly;
no sequence of single moves reaches such a packing from a grid that uses his
Saturday afternoon. So:

1. the plain search runs first and tallies who keeps a break; where someone's
   meetings need all the time they can use without a break, or more
   (`pressure`, AT_ONCE_PRESSURE), it is skipped: no single move mends them;
2. when one participant has a break at nearly every look, a small CP-SAT model
   packs the meetings of that participant and of their close partners (those
   sharing CLOSE_PARTNER meetings or more with them; packing the minister
   alone only moved the break to them) without a break for any of these
   people, checking the rules among these meetings only (attendees, rooms,
   travel, resources, order), in well under a second;
3. greedy builds the grid around that packing, and the local search starts
   from it with those people's breaks weighted (so it mends other days rather
   than undoing the packing), every meeting held to its preferred windows
   where it has some (the optimum there misses none), and the packed
   meetings to their main venue;
4. an attempt that has not reached the floor by half the focused time gives
   way to a second from another packing and seed (ATTEMPTS): a failed attempt
   stays stuck, and since the search was compiled an attempt succeeds within
   about 2 s or not at all (docs/engine.md, fifteenth session).

The cheaper grid of the two by the true objective is kept, so this never
returns worse than the plain search did (nor, when it focuses at once, worse
than the grid it started from). solver/large.py does not use it on
the largest forums (UNGA), where breaks are spread over dozens of participants.
"""

from __future__ import annotations

import dataclasses
import math
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable

from ortools.sat.python import cp_model

from solver.compile import Compiled, MeetingInfo
from solver.greedy import Ledger, greedy_assign
from solver.localsearch import Costs, LocalSearchResult, improve
from solver.objective.break_clauses import one_worker
from solver.terms import Assignment, breaks_by_person, total_cost

PLAIN_SHARE = 0.2  # of the time, for the plain search that finds who stays broken
FOCUS_MIN_SECONDS = 2.0  # with less time the plain search keeps all of it
AT_ONCE_PRESSURE = 1.0  # a pressure at which the person is focused on from the start (`pressed_person`)
STUCK_SHARE = 0.9  # broken at this share of the plain search's looks, or more
CLOSE_PARTNER = 3  # meetings shared with the focus participant that put a partner in the packing
PENALTY = 5  # extra breaks' weight on each break of the packed people
PACKING_SECONDS = 2.0  # a cap: a packing solve takes 0.3-0.5 s at Shangri-La (its model 0.25 s more, once)
ATTEMPTS = 2  # focused attempts, each from its own packing and seed, sharing the focused time
ATTEMPT_SEED_STEP = 1_000  # between the seeds of successive attempts
CROWDING = 35  # weight of a start's crowding (1.0: the mean slot's) in the packing's objective, beside 0-20
PACKING_STARTS = 5_000  # the packing model's size cap (Shangri-La's circle: 2,125 starts of 26 meetings)

Starts = dict[int, dict[int, cp_model.IntVar]]  # meeting index -> start -> literal


def search(
    compiled: Compiled,
    start: Assignment,
    deadline: float,
    seed: int,
    stop: threading.Event | None,
    floor: int,
) -> Assignment:
    """The best grid found by `deadline` (perf_counter seconds): the plain
    local search, then, where one participant stays broken, a focused one."""
    now = time.perf_counter()
    if deadline - now < FOCUS_MIN_SECONDS:
        return improve(compiled, start, deadline, seed, stop, floor).assignment
    pressed = pressed_person(compiled)
    if pressed is not None and (found := focused_search(compiled, pressed, deadline, seed, stop, floor)) is not None:
        return found if total_cost(compiled, found) < total_cost(compiled, start) else start
    plain = improve(compiled, start, now + PLAIN_SHARE * (deadline - now), seed, stop, floor)
    best, best_cost = plain.assignment, total_cost(compiled, plain.assignment)
    if best_cost <= floor or (stop is not None and stop.is_set()):
        return best
    person = focus_person(compiled, plain)
    found = focused_search(compiled, person, deadline, seed, stop, floor) if person is not None else None
    if found is None:  # nobody to focus on, or no packing: the plain search goes on
        found = improve(compiled, best, deadline, seed, stop, floor).assignment
    return found if total_cost(compiled, found) < best_cost else best


def focus_person(compiled: Compiled, plain: LocalSearchResult) -> str | None:
    """The participant the plain search could not mend, if there is one: of
    those with a break at the end and at nearly every look, the one whose
    meetings fill most of the time they can use without a break."""
    broken = [person for person, count in breaks_by_person(compiled, plain.assignment).items() if count]
    stuck = [person for person in broken if plain.stuck.get(person, 0.0) >= STUCK_SHARE]
    if not stuck:
        return None
    costs = Costs(compiled)
    return max(stuck, key=lambda person: (pressure(compiled, person, costs), person))


def pressed_person(compiled: Compiled) -> str | None:
    """The participant under the most pressure, if it is AT_ONCE_PRESSURE or
    more: their meetings fill all the time they can use without a break (or
    more than that, where a day's last buffer may run into a plenary), so only
    a packing that fits them exactly keeps them whole, which the plain search
    does not reach (Shangri-La's US minister, 1.02; nobody else in the scenarios
    passes 0.7).
    The plain phase would only find them again, at a fifth of the time."""
    costs = Costs(compiled)
    people = {person for info in compiled.meetings if info.domain for person in info.people}
    scored = [(pressure(compiled, person, costs), person) for person in people]
    if not scored:
        return None
    most, person = max(scored)
    return person if most >= AT_ONCE_PRESSURE else None


def pressure(compiled: Compiled, person: str, costs: Costs) -> float:
    """The slots the person's meetings and buffers take, over the counted slots
    they could use without a break. A pinned meeting that nothing can follow
    (its idle time meets a plenary before any meeting fits) ends its day
    there, and one that nothing can precede starts it: the slots beyond are
    not usable. (That is the US minister's Saturday at Shangri-La.)"""
    theirs = [info for info in compiled.meetings_of(person) if info.domain]
    buffer = compiled.buffer_slots.get(person, 0)
    needed = sum(info.length + buffer for info in theirs)
    usable = set(compiled.available[person])
    for pinned in theirs:
        if pinned.pinned_start is not None:
            usable -= _cut_off(compiled, costs, person, pinned, theirs)
    return needed / max(1, len(usable))


def _cut_off(compiled: Compiled, costs: Costs, person: str, pinned: MeetingInfo, theirs: list[MeetingInfo]) -> set[int]:
    """Slots of the pinned meeting's day that a break-free day cannot reach:
    those after it when no other meeting can follow it without a break, those
    before it when none can precede it (the break rule is `Costs.gap_is_break`)."""
    grid = compiled.grid
    start = pinned.pinned_start
    assert start is not None
    day = grid.day_of_slot[start]
    slots = grid.day_ranges[day]
    buffer = compiled.buffer_slots.get(person, 0)
    end = start + pinned.length
    others = [info for info in theirs if info is not pinned]
    same_day = [(begin, info) for info in others for begin in info.starts if grid.day_of_slot[begin] == day]
    cut: set[int] = set()
    if not any(begin >= end + buffer and not costs.gap_is_break(person, end, begin) for begin, _ in same_day):
        cut.update(range(end, slots.stop))
    if not any(
        begin + info.length + buffer <= start and not costs.gap_is_break(person, begin + info.length, start)
        for begin, info in same_day
    ):
        cut.update(range(slots.start, start))
    return cut


def close_circle(compiled: Compiled, person: str) -> list[str]:
    """`person` and the partners who share CLOSE_PARTNER of their meetings or more."""
    shared: Counter[str] = Counter()
    for info in compiled.meetings_of(person):
        shared.update(other for other in info.people if other != person)
    return [person, *sorted(other for other, count in shared.items() if count >= CLOSE_PARTNER)]


def focused_search(
    compiled: Compiled, person: str, deadline: float, seed: int, stop: threading.Event | None, floor: int
) -> Assignment | None:
    """Steps 2 to 4 of the module docstring: the best grid of the attempts, by
    the true objective; None when the first attempt finds no packing."""
    narrowed = preferred_only(compiled)
    people = close_circle(narrowed, person)
    if packing_size(narrowed, people) > PACKING_STARTS:
        people = [person]  # a circle too large to pack quickly (OptaPlanner's files: 38 people)
    if packing_size(narrowed, people) > PACKING_STARTS:
        return None
    narrowed = at_main_venues(narrowed, people)
    begin, best, best_cost = time.perf_counter(), None, math.inf
    packer = Packer(narrowed, people)
    for attempt in range(ATTEMPTS):
        attempt_seed = seed + ATTEMPT_SEED_STEP * attempt
        starts = packer.pack(attempt_seed)
        if starts is None:
            break
        start = greedy_assign(narrowed, book(narrowed, starts))
        end = begin + (deadline - begin) * (attempt + 1) / ATTEMPTS
        penalty = dict.fromkeys(people, PENALTY)
        found = improve(narrowed, start, end, attempt_seed, stop, floor, penalty=penalty).assignment
        if (cost := total_cost(narrowed, found)) < best_cost:
            best, best_cost = found, cost
        if best_cost <= floor or (stop is not None and stop.is_set()):
            break
    return best


def packing_size(compiled: Compiled, people: list[str]) -> int:
    """Start literals of the packing of these people's meetings."""
    return sum(len(info.starts) for info in compiled.meetings if set(people).intersection(info.people))


def preferred_only(compiled: Compiled) -> Compiled:
    """The same forum with each meeting's starts cut to its preferred windows
    (where it has some there). Every grid of it is a grid of the original."""

    def preferred(info: MeetingInfo) -> list[tuple[int, int]]:
        if not info.meeting.preferred:
            return info.domain
        return [(start, room_class) for start, room_class in info.domain if start in info.preferred_starts]

    return _narrowed(compiled, preferred)


def at_main_venues(compiled: Compiled, people: list[str]) -> Compiled:
    """The same forum with the meetings of `people` held to the venue where
    most of their rooms are (so the packing knows where each one is)."""

    def main_venue_only(info: MeetingInfo) -> list[tuple[int, int]]:
        if not set(people).intersection(info.people) or not info.domain:
            return info.domain
        venue = Counter(compiled.classes[room_class].venue for _, room_class in info.domain).most_common(1)[0][0]
        return [(start, room_class) for start, room_class in info.domain if compiled.classes[room_class].venue == venue]

    return _narrowed(compiled, main_venue_only)


def _narrowed(compiled: Compiled, cut: Callable[[MeetingInfo], list[tuple[int, int]]]) -> Compiled:
    """A copy with each meeting's domain cut, where the cut leaves it any start."""
    meetings: list[MeetingInfo] = []
    for info in compiled.meetings:
        domain = cut(info)
        if domain and domain != info.domain:
            info = dataclasses.replace(info, domain=domain, starts=sorted({start for start, _ in domain}))
        meetings.append(info)
    return dataclasses.replace(compiled, meetings=meetings, by_id={info.id: info for info in meetings})


def book(compiled: Compiled, starts: dict[str, int]) -> Assignment:
    """Book each meeting at its start, in time order, where a room and the
    ledger's checks allow (the packing checked the same rules, so all fit)."""
    ledger = Ledger(compiled)
    kept: Assignment = {}
    for meeting_id, start in sorted(starts.items(), key=lambda item: (item[1], item[0])):
        info = compiled.by_id[meeting_id]
        if not ledger.people_and_order_allow(info, start):
            continue
        for room in ledger.rooms_of(tuple(sorted(_classes_at(info)[start]))):
            if ledger.room_allows(info, start, room) and ledger.gaps_allow(info, start, room.venue):
                ledger.book(info, start, room)
                kept[info.id] = (start, room.id)
                break
    return kept


class Packer:
    """The packing model of some people's meetings, built once and solved once
    per attempt: building it takes about as long as solving it (Shangri-La's
    circle, sixteenth session: 0.25 s of Python), and only the seed and the
    random objective differ between attempts."""

    def __init__(self, compiled: Compiled, people: list[str]) -> None:
        self.compiled, self.people = compiled, people
        mine = [info for info in compiled.meetings if set(people).intersection(info.people) and info.domain]
        self.model: cp_model.CpModel | None = None
        self.starts: Starts = {}
        self.price: dict[tuple[int, int], int] = {}  # (meeting index, start) -> its crowding term
        if len(mine) < 2:
            return
        model = cp_model.CpModel()
        starts: Starts = {info.index: {start: model.new_bool_var("") for start in info.starts} for info in mine}
        for literals in starts.values():
            model.add_exactly_one(literals.values())
        for attendee in sorted({attendee for info in mine for attendee in info.people}):
            theirs = [info for info in mine if attendee in info.people]
            _one_at_a_time(compiled, model, attendee, theirs, starts)
            _travel(compiled, model, attendee, theirs, starts)
        costs = Costs(compiled)
        for person in people:
            _one_run_a_day(compiled, costs, model, person, [info for info in mine if person in info.people], starts)
        _rooms(compiled, model, mine, starts)
        _resources(compiled, model, mine, starts)
        _order(compiled, model, mine, starts)
        self.model, self.starts = model, starts
        demand = crowding(compiled, {info.index for info in mine})
        self.price = {
            (info.index, start): round(CROWDING * sum(demand[slot] for slot in info.covers(start)) / info.length)
            for info in mine
            for start in info.starts
        }

    def pack(self, seed: int) -> dict[str, int] | None:
        """meeting id -> start for every meeting of the people, none of them
        with a break, the rules kept among these meetings; None if none was
        found in PACKING_SECONDS. The first packing found is taken; the seed
        and a random objective vary it. The objective's crowding term makes
        the slots the other meetings want most dearer; CP-SAT's first
        solution follows the objective only loosely, but at Shangri-La it
        moved the packings off Friday and Saturday towards Sunday, and the
        attempts from them succeeded more often (157 of 240 against 202 of
        360; docs/engine.md, seventeenth session)."""
        if self.model is None:
            return None
        rng = random.Random(seed)
        self.model.minimize(
            sum(
                (rng.randint(0, 20) + self.price[(index, start)]) * literal
                for index, by_start in self.starts.items()
                for start, literal in by_start.items()
            )
        )
        # Without CP-SAT's SIGINT handler: a Ctrl-C during the packing reaches the
        # CLI's handler once the solve returns and sets `stop`; CP-SAT's own would
        # only end the packing, and the search after it would run to its deadline.
        solver = one_worker(PACKING_SECONDS, seed)
        solver.parameters.stop_after_first_solution = True  # any packing will do; the seed varies it
        # The model is small and its first solution is all we want: presolve and
        # the LP relaxation took most of the time (Shangri-La's circle, seeds 0-4:
        # 0.63-0.84 s with them, 0.27-0.28 s without; docs/engine.md "Tenth session").
        solver.parameters.cp_model_presolve = False
        solver.parameters.linearization_level = 0
        if solver.solve(self.model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        return {
            self.compiled.meetings[index].id: next(
                start for start, literal in by_start.items() if solver.boolean_value(literal)
            )
            for index, by_start in self.starts.items()
        }


def crowding(compiled: Compiled, packed: set[int]) -> dict[int, float]:
    """slot -> how much the meetings outside the packing want it, relative to
    the mean slot of the grid: each spreads one unit evenly over its starts,
    and a start counts for every slot it covers. At Shangri-La Saturday's
    slots are the most wanted and Sunday's the least."""
    demand: dict[int, float] = defaultdict(float)
    for info in compiled.meetings:
        if info.index in packed or not info.starts:
            continue
        share = 1.0 / len(info.starts)
        for start in info.starts:
            for slot in info.covers(start):
                demand[slot] += share
    mean = sum(demand.values()) / max(1, compiled.grid.size)
    return defaultdict(float, {slot: wanted / mean for slot, wanted in demand.items()}) if mean else demand


def _classes_at(info: MeetingInfo) -> dict[int, frozenset[int]]:
    """start -> the room classes the meeting may use there."""
    classes: dict[int, set[int]] = defaultdict(set)
    for start, room_class in info.domain:
        classes[start].add(room_class)
    return {start: frozenset(found) for start, found in classes.items()}


def _venue(compiled: Compiled, info: MeetingInfo) -> str | None:
    """The meeting's venue: one each, once at_main_venues has cut the domains."""
    return compiled.classes[info.domain[0][1]].venue


def _one_at_a_time(
    compiled: Compiled, model: cp_model.CpModel, attendee: str, theirs: list[MeetingInfo], starts: Starts
) -> None:
    """The attendee in one of these meetings at a time, buffers included (never past the day's end)."""
    grid = compiled.grid
    buffer = compiled.buffer_slots.get(attendee, 0)
    covering: dict[int, list[cp_model.IntVar]] = defaultdict(list)
    for info in theirs:
        for start, literal in starts[info.index].items():
            day_end = grid.day_ranges[grid.day_of_slot[start]].stop
            for slot in range(start, min(start + info.length + buffer, day_end)):
                covering[slot].append(literal)
    for literals in covering.values():
        if len(literals) > 1:
            model.add_at_most_one(literals)


def _travel(
    compiled: Compiled, model: cp_model.CpModel, attendee: str, theirs: list[MeetingInfo], starts: Starts
) -> None:
    """Two meetings at different venues the same day leave the attendee time to travel."""
    day_of = compiled.grid.day_of_slot
    for first in theirs:
        for second in theirs:
            venue_a, venue_b = _venue(compiled, first), _venue(compiled, second)
            if first.index >= second.index or venue_a == venue_b:
                continue
            after_a = first.length + compiled.gap_needed(attendee, venue_a, venue_b)
            after_b = second.length + compiled.gap_needed(attendee, venue_b, venue_a)
            for start_a, literal_a in starts[first.index].items():
                for start_b, literal_b in starts[second.index].items():
                    close = start_b < start_a + after_a and start_a < start_b + after_b
                    if close and day_of[start_a] == day_of[start_b]:
                        model.add_bool_or([~literal_a, ~literal_b])


def _one_run_a_day(
    compiled: Compiled,
    costs: Costs,
    model: cp_model.CpModel,
    person: str,
    theirs: list[MeetingInfo],
    starts: Starts,
) -> None:
    """No break: each meeting of a day is that day's first, or starts right
    after another one's end and buffer (idle slots between that count for
    nothing, such as a plenary the person attends, allowed; travel respected).
    At most one first a day."""
    grid = compiled.grid
    buffer = compiled.buffer_slots.get(person, 0)
    # Keyed by day too: a meeting whose end and buffer reach the next day's
    # first slot does not precede the meeting there (it did before the tenth
    # session, and about one packing in six had a break).
    idle_from: dict[tuple[int, int, int], list[cp_model.IntVar]] = defaultdict(list)
    for info in theirs:
        for start, literal in starts[info.index].items():
            idle_from[(info.index, start + info.length + buffer, grid.day_of_slot[start])].append(literal)
    for day in range(len(grid.day_ranges)):
        firsts = []
        for info in theirs:
            today = {start: literal for start, literal in starts[info.index].items() if grid.day_of_slot[start] == day}
            if not today:
                continue
            first = model.new_bool_var("")
            model.add(first <= sum(today.values()))
            firsts.append(first)
            for start, literal in today.items():
                before = _predecessors(compiled, costs, person, info, start, theirs, idle_from)
                model.add_bool_or([~literal, first, *before])
        if len(firsts) > 1:
            model.add_at_most_one(firsts)


def _predecessors(
    compiled: Compiled,
    costs: Costs,
    person: str,
    info: MeetingInfo,
    start: int,
    theirs: list[MeetingInfo],
    idle_from: dict[tuple[int, int, int], list[cp_model.IntVar]],
) -> list[cp_model.IntVar]:
    """Literals of the person's other meetings that end just before `start`:
    no break between them by `Costs.gap_is_break` (their idle time, after the
    buffer, begins at `start` or earlier over uncounted slots only), and time
    to travel from their venue."""
    grid = compiled.grid
    day = grid.day_of_slot[start]
    day_start = grid.day_ranges[day].start
    buffer = compiled.buffer_slots.get(person, 0)
    found: list[cp_model.IntVar] = []
    for edge in range(start, day_start - 1, -1):  # where the earlier meeting's idle time begins
        if costs.gap_is_break(person, edge - buffer, start):
            break
        for other in theirs:
            travel = compiled.gap_needed(person, _venue(compiled, other), _venue(compiled, info))
            if other is not info and start - (edge - buffer) >= travel:
                found += idle_from.get((other.index, edge, day), [])
    return found


def _rooms(compiled: Compiled, model: cp_model.CpModel, mine: list[MeetingInfo], starts: Starts) -> None:
    """In each slot, the meetings that can only use some rooms are no more than those rooms (open then)."""
    covering: dict[int, list[tuple[frozenset[int], cp_model.IntVar]]] = defaultdict(list)
    for info in mine:
        classes_at = _classes_at(info)
        for start, literal in starts[info.index].items():
            for slot in info.covers(start):
                covering[slot].append((classes_at[start], literal))
    for slot, entries in covering.items():
        for allowed in {classes for classes, _ in entries}:
            literals = [literal for classes, literal in entries if classes <= allowed]
            rooms = sum(compiled.classes[index].size for index in allowed if slot in compiled.classes[index].open_slots)
            if len(literals) > rooms:
                model.add(sum(literals) <= rooms)


def _resources(compiled: Compiled, model: cp_model.CpModel, mine: list[MeetingInfo], starts: Starts) -> None:
    capacity = {resource.id: resource.capacity for resource in compiled.problem.resources}
    usage: dict[tuple[str, int], list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
    for info in mine:
        for use in info.meeting.resources:
            for start, literal in starts[info.index].items():
                for slot in info.covers(start):
                    usage[(use.resource, slot)].append((use.amount, literal))
    for (resource, _), entries in usage.items():
        if sum(amount for amount, _ in entries) > capacity[resource]:
            model.add(sum(amount * literal for amount, literal in entries) <= capacity[resource])


def _order(compiled: Compiled, model: cp_model.CpModel, mine: list[MeetingInfo], starts: Starts) -> None:
    """A meeting starts after the end of those it must follow, among these meetings."""
    for info in mine:
        for earlier_id in info.meeting.after:
            earlier = compiled.by_id[earlier_id]
            if earlier.index in starts:
                begins = sum(start * literal for start, literal in starts[info.index].items())
                ends = sum((start + earlier.length) * literal for start, literal in starts[earlier.index].items())
                model.add(begins >= ends)
