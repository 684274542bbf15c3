"""The forum problem: everything the engine needs to build a meeting grid.

Plain msgspec Structs so that the same types are the JSON wire format, the
CLI file format and the solver input. Datetimes without an offset are read
as wall-clock time in the forum's time zone; datetimes with an offset are
converted to it.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Literal

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

# Every date and time of a problem: the wire format says how it is read.
MOMENT = (
    "a date and time, 2024-05-31T14:30 (seconds optional); without a UTC offset, wall-clock time in the forum's zone"
)

PRIORITIES: tuple[Priority, ...] = ("must", "high", "normal", "low")
TERMS: tuple[Term, ...] = ("held", "fairness", "breaks", "preferences", "stability")


class Base(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Unknown fields are rejected so that a typo is an error, not a silent default."""


class Window(Base):
    """A half-open time window [start, end)."""

    start: Annotated[datetime, msgspec.Meta(description=MOMENT)]
    end: Annotated[datetime, msgspec.Meta(description=MOMENT)]


class Day(Base):
    """One forum day and the hours in which sideline meetings may be held."""

    date: Annotated[date, msgspec.Meta(description="the day, 2024-05-31")]
    start: Annotated[
        time, msgspec.Meta(description="when sideline meetings may start, wall-clock time in the forum's zone (07:30)")
    ]
    end: Annotated[time, msgspec.Meta(description="when the day's last meeting must have ended")]


class Forum(Base):
    name: Annotated[str, msgspec.Meta(description="shown on the pages, exports and calendars")]
    time_zone: Annotated[
        str,
        msgspec.Meta(
            description="the IANA zone of a place (Asia/Singapore, or UTC); a time without offset is local to it"
        ),
    ]
    slot_minutes: Annotated[
        int, msgspec.Meta(description="the grid's step, 1 to 240 minutes; every duration is a multiple of it")
    ]
    days: Annotated[list[Day], msgspec.Meta(description="the forum's days, each with its hours")]


class ProgrammeSession(Base):
    """A plenary, dinner or council session that blocks its attendees.

    scope "everyone" blocks every participant, "principals" every principal,
    "listed" only the participants named in `participants`.
    """

    id: Annotated[str, msgspec.Meta(description="unique among sessions")]
    name: Annotated[str, msgspec.Meta(description="e.g. Plenary 1")]
    start: Annotated[datetime, msgspec.Meta(description=MOMENT)]
    end: Annotated[datetime, msgspec.Meta(description=MOMENT)]
    scope: Annotated[
        SessionScope,
        msgspec.Meta(description="whom it blocks: everyone, the principals (and the listed), or only the listed"),
    ] = "everyone"
    participants: Annotated[
        list[str],
        msgspec.Meta(description="participant ids it blocks besides its scope (for scope listed: the only ones)"),
    ] = []


class Venue(Base):
    id: Annotated[str, msgspec.Meta(description="unique among venues")]
    name: Annotated[str, msgspec.Meta(description="e.g. Shangri-La Hotel")]


class Travel(Base):
    """Minutes needed to get between two venues (the same both ways)."""

    between: Annotated[tuple[str, str], msgspec.Meta(description="two venue ids")]
    minutes: Annotated[int, msgspec.Meta(description="minutes needed from one to the other, either way")]


class Room(Base):
    id: Annotated[str, msgspec.Meta(description="unique among rooms")]
    name: Annotated[str, msgspec.Meta(description="e.g. Bilateral Room 1")]
    seats: Annotated[int, msgspec.Meta(description="seats at its table")]
    venue: Annotated[
        str | None, msgspec.Meta(description="the venue id it is at (travel between venues counts); null: none")
    ] = None
    features: Annotated[list[str], msgspec.Meta(description="what it offers, e.g. interpretation, secure")] = []
    unavailable: Annotated[list[Window], msgspec.Meta(description="windows in which it cannot be used")] = []


class Participant(Base):
    id: Annotated[str, msgspec.Meta(description="unique in the problem (e.g. sg-min)")]
    name: Annotated[str, msgspec.Meta(description="as shown to the organiser and in messages")]
    rank: Annotated[Rank, msgspec.Meta(description="protocol rank")] = "official"
    principal: Annotated[
        bool, msgspec.Meta(description="a principal attends every meeting of the delegation that lists no participants")
    ] = False
    arrival: Annotated[
        datetime | None, msgspec.Meta(description="not available before this (null: from the forum's start)")
    ] = None
    departure: Annotated[
        datetime | None, msgspec.Meta(description="not available after this (null: to the forum's end)")
    ] = None
    blocked: Annotated[list[Window], msgspec.Meta(description="windows in which the participant cannot meet")] = []
    max_meetings_per_day: Annotated[
        int | None, msgspec.Meta(description="at most this many meetings starting on one day (null: no limit)")
    ] = None
    buffer_minutes: Annotated[
        int, msgspec.Meta(description="minutes kept free between two of the participant's meetings")
    ] = 0


