"""The shortcuts that make the validator, the problem checks and the recorded changes fast
at UNGA's size, each against the straightforward computation it replaced.

Grids here are random: the Shangri-La example's meetings thrown onto its days, some
off the slot grid, some across midnight, some backwards, in random rooms, so that
every rule is broken many times over and every shortcut's edge is crossed.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, timedelta
from itertools import combinations
from pathlib import Path

import msgspec
import pytest

from db.changes import applicable_changes, applied
from solver import validate as validate_module
from solver.changes import (
    ArrivalChanged,
    Change,
    MeetingCancelled,
    ParticipantBlocked,
    RoomUnavailable,
    apply_changes,
    broken_by,
    impacts_and_broken,
)
from solver.check import _out_of_calendar, check_problem, load_problem, out_of_calendar
from solver.model import Attendance, Delegation, Participant, Problem, ProgrammeSession, Window, attendees
from solver.result import Placement, Schedule
from solver.timegrid import TimeGrid
from solver.validate import _check_room_overlap, _check_session, _checked, _Context, _Placed, _shared_pairs

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "shangri-la.json"
SEEDS = range(6)


@pytest.fixture(scope="module")
def shangri_la() -> Problem:
    return load_problem(EXAMPLE.read_bytes())


def with_odd_sessions(problem: Problem) -> Problem:
    """Sessions the day index cannot file by day: a backwards one, one of six weeks, one across midnight."""
    first = problem.forum.days[0].date
    noon = datetime.combine(first, datetime.min.time()) + timedelta(hours=14)
    odd = [
        ProgrammeSession("backwards", "Backwards", noon + timedelta(minutes=1), noon, scope="everyone"),
        ProgrammeSession("long", "Long", noon - timedelta(days=20), noon + timedelta(days=22), scope="principals"),
        ProgrammeSession("night", "Night", noon + timedelta(hours=9), noon + timedelta(hours=20), scope="everyone"),
    ]
    return msgspec.structs.replace(problem, sessions=[*problem.sessions, *odd])


def random_grid(problem: Problem, seed: int) -> Schedule:
    """Every meeting placed at random: mostly on slot starts, some a few minutes off, some late at
    night (across midnight), some ending before they start, a few placed twice or in unknown rooms."""
    chance = random.Random(seed)
    grid = TimeGrid.of(problem.forum)
    rooms = [room.id for room in problem.rooms]
    placed: list[Placement] = []
    for meeting in problem.meetings:
        start = chance.choice(grid.starts)
        end = start + timedelta(minutes=meeting.duration_minutes)
        odd = chance.random()
        if odd < 0.05:
            start += timedelta(minutes=chance.choice([1, 7, 13]))
            end = start + timedelta(minutes=meeting.duration_minutes)
        elif odd < 0.10:
            start = start.replace(hour=23, minute=40)
            end = start + timedelta(minutes=meeting.duration_minutes)
        elif odd < 0.12:
            end = start - timedelta(minutes=10)
        room = chance.choice(rooms) if chance.random() > 0.02 else "no-such-room"
        placed.append(Placement(meeting.id, start, end, room))
    placed.extend(chance.sample(placed, 3))
    return Schedule(status="FEASIBLE", placed=placed)


def context_of(problem: Problem, schedule: Schedule) -> _Context:
    return _checked(problem, schedule)[0]


def every_shared_pair(context: _Context) -> dict[tuple[str, str], list[str]]:
    """Every pair of placed meetings with a common attendee, as the validator first read them."""
    by_person: dict[str, list[_Placed]] = defaultdict(list)
    for placed in sorted(context.placed, key=lambda item: (item.start, item.end, item.id)):
        for person in placed.people:
            by_person[person].append(placed)
    pairs: dict[tuple[str, str], list[str]] = defaultdict(list)
    for person, meetings in by_person.items():
        for first, second in combinations(meetings, 2):
            pairs[(first.id, second.id)].append(person)
    return pairs


@pytest.mark.parametrize("seed", SEEDS)
def test_shared_pairs_keep_every_pair_that_overlaps_or_shares_a_day_in_order(shangri_la: Problem, seed: int) -> None:
    context = context_of(shangri_la, random_grid(shangri_la, seed))
    everything = every_shared_pair(context)
    by_id = context.by_id
    read = [
        (pair, people)
        for pair, people in everything.items()
        if by_id[pair[0]].day == by_id[pair[1]].day or by_id[pair[0]].overlaps(by_id[pair[1]].start, by_id[pair[1]].end)
    ]
    assert list(_shared_pairs(context).items()) == read
    assert len(read) < len(everything)  # the shortcut has pairs to leave out here


@pytest.mark.parametrize("seed", SEEDS)
def test_room_overlaps_are_every_overlapping_pair_of_a_room(shangri_la: Problem, seed: int) -> None:
    context = context_of(shangri_la, random_grid(shangri_la, seed))
    by_room: dict[str, list[_Placed]] = defaultdict(list)
    for placed in context.placed:
        if placed.room is not None:
            by_room[placed.room.id].append(placed)
    expected = [
        [first.id, second.id]
        for meetings in by_room.values()
        for first, second in combinations(sorted(meetings, key=lambda item: (item.start, item.id)), 2)
        if first.overlaps(second.start, second.end)
    ]
    assert expected and [v.meetings for v in _check_room_overlap(context)] == expected


@pytest.mark.parametrize("seed", SEEDS)
def test_session_clashes_are_those_of_every_session(
    shangri_la: Problem, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    problem = with_odd_sessions(shangri_la)
    context = context_of(problem, random_grid(problem, seed))
    found = list(_check_session(context))
    # The same check with every session looked at for every placement.
    monkeypatch.setattr(validate_module, "_sessions_by_day", lambda spans: lambda placed: spans)
    assert found == list(_check_session(context))
    named = {v.message.split("the session ")[1].split(" (")[0] for v in found}
    assert named >= {"'Backwards'", "'Night'", "'Long'", "'Opening dinner and keynote address'"}


def test_attendance_answers_as_attendees_does(shangri_la: Problem) -> None:
    """Principals by delegation, to the order; with a delegation id given twice (a problem the
    checks refuse, yet validated) and with listed participants as well."""
    twice = msgspec.structs.replace(
        shangri_la,
        delegations=[
            *shangri_la.delegations,
            Delegation("US", "Again", "US", [Participant("us-extra", "Extra", principal=True)]),
        ],
    )
    for problem in (shangri_la, twice):
        attendance = Attendance(problem)
        for meeting in problem.meetings:
            assert attendance.of(meeting) == attendees(problem, meeting), meeting.id
    moved = [*reversed(shangri_la.delegations)]  # the order of the delegations, not of the meeting's
    reordered = msgspec.structs.replace(shangri_la, delegations=moved)
    assert all(Attendance(reordered).of(m) == attendees(reordered, m) for m in reordered.meetings)


def dated(problem: Problem, year: int) -> list[Problem]:
    """`problem` with one date set to `year`, in each of several places of its tree."""
    window = Window(datetime(year, 6, 1, 9), datetime(year, 6, 1, 10))
    meetings = list(problem.meetings)
    meetings[3] = msgspec.structs.replace(meetings[3], earliest=window.start)
    delegations = list(problem.delegations)
    people = list(delegations[1].participants)
    people[0] = msgspec.structs.replace(people[0], blocked=[window])
    delegations[1] = msgspec.structs.replace(delegations[1], participants=people)
    session = ProgrammeSession("s", "S", window.start, window.end)
    return [
        msgspec.structs.replace(problem, meetings=meetings),
        msgspec.structs.replace(problem, delegations=delegations),
        msgspec.structs.replace(problem, sessions=[*problem.sessions, session]),
    ]


def test_out_of_calendar_finds_what_the_field_walk_finds(shangri_la: Problem) -> None:
    assert out_of_calendar(shangri_la) == _out_of_calendar(shangri_la, "") == []
    for year in (1, 9999):
        for problem in dated(shangri_la, year):
            found = out_of_calendar(problem)
            assert found and found == _out_of_calendar(problem, "")
            assert check_problem(problem)[: len(found)] == found
    for problem in dated(shangri_la, 2):
        assert out_of_calendar(problem) == []


CHANGES: list[Change] = [
    ArrivalChanged("us-min", datetime(2024, 6, 1, 9)),
    MeetingCancelled("US-SG"),
    ParticipantBlocked("us-min", Window(datetime(2024, 6, 1, 11), datetime(2024, 6, 1, 12))),
    MeetingCancelled("US-SG"),  # already cancelled: it no longer applies, and is passed over
    RoomUnavailable("sl-1", Window(datetime(2024, 6, 1, 7, 30), datetime(2024, 6, 1, 12))),
    RoomUnavailable("no-such-room", Window(datetime(2024, 6, 1, 7, 30), datetime(2024, 6, 1, 12))),
]


def test_recorded_changes_apply_in_one_pass_as_in_two(shangri_la: Problem) -> None:
    kept, changed = applied(shangri_la, CHANGES)
    assert kept == [0, 1, 2, 4]
    assert changed == apply_changes(shangri_la, applicable_changes(shangri_la, CHANGES))
    assert changed != shangri_la


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_impacts_from_a_kept_breakage_are_those_from_scratch(shangri_la: Problem, seed: int) -> None:
    schedule = random_grid(shangri_la, seed)
    schedule = msgspec.structs.replace(schedule, placed=[p for p in schedule.placed if p.room != "no-such-room"])
    before = broken_by(shangri_la, schedule.placed)
    kept = [CHANGES[index] for index in applied(shangri_la, CHANGES)[0]]
    assert impacts_and_broken(shangri_la, schedule, kept, before) == impacts_and_broken(shangri_la, schedule, kept)
