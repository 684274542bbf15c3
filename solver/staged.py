"""The search for large forums (UNGA scale): which meetings first, then where.

Measured on examples/unga-week.json (1,100 meetings, 2 workers): the full
CP-SAT model (870 k terms, mostly breaks) ends a 30 s run with greedy's grid
and an 86% gap. Split in two, each part is easy:

1. Held stage: CP-SAT on the model without the breaks term. It places every
   meeting that can be placed and proves it in about 10 s, and its bound is
   a lower bound of the whole objective (breaks cost >= 0).
2. Placement stage: local search (solver/localsearch.py) from the better of
   that grid and greedy's, moving one meeting at a time to where the exact
   objective is lowest; it brings greedy's 588 breaks down by a factor of
   five in a few seconds.

Used only where the plain search is weak and the decomposition exact: many
meetings, weighted objective, no break spread limit (not local), musts not
hard (the benchmarks' feasibility question stays with CP-SAT), and not in
deterministic mode (the local search stops on the clock).
"""

from __future__ import annotations

import math
import threading
import time

from ortools.sat.python import cp_model

from solver.compile import Compiled
from solver.constraints import add_hard_rules
from solver.formulation import Formulation
from solver.localsearch import improve
from solver.objective import TERM_BUILDERS
from solver.result import Progress
from solver.rooms import assign_rooms
from solver.search import (
    ProgressHandler,
    SearchOutcome,
    SearchSettings,
    _add_hint,
    _parameters,
    _watch,
    relative_gap,
)
from solver.terms import Assignment, evaluate

LARGE_FORUM_MEETINGS = 500
# The held stage is worth starting only with this much time left (its model
# alone takes about a second to build at UNGA scale, its proof about ten).
HELD_STAGE_MIN_SECONDS = 20.0
HELD_STAGE_SHARE = 0.4  # of the time left; the stage returns as soon as it is optimal
HELD_STAGE_TERMS = tuple(term for term in TERM_BUILDERS if term != "breaks")


def use_staged_search(compiled: Compiled, settings: SearchSettings) -> bool:
    objective = compiled.problem.objective
    return (
        len(compiled.meetings) >= LARGE_FORUM_MEETINGS
        and objective.mode == "weighted"
        and objective.break_spread_limit is None
        and not objective.must_is_hard
        and not settings.deterministic
    )


def staged_search(
    compiled: Compiled,
    settings: SearchSettings,
    baseline: Assignment,
    clock_start: float,
    on_progress: ProgressHandler | None = None,
    stop: threading.Event | None = None,
) -> tuple[Assignment, SearchOutcome]:
    """The best grid found and the outcome (bound from the held stage, if it ran)."""
    deadline = clock_start + settings.time_limit
    start, bound, stats = baseline, None, (0, 0)
    if deadline - time.perf_counter() >= HELD_STAGE_MIN_SECONDS:
        held_grid, bound, stats = _held_stage(compiled, settings, baseline, deadline, stop)
        if held_grid is not None and _placement_free_cost(compiled, held_grid) < _placement_free_cost(
            compiled, baseline
        ):
            start = held_grid
    first_solution = time.perf_counter() - clock_start
    _report(on_progress, compiled, start, bound, clock_start)
    result = improve(compiled, start, max(deadline, time.perf_counter() + 0.2), settings.seed, stop)
    _report(on_progress, compiled, result.assignment, bound, clock_start)
    objective = sum(evaluate(compiled, result.assignment).values())
    outcome = SearchOutcome(
        status="OPTIMAL" if bound is not None and objective <= bound else "FEASIBLE",
        chosen={},
        objective=objective,
        bound=bound,
        first_solution_seconds=round(first_solution, 3),
        variables=stats[0],
        constraints=stats[1],
    )
    return result.assignment, outcome


def _placement_free_cost(compiled: Compiled, assignment: Assignment) -> int:
    """The objective without breaks: what the held stage minimises."""
    terms = evaluate(compiled, assignment)
    return sum(terms[term] for term in HELD_STAGE_TERMS)


def _held_stage(
    compiled: Compiled, settings: SearchSettings, baseline: Assignment, deadline: float, stop: threading.Event | None
) -> tuple[Assignment | None, int | None, tuple[int, int]]:
    """CP-SAT without the breaks term: (grid, bound on the whole objective, model size)."""
    formulation = Formulation.build(compiled)
    add_hard_rules(formulation)
    for term in HELD_STAGE_TERMS:
        formulation.terms[term] = TERM_BUILDERS[term](formulation)
    _add_hint(formulation, baseline)
    formulation.model.minimize(sum(formulation.terms.values()))
    solver = cp_model.CpSolver()
    _parameters(solver, settings, max(0.2, (deadline - time.perf_counter()) * HELD_STAGE_SHARE))
    watcher = _watch(solver, stop)
    try:
        code = solver.solve(formulation.model)
    finally:
        if watcher is not None:
            watcher.set()
    size = (len(formulation.model.proto.variables), len(formulation.model.proto.constraints))
    # CP-SAT's bound is proven whether or not it has found a grid yet (on a
    # busy machine the stage can end before its first solution).
    bound = solver.best_objective_bound if code != cp_model.MODEL_INVALID else -math.inf
    bound = max(0, math.ceil(bound - 1e-6)) if math.isfinite(bound) else None
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, bound, size
    return assign_rooms(compiled, formulation.value_of_choices(solver)), bound, size


def _report(
    on_progress: ProgressHandler | None,
    compiled: Compiled,
    assignment: Assignment,
    bound: int | None,
    clock_start: float,
) -> None:
    if on_progress is None:
        return
    objective = sum(evaluate(compiled, assignment).values())
    elapsed = time.perf_counter() - clock_start
    on_progress(Progress(elapsed, objective, bound, relative_gap(objective, bound), 1))
