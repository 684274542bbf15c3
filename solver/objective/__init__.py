"""Objective terms of docs/rules.md as CP-SAT linear expressions (costs).

Each module adds the variables it needs and returns the term's expression,
already multiplied by its weight, so the terms add up to the objective.
"""

from __future__ import annotations

from solver.formulation import Formulation
from solver.objective.breaks import breaks
from solver.objective.fairness import fairness
from solver.objective.held import held
from solver.objective.preferences import preferences
from solver.objective.stability import stability

TERM_BUILDERS = {
    "held": held,
    "fairness": fairness,
    "breaks": breaks,
    "preferences": preferences,
    "stability": stability,
}


def add_terms(formulation: Formulation) -> None:
    for name, build in TERM_BUILDERS.items():
        formulation.terms[name] = build(formulation)
