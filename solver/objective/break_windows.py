"""Zero breaks as one window per participant: a grid with no break, or a proof that there is none.

On B2B-shaped problems (every meeting a hard one-slot must on one day, one
room class, every slot counted for breaks) a grid has no break exactly when
each participant's meetings fill a window of consecutive slots as long as
their number of meetings. So the zero-break question is a small model of its
own: one literal per possible window start (pruned by a matching test: the
meetings must be able to fill it), meetings in a slot of the participant
equal to "the window covers the slot", and the tables counted on the windows
(two participant-slots per meeting, at most twice the tables per slot).

Stated that way, CP-SAT with its full presolve answers in about a second
what the optimising model, whose breaks are counted gap by gap, does not
settle in a minute: a break-free grid for forum-13, ticf-13crafa and
tic-14crafc, and INFEASIBLE (so at least one break in every grid) for
tic-13crafc, forum-13crafc, ticf-13crafc and ticf-13crafb (docs/engine.md).

The answer is remembered per compiled problem: the engine's hint step asks
first (`zero_break_hint`), the breaks term reads the proven floor later
(`proven_floor`), and the model is solved once.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise

from ortools.sat.python import cp_model

from solver.compile import Compiled
from solver.objective.break_bounds import perfect_matching, window_starts
from solver.objective.break_clauses import (
    Grid,
    Literal,
    at_most,
    counted_breaks,
    grid_of,
    one_worker,
    sum_at_most,
    two_rungs,
)
from solver.stopping import Halt, cp_sat_seed, quiet_solver, watch_stop


@dataclass(frozen=True)
class ZeroBreaks:
    # A grid without any break, or (none_exists) the floor search's: optimal when it has `floor` breaks.
    grid: Grid | None
    none_exists: bool  # proven: every grid has at least one break
    floor: int = 0  # proven: every grid has at least this many breaks (see pattern_floor)


def applies(compiled: Compiled) -> bool:
    """The window view is the whole rule set: see the module docstring.

    Pins, sessions and blocked slots are allowed: they only shape the meetings' domains.
    """
    problem = compiled.problem
    objective = problem.objective
    if not compiled.meetings or not objective.must_is_hard or not objective.breaks_count_unavailable:
        return False
    if problem.keep_apart or problem.resources or len(compiled.classes) != 1 or len(compiled.grid.day_ranges) != 1:
        return False
    if any(compiled.buffer_slots.values()) or any(compiled.travel_slots.values()):
        return False
    if any(person.max_meetings_per_day is not None for person in compiled.people.values()):
        return False
    return all(
        info.length == 1 and info.meeting.priority == "must" and not info.meeting.after and info.previous is None
        for info in compiled.meetings
    )


def zero_break_model(
    compiled: Compiled, exempt: frozenset[str] = frozenset(), most: int = 0, loose: frozenset[str] = frozenset()
) -> tuple[cp_model.CpModel, list[dict[int, cp_model.IntVar]]]:
    """The model of "no participant has a break" (but those `exempt`, who
    have at most `most` in all and the spread limit each, counted as in
    break_clauses.py); meeting index -> start -> literal. Each of the `loose`
    may leave their window, and each who does counts as one of the `most`
    (a relaxation: their breaks are not counted, see `_CandidateLanes`)."""
    model = cp_model.CpModel()
    exempt_ends: list[Literal] = []  # with the negations of `kept`
    tables = compiled.classes[0].size
    starts: list[dict[int, cp_model.IntVar]] = []
    at: dict[str, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    in_slot: dict[int, list] = defaultdict(list)
    for info in compiled.meetings:
        by_start = {start: model.new_bool_var(f"m{info.index}_{start}") for start in info.starts}
        model.add_exactly_one(by_start.values())
        starts.append(by_start)
        for start, literal in by_start.items():
            in_slot[start].append(literal)
        for person in info.people:
            for start, literal in by_start.items():
                at[person][start].append(literal)
    # The tables, counted on the meetings and (redundant, it is what prunes the
    # windows) on the participant-slots in use: two per meeting, so at most twice the tables.
    occupied: dict[int, list] = defaultdict(list)
    windows_of: dict[str, dict[int, cp_model.IntVar]] = {}
    kept: dict[str, cp_model.IntVar] = {}  # a loose participant -> "keeps to a window"
    for person in compiled.people:
        if person in exempt:
            busy, ends = counted_breaks(compiled, model, person, starts, compiled.problem.objective.break_spread_limit)
            for slot, literal in enumerate(busy):
                occupied[slot].append(literal)
            exempt_ends.extend(ends)
        elif len(compiled.meetings_of(person)) < 2:
            for slot, literals in at[person].items():
                occupied[slot].extend(literals)
        elif person in loose:  # counted on their meetings: they may not fill a window
            kept[person] = model.new_bool_var(f"keeps_{person}")
            exempt_ends.append(~kept[person])
            windows_of[person], _ = _window(compiled, model, person, at[person], kept[person])
            for slot, literals in at[person].items():
                occupied[slot].extend(literals)
        else:
            windows_of[person], covering = _window(compiled, model, person, at[person], None)
            for slot, literals in enumerate(covering):
                occupied[slot].extend(literals)
    for literals in occupied.values():
        sum_at_most(model, literals, 2 * tables)
    for literals in in_slot.values():
        sum_at_most(model, literals, tables)
    _windows_meet(compiled, model, windows_of, kept)
    at_most(model, exempt_ends, most)
    return model, starts


def _window(
    compiled: Compiled, model: cp_model.CpModel, person: str, at: dict[int, list], kept: cp_model.IntVar | None
) -> tuple[dict[int, cp_model.IntVar], list[list[cp_model.IntVar]]]:
    """The person's window literals (first slot -> literal): exactly one, and
    the person in a meeting at a slot exactly when the window covers it
    (only when `kept` is true, if given). Also, per slot, the literals of
    the windows that cover it."""
    windows = {first: model.new_bool_var(f"w_{person}_{first}") for first in window_starts(compiled, person)}
    enforced = [] if kept is None else [kept]
    model.add_exactly_one(windows.values()).only_enforce_if(enforced)  # none at all: infeasible, as it should be
    covering = _covering(compiled, person, windows)
    for slot, literals in enumerate(covering):
        model.add(sum(at.get(slot, [])) == sum(literals)).only_enforce_if(enforced)
    return windows, covering


def _covering(compiled: Compiled, person: str, windows: dict[int, cp_model.IntVar]) -> list[list[cp_model.IntVar]]:
    """For each slot, the person's window literals that cover it."""
    width = len(compiled.meetings_of(person))
    return [
        [literal for first, literal in windows.items() if first <= slot < first + width]
        for slot in range(compiled.grid.size)
    ]


