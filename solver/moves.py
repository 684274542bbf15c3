"""A manual move of one meeting, checked before the organiser commits to it.

`check_move` applies the move to a copy of the schedule and asks the validator
(solver/validate.py) what the moved grid breaks that the original did not:
hard-rule violations block the move (those the grid already had too, when
they concern the moved meeting: its new place must keep every rule); a worse objective term (a break added, a
preferred window missed, a delegation served less fairly, a published slot left)
only warns. A meeting listed as unplaced may be moved onto the grid the same way.
Pure: no I/O, no OR-Tools.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

import msgspec

from solver.model import TERMS, Meeting, Problem
from solver.result import Placement, Schedule
from solver.timegrid import TimeGrid
from solver.validate import Report, Violation, breaks_by_participant, validate

WarningKind = Literal["held", "fairness", "breaks", "preferences", "stability"]


class UnknownMeeting(ValueError):
    """The move names a meeting the problem does not have."""


class MoveWarning(msgspec.Struct, frozen=True):
    """A preference or objective term the move makes worse; the move is still allowed."""

    term: WarningKind
    message: str
    cost: int  # how much the objective rises through this term
    participants: list[str] = []


class MoveCheck(msgspec.Struct, frozen=True):
    meeting: str
    allowed: bool  # no blocking violation: the move may be stored
    before: Placement | None  # None when the meeting was unplaced
    after: Placement
    blocking: list[Violation]  # hard rules the move would break (new ones only)
    warnings: list[MoveWarning]
    objective_before: int
    objective_after: int
    terms_after: dict[str, int]  # the moved grid's objective terms, as the validator computes them


def apply_move(problem: Problem, schedule: Schedule, meeting_id: str, start: datetime, room: str) -> Schedule:
    """`schedule` with `meeting_id` at `start` in `room` (placed if it was unplaced); the rest untouched."""
    meeting = _meeting(problem, meeting_id)
    grid = TimeGrid.of(problem.forum)
    begin = grid.local(start)
    slot = grid.slot_at(begin)
    moved = Placement(
        meeting=meeting_id,
        start=begin,
        end=begin + timedelta(minutes=meeting.duration_minutes),
        room=room,
        slot=slot,
    )
    others = [placement for placement in schedule.placed if placement.meeting != meeting_id]
    placed = sorted([*others, moved], key=lambda p: (grid.local(p.start), p.room, p.meeting))
    unplaced = [entry for entry in schedule.unplaced if entry.meeting != meeting_id]
    return msgspec.structs.replace(schedule, placed=placed, unplaced=unplaced)


def check_move(problem: Problem, schedule: Schedule, meeting_id: str, start: datetime, room: str) -> MoveCheck:
    """What moving `meeting_id` to `start` in `room` would break (blocking) or worsen (warnings)."""
    return checked_move(problem, schedule, meeting_id, start, room)[0]


def checked_move(
    problem: Problem,
    schedule: Schedule,
    meeting_id: str,
    start: datetime,
    room: str,
    report_before: Report | None = None,
) -> tuple[MoveCheck, Report]:
    """`check_move`, and the moved grid's report. `report_before` is `validate(problem, schedule)`
    when the caller kept it (a validation is most of a check at UNGA's size)."""
    moved = apply_move(problem, schedule, meeting_id, start, room)
    if report_before is None:
        report_before = validate(problem, schedule)
    report_after = validate(problem, moved)
    # New violations block, and so does any that names the moved meeting: its new place is the
    # organiser's choice now, even where the old one already broke the rule (a change recorded
    # since, a late arrival, made it invalid), so "allowed" never answers for a broken place.
    blocking = [
        violation
        for violation in report_after.violations
        if violation not in report_before.violations or meeting_id in violation.meetings
    ]
    warnings = _warnings(problem, schedule, moved, report_before.terms, report_after.terms, meeting_id)
    check = MoveCheck(
        meeting=meeting_id,
        allowed=not blocking,
        before=next((p for p in schedule.placed if p.meeting == meeting_id), None),
        after=next(p for p in moved.placed if p.meeting == meeting_id),
        blocking=blocking,
        warnings=warnings,
        objective_before=report_before.objective,
        objective_after=report_after.objective,
        terms_after=report_after.terms,
    )
    return check, report_after


def _meeting(problem: Problem, meeting_id: str) -> Meeting:
    for meeting in problem.meetings:
        if meeting.id == meeting_id:
            return meeting
    raise UnknownMeeting(f"no meeting {meeting_id!r} in this forum")


def _warnings(
    problem: Problem,
    before: Schedule,
    after: Schedule,
    terms_before: dict[str, int],
    terms_after: dict[str, int],
    meeting_id: str,
) -> list[MoveWarning]:
    found: list[MoveWarning] = []
    for term in TERMS:
        cost = terms_after[term] - terms_before[term]
        if cost <= 0:
            continue
        if term == "breaks":
            found.append(_breaks_warning(problem, before, after, cost))
        else:
            found.append(MoveWarning(term, _TERM_MESSAGES[term].format(meeting=meeting_id), cost))
    return found


_TERM_MESSAGES: dict[str, str] = {
    "held": "fewer meetings would be held",
    "fairness": "the worst-served delegation would be served less well",
    "preferences": "{meeting} would be held outside all of its preferred windows",
    "stability": "{meeting} would leave the slot or room it had in the previous grid",
}


def _breaks_warning(problem: Problem, before: Schedule, after: Schedule, cost: int) -> MoveWarning:
    old, new = breaks_by_participant(problem, before), breaks_by_participant(problem, after)
    names = {person.id: person.name for delegation in problem.delegations for person in delegation.participants}
    worse = sorted(person for person, count in new.items() if count > old.get(person, 0))
    who = ", ".join(names.get(person, person) for person in worse) or "participants"
    return MoveWarning("breaks", f"{who} would get an idle break between meetings", cost, worse)
