"""The search for large forums (UNGA scale): local search from greedy's grid,
with a bound computed from the domains.

Measured on examples/unga-week.json (1,100 meetings, 2 workers): the full
CP-SAT model (870 k terms, mostly breaks) ends a 30 s run with greedy's grid
(9,580, gap 86%) at 1.06 GB. Breaks are local, though: moving one meeting
changes only its attendees' days. The local search of solver/localsearch.py
prices every move by the exact objective change and checks every rule with
the greedy's ledger; it reaches about 1,850 in 60 s at about 115 MB
(median of three seeds, docs/benchmarks.md).

A held-first stage (CP-SAT without the breaks term, then local search from
its grid) was measured too: it proves held + fairness = 1,300 in 10-20 s,
but leaves the local search less time and a grid with more breaks to start
from: 2,310 against 2,130 at 60 s, 2,700 against 2,450 at 30 s (two runs
side by side on the same machine), at 5x the memory. Its bound is the same
1,300 that the domains give without any search (`domain_bound`).

Used only where the plain search is weak and local moves are exact: many
meetings, weighted objective, no break spread limit (not local), musts not
hard (the benchmarks' feasibility question stays with CP-SAT), and not in
deterministic mode (the local search stops on the clock).
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable

from solver import focus
from solver.compile import Compiled
from solver.localsearch import improve
from solver.result import Progress
from solver.search import ProgressHandler, SearchOutcome, SearchSettings, relative_gap
from solver.stopping import Halt
from solver.terms import Assignment, total_cost
from solver.twin import Job, TwinSearch, spare_waiting

LARGE_FORUM_MEETINGS = 500
LARGE_MODEL_PAIRS = 20_000  # (start, room class) pairs over all meetings
# The focused search runs in epochs: the first FIRST_EPOCH seconds, each next one
# twice as long, each from the best grid so far with another seed. Its annealing
# cools over the time it is given, so one long run reached what a short one finds
# only late: cdma's optimum after 7.8 s at a 1,000 s limit against 0.35 s at 10 s
# (nineteenth session).
FIRST_EPOCH = 5.0
LAST_EPOCH_STRETCH = 1.5  # a remainder up to this many epochs is taken whole, not split off
EPOCH_SEED_STEP = 7_919
TWIN_LATE = 1.0  # seconds the twin may take past the deadline to hand in its grid (it starts later)
# A twin started afresh (no prewarmed one waiting) imports and compiles before it
# searches: with less time left than this it hands back its start unchanged and
# the solve only waits for it. Measured (2026-11-29, UNGA re-solve, one departure
# change, Intel Xeon): at limits of 0.5 and 1 s the fresh twin's grid was its
# start each time (0.2-0.6 s waited for it), at 1.5 s it improved on it.
TWIN_START = 1.0


def use_local_search(compiled: Compiled, settings: SearchSettings) -> bool:
    """Where local moves are exact: weighted objective, no break spread limit
    (not local), musts not hard (the benchmarks' feasibility question stays
    with CP-SAT), and not in deterministic mode (the search stops on the clock)."""
    objective = compiled.problem.objective
    return (
        objective.mode == "weighted"
        and objective.break_spread_limit is None
        and not objective.must_is_hard
        and not settings.deterministic
    )


def local_search_only(compiled: Compiled) -> bool:
    """Forums whose CP-SAT model is too big to help within seconds.

    Measured on Shangri-La (121 meetings, 64,282 domain pairs, loaded machine):
    building the model took 1-3 s of a 5 s solve (sharing the interpreter
    with the local search), presolve overran its share by a second, and
    CP-SAT found no grid at all; at 30 s alone it ends at 1,440 where the
    local search reaches 830 in 10 s. Its bound there is the domains' one.
    """
    pairs = sum(len(info.domain) for info in compiled.meetings)
    return len(compiled.meetings) >= LARGE_FORUM_MEETINGS or pairs > LARGE_MODEL_PAIRS


def domain_bound(compiled: Compiled) -> int:
    """A lower bound of the objective from what no grid can place.

    A meeting with an empty domain is never held (its weight, and its moved
    time if it was placed before, are always paid); a delegation can at best
    hold the meetings that have a domain, which caps the worst share.
    Breaks and preferences cost at least nothing.
    """
    weights = compiled.problem.objective.weights
    held = stability = 0
    requested: dict[str, int] = defaultdict(int)
    possible: dict[str, int] = defaultdict(int)
    for info in compiled.meetings:
        for delegation in info.delegations:
            requested[delegation] += 1
            possible[delegation] += bool(info.domain)
        if not info.domain:
            held += info.weight
            stability += weights.moved_time if info.previous is not None else 0
    best_share = min((100 * possible[d] // n for d, n in requested.items()), default=100)
    fairness = weights.fairness * (100 - best_share) if requested else 0
    return held + fairness + stability


def local_search_solve(
    compiled: Compiled,
    settings: SearchSettings,
    baseline: Assignment,
    clock_start: float,
    on_progress: ProgressHandler | None = None,
    stop: threading.Event | None = None,
    twin: bool = False,
) -> tuple[Assignment, SearchOutcome]:
    """The best grid found until the time limit (counted from `clock_start`),
    or until it reaches the bound, and its outcome. With `twin`, a second
    search from another seed runs in a child process (solver/twin.py) and
    the cheaper grid wins."""
    now = time.perf_counter()
    deadline = max(clock_start + settings.time_limit, now + 0.2)
    bound = domain_bound(compiled)
    first_solution = round(now - clock_start, 3)  # greedy's grid, where the search starts
    reporter = _Reporter(on_progress, bound, clock_start)
    reporter.report(total_cost(compiled, baseline))
    halt = Halt(stop)
    if twin and not spare_waiting() and deadline - now < TWIN_START:
        twin = False  # it could not search before the deadline
    other = _start_twin(compiled, baseline, deadline, settings.seed + 1, bound, halt) if twin else None

    def on_best(objective: int) -> None:
        """This search's best, about once a second: reported with the twin's, if
        that is cheaper (the engine keeps the cheaper grid), when it improved."""
        if other is not None and other.best is not None:
            objective = min(objective, other.best)
        if objective < reporter.last:
            reporter.report(objective)

    assignment = search_grid(
        compiled, baseline, deadline, settings.seed, halt, bound, on_best if on_progress is not None else None
    )
    objective = total_cost(compiled, assignment)
    if other is not None:
        # Not a moment longer when this grid is optimal or the caller asked to stop.
        waited = 0.0 if objective <= bound or halt.is_set() else deadline - time.perf_counter() + TWIN_LATE
        answer = other.finish(waited)
        if answer is not None and (cost := total_cost(compiled, answer)) < objective:
            assignment, objective = answer, cost
    reporter.report(objective)
    outcome = SearchOutcome(
        status="OPTIMAL" if objective <= bound else "FEASIBLE",
        chosen={},
        objective=objective,
        bound=bound,
        first_solution_seconds=first_solution,
        variables=0,
        constraints=0,
        searches=1 + (other is not None),
    )
    return assignment, outcome


def search_grid(
    compiled: Compiled,
    start: Assignment,
    deadline: float,
    seed: int,
    stop: threading.Event | None,
    floor: int,
    on_best: Callable[[int], None] | None = None,
) -> Assignment:
    """One search's grid (this process's or the twin's): on the largest forums
    the plain local search, elsewhere solver/focus.py's search in epochs of
    FIRST_EPOCH seconds and then twice the last, so that a generous limit
    does not delay the grid a short one finds. `on_best` hears the best grid's
    objective as it goes: about once a second on the largest forums
    (`LocalSearch.run`), after each epoch elsewhere."""
    if len(compiled.meetings) >= LARGE_FORUM_MEETINGS:
        return improve(compiled, start, deadline, seed, stop, floor, on_best=on_best).assignment
    best, best_cost, epoch = start, total_cost(compiled, start), FIRST_EPOCH
    for round_number in itertools.count():
        now = time.perf_counter()
        end = deadline if deadline - now <= LAST_EPOCH_STRETCH * epoch else now + epoch
        found = focus.search(compiled, best, end, seed + round_number * EPOCH_SEED_STEP, stop, floor)
        if (cost := total_cost(compiled, found)) < best_cost:
            best, best_cost = found, cost
            if on_best is not None:
                on_best(best_cost)
        if end >= deadline or best_cost <= floor or (stop is not None and stop.is_set()):
            break
        epoch *= 2
    return best


def _start_twin(
    compiled: Compiled, baseline: Assignment, deadline: float, seed: int, bound: int, halt: Halt
) -> TwinSearch | None:
    """The second search; its grid reaching the bound stops this process's search."""

    def on_answer(answer: Assignment) -> None:
        if total_cost(compiled, answer) <= bound:
            halt.set()

    job = Job(
        compiled.problem, baseline, time.monotonic() + (deadline - time.perf_counter()), seed, bound, compiled.pinned
    )
    try:
        return TwinSearch(job, on_answer)
    except OSError:  # no process to be had (limits, no interpreter path): one search it is
        return None


class _Reporter:
    """Progress reports of one solve: the same bound each time, numbered."""

    def __init__(self, on_progress: ProgressHandler | None, bound: int, clock_start: float) -> None:
        self.on_progress = on_progress
        self.bound = bound
        self.clock_start = clock_start
        self.last = math.inf  # the objective last reported
        self.count = 0

    def report(self, objective: int) -> None:
        self.last, self.count = objective, self.count + 1
        if self.on_progress is not None:
            elapsed = time.perf_counter() - self.clock_start
            gap = relative_gap(objective, self.bound)
            self.on_progress(Progress(elapsed, objective, self.bound, gap, self.count))
