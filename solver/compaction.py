"""A break-compacting local search for B2B-shaped problems: a better hint for CP-SAT.

On the B2B benchmark every meeting is a hard one-slot must on a single day
and breaks are the whole objective. Greedy leaves some meetings out there
and its grid has many breaks, and CP-SAT starting from it stays far from
the published optima on the instances whose optimum is near zero. This
search starts from greedy's grid, moves one meeting to another (start, room
class), swaps the starts of two meetings that share an attendee, or places
a left-out meeting by leaving out what is in its way, and accepts by
simulated annealing on breaks plus penalties for left-out meetings and for
the spread limit. Its grid is only a hint: CP-SAT repairs or improves it,
and the answer is still checked against greedy's (docs/engine.md has the figures).

It applies only where its simple view of the rules is the whole set: every
meeting a hard must (so breaks are the whole objective), one slot long, with
a domain on one day and no preferred window, pin, precedence or previous
placement; no buffer, travel, daily limit, resource or keep-apart (each would
need checks this search does not make).
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import defaultdict
from itertools import pairwise

from solver.compile import Compiled, MeetingInfo
from solver.objective.break_windows import zero_break_hint
from solver.rooms import assign_rooms
from solver.terms import Assignment

SPREAD_PENALTY = 5  # breaks' worth of each unit by which the spread exceeds its limit
# The search gives up after this long without a better grid: on the B2B
# instances CP-SAT proves quickly, every second here is a second added.
STALL_SECONDS = 0.5
# The zero-break model settles every B2B instance but one in under a second
# (0.07-0.91 s, seed 0, on an AMD EPYC slower than the Xeon); on ticf-14crafa
# it found a grid in 9-14 s with seed 0 and none in 45 s with two other seeds,
# where the clauses that follow take 5-8 s: so a longer budget is time lost
# (ticf-14crafa in the engine: 11.8-12.1 s with 2.5 s, 14.4-14.9 s with 5 s).
ZERO_BREAK_SECONDS = 2.5
# The pattern floor settles forumt-14* in 0.2-0.4 s and tic-13crafc in 2.7-2.8 s
# (the LP of its minimisation, AMD EPYC). Cut short, it leaves tic-13crafc's
# floor low and the rungs climb from there: 18.6 s for the instance instead of
# 7.3 s. So it gets twice what the window model's share used to be.
PATTERN_FLOOR_SECONDS = 10.0
CLAUSE_SHARE = 0.9  # of the time limit, for a grid at the proven floor of breaks (break_windows.at_the_floor)
UNPLACED_PENALTY = 20  # breaks' worth of a meeting left out (greedy leaves some out on B2B)
# Past its seconds, how long the compaction after a floor search that found no grid
# goes on until its grid holds every meeting within the spread limit. That grid is
# then the answer should CP-SAT find none in what is left (forum-13crafb at 10 and
# 15 s, ticf-13crafb at 10 s had no grid at all before; docs/engine.md, nineteenth session).
SETTLE_SECONDS = 1.0


def applies(compiled: Compiled) -> bool:
    problem = compiled.problem
    if problem.keep_apart or problem.resources or not compiled.meetings or not problem.objective.must_is_hard:
        return False
    if any(compiled.buffer_slots.values()) or any(compiled.travel_slots.values()):
        return False
    if any(person.max_meetings_per_day is not None for person in compiled.people.values()):
        return False
    return all(_simple(compiled, info) for info in compiled.meetings)


def _simple(compiled: Compiled, info: MeetingInfo) -> bool:
    meeting = info.meeting
    if info.length != 1 or meeting.priority != "must" or meeting.after or info.preferred_starts:
        return False
    if info.pinned_start is not None or info.previous is not None:
        return False
    return len({compiled.grid.day_of_slot[start] for start in info.starts}) == 1


class _State:
    """Starts, room-class loads and each participant's busy slots, with breaks kept per participant."""

    def __init__(self, compiled: Compiled, assignment: Assignment) -> None:
        self.compiled = compiled
        class_of_room = {room.id: rc.index for rc in compiled.classes for room in rc.rooms}
        self.choice = {
            compiled.by_id[meeting_id].index: (start, class_of_room[room])
            for meeting_id, (start, room) in assignment.items()
        }
        self.load: dict[tuple[int, int], int] = defaultdict(int)
        self.domains = [set(info.domain) for info in compiled.meetings]
        # participant -> slot -> meetings there (a count: a swap passes through a double booking)
        self.busy: dict[str, dict[int, int]] = {person: defaultdict(int) for person in compiled.people}
        for index, (start, room_class) in self.choice.items():
            self.load[start, room_class] += 1
            for person in compiled.meetings[index].people:
                self.busy[person][start] += 1
        counts_all = compiled.problem.objective.breaks_count_unavailable
        self.counted = {person: None if counts_all else compiled.available[person] for person in compiled.people}
        self.breaks = {person: self._breaks_of(person) for person in compiled.people}
        self.limit = compiled.problem.objective.break_spread_limit

    def _breaks_of(self, person: str) -> int:
        slots = sorted(slot for slot, meetings in self.busy[person].items() if meetings)
        counted = self.counted[person]
        if counted is None:
            return sum(later - earlier > 1 for earlier, later in pairwise(slots))
        return sum(any(slot in counted for slot in range(earlier + 1, later)) for earlier, later in pairwise(slots))

    def cost(self) -> int:
        total = sum(self.breaks.values()) + UNPLACED_PENALTY * (len(self.compiled.meetings) - len(self.choice))
        return total + SPREAD_PENALTY * self.excess()

    def excess(self) -> int:
        """By how much the spread of breaks exceeds its limit (0 within it)."""
        if self.limit is None or not self.breaks:
            return 0
        return max(0, max(self.breaks.values()) - min(self.breaks.values()) - self.limit)

    def admissible(self) -> bool:
        """Every meeting placed, the spread within its limit: a grid that keeps every rule."""
        return len(self.choice) == len(self.compiled.meetings) and not self.excess()

    def free_for(self, index: int, start: int, ignoring: int | None = None) -> bool:
        """Every attendee of meeting `index` is idle at `start`, apart from this
        meeting itself and meeting `ignoring` (the partner of a swap)."""
        meetings = self.compiled.meetings
        for person in meetings[index].people:
            there = self.busy[person][start]
            there -= index in self.choice and self.choice[index][0] == start
            if ignoring is not None and self.choice[ignoring][0] == start and person in meetings[ignoring].people:
                there -= 1
            if there:
                return False
        return True

    def place(self, index: int, choice: tuple[int, int] | None) -> None:
        """Put meeting `index` at `choice`, or leave it out (None)."""
        old = self.choice.pop(index, None)
        if choice is not None:
            self.choice[index] = choice
        for chosen, step in ((old, -1), (choice, 1)):
            if chosen is None:
                continue
            self.load[chosen] += step
            for person in self.compiled.meetings[index].people:
                self.busy[person][chosen[0]] += step
        for person in self.compiled.meetings[index].people:
            self.breaks[person] = self._breaks_of(person)


