"""Where a B2B solve spends its time: the floor search's stages, one line each.

    python bench/b2b_trace.py forum-13crafb ticf-13crafb      # those instances, seed 0
    python bench/b2b_trace.py --seed 1 --runs 3 ticf-13crafc   # the same instance three times

Each stage of `break_windows.zero_break_hint` (the window model, the pattern
floor, `one_more_broken`, the two rungs) and each single-worker lane of
`break_clauses.two_rungs` prints when it started and ended, in seconds from the
solve's start, with its answer. The sessions wrote this trace again and again
in throwaway scripts (docs/engine.md, twelfth and thirteenth sessions); it
measures, it is not a test. It wraps the stage functions for the run only.
"""

from __future__ import annotations

import argparse
import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ortools.sat.python import cp_model

from api.bench import B2B_FAIRNESS, DEFAULT_DATA, b2b_instances
from solver.engine import SolveOptions, solve
from solver.importers import load_b2b
from solver.objective import break_clauses, break_windows

STAGES = ("zero_breaks", "pattern_floor", "one_more_broken", "two_rungs")


class Clock:
    def __init__(self) -> None:
        self.zero = time.perf_counter()

    def now(self) -> float:
        return time.perf_counter() - self.zero


def traced(clock: Clock, name: str, stage: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(stage)
    def run(*args: Any, **kwargs: Any) -> Any:
        began = clock.now()
        answer = stage(*args, **kwargs)
        print(f"  {name:16s} {began:6.2f} -> {clock.now():6.2f}  {describe(answer)}", flush=True)
        return answer

    return run


def describe(answer: Any) -> str:
    if isinstance(answer, break_windows.ZeroBreaks):
        found = "grid" if answer.grid is not None else "no grid"
        return f"{found}, floor {answer.floor}, none without a break: {answer.none_exists}"
    if isinstance(answer, tuple) and len(answer) == 2 and isinstance(answer[1], int):  # two_rungs
        return f"{'grid' if answer[0] is not None else 'no grid'}, floor {answer[1]}"
    return str(answer)


def trace_lanes(clock: Clock) -> None:
    """Each lane of two_rungs prints its rung, its answer and its span."""
    lane_run = break_clauses._Lane._run

    def run(lane: break_clauses._Lane, model: cp_model.CpModel) -> None:
        began = clock.now()
        lane_run(lane, model)
        status = lane.solver.status_name(lane.code) if lane.code is not None else "none"
        print(f"    lane, rung +{lane.rung}: {status:10s} {began:6.2f} -> {clock.now():6.2f}", flush=True)

    # A method replaced on the class, for tracing: mypy refuses the assignment, and reads the
    # class's function as taking `self` twice, so the plain function matches neither.
    break_clauses._Lane._run = run  # type: ignore[method-assign, assignment]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("instances", nargs="+")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--limit", type=float, default=60.0)
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help="benchmark data (default ../shared/bench/external)"
    )
    args = parser.parse_args()
    files = b2b_instances(args.data)
    unknown = [name for name in args.instances if name not in files]
    if unknown:
        parser.error(f"unknown instance(s) {', '.join(unknown)}; known: {', '.join(files)}")
    clock = Clock()
    for name in STAGES:  # all four are called through break_windows' names (two_rungs is imported there)
        setattr(break_windows, name, traced(clock, name, getattr(break_windows, name)))
    trace_lanes(clock)
    for name in args.instances:
        problem = load_b2b(files[name], fairness=B2B_FAIRNESS)
        for _ in range(args.runs):
            print(f"{name}, seed {args.seed}:", flush=True)
            clock.zero = time.perf_counter()
            schedule = solve(problem, SolveOptions(time_limit=args.limit, workers=2, seed=args.seed))
            if "breaks" in schedule.terms:
                breaks = f"{schedule.terms['breaks'] // problem.objective.weights.breaks} breaks"
            else:
                breaks = "no grid"  # a limit too short for the floor search and the settling
            print(f"  {schedule.status}, {breaks}, {clock.now():.2f} s", flush=True)


if __name__ == "__main__":
    main()
