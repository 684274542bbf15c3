"""What a solve produces: the meeting grid, the unplaced meetings and why, and
how good the grid is."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

Status = Literal["OPTIMAL", "FEASIBLE", "INFEASIBLE", "UNKNOWN"]
Method = Literal["cpsat", "greedy"]
# What actually searched for the grid under method "cpsat" (docs/engine.md):
# CP-SAT, the local search of solver/localsearch.py, or both side by side.
Search = Literal["cpsat", "local_search"]

# Machine-readable reasons for an unplaced meeting.
ReasonCode = Literal[
    "no_common_availability",  # attendees are never free together for the duration
    "no_suitable_room",  # no room has the seats, features and venue required
    "no_room_available",  # suitable rooms exist but none is free when attendees are
    "outside_window",  # earliest/latest/pin leave no start on the grid
    "capacity_conflict",  # every feasible start is taken by meetings that were kept
    "lower_priority",  # placing it would displace meetings worth more
    "not_reached",  # the search stopped before placing it (time limit)
    "costs_more",  # it fits, but the proven optimum leaves it out (breaks, preferences, spread limit)
]


class Base(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    pass


class Placement(Base):
    meeting: str
    start: datetime
    end: datetime
    room: str
    # The start's index on the forum's slot grid. None (left out) where it is
    # not known: placements read back from the service's database. Not 0 by
    # default: with omit_defaults a meeting in the first slot lost its index.
    slot: int | None = None


class Unplaced(Base):
    meeting: str
    reason: ReasonCode
    message: str
    # Ids of what stands in the way: meetings, participants, rooms or resources.
    blockers: list[str] = []


class SolveStats(Base):
    method: Method = "cpsat"
    workers: int = 1
    seed: int = 0
    time_limit: float = 0.0
    solve_seconds: float = 0.0
    first_solution_seconds: float | None = None
    variables: int = 0
    constraints: int = 0
    greedy_objective: int | None = None
    searches: list[Search] = []


class Schedule(Base):
    status: Status
    placed: list[Placement]
    unplaced: list[Unplaced] = []
    objective: int | None = None
    best_bound: int | None = None
    gap: float | None = None
    terms: dict[str, int] = {}
    stats: SolveStats = msgspec.field(default_factory=SolveStats)


class Progress(Base):
    """One report of a running solve, for progress bars and event streams."""

    elapsed: float
    objective: int | None
    best_bound: int | None
    gap: float | None
    solutions: int