def _windows_meet(
    compiled: Compiled,
    model: cp_model.CpModel,
    windows_of: dict[str, dict[int, cp_model.IntVar]],
    kept: dict[str, cp_model.IntVar],
) -> None:
    """Redundant: two participants who meet need windows that share a slot
    where their meeting may start (one clause per window of either), unless
    the other is loose and leaves their window."""
    for info in compiled.meetings:
        present = [person for person in info.people if person in windows_of]
        allowed = set(info.starts)
        for person, other in ((a, b) for a in present for b in present if a != b):
            width, other_width = len(compiled.meetings_of(person)), len(compiled.meetings_of(other))
            for first, literal in windows_of[person].items():
                mine = allowed.intersection(range(first, first + width))
                partners = [
                    partner
                    for other_first, partner in windows_of[other].items()
                    if mine.intersection(range(other_first, other_first + other_width))
                ]
                leaves = [~kept[other]] if other in kept else []
                model.add_bool_or([~literal, *partners, *leaves])


def zero_breaks(
    compiled: Compiled,
    seconds: float,
    seed: int,
    stop: threading.Event | None = None,
    exempt: frozenset[str] = frozenset(),
    most: int = 0,
) -> ZeroBreaks:
    """Solve the zero-break model (with these exempt) within `seconds` (CP-SAT's full presolve, SAT-style workers)."""
    model, starts = zero_break_model(compiled, exempt, most)
    # The engine's own settings (one presolve pass, no probing, see search.py)
    # left ticf-13crafa without an answer in 20 s; with the full presolve it
    # takes 1-3 s. With the LP worker of the default pair, 10-20 s.
    solver, code = _run(model, seconds, seed, stop, subsolvers=("no_lp", "quick_restart_no_lp"))
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return ZeroBreaks(grid_of(compiled, solver, starts), False)
    return ZeroBreaks(None, code == cp_model.INFEASIBLE)


