"""The zero-break window model and the pattern floor (solver/objective/break_windows.py).

Both claim things about every grid of a problem; here they are checked
against CP-SAT's optimum of the engine's own model on small random
B2B-shaped problems (deterministic mode, which skips the hint step and so
never sees these bounds), and their grids against the independent validator.
"""

from __future__ import annotations

import random
from itertools import combinations, pairwise

import pytest

from solver.compile import compile_problem
from solver.engine import SolveOptions, solve
from solver.grid import placements_of
from solver.model import ObjectiveSettings, Problem
from solver.objective.break_windows import (
    _count_runs,
    _runs,
    applies,
    pattern_floor,
    proven_floor,
    zero_break_hint,
    zero_breaks,
)
from solver.result import Schedule
from solver.rooms import assign_rooms
from solver.validate import validate
from tests.builders import delegation, forum, meeting, person, problem, room

HARD = ObjectiveSettings(must_is_hard=True, breaks_count_unavailable=True, break_spread_limit=2)


def random_b2b(seed: int, people: int = 6, meetings: int = 9, rooms: int = 2, end: str = "13:00") -> Problem:
    """Random pairs among `people` businesses (plus a loner with one meeting,
    as in every B2B instance), over half-hour slots from 09:00 to `end`."""
    rng = random.Random(seed)
    names = [f"B{number}" for number in range(people)]
    pairs = rng.sample([(a, b) for index, a in enumerate(names) for b in names[index + 1 :]], meetings)
    listed = [meeting(f"{a}-{b}", [a, b], 30, priority="must") for a, b in pairs]
    listed.append(meeting("loner", ["LONE", names[0]], 30, priority="must"))
    delegations = [delegation(name, person(name.lower())) for name in [*names, "LONE"]]
    tables = [room(f"T{number}", seats=2) for number in range(rooms)]
    return problem(delegations, listed, rooms=tables, forum=forum(slot=30, end=end), objective=HARD)


def optimum(prob: Problem) -> int | None:
    """The least breaks over all grids, None when there is no grid."""
    schedule = solve(prob, SolveOptions(time_limit=20, workers=2, deterministic=True))
    assert schedule.status in ("OPTIMAL", "INFEASIBLE"), schedule.status
    if schedule.status == "INFEASIBLE":
        return None
    return schedule.terms["breaks"] // prob.objective.weights.breaks


def check_grid(prob: Problem, grid: dict[int, tuple[int, int]]) -> int:
    compiled = compile_problem(prob)
    assigned = assign_rooms(compiled, grid)
    schedule = Schedule(status="FEASIBLE", placed=placements_of(compiled, assigned), unplaced=[], objective=None)
    report = validate(prob, schedule)
    assert report.violations == [], report.violations
    assert len(schedule.placed) == len(prob.meetings)
    return report.terms["breaks"]


# Tables nearly full over five slots, as on the 10-slot B2B instances: a mix
# of problems without a grid, with a break-free grid and with optima of 1-2
# breaks, most of them matched by the pattern floor (checked when written).
Shape = tuple[int, int, int, str]  # random_b2b's people, meetings, rooms and end
SHAPES: list[Shape] = [(6, 9, 2, "11:30"), (8, 14, 3, "11:30")]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", range(6))
def test_zero_break_model_agrees_with_the_optimum_and_the_pattern_floor_stays_below_it(seed: int, shape: Shape) -> None:
    prob = random_b2b(seed, *shape)
    compiled = compile_problem(prob)
    assert applies(compiled)
    best = optimum(prob)
    answer = zero_breaks(compiled, 10, seed=0)
    assert answer.none_exists == (best is None or best > 0)
    if answer.grid is not None:
        assert check_grid(prob, answer.grid) == 0
    if best is not None:
        assert pattern_floor(compiled, 10, seed=0) <= best


def test_pattern_floor_reaches_an_optimum_of_two_breaks() -> None:
    prob = random_b2b(0, *SHAPES[0])
    assert optimum(prob) == 2
    assert pattern_floor(compile_problem(prob), 10, seed=0) == 2


def test_pattern_floor_finds_breaks_that_no_single_participant_needs() -> None:
    """One table, three businesses meeting each other in turn: alone each can
    have its two meetings back to back, but with one table B0-B1, B1-B2,
    B0-B2 can not all be, so the floor (and the optimum) is above 0."""
    names = ["B0", "B1", "B2"]
    listed = [meeting(f"{a}-{b}", [a, b], 30, priority="must") for a, b in (("B0", "B1"), ("B1", "B2"), ("B0", "B2"))]
    listed.append(meeting("loner", ["LONE", "B0"], 30, priority="must"))
    delegations = [delegation(name, person(name.lower())) for name in [*names, "LONE"]]
    prob = problem(delegations, listed, rooms=[room("T0", seats=2)], forum=forum(slot=30), objective=HARD)
    compiled = compile_problem(prob)
    best = optimum(prob)
    assert best is not None and best >= 1
    answer = zero_break_hint(compiled, 10, seed=0)
    assert answer is not None and answer.none_exists and answer.grid is None
    assert 1 <= proven_floor(compiled) <= best


def test_solve_proves_a_zero_break_grid_found_by_the_window_model() -> None:
    prob = random_b2b(3, people=7, meetings=12, rooms=2)
    schedule = solve(prob, SolveOptions(time_limit=10, workers=2))
    assert validate(prob, schedule).violations == []
    if optimum(prob) == 0:  # seed 3 has a break-free grid (checked when written)
        assert schedule.status == "OPTIMAL" and schedule.terms["breaks"] == 0


def test_window_model_does_not_apply_with_buffers_or_soft_meetings() -> None:
    prob = random_b2b(0)
    assert applies(compile_problem(prob))
    soft = Problem(**{**{f: getattr(prob, f) for f in prob.__struct_fields__}, "objective": ObjectiveSettings()})
    assert not applies(compile_problem(soft))
    assert proven_floor(compile_problem(soft)) == 0


def test_pattern_enumeration_is_every_slot_set_with_few_runs() -> None:
    for size in range(1, 9):
        for busy in range(1, size + 1):
            for most in (1, 2, 3):
                expected = {
                    slots
                    for slots in combinations(range(size), busy)
                    if sum(later - earlier > 1 for earlier, later in pairwise(slots)) < most
                }
                found = list(_runs(size, busy, most))
                assert len(found) == len(set(found)) == _count_runs(size, busy, most)
                assert set(found) == expected


def test_the_pattern_floor_has_its_own_budget() -> None:
    """The window model's seconds and the pattern floor's are separate: given
    none, the floor stays at the window model's one break; given ten, it
    reaches the optimum of two (the same problem as above)."""
    prob = random_b2b(0, *SHAPES[0])
    floors = []
    for floor_seconds in (0.0, 10.0):
        compiled = compile_problem(prob)
        answer = zero_break_hint(compiled, 10, seed=0, floor_seconds=floor_seconds)
        assert answer is not None and answer.none_exists
        floors.append(proven_floor(compiled))
    assert floors == [1, 2]
