"""Re-solve and fit timings at Shangri-La scale, beside from-scratch solves.

    python bench/resolve.py                    # writes its section of docs/benchmarks.md
    python bench/resolve.py --out /tmp/x.md --runs 3 --scratch-limit 5

The published grid is a CP-SAT solve of examples/shangri-la.json (plus the
scenario's waiting requests). For each scenario of solver/scenarios/late_changes.py:
the re-solve's wall time (median of --runs, everything included: applying the
changes, finding what they break, compiling, searching, explaining), the
meetings it moves, and beside it a from-scratch solve of the same changed forum
and a re-optimising re-solve, with the meetings each moves. Every grid goes
through the validator. Fit: the median wall time of `fit` for the scenarios'
meetings to place. The section is written between markers, so
bench/run_all.py keeps it when it rewrites the rest of the page.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

from run_all import machine, write_marked  # bench/ is the script's directory

from solver.changes import apply_changes
from solver.check import load_problem
from solver.diff import diff_schedules
from solver.engine import SolveOptions, solve
from solver.fit import fit
from solver.model import Problem
from solver.resolve import RESOLVE_OPTIONS, ResolveResult, resolve
from solver.result import Schedule
from solver.scenarios.late_changes import SCENARIOS, LateChange
from solver.validate import validate

REPO = Path(__file__).resolve().parents[1]
START, END = "<!-- bench/resolve.py: start -->", "<!-- bench/resolve.py: end -->"
T = TypeVar("T")


def timed(run: Callable[[], T], runs: int) -> tuple[T, float]:
    """The last result and the median wall time in seconds."""
    seconds: list[float] = []
    result: T | None = None
    for _ in range(runs):
        clock = time.perf_counter()
        result = run()
        seconds.append(time.perf_counter() - clock)
    assert result is not None
    return result, statistics.median(seconds)


def moved_count(published: Schedule, after: Schedule, forum: Problem) -> int:
    """Published meetings that still exist and are elsewhere (or no longer placed)."""
    alive = {m.id for m in forum.meetings}
    diff = diff_schedules(published.placed, after.placed)
    return sum(1 for m in diff.moved if m.meeting in alive) + sum(1 for p in diff.removed if p.meeting in alive)


def checked(problem: Problem, schedule: Schedule) -> Schedule:
    report = validate(problem, schedule)
    if not report.ok:
        raise SystemExit(f"invalid grid: {report.violations[:3]}")
    return schedule


def scenario_row(
    scenario: LateChange, base: Problem, args: argparse.Namespace, log: Callable[[str], None]
) -> tuple[str, list[str]]:
    forum = scenario.forum(base)
    published = checked(forum, solve(forum, SolveOptions(time_limit=args.publish_limit, workers=2)))
    log(f"{scenario.name}: published {len(published.placed)} placed")
    result, seconds = timed(lambda: resolve(forum, published, scenario.changes), args.runs)
    checked(result.problem, result.schedule)
    forced = {m for impact in result.impacts for m in (*impact.breaks, *impact.removes)}
    changed = apply_changes(forum, scenario.changes)
    scratch_clock = time.perf_counter()
    scratch = checked(changed, solve(changed, SolveOptions(time_limit=args.scratch_limit, workers=2)))
    scratch_seconds = time.perf_counter() - scratch_clock
    reopt_clock = time.perf_counter()
    options = SolveOptions(time_limit=args.scratch_limit, workers=2)
    reoptimised = resolve(forum, published, scenario.changes, reoptimise=True, options=options)
    reopt_seconds = time.perf_counter() - reopt_clock
    checked(reoptimised.problem, reoptimised.schedule)
    log(f"{scenario.name}: re-solve {seconds:.3f} s, scratch {scratch_seconds:.1f} s")
    row = (
        f"| {scenario.name} | {len(forced)} | {seconds:.3f} | {_moves(result)} | {_placed(result.schedule)} "
        f"| {_cost(result.schedule)} | {scratch_seconds:.1f} | {moved_count(published, scratch, changed)} "
        f"| {_placed(scratch)} | {_cost(scratch)} | {reopt_seconds:.1f} | {_moves(reoptimised)} "
        f"| {_placed(reoptimised.schedule)} | {_cost(reoptimised.schedule)} |"
    )
    return row, _fit_rows(scenario, forum, published, result, args.runs)


def _moves(result: ResolveResult) -> int:
    alive = {m.id for m in result.problem.meetings}
    return sum(1 for m in result.moves if m.kind != "added" and m.meeting in alive)


def _cost(schedule: Schedule) -> int:
    """The objective without the stability term, so that grids with and without a previous one compare."""
    return sum(value for term, value in schedule.terms.items() if term != "stability")


def _placed(schedule: Schedule) -> str:
    return f"{len(schedule.placed)}/{len(schedule.placed) + len(schedule.unplaced)}"


def _fit_rows(scenario: LateChange, forum: Problem, published: Schedule, result: ResolveResult, runs: int) -> list[str]:
    """fit() for each meeting the scenario asks to place: a new request, or one it broke."""
    changed = apply_changes(forum, scenario.changes)
    wanted = [m for impact in result.impacts for m in (*impact.adds, *impact.breaks)][:2]
    wanted += [m.id for m in scenario.waiting]
    rows = []
    for meeting_id in wanted:
        options, seconds = timed(partial(fit, changed, published, meeting_id, k=5), runs)
        with_move = sum(1 for o in options if o.moves)
        best = f"{options[0].cost}" if options else "none"
        rows.append(
            f"| {scenario.name} | {meeting_id} | {seconds * 1000:.0f} | {len(options)} | {with_move} | {best} |"
        )
    return rows


def section(args: argparse.Namespace) -> str:
    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    base = load_problem((REPO / "examples" / "shangri-la.json").read_bytes())
    load_before = os.getloadavg()[0]
    rows, fits = [], []
    for scenario in SCENARIOS:
        row, fit_rows = scenario_row(scenario, base, args, log)
        rows.append(row)
        fits.extend(fit_rows)
    measured = {**machine(), "load average (1 min), start / end": f"{load_before:.1f} / {os.getloadavg()[0]:.1f}"}
    info = "\n".join(f"| {what} | {value} |" for what, value in measured.items())
    scenarios = "\n".join(f"- `{s.name}`: {s.description}." for s in SCENARIOS)
    return f"""{START}
