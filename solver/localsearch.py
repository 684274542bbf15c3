"""Local search on a complete grid: move one meeting at a time to where it
costs least, and put unplaced meetings in where they fit.

CP-SAT's breaks term has a weak LP bound and its model grows with every
(person, day, boundary); on forums of a thousand meetings (UNGA) it does not
improve on the greedy grid in a minute. Breaks are local, though: moving one
meeting changes only its attendees' days. This search checks every hard rule
with the greedy's ledger (the same incremental checks that built the grid),
so every grid it holds is feasible, and it prices a move by the exact change
of the objective of docs/rules.md (held, fairness, breaks, preferences,
stability) on the few person-days involved.

It does not know the break spread limit; the engine does not call it when
one is set.
"""

from __future__ import annotations

import math
import random
import threading
import time
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate, pairwise
from typing import TypeVar

from solver.compile import Compiled, MeetingInfo
from solver.greedy import Ledger, classes_by_start
from solver.model import Room
from solver.spots import starts_by_day
from solver.terms import Assignment, breaks_by_person, total_cost

DESCENT_SHARE = 0.1  # of the time; the rest anneals
ANNEAL_START = 0.5  # start temperature, in units of one break's weight
ANNEAL_END = 0.02  # the temperature falls to this fraction of the start by the deadline
CLOCK_EVERY = 256  # moves between looks at the clock
REPORT_EVERY = 1.0  # seconds between calls of `on_best` (at a look at the clock)
EJECT_SHARE = 0.05  # of the annealing's moves: a move into a blocked start, the blockers to their best spots
EJECT_MAX = 2  # blockers an ejection moves at most
GUIDE_CAP = 3  # extra breaks' weight a focused search gives at most to a participant outside its packing

T = TypeVar("T")
Spot = tuple[int, Room]  # (start slot, room)
Span = tuple[int, int]  # (start slot, end slot exclusive)
GapRule = tuple[int, list[int] | None, int]  # buffer, counted slots' prefix sums (None: all count), weight


def gap_price(rule: GapRule, end: int, start: int) -> int:
    """A gap's count in the search's price: the person's weight (1, or more for a
    penalised participant) when the gap from a meeting ending at `end` to the next
    starting at `start` is a break (`Costs.gap_is_break`), else 0."""
    buffer, counted, weight = rule
    idle = end + buffer
    return weight if start > idle and (counted is None or counted[start] > counted[idle]) else 0


BusyDay = tuple[GapRule, list[int], list[int]]  # an attendee's gap rule, its meetings' starts and ends that day


def _change_at(busy: list[BusyDay], start: int, end: int) -> int | None:
    """The change of the attendees' breaks when a meeting takes [start, end) on a
    day where `busy` are those with meetings; None when one of them is busy then."""
    change = 0
    for rule, starts, ends in busy:
        after = bisect_right(ends, start)  # the first meeting that ends after `start`
        if after < len(starts) and starts[after] < end:
            return None
        # The gaps made, less the one split.
        if after:
            change += gap_price(rule, ends[after - 1], start)
        if after < len(starts):
            change += gap_price(rule, end, starts[after])
            if after:
                change -= gap_price(rule, ends[after - 1], starts[after])
    return change


class MovableLedger(Ledger):
    """The greedy's ledger, with meetings that can be taken out again."""

    def __init__(self, compiled: Compiled) -> None:
        super().__init__(compiled)
        self.room_of: dict[str, Room] = {}

    def book(self, info: MeetingInfo, start: int, room: Room) -> None:
        super().book(info, start, room)
        self.room_of[info.id] = room

    def take_out(self, info: MeetingInfo) -> Spot:
        """Unbook a placed meeting; returns where it was."""
        start = self.placed[info.id][0]
        room = self.room_of.pop(info.id)
        self.unbook(info, start, room)
        return start, room


