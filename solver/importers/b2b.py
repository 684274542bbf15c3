"""Import the B2B meeting-scheduling benchmark (Bofill et al., JAIR 74, 2022).

The instances are MiniZinc data files (.dzn). The parser below reads exactly
the constructs those files use: integers, 1-D arrays of integers, arrays of
integer sets and 2-D arrays `[| ... |]`, with `%` line comments. Anything else
is rejected with a ValueError naming the file and the offending item.

Every business becomes a delegation with one principal, every requested
meeting a "must" bilateral, the slots one day of 30-minute slots, the tables
identical rooms. See docs/importers.md for the full mapping.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

from solver.importers.common import BENCHMARK_DATE, one_day_forum, read_source, solo
from solver.model import Delegation, Forum, Meeting, ObjectiveSettings, Problem, Room, Window

DznValue = int | list[int] | list[set[int]] | list[list[int]]

DAY_START = time(9, 0)
SLOT_MINUTES = 30

SESSION_MORNING, SESSION_AFTERNOON, SESSION_ANY = 1, 2, 3
# The source marks "no meeting" in meetingsxBusiness by the value 1 and shifts
# real meeting numbers by one; forbidden uses {0} for "no forbidden slot".
NO_MEETING_MARK = 1
NO_SLOT_MARK = 0

_INT = re.compile(r"-?\d+")
_SET = re.compile(r"\{([^{}]*)\}")
_SETS = re.compile(r"\s*(?:\{[^{}]*\}\s*(?:,\s*\{[^{}]*\}\s*)*,?)?\s*")


@dataclass(frozen=True)
class B2BInstance:
    """The content of one .dzn file, 1-based as in the source."""

    name: str
    businesses: int
    tables: int
    total_slots: int
    morning_slots: int
    requested: list[tuple[int, int, int]]  # per meeting: business, business, session
    forbidden: list[set[int]]  # per business: forbidden slots
    fixed: list[int]  # per meeting: fixed slot, 0 when free
    precedences: list[set[int]]  # per meeting: meetings held strictly before it


# --- the .dzn reader -------------------------------------------------------------------------------------------------


def read_dzn(path: Path) -> dict[str, DznValue]:
    """Assignments `name = value;` of a .dzn file (only the constructs the benchmark uses)."""
    text = re.sub(r"%[^\n]*", "", read_source(path, "the B2B instance"))  # MiniZinc line comments
    values: dict[str, DznValue] = {}
    for statement in text.split(";"):
        if not statement.strip():
            continue
        name, equals, value = statement.partition("=")
        name = name.strip()
        if not equals or not re.fullmatch(r"[A-Za-z_]\w*", name):
            raise ValueError(f"{path}: expected `name = value;`, found {statement.strip()[:40]!r}")
        values[name] = _dzn_value(path, name, value.strip())
    return values


def _dzn_value(path: Path, name: str, text: str) -> DznValue:
    if _INT.fullmatch(text):
        return int(text)
    if text.startswith("[|") and text.endswith("|]"):
        return _dzn_rows(path, name, text[2:-2])
    if text.startswith("[") and text.endswith("]"):
        inner = text[1:-1]
        if "{" in inner:
            return _dzn_sets(path, name, inner)
        return _dzn_ints(path, name, inner)
    raise ValueError(f"{path}: cannot read the value of {name!r} (unsupported MiniZinc construct)")


def _dzn_ints(path: Path, name: str, text: str) -> list[int]:
    items = [item.strip() for item in text.split(",")]
    if items and not items[-1]:
        items.pop()  # a trailing comma is allowed
    if not all(_INT.fullmatch(item) for item in items):
        raise ValueError(f"{path}: {name!r} must be a list of integers")
    return [int(item) for item in items]


def _dzn_sets(path: Path, name: str, text: str) -> list[set[int]]:
    if not _SETS.fullmatch(text):
        raise ValueError(f"{path}: {name!r} must be a list of integer sets {{..}}")
    return [set(_dzn_ints(path, name, body)) if body.strip() else set() for body in _SET.findall(text)]


def _dzn_rows(path: Path, name: str, text: str) -> list[list[int]]:
    rows = [row for row in text.split("|") if row.strip()]
    return [_dzn_ints(path, name, row) for row in rows]


# --- from .dzn values to a checked instance ------------------------------------------------------------------------


def parse_b2b(path: Path) -> B2BInstance:
    """Read and cross-check one B2B .dzn file; raise ValueError naming the fault."""
    values = read_dzn(path)
    reader = _Fields(path, values)
    businesses, meetings = reader.integer("nBusiness"), reader.integer("nMeetings")
    total_slots = reader.integer("nTotalSlots")
    instance = B2BInstance(
        name=path.name.removesuffix(".dzn"),
        businesses=businesses,
        tables=reader.integer("nTables"),
        total_slots=total_slots,
        morning_slots=reader.integer("nMorningSlots"),
        requested=[_meeting_row(path, index, row) for index, row in enumerate(reader.rows("requested", meetings), 1)],
        forbidden=[slots - {NO_SLOT_MARK} for slots in reader.sets("forbidden", businesses)],
        fixed=reader.integers("fixed", meetings),
        precedences=reader.sets("precedences", meetings),
    )
    _check_ranges(path, instance)
    _check_meeting_lists(path, instance, reader)
    return instance


class _Fields:
    """Typed access to the .dzn values, with errors that name the file and field."""

    def __init__(self, path: Path, values: dict[str, DznValue]) -> None:
        self.path, self.values = path, values

    def _get(self, name: str) -> DznValue:
        if name not in self.values:
            raise ValueError(f"{self.path}: {name!r} is missing")
        return self.values[name]

    def integer(self, name: str) -> int:
        value = self._get(name)
        if not isinstance(value, int) or value < 0:
            raise ValueError(f"{self.path}: {name!r} must be a non-negative integer")
        return value

    def _sized(self, name: str, size: int) -> list:
        value = self._get(name)
        if not isinstance(value, list) or len(value) != size:
            raise ValueError(f"{self.path}: {name!r} must have {size} entries")
        return value

    def integers(self, name: str, size: int) -> list[int]:
        value = self._sized(name, size)
        if not all(isinstance(item, int) for item in value):
            raise ValueError(f"{self.path}: {name!r} must be a list of integers")
        return value

    def sets(self, name: str, size: int) -> list[set[int]]:
        value = self._sized(name, size)
        if not all(isinstance(item, set) for item in value):
            raise ValueError(f"{self.path}: {name!r} must be a list of sets")
        return value

    def rows(self, name: str, size: int) -> list[list[int]]:
        value = self._sized(name, size)
        if not all(isinstance(item, list) for item in value):
            raise ValueError(f"{self.path}: {name!r} must be a 2-D array [| ... |]")
        return value


def _meeting_row(path: Path, number: int, row: list[int]) -> tuple[int, int, int]:
    if len(row) != 3:
        raise ValueError(f"{path}: requested row {number} must be `business, business, session`")
    return row[0], row[1], row[2]


def _check_ranges(path: Path, instance: B2BInstance) -> None:
    slots, meetings = range(1, instance.total_slots + 1), range(1, len(instance.requested) + 1)
    if not 1 <= instance.morning_slots <= instance.total_slots:
        raise ValueError(f"{path}: nMorningSlots must be between 1 and nTotalSlots")
    if instance.tables < 1:
        raise ValueError(f"{path}: nTables must be at least 1")
    for number, (first, second, session) in enumerate(instance.requested, 1):
        if not (1 <= first <= instance.businesses and 1 <= second <= instance.businesses) or first == second:
            raise ValueError(f"{path}: requested row {number} needs two distinct businesses in 1..nBusiness")
        if session not in (SESSION_MORNING, SESSION_AFTERNOON, SESSION_ANY):
            raise ValueError(f"{path}: requested row {number} has session {session}, expected 1, 2 or 3")
    for number, forbidden in enumerate(instance.forbidden, 1):
        if not forbidden <= set(slots):
            raise ValueError(f"{path}: forbidden[{number}] has slots outside 1..nTotalSlots")
    for number, slot in enumerate(instance.fixed, 1):
        if slot != 0 and slot not in slots:
            raise ValueError(f"{path}: fixed[{number}] = {slot} is outside 0..nTotalSlots")
    for number, before in enumerate(instance.precedences, 1):
        if not before <= set(meetings) or number in before:
            raise ValueError(f"{path}: precedences[{number}] must name other meetings in 1..nMeetings")


def _check_meeting_lists(path: Path, instance: B2BInstance, reader: _Fields) -> None:
    """The redundant per-business lists must agree with `requested`."""
    listed = reader.sets("meetingsxBusiness", instance.businesses)
    counts = reader.integers("nMeetingsBusiness", instance.businesses)
    expected: list[set[int]] = [set() for _ in range(instance.businesses)]
    for number, (first, second, _) in enumerate(instance.requested, 1):
        expected[first - 1].add(number)
        expected[second - 1].add(number)
    for business, (shifted, count, wanted) in enumerate(zip(listed, counts, expected, strict=True), 1):
        meetings = {value - NO_MEETING_MARK for value in shifted if value != NO_MEETING_MARK}
        if meetings != wanted or count != len(wanted):
            raise ValueError(
                f"{path}: meetingsxBusiness/nMeetingsBusiness of business {business} disagree with requested"
            )


# --- from the instance to the forum problem -------------------------------------------------------------------------


def load_b2b(path: Path, fairness: int | None = 2) -> Problem:
    """The B2B instance at `path` as a forum problem; `fairness` is the paper's d (None: no bound)."""
    instance = parse_b2b(path)
    return Problem(
        forum=_forum(instance),
        rooms=[Room(id=f"l{table}", name=f"Table {table}", seats=2) for table in range(1, instance.tables + 1)],
        delegations=[_business(instance, number) for number in range(1, instance.businesses + 1)],
        meetings=[_meeting(instance, number) for number in range(1, len(instance.requested) + 1)],
        # The source counts idle forbidden slots inside a break, and bounds the
        # spread of breaks over all businesses by d.
        objective=ObjectiveSettings(breaks_count_unavailable=True, break_spread_limit=fairness, must_is_hard=True),
    )


