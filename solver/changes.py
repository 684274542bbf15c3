"""Last-minute changes to a forum as first-class events.

A change is a small struct saying what happened (a principal arrives later,
a room is lost for a morning, a meeting is cancelled, an urgent request comes
in). `apply_change` turns a problem into the problem after the change;
`impacts` says, change by change, which published meetings each one breaks
(their placement now violates a hard rule) and which it removes (cancelled).

Breakage is decided by the independent validator (`solver/validate.py`), so
"broken" means exactly "this placement would now be reported as a violation".
Pure: no I/O, no OR-Tools.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Annotated, Protocol, TypeVar

import msgspec

from solver.check import Finding, ProblemError, check_problem
from solver.model import Meeting, Participant, Problem, Window, participants_by_id
from solver.result import Placement, Schedule
from solver.timegrid import TimeGrid
from solver.validate import placement_violations


class Base(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, tag_field="kind"):
    pass


class ArrivalChanged(Base, tag="arrival_changed"):
    """The participant arrives at `arrival` (None: present from the start)."""

    participant: Annotated[str, msgspec.Meta(description="delegation/participant, e.g. US/us-min")]
    arrival: Annotated[
        datetime | None,
        msgspec.Meta(description="the new arrival (without a UTC offset: forum-local time); null: from the start"),
    ]


class DepartureChanged(Base, tag="departure_changed"):
    """The participant leaves at `departure` (None: stays to the end)."""

    participant: Annotated[str, msgspec.Meta(description="delegation/participant, e.g. US/us-min")]
    departure: Annotated[
        datetime | None,
        msgspec.Meta(description="the new departure (without a UTC offset: forum-local time); null: to the end"),
    ]


class ParticipantBlocked(Base, tag="participant_blocked"):
    """The participant cannot meet during `window` (a call home, a press event)."""

    participant: Annotated[str, msgspec.Meta(description="delegation/participant, e.g. US/us-min")]
    window: Annotated[Window, msgspec.Meta(description="when the participant cannot meet")]


class RoomUnavailable(Base, tag="room_unavailable"):
    """The room cannot be used during `window`."""

    room: Annotated[str, msgspec.Meta(description="a room id")]
    window: Annotated[Window, msgspec.Meta(description="when the room cannot be used")]


class MeetingCancelled(Base, tag="meeting_cancelled"):
    meeting: Annotated[str, msgspec.Meta(description="the meeting's (request's) id")]


class MeetingRequested(Base, tag="meeting_requested"):
    """A newly accepted request. An urgent one may displace one other meeting
    (priced as a move) when it fits nowhere in the grid as it stands."""

    meeting: Annotated[Meeting, msgspec.Meta(description="the new meeting")]
    urgent: Annotated[bool, msgspec.Meta(description="may displace one other meeting when it fits nowhere")] = False


class DelegationWithdrawn(Base, tag="delegation_withdrawn"):
    """The delegation leaves the forum: its bilaterals are cancelled; meetings
    of three or more delegations go on without it and its people."""

    delegation: Annotated[str, msgspec.Meta(description="the delegation's id")]


Change = (
    ArrivalChanged
    | DepartureChanged
    | ParticipantBlocked
    | RoomUnavailable
    | MeetingCancelled
    | MeetingRequested
    | DelegationWithdrawn
)


class Impact(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """What one change does to the published grid."""

    change: int  # index in the list of changes
    summary: str  # one sentence a person reads
    breaks: list[str] = []  # placed meetings whose placement now violates a hard rule
    removes: list[str] = []  # placed meetings that no longer exist (cancelled)
    adds: list[str] = []  # meetings the change asks to place


def apply_change(problem: Problem, change: Change, index: int = 0, grid: TimeGrid | None = None) -> Problem:
    """The problem after `change`; ProblemError naming `changes[index].<field>` when it refers to nothing.

    `grid` is the forum's TimeGrid when the caller has it (no change alters the forum's days).
    """
    path = f"changes[{index}]"
    _within_forum(grid or TimeGrid.of(problem.forum), path, change)
    match change:
        case ArrivalChanged(participant, arrival):
            return _with_participant(problem, path, participant, arrival=arrival)
        case DepartureChanged(participant, departure):
            return _with_participant(problem, path, participant, departure=departure)
        case ParticipantBlocked(participant, window):
            person = _person(problem, path, participant)
            return _with_participant(problem, path, participant, blocked=[*person.blocked, window])
        case RoomUnavailable(room_id, window):
            return _with_room_window(problem, path, room_id, window)
        case MeetingCancelled(meeting_id):
            _known(problem.meetings, f"{path}.meeting", meeting_id, "meeting")
            return _without_meetings(problem, {meeting_id})
        case MeetingRequested(meeting):
            return _with_request(problem, path, meeting)
        case DelegationWithdrawn(delegation_id):
            _known(problem.delegations, f"{path}.delegation", delegation_id, "delegation")
            return _withdraw(problem, delegation_id)
    raise TypeError(f"not a change: {change!r}")


def apply_changes(problem: Problem, changes: Sequence[Change]) -> Problem:
    grid = TimeGrid.of(problem.forum)
    for index, change in enumerate(changes):
        problem = apply_change(problem, change, index, grid)
    return problem


def broken_by(problem: Problem, placed: Iterable[Placement]) -> list[str]:
    """Ids of placed meetings of `problem` whose placement breaks a hard rule of it.

    Placements of meetings the problem no longer has are ignored (they are
    removed, not broken); one in a room the problem no longer has is broken.
    Rules about the whole grid (break spread, hard musts) name no single
    placement and break none.
    """
    known = {meeting.id for meeting in problem.meetings}
    schedule = Schedule(status="FEASIBLE", placed=[p for p in placed if p.meeting in known])
    violations = placement_violations(problem, schedule)
    return sorted({meeting_id for violation in violations for meeting_id in violation.meetings})


def impacts(problem: Problem, schedule: Schedule, changes: Sequence[Change]) -> tuple[Problem, list[Impact]]:
    """The problem after every change, and what each change does to `schedule`.

    Changes apply in order; a change breaks the meetings that were valid
    before it and are not after it, so a meeting stays charged to the first
    change that broke it for as long as it stays broken. One that a later
    change makes valid again (changes that cancel each other) is charged
    anew if yet another change breaks it.
    """
    changed, found, _ = impacts_and_broken(problem, schedule, changes)
    return changed, found


def impacts_and_broken(
    problem: Problem, schedule: Schedule, changes: Sequence[Change], broken: Sequence[str] | None = None
) -> tuple[Problem, list[Impact], list[str]]:
    """`impacts`, and `broken_by` of the changed problem (the last check it made:
    at UNGA's size each costs a twentieth of a second). `broken` is `broken_by(problem,
    schedule.placed)` when the caller kept it from an earlier call."""
    grid = TimeGrid.of(problem.forum)
    placed = list(schedule.placed)
    # Already broken before any change: nobody's fault here.
    broken_now = set(broken_by(problem, placed) if broken is None else broken)
    found: list[Impact] = []
    for index, change in enumerate(changes):
        before = {meeting.id for meeting in problem.meetings}
        problem = apply_change(problem, change, index, grid)
        after = {meeting.id for meeting in problem.meetings}
        removed = sorted(p.meeting for p in placed if p.meeting in before - after)
        now = set(broken_by(problem, placed))
        broken, broken_now = sorted(now - broken_now), now
        found.append(
            Impact(index, describe(problem, grid, change), broken, removed, sorted((after - before) & _added(change)))
        )
    return problem, found, sorted(broken_now)


def describe(problem: Problem, grid: TimeGrid, change: Change) -> str:
    """A sentence for the organiser's change log and the moves it causes."""
    people = participants_by_id(problem)

    def who(person_id: str) -> str:
        return people[person_id][1].name if person_id in people else person_id

    def span(window: Window) -> str:
        return f"{grid.describe(window.start)}-{grid.local(window.end):%H:%M}"

    match change:
        case ArrivalChanged(participant, arrival):
            return f"{who(participant)} now arrives {grid.describe(arrival) if arrival else 'from the start'}"
        case DepartureChanged(participant, departure):
            return f"{who(participant)} now leaves {grid.describe(departure) if departure else 'at the end'}"
        case ParticipantBlocked(participant, window):
            return f"{who(participant)} is unavailable {span(window)}"
        case RoomUnavailable(room, window):
            name = next((r.name for r in problem.rooms if r.id == room), room)
            return f"{name} is unavailable {span(window)}"
        case MeetingCancelled(meeting):
            return f"meeting {meeting} is cancelled"
        case MeetingRequested(meeting, urgent):
            return f"{'urgent ' if urgent else ''}new request {meeting.title or meeting.id}"
        case DelegationWithdrawn(delegation):
            return f"delegation {delegation} withdraws"
    raise TypeError(f"not a change: {change!r}")


def _within_forum(grid: TimeGrid, path: str, change: Change) -> None:
    """ProblemError when the change's time lies outside the forum's days (a mistyped date)."""
    first, last = grid.starts[0], grid.slot_end(grid.size - 1)
    match change:
        case ArrivalChanged(_, moment) | DepartureChanged(_, moment) if moment is not None:
            field = "arrival" if isinstance(change, ArrivalChanged) else "departure"
            if not first <= grid.local(moment) <= last:
                raise ProblemError([Finding(f"{path}.{field}", f"outside the forum ({_span(grid, first, last)})")])
        case ParticipantBlocked(_, window) | RoomUnavailable(_, window):
            start, end = grid.local(window.start), grid.local(window.end)
            if start < end and (end <= first or start >= last):  # a backwards one: the problem checks say so
                raise ProblemError([Finding(f"{path}.window", f"outside the forum ({_span(grid, first, last)})")])


def _span(grid: TimeGrid, first: datetime, last: datetime) -> str:
    return f"{grid.describe(first)} to {grid.describe(last)}"


def _added(change: Change) -> set[str]:
    return {change.meeting.id} if isinstance(change, MeetingRequested) else set()


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


Item = TypeVar("Item", bound=_Identified)


def _known(items: Sequence[Item], path: str, wanted: str, what: str) -> Item:
    for item in items:
        if item.id == wanted:
            return item
    raise ProblemError([Finding(path, f"unknown {what} {wanted!r}")])


def _person(problem: Problem, path: str, participant: str) -> Participant:
    people = participants_by_id(problem)
    found = people.get(participant)
    if found is None:
        raise ProblemError([Finding(f"{path}.participant", _unknown_person(participant, people))])
    return found[1]


def _unknown_person(participant: str, people: Mapping[str, object]) -> str:
    """A stored forum names people DELEGATION/id, but the CSV and the pages show the bare id:
    an organiser typing that one is told the full form (the one meant, when only one fits)."""
    message = f"unknown participant {participant!r}"
    meant = [known for known in people if known.endswith(f"/{participant}")]
    if len(meant) == 1:
        return f"{message}; did you mean {meant[0]!r}?"
    example = next((known for known in people if "/" in known), None)
    if example is None or "/" in participant:
        return message
    return f"{message} (written DELEGATION/id, e.g. {example!r})"


def _with_participant(problem: Problem, path: str, participant: str, **fields: object) -> Problem:
    _person(problem, path, participant)
    return _checked(
        msgspec.structs.replace(
            problem,
            delegations=[
                msgspec.structs.replace(
                    delegation,
                    participants=[
                        msgspec.structs.replace(person, **fields) if person.id == participant else person
                        for person in delegation.participants
                    ],
                )
                for delegation in problem.delegations
            ],
        ),
        path,
    )


def _with_room_window(problem: Problem, path: str, room_id: str, window: Window) -> Problem:
    lost = _known(problem.rooms, f"{path}.room", room_id, "room")
    rooms = [
        msgspec.structs.replace(room, unavailable=[*room.unavailable, window]) if room is lost else room
        for room in problem.rooms
    ]
    return _checked(msgspec.structs.replace(problem, rooms=rooms), path)


def _without_meetings(problem: Problem, gone: set[str]) -> Problem:
    """Drop meetings and every reference to them (precedence binds only when both are held)."""
    return msgspec.structs.replace(
        problem,
        meetings=[
            msgspec.structs.replace(meeting, after=[m for m in meeting.after if m not in gone])
            for meeting in problem.meetings
            if meeting.id not in gone
        ],
        previous=[p for p in problem.previous if p.meeting not in gone],
    )


def _with_request(problem: Problem, path: str, meeting: Meeting) -> Problem:
    if any(existing.id == meeting.id for existing in problem.meetings):
        raise ProblemError([Finding(f"{path}.meeting.id", f"meeting {meeting.id!r} already exists")])
    return _checked(msgspec.structs.replace(problem, meetings=[*problem.meetings, meeting]), path)


def _withdraw(problem: Problem, delegation_id: str) -> Problem:
    people = {
        person.id
        for delegation in problem.delegations
        if delegation.id == delegation_id
        for person in delegation.participants
    }
    cancelled = {m.id for m in problem.meetings if delegation_id in m.delegations and len(m.delegations) <= 2}
    remaining = _without_meetings(problem, cancelled)
    return msgspec.structs.replace(
        remaining,
        meetings=[
            msgspec.structs.replace(
                meeting,
                delegations=[d for d in meeting.delegations if d != delegation_id],
                participants=[p for p in meeting.participants if p not in people],
            )
            if delegation_id in meeting.delegations
            else meeting
            for meeting in remaining.meetings
        ],
    )


def _checked(problem: Problem, path: str) -> Problem:
    """The changed problem, or ProblemError with each finding under the change's path."""
    findings = check_problem(problem)
    if findings:
        raise ProblemError([Finding(f"{path}: {finding.path}", finding.message) for finding in findings])
    return problem
