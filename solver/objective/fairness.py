"""Fairness between delegations: nobody left with a far lower share held."""

from __future__ import annotations

from collections import defaultdict

from ortools.sat.python import cp_model

from solver.formulation import Formulation


def fairness(formulation: Formulation) -> cp_model.LinearExprT:
    """Cost of the percentage points the worst-served delegation lacks.

    share >= floor(100 * held / requested) for every delegation is linear in
    the held literals because `requested` is a constant.
    """
    compiled = formulation.compiled
    weight = compiled.problem.objective.weights.fairness
    held_by: dict[str, list] = defaultdict(list)
    for info in compiled.meetings:
        for delegation in info.delegations:
            held_by[delegation].append(formulation.held[info.index])
    if not held_by or weight == 0:
        return 0
    share = formulation.model.new_int_var(0, 100, "worst_share")
    for _, helds in sorted(held_by.items()):
        formulation.model.add(100 * sum(helds) >= len(helds) * share)
    return weight * (100 - share)