def zero_break_hint(
    compiled: Compiled,
    seconds: float,
    seed: int,
    stop: threading.Event | None = None,
    clause_seconds: float = 0.0,
    floor_seconds: float | None = None,
) -> ZeroBreaks | None:
    """The zero-break answer for this compiled problem (None where the window
    view does not apply), remembered: the window model for `seconds`. When
    there is no break-free grid, the pattern floor (`floor_seconds`, by
    default `seconds`), then a grid at that floor (`at_the_floor`) until
    `clause_seconds` after the start; when the window model did not decide,
    the same search from no break. (The floor's search had its seconds from
    its own start, so a solve overran its limit by the window model's and the
    pattern floor's time: up to 12 s at 60 s on a slow machine.)"""
    if not applies(compiled):
        return None
    clause_end = time.perf_counter() + clause_seconds
    answer = zero_breaks(compiled, seconds, seed, stop)
    if answer.none_exists:
        # Its own budget: under load the pattern floor of forumt-14crafe took
        # 7.5 s, and a bound that stops short is only the floors again.
        floor = max(1, pattern_floor(compiled, seconds if floor_seconds is None else floor_seconds, seed, stop))
        answer = at_the_floor(compiled, floor, clause_end - time.perf_counter(), seed, stop)
    elif answer.grid is None:
        # Undecided in its seconds (ticf-14crafa, in earlier sessions' runs):
        # the clauses found its break-free grid in 7-11 s.
        answer = at_the_floor(compiled, 0, clause_end - time.perf_counter(), seed, stop)
    compiled.derived["zero_breaks"] = answer
    return answer


def has_loner(compiled: Compiled) -> bool:
    """Someone has fewer than two meetings, so the fewest breaks is 0 and the
    spread limit caps each participant's breaks (every B2B instance)."""
    return any(len(compiled.meetings_of(person)) < 2 for person in compiled.people)


def windowless(compiled: Compiled) -> frozenset[str]:
    """Participants of two or more meetings with no window their meetings can
    fill: each has a break in every grid."""
    return frozenset(
        person
        for person in compiled.people
        if len(compiled.meetings_of(person)) >= 2 and not window_starts(compiled, person)
    )


def at_the_floor(compiled: Compiled, floor: int, seconds: float, seed: int, stop: threading.Event | None) -> ZeroBreaks:
    """A grid at the proven floor of breaks, climbing the floor with each proof
    that there is none, until `seconds` are spent: the window model with the
    windowless exempt, then with one more candidate (`one_more_broken`), then
    break_clauses.py two rungs at a time. A grid with `floor` breaks is optimal."""
    broken = windowless(compiled)
    floor = max(floor, len(broken))  # each of them has a break in every grid
    limit = compiled.problem.objective.break_spread_limit
    if seconds <= MIN_QUESTION_SECONDS or (limit is not None and not has_loner(compiled)):
        return _at(None, floor)  # no time, or the spread is not a cap on each: not in the clauses
    # With a cap on each, more breaks than all the caps together means no grid
    # at all (a spread limit of 0 and a forced break): that is CP-SAT's to say.
    busy_people = sum(len(compiled.meetings_of(person)) >= 2 for person in compiled.people)
    most = math.inf if limit is None else limit * busy_people
    deadline = time.perf_counter() + seconds
    if floor > most:
        return _at(None, floor)
    if broken and floor == len(broken):
        # Everyone else break-free: the window model with those few exempt.
        # forum-14 (two such, optimum 2): found in about a second, where the clauses took 30-40 s or more.
        answer = zero_breaks(compiled, min(seconds, WINDOWS_FIRST_SECONDS), seed, stop, broken, floor)
        if answer.grid is not None:
            return _at(answer.grid, floor)
        floor += answer.none_exists
    if floor == len(broken) + 1 and floor <= most:
        answer = one_more_broken(compiled, broken, floor, deadline, seed, stop)
        if answer.grid is not None:
            return answer
        floor = answer.floor
    while floor <= most and (left := deadline - time.perf_counter()) > MIN_QUESTION_SECONDS:
        if stop is not None and stop.is_set():
            break
        # From no break, the window model has run out of time on that very
        # question, where it rules out the grids that have none within a
        # second: so a grid is likely, and both cores look for it
        # (ticf-14crafa: docs/engine.md, ninth session).
        grid, proven = two_rungs(compiled, floor, limit, left, seed, stop, broken, floor_only=floor == 0)
        if grid is not None or proven == floor:
            return _at(grid, proven)
        floor = proven
    return _at(None, floor)