class Delegation(Base):
    id: Annotated[str, msgspec.Meta(description="unique in the problem (e.g. SG)")]
    name: Annotated[str, msgspec.Meta(description="e.g. Delegation of Singapore")]
    country: Annotated[str, msgspec.Meta(description="the code shown in grids and calendars (SG)")]
    participants: Annotated[list[Participant], msgspec.Meta(description="its people")] = []


class Resource(Base):
    """A shared resource with a capacity per slot (interpreter team, escorts)."""

    id: Annotated[str, msgspec.Meta(description="unique among resources")]
    name: Annotated[str, msgspec.Meta(description="e.g. Japanese-English interpreters")]
    capacity: Annotated[int, msgspec.Meta(description="how much the meetings in progress may use in any slot")]


class ResourceUse(Base):
    resource: Annotated[str, msgspec.Meta(description="a resource id")]
    amount: Annotated[int, msgspec.Meta(description="how much of its capacity the meeting uses")] = 1


class Meeting(Base):
    """A requested meeting between two or more delegations.

    `participants` empty means every principal of every listed delegation.
    `seats` None means one seat per attending participant.
    `latest` bounds the end of the meeting, `earliest` its start.
    `after` lists meetings that, when both are held, must end before this starts.
    """

    id: Annotated[str, msgspec.Meta(description="unique in the problem")]
    delegations: Annotated[list[str], msgspec.Meta(description="the delegation ids that meet, two or more")]
    duration_minutes: Annotated[int, msgspec.Meta(description="a multiple of forum.slot_minutes")]
    participants: Annotated[
        list[str], msgspec.Meta(description="participant ids attending; empty: every principal of its delegations")
    ] = []
    title: Annotated[str, msgspec.Meta(description="shown in grids and calendars")] = ""
    priority: Annotated[
        Priority, msgspec.Meta(description="the cost of leaving it out (objective.priority_weights)")
    ] = "normal"
    features: Annotated[list[str], msgspec.Meta(description="room features it needs")] = []
    seats: Annotated[int | None, msgspec.Meta(description="seats it needs (null: one per attendee)")] = None
    venues: Annotated[list[str], msgspec.Meta(description="venue ids it may be held at (empty: any)")] = []
    preferred: Annotated[
        list[Window],
        msgspec.Meta(description="windows it should lie inside; missing all of them costs weights.preferences"),
    ] = []
    earliest: Annotated[datetime | None, msgspec.Meta(description="it starts no earlier than this")] = None
    latest: Annotated[datetime | None, msgspec.Meta(description="it ends no later than this")] = None
    pinned_start: Annotated[datetime | None, msgspec.Meta(description="it starts exactly then")] = None
    pinned_room: Annotated[str | None, msgspec.Meta(description="it is held in this room id")] = None
    after: Annotated[
        list[str], msgspec.Meta(description="meeting ids that, when both are held, end before this one starts")
    ] = []
    resources: Annotated[list[ResourceUse], msgspec.Meta(description="shared resources it uses (interpreters)")] = []


class KeepApart(Base):
    """Two delegations whose meetings must never be back to back in one room."""

    delegations: Annotated[tuple[str, str], msgspec.Meta(description="two delegation ids")]


class PreviousPlacement(Base):
    meeting: Annotated[str, msgspec.Meta(description="a meeting id")]
    start: Annotated[datetime, msgspec.Meta(description=MOMENT)]
    room: Annotated[str, msgspec.Meta(description="a room id")]


class PriorityWeights(Base):
    """Cost of leaving a meeting unplaced, by priority.

    Each level is worth several of the level below, and every level dominates
    the soft terms, so the engine never drops a meeting to save a break.
    """

    must: Annotated[int, msgspec.Meta(description="cost of leaving a must meeting out")] = 10_000
    high: Annotated[int, msgspec.Meta(description="cost of leaving a high meeting out")] = 1_000
    normal: Annotated[int, msgspec.Meta(description="cost of leaving a normal meeting out")] = 300
    low: Annotated[int, msgspec.Meta(description="cost of leaving a low meeting out")] = 100


class Weights(Base):
    """Weights of the soft objective terms (all costs, minimised)."""

    breaks: Annotated[int, msgspec.Meta(description="per idle break inside a participant's day")] = 10
    preferences: Annotated[int, msgspec.Meta(description="per held meeting outside all its preferred windows")] = 5
    fairness: Annotated[
        int, msgspec.Meta(description="per percentage point of meetings the worst-served delegation lacks")
    ] = 10
    # Disruption against `previous`: a new time costs more than a new room (every
    # attendee's day changes, not only the signs), and a principal's meeting more
    # than an officials' one (ministers' programmes are the hardest to rearrange).
    moved_time: Annotated[
        int, msgspec.Meta(description="per principal's meeting of `previous` now at another time, or left out")
    ] = 50
    moved_room: Annotated[
        int, msgspec.Meta(description="per principal's meeting of `previous` kept in time but in another room")
    ] = 10
    moved_time_official: Annotated[int, msgspec.Meta(description="moved_time for a meeting no principal attends")] = 20
    moved_room_official: Annotated[int, msgspec.Meta(description="moved_room for a meeting no principal attends")] = 5