## Re-solve after last-minute changes (Shangri-La)

Written by `python bench/resolve.py --runs {args.runs} --publish-limit {args.publish_limit:g} \
--scratch-limit {args.scratch_limit:g}`. The machine is shared with other jobs and noisy: compare figures \
measured in this one run, and read times as medians of {args.runs} runs.

| what | value |
| --- | --- |
{info}

Scenarios (`solver/scenarios/late_changes.py`, also the tests of `tests/test_resolve.py`):

{scenarios}

The published grid is a {args.publish_limit:g} s CP-SAT solve of the forum. **Re-solve**: `solver.resolve.resolve`, \
default budget (CP-SAT {RESOLVE_OPTIONS.time_limit:g} s, {RESOLVE_OPTIONS.workers} workers), wall time of the \
whole call. **From scratch**: `solve` of the changed forum, {args.scratch_limit:g} s. **Re-optimised**: \
`resolve(..., reoptimise=True)`, everything free with the stability term, {args.scratch_limit:g} s. \
*Forced*: published meetings the changes break or remove. *Moved*: published meetings still in the forum that \
end up elsewhere or unplaced. *Cost*: the objective without the stability term (lower is better), so that \
the three grids compare. Every grid passed the validator.

| scenario | forced | re-solve (s) | moved | placed | cost | from scratch (s) | moved | placed | cost \
| re-optimised (s) | moved | placed | cost |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
{chr(10).join(rows)}

Fit one meeting (`solver.fit.fit`, k=5, median of {args.runs} runs, compiling the forum included): the \
scenario's new request, the first meetings its change broke, and its waiting request, each against the \
published grid.

| scenario | meeting | fit (ms) | options | moving one meeting | best cost |
| --- | --- | --- | --- | --- | --- |
{chr(10).join(fits)}
{END}
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per re-solve and fit (median)")
    parser.add_argument("--publish-limit", type=float, default=10.0, help="CP-SAT seconds for the published grid")
    parser.add_argument("--scratch-limit", type=float, default=10.0, help="seconds of the from-scratch solves")
    args = parser.parse_args(argv)
    write_marked(args.out, START, END, section(args))
    print(f"wrote the re-solve section of {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