def compact(
    compiled: Compiled,
    assignment: Assignment,
    seconds: float,
    seed: int = 0,
    stop: threading.Event | None = None,
    settle_seconds: float = 0.0,
) -> dict[int, tuple[int, int]]:
    """meeting index -> (start, room class) of the best grid found within `seconds`
    (the starting grid when nothing better turns up), or up to `settle_seconds`
    later while that grid is not yet admissible. A stop ends the search at once
    when its grid is admissible, else up to `settle_seconds` after the stop: a
    Ctrl-C during the floor search still hands in a grid (docs/engine.md,
    twentieth session)."""
    state = _State(compiled, assignment)
    rng = random.Random(seed)
    best_cost, best, settled = state.cost(), dict(state.choice), state.admissible()
    current = best_cost
    deadline = time.perf_counter() + max(0.0, seconds)  # an overrun limit leaves none, not less than none
    improved = time.perf_counter()
    stopped_at = math.inf
    temperature = 1.0
    while best_cost > 0:
        now = time.perf_counter()
        if stop is not None and stop.is_set():
            stopped_at = min(stopped_at, now)
        end = min(deadline, stopped_at) + (0.0 if settled else settle_seconds)
        if now >= end or now - improved >= STALL_SECONDS:
            break
        temperature = max(0.05, temperature * 0.9995)
        undo = _random_move(state, rng)
        if undo is None:
            continue
        candidate = state.cost()
        if candidate <= current or rng.random() < pow(2.718, (current - candidate) / temperature):
            current = candidate
            if current < best_cost:
                best_cost, best, improved = current, dict(state.choice), time.perf_counter()
                settled = state.admissible()
        else:
            for index, choice in reversed(undo):
                state.place(index, choice)
    return best


