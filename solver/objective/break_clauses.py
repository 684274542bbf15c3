"""Few breaks as clauses: a grid with at most k breaks, or a proof that there is none.

For the B2B-shaped problems of break_windows.py whose zero-break model is
infeasible. There the question is "a grid with k breaks?" for k at the floor
already proven, and the optimising model, whose breaks term is a sum CP-SAT
handles natively, rarely answers it in a minute (forum-14: 42 breaks after
20 s against an optimum of 2). Written instead as the MaxSAT encoding of the
JAIR paper, every cardinality as Sinz's sequential counter (clauses over
partial-count literals that the SAT search can learn on), CP-SAT with one
worker finds the optimal grids of tic-13crafc, ticf-13crafc and forum-13crafc
in 7-30 s (docs/engine.md, seventh session). The counters are what matter:
with native sums the same model gave 12 breaks for forum-13crafc's 1 at 20 s.
One exception, measured in the twelfth session: the table capacities of the
floor's question alone (`two_rungs(floor_only=True)`, asked when a grid is
likely) are linear sums, which found ticf-14crafa's break-free grid in about
half the time; on the rungs that need a proof they were twice as slow.

Per participant p and slot t: busy[p][t] (p in some meeting at t),
seen[p][t] (p busy at t or before) and ends[p][t] (a break of p ends at
t + 1: idle at t, busy at t + 1, busy before). A break is a maximal idle run
between two meetings, so p's breaks are exactly the ends literals a grid
must set; the clauses force them and nothing sets more when the total is
capped. The busy slots add up to p's meetings; at most twice the tables are
busy per slot (both are implied, and both help the search).

Each participant also gets a literal "no break" (`break_free`), tied to the
windows of break_windows.py's view, and at most k of them are false. Also
implied, and it pays: the search then settles who breaks before where, as
the window model with a few exempt does (ninth session, docs/engine.md: one
lane's median over ten seeds 16 s against 24 s on ticf-13crafb "at most 3?",
12 s against 21 s on forum-13crafb "at most 6?").
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from ortools.sat.python import cp_model

from solver.compile import Compiled
from solver.objective.break_bounds import window_starts
from solver.stopping import cp_sat_seed, quiet_solver

if TYPE_CHECKING:
    # A variable or its negation (`~x`): ortools 9.12+ types both as Literal, IntVar's base class.
    from ortools.sat.python.cp_model_helper import Literal
else:
    Literal = cp_model.IntVar  # older ortools have no such class; IntVar stands in at run time
Grid = dict[int, tuple[int, int]]  # meeting index -> (start, room class)
MIN_LANE_SECONDS = 0.3  # less is spent loading the clauses before any search


def at_most(model: cp_model.CpModel, literals: Sequence[Literal], most: int) -> None:
    """At most `most` of `literals` true, as a sequential counter (Sinz 2005):
    counts[i][j] says that at least j + 1 of the first i + 1 are true."""
    if most >= len(literals):
        return
    if most == 0:
        for literal in literals:
            model.add_bool_or([~literal])
        return
    counts = [[model.new_bool_var("") for _ in range(most)] for _ in literals]
    for i, literal in enumerate(literals):
        model.add_bool_or([~literal, counts[i][0]])
        if i == 0:
            for j in range(1, most):
                model.add_bool_or([~counts[0][j]])
            continue
        model.add_bool_or([~counts[i - 1][0], counts[i][0]])
        for j in range(1, most):
            model.add_bool_or([~literal, ~counts[i - 1][j - 1], counts[i][j]])
            model.add_bool_or([~counts[i - 1][j], counts[i][j]])
        model.add_bool_or([~literal, ~counts[i - 1][most - 1]])


def exactly(model: cp_model.CpModel, literals: Sequence[Literal], count: int) -> None:
    """Exactly `count` true: at most `count` of them and at most the rest of their negations."""
    at_most(model, literals, count)
    if count == 1:
        model.add_bool_or(literals)
    else:
        at_most(model, [~literal for literal in literals], len(literals) - count)


def few_breaks_model(compiled: Compiled, most: int, each: int | None, broken: frozenset[str] = frozenset()) -> Rung:
    """The model of "at most `most` breaks in all and `each` per participant" (None: no cap
    each); meeting index -> start -> literal. `broken`: participants proven
    to have a break in every grid. Saying so is redundant, but when they are
    as many as `most` the counter then rules out every other break at once
    (forum-14: two such participants, optimum 2). Also returns the "no break"
    literals (`break_free`) of the participants with two meetings or more."""
    return capped(uncapped_model(compiled, each, broken), most)


# model, starts (meeting index -> start -> literal), "no break" literals
Rung = tuple[cp_model.CpModel, list[dict[int, cp_model.IntVar]], list[cp_model.IntVar]]
# model, starts, break ends, "no break" literals
Uncapped = tuple[cp_model.CpModel, list[dict[int, cp_model.IntVar]], list[cp_model.IntVar], list[cp_model.IntVar]]


def capped(uncapped: Uncapped, most: int, clone: bool = False) -> Rung:
    """The model of `uncapped_model` (or a copy of it) with at most `most` breaks in all."""
    model, starts, ends, unbroken = uncapped
    if clone:
        model = model.clone()  # the literals keep their indices in the copy
    at_most(model, ends, most)
    # Redundant: each participant with a break has one at least, so at most
    # `most` participants are without a window (see the module docstring).
    at_most(model, [~literal for literal in unbroken], most)
    return model, starts, unbroken


def sum_at_most(model: cp_model.CpModel, literals: Sequence[Literal], most: int) -> None:
    """At most `most` of `literals` true, as one linear constraint (CP-SAT's own)."""
    if most < len(literals):
        model.add(sum(literals) <= most)


class OutOfTime(Exception):
    """The clauses' build passed its deadline (or was stopped): nothing is left to search with."""


def uncapped_model(
    compiled: Compiled,
    each: int | None,
    broken: frozenset[str] = frozenset(),
    sums: bool = False,
    deadline: float = math.inf,
    stop: threading.Event | None = None,
) -> Uncapped:
    """`few_breaks_model` without its cap on the breaks in all, and the break-end
    literals that the cap counts: what two rungs have in common, built once.
    With `sums`, the tables are capped by linear sums instead of sequential
    counters (see `two_rungs` for when each is faster). Raises OutOfTime when
    the build is still going at `deadline` or once `stop` is set: the build
    takes 1-2 s at forum-13crafb, so a short limit was overrun by it."""
    capacity = sum_at_most if sums else at_most
    model = cp_model.CpModel()
    tables = compiled.classes[0].size
    starts: list[dict[int, cp_model.IntVar]] = []
    in_slot: dict[int, list[cp_model.IntVar]] = defaultdict(list)
    for info in compiled.meetings:
        by_start = {start: model.new_bool_var("") for start in info.starts}
        exactly(model, list(by_start.values()), 1)
        starts.append(by_start)
        for start, literal in by_start.items():
            in_slot[start].append(literal)
    for literals in in_slot.values():
        capacity(model, literals, tables)
    busy_in_slot: dict[int, list[cp_model.IntVar]] = defaultdict(list)
    ends: list[cp_model.IntVar] = []
    unbroken: list[cp_model.IntVar] = []
    for person in compiled.people:
        if time.perf_counter() > deadline or (stop is not None and stop.is_set()):
            raise OutOfTime
        busy, theirs = counted_breaks(compiled, model, person, starts, each)
        for slot, literal in enumerate(busy):
            busy_in_slot[slot].append(literal)
        if person in broken:
            model.add_bool_or(theirs)
        ends.extend(theirs)
        if len(compiled.meetings_of(person)) >= 2:
            unbroken.append(break_free(compiled, model, person, busy, theirs))
    for literals in busy_in_slot.values():
        capacity(model, literals, 2 * tables)
    return model, starts, ends, unbroken


def break_free(
    compiled: Compiled, model: cp_model.CpModel, person: str, busy: Sequence[Literal], ends: Sequence[Literal]
) -> cp_model.IntVar:
    """A literal true exactly when the person has no break: then their meetings
    fill one of the windows of break_bounds.window_starts (break_windows.py's
    view), and the search can decide who breaks before where."""
    free = model.new_bool_var("")
    width = len(compiled.meetings_of(person))
    windows = [(first, model.new_bool_var("")) for first in window_starts(compiled, person)]
    model.add_bool_or([~free, *(window for _, window in windows)])
    model.add_at_most_one(window for _, window in windows)
    for first, window in windows:
        model.add_implication(window, free)
        for slot in range(first, first + width):
            model.add_bool_or([~window, busy[slot]])
    model.add_bool_or([free, *ends])
    for end in ends:
        model.add_implication(end, ~free)
    return free


def counted_breaks(
    compiled: Compiled, model: cp_model.CpModel, person: str, starts: Sequence[Mapping[int, Literal]], each: int | None
) -> tuple[list[cp_model.IntVar], list[cp_model.IntVar]]:
    """The person's busy literals per slot and break-end literals, at most `each` of those (None: no cap)."""
    busy = _busy(compiled, model, person, starts)
    ends = _break_ends(model, busy)
    if each is not None:
        at_most(model, ends, each)
    return busy, ends


def _busy(
    compiled: Compiled, model: cp_model.CpModel, person: str, starts: Sequence[Mapping[int, Literal]]
) -> list[cp_model.IntVar]:
    """busy[t] for each slot: one of the person's meetings at t (at most one), their count the meetings'."""
    theirs = compiled.meetings_of(person)
    busy = []
    for slot in range(compiled.grid.size):
        here = [starts[info.index][slot] for info in theirs if slot in starts[info.index]]
        literal = model.new_bool_var("")
        for meeting in here:
            model.add_bool_or([~meeting, literal])
        model.add_bool_or([~literal, *here])
        at_most(model, here, 1)
        busy.append(literal)
    exactly(model, busy, len(theirs))
    return busy


def _break_ends(model: cp_model.CpModel, busy: Sequence[Literal]) -> list[cp_model.IntVar]:
    """ends[t]: forced when the person is idle at t, busy at t + 1 and busy at some slot up to t."""
    seen = [model.new_bool_var("") for _ in busy]
    for slot, literal in enumerate(busy):
        model.add_bool_or([~literal, seen[slot]])
        if slot:
            model.add_bool_or([~seen[slot - 1], seen[slot]])
    ends = []
    for slot in range(len(busy) - 1):
        end = model.new_bool_var("")
        model.add_bool_or([~busy[slot + 1], ~seen[slot], busy[slot], end])
        ends.append(end)
    return ends


def one_worker(seconds: float, seed: int) -> cp_model.CpSolver:
    """A solver of one worker that leaves SIGINT to Python (`quiet_solver`)."""
    solver = quiet_solver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = cp_sat_seed(seed)
    solver.parameters.max_time_in_seconds = seconds
    return solver


def _single_worker(seconds: float, seed: int) -> cp_model.CpSolver:
    """One search, without CP-SAT's presolve: on these models of half a million
    clauses it cost about 20 s and gained nothing (forum-13crafb "at most 5?"
    ruled out in 5 s instead of 24, ticf-13crafb "at most 2?" in 3 s instead
    of 24, its grid of 3 in 28-29 s instead of 40-44)."""
    solver = one_worker(seconds, seed)
    solver.parameters.cp_model_presolve = False
    return solver


def two_rungs(
    compiled: Compiled,
    floor: int,
    each: int | None,
    seconds: float,
    seed: int,
    stop: threading.Event | None = None,
    broken: frozenset[str] = frozenset(),
    floor_only: bool = False,
) -> tuple[Grid | None, int]:
    """Ask "at most `floor` breaks?" and "at most `floor` + 1?" side by side,
    one worker each: the proof that the first has no grid and the search for
    a grid of the second are both needed when the optimum is one above the
    floor, and take about as long each (forum-13crafb: 24.6 s and 29.5 s one
    after the other). Once the first is ruled out, its core joins the second
    with another search (`who_breaks_first`). With `floor_only`, both cores
    ask the floor's question with two seeds (for a question that is likely
    to have a grid, and slow to find it). Returns a grid (None if neither
    found one) and the floor proven: the grid is optimal when its cap equals
    that floor."""
    deadline = time.perf_counter() + seconds
    # One build for both rungs (about a second each at forum-13crafb). The
    # floor's question alone is asked where a grid is likely, and there the
    # tables as linear sums found it sooner (ticf-14crafa, engine seeds 0-2:
    # 10.5-13.5 s in all against 17.4-22.7 s); where a rung needs its proof the
    # counters are faster (ticf-13crafb: 22-24 s, and 46-54 s with sums).
    try:
        uncapped = uncapped_model(compiled, each, broken, floor_only, deadline, stop)
    except OutOfTime:
        return None, floor
    if deadline - time.perf_counter() < MIN_LANE_SECONDS:
        return None, floor  # capping and copying the model take a few tenths more
    if floor_only:  # one model per thread: the floor's itself, a clone for the second
        rungs = [capped(uncapped, floor)]
        models = [(0, rungs[0][0]), (0, rungs[0][0].clone())]
    else:  # the first caps a copy, taken before the second caps the model itself
        rungs = [capped(uncapped, floor, clone=True), capped(uncapped, floor + 1)]
        models = [(0, rungs[0][0]), (1, rungs[1][0])]
    # The builds count against the deadline: 1-2 s at forum-13crafb, by which
    # short time limits were overrun (nineteenth session). Loading this model
    # takes CP-SAT about 0.4 s even with no time to search it.
    seconds = deadline - time.perf_counter()
    if seconds < MIN_LANE_SECONDS:
        return None, floor
    lanes = [_Lane(rung, model, _single_worker(seconds, seed + lane)) for lane, (rung, model) in enumerate(models)]
    while not _settled(lanes, floor_only) and any(lane.thread.is_alive() for lane in lanes):
        if stop is not None and stop.is_set():
            break
        joins = not floor_only and len(lanes) == 2 and lanes[0].code == cp_model.INFEASIBLE
        if joins and (left := deadline - time.perf_counter()) > 1:
            lanes.append(_Lane(1, *who_breaks_first(rungs[1], left, seed + 2)))
        time.sleep(0.05)
    for lane in lanes:
        lane.halt()
    answered = {lane.rung: lane for lane in lanes if lane.code in (cp_model.OPTIMAL, cp_model.FEASIBLE)}
    ruled_out = {lane.rung for lane in lanes if lane.code == cp_model.INFEASIBLE}
    floor += 2 if 1 in ruled_out else int(0 in ruled_out)  # no grid at floor + 1: none at the floor either
    for rung in (0, 1):
        if rung in answered:
            return grid_of(compiled, answered[rung].solver, rungs[rung][1]), floor
    return None, floor


def who_breaks_first(rung: Rung, seconds: float, seed: int) -> tuple[cp_model.CpModel, cp_model.CpSolver]:
    """The joining core's search: not another seed of the same one but a
    different search, for a portfolio of two (the times of one search are
    heavy-tailed). It settles who has no break first, everyone by default,
    then the rest as usual. One lane alone, seeds 1-4: ticf-13crafb "at most
    3?" 8.5-11.3 s against 11.5-26.8 s; forum-13crafb "at most 6?" 13.7-20.8 s
    against 11.0-16.3 s (docs/engine.md, ninth session)."""
    model = rung[0].clone()
    model.add_decision_strategy(rung[2], cp_model.CHOOSE_FIRST, cp_model.SELECT_MAX_VALUE)
    solver = _single_worker(seconds, seed)
    solver.parameters.search_branching = cp_model.FIXED_SEARCH
    return model, solver


class _Lane:
    """One single-worker search of one rung, in its own thread."""

    def __init__(self, rung: int, model: cp_model.CpModel, solver: cp_model.CpSolver) -> None:
        self.rung, self.solver = rung, solver
        self.code: cp_model.CpSolverStatus | None = None
        self.thread = threading.Thread(target=self._run, args=(model,), daemon=True)
        self.thread.start()

    def _run(self, model: cp_model.CpModel) -> None:
        self.code = self.solver.solve(model)

    def halt(self) -> None:
        """Stop the search and wait for its end. CP-SAT drops a stop asked
        before its search has begun, so it is asked again until the thread ends."""
        while self.thread.is_alive():
            self.solver.stop_search()
            self.thread.join(0.05)


def _settled(lanes: list[_Lane], floor_only: bool = False) -> bool:
    """Nothing more to learn: a grid at the floor, the next rung ruled out,
    or the floor ruled out and the next rung answered (or not asked)."""
    codes = {rung: {lane.code for lane in lanes if lane.rung == rung} for rung in (0, 1)}
    grid = {cp_model.OPTIMAL, cp_model.FEASIBLE}
    if codes[0] & grid or cp_model.INFEASIBLE in codes[1]:
        return True
    return cp_model.INFEASIBLE in codes[0] and (floor_only or bool(codes[1] & grid))


def grid_of(compiled: Compiled, solver: cp_model.CpSolver, starts: Sequence[Mapping[int, Literal]]) -> Grid:
    """The solved start of each meeting, in the one room class of a B2B-shaped problem."""
    room_class = compiled.classes[0].index
    return {
        index: (next(start for start, literal in literals.items() if solver.boolean_value(literal)), room_class)
        for index, literals in enumerate(starts)
    }