def _at(grid: Grid | None, floor: int) -> ZeroBreaks:
    """The answer of the floor's search: `floor` breaks at least in every grid."""
    return ZeroBreaks(grid, floor >= 1, floor)


def can_break(compiled: Compiled, person: str) -> bool:
    """Two meetings or more, and more slots to hold them in than meetings (a
    day full of meetings has no idle slot: forumt-14crafe's ten-meeting days)."""
    theirs = compiled.meetings_of(person)
    return len(theirs) >= 2 and len({start for info in theirs for start in info.starts}) > len(theirs)


def one_more_broken(
    compiled: Compiled, broken: frozenset[str], floor: int, deadline: float, seed: int, stop: threading.Event | None
) -> ZeroBreaks:
    """A grid with `floor` breaks, one more than the windowless participants:
    one other participant has a break (or one of them a second). So each
    candidate in turn is exempt beside them in the window model, those with
    the fewest windows first (ticf-13crafc and forum-13crafc: the first one,
    in 1-3 s, where the clauses took 20-25 s), two candidates at a time, one
    per core, beside one relaxed question that can rule out all of them at
    once (`_CandidateLanes`). When every candidate is proven impossible, so
    is `floor`: the answer's floor is one more."""
    candidates = [person for person in compiled.people if person not in broken and can_break(compiled, person)]
    windows = {person: len(window_starts(compiled, person)) for person in candidates}
    candidates.sort(key=lambda person: (windows[person], -len(compiled.meetings_of(person)), person))
    phase_end = time.perf_counter() + ONE_MORE_SHARE * (deadline - time.perf_counter())
    lanes = _CandidateLanes(compiled, broken, floor, candidates, phase_end, seed, stop)
    lanes.run()
    if lanes.grid is not None:
        return _at(lanes.grid, floor)
    return _at(None, floor + (bool(candidates) and (lanes.all_ruled_out or lanes.ruled_out == len(candidates))))


