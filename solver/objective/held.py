"""Meetings held, weighted by priority."""

from __future__ import annotations

from ortools.sat.python import cp_model

from solver.formulation import Formulation


def held(formulation: Formulation) -> cp_model.LinearExprT:
    """Cost of the meetings left unplaced: the sum of their priority weights."""
    return sum(info.weight * (1 - formulation.held[info.index]) for info in formulation.compiled.meetings)
