"""Objective terms of an assignment, computed in Python from the index form.

The engine reports these for every method (greedy or CP-SAT) so both are
measured by one yardstick; for CP-SAT their sum must equal the model's own
objective value, which the tests check, and the validator recomputes them
again from the raw problem.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise

from solver.compile import Compiled
from solver.model import move_weights

Assignment = dict[str, tuple[int, str]]  # meeting id -> (start slot, room id)


def evaluate(compiled: Compiled, assignment: Assignment) -> dict[str, int]:
    return {
        "held": held_cost(compiled, assignment),
        "fairness": fairness_cost(compiled, assignment),
        "breaks": compiled.problem.objective.weights.breaks * sum(breaks_by_person(compiled, assignment).values()),
        "preferences": preferences_cost(compiled, assignment),
        "stability": stability_cost(compiled, assignment),
    }


def total_cost(compiled: Compiled, assignment: Assignment) -> int:
    """The objective of docs/rules.md: the sum of the terms."""
    return sum(evaluate(compiled, assignment).values())


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
    """Breaks per participant: gaps between consecutive meetings of a day that
    hold a counted slot beyond the participant's buffer (docs/rules.md)."""
    ends_by_person: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for meeting_id, (start, _) in assignment.items():
        info = compiled.by_id[meeting_id]
        for person in info.people:
            ends_by_person[person].append((start, start + info.length - 1))
    result = dict.fromkeys(compiled.people, 0)
    for person, spans in ends_by_person.items():
        result[person] = person_breaks(compiled, person, spans)
    return result


def person_breaks(compiled: Compiled, person: str, spans: list[tuple[int, int]]) -> int:
    """Breaks of one participant whose meetings occupy these (first slot, last slot) spans."""
    count_all = compiled.problem.objective.breaks_count_unavailable
    grid = compiled.grid
    buffer = compiled.buffer_slots.get(person, 0)
    breaks = 0
    for (_, last), (first, _) in pairwise(sorted(spans)):
        if grid.day_of_slot[last] != grid.day_of_slot[first]:
            continue
        idle = range(last + buffer + 1, first)
        breaks += any(count_all or slot in compiled.available[person] for slot in idle)
    return breaks


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
        moved_time, moved_room = move_weights(weights, info.principal)
        placed = assignment.get(info.id)
        if placed is None or placed[0] != info.previous[0]:
            cost += moved_time
        elif placed[1] != info.previous[1]:
            cost += moved_room
    return cost
