"""Progress while the local search runs: a large forum's organiser sees the best grid improve
during the solve, not greedy's objective until the end (solver/large.py, solver/localsearch.py)."""

from __future__ import annotations

import itertools
import time

import solver.large as large
import solver.twin as twin
from solver.compile import compile_problem
from solver.engine import SolveOptions, solve
from solver.greedy import greedy_assign
from solver.localsearch import REPORT_EVERY, improve
from solver.result import Progress
from solver.scenarios import generate
from solver.terms import total_cost
from solver.validate import validate


def test_a_large_forums_solve_reports_its_best_grid_as_the_search_improves_it() -> None:
    forum_problem = generate("unga-week", 0)
    reports: list[Progress] = []
    schedule = solve(forum_problem, SolveOptions(time_limit=12, workers=2, seed=0), on_progress=reports.append)
    assert schedule.stats.searches == ["local_search", "local_search"]  # the twin ran
    assert validate(forum_problem, schedule).violations == []
    objectives = [report.objective for report in reports]
    assert len(reports) >= 5, objectives  # greedy, at least three improvements, the answer
    assert objectives[0] == schedule.stats.greedy_objective
    middle = objectives[:-1]
    assert all(a is not None and b is not None and b < a for a, b in itertools.pairwise(middle)), objectives
    assert objectives[-1] == schedule.objective and schedule.objective is not None
    assert middle[-1] is not None and schedule.objective <= middle[-1]
    # Spread over the search, not bunched at its ends.
    elapsed = [report.elapsed for report in reports]
    assert all(b > a for a, b in itertools.pairwise(elapsed)), elapsed
    assert any(2 < seconds < 10 for seconds in elapsed), elapsed
    assert {report.best_bound for report in reports} == {schedule.best_bound}
    assert [report.solutions for report in reports] == list(range(1, len(reports) + 1))


def test_the_searchs_reports_are_its_best_grids_objective_at_most_once_a_second() -> None:
    compiled = compile_problem(generate("unga-week", 0))
    start = greedy_assign(compiled)
    seen: list[tuple[float, int]] = []
    result = improve(
        compiled, start, time.perf_counter() + 6, seed=3, on_best=lambda cost: seen.append((time.perf_counter(), cost))
    )
    costs = [cost for _, cost in seen]
    assert len(seen) >= 3, costs
    assert all(b <= a for a, b in itertools.pairwise(costs)), costs  # a best only improves
    assert costs[0] < total_cost(compiled, start)
    assert all(cost >= total_cost(compiled, result.assignment) for cost in costs)  # never below what it returns
    times = [moment for moment, _ in seen]
    assert all(b - a >= 0.9 * REPORT_EVERY for a, b in itertools.pairwise(times)), times


def test_the_twin_reports_its_best_objective_while_it_searches() -> None:
    forum_problem = generate("unga-week", 0)
    compiled = compile_problem(forum_problem)
    start = greedy_assign(compiled)
    job = twin.Job(forum_problem, start, time.monotonic() + 8, seed=5, floor=large.domain_bound(compiled))
    seen: list[int] = []
    search = twin.TwinSearch(job, on_best=seen.append)
    answer = search.finish(wait=30)
    assert answer is not None
    assert len(seen) >= 2, seen
    assert all(b < a for a, b in itertools.pairwise(seen)), seen
    assert seen[0] < total_cost(compiled, start)
    assert search.best == seen[-1] and total_cost(compiled, answer) <= seen[-1]