class _CandidateLanes:
    """Two threads that take the candidates in order, each asking the window
    model with the next one exempt on one worker, until one finds a grid, all
    are asked, or the phase ends. One worker decides these questions about as
    fast as two (ticf-13crafc: p6's grid in 1.9-3.5 s against 1.7-3.0 s,
    refutations in 0.3 s either way), so two lanes ask twice the candidates,
    and a candidate that needs more than its seconds (forumt-14crafe's first,
    undecided after 20 s) no longer holds up the next (docs/engine.md,
    eleventh session); it is asked again a little later, with twice the
    seconds and another seed (`_next`).

    The first lane asks one question before its candidates: the window model
    where every candidate may leave their window, each who does counting as
    a break (`zero_break_model(loose=...)`). A grid at the floor is one of
    its solutions (its one broken candidate leaves), so when it has none,
    every candidate is ruled out at once: forum-13crafb's 51 in 0.6-0.7 s,
    ticf-13crafb's 54 in 0.1 s, against 3.7-5.2 s one by one. Where a
    candidate has the grid it is undecided in 20 s (ticf-13crafc,
    forum-13crafc), so it has its own few seconds while the second lane
    takes the first candidate."""

    def __init__(
        self,
        compiled: Compiled,
        broken: frozenset[str],
        floor: int,
        candidates: list[str],
        end: float,
        seed: int,
        stop: threading.Event | None,
    ) -> None:
        self.compiled, self.broken, self.floor, self.end, self.seed = compiled, broken, floor, end, seed
        self.waiting = iter(candidates)
        self.asked = 0  # candidates taken from `waiting`
        # Undecided candidates, asked again: (person, attempt, once `asked` reaches this).
        self.undecided: list[tuple[str, int, int]] = []
        self.lock = threading.Lock()  # for the queue, the model builds and the answers
        self.solvers: list[cp_model.CpSolver | None] = [None, None]
        self.halted = Halt(stop)  # a grid found, or the caller's stop
        self.candidates = frozenset(candidates)
        self.grid: Grid | None = None
        self.ruled_out = 0
        self.all_ruled_out = False  # by the question with every candidate loose

    def run(self) -> None:
        threads = [threading.Thread(target=self._lane, args=(lane,), daemon=True) for lane in (0, 1)]
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            if self.halted.is_set():
                for solver in self.solvers:
                    if solver is not None:
                        solver.stop_search()  # asked again each turn: CP-SAT drops a stop that comes before its search
            for thread in threads:
                thread.join(0.05)

    def _lane(self, lane: int) -> None:
        if lane == 0 and self.candidates:
            self._all_at_once()
        while True:
            with self.lock:  # halted is read here, so no candidate starts after a grid or a stop
                person, attempt = (None, 0) if self.halted.is_set() else self._next()
                left = self.end - time.perf_counter()
                if person is None or left <= MIN_QUESTION_SECONDS:
                    return
                model, starts = zero_break_model(self.compiled, self.broken | {person}, self.floor)
                solver = _one_worker(min(left, CANDIDATE_SECONDS * 2**attempt), self.seed + lane + 2 * attempt)
                self.solvers[lane] = solver
            code = solver.solve(model)
            with self.lock:
                if code in (cp_model.OPTIMAL, cp_model.FEASIBLE) and self.grid is None:
                    self.grid = grid_of(self.compiled, solver, starts)
                    self.halted.set()
                self.ruled_out += code == cp_model.INFEASIBLE
                if code == cp_model.UNKNOWN and attempt < RETRIES and not self.halted.is_set():
                    self.undecided.append((person, attempt + 1, self.asked + RETRY_AFTER))

    def _next(self) -> tuple[str | None, int]:
        """The next candidate to ask and its attempt: an undecided one again
        (at most RETRIES times) once RETRY_AFTER others have been taken since
        (or none are left), else the next in order. The time a candidate's
        question takes is heavy-tailed: ticf-13crafc's p6, whose grid it is,
        took 2.5-4.7 s on one worker (seeds 0-3, an AMD EPYC), and in 2 of 4
        engine runs more than its 6 s, after which the lanes asked every
        other candidate and then the clauses, and the instance ended
        unproven at 60 s."""
        due = bool(self.undecided) and self.undecided[0][2] <= self.asked
        person = None if due else next(self.waiting, None)
        if person is not None:
            self.asked += 1
            return person, 0
        if not self.undecided:
            return None, 0
        person, attempt, _ = self.undecided.pop(0)
        return person, attempt

    def _all_at_once(self) -> None:
        """Ask the model with every candidate loose; when it has no solution, all are ruled out."""
        with self.lock:
            left = self.end - time.perf_counter()
            if self.halted.is_set() or left <= MIN_QUESTION_SECONDS:
                return
            model, _ = zero_break_model(self.compiled, self.broken, self.floor, loose=self.candidates)
            solver = _one_worker(min(left, ALL_AT_ONCE_SECONDS), self.seed)
            self.solvers[0] = solver
        if solver.solve(model) == cp_model.INFEASIBLE:
            with self.lock:
                self.all_ruled_out = True
                self.halted.set()


def _one_worker(seconds: float, seed: int) -> cp_model.CpSolver:
    """One worker with CP-SAT's full presolve and no LP, as the no_lp worker of
    `zero_breaks` (with the LP, p6 of ticf-13crafc is undecided after 6 s)."""
    solver = one_worker(seconds, seed)
    solver.parameters.linearization_level = 0
    return solver


