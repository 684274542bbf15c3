"""Reading a problem and checking what JSON Schema cannot: references, units,
time order. Every finding names the field path, e.g.
`meetings[3].duration_minutes`, so people can fix their file or request."""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import msgspec

from solver.choices import choices_message
from solver.model import (
    Attendance,
    Day,
    Delegation,
    Forum,
    Meeting,
    Participant,
    Problem,
    Resource,
    Window,
    participants_by_id,
)
from solver.timegrid import TimeGrid
from solver.times import decode_with_seconds

T = TypeVar("T")


class Finding(msgspec.Struct, frozen=True):
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ProblemError(ValueError):
    """The problem is malformed; `findings` lists every fault with its path."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        super().__init__("; ".join(str(finding) for finding in findings))


# Costs, never rewards; small enough that any grid's objective stays far inside CP-SAT's int64.
MAX_WEIGHT = 1_000_000_000
MINUTES_PER_DAY = 24 * 60
# Slots in the whole grid. A real forum has a few hundred (UNGA's week: 180; a week of
# 5-minute slots round the clock: 2,016). Far past that, building the model alone
# outlasts any time limit: 14 days of 1-minute slots took 17 s and 1.3 GB at 2 s.
MAX_SLOTS = 5_000
BOM = "\ufeff"
_DECODE_PATH = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$")


def load_problem(data: bytes | str) -> Problem:
    """Decode and check a problem; raise ProblemError naming the bad field."""
    if (reason := utf8_fault(data)) is not None:
        raise ProblemError([Finding("$", f"not UTF-8 text: {reason}")])
    data = without_bom(data)
    if not data.strip():
        raise ProblemError([Finding("$", "empty: a problem is a JSON object")])
    try:
        problem = decode_json(data, Problem)
    except msgspec.ValidationError as error:
        raise ProblemError([decode_finding(str(error), Problem)]) from None
    except msgspec.DecodeError as error:
        raise ProblemError([Finding("$", json_fault(data, error))]) from None
    findings = check_problem(problem)
    if findings:
        raise ProblemError(findings)
    return problem


def decode_json(data: bytes | str, kind: type[T]) -> T:
    """`data` decoded as `kind`; times written to the minute ("14:30") read as on the minute,
    as the CSV import and the API read them (solver/times.py)."""
    try:
        return msgspec.json.decode(data, type=kind)
    except msgspec.ValidationError as error:
        if not str(error).startswith("Invalid RFC3339 encoded"):
            raise
    return decode_with_seconds(data, kind)


def without_bom(data: bytes | str) -> bytes | str:
    """`data` without a leading byte-order mark. Windows editors write one into UTF-8 files,
    and RFC 8259 (section 8.1) lets a parser ignore it; the CSV import ignores it too."""
    if isinstance(data, bytes):
        return data.removeprefix(BOM.encode())
    return data.removeprefix(BOM)


def utf8_fault(data: bytes | str) -> str | None:
    """Why `data` is not UTF-8 text, or None when it is. Checked before decoding: msgspec
    raised UnicodeDecodeError for it up to 0.22, and calls it malformed JSON from 0.23."""
    if isinstance(data, bytes):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as error:
            return error.reason
    return None


# A JSON escape: \uXXXX (group 1), or a backslash and the one character it escapes. Matched
# left to right, `\\` is taken whole, so the `\u` in `\\ud800` is text, not an escape.
_ESCAPE = re.compile(rb"\\(?:u([0-9a-fA-F]{4})|.)", re.DOTALL)


def lone_surrogate(data: bytes | str) -> tuple[str, int] | None:
    """The first \\uD800-style escape in JSON `data` that is half of a UTF-16 surrogate pair
    without its other half, and its byte offset. msgspec reports a lone high half as
    "Input data was truncated", which sends the reader looking for a cut-off body."""
    raw = data.encode() if isinstance(data, str) else data
    pending: re.Match[bytes] | None = None  # a high half, waiting for its low half right after it
    for match in _ESCAPE.finditer(raw):
        unit = int(match[1], 16) if match[1] is not None else -1
        low = 0xDC00 <= unit <= 0xDFFF
        if pending is not None:
            if not (low and match.start() == pending.end()):
                break
            pending = None
        elif 0xD800 <= unit <= 0xDBFF:
            pending = match
        elif low:
            return match[0].decode(), match.start()
    return None if pending is None else (pending[0].decode(), pending.start())


def json_fault(data: bytes | str, error: Exception) -> str:
    """Why msgspec could not decode JSON `data` (raising `error`), in plain words where it has none."""
    lone = lone_surrogate(data)
    if lone is not None:
        escape, offset = lone
        return f"invalid text: {escape} (byte {offset}) is half of a UTF-16 surrogate pair, not a character"
    return f"malformed JSON: {str(error).removeprefix('JSON is malformed: ')}"  # msgspec's own words say it again


def split_validation(text: str) -> tuple[str, str]:
    """msgspec's validation message ("Invalid enum value 'x' - at `$.meetings[0].priority`") as
    its words and its path after `$` (".meetings[0].priority"; "" when it names no place)."""
    match = _DECODE_PATH.match(text)
    assert match is not None  # the pattern matches any text
    return match["message"], match["path"] or ""


def decode_finding(text: str, kind: Any) -> Finding:
    """A msgspec validation error's text, from decoding `kind`, as a finding (`validation_finding`)."""
    return validation_finding(*split_validation(text), kind)


