"""The breaks term's encoding: run starts, the redundant span and busy-total
constraints, and the per-participant floor.

Each case is solved to optimality and checked by the independent validator,
so an encoding that over- or under-counts a break fails here, not only in
the benchmarks.
"""

from __future__ import annotations

from solver.compile import compile_problem
from solver.engine import SolveOptions, solve
from solver.formulation import Formulation
from solver.model import Delegation, ObjectiveSettings, Problem, ProgrammeSession
from solver.objective.break_bounds import person_break_floor
from solver.result import Schedule
from solver.validate import validate
from tests.builders import at, delegation, forum, meeting, person, problem

FAST = SolveOptions(time_limit=5, workers=2)
HARD = ObjectiveSettings(must_is_hard=True, breaks_count_unavailable=True)


def solved(prob: Problem) -> Schedule:
    schedule = solve(prob, FAST)
    report = validate(prob, schedule)
    assert report.violations == [], report.violations
    assert schedule.terms == report.terms and schedule.status == "OPTIMAL"
    return schedule


def four() -> list[Delegation]:
    return [delegation(name, person(name.lower())) for name in ("AAA", "BBB", "CCC", "DDD")]


def split_day(objective: ObjectiveSettings = HARD) -> Problem:
    """AAA meets BBB at 09:00 (pinned) and CCC not before 10:00: one break forced."""
    meetings = [
        meeting("ab", ["AAA", "BBB"], 30, priority="must", pinned_start=at("09:00")),
        meeting("ac", ["AAA", "CCC"], 30, priority="must", earliest=at("10:00")),
    ]
    return problem(four()[:3], meetings, forum=forum(slot=30, end="11:00"), objective=objective)


def floors(prob: Problem) -> dict[str, int]:
    compiled = compile_problem(prob)
    formulation = Formulation.build(compiled)
    return {person: person_break_floor(formulation, person, range(compiled.grid.size)) for person in compiled.people}


def test_floor_is_one_when_no_window_holds_every_meeting() -> None:
    assert floors(split_day()) == {"aaa": 1, "bbb": 0, "ccc": 0}


def test_floor_is_zero_when_meetings_may_be_dropped_or_fit_together() -> None:
    assert floors(split_day(ObjectiveSettings(breaks_count_unavailable=True)))["aaa"] == 0
    together = [
        meeting("ab", ["AAA", "BBB"], 30, priority="must", pinned_start=at("09:00")),
        meeting("ac", ["AAA", "CCC"], 30, priority="must"),
    ]
    assert floors(problem(four()[:3], together, forum=forum(slot=30, end="11:00"), objective=HARD))["aaa"] == 0


def test_forced_break_is_counted_once_and_proven() -> None:
    schedule = solved(split_day())
    assert schedule.terms["breaks"] == 10 and schedule.best_bound == schedule.objective


def test_run_starts_count_every_gap_of_a_long_day() -> None:
    # AAA's three meetings are pinned apart: two breaks, and BBB's pair back to back costs none.
    meetings = [
        meeting("ab", ["AAA", "BBB"], 30, pinned_start=at("09:00")),
        meeting("ac", ["AAA", "CCC"], 30, pinned_start=at("10:00")),
        meeting("ad", ["AAA", "DDD"], 30, pinned_start=at("11:00")),
        meeting("bc", ["BBB", "CCC"], 30),
    ]
    schedule = solved(problem(four(), meetings, forum=forum(slot=30, end="12:00")))
    assert schedule.terms["breaks"] == 20


def test_session_between_meetings_breaks_only_when_unavailable_slots_count() -> None:
    meetings = [
        meeting("ab", ["AAA", "BBB"], 30, pinned_start=at("09:00")),
        meeting("ac", ["AAA", "CCC"], 30, pinned_start=at("10:00")),
    ]
    plenary = [ProgrammeSession(id="plenary", name="Plenary", start=at("09:30"), end=at("10:00"))]
    free = solved(problem(four()[:3], meetings, forum=forum(slot=30, end="11:00"), sessions=plenary))
    assert free.terms["breaks"] == 0
    counted = ObjectiveSettings(breaks_count_unavailable=True)
    idle = problem(four()[:3], meetings, forum=forum(slot=30, end="11:00"), sessions=plenary, objective=counted)
    assert solved(idle).terms["breaks"] == 10


def test_spread_limit_sees_exact_counts() -> None:
    # DDD has one meeting, so nobody may have more than one break above zero:
    # with a limit of 0 AAA's forced break makes the problem infeasible.
    meetings = [
        meeting("ab", ["AAA", "BBB"], 30, priority="must", pinned_start=at("09:00")),
        meeting("ac", ["AAA", "CCC"], 30, priority="must", earliest=at("10:00")),
        meeting("bd", ["BBB", "DDD"], 30, priority="must"),
    ]
    strict = ObjectiveSettings(must_is_hard=True, breaks_count_unavailable=True, break_spread_limit=0)
    schedule = solve(problem(four(), meetings, forum=forum(slot=30, end="11:00"), objective=strict), FAST)
    assert schedule.status == "INFEASIBLE"


def test_breaks_are_summed_over_days_and_end_of_day_idle_is_free() -> None:
    # Day 1: AAA at 09:00 and 10:00 (one break); day 2: at 09:00 and 09:30 (none), then idle to the close.
    meetings = [
        meeting("ab1", ["AAA", "BBB"], 30, pinned_start=at("09:00")),
        meeting("ac1", ["AAA", "CCC"], 30, pinned_start=at("10:00")),
        meeting("ab2", ["AAA", "BBB"], 30, pinned_start=at("09:00", day=1)),
        meeting("ad2", ["AAA", "DDD"], 30, pinned_start=at("09:30", day=1)),
    ]
    schedule = solved(problem(four(), meetings, forum=forum(days=2, slot=30, end="12:00")))
    assert schedule.terms["breaks"] == 10