def proven_floor(compiled: Compiled) -> int:
    """A lower bound on the total breaks of every grid of this very compiled
    problem, from what `zero_break_hint` proved (0 when it was not asked).

    The zero-break model holds every rule of a problem `applies` admits
    (domains carry availability, sessions and pins; participants one meeting
    per slot through their window; the tables through the capacity sum) and
    only adds "no break", so its infeasibility means a break somewhere.
    """
    answer: ZeroBreaks | None = compiled.derived.get("zero_breaks")
    if answer is None:
        return 0
    return max(int(answer.none_exists), answer.floor)


# Beyond this many patterns in all the model is not built: the 10-slot B2B
# instances have about 2,800, the 21-slot ones 100,000 to 220,000.
PATTERN_LIMIT = 20_000
WINDOWS_FIRST_SECONDS = 10.0  # for the window model with the proven-broken exempt
MIN_QUESTION_SECONDS = 0.5  # less is not worth building the clauses for
ONE_MORE_SHARE = 0.5  # of the clause budget, for one_more_broken's candidates
ALL_AT_ONCE_SECONDS = 3.0  # for the question with every candidate loose (0.1-0.7 s where it has no solution)
CANDIDATE_SECONDS = 6.0  # for each of them, on one worker (the window model answers most in well under a second)
RETRY_AFTER = 2  # other candidates taken before an undecided one is asked again, with twice the seconds
# Times an undecided candidate is asked again (6 s, then 12 s and 24 s): a
# candidate with no grid that is hard to rule out would otherwise hold a lane
# until the phase ends, where before it was dropped after its 6 s.
RETRIES = 2
QUESTION_SECONDS = 1.0  # for each "at most k breaks?" of the pattern floor


def pattern_floor(compiled: Compiled, seconds: float, seed: int, stop: threading.Event | None = None) -> int:
    """A lower bound on the total breaks from the participants' busy patterns
    and the tables alone (0 when it does not apply).

    Applies when the spread limit d caps everyone's breaks: some participant
    has fewer than two meetings (so the fewest breaks is 0 and everyone has
    at most d). Then in every grid each participant with two or more
    meetings is busy in a set of slots, one per meeting (all held, one slot,
    one day), that (a) has at most d gaps, which are their breaks (every slot
    is counted), and (b) lets their meetings be matched to its slots within
    their domains (the grid is such a matching). Per slot the busy
    participants number twice the meetings there, at most twice the tables.
    The model below asks for exactly that: one such pattern per participant,
    the slot counts within the tables, the gaps minimised. Every grid is a
    solution of it with the same breaks, so its optimum, and any bound CP-SAT
    proves on it, is at most the optimum of the problem. Which meeting goes
    where is left out (that is the relaxation).

    On tic-13crafc and forumt-14crafe this gives the published optima (4
    and 5 breaks), where the participants' floors give 0 and 4 (docs/engine.md).
    """
    limit = compiled.problem.objective.break_spread_limit
    if limit is None or not has_loner(compiled):
        return 0
    patterns = _patterns(compiled, limit)
    if patterns is None or not all(patterns.values()):
        return 0  # too many patterns, or someone has none (no grid: CP-SAT will say so)
    model = cp_model.CpModel()
    in_slot: dict[int, list] = defaultdict(list)
    gaps = []
    for person, options in patterns.items():
        literals = []
        for slots, count in options:
            literal = model.new_bool_var(f"p_{person}")
            literals.append(literal)
            for slot in slots:
                in_slot[slot].append(literal)
            if count:
                gaps.append(count * literal)
        model.add_exactly_one(literals)
    for info in compiled.meetings:  # a meeting with a participant of one meeting takes its slot alone
        alone = [person for person in info.people if person not in patterns]
        if alone:
            starts = {start: model.new_bool_var(f"m{info.index}") for start in info.starts}
            model.add_exactly_one(starts.values())
            for start, literal in starts.items():
                in_slot[start].extend([literal] * len(alone))
    tables = compiled.classes[0].size
    for literals in in_slot.values():
        model.add(sum(literals) <= 2 * tables)
    most = sum(max(count for _, count in options) for options in patterns.values())
    total = model.new_int_var(0, most, "gaps")
    model.add(total == sum(gaps))
    # First asked "at most k?" for k = 0, 1, ...: each INFEASIBLE raises the
    # floor by one, and presolve settles most in hundredths of a second
    # (forumt-14crafe: 5 in 0.25 s, where minimising took 1.6-9.7 s, as it
    # needs a pattern set of 5 to close, and stopped at 4 under load). When a
    # question stays open, minimising: on tic-13crafc "at most 2?" is open
    # after 8 s, while the LP of the minimisation proves 4 in about 2 s.
    deadline = time.perf_counter() + seconds
    floor, code = 0, cp_model.INFEASIBLE
    while code == cp_model.INFEASIBLE and floor <= most and (left := deadline - time.perf_counter()) > 0:
        model.proto.variables[total.index].domain[1] = floor  # total in [0, floor]
        code, _ = _solve(model, min(left, QUESTION_SECONDS), seed, stop)
        floor += code == cp_model.INFEASIBLE
    if floor > most:
        return 0  # no pattern set at all: the problem has no grid, which is CP-SAT's to say
    if code != cp_model.UNKNOWN or (left := deadline - time.perf_counter()) <= 0:
        return floor
    model.proto.variables[total.index].domain[1] = most
    model.minimize(total)
    code, bound = _solve(model, left, seed, stop)
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        floor = max(floor, math.ceil(bound - 1e-6))
    return floor