# msgspec names the object holding an unknown field, at its path, and the field in its words.
_UNKNOWN_FIELD = re.compile(r"Object contains unknown field `(?P<name>.*)`", re.DOTALL)


def validation_finding(message: str, path: str, kind: Any = None) -> Finding:
    """A msgspec validation message about `path` (msgspec's, after `$`: ".meetings[3]", "[0]", ""
    for the document) of `kind` as a finding, named as the API and the CLI both name fields:
    "meetings[3].duration_minutes", "$" for the document itself, and for an unknown field that
    field ("meetings[3].foo"), not the object holding it."""
    field = path
    if (unknown := _UNKNOWN_FIELD.fullmatch(message)) is not None:
        field = f"{path}.{unknown['name']}"
    return Finding(field.removeprefix(".") or "$", plain_message(message, kind, path))


# msgspec's words for a time it cannot read, and what to write instead.
_TIME_FORMATS = {
    "Invalid RFC3339 encoded datetime": "must be a date and time such as 2024-05-31T14:30 or 2024-05-31T14:30:00",
    "Invalid RFC3339 encoded time": "must be a time of day such as 14:30 or 14:30:00",
    "Invalid RFC3339 encoded date": "must be a date such as 2024-05-31",
}


def plain_message(message: str, kind: Any = None, path: str = "") -> str:
    """A msgspec validation message about the field at `path` (msgspec's, after `$`) of `kind`,
    with what the value must be where msgspec does not say: a time's format, a fixed set's values."""
    if kind is not None and (choices := choices_message(message, kind, path)) is not None:
        return choices
    return _TIME_FORMATS.get(message, message)


def check_problem(problem: Problem) -> list[Finding]:
    """Every semantic fault of `problem`; empty when it can be solved."""
    findings = [*_check_forum(problem), *out_of_calendar(problem)]
    if findings:  # later checks need a valid grid
        return findings
    grid = TimeGrid.of(problem.forum)
    findings.extend(_check_clock_changes(grid.zone, problem.forum.days))
    findings.extend(_check_ids(problem))
    for check in (_check_rooms, _check_people, _check_sessions):
        findings.extend(check(problem, grid))
    known = _Known.of(problem)
    for index, meeting in enumerate(problem.meetings):
        findings.extend(_check_meeting(problem, grid, known, f"meetings[{index}]", meeting))
    findings.extend(_check_precedence_cycles(problem))
    findings.extend(_check_rest(problem, grid, known))
    return findings