class ObjectiveSettings(Base):
    mode: Annotated[
        ObjectiveMode,
        msgspec.Meta(
            description="weighted: one sum; lexicographic: the terms one after another in lexicographic_order"
        ),
    ] = "weighted"
    priority_weights: Annotated[
        PriorityWeights, msgspec.Meta(description="cost of an unplaced meeting, by priority")
    ] = msgspec.field(default_factory=PriorityWeights)
    weights: Annotated[Weights, msgspec.Meta(description="weights of the other terms")] = msgspec.field(
        default_factory=Weights
    )
    lexicographic_order: Annotated[
        list[Term], msgspec.Meta(description="the terms in order of importance (mode lexicographic)")
    ] = msgspec.field(default_factory=lambda: list(TERMS))
    # Idle slots in which a participant cannot meet anyway (a plenary, a
    # blocked window) do not make a break; the B2B benchmark counts them.
    breaks_count_unavailable: Annotated[
        bool,
        msgspec.Meta(
            description="true: idle slots in which a participant cannot meet anyway make a break too (as B2B counts)"
        ),
    ] = False
    # Hard bound: no participant has more than this many breaks above the
    # participant with the fewest (the B2B benchmark's fairness d).
    break_spread_limit: Annotated[
        int | None,
        msgspec.Meta(description="a hard rule: nobody has more than this many breaks above the fewest (null: none)"),
    ] = None
    # Must meetings become a hard rule: a grid without all of them is
    # INFEASIBLE rather than a grid that reports them unplaced. Forums leave
    # this off (an organiser wants the best grid and the reasons); the B2B and
    # prob046 benchmarks, which require every meeting, turn it on.
    must_is_hard: Annotated[
        bool, msgspec.Meta(description="true: a grid must hold every must meeting, else INFEASIBLE")
    ] = False


class Problem(Base):
    forum: Annotated[Forum, msgspec.Meta(description="name, time zone, slot and days")]
    rooms: Annotated[list[Room], msgspec.Meta(description="where meetings are held")]
    delegations: Annotated[list[Delegation], msgspec.Meta(description="the delegations and their people")]
    meetings: Annotated[list[Meeting], msgspec.Meta(description="the requested meetings")]
    sessions: Annotated[
        list[ProgrammeSession], msgspec.Meta(description="plenaries, dinners and sessions that block their attendees")
    ] = []
    venues: Annotated[list[Venue], msgspec.Meta(description="sites rooms are at")] = []
    travel: Annotated[list[Travel], msgspec.Meta(description="minutes between venues")] = []
    resources: Annotated[list[Resource], msgspec.Meta(description="shared resources with a capacity")] = []
    keep_apart: Annotated[
        list[KeepApart], msgspec.Meta(description="pairs of delegations never back to back in one room")
    ] = []
    previous: Annotated[
        list[PreviousPlacement],
        msgspec.Meta(description="the published grid, for a re-solve: moving its meetings costs the weights' moved_*"),
    ] = []
    objective: Annotated[ObjectiveSettings, msgspec.Meta(description="what the grid minimises (docs/rules.md)")] = (
        msgspec.field(default_factory=ObjectiveSettings)
    )


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


class Attendance:
    """`attendees` for many meetings of one problem, the principals gathered once: read per
    meeting, every delegation was walked for each (UNGA: 1,100 x 190, a fifth of a validation)."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        ids = [delegation.id for delegation in problem.delegations]
        # With a repeated delegation id (a problem the checks refuse) `attendees` itself answers.
        self.unique = len(set(ids)) == len(ids)
        self.position = {delegation_id: index for index, delegation_id in enumerate(ids)}
        self.principals = {
            delegation.id: [person.id for person in delegation.participants if person.principal]
            for delegation in problem.delegations
        }

    def of(self, meeting: Meeting) -> list[str]:
        """`attendees(problem, meeting)`, to the order."""
        if meeting.participants or not self.unique:
            return attendees(self.problem, meeting)
        wanted = sorted({d for d in meeting.delegations if d in self.position}, key=self.position.__getitem__)
        return [person for delegation in wanted for person in self.principals[delegation]]


def move_weights(weights: Weights, principal: bool) -> tuple[int, int]:
    """(new time or dropped, new room only) costs of moving a meeting, by whether a principal attends."""
    if principal:
        return weights.moved_time, weights.moved_room
    return weights.moved_time_official, weights.moved_room_official