def slot_start(slot: int) -> datetime:
    """Start of the source's 1-based slot `slot` (naive: forum-local time)."""
    return datetime.combine(BENCHMARK_DATE, DAY_START) + timedelta(minutes=SLOT_MINUTES * (slot - 1))


def _forum(instance: B2BInstance) -> Forum:
    # One contiguous day: the source's slots are consecutive, so there is no
    # lunch gap and idle slots between the sessions do count as a break.
    return one_day_forum(f"B2B {instance.name}", DAY_START, SLOT_MINUTES, instance.total_slots)


def _business(instance: B2BInstance, number: int) -> Delegation:
    blocked = [
        Window(start=slot_start(slot), end=slot_start(slot + 1)) for slot in sorted(instance.forbidden[number - 1])
    ]
    return solo(f"p{number}", f"Business {number}", blocked)


def _meeting(instance: B2BInstance, number: int) -> Meeting:
    first, second, session = instance.requested[number - 1]
    afternoon = slot_start(instance.morning_slots + 1)
    fixed = instance.fixed[number - 1]
    return Meeting(
        id=f"m{number}",
        delegations=[f"p{first}", f"p{second}"],
        duration_minutes=SLOT_MINUTES,
        title=f"Business {first} / business {second}",
        priority="must",
        latest=afternoon if session == SESSION_MORNING else None,
        earliest=afternoon if session == SESSION_AFTERNOON else None,
        pinned_start=slot_start(fixed) if fixed else None,
        after=[f"m{before}" for before in sorted(instance.precedences[number - 1])],
    )
