"""Objective terms of an assignment, computed in Python from the index form.

The engine reports these for every method (greedy or CP-SAT) so both are
measured by one yardstick; for CP-SAT their sum must equal the model's own
objective value, which the tests check, and the validator recomputes them
again from the raw problem.
"""

from __future__ import annotations

from collections import defaultdict

from solver.compile import Compiled

Assignment = dict[str, tuple[int, str]]  # meeting id -> (start slot, room id)


def evaluate(compiled: Compiled, assignment: Assignment) -> dict[str, int]:
    return {
        "held": held_cost(compiled, assignment),
        "fairness": fairness_cost(compiled, assignment),
        "breaks": compiled.problem.objective.weights.breaks * sum(breaks_by_person(compiled, assignment).values()),
        "preferences": preferences_cost(compiled, assignment),
        "stability": stability_cost(compiled, assignment),
    }


def held_cost(compiled: Compiled, assignment: Assignment) -> int:
    return sum(info.weight for info in compiled.meetings if info.id not in assignment)


def fairness_cost(compiled: Compiled, assignment: Assignment) -> int:
    requested: dict[str, int] = defaultdict(int)
    placed: dict[str, int] = defaultdict(int)
    for info in compiled.meetings:
        for delegation in info.delegations:
            requested[delegation] += 1
            placed[delegation] += info.id in assignment
    if not requested:
        return 0
    worst = min(100 * placed[d] // requested[d] for d in requested)
    return compiled.problem.objective.weights.fairness * (100 - worst)


def breaks_by_person(compiled: Compiled, assignment: Assignment) -> dict[str, int]:
    busy: dict[str, set[int]] = defaultdict(set)
    for meeting_id, (start, _) in assignment.items():
        info = compiled.by_id[meeting_id]
        for person in info.people:
            busy[person].update(info.covers(start))
    count_all = compiled.problem.objective.breaks_count_unavailable
    result: dict[str, int] = {}
    for person in compiled.people:
        slots = busy.get(person, set())
        result[person] = 0
        for day_slots in compiled.grid.day_ranges:
            sequence = [s in slots for s in day_slots if count_all or s in compiled.available[person]]
            runs = sum(1 for i, b in enumerate(sequence) if b and (i == 0 or not sequence[i - 1]))
            result[person] += max(0, runs - 1)
    return result


def preferences_cost(compiled: Compiled, assignment: Assignment) -> int:
    outside = sum(
        1
        for meeting_id, (start, _) in assignment.items()
        if compiled.by_id[meeting_id].meeting.preferred and start not in compiled.by_id[meeting_id].preferred_starts
    )
    return compiled.problem.objective.weights.preferences * outside


def stability_cost(compiled: Compiled, assignment: Assignment) -> int:
    weights = compiled.problem.objective.weights
    cost = 0
    for info in compiled.meetings:
        if info.previous is None:
            continue
        placed = assignment.get(info.id)
        if placed is None or placed[0] != info.previous[0]:
            cost += weights.moved_time
        elif placed[1] != info.previous[1]:
            cost += weights.moved_room
    return cost
