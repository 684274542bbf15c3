"""Idle breaks inside each participant's day, and the B2B fairness bound on them."""

from __future__ import annotations

from ortools.sat.python import cp_model

from solver.formulation import Formulation


def breaks(formulation: Formulation) -> cp_model.LinearExprT:
    """Cost of the breaks: per participant and day, busy runs minus one.

    The encoding is exact (a run start is busy-now-and-idle-before, both
    ways), not merely a lower bound, because the spread limit compares
    participants' breaks and a slack count could be inflated to satisfy it.
    """
    objective = formulation.compiled.problem.objective
    per_person = {person: _breaks_of(formulation, person) for person in formulation.compiled.people}
    if objective.break_spread_limit is not None:
        _limit_spread(formulation, per_person, objective.break_spread_limit)
    return objective.weights.breaks * sum(per_person.values())


def _breaks_of(formulation: Formulation, person: str) -> cp_model.LinearExprT:
    compiled = formulation.compiled
    infos = formulation.meetings_of(person)
    if len(infos) < 2:
        return 0
    covering = formulation.cover(infos)
    counted = _counted_slots(formulation, person)
    total: list[cp_model.LinearExprT] = []
    grid = compiled.grid
    for day, day_slots in enumerate(grid.day_ranges):
        meetings_that_day = [
            info for info in infos if any(grid.day_of_slot[start] == day for start, _ in formulation.x[info.index])
        ]
        if len(meetings_that_day) < 2:
            continue
        sequence = [slot for slot in day_slots if slot in counted]
        total.append(_day_breaks(formulation, [covering.get(slot, []) for slot in sequence]))
    return sum(total)


def _counted_slots(formulation: Formulation, person: str) -> set[int] | range:
    compiled = formulation.compiled
    if compiled.problem.objective.breaks_count_unavailable:
        return range(compiled.grid.size)
    return compiled.available[person]


def _day_breaks(formulation: Formulation, busy_literals: list[list]) -> cp_model.LinearExprT:
    """Breaks in one day given, per counted slot, the literals that make it busy."""
    model = formulation.model
    run_starts = []
    previous: list = []
    for literals in busy_literals:
        if literals:
            start = model.new_bool_var("run_start")
            busy, before = sum(literals), sum(previous)
            model.add(start <= busy)
            model.add(start + before <= 1)
            model.add(start >= busy - before)
            run_starts.append(start)
        previous = literals
    any_run = model.new_bool_var("any_run")
    model.add_max_equality(any_run, run_starts)
    # A variable with domain [0, ..] rather than the bare expression: the LP
    # relaxation of the max does not know runs >= any_run, and presolve drops
    # that constraint as implied, so every participant-day would add -1 to
    # the bound.
    count = model.new_int_var(0, len(run_starts), "breaks")
    model.add(count == sum(run_starts) - any_run)
    return count


def _limit_spread(formulation: Formulation, per_person: dict, limit: int) -> None:
    """max breaks - min breaks <= limit, over every participant."""
    model = formulation.model
    fewest = model.new_int_var(0, formulation.compiled.grid.size, "fewest_breaks")
    for count in per_person.values():
        model.add(fewest <= count)
        model.add(count <= fewest + limit)
