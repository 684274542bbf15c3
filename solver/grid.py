"""A grid (meeting -> start slot, room) as the placements and schedule the
engine answers with. No OR-Tools here, so that the API process can build a
schedule (a fit applied) without loading the solver."""

from __future__ import annotations

from solver.compile import Compiled
from solver.explain import explain_unplaced
from solver.result import Placement, Schedule, SolveStats
from solver.terms import Assignment, evaluate


def placements_of(compiled: Compiled, assignment: Assignment) -> list[Placement]:
    grid = compiled.grid
    placements = [
        Placement(
            meeting=meeting_id,
            start=grid.starts[start],
            end=grid.end_of(start, compiled.by_id[meeting_id].length),
            room=room,
            slot=start,
        )
        for meeting_id, (start, room) in assignment.items()
    ]
    return sorted(placements, key=lambda p: (p.start, p.room, p.meeting))


def grid_schedule(compiled: Compiled, assignment: Assignment) -> Schedule:
    """A grid built outside the search (a fit applied by the organiser) as a
    FEASIBLE schedule, with its terms and the reasons of what is unplaced."""
    terms = evaluate(compiled, assignment)
    return Schedule(
        status="FEASIBLE",
        placed=placements_of(compiled, assignment),
        unplaced=explain_unplaced(compiled, assignment),
        objective=sum(terms.values()),
        terms=terms,
        stats=SolveStats(method="greedy"),
    )
