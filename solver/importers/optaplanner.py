"""Import the OptaPlanner "meeting scheduling" example datasets (.xlsx).

The workbooks (see optaplanner-meetingscheduling/SOURCE.md) hold the input
on four sheets, read here: Days, Rooms, Persons, Meetings. The other sheets
are views of a solution and the unsolved files leave them empty. Every
person becomes a delegation with one principal, every meeting a `must`
meeting of its required attendees, the days one 15-minute grid. See
docs/importers.md for what is mapped and what is not.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from solver.importers.common import TIME_ZONE, solo
from solver.model import Day, Forum, Meeting, Problem, ProgrammeSession, Room

SLOT_MINUTES = 15  # the source's time grain
LUNCH = timedelta(hours=1)  # the source's lunch hour
SHEETS = ("Days", "Rooms", "Persons", "Meetings")
MEETING_COLUMNS = {"topic": "Topic", "duration": "Duration", "required": "Required attendance list"}
PREFERRED_COLUMN = "Preferred attendance list"

_DAY = re.compile(r"^\w{3} (\d{4}-\d{2}-\d{2})$")
_CLOCK = re.compile(r"^\d{2}:\d{2}$")


@dataclass(frozen=True)
class SourceMeeting:
    topic: str
    minutes: int
    required: list[str]  # person names, as in the source
    preferred: list[str]


@dataclass(frozen=True)
class OptaPlannerInstance:
    name: str
    days: list[tuple[date, time, time, time]]  # date, start, end, lunch hour start
    rooms: list[tuple[str, int]]  # name, capacity
    persons: list[str]
    meetings: list[SourceMeeting]


def parse_optaplanner(path: Path) -> OptaPlannerInstance:
    """Read one workbook; raise ValueError naming the file, sheet and row of a fault."""
    rows = _read_sheets(path)
    persons = [_text(path, "Persons", number, row[0], "Full name") for number, row in _body(rows["Persons"])]
    if len(set(persons)) != len(persons):
        raise ValueError(f"{path}: sheet Persons names someone twice")
    known = set(persons)
    instance = OptaPlannerInstance(
        name=path.stem,
        days=[_day(path, number, row) for number, row in _body(rows["Days"])],
        rooms=[_room(path, number, row) for number, row in _body(rows["Rooms"])],
        persons=persons,
        meetings=[_meeting(path, number, row, rows["Meetings"][0], known) for number, row in _body(rows["Meetings"])],
    )
    for sheet, items in (("Days", instance.days), ("Rooms", instance.rooms), ("Meetings", instance.meetings)):
        if not items:
            raise ValueError(f"{path}: sheet {sheet} has no rows")
    return instance


def _read_sheets(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    import openpyxl  # only the importer needs it

    try:
        with warnings.catch_warnings():
            # The source workbooks carry no default style; openpyxl says so and applies its own.
            warnings.filterwarnings("ignore", message="Workbook contains no default style")
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (OSError, ValueError, KeyError) as error:
        raise ValueError(f"{path}: cannot read the OptaPlanner workbook ({error})") from None
    except Exception as error:  # zipfile.BadZipFile and friends: not an xlsx file
        raise ValueError(f"{path}: not an .xlsx workbook ({type(error).__name__})") from None
    try:
        missing = [sheet for sheet in SHEETS if sheet not in book.sheetnames]
        if missing:
            raise ValueError(f"{path}: missing sheet {missing[0]!r}")
        return {sheet: [tuple(row) for row in book[sheet].iter_rows(values_only=True)] for sheet in SHEETS}
    finally:
        book.close()


def _body(rows: list[tuple[Any, ...]]) -> list[tuple[int, tuple[Any, ...]]]:
    """Data rows with their spreadsheet row number (the header is row 1); blank rows skipped."""
    return [(number, row) for number, row in enumerate(rows[1:], 2) if any(cell not in (None, "") for cell in row)]


def _text(path: Path, sheet: str, number: int, value: Any, column: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{path}: sheet {sheet} row {number}: {column!r} must be text")
    return value.strip()


def _integer(path: Path, sheet: str, number: int, value: Any, column: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value) or value <= 0:
        raise ValueError(f"{path}: sheet {sheet} row {number}: {column!r} must be a positive whole number")
    return int(value)


def _clock(path: Path, number: int, value: Any, column: str) -> time:
    text = _text(path, "Days", number, value, column)
    if not _CLOCK.match(text):
        raise ValueError(f"{path}: sheet Days row {number}: {column!r} must be HH:MM, not {text!r}")
    moment = time.fromisoformat(text)
    if moment.minute % SLOT_MINUTES:
        raise ValueError(f"{path}: sheet Days row {number}: {column!r} is not on the {SLOT_MINUTES}-minute grain")
    return moment


def _day(path: Path, number: int, row: tuple[Any, ...]) -> tuple[date, time, time, time]:
    label = _text(path, "Days", number, row[0] if row else None, "Day")
    found = _DAY.match(label)
    if not found:
        raise ValueError(f"{path}: sheet Days row {number}: 'Day' must read like 'Sat 2022-01-01', not {label!r}")
    start, end = _clock(path, number, row[1], "Start"), _clock(path, number, row[2], "End")
    lunch = _clock(path, number, row[3] if len(row) > 3 else None, "Lunch hour start time")
    if end <= start:
        raise ValueError(f"{path}: sheet Days row {number}: 'End' must be after 'Start'")
    return date.fromisoformat(found[1]), start, end, lunch


def _room(path: Path, number: int, row: tuple[Any, ...]) -> tuple[str, int]:
    return _text(path, "Rooms", number, row[0], "Name"), _integer(path, "Rooms", number, row[1], "Capacity")


def _meeting(path: Path, number: int, row: tuple[Any, ...], header: tuple[Any, ...], known: set[str]) -> SourceMeeting:
    columns = {name: index for index, name in enumerate(header) if isinstance(name, str)}
    for column in (*MEETING_COLUMNS.values(), PREFERRED_COLUMN):
        if column not in columns:
            raise ValueError(f"{path}: sheet Meetings has no column {column!r}")
    minutes = _integer(path, "Meetings", number, row[columns["Duration"]], "Duration")
    if minutes % SLOT_MINUTES:
        raise ValueError(f"{path}: sheet Meetings row {number}: 'Duration' is not a multiple of {SLOT_MINUTES}")
    required = _names(path, number, row[columns[MEETING_COLUMNS["required"]]], MEETING_COLUMNS["required"], known)
    if len(required) < 2:
        raise ValueError(f"{path}: sheet Meetings row {number}: a meeting needs two required attendees or more")
    return SourceMeeting(
        topic=_text(path, "Meetings", number, row[columns["Topic"]], "Topic"),
        minutes=minutes,
        required=required,
        preferred=_names(path, number, row[columns[PREFERRED_COLUMN]], PREFERRED_COLUMN, known),
    )


def _names(path: Path, number: int, value: Any, column: str, known: set[str]) -> list[str]:
    if value in (None, ""):
        return []
    if not isinstance(value, str):
        raise ValueError(f"{path}: sheet Meetings row {number}: {column!r} must be a comma-separated list of names")
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"{path}: sheet Meetings row {number}: {column!r} names {unknown[0]!r}, not on sheet Persons")
    return list(dict.fromkeys(names))


# --- from the instance to the forum problem -------------------------------------------------------------------------


def person_id(name: str) -> str:
    """'Amy Cole' -> 'amy-cole'."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def room_id(name: str) -> str:
    """'R 1' -> 'r-1'."""
    return person_id(name)