def _check_forum(problem: Problem) -> list[Finding]:
    forum = problem.forum
    found: list[Finding] = []
    if (fault := zone_fault(forum.time_zone)) is not None:
        found.append(Finding("forum.time_zone", fault))
    if not 1 <= forum.slot_minutes <= 240:
        found.append(Finding("forum.slot_minutes", "must be between 1 and 240"))
    if not forum.days:
        found.append(Finding("forum.days", "at least one day is needed"))
    for index, day in enumerate(forum.days):
        offsets = [name for name in ("start", "end") if getattr(day, name).tzinfo is not None]
        for name in offsets:  # the zone is the forum's: an offset would be ignored, or not comparable
            found.append(Finding(f"forum.days[{index}].{name}", "must be wall-clock time without a UTC offset"))
        if not offsets and day.end <= day.start:
            found.append(Finding(f"forum.days[{index}].end", "must be after the day's start"))
    dates = [day.date for day in forum.days]
    if dates != sorted(set(dates)):
        found.append(Finding("forum.days", "dates must be distinct and in order"))
    if not found and (slots := _grid_size(forum)) > MAX_SLOTS:
        size = f"{slots:,} slots of {forum.slot_minutes} min"
        found.append(Finding("forum.days", f"{size} in all; at most {MAX_SLOTS:,}: use longer slots or fewer days"))
    return found


# Names zoneinfo loads that name no place: a forum in one would keep the hours of whatever
# server or library reads it, or none at all.
_NOT_A_PLACE = {
    "localtime": "the server's own clock setting",
    "posixrules": "the tz compiler's template for POSIX TZ strings",
    "Factory": "the placeholder of a machine whose zone is not set",
}


@functools.cache
def _iana_zones() -> frozenset[str]:
    """The IANA names of zones and their links (tzdata's list and the system's), without the
    `posix/` and `right/` copies; about 600 names, read once per process (about 40 ms)."""
    return frozenset(available_timezones() - _NOT_A_PLACE.keys())


def zone_fault(name: str) -> str | None:
    """Why `name` is not the IANA time zone of a place, or None when it is ("Asia/Singapore",
    "UTC", "Etc/GMT-8" and the old links such as "US/Eastern" are)."""
    if name in _NOT_A_PLACE:
        return f"{name!r} is {_NOT_A_PLACE[name]}, not a place's IANA time zone (such as 'Asia/Singapore')"
    copy, _, zone = name.partition("/")
    if copy in ("posix", "right") and zone in _iana_zones():
        leap = ", counting leap seconds that no wall clock shows" if copy == "right" else ""
        return f"{name!r} is a copy of {zone!r} kept for C libraries{leap}: name {zone!r}"
    if name not in _iana_zones():
        return f"unknown IANA time zone {name!r}"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # listed by the system, yet unreadable
        return f"unknown IANA time zone {name!r}"
    return None


def _grid_size(forum: Forum) -> int:
    minutes = sum(
        (datetime.combine(day.date, day.end) - datetime.combine(day.date, day.start)).total_seconds() // 60
        for day in forum.days
    )
    return int(minutes) // forum.slot_minutes


def _check_clock_changes(zone: ZoneInfo, days: list[Day]) -> list[Finding]:
    """Days whose hours hold a change of UTC offset (DST): slots step in wall-clock time, so
    the engine's grid and the validator's (which measures real time) disagree on those days."""
    return [
        Finding(
            f"forum.days[{index}]", "the clocks change between its start and end; move its hours clear of the change"
        )
        for index, day in enumerate(days)
        if datetime.combine(day.date, day.start, zone).utcoffset()
        != datetime.combine(day.date, day.end, zone).utcoffset()
    ]


def out_of_calendar(value: object, path: str = "") -> list[Finding]:
    """Each date or datetime in `value` (a struct, list or tuple, walked field by field) too
    close to the calendar's ends for a change of zone or a day's slots to stay within it."""
    if _within_calendar(value):
        return []
    return _out_of_calendar(value, path)


# Values `_within_calendar` passes over at once: most of a problem's leaves.
_PLAIN = frozenset({str, int, float, bool, type(None)})


