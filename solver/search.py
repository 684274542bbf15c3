"""Running CP-SAT on the formulation: parameters, warm start, progress,
stopping, and the lexicographic mode."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

from solver.constraints import add_hard_rules
from solver.formulation import Formulation
from solver.objective import add_terms
from solver.result import Progress, Status
from solver.stopping import cp_sat_seed, quiet_solver, watch_stop
from solver.terms import Assignment

ProgressHandler = Callable[[Progress], None]


@dataclass
class SearchOutcome:
    status: Status
    chosen: dict[int, tuple[int, int]]  # meeting index -> (start, class); empty without a solution
    objective: int | None
    bound: int | None
    first_solution_seconds: float | None
    variables: int
    constraints: int
    searches: int = 1  # searches whose grids were compared (2 with a twin that started)


class _Reporter(cp_model.CpSolverSolutionCallback):
    def __init__(self, on_progress: ProgressHandler | None, clock_start: float) -> None:
        super().__init__()
        self.on_progress = on_progress
        self.clock_start = clock_start
        self.solutions = 0
        self.first_solution: float | None = None

    def on_solution_callback(self) -> None:
        self.solutions += 1
        elapsed = time.perf_counter() - self.clock_start
        if self.first_solution is None:
            self.first_solution = elapsed
        if self.on_progress is not None:
            objective, bound = round(self.objective_value), round(self.best_objective_bound)
            self.on_progress(Progress(elapsed, objective, bound, relative_gap(objective, bound), self.solutions))


def relative_gap(objective: int | None, bound: int | None) -> float | None:
    if objective is None or bound is None:
        return None
    return (objective - bound) / max(1, abs(objective))


@dataclass(frozen=True)
class SearchSettings:
    time_limit: float  # seconds for the whole search, model building included
    workers: int
    seed: int
    deterministic: bool
    log: bool = False
    musts_required: bool = False  # objective.must_is_hard


def _sat_style_search(settings: SearchSettings) -> bool:
    """At two workers the default pair is LP-based; more workers already include these."""
    return settings.musts_required and settings.workers == 2


def run_search(
    formulation: Formulation,
    settings: SearchSettings,
    hint: Assignment,
    on_progress: ProgressHandler | None = None,
    stop: threading.Event | None = None,
) -> SearchOutcome:
    deadline = time.perf_counter() + settings.time_limit
    add_hard_rules(formulation)
    add_terms(formulation)
    _add_hint(formulation, hint)
    objective = formulation.compiled.problem.objective
    if objective.mode == "lexicographic":
        return _lexicographic(formulation, settings, deadline, objective.lexicographic_order, on_progress, stop)
    formulation.model.minimize(sum(formulation.terms.values()))
    return _solve(formulation, settings, _remaining(deadline), on_progress, stop)


def _remaining(deadline: float, share: int = 1) -> float:
    """Seconds left until `deadline`, split `share` ways; never zero, so a
    stage still gets to report the hint it was given."""
    return max(0.2, (deadline - time.perf_counter()) / share)


def _add_hint(formulation: Formulation, hint: Assignment) -> None:
    class_of_room = {room.id: rc.index for rc in formulation.compiled.classes for room in rc.rooms}
    chosen = {
        info.index: (placed[0], class_of_room[placed[1]])
        for info in formulation.compiled.meetings
        if (placed := hint.get(info.id)) is not None
    }
    _hint_choices(formulation, chosen)


def _hint_choices(formulation: Formulation, chosen: dict[int, tuple[int, int]]) -> None:
    """Hint every placement literal (x, y and held), not only x, so that the
    hint is complete where CP-SAT would otherwise have to repair it."""
    model = formulation.model
    model.clear_hints()
    hinted: set[int] = set()  # variable indices; IntVar == builds an expression, so compare indices
    for index, choices in enumerate(formulation.x):
        wanted = chosen.get(index)
        layers: list[Iterator[tuple[cp_model.IntVar, bool]]] = [
            ((literal, choice == wanted) for choice, literal in choices.items()),
            ((literal, wanted is not None and wanted[0] == start) for start, literal in formulation.y[index].items()),
        ]
        held = formulation.held[index]
        if isinstance(held, cp_model.IntVar):
            layers.append(iter([(held, wanted is not None)]))
        for layer in layers:
            for literal, value in layer:
                if literal.index not in hinted:
                    hinted.add(literal.index)
                    model.add_hint(literal, value)


def _parameters(solver: cp_model.CpSolver, settings: SearchSettings, time_limit: float) -> None:
    params = solver.parameters
    params.num_workers = settings.workers
    params.random_seed = cp_sat_seed(settings.seed)
    params.log_search_progress = settings.log
    # Measured on Shangri-La and B2B (docs/benchmarks.md): one presolve pass
    # without probing reaches the first solution 3x sooner (2.7 s vs 8.5 s at
    # Shangri-La) and ends with better grids; the probing mostly re-derives the
    # at-most-ones the model already states.
    params.max_presolve_iterations = 1
    params.cp_model_probing_level = 0
    if _sat_style_search(settings):
        # When every must meeting is required (the B2B and prob046 benchmarks)
        # the hard part is finding a full placement, where SAT-style search
        # without the LP wins: at 2 workers this pair proved forumt-14 in 5 s
        # and tic-14crafa in 23 s, which the default pair did not in 60 s.
        for subsolver in ("no_lp", "quick_restart_no_lp"):
            params.subsolvers.append(subsolver)
    if settings.deterministic:
        # Interleaved search with a deterministic time budget gives the same
        # answer for the same seed and worker count on any machine load.
        params.interleave_search = True
        # The configured limit, not what is left after model building: the
        # budget must not depend on how busy the machine was.
        params.max_deterministic_time = settings.time_limit
        params.max_time_in_seconds = max(60.0, 20 * settings.time_limit)
    else:
        params.max_time_in_seconds = time_limit


def _solve(
    formulation: Formulation,
    settings: SearchSettings,
    time_limit: float,
    on_progress: ProgressHandler | None,
    stop: threading.Event | None,
) -> SearchOutcome:
    solver = quiet_solver()
    _parameters(solver, settings, time_limit)
    reporter = _Reporter(on_progress, time.perf_counter())
    watcher = watch_stop(solver, stop)
    try:
        code = solver.solve(formulation.model, reporter)
    finally:
        if watcher is not None:
            watcher.set()
    proto = formulation.model.proto
    found = code in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    return SearchOutcome(
        status=solver.status_name(code) if code != cp_model.MODEL_INVALID else "UNKNOWN",  # type: ignore[arg-type]
        chosen=formulation.value_of_choices(solver) if found else {},
        objective=round(solver.objective_value) if found else None,
        bound=round(solver.best_objective_bound) if found else None,
        first_solution_seconds=reporter.first_solution,
        variables=len(proto.variables),
        constraints=len(proto.constraints),
    )


def _lexicographic(
    formulation: Formulation,
    settings: SearchSettings,
    deadline: float,
    order: Sequence[str],
    on_progress: ProgressHandler | None,
    stop: threading.Event | None,
) -> SearchOutcome:
    """Optimise the terms one after another, each stage keeping the earlier
    terms at the values already reached; time is shared out evenly."""
    outcome: SearchOutcome | None = None
    all_optimal = True
    for position, term in enumerate(order):
        formulation.model.minimize(formulation.terms[term])
        outcome = _solve(formulation, settings, _remaining(deadline, len(order) - position), on_progress, stop)
        if not outcome.chosen or outcome.objective is None:  # no grid: nothing to hold the next stage to
            return outcome
        all_optimal &= outcome.status == "OPTIMAL"
        formulation.model.add(formulation.terms[term] <= outcome.objective)
        _hint_choices(formulation, outcome.chosen)
    assert outcome is not None
    outcome.status = "OPTIMAL" if all_optimal else "FEASIBLE"
    outcome.objective = outcome.bound = None  # set by the caller from the weighted terms
    return outcome