def load_optaplanner(path: Path) -> Problem:
    """The workbook at `path` as a forum problem."""
    return problem_of(parse_optaplanner(path))


def problem_of(instance: OptaPlannerInstance) -> Problem:
    ids = {name: person_id(name) for name in instance.persons}
    if len(set(ids.values())) != len(ids):
        raise ValueError(f"{instance.name}: two persons map to the same id")
    return Problem(
        forum=Forum(
            name=f"OptaPlanner meeting scheduling {instance.name}",
            time_zone=TIME_ZONE,
            slot_minutes=SLOT_MINUTES,
            days=[Day(date=day, start=start, end=end) for day, start, end, _ in instance.days],
        ),
        sessions=_lunches(instance),
        rooms=[Room(id=room_id(name), name=name, seats=capacity) for name, capacity in instance.rooms],
        delegations=[solo(pid, name) for name, pid in ids.items()],
        meetings=[_forum_meeting(number, meeting, ids) for number, meeting in enumerate(instance.meetings, 1)],
    )


def _lunches(instance: OptaPlannerInstance) -> list[ProgrammeSession]:
    """The source's time grains skip the lunch hour: here it is a session that blocks everyone."""
    sessions = []
    for day, start, end, lunch in instance.days:
        begin = datetime.combine(day, lunch)
        finish = begin + LUNCH
        if start <= lunch and finish.time() <= end and finish.date() == day:
            sessions.append(ProgrammeSession(id=f"lunch-{day.isoformat()}", name="Lunch", start=begin, end=finish))
    return sessions


def _forum_meeting(number: int, meeting: SourceMeeting, ids: dict[str, str]) -> Meeting:
    required = [ids[name] for name in meeting.required]
    return Meeting(
        id=f"m{number}",
        title=meeting.topic,
        delegations=required,
        participants=required,
        duration_minutes=meeting.minutes,
        # Every meeting is to be scheduled in the source; `must` is the highest priority.
        priority="must",
        # The source's hard "required room capacity" counts preferred attendees too.
        seats=len(meeting.required) + len(meeting.preferred),
    )