def _within_calendar(value: object) -> bool:
    """Whether `_out_of_calendar` would find nothing, without building a path for every field:
    a problem is nearly always clean, and UNGA's 140,000 paths cost 0.2 s per check (a recorded
    change checks the changed forum once per earlier change)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if type(item) in _PLAIN:
            continue
        if isinstance(item, date):
            if not 2 <= item.year <= 9998:
                return False
        elif isinstance(item, msgspec.Struct):
            pending.extend(msgspec.structs.astuple(item))
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return True


def _out_of_calendar(value: object, path: str) -> list[Finding]:
    if isinstance(value, date):  # datetimes too
        return [] if 2 <= value.year <= 9998 else [Finding(path or "$", "must be between the years 2 and 9998")]
    if isinstance(value, msgspec.Struct):
        fields = ((name, getattr(value, name)) for name in value.__struct_fields__)
        return [found for name, item in fields for found in _out_of_calendar(item, f"{path}.{name}".lstrip("."))]
    if isinstance(value, list | tuple):
        return [found for index, item in enumerate(value) for found in _out_of_calendar(item, f"{path}[{index}]")]
    return []


def _repeated(ids: Iterable[str]) -> list[tuple[str, int]]:
    return [(key, n) for key, n in Counter(ids).items() if n > 1]


def _duplicates(path: str, ids: Iterable[str]) -> list[Finding]:
    return [Finding(path, f"id {key!r} is used {n} times") for key, n in _repeated(ids)]


def _check_ids(problem: Problem) -> list[Finding]:
    people = [p.id for d in problem.delegations for p in d.participants]
    return [
        *_duplicates("delegations", (d.id for d in problem.delegations)),
        *_duplicates("delegations[].participants", people),
        *_duplicates("rooms", (r.id for r in problem.rooms)),
        *_duplicates("venues", (v.id for v in problem.venues)),
        *_duplicates("resources", (r.id for r in problem.resources)),
        *_duplicates("meetings", (m.id for m in problem.meetings)),
        *_duplicates("sessions", (s.id for s in problem.sessions)),
    ]


def _before(grid: TimeGrid, first: datetime, second: datetime) -> bool:
    """first < second, reading naive datetimes as forum-local time."""
    return grid.local(first) < grid.local(second)


def _windows(grid: TimeGrid, path: str, windows: Iterable[Window]) -> list[Finding]:
    return [
        Finding(f"{path}[{index}].end", "must be after its start")
        for index, window in enumerate(windows)
        if not _before(grid, window.start, window.end)
    ]


def _check_rooms(problem: Problem, grid: TimeGrid) -> list[Finding]:
    venues = {venue.id for venue in problem.venues}
    found: list[Finding] = []
    if not problem.rooms:
        found.append(Finding("rooms", "at least one room is needed"))
    for index, room in enumerate(problem.rooms):
        path = f"rooms[{index}]"
        if room.seats < 1:
            found.append(Finding(f"{path}.seats", "must be at least 1"))
        if room.venue is not None and room.venue not in venues:
            found.append(Finding(f"{path}.venue", f"unknown venue {room.venue!r}"))
        found.extend(_windows(grid, f"{path}.unavailable", room.unavailable))
    for index, travel in enumerate(problem.travel):
        path = f"travel[{index}]"
        for end in travel.between:
            if end not in venues:
                found.append(Finding(f"{path}.between", f"unknown venue {end!r}"))
        if not 0 <= travel.minutes <= MINUTES_PER_DAY:  # longer only says "not on one day", and stalls CP-SAT
            found.append(Finding(f"{path}.minutes", f"must be between 0 and {MINUTES_PER_DAY} (a day)"))
    return found


def _check_people(problem: Problem, grid: TimeGrid) -> list[Finding]:
    found: list[Finding] = []
    for d_index, delegation in enumerate(problem.delegations):
        d_path = f"delegations[{d_index}]"
        if not re.fullmatch(r"[A-Z]{2,3}", delegation.country):
            found.append(Finding(f"{d_path}.country", "must be an ISO 3166 code such as JP or JPN"))
        for p_index, person in enumerate(delegation.participants):
            path = f"{d_path}.participants[{p_index}]"
            if person.arrival and person.departure and not _before(grid, person.arrival, person.departure):
                found.append(Finding(f"{path}.departure", "must be after the arrival"))
            if person.max_meetings_per_day is not None and person.max_meetings_per_day < 0:
                found.append(Finding(f"{path}.max_meetings_per_day", "must not be negative"))
            if person.buffer_minutes < 0:
                found.append(Finding(f"{path}.buffer_minutes", "must not be negative"))
            found.extend(_windows(grid, f"{path}.blocked", person.blocked))
    return found


def _check_sessions(problem: Problem, grid: TimeGrid) -> list[Finding]:
    people = participants_by_id(problem)
    found: list[Finding] = []
    for index, session in enumerate(problem.sessions):
        path = f"sessions[{index}]"
        if not _before(grid, session.start, session.end):
            found.append(Finding(f"{path}.end", "must be after its start"))
        if session.scope == "listed" and not session.participants:
            found.append(Finding(f"{path}.participants", "scope 'listed' needs participants"))
        for person in session.participants:
            if person not in people:
                found.append(Finding(f"{path}.participants", f"unknown participant {person!r}"))
    return found


@dataclass(frozen=True)
class _Known:
    """What a meeting may refer to, gathered once: gathered per meeting, the check took
    quadratic time (46 s for 20,000 meetings)."""

    people: dict[str, tuple[Delegation, Participant]]
    delegations: set[str]
    rooms: set[str]
    venues: set[str]
    resources: dict[str, Resource]
    meetings: set[str]
    attendance: Attendance

    @classmethod
    def of(cls, problem: Problem) -> _Known:
        return cls(
            participants_by_id(problem),
            {delegation.id for delegation in problem.delegations},
            {room.id for room in problem.rooms},
            {venue.id for venue in problem.venues},
            {resource.id: resource for resource in problem.resources},
            {meeting.id for meeting in problem.meetings},
            Attendance(problem),
        )


def _check_meeting(problem: Problem, grid: TimeGrid, known: _Known, path: str, meeting: Meeting) -> list[Finding]:
    return [
        *_check_meeting_parties(known, path, meeting),
        *_check_meeting_time(problem, grid, path, meeting),
        *_check_meeting_place(known, path, meeting),
    ]


def _check_meeting_parties(known: _Known, path: str, meeting: Meeting) -> list[Finding]:
    people = known.people
    found: list[Finding] = []
    if len(set(meeting.delegations)) < 2 or len(meeting.delegations) != len(set(meeting.delegations)):
        found.append(Finding(f"{path}.delegations", "needs two or more distinct delegations"))
    for delegation in meeting.delegations:
        if delegation not in known.delegations:
            found.append(Finding(f"{path}.delegations", f"unknown delegation {delegation!r}"))
    found.extend(
        Finding(f"{path}.participants", f"{person!r} is listed {n} times")
        for person, n in _repeated(meeting.participants)
    )
    for person in meeting.participants:
        if person not in people:
            found.append(Finding(f"{path}.participants", f"unknown participant {person!r}"))
        elif people[person][0].id not in meeting.delegations:
            found.append(Finding(f"{path}.participants", f"{person!r} is not in one of the meeting's delegations"))
    present = {people[p][0].id for p in known.attendance.of(meeting) if p in people}
    for delegation in meeting.delegations:
        if delegation in known.delegations and delegation not in present:
            found.append(
                Finding(f"{path}.participants", f"delegation {delegation!r} has no attendee (and no principal)")
            )
    if meeting.seats is not None and meeting.seats < 1:
        found.append(Finding(f"{path}.seats", "must be at least 1"))
    return found


def _check_meeting_time(problem: Problem, grid: TimeGrid, path: str, meeting: Meeting) -> list[Finding]:
    slot = problem.forum.slot_minutes
    found: list[Finding] = []
    longest = max((len(day) for day in grid.day_ranges), default=0) * slot
    if meeting.duration_minutes <= 0 or meeting.duration_minutes % slot:
        found.append(
            Finding(
                f"{path}.duration_minutes",
                f"{meeting.duration_minutes} is not a positive multiple of the {slot}-minute slot",
            )
        )
    elif meeting.duration_minutes > longest:
        found.append(
            Finding(
                f"{path}.duration_minutes", f"{meeting.duration_minutes} minutes is longer than any day ({longest})"
            )
        )
    if meeting.earliest and meeting.latest and not _before(grid, meeting.earliest, meeting.latest):
        found.append(Finding(f"{path}.latest", "must be after earliest"))
    if meeting.pinned_start and grid.slot_at(meeting.pinned_start) is None:
        found.append(Finding(f"{path}.pinned_start", "is not the start of a slot of the forum's grid"))
    found.extend(_windows(grid, f"{path}.preferred", meeting.preferred))
    return found


def _check_meeting_place(known: _Known, path: str, meeting: Meeting) -> list[Finding]:
    rooms, venues, resources, meetings = known.rooms, known.venues, known.resources, known.meetings
    found: list[Finding] = []
    if meeting.pinned_room is not None and meeting.pinned_room not in rooms:
        found.append(Finding(f"{path}.pinned_room", f"unknown room {meeting.pinned_room!r}"))
    for venue in meeting.venues:
        if venue not in venues:
            found.append(Finding(f"{path}.venues", f"unknown venue {venue!r}"))
    for other in meeting.after:
        if other not in meetings or other == meeting.id:
            found.append(Finding(f"{path}.after", f"unknown or same meeting {other!r}"))
    for index, use in enumerate(meeting.resources):
        resource = resources.get(use.resource)
        if resource is None:
            found.append(Finding(f"{path}.resources[{index}].resource", f"unknown resource {use.resource!r}"))
        elif not 1 <= use.amount <= resource.capacity:
            found.append(
                Finding(f"{path}.resources[{index}].amount", f"must be between 1 and the capacity {resource.capacity}")
            )
    return found


def _check_precedence_cycles(problem: Problem) -> list[Finding]:
    after = {meeting.id: meeting.after for meeting in problem.meetings}
    state: dict[str, int] = {}  # 1 visiting, 2 done
    for index, meeting in enumerate(problem.meetings):
        if meeting.id not in state and _reaches_a_cycle(meeting.id, after, state):
            return [Finding(f"meetings[{index}].after", "precedences form a cycle")]
    return []


def _reaches_a_cycle(root: str, after: dict[str, list[str]], state: dict[str, int]) -> bool:
    """Depth-first from `root` on an explicit stack: a chain of precedences may be
    longer than Python's recursion limit."""
    state[root] = 1
    stack = [(root, iter(after.get(root, ())))]
    while stack:
        node, pending = stack[-1]
        for before in pending:
            if state.get(before) == 1:
                return True
            if before not in state:
                state[before] = 1
                stack.append((before, iter(after.get(before, ()))))
                break
        else:
            state[node] = 2
            stack.pop()
    return False


