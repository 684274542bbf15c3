"""The engine's entry point: a problem in, a meeting grid out.

The greedy baseline always runs first: it is the warm start of CP-SAT and
the floor of the answer, so a solve is never worse than greedy even when
the time limit stops CP-SAT before its first solution.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import replace

import msgspec

from solver import twin
from solver.compaction import compaction_hint
from solver.compile import Compiled, compile_problem
from solver.explain import explain_infeasible, explain_unplaced
from solver.formulation import Formulation
from solver.greedy import greedy_assign
from solver.grid import placements_of
from solver.large import local_search_only, local_search_solve, use_local_search
from solver.model import Problem
from solver.options import SolveOptions as SolveOptions  # re-exported: callers import it from here
from solver.result import Progress, Schedule, SolveStats, Status
from solver.rooms import assign_rooms
from solver.search import ProgressHandler, SearchOutcome, SearchSettings, relative_gap, run_search
from solver.stopping import Halt
from solver.terms import Assignment, breaks_by_person, evaluate, total_cost


def solve(
    problem: Problem,
    options: SolveOptions | None = None,
    on_progress: ProgressHandler | None = None,
    stop: threading.Event | None = None,
) -> Schedule:
    """Solve a checked problem (see solver.check.load_problem)."""
    options = options or SolveOptions()
    clock = time.perf_counter()
    compiled = compile_problem(problem)
    return solve_compiled(compiled, greedy_assign(compiled), options, on_progress, stop, clock=clock)


def solve_compiled(
    compiled: Compiled,
    baseline: Assignment,
    options: SolveOptions,
    on_progress: ProgressHandler | None = None,
    stop: threading.Event | None = None,
    *,
    fixed: frozenset[str] = frozenset(),
    clock: float | None = None,
) -> Schedule:
    """Solve an already compiled problem from a baseline grid (the warm start and floor).

    Meetings in `fixed` must be held (a re-solve keeps them where they were by
    leaving them a single domain pair); the baseline must hold them too.
    """
    try:
        return _solve_compiled(compiled, baseline, options, on_progress, stop, fixed, clock)
    finally:
        twin.discard_spare()  # a prewarmed twin this solve did not take


def _solve_compiled(
    compiled: Compiled,
    baseline: Assignment,
    options: SolveOptions,
    on_progress: ProgressHandler | None,
    stop: threading.Event | None,
    fixed: frozenset[str],
    clock: float | None,
) -> Schedule:
    clock = time.perf_counter() if clock is None else clock
    problem = compiled.problem
    baseline_terms = evaluate(compiled, baseline)
    baseline_ok = _admissible(compiled, baseline)
    stats = SolveStats(
        method=options.method,
        workers=options.workers,
        seed=options.seed,
        time_limit=options.time_limit,
        greedy_objective=sum(baseline_terms.values()) if baseline_ok else None,
    )
    if options.method == "greedy":
        if not baseline_ok:  # greedy's grid breaks a rule it does not know: no answer
            return _schedule(compiled, {}, "UNKNOWN", None, stats, options, clock)
        return _schedule(compiled, baseline, "FEASIBLE", None, stats, options, clock)
    hint, time_left = _hint(compiled, baseline, options, stop)
    settings = SearchSettings(
        time_left,
        options.workers,
        options.seed,
        options.deterministic,
        options.log,
        musts_required=problem.objective.must_is_hard,
    )
    # A re-solve that keeps published meetings (`fixed`) is a small repair that
    # CP-SAT settles with all its workers; the local search would only take one
    # of them (bench/resolve.py: a must left out of late-arrival at 0.5 s).
    alone = local_search_only(compiled)
    if use_local_search(compiled, settings) and (not fixed or alone):
        # Local moves never unplace a meeting, so the `fixed` ones (held in the baseline) stay held.
        if alone:
            twin = settings.workers >= 2  # the other core: a second local search, in a child process
            found, outcome = local_search_solve(compiled, settings, baseline, clock, on_progress, stop, twin)
            stats.searches = ["local_search"] * outcome.searches  # one when the twin could not start
        else:
            found, outcome = _local_search_beside_cpsat(
                compiled, settings, baseline, fixed, stats.greedy_objective, clock, on_progress, stop
            )
            stats.searches = ["local_search", "cpsat"]
        assignment, status = _no_worse_than_greedy(compiled, found, outcome.status, baseline, baseline_ok)
    else:
        # The hint (greedy's grid, compacted on B2B-shaped problems) is used even
        # when it breaks the spread limit or leaves a hard must out: CP-SAT repairs
        # a hint, and on B2B the repaired grid led to fewer breaks (docs/engine.md).
        reporter = _after_baseline(on_progress, stats.greedy_objective, clock)
        outcome = run_search(_formulation(compiled, fixed), settings, hint, reporter, stop)
        # The hint too is an answer when it keeps every rule greedy may break: on
        # B2B the compacted grid is one when CP-SAT is left too little time.
        fallbacks = [baseline] if baseline_ok else []
        if hint is not baseline and _admissible(compiled, hint):
            fallbacks.append(hint)
        assignment, status = _pick(compiled, outcome, fallbacks)
        stats.searches = ["cpsat"]
    stats.first_solution_seconds = outcome.first_solution_seconds
    stats.variables, stats.constraints = outcome.variables, outcome.constraints
    return _schedule(compiled, assignment, status, outcome, stats, options, clock)


def _formulation(compiled: Compiled, fixed: frozenset[str]) -> Formulation:
    formulation = Formulation.build(compiled)
    for meeting_id in fixed:
        formulation.model.add(formulation.held[compiled.by_id[meeting_id].index] == 1)
    return formulation


def _local_search_beside_cpsat(
    compiled: Compiled,
    settings: SearchSettings,
    baseline: Assignment,
    fixed: frozenset[str],
    greedy_objective: int | None,
    clock: float,
    on_progress: ProgressHandler | None,
    stop: threading.Event | None,
) -> tuple[Assignment, SearchOutcome]:
    """Local search from greedy's grid and CP-SAT beside it on the other
    worker; whichever finishes first with a proof (the local search reaching
    the domains' bound, CP-SAT proving optimality) stops the other.

    Measured (docs/engine.md "Local search beside CP-SAT"): on Shangri-La the
    local search gets within a few breaks of the bound in seconds where CP-SAT
    alone ends 30 s far above it; on small forums CP-SAT proves optimality in
    milliseconds, above a bound the domains alone do not give.
    """
    halt = Halt(stop)
    reporter = _improving_only(on_progress, greedy_objective, clock)
    local: list[tuple[Assignment, SearchOutcome]] = []

    def search_locally() -> None:
        local.append(local_search_solve(compiled, settings, baseline, clock, reporter, halt))
        if local[0][1].status == "OPTIMAL":
            halt.set()

    thread = threading.Thread(target=search_locally, name="local-search", daemon=True)
    thread.start()
    # The same deadline as the local search's: the time limit counts from `clock`.
    time_left = max(0.2, clock + settings.time_limit - time.perf_counter())
    exact_settings = replace(settings, time_limit=time_left, workers=max(1, settings.workers - 1))
    exact = run_search(_formulation(compiled, fixed), exact_settings, baseline, reporter, halt)
    if exact.status in ("OPTIMAL", "INFEASIBLE"):
        halt.set()
    thread.join()
    return _better_of(compiled, *local[0], exact)


def _improving_only(
    on_progress: ProgressHandler | None, greedy_objective: int | None, clock: float
) -> ProgressHandler | None:
    """Report greedy's grid at once as solution 1 (as `_after_baseline`), then
    only the incumbents better than any before, from either search (each
    reports from its own thread), numbered in the order they are passed on."""
    if on_progress is None:
        return None
    lock = threading.Lock()
    best: list[float] = [math.inf]
    count = [0]

    def forward(report: Progress) -> None:
        with lock:
            if report.objective is None or report.objective >= best[0]:
                return
            best[0], count[0] = report.objective, count[0] + 1
            numbered = msgspec.structs.replace(report, solutions=count[0])
        on_progress(numbered)

    if greedy_objective is not None:
        forward(Progress(time.perf_counter() - clock, greedy_objective, None, None, 1))
    return forward


def _better_of(
    compiled: Compiled, found: Assignment, local: SearchOutcome, exact: SearchOutcome
) -> tuple[Assignment, SearchOutcome]:
    """The cheaper grid of the two searches, under the higher of their bounds."""
    grid, objective = found, local.objective
    if exact.chosen:
        solved = assign_rooms(compiled, exact.chosen)
        solved_objective = total_cost(compiled, solved)
        if objective is None or solved_objective < objective:
            grid, objective = solved, solved_objective
    bound = max(value for value in (local.bound, exact.bound) if value is not None)
    proven = exact.status == "OPTIMAL" or (objective is not None and objective <= bound)
    outcome = replace(
        exact,
        status="OPTIMAL" if proven else "FEASIBLE",
        chosen={},
        objective=objective,
        bound=bound,
        first_solution_seconds=local.first_solution_seconds,
    )
    return grid, outcome


def _after_baseline(
    on_progress: ProgressHandler | None, greedy_objective: int | None, clock: float
) -> ProgressHandler | None:
    """Report greedy's grid at once as the first incumbent, then CP-SAT's, counted after it.

    CP-SAT may take seconds to its first solution on a large forum; the answer
    is never worse than greedy's, so that is what a progress bar may show meanwhile.
    """
    if on_progress is None or greedy_objective is None:
        return on_progress
    on_progress(Progress(time.perf_counter() - clock, greedy_objective, None, None, 1))

    def counted(report: Progress) -> None:
        on_progress(msgspec.structs.replace(report, solutions=report.solutions + 1))

    return counted


def _hint(
    compiled: Compiled, baseline: Assignment, options: SolveOptions, stop: threading.Event | None
) -> tuple[Assignment, float]:
    """The warm start for CP-SAT and the seconds left for it: on B2B-shaped
    problems a compacted grid (solver/compaction.py), else the baseline. Not
    in deterministic mode, whose answer must not depend on the clock."""
    if options.deterministic:
        return baseline, options.time_limit
    clock = time.perf_counter()
    compacted = compaction_hint(compiled, baseline, options.time_limit, options.seed, stop)
    if compacted is None:
        return baseline, options.time_limit
    return compacted, max(0.2, options.time_limit - (time.perf_counter() - clock))


def _admissible(compiled: Compiled, assignment: Assignment) -> bool:
    """Greedy and the compaction keep every other rule but may break the spread
    limit or leave a hard must out; their grids count only if both hold."""
    if compiled.problem.objective.must_is_hard and any(
        info.meeting.priority == "must" and info.id not in assignment for info in compiled.meetings
    ):
        return False
    limit = compiled.problem.objective.break_spread_limit
    if limit is None:
        return True
    counts = breaks_by_person(compiled, assignment).values()
    return max(counts, default=0) - min(counts, default=0) <= limit


def _pick(compiled: Compiled, outcome: SearchOutcome, fallbacks: list[Assignment]) -> tuple[Assignment, Status]:
    """CP-SAT's grid, or the cheapest fallback (greedy's, the hint) when that is cheaper or CP-SAT found none."""
    # Each fallback ranked once: the cheapest one's rank is what CP-SAT's grid is compared with.
    ranked = [(_rank(compiled, grid), grid) for grid in fallbacks]
    cheapest = min(ranked, key=lambda pair: pair[0], default=None)
    if not outcome.chosen:
        return (cheapest[1], "FEASIBLE") if cheapest is not None else ({}, outcome.status)
    found = assign_rooms(compiled, outcome.chosen)
    return _cheaper(compiled, found, outcome.status, cheapest)


def _no_worse_than_greedy(
    compiled: Compiled, found: Assignment, status: Status, baseline: Assignment, baseline_ok: bool
) -> tuple[Assignment, Status]:
    return _cheaper(compiled, found, status, (_rank(compiled, baseline), baseline) if baseline_ok else None)


def _cheaper(
    compiled: Compiled, found: Assignment, status: Status, fallback: tuple[tuple[int, ...], Assignment] | None
) -> tuple[Assignment, Status]:
    """`found`, or the ranked fallback when that ranks strictly better."""
    if fallback is not None and fallback[0] < _rank(compiled, found):
        return fallback[1], "FEASIBLE"
    return found, status


def _rank(compiled: Compiled, assignment: Assignment) -> tuple[int, ...]:
    """What "better" means in the objective's mode: the cost, or in lexicographic
    mode the terms in `lexicographic_order` (then the cost), compared in turn.
    By the sum alone a greedy grid with more breaks would replace a grid whose
    stages put breaks first."""
    objective = compiled.problem.objective
    terms = evaluate(compiled, assignment)
    ordered = objective.lexicographic_order if objective.mode == "lexicographic" else []
    return (*(terms[term] for term in ordered), sum(terms.values()))


def _schedule(
    compiled: Compiled,
    assignment: Assignment,
    status: Status,
    outcome: SearchOutcome | None,
    stats: SolveStats,
    options: SolveOptions,
    clock: float,
) -> Schedule:
    terms = evaluate(compiled, assignment) if assignment or status != "UNKNOWN" else {}
    objective = sum(terms.values()) if terms else None
    bound = outcome.bound if outcome is not None else None
    if status == "OPTIMAL":
        bound = objective
    proven = status == "OPTIMAL"
    unplaced = (
        explain_infeasible(compiled) if status == "INFEASIBLE" else explain_unplaced(compiled, assignment, proven)
    )
    stats.solve_seconds = round(time.perf_counter() - clock, 3)
    return Schedule(
        status=status,
        placed=placements_of(compiled, assignment),
        unplaced=unplaced,
        objective=objective,
        best_bound=bound,
        gap=relative_gap(objective, bound),
        terms=terms,
        stats=stats,
    )
