"""What a solve produces: the meeting grid, the unplaced meetings and why, and
how good the grid is."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

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
    meeting: Annotated[str, msgspec.Meta(description="the meeting's id")]
    start: Annotated[datetime, msgspec.Meta(description="in the forum's zone, with its offset")]
    end: Annotated[datetime, msgspec.Meta(description="start plus the meeting's duration")]
    room: Annotated[str, msgspec.Meta(description="the room's id")]
    # The start's index on the forum's slot grid. None (left out) where it is
    # not known: placements read back from the service's database. Not 0 by
    # default: with omit_defaults a meeting in the first slot lost its index.
    slot: Annotated[
        int | None, msgspec.Meta(description="the start's index on the forum's slot grid (absent where not known)")
    ] = None


class Unplaced(Base):
    meeting: Annotated[str, msgspec.Meta(description="the meeting's id")]
    reason: Annotated[ReasonCode, msgspec.Meta(description="why it is left out (docs/rules.md)")]
    message: Annotated[str, msgspec.Meta(description="the reason in a sentence for the organiser")]
    # Ids of what stands in the way: meetings, participants, rooms or resources.
    blockers: Annotated[list[str], msgspec.Meta(description="participant, room or meeting ids in the way")] = []


class SolveStats(Base):
    method: Annotated[Method, msgspec.Meta(description="cpsat (CP-SAT and the local search) or greedy")] = "cpsat"
    workers: Annotated[int, msgspec.Meta(description="search threads")] = 1
    seed: Annotated[int, msgspec.Meta(description="random seed")] = 0
    time_limit: Annotated[float, msgspec.Meta(description="seconds allowed")] = 0.0
    solve_seconds: Annotated[float, msgspec.Meta(description="seconds used")] = 0.0
    first_solution_seconds: Annotated[float | None, msgspec.Meta(description="seconds to the first grid")] = None
    variables: Annotated[int, msgspec.Meta(description="CP-SAT model variables (0 where CP-SAT did not run)")] = 0
    constraints: Annotated[int, msgspec.Meta(description="CP-SAT model constraints")] = 0
    greedy_objective: Annotated[
        int | None, msgspec.Meta(description="the greedy baseline's objective, for comparison")
    ] = None
    searches: Annotated[list[Search], msgspec.Meta(description="what searched: cpsat, local_search or both")] = []


class Schedule(Base):
    status: Annotated[
        Status,
        msgspec.Meta(
            description="OPTIMAL: proven best; FEASIBLE: not proven; INFEASIBLE: none can exist; UNKNOWN: none found"
        ),
    ]
    placed: Annotated[list[Placement], msgspec.Meta(description="the placed meetings")]
    unplaced: Annotated[list[Unplaced], msgspec.Meta(description="the meetings left out, each with its reason")] = []
    objective: Annotated[
        int | None, msgspec.Meta(description="the grid's cost (sum of terms); null without a grid")
    ] = None
    best_bound: Annotated[int | None, msgspec.Meta(description="no grid costs less than this")] = None
    gap: Annotated[float | None, msgspec.Meta(description="(objective - best_bound) / objective")] = None
    terms: Annotated[
        dict[str, int],
        msgspec.Meta(description="the objective by term: held, fairness, breaks, preferences, stability"),
    ] = {}
    stats: Annotated[SolveStats, msgspec.Meta(description="how the solve ran")] = msgspec.field(
        default_factory=SolveStats
    )


class Progress(Base):
    """One report of a running solve, for progress bars and event streams."""

    elapsed: float
    objective: int | None
    best_bound: int | None
    gap: float | None
    solutions: int
