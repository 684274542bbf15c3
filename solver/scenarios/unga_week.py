"""UNGA high-level week, New York: the stress case. 190 delegations, about
1,100 bilateral requests in 20 identical booths over five days of 20-minute
slots. Principals come and go during the week, each speaks in one hour of the
general debate, and one foreign minister asks for 40 bilaterals.

A few requests pair delegations that are never in New York together; they
are there on purpose, as at every real UNGA.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from solver.model import Problem, Rank
from solver.scenarios.common import ScenarioBuilder
from solver.scenarios.countries import UN_MEMBERS

ABSENT = ("AF", "MM", "KP")  # no delegation at the high level this year
DELEGATIONS = tuple(code for code in UN_MEMBERS if code not in ABSENT)
BUSIEST = "IN"
BUSIEST_MEETINGS = 40
PROMINENT = ("US", "CN", "RU", "GB", "FR", "DE", "JP", "BR", "ZA", "TR", "SA", "AE", "ID", "EG", "NG", "MX", "UA")
TARGET_MEETINGS = 1100
STRANDED_REQUESTS = 8  # pairs never in town together
DAYS = 5
BOOTHS = 20
DEBATE_HOURS = ("09:00", "10:00", "11:00", "12:00", "15:00", "16:00", "17:00", "18:00")
UN_ROLES: tuple[tuple[str, Rank], ...] = (("Permanent Representative to the United Nations", "senior_official"),)


@dataclass(frozen=True)
class Stay:
    """Days in New York (inclusive) and the wall-clock arrival and departure on them."""

    first_day: int
    last_day: int
    arrives: str = "08:00"
    leaves: str = "20:00"

    def overlaps(self, other: Stay) -> bool:
        return self.first_day <= other.last_day and other.first_day <= self.last_day

    def present(self, day: int, start: str, end: str) -> bool:
        """True when [start, end) on `day` lies within the stay ("HH:MM" compare in order)."""
        after_arrival = day > self.first_day or start >= self.arrives
        before_departure = day < self.last_day or end <= self.leaves
        return self.first_day <= day <= self.last_day and after_arrival and before_departure


def build(seed: int) -> Problem:
    forum = ScenarioBuilder(seed, "UNGA 79 high-level week", "America/New_York", 20, date(2024, 9, 24))
    for _ in range(DAYS):
        forum.add_day("08:00", "20:00")
    forum.add_venue("unhq", "United Nations Headquarters")
    for booth in range(1, BOOTHS + 1):
        forum.add_room(f"booth-{booth:02d}", f"Bilateral booth {booth}", 8, venue="unhq")
    stays = _delegations(forum)
    _general_debate(forum, stays)
    _meetings(forum, stays)
    return forum.problem()


def _delegations(forum: ScenarioBuilder) -> dict[str, Stay]:
    stays: dict[str, Stay] = {}
    for code in DELEGATIONS:
        rank: Rank = forum.rng.choice(("head_of_state", "head_of_state", "minister", "minister", "minister"))
        portfolio = "External Affairs" if code == BUSIEST else "Foreign Affairs"
        if code in (BUSIEST, *PROMINENT):
            rank, stay = "minister", Stay(0, DAYS - 1)
        else:
            stay = _random_stay(forum)
        stays[code] = stay
        presence: dict[str, object] = {}
        if stay.first_day > 0:
            presence["arrival"] = forum.at(stay.first_day, stay.arrives)
        if stay.last_day < DAYS - 1:
            presence["departure"] = forum.at(stay.last_day, stay.leaves)
        forum.add_delegation(code, rank, officials=1, portfolio=portfolio, roles=UN_ROLES, **presence)
    return stays


def _random_stay(forum: ScenarioBuilder) -> Stay:
    """Two to four days; mid-morning arrivals and afternoon flights home."""
    first = forum.rng.randrange(DAYS - 1)
    last = min(DAYS - 1, first + forum.rng.randint(1, 3))
    arrives = forum.rng.choice(("08:00", "10:00", "12:00")) if first > 0 else "08:00"
    leaves = forum.rng.choice(("14:00", "17:00", "20:00")) if last < DAYS - 1 else "20:00"
    return Stay(first, last, arrives, leaves)


def _general_debate(forum: ScenarioBuilder, stays: dict[str, Stay]) -> None:
    """Each principal speaks in one hour of the debate while in New York."""
    speakers: dict[tuple[int, str], list[str]] = {}
    for code, stay in stays.items():
        hours = [
            (day, hour)
            for day in range(stay.first_day, stay.last_day + 1)
            for hour in DEBATE_HOURS
            if stay.present(day, hour, _hour_after(hour))
        ]
        speakers.setdefault(forum.rng.choice(hours), []).append(forum.principal(code).id)
    for (day, hour), listed in sorted(speakers.items()):
        forum.add_session(
            f"debate-{day + 1}-{hour[:2]}",
            f"General debate, day {day + 1}, {hour}",
            day,
            hour,
            _hour_after(hour),
            "listed",
            participants=listed,
        )


def _hour_after(clock: str) -> str:
    return f"{int(clock[:2]) + 1:02d}:00"


def _meetings(forum: ScenarioBuilder, stays: dict[str, Stay]) -> None:
    others = [code for code in DELEGATIONS if code != BUSIEST]
    for partner in forum.rng.sample(others, BUSIEST_MEETINGS):
        forum.meet((BUSIEST, partner), 20, priority=forum.rng.choice(("high", "normal")), seats=6)
    weights = [6.0 if code in PROMINENT else forum.rng.uniform(0.5, 2.0) for code in others]
    wanted = TARGET_MEETINGS - BUSIEST_MEETINGS - STRANDED_REQUESTS

    def cap(code: str) -> int:
        stay = stays[code]
        return 30 if code in PROMINENT else 6 * (stay.last_day - stay.first_day + 1)

    def together(first: str, second: str) -> bool:
        return stays[first].overlaps(stays[second])

    for first, second in forum.random_pairs(others, wanted, cap, weights, compatible=together):
        forum.meet((first, second), forum.minutes(20, 20, 20, 40), priority=_priority(forum), seats=6)
    apart = forum.random_pairs(others, STRANDED_REQUESTS, cap=99, compatible=lambda a, b: not together(a, b))
    for first, second in apart:
        forum.meet((first, second), 20, priority="low", seats=6)


def _priority(forum: ScenarioBuilder) -> str:
    return forum.rng.choice(("must", "high", "high", "normal", "normal", "normal", "low"))
