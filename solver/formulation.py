"""The time-indexed CP-SAT formulation: one boolean per allowed (meeting,
start slot, room class) and the indices the constraint and objective modules
share.

Time-indexed booleans over room classes beat interval variables on this
problem by orders of magnitude (every rule becomes a small at-most-one or
capacity sum per slot), and variables exist only for combinations that no
static rule forbids, so the model grows with what is possible, not with
meetings x slots x rooms.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from solver.compile import Compiled, MeetingInfo

Choice = tuple[int, int]  # (start slot, room class index)


@dataclass
class Formulation:
    compiled: Compiled
    model: cp_model.CpModel = field(default_factory=cp_model.CpModel)
    # x[meeting index][(start, class)] -> literal
    x: list[dict[Choice, cp_model.IntVar]] = field(default_factory=list)
    held: list[cp_model.LinearExprT] = field(default_factory=list)
    terms: dict[str, cp_model.LinearExprT] = field(default_factory=dict)

    @classmethod
    def build(cls, compiled: Compiled) -> Formulation:
        formulation = cls(compiled)
        for info in compiled.meetings:
            choices = {
                choice: formulation.model.new_bool_var(f"x_{info.index}_{choice[0]}_{choice[1]}")
                for choice in info.domain
            }
            formulation.x.append(choices)
            formulation.held.append(sum(choices.values()))
            if len(choices) > 1:
                formulation.model.add_at_most_one(choices.values())
        return formulation

    def starting_at(self, info: MeetingInfo) -> dict[int, list[cp_model.IntVar]]:
        """The meeting's literals grouped by start slot."""
        by_start: dict[int, list[cp_model.IntVar]] = defaultdict(list)
        for (start, _), literal in self.x[info.index].items():
            by_start[start].append(literal)
        return by_start

    def meetings_of(self, person: str) -> list[MeetingInfo]:
        return [info for info in self.compiled.meetings if person in info.people and self.x[info.index]]

    def cover(self, infos: list[MeetingInfo], extra: int = 0) -> dict[int, list[cp_model.IntVar]]:
        """slot -> literals of `infos` occupying it, each extended by `extra`
        trailing slots (a buffer), never past the end of its day."""
        grid = self.compiled.grid
        covering: dict[int, list[cp_model.IntVar]] = defaultdict(list)
        for info in infos:
            for (start, _), literal in self.x[info.index].items():
                day_end = grid.day_ranges[grid.day_of_slot[start]].stop
                for slot in range(start, min(start + info.length + extra, day_end)):
                    covering[slot].append(literal)
        return covering

    def at_most(self, literals: list[cp_model.IntVar], bound: int) -> None:
        """sum(literals) <= bound, as an at-most-one when that is what it is."""
        if len(literals) <= bound:
            return
        if bound == 1:
            self.model.add_at_most_one(literals)
        else:
            self.model.add(sum(literals) <= bound)

    def value_of_choices(self, solver: cp_model.CpSolver) -> dict[int, Choice]:
        """meeting index -> chosen (start, class) in the solver's solution."""
        chosen: dict[int, Choice] = {}
        for index, choices in enumerate(self.x):
            for choice, literal in choices.items():
                if solver.boolean_value(literal):
                    chosen[index] = choice
        return chosen