# What puts a move back: (meeting, its choice before the move; None when it was left out).
Undo = list[tuple[int, tuple[int, int] | None]]


def _random_move(state: _State, rng: random.Random) -> Undo | None:
    """Move a meeting to another allowed choice, or swap its start with the
    meeting that blocks it there, or place a left-out meeting by evicting what
    is in its way; returns the undo list."""
    compiled = state.compiled
    index = rng.randrange(len(compiled.meetings))
    info = compiled.meetings[index]
    choice = rng.choice(info.domain)
    current = state.choice.get(index)
    if choice == current:
        return None
    start, room_class = choice
    if state.free_for(index, start) and state.load[choice] < compiled.classes[room_class].size:
        state.place(index, choice)
        return [(index, current)]
    if current is None:
        return _evict(state, rng, index, choice)
    return _swap(state, rng, index, start)


def _evict(state: _State, rng: random.Random, index: int, choice: tuple[int, int]) -> Undo:
    """Place left-out meeting `index` at `choice`, leaving out the meetings it
    collides with (attendees, or one of a full room class)."""
    compiled = state.compiled
    start, room_class = choice
    people = set(compiled.meetings[index].people)
    in_way = {
        other
        for other, (other_start, _) in state.choice.items()
        if other_start == start and people & set(compiled.meetings[other].people)
    }
    if state.load[choice] - sum(state.choice[other] == choice for other in in_way) >= compiled.classes[room_class].size:
        there = [other for other, placed in state.choice.items() if placed == choice and other not in in_way]
        in_way.add(rng.choice(there))
    undo: Undo = [(other, state.choice[other]) for other in in_way]
    for other in in_way:
        state.place(other, None)
    state.place(index, choice)
    return [*undo, (index, None)]


def _swap(state: _State, rng: random.Random, index: int, start: int) -> Undo | None:
    """Exchange starts with a meeting at `start` that shares an attendee, each keeping its room class."""
    compiled = state.compiled
    own_start, own_class = state.choice[index]
    sharing = [
        other
        for other, (other_start, _) in state.choice.items()
        if other_start == start and set(compiled.meetings[other].people) & set(compiled.meetings[index].people)
    ]
    if len(sharing) != 1:
        return None
    other = sharing[0]
    other_class = state.choice[other][1]
    if (start, own_class) not in state.domains[index] or (own_start, other_class) not in state.domains[other]:
        return None
    if not (state.free_for(index, start, ignoring=other) and state.free_for(other, own_start, ignoring=index)):
        return None
    if own_class != other_class and (
        state.load[start, own_class] >= compiled.classes[own_class].size
        or state.load[own_start, other_class] >= compiled.classes[other_class].size
    ):
        return None
    undo: Undo = [(index, (own_start, own_class)), (other, (start, other_class))]
    state.place(index, (start, own_class))
    state.place(other, (own_start, other_class))
    return undo


def compaction_hint(
    compiled: Compiled, baseline: Assignment, time_limit: float, seed: int, stop: threading.Event | None = None
) -> Assignment | None:
    """The compacted grid as a hint for CP-SAT, or None where the search does not apply.

    First the zero-break window model (solver/objective/break_windows.py):
    a grid it finds has no break at all, and is the hint as it is. When it
    proves there is none, up to 90% of the time limit goes to a grid at the
    proven floor of breaks (solver/objective/break_clauses.py), which is
    optimal. Otherwise the local search takes a fifth of the time limit, at
    most 5 s (B2B at 20 s: see docs/engine.md); after a floor search that
    found no grid, up to SETTLE_SECONDS more for a grid that keeps every rule.
    """
    clock = time.perf_counter()
    zero = zero_break_hint(
        compiled,
        min(ZERO_BREAK_SECONDS, time_limit / 6),
        seed,
        stop,
        CLAUSE_SHARE * time_limit,
        min(PATTERN_FLOOR_SECONDS, time_limit / 6),
    )
    if zero is not None and zero.grid is not None:
        return assign_rooms(compiled, zero.grid)
    if not applies(compiled):
        return None
    time_limit -= time.perf_counter() - clock
    settle = SETTLE_SECONDS if zero is not None else 0.0  # after the floor's search
    chosen = compact(compiled, baseline, min(5.0, time_limit / 5), seed, stop, settle)
    return assign_rooms(compiled, chosen)