def _solve(
    model: cp_model.CpModel, seconds: float, seed: int, stop: threading.Event | None
) -> tuple[cp_model.CpSolverStatus, float]:
    """CP-SAT's status and objective bound, default workers (their LP is what bounds the minimisation)."""
    solver, code = _run(model, seconds, seed, stop)
    return code, solver.best_objective_bound


def _run(
    model: cp_model.CpModel,
    seconds: float,
    seed: int,
    stop: threading.Event | None,
    subsolvers: tuple[str, ...] = (),
) -> tuple[cp_model.CpSolver, cp_model.CpSolverStatus]:
    """Solve with two workers (and these subsolvers), stoppable from another thread."""
    solver = quiet_solver()
    params = solver.parameters
    params.num_workers = 2
    params.random_seed = cp_sat_seed(seed)
    params.max_time_in_seconds = seconds
    params.subsolvers.extend(subsolvers)
    finished = watch_stop(solver, stop)
    try:
        code = solver.solve(model)
    finally:
        if finished is not None:
            finished.set()
    return solver, code


def _patterns(compiled: Compiled, limit: int) -> dict[str, list[tuple[tuple[int, ...], int]]] | None:
    """participant with two or more meetings -> (busy slots, gaps) of each
    admissible pattern; None when there would be more than PATTERN_LIMIT in all."""
    size = compiled.grid.size
    widths = [len(compiled.meetings_of(person)) for person in compiled.people]
    if sum(_count_runs(size, width, limit + 1) for width in widths if width >= 2) > PATTERN_LIMIT:
        return None
    found: dict[str, list[tuple[tuple[int, ...], int]]] = {}
    for person in compiled.people:
        infos = compiled.meetings_of(person)
        if len(infos) < 2:
            continue
        domains = [set(info.starts) for info in infos]
        options = []
        for slots in _runs(compiled.grid.size, len(infos), limit + 1):
            chosen = set(slots)
            if perfect_matching([domain & chosen for domain in domains]):
                options.append((slots, sum(later - earlier > 1 for earlier, later in pairwise(slots))))
        found[person] = options
    return found


def _count_runs(size: int, busy: int, most: int) -> int:
    """How many sets `_runs` yields: k runs are a composition of `busy` into k
    parts and k gaps placed among the size - busy idle slots (stars and bars)."""
    return sum(math.comb(busy - 1, runs - 1) * math.comb(size - busy + 1, runs) for runs in range(1, most + 1))


def _runs(size: int, busy: int, most: int, first: int = 0) -> Iterator[tuple[int, ...]]:
    """Every set of `busy` slots in range(first, size) made of at most `most`
    runs of consecutive slots ."""
    if busy == 0:
        yield ()
        return
    if most == 0:
        return
    for start in range(first, size - busy + 1):
        for length in range(1, min(busy, size - start) + 1):
            run = tuple(range(start, start + length))
            for rest in _runs(size, busy - length, most - 1, start + length + 1):
                yield run + rest
