"""Small builders for hand-made problems and schedules in tests.

Structs built directly skip msgspec's conversion, so times are turned into
datetimes here: `at("09:30")` is 09:30 on the forum's first day (naive, hence
forum-local), `at("09:30", day=1)` the next day, and a full ISO string is taken
as is.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

from solver.model import Day, Delegation, Forum, Meeting, Participant, Problem, Room, Window
from solver.result import Placement, Schedule, Unplaced
from solver.timegrid import TimeGrid

FIRST_DAY = date(2023, 6, 2)  # Shangri-La Dialogue 2023 opened on Friday 2 June
ZONE = "Asia/Singapore"

Moment = str | datetime


def at(moment: Moment, day: int = 0) -> datetime:
    """A naive (forum-local) datetime from "HH:MM" on day `day`, or a full ISO string."""
    if isinstance(moment, datetime):
        return moment
    if "T" in moment:
        return datetime.fromisoformat(moment)
    return datetime.combine(FIRST_DAY + timedelta(days=day), time.fromisoformat(moment))


def window(start: Moment, end: Moment, day: int = 0) -> Window:
    return Window(at(start, day), at(end, day))


def forum(days: int = 1, slot: int = 15, start: str = "09:00", end: str = "13:00", zone: str = ZONE) -> Forum:
    """A forum of `days` consecutive days from FIRST_DAY, each open start..end."""
    return Forum(
        name="Test forum",
        time_zone=zone,
        slot_minutes=slot,
        days=[
            Day(FIRST_DAY + timedelta(days=index), time.fromisoformat(start), time.fromisoformat(end))
            for index in range(days)
        ],
    )


_default_forum = forum  # `problem` takes a parameter of the same name


def person(id: str, principal: bool = True, **fields: Any) -> Participant:
    fields.setdefault("name", id.title())
    return Participant(id=id, principal=principal, **fields)


def delegation(id: str, *participants: Participant, country: str | None = None) -> Delegation:
    """A delegation; its country defaults to the id when that looks like an ISO code."""
    if country is None:
        country = id.upper() if re.fullmatch(r"[A-Za-z]{2,3}", id) else "ZZ"
    return Delegation(id=id, name=id.upper(), country=country, participants=list(participants))


def room(id: str, seats: int = 10, **fields: Any) -> Room:
    fields.setdefault("name", f"Room {id}")
    return Room(id=id, seats=seats, **fields)


def meeting(id: str, delegations: list[str], minutes: int, **fields: Any) -> Meeting:
    return Meeting(id=id, delegations=list(delegations), duration_minutes=minutes, **fields)


def problem(
    delegations: list[Delegation],
    meetings: list[Meeting],
    rooms: list[Room] | None = None,
    forum: Forum | None = None,
    **fields: Any,
) -> Problem:
    """A problem with one ten-seat room "R1" and a one-day forum unless told otherwise."""
    return Problem(
        forum=forum or _default_forum(),
        rooms=rooms if rooms is not None else [room("R1")],
        delegations=delegations,
        meetings=meetings,
        **fields,
    )


def place(problem: Problem, meeting_id: str, start: Moment, room: str = "R1", day: int = 0) -> Placement:
    """A placement of a known meeting with the end and slot a solver would give it."""
    begin = at(start, day)
    duration = next(m.duration_minutes for m in problem.meetings if m.id == meeting_id)
    slot = TimeGrid.of(problem.forum).slot_at(begin)
    return Placement(
        meeting=meeting_id,
        start=begin,
        end=begin + timedelta(minutes=duration),
        room=room,
        slot=slot if slot is not None else 0,
    )


def schedule(problem: Problem, *placements: Placement) -> Schedule:
    """A schedule of `placements`; every other meeting of the problem is unplaced."""
    placed = {placement.meeting for placement in placements}
    return Schedule(
        status="FEASIBLE",
        placed=list(placements),
        unplaced=[
            Unplaced(meeting=m.id, reason="not_reached", message="not placed")
            for m in problem.meetings
            if m.id not in placed
        ],
    )
