"""Stability against a previous schedule: a moved time costs more than a changed room."""

from __future__ import annotations

from ortools.sat.python import cp_model

from solver.formulation import Formulation
from solver.model import move_weights


def stability(formulation: Formulation) -> cp_model.LinearExprT:
    """Cost of previous placements whose time or room changed (unplaced counts as moved)."""
    compiled = formulation.compiled
    weights = compiled.problem.objective.weights
    cost: list[cp_model.LinearExprT] = []
    for info in compiled.meetings:
        if info.previous is None:
            continue
        start, room = info.previous
        moved_time, moved_room = move_weights(weights, info.principal)
        other_room = [
            literal
            for (s, c), literal in formulation.x[info.index].items()
            if s == start and room not in {r.id for r in compiled.classes[c].rooms}
        ]
        cost.append(moved_time * (1 - formulation.y[info.index].get(start, 0)))
        cost.append(moved_room * sum(other_room))
    return sum(cost)
