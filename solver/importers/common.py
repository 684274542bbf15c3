"""What the importers share: a calendar without time zone or country, and one-person parties.

The benchmarks' businesses, agents and persons each become a delegation of one
principal with the same id; their slots become a day of a fixed date.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

from solver.model import Day, Delegation, Forum, Participant, Window

BENCHMARK_DATE = date(2024, 1, 15)  # the benchmarks have no calendar: any fixed day works
TIME_ZONE = "UTC"  # the sources have no time zone; UTC has no daylight saving to trip over
COUNTRY = "ZZ"  # ISO 3166 reserves ZZ for user assignment: the parties have no country


def read_source(path: Path, what: str) -> str:
    """The text of a benchmark file; ValueError naming `what` it should hold when it cannot
    be read or is not UTF-8. A byte-order mark, as editors on Windows write, is skipped."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise ValueError(f"{path}: cannot read {what} ({error.strerror or error})") from None
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text: {error.reason} at byte {error.start}") from None


def one_day_forum(name: str, start: time, slot_minutes: int, slots: int) -> Forum:
    """A forum of one day, BENCHMARK_DATE, holding `slots` slots from `start`;
    ValueError when they run past midnight (a source's slot count too large)."""
    end = datetime.combine(BENCHMARK_DATE, start) + timedelta(minutes=slot_minutes * slots)
    if end.date() != BENCHMARK_DATE:
        raise ValueError(f"{name}: {slots} slots of {slot_minutes} minutes from {start:%H:%M} do not fit in one day")
    return Forum(
        name=name,
        time_zone=TIME_ZONE,
        slot_minutes=slot_minutes,
        days=[Day(date=BENCHMARK_DATE, start=start, end=end.time())],
    )


def solo(party_id: str, name: str, blocked: list[Window] | None = None) -> Delegation:
    """A delegation of one principal, both with `party_id`."""
    person = Participant(id=party_id, name=name, principal=True, blocked=blocked or [])
    return Delegation(id=party_id, name=name, country=COUNTRY, participants=[person])
