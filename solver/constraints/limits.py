"""Per-participant limits on meetings per day."""

from __future__ import annotations

from solver.formulation import Formulation


def daily_limits(formulation: Formulation) -> None:
    """A participant attends at most `max_meetings_per_day` meetings starting on a day."""
    compiled = formulation.compiled
    grid = compiled.grid
    for person, participant in compiled.people.items():
        limit = participant.max_meetings_per_day
        if limit is None:
            continue
        per_day: dict[int, list] = {}
        for info in formulation.meetings_of(person):
            for start, literal in formulation.y[info.index].items():
                per_day.setdefault(grid.day_of_slot[start], []).append(literal)
        for literals in per_day.values():
            if limit == 0:
                for literal in literals:
                    formulation.model.add(literal == 0)
            else:
                formulation.at_most(literals, limit)
