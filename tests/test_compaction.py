"""The break-compacting local search that warm-starts CP-SAT on B2B-shaped problems.

Its grids are checked by the independent validator: a move that double-books
a participant or overfills a room class fails here.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from solver import engine
from solver.compaction import applies, compact
from solver.compile import compile_problem
from solver.engine import SolveOptions, solve
from solver.grid import placements_of
from solver.model import ObjectiveSettings, Problem
from solver.result import Schedule
from solver.rooms import assign_rooms
from solver.search import SearchOutcome
from solver.terms import Assignment
from solver.validate import Report, validate
from tests.builders import delegation, forum, meeting, person, problem, room

HARD = ObjectiveSettings(must_is_hard=True, breaks_count_unavailable=True, break_spread_limit=2)


def hub(**fields: Any) -> Problem:  # Any: forwarded to Participant, as builders.person does
    """AAA meets BBB, CCC and DDD in one of two rooms, over a morning of eight half-hour slots."""
    delegations = [delegation(name, person(name.lower(), **fields)) for name in ("AAA", "BBB", "CCC", "DDD")]
    meetings = [meeting(f"a{other}", ["AAA", other], 30, priority="must") for other in ("BBB", "CCC", "DDD")]
    rooms = [room("R1", seats=2), room("R2", seats=2)]
    return problem(delegations, meetings, rooms=rooms, forum=forum(slot=30), objective=HARD)


def compacted(prob: Problem, assignment: Assignment) -> tuple[Schedule, Report]:
    compiled = compile_problem(prob)
    chosen = compact(compiled, assignment, seconds=2.0, seed=0)
    grid = assign_rooms(compiled, chosen)
    schedule = Schedule(status="FEASIBLE", placed=placements_of(compiled, grid), unplaced=[], objective=None)
    report = validate(prob, schedule)
    assert report.violations == [], report.violations
    return schedule, report


def test_compaction_closes_the_gaps_of_a_spread_out_grid() -> None:
    spread_out = {"aBBB": (0, "R1"), "aCCC": (3, "R2"), "aDDD": (6, "R1")}
    schedule, report = compacted(hub(), spread_out)
    assert len(schedule.placed) == 3
    assert report.terms["breaks"] == 0


def test_compaction_places_a_meeting_greedy_left_out() -> None:
    schedule, report = compacted(hub(), {"aBBB": (0, "R1"), "aCCC": (2, "R2")})
    assert {placement.meeting for placement in schedule.placed} == {"aBBB", "aCCC", "aDDD"}
    assert report.terms["breaks"] == 0


def test_compaction_applies_only_to_one_slot_hard_musts_without_buffers() -> None:
    assert applies(compile_problem(hub()))
    assert not applies(compile_problem(hub(buffer_minutes=30)))
    soft = problem(hub().delegations, hub().meetings, rooms=hub().rooms, forum=forum(slot=30))
    assert not applies(compile_problem(soft))


def test_solve_with_the_compaction_hint_is_optimal_and_valid() -> None:
    prob = hub()
    schedule = solve(prob, SolveOptions(time_limit=5, workers=2))
    report = validate(prob, schedule)
    assert report.violations == [], report.violations
    assert schedule.status == "OPTIMAL" and len(schedule.placed) == 3 and report.terms["breaks"] == 0


def test_the_compacted_grid_is_the_answer_when_cp_sat_finds_none_in_its_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # After a floor search that found nothing, CP-SAT may have too little time for a
    # grid; greedy's breaks a hard rule on B2B. Before, the answer was then no grid at
    # all (forum-13crafb at 5-15 s) though the compaction had a valid one.
    prob = hub()
    compiled = compile_problem(prob)
    compacted_grid = {"aBBB": (0, "R1"), "aCCC": (1, "R1"), "aDDD": (2, "R1")}
    monkeypatch.setattr(engine, "compaction_hint", lambda *args: compacted_grid)
    nothing = SearchOutcome("UNKNOWN", {}, None, None, None, variables=0, constraints=0)
    monkeypatch.setattr(engine, "run_search", lambda *args: nothing)
    schedule = engine.solve_compiled(compiled, {}, SolveOptions(time_limit=5))  # greedy's grid: every must left out
    report = validate(prob, schedule)
    assert report.violations == [], report.violations
    assert schedule.status == "FEASIBLE"
    assert {(placement.meeting, placement.room) for placement in schedule.placed} == {
        (meeting_id, room) for meeting_id, (_, room) in compacted_grid.items()
    }


def test_a_compaction_out_of_time_goes_on_until_its_grid_holds_every_meeting() -> None:
    compiled = compile_problem(hub())
    start = {"aBBB": (0, "R1"), "aCCC": (2, "R2")}  # aDDD left out
    assert len(compact(compiled, start, seconds=0.0, seed=0)) == 2
    assert len(compact(compiled, start, seconds=0.0, seed=0, settle_seconds=1.0)) == 3
    # A floor search past the whole limit leaves negative seconds (forum-13crafb at 2 s,
    # under load): the settling still gets its full second, counted from now.
    assert len(compact(compiled, start, seconds=-3.0, seed=0, settle_seconds=1.0)) == 3


def test_a_stopped_compaction_hands_in_a_grid_that_holds_every_meeting() -> None:
    # A Ctrl-C during the B2B floor search used to end the solve with no grid at all.
    compiled = compile_problem(hub())
    start = {"aBBB": (0, "R1"), "aCCC": (2, "R2")}  # aDDD left out
    stopped = threading.Event()
    stopped.set()
    assert len(compact(compiled, start, seconds=5.0, seed=0, stop=stopped)) == 2  # no settling asked: at once
    assert len(compact(compiled, start, seconds=5.0, seed=0, stop=stopped, settle_seconds=1.0)) == 3
    spread_out = {"aBBB": (0, "R1"), "aCCC": (3, "R2"), "aDDD": (6, "R1")}  # admissible: kept as it is
    kept = compact(compiled, spread_out, seconds=5.0, seed=0, stop=stopped, settle_seconds=1.0)
    assert kept == compact(compiled, spread_out, seconds=0.0, seed=0)
