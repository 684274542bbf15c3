"""The forum problem: everything the engine needs to build a meeting grid.

Plain msgspec Structs so that the same types are the JSON wire format, the
CLI file format and the solver input. Datetimes without an offset are read
as wall-clock time in the forum's time zone; datetimes with an offset are
converted to it.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Literal

import msgspec

Priority = Literal["must", "high", "normal", "low"]
Rank = Literal[
    "head_of_state",
    "minister",
    "deputy_minister",
    "chief_of_defence",
    "senior_official",
    "official",
]
SessionScope = Literal["everyone", "principals", "listed"]
ObjectiveMode = Literal["weighted", "lexicographic"]
Term = Literal["held", "fairness", "breaks", "preferences", "stability"]

PRIORITIES: tuple[Priority, ...] = ("must", "high", "normal", "low")
TERMS: tuple[Term, ...] = ("held", "fairness", "breaks", "preferences", "stability")


class Base(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Unknown fields are rejected so that a typo is an error, not a silent default."""


class Window(Base):
    """A half-open time window [start, end)."""

    start: datetime
    end: datetime


class Day(Base):
    """One forum day and the hours in which sideline meetings may be held."""

    date: date
    start: time
    end: time


class Forum(Base):
    name: str
    time_zone: str
    slot_minutes: int
    days: list[Day]


class ProgrammeSession(Base):
    """A plenary, dinner or council session that blocks its attendees.

    scope "everyone" blocks every participant, "principals" every principal,
    "listed" only the participants named in `participants`.
    """

    id: str
    name: str
    start: datetime
    end: datetime
    scope: SessionScope = "everyone"
    participants: list[str] = []


class Venue(Base):
    id: str
    name: str


class Travel(Base):
    """Minutes needed to get between two venues (the same both ways)."""

    between: tuple[str, str]
    minutes: int


class Room(Base):
    id: str
    name: str
    seats: int
    venue: str | None = None
    features: list[str] = []
    unavailable: list[Window] = []


class Participant(Base):
    id: str
    name: str
    rank: Rank = "official"
    principal: bool = False
    arrival: datetime | None = None
    departure: datetime | None = None
    blocked: list[Window] = []
    max_meetings_per_day: int | None = None
    buffer_minutes: int = 0


class Delegation(Base):
    id: str
    name: str
    country: str
    participants: list[Participant] = []


class Resource(Base):
    """A shared resource with a capacity per slot (interpreter team, escorts)."""

    id: str
    name: str
    capacity: int


class ResourceUse(Base):
    resource: str
    amount: int = 1


class Meeting(Base):
    """A requested meeting between two or more delegations.

    `participants` empty means every principal of every listed delegation.
    `seats` None means one seat per attending participant.
    `latest` bounds the end of the meeting, `earliest` its start.
    `after` lists meetings that, when both are held, must end before this starts.
    """

    id: str
    delegations: list[str]
    duration_minutes: int
    participants: list[str] = []
    title: str = ""
    priority: Priority = "normal"
    features: list[str] = []
    seats: int | None = None
    venues: list[str] = []
    preferred: list[Window] = []
    earliest: datetime | None = None
    latest: datetime | None = None
    pinned_start: datetime | None = None
    pinned_room: str | None = None
    after: list[str] = []
    resources: list[ResourceUse] = []


class KeepApart(Base):
    """Two delegations whose meetings must never be back to back in one room."""

    delegations: tuple[str, str]


class PreviousPlacement(Base):
    meeting: str
    start: datetime
    room: str


class PriorityWeights(Base):
    """Cost of leaving a meeting unplaced, by priority.

    Each level is worth several of the level below, and every level dominates
    the soft terms, so the engine never drops a meeting to save a break.
    """

    must: int = 10_000
    high: int = 1_000
    normal: int = 300
    low: int = 100


class Weights(Base):
    """Weights of the soft objective terms (all costs, minimised)."""

    breaks: int = 10  # per idle break inside a participant's day
    preferences: int = 5  # per held meeting outside all its preferred windows
    fairness: int = 10  # per percentage point the worst-served delegation lacks
    # Disruption against `previous`: a new time costs more than a new room (every
    # attendee's day changes, not only the signs), and a principal's meeting more
    # than an officials' one (ministers' programmes are the hardest to rearrange).
    moved_time: int = 50  # per principal's meeting whose start differs from the previous schedule (or dropped)
    moved_room: int = 10  # per principal's meeting kept in time but moved to another room
    moved_time_official: int = 20  # the same for a meeting no principal attends
    moved_room_official: int = 5


class ObjectiveSettings(Base):
    mode: ObjectiveMode = "weighted"
    priority_weights: PriorityWeights = msgspec.field(default_factory=PriorityWeights)
    weights: Weights = msgspec.field(default_factory=Weights)
    lexicographic_order: list[Term] = msgspec.field(default_factory=lambda: list(TERMS))
    # Idle slots in which a participant cannot meet anyway (a plenary, a
    # blocked window) do not make a break; the B2B benchmark counts them.
    breaks_count_unavailable: bool = False
    # Hard bound: no participant has more than this many breaks above the
    # participant with the fewest (the B2B benchmark's fairness d).
    break_spread_limit: int | None = None
    # Must meetings become a hard rule: a grid without all of them is
    # INFEASIBLE rather than a grid that reports them unplaced. Forums leave
    # this off (an organiser wants the best grid and the reasons); the B2B and
    # prob046 benchmarks, which require every meeting, turn it on.
    must_is_hard: bool = False


class Problem(Base):
    forum: Forum
    rooms: list[Room]
    delegations: list[Delegation]
    meetings: list[Meeting]
    sessions: list[ProgrammeSession] = []
    venues: list[Venue] = []
    travel: list[Travel] = []
    resources: list[Resource] = []
    keep_apart: list[KeepApart] = []
    previous: list[PreviousPlacement] = []
    objective: ObjectiveSettings = msgspec.field(default_factory=ObjectiveSettings)


def participants_by_id(problem: Problem) -> dict[str, tuple[Delegation, Participant]]:
    """Every participant with its delegation, keyed by participant id."""
    return {person.id: (delegation, person) for delegation in problem.delegations for person in delegation.participants}


def attendees(problem: Problem, meeting: Meeting) -> list[str]:
    """Participant ids attending `meeting` (the principals when none are listed)."""
    if meeting.participants:
        return list(meeting.participants)
    wanted = set(meeting.delegations)
    return [
        person.id
        for delegation in problem.delegations
        if delegation.id in wanted
        for person in delegation.participants
        if person.principal
    ]


def move_weights(weights: Weights, principal: bool) -> tuple[int, int]:
    """(new time or dropped, new room only) costs of moving a meeting, by whether a principal attends."""
    if principal:
        return weights.moved_time, weights.moved_room
    return weights.moved_time_official, weights.moved_room_official
