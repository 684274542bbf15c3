"""Preferred windows of meetings (soft)."""

from __future__ import annotations

from ortools.sat.python import cp_model

from solver.formulation import Formulation


def preferences(formulation: Formulation) -> cp_model.LinearExprT:
    """Cost of held meetings that lie inside none of their preferred windows."""
    weight = formulation.compiled.problem.objective.weights.preferences
    outside = [
        literal
        for info in formulation.compiled.meetings
        if info.meeting.preferred
        for start, literal in formulation.y[info.index].items()
        if start not in info.preferred_starts
    ]
    return weight * sum(outside)