class Costs:
    """The objective's pieces that a move changes, as docs/rules.md defines them."""

    def __init__(self, compiled: Compiled, penalty: dict[str, int] | None = None) -> None:
        self.compiled = compiled
        objective = compiled.problem.objective
        self.weights = objective.weights
        self.count_all = objective.breaks_count_unavailable
        size = compiled.grid.size
        # counted[person][k] = counted slots before slot k (prefix sums), for "is a gap idle time?"
        self.counted = {
            person: list(accumulate((slot in free for slot in range(size)), initial=0))
            for person, free in compiled.available.items()
        }
        self.buffer = compiled.buffer_slots
        # Extra weight on some participants' breaks (solver/focus.py): the search
        # then pays a break elsewhere sooner than one of theirs.
        self.penalty = dict(penalty or {})
        # person -> (buffer, counted prefix sums or None when every slot counts, a break's
        # weight): `gap_price`'s inputs looked up once, for the loops that price every start.
        self.rule: dict[str, GapRule] = {
            person: (
                self.buffer.get(person, 0),
                None if self.count_all else self.counted[person],
                1 + self.penalty.get(person, 0),
            )
            for person in compiled.people
        }
        self.requested: dict[str, int] = defaultdict(int)
        for info in compiled.meetings:
            for delegation in info.delegations:
                self.requested[delegation] += 1

    def day_breaks(self, person: str, spans: list[tuple[int, int]]) -> int:
        """Breaks of one person-day; spans are (start, end) with end exclusive."""
        return sum(self.gap_is_break(person, end, start) for (_, end), (start, _) in pairwise(sorted(spans)))

    def gap_is_break(self, person: str, end: int, start: int) -> bool:
        """Is the gap between a meeting ending at `end` and the next starting at `start` a break?"""
        first_idle = end + self.buffer.get(person, 0)
        return start > first_idle and (self.count_all or self.counted[person][start] > self.counted[person][first_idle])

    def raise_penalty(self, person: str) -> None:
        """One more break's weight on each break of `person`."""
        self.penalty[person] = self.penalty.get(person, 0) + 1
        buffer, counted, _ = self.rule[person]
        self.rule[person] = (buffer, counted, 1 + self.penalty[person])

    def placement(self, info: MeetingInfo, start: int | None, room: str | None) -> int:
        """Preferences and stability of one meeting at (start, room), or unplaced (None)."""
        cost = 0
        if start is not None and info.meeting.preferred and start not in info.preferred_starts:
            cost += self.weights.preferences
        if info.previous is not None:
            previous_start, previous_room = info.previous
            if start != previous_start:
                cost += self.weights.moved_time
            elif room != previous_room:
                cost += self.weights.moved_room
        return cost

    def held_and_fairness(self, placed_by_delegation: dict[str, int], unplaced_weight: int) -> int:
        worst = min((100 * placed_by_delegation[d] // n for d, n in self.requested.items()), default=100)
        return unplaced_weight + (self.weights.fairness * (100 - worst) if self.requested else 0)


@dataclass
class LocalSearchResult:
    assignment: Assignment
    moves: int  # accepted moves that changed the grid
    tried: int  # meetings considered
    stuck: dict[str, float]  # participant -> share of the annealing's looks that found them with a break


class LocalSearch:
    def __init__(
        self, compiled: Compiled, assignment: Assignment, seed: int, penalty: dict[str, int] | None = None
    ) -> None:
        """`penalty`: participant -> extra breaks' weight per break of theirs (the
        participants solver/focus.py packed). The search then minimises that
        penalised cost, `self.cost`, and raises the weight of the others who
        keep a break as it goes (`_guide`)."""
        self.compiled = compiled
        self.costs = Costs(compiled, penalty)
        self.rng = random.Random(seed)
        self.stuck: dict[str, int] = defaultdict(int)  # participant -> looks that found them with a break
        self.looks = 0
        self._load(assignment)
        self.classes_at: dict[int, dict[int, tuple[int, ...]]] = {}
        # Without buffers or travel, "attendees free" already is the whole gap rule.
        self.gaps_matter = bool(compiled.travel_slots) or any(compiled.buffer_slots.values())
        self.choice_lists: dict[int, list[tuple[int, tuple[int, ...]]]] = {}
        self.starts_by_day: dict[int, list[tuple[int, list[int]]]] = {}
        self.meetings_of_person: dict[str, list[MeetingInfo]] = defaultdict(list)
        for info in compiled.meetings:
            for person in info.people:
                self.meetings_of_person[person].append(info)
        self.moves = self.tried = 0
        self.floor: float = -math.inf
        # Called with the best grid's objective every REPORT_EVERY seconds (`run`'s `on_best`).
        self.on_best: Callable[[int], None] | None = None
        self.next_report = math.inf
        # The participants a focused search packed (solver/focus.py): the others are guided.
        self.packed = frozenset(penalty or ())
        # Meetings that a daily limit, an order (`after`) or a resource also constrains.
        limited = {person for person, p in compiled.people.items() if p.max_meetings_per_day is not None}
        later = {earlier for info in compiled.meetings for earlier in info.meeting.after}
        self.ordered = {
            info.index
            for info in compiled.meetings
            if info.meeting.after or info.meeting.resources or info.id in later or limited.intersection(info.people)
        }

    def _load(self, assignment: Assignment) -> None:
        """Book this grid in a fresh ledger and count its cost."""
        compiled = self.compiled
        self.ledger = MovableLedger(compiled)
        rooms = {room.id: room for room in compiled.problem.rooms}
        for meeting_id, (start, room_id) in assignment.items():
            self.ledger.book(compiled.by_id[meeting_id], start, rooms[room_id])
        self.placed_by_delegation: dict[str, int] = defaultdict(int)
        for meeting_id in assignment:
            for delegation in compiled.by_id[meeting_id].delegations:
                self.placed_by_delegation[delegation] += 1
        self.unplaced = {info.id for info in compiled.meetings if info.id not in assignment and info.domain}
        self.cost = self._penalised_cost(assignment)

    def assignment(self) -> Assignment:
        return {
            meeting_id: (span[0], self.ledger.room_of[meeting_id].id) for meeting_id, span in self.ledger.placed.items()
        }

    def run(
        self,
        deadline: float,
        stop: threading.Event | None = None,
        floor: int | None = None,
        on_best: Callable[[int], None] | None = None,
    ) -> LocalSearchResult:
        """Descent first (every meeting to its best spot), then annealing with
        random single moves, which walks out of the descent's local minima.
        Stops early when the objective reaches `floor` (a proven lower bound).

        `on_best` is called with the objective of the best grid so far about
        every REPORT_EVERY seconds, at the looks at the clock the search makes
        anyway (for progress reports; it must not touch the search). Not in a
        penalised search, whose cost is not the objective."""
        if floor is not None:
            self.floor = float(floor)
        now = time.perf_counter()
        if on_best is not None and not self.costs.penalty and not self.packed:
            self.on_best, self.next_report = on_best, now + REPORT_EVERY
        self.descend(now + DESCENT_SHARE * (deadline - now), stop)
        best = self._anneal(deadline, stop)
        stuck = {person: count / self.looks for person, count in self.stuck.items()} if self.looks else {}
        return LocalSearchResult(best, self.moves, self.tried, stuck)

    def descend(self, deadline: float = math.inf, stop: threading.Event | None = None) -> None:
        """Every meeting to its best spot, pass after pass, until a pass gains nothing."""
        improving = True
        while improving and time.perf_counter() < deadline and not (stop is not None and stop.is_set()):
            before = self.cost
            self._insert_unplaced()
            placed = sorted(self.ledger.placed)
            self.rng.shuffle(placed)
            for meeting_id in placed:
                now = time.perf_counter()
                if self.cost <= self.floor or now >= deadline or (stop is not None and stop.is_set()):
                    return
                if now >= self.next_report:  # descent only lowers the cost: this grid is the best
                    self._report(now, self.cost)
                self.tried += 1
                self.moves += self._relocate(self.compiled.by_id[meeting_id])
            improving = self.cost < before

    def _anneal(self, deadline: float, stop: threading.Event | None) -> Assignment:
        """Simulated annealing over random single moves and a few ejection
        chains, the best grid seen; it ends early when that reaches the floor."""
        start_temperature = ANNEAL_START * max(1, self.costs.weights.breaks)
        begin, span = time.perf_counter(), max(1e-9, deadline - time.perf_counter())
        best, best_cost = self.assignment(), self.cost
        placed = sorted(self.ledger.placed)
        if not placed:
            return best
        broken = self._meetings_of_days(self._broken_days()) or placed
        temperature, steps = start_temperature, 0
        random, by_id = self.rng.random, self.compiled.by_id
        while best_cost > self.floor:
            steps += 1
            if steps % CLOCK_EVERY == 0:
                now = time.perf_counter()
                if now >= deadline or (stop is not None and stop.is_set()):
                    break
                temperature = start_temperature * ANNEAL_END ** ((now - begin) / span)
                if now >= self.next_report:
                    self._report(now, best_cost)
                if steps % (CLOCK_EVERY * 50) == 0:
                    self._insert_unplaced()
                    placed = sorted(self.ledger.placed)
                if steps % (CLOCK_EVERY * 8) == 0:
                    broken_days = self._broken_days()
                    self._tally(broken_days)
                    if self._guide(broken_days):
                        best_cost = self._penalised_cost(best)
                    broken = self._meetings_of_days(broken_days) or placed
            self.tried += 1
            # `_pick` written out, here and in `_proposal`: the same draws, without a call each.
            if random() < EJECT_SHARE:
                self.moves += self._eject_move(by_id[broken[int(random() * len(broken))]], temperature)
            else:
                pool = broken if random() < 0.5 else placed
                self.moves += self._random_move(by_id[pool[int(random() * len(pool))]], temperature)
            if self.cost < best_cost:
                best, best_cost = self.assignment(), self.cost
        return best if best_cost <= self.cost else self.assignment()

    def _report(self, now: float, best_cost: int) -> None:
        self.next_report = now + REPORT_EVERY
        if self.on_best is not None:
            self.on_best(best_cost)

    # ---- candidate spots and their prices

    def _classes_at(self, info: MeetingInfo) -> dict[int, tuple[int, ...]]:
        if info.index not in self.classes_at:
            self.classes_at[info.index] = classes_by_start(info.domain)
        return self.classes_at[info.index]

    def _spots(self, info: MeetingInfo, keep_room: str | None) -> list[Spot]:
        """Every start where the meeting fits now, each with one free room."""
        spots: list[Spot] = []
        for start, classes in self._classes_at(info).items():
            room = self._free_room(info, start, classes, keep_room)
            if room is not None:
                spots.append((start, room))
        return spots

    def _breaks_with(self, info: MeetingInfo, start: int, leaving: Span | None = None) -> int:
        """Change of the attendees' breaks on that day when the meeting is added
        at `start`, not counting its own current `leaving` span if it is still
        booked. Breaks are a sum over consecutive meetings of a day, so only the
        new span's neighbours matter: the gap it splits and the two it makes."""
        day = self.compiled.grid.day_of_slot[start]
        end = start + info.length
        change = 0
        rule, person_day = self.costs.rule, self.ledger.person_day
        leaving_start = -1 if leaving is None else leaving[0]
        for person in info.people:
            before, after = -1, -1  # end of the meeting before, start of the one after
            for booking in person_day[(person, day)]:
                booked, booked_end = booking.start, booking.end
                if booked == leaving_start:  # no other meeting of the person starts there
                    continue
                if booked_end <= start:
                    if booked_end > before:
                        before = booked_end
                elif booked >= end and (after < 0 or booked < after):
                    after = booked
            if before >= 0:
                change += gap_price(rule[person], before, start)
            if after >= 0:
                change += gap_price(rule[person], end, after)
                if before >= 0:
                    change -= gap_price(rule[person], before, after)
        return change

    def _price(self, info: MeetingInfo, spot: Spot, leaving: Span | None = None) -> int:
        start, room = spot
        breaks = self._breaks_with(info, start, leaving)
        return self.costs.weights.breaks * breaks + self.costs.placement(info, start, room.id)

    # ---- moves

    def _relocate(self, info: MeetingInfo) -> bool:
        """Take the meeting out and put it back where it costs least (ties at
        random, so the search walks across plateaus); True when it moved."""
        old = self.ledger.take_out(info)
        old_price = self._price(info, old)
        best, best_price = self._cheapest(info, keep_room=old[1].id)
        if not best or best_price > old_price:  # cannot happen: its own spot is free again
            best, best_price = [old], old_price
        start, room = self._pick(best)
        self.ledger.book(info, start, room)
        self.cost += best_price - old_price
        return (start, room.id) != (old[0], old[1].id)

    def _cheapest(self, info: MeetingInfo, keep_room: str | None) -> tuple[list[Spot], int]:
        """The cheapest spots where a lifted meeting fits now (or one of them,
        drawn at random, where the price is the breaks alone), and their price."""
        if info.previous is None and not info.meeting.preferred:
            drawn = self._one_of_the_fewest_breaks(info, keep_room)
            if drawn is not None:
                return [drawn[0]], drawn[1]
        return self._all_cheapest(info, keep_room)

    def _all_cheapest(self, info: MeetingInfo, keep_room: str | None) -> tuple[list[Spot], int]:
        """All the cheapest spots where a lifted meeting fits now, and their price.
        Starts are priced first (cheap: a few neighbours per attendee) and the
        rooms, gaps and order rules checked from the cheapest start up, until
        the rest cost more than the best found."""
        previous = info.previous
        breaks_weight = self.costs.weights.breaks
        candidates = []
        for start, classes, breaks in self._free_starts(info):
            room_id = previous[1] if previous is not None and previous[0] == start else None
            bound = breaks_weight * breaks + self.costs.placement(info, start, room_id)
            candidates.append((bound, start, classes, breaks))
        candidates.sort(key=lambda candidate: candidate[0])
        best: list[Spot] = []
        best_price = math.inf
        for bound, start, classes, breaks in candidates:
            if bound > best_price:
                break
            room = self._free_room(info, start, classes, keep_room)
            if room is None:
                continue
            price = breaks_weight * breaks + self.costs.placement(info, start, room.id)
            if price < best_price:
                best, best_price = [(start, room)], float(price)
            elif price == best_price:
                best.append((start, room))
        return best, int(best_price) if best else 0

    def _free_starts(self, info: MeetingInfo) -> list[tuple[int, tuple[int, ...], int]]:
        """(start, room classes, change of the attendees' breaks) for each start
        where every attendee of the lifted meeting is free: `_breaks_with` for
        all starts at once. Each attendee-day's meetings are sorted once, and
        each start finds its neighbours by bisection (the ejection chains price
        every start of a meeting this way, and one `_breaks_with` at a time
        took 43% of the focused search's time at Shangri-La). An attendee with
        no meeting that day changes nothing there, so a day when none has one
        costs no lookup per start (most days of a long forum: 72 of them in the
        800-meeting OptaPlanner file)."""
        day_of_slot = self.compiled.grid.day_of_slot
        busy_by_day: dict[int, list[BusyDay]] = {}
        found = []
        for start, classes in self._classes_at(info).items():
            day = day_of_slot[start]
            busy = busy_by_day.get(day)
            if busy is None:
                busy = busy_by_day[day] = self._busy_that_day(info, day)
            change = _change_at(busy, start, start + info.length)
            if change is not None:
                found.append((start, classes, change))
        return found

    def _one_of_the_fewest_breaks(self, info: MeetingInfo, keep_room: str | None) -> tuple[Spot, int] | None:
        """`_cheapest` where the price is the breaks alone (no previous spot, no
        preferred windows): one spot drawn at random among the fitting starts
        that add the fewest breaks, as `_relocate` would pick from the full list;
        None when none of those fits (the caller then looks further). A day on
        which no attendee has a meeting adds none at any start, so its starts
        are taken as one block, unpriced. The starts are drawn in random order
        until one fits rather than all checked: a meeting free on many days has
        thousands of equally cheap starts (the 800-meeting OptaPlanner file:
        more than half of them), each a room check."""
        length = info.length
        fewest = 1 << 30
        blocks: list[list[int]] = []  # the cheapest starts so far, a day's block or single starts
        for day, starts in self._starts_by_day(info):
            busy = self._busy_that_day(info, day)
            if not busy:
                if fewest > 0:
                    fewest, blocks = 0, []
                if fewest == 0:
                    blocks.append(starts)
                continue
            singles: list[int] = []
            for start in starts:
                change = _change_at(busy, start, start + length)
                if change is None or change > fewest:
                    continue
                if change < fewest:
                    fewest, blocks, singles = change, [], []
                if not singles:
                    blocks.append(singles)
                singles.append(start)
        cheapest: list[int] = []  # a copy: the days' blocks are cached
        for block in blocks:
            cheapest.extend(block)
        classes_at = self._classes_at(info)
        for drawn in range(len(cheapest)):  # a Fisher-Yates shuffle, stopped at the first fit
            other = drawn + int(self.rng.random() * (len(cheapest) - drawn))
            cheapest[drawn], cheapest[other] = cheapest[other], cheapest[drawn]
            start = cheapest[drawn]
            room = self._free_room(info, start, classes_at[start], keep_room)
            if room is not None:
                return (start, room), self.costs.weights.breaks * fewest
        return None

    def _starts_by_day(self, info: MeetingInfo) -> list[tuple[int, list[int]]]:
        """The meeting's starts grouped by day, built once (in solver/spots.py, so that
        they are the domain's own int objects, not a boxed copy of each)."""
        if info.index not in self.starts_by_day:
            self.starts_by_day[info.index] = starts_by_day(self._classes_at(info), self.compiled.grid.day_of_slot)
        return self.starts_by_day[info.index]

    def _busy_that_day(self, info: MeetingInfo, day: int) -> list[BusyDay]:
        """Per attendee with meetings that day: its gap rule and their starts and
        ends, sorted (a person's meetings do not overlap: by start is also by end)."""
        busy: list[BusyDay] = []
        for person in info.people:
            bookings = self.ledger.person_day.get((person, day))
            if bookings:
                spans = sorted((booking.start, booking.end) for booking in bookings)
                busy.append((self.costs.rule[person], [span[0] for span in spans], [span[1] for span in spans]))
        return busy

    def _broken_days(self) -> list[tuple[str, int]]:
        """Person-days that have a break: where moves pay off."""
        return sorted(
            key
            for key, bookings in self.ledger.person_day.items()
            if len(bookings) > 1 and self.costs.day_breaks(key[0], [(b.start, b.end) for b in bookings])
        )

    def _tally(self, broken_days: list[tuple[str, int]]) -> None:
        """Who has a break at this look: the participants the search cannot mend."""
        self.looks += 1
        for person in {person for person, _ in broken_days}:
            self.stuck[person] += 1

    def _guide(self, broken_days: list[tuple[str, int]]) -> bool:
        """In a focused search, one more break's weight (up to GUIDE_CAP) on each
        participant outside the packing who has a break at this look: the break
        the packing pushed onto a partner then does not settle there (a guided
        local search; docs/engine.md, fourteenth session). True when a weight
        changed; the search's cost is then counted again."""
        if not self.packed:
            return False
        raised = False
        for person in sorted({person for person, _ in broken_days} - self.packed):
            if self.costs.penalty.get(person, 0) < GUIDE_CAP:
                self.costs.raise_penalty(person)
                raised = True
        if raised:
            self.cost = self._penalised_cost(self.assignment())
        return raised

    def _penalised_cost(self, assignment: Assignment) -> int:
        """The cost the search minimises: the objective, plus the penalties on the breaks they weigh."""
        cost = total_cost(self.compiled, assignment)
        if self.costs.penalty:
            breaks = breaks_by_person(self.compiled, assignment)
            extra = sum(weight * breaks[person] for person, weight in self.costs.penalty.items())
            cost += self.costs.weights.breaks * extra
        return cost

    def _meetings_of_days(self, days: list[tuple[str, int]]) -> list[str]:
        grid = self.compiled.grid
        found: set[str] = set()
        for person, day in days:
            for info in self.meetings_of_person[person]:
                span = self.ledger.placed.get(info.id)
                if span is not None and grid.day_of_slot[span[0]] == day:
                    found.add(info.id)
        return sorted(found)

    # ---- compound moves: several meetings lifted and dropped, priced step by step

    def _lift(self, info: MeetingInfo, lifted: list[tuple[MeetingInfo, Spot]]) -> int:
        """Take a placed meeting out; returns the cost it leaves (its price where it was)."""
        span = self.ledger.placed[info.id]
        spot = (span[0], self.ledger.room_of[info.id])
        price = self._price(info, spot, leaving=span)
        self.ledger.take_out(info)
        lifted.append((info, spot))
        return price

    def _drop(self, info: MeetingInfo, spot: Spot, dropped: list[MeetingInfo]) -> int:
        """Book a lifted meeting at a spot checked free; returns its price there."""
        price = self._price(info, spot)
        self.ledger.book(info, *spot)
        dropped.append(info)
        return price

    def _settle(
        self, change: int, temperature: float, lifted: list[tuple[MeetingInfo, Spot]], dropped: list[MeetingInfo]
    ) -> bool:
        """Keep a compound move by the annealing's rule, or put every meeting back."""
        if change <= 0 or self.rng.random() < math.exp(-change / temperature):
            self.cost += change
            return True
        self._undo(lifted, dropped)
        return False

    def _undo(self, lifted: list[tuple[MeetingInfo, Spot]], dropped: list[MeetingInfo]) -> bool:
        for info in reversed(dropped):
            self.ledger.take_out(info)
        for info, spot in reversed(lifted):
            self.ledger.book(info, *spot)
        return False

    def _best_spot(self, info: MeetingInfo, keep_room: str | None) -> tuple[Spot, int] | None:
        """The cheapest spot where a lifted meeting fits now (ties at random), and its price."""
        best, price = self._cheapest(info, keep_room)
        return (self._pick(best), price) if best else None

    def _eject_move(self, info: MeetingInfo, temperature: float) -> bool:
        """Move a meeting to a start taken by one or two meetings of its
        attendees, and those to their cheapest spots: the ejection chain that
        a single move cannot make when every good start is already taken."""
        start, classes = self._proposal(info)
        if classes is None or start == self.ledger.placed[info.id][0]:
            return False
        blockers = [other for other in self._blockers(info, start) if other.id != info.id]
        if not blockers or len(blockers) > EJECT_MAX:
            return False
        lifted: list[tuple[MeetingInfo, Spot]] = []
        dropped: list[MeetingInfo] = []
        change = -self._lift(info, lifted) - sum(self._lift(other, lifted) for other in blockers)
        room = self._free_room(info, start, classes, keep_room=None)
        if room is None:
            return self._undo(lifted, dropped)
        change += self._drop(info, (start, room), dropped)
        self.rng.shuffle(blockers)
        for other in blockers:
            found = self._best_spot(other, keep_room=None)
            if found is None:
                return self._undo(lifted, dropped)
            change += self._drop(other, found[0], dropped)
        return self._settle(change, temperature, lifted, dropped)

    def _random_move(self, info: MeetingInfo, temperature: float) -> bool:
        """Move the meeting to a random start of its domain if it fits there,
        always when that costs nothing more, else with the annealing's odds."""
        start, classes = self._proposal(info)
        current, current_end = self.ledger.placed[info.id]
        if start == current or classes is None:
            return False
        if start + info.length <= current or current_end <= start:
            return self._move_clear_of_itself(info, start, classes, temperature)
        old = self.ledger.take_out(info)
        room = self._free_room(info, start, classes, keep_room=None)
        if room is not None:
            change = self._price(info, (start, room)) - self._price(info, old)
            if change <= 0 or self.rng.random() < math.exp(-change / temperature):
                self.ledger.book(info, start, room)
                self.cost += change
                return True
        self.ledger.book(info, *old)
        return False

    def _move_clear_of_itself(
        self, info: MeetingInfo, start: int, classes: tuple[int, ...], temperature: float
    ) -> bool:
        """`_random_move` to a start that does not overlap the meeting's own
        slots: tested and priced with the meeting still booked (most moves are
        refused, and taking a meeting out and back costs more than the test).
        Its own booking can only make the test stricter (a daily limit, a
        buffer against itself), never admit a spot that breaks a rule."""
        room = self._free_room(info, start, classes, keep_room=None)
        if room is None:
            return False
        current, current_end = self.ledger.placed[info.id]
        old = (current, self.ledger.room_of[info.id])
        leaving = (current, current_end)
        change = self._price(info, (start, room), leaving) - self._price(info, old, leaving)
        if change <= 0 or self.rng.random() < math.exp(-change / temperature):
            self.ledger.take_out(info)
            self.ledger.book(info, start, room)
            self.cost += change
            return True
        return False

    def _proposal(self, info: MeetingInfo) -> tuple[int, tuple[int, ...] | None]:
        """A random start of the domain, or, half of the time, a start right
        next to (a buffer away from) another meeting of one attendee: the moves
        that close breaks."""
        random = self.rng.random
        choices = self.choice_lists.get(info.index)
        if choices is None:
            choices = self._choices(info)
        if random() < 0.5:
            return choices[int(random() * len(choices))]
        day = self.compiled.grid.day_of_slot[choices[int(random() * len(choices))][0]]
        person = info.people[int(random() * len(info.people))]
        bookings = self.ledger.person_day[(person, day)]
        if not bookings:
            return -1, None
        other = bookings[int(random() * len(bookings))]
        buffer = self.costs.buffer.get(person, 0)
        start = other.end + buffer if random() < 0.5 else other.start - info.length - buffer
        return start, self._classes_at(info).get(start)

    def _choices(self, info: MeetingInfo) -> list[tuple[int, tuple[int, ...]]]:
        if info.index not in self.choice_lists:
            self.choice_lists[info.index] = list(self._classes_at(info).items())
        return self.choice_lists[info.index]

    def _free_room(self, info: MeetingInfo, start: int, classes: tuple[int, ...], keep_room: str | None) -> Room | None:
        """A room of these classes where the meeting fits at `start` (the
        previous room first, for stability), or None when the people or the
        order rules forbid that start. The ledger's checks, inlined for the
        common case (the search spends most of its time here)."""
        ledger = self.ledger
        end = start + info.length
        person_busy = ledger.person_busy
        for person in info.people:
            if any(person_busy[person][start:end]):
                return None
        if info.index in self.ordered and not ledger.order_allows(info, start):
            return None
        rooms = ledger.rooms_of(classes)
        if keep_room is not None:
            rooms = [room for room in rooms if room.id == keep_room] + rooms
        room_busy, apart = ledger.room_busy, bool(self.compiled.problem.keep_apart)
        for room in rooms:
            if any(room_busy[room.id][start:end]) or (apart and not ledger.kept_apart(info, start, room.id)):
                continue
            if not self.gaps_matter or ledger.gaps_allow(info, start, room.venue):
                return room
        return None

    def _pick(self, items: Sequence[T]) -> T:
        """`random.choice`, at a third of its cost (it is drawn several times a move)."""
        return items[int(self.rng.random() * len(items))]

    def _insert_unplaced(self) -> None:
        """Place each unplaced meeting where it fits, or where one attendee's
        meeting can make room by moving elsewhere, when that lowers the objective."""
        for meeting_id in sorted(self.unplaced):
            info = self.compiled.by_id[meeting_id]
            spots = self._spots(info, keep_room=None)
            if not spots:
                self._insert_by_ejection(info)
                continue
            price, spot = min(((self._price(info, s), s) for s in spots), key=lambda pair: pair[0])
            change = price - self.costs.placement(info, None, None) - self._insertion_gain(info)
            if change < 0:
                self._book_unplaced(info, spot, change)

    def _book_unplaced(self, info: MeetingInfo, spot: Spot, change: int) -> None:
        self.cost += change
        self.ledger.book(info, *spot)
        self.unplaced.discard(info.id)
        for delegation in info.delegations:
            self.placed_by_delegation[delegation] += 1
        self.moves += 1

    def _insert_by_ejection(self, info: MeetingInfo) -> None:
        """Try each start blocked by exactly one meeting of an attendee: take
        that meeting out, put this one in, and the other at its best spot."""
        gain = self._insertion_gain(info) + self.costs.placement(info, None, None)
        for start, classes in self._classes_at(info).items():
            blockers = self._blockers(info, start)
            if len(blockers) != 1:
                continue
            blocker = blockers[0]
            old = self.ledger.take_out(blocker)
            change = -self._price(blocker, old)
            room = self._free_room(info, start, classes, None)
            if room is not None:
                change += self._price(info, (start, room))
                self.ledger.book(info, start, room)
                spots = self._spots(blocker, keep_room=old[1].id)
                if spots:
                    price, spot = min(((self._price(blocker, s), s) for s in spots), key=lambda pair: pair[0])
                    if change + price - gain < 0:
                        self.ledger.book(blocker, *spot)
                        self.ledger.take_out(info)  # booked again, with the books kept, just below
                        self._book_unplaced(info, (start, room), change + price - gain)
                        return
                self.ledger.take_out(info)
            self.ledger.book(blocker, *old)

    def _blockers(self, info: MeetingInfo, start: int) -> list[MeetingInfo]:
        """Placed meetings of the attendees that overlap `start` .. end."""
        end = start + info.length
        found: dict[str, MeetingInfo] = {}
        for person in info.people:
            for other in self.meetings_of_person[person]:
                span = self.ledger.placed.get(other.id)
                if span is not None and span[0] < end and start < span[1]:
                    found[other.id] = other
        return list(found.values())

    def _insertion_gain(self, info: MeetingInfo) -> int:
        """Held and fairness saved by placing `info`."""
        unplaced_weight = sum(self.compiled.by_id[m].weight for m in self.unplaced)
        before = self.costs.held_and_fairness(self.placed_by_delegation, unplaced_weight)
        after_counts = dict(self.placed_by_delegation)
        for delegation in info.delegations:
            after_counts[delegation] = after_counts.get(delegation, 0) + 1
        after = self.costs.held_and_fairness(defaultdict(int, after_counts), unplaced_weight - info.weight)
        return before - after


def improve(
    compiled: Compiled,
    assignment: Assignment,
    deadline: float,
    seed: int = 0,
    stop: threading.Event | None = None,
    floor: int | None = None,
    penalty: dict[str, int] | None = None,
    on_best: Callable[[int], None] | None = None,
) -> LocalSearchResult:
    """Improve a feasible grid by local moves until `deadline` (perf_counter seconds),
    or until its objective reaches `floor`: pass a proven lower bound (the
    engine's `domain_bound`), and a grid that reaches it is optimal. With a
    `penalty` the search minimises the penalised cost and guides the others'
    breaks (see LocalSearch); `on_best` hears the best objective about once a
    second (`LocalSearch.run`)."""
    return LocalSearch(compiled, assignment, seed, penalty).run(deadline, stop, floor, on_best)