def _check_rest(problem: Problem, grid: TimeGrid, known: _Known) -> list[Finding]:
    delegations, meetings, rooms = known.delegations, known.meetings, known.rooms
    found: list[Finding] = []
    for index, pair in enumerate(problem.keep_apart):
        if pair.delegations[0] == pair.delegations[1] or not set(pair.delegations) <= delegations:
            found.append(Finding(f"keep_apart[{index}].delegations", "needs two distinct known delegations"))
    placed_before: set[str] = set()
    for index, placement in enumerate(problem.previous):
        path = f"previous[{index}]"
        if placement.meeting not in meetings:
            found.append(Finding(f"{path}.meeting", f"unknown meeting {placement.meeting!r}"))
        elif placement.meeting in placed_before:
            # a schedule places a meeting once; the engine and the validator would cost it differently
            found.append(Finding(f"{path}.meeting", f"meeting {placement.meeting!r} is placed by an earlier entry"))
        placed_before.add(placement.meeting)
        if placement.room not in rooms:
            found.append(Finding(f"{path}.room", f"unknown room {placement.room!r}"))
        if grid.slot_at(placement.start) is None:
            found.append(Finding(f"{path}.start", "is not the start of a slot of the forum's grid"))
    return [*found, *_check_objective(problem)]


def _check_objective(problem: Problem) -> list[Finding]:
    objective = problem.objective
    order = objective.lexicographic_order
    found: list[Finding] = []
    if len(set(order)) != len(order):
        found.append(Finding("objective.lexicographic_order", "terms must not repeat"))
    if objective.mode == "lexicographic" and not order:
        found.append(Finding("objective.lexicographic_order", "lexicographic mode needs at least one term"))
    if objective.break_spread_limit is not None and objective.break_spread_limit < 0:
        found.append(Finding("objective.break_spread_limit", "must not be negative"))
    for group in ("priority_weights", "weights"):
        weights = getattr(objective, group)
        for name in weights.__struct_fields__:
            if not 0 <= getattr(weights, name) <= MAX_WEIGHT:
                found.append(Finding(f"objective.{group}.{name}", f"must be between 0 and {MAX_WEIGHT:,}"))
    return found
