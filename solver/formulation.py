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
    # y[meeting index][start] -> literal "starts at `start`" (in any room class).
    # Rules about people and time use y: one literal per start instead of one
    # per room class keeps their constraints several times smaller.
    y: list[dict[int, cp_model.IntVar]] = field(default_factory=list)
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
            starts = formulation._start_literals(info, choices)
            formulation.y.append(starts)
            if len(starts) > 1:
                held = formulation.model.new_bool_var(f"held_{info.index}")
                formulation.model.add_exactly_one([*starts.values(), ~held])
                formulation.held.append(held)
            else:
                formulation.held.append(sum(starts.values()))
            if compiled.problem.objective.must_is_hard and info.meeting.priority == "must":
                formulation.model.add(formulation.held[-1] == 1)
        return formulation

    def _start_literals(self, info: MeetingInfo, choices: dict[Choice, cp_model.IntVar]) -> dict[int, cp_model.IntVar]:
        by_start: dict[int, list[cp_model.IntVar]] = defaultdict(list)
        for (start, _), literal in choices.items():
            by_start[start].append(literal)
        starts: dict[int, cp_model.IntVar] = {}
        for start, literals in by_start.items():
            if len(literals) == 1:
                starts[start] = literals[0]
            else:
                starts[start] = self.model.new_bool_var(f"y_{info.index}_{start}")
                self.model.add(sum(literals) == starts[start])
        return starts

    def meetings_of(self, person: str) -> list[MeetingInfo]:
        return [info for info in self.compiled.meetings if person in info.people and self.x[info.index]]

    def cover(self, infos: list[MeetingInfo], extra: int = 0) -> dict[int, list[cp_model.IntVar]]:
        """slot -> literals of `infos` occupying it, each extended by `extra`
        trailing slots (a buffer), never past the end of its day."""
        grid = self.compiled.grid
        covering: dict[int, list[cp_model.IntVar]] = defaultdict(list)
        for info in infos:
            for start, literal in self.y[info.index].items():
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

    def starts_on_day(self, info: MeetingInfo, day: int) -> dict[int, cp_model.IntVar]:
        grid = self.compiled.grid
        return {start: literal for start, literal in self.y[info.index].items() if grid.day_of_slot[start] == day}

    def value_of_choices(self, solver: cp_model.CpSolver) -> dict[int, Choice]:
        """meeting index -> chosen (start, class) in the solver's solution."""
        chosen: dict[int, Choice] = {}
        for index, choices in enumerate(self.x):
            for choice, literal in choices.items():
                if solver.boolean_value(literal):
                    chosen[index] = choice
        return chosen
