"""The shared scenario builder: forum days, delegations with role-named people,
rooms, sessions and meetings with readable, unique ids.

Every random choice goes through the builder's own `random.Random(seed)` and
every collection is walked in insertion order, so a seed always gives the same
problem, byte for byte.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

import msgspec

from solver.model import (
    Day,
    Delegation,
    Forum,
    KeepApart,
    Meeting,
    Participant,
    Problem,
    ProgrammeSession,
    Rank,
    Resource,
    ResourceUse,
    Room,
    SessionScope,
    Travel,
    Venue,
    Window,
    attendees,
)
from solver.scenarios.countries import COUNTRIES

T = TypeVar("T")
RoomRow = tuple[str, str, int, list[str]]  # id, name, seats, features

PRINCIPAL_SUFFIX: dict[Rank, str] = {
    "head_of_state": "hos",
    "minister": "min",
    "deputy_minister": "dep",
    "chief_of_defence": "chod",
    "senior_official": "sec",
    "official": "off",
}

OFFICIAL_ROLES: tuple[tuple[str, Rank], ...] = (
    ("Director-General for Defence Policy", "senior_official"),
    ("Defence Attaché", "official"),
    ("Military Assistant to the Principal", "official"),
    ("Director of International Relations", "official"),
    ("Senior Adviser, Indo-Pacific", "official"),
    ("Head of Capability Planning", "senior_official"),
    ("Director of Cyber Policy", "official"),
    ("Legal Adviser", "official"),
)

# Principals whose title is not "<Rank> of <portfolio> of <country>".
SPECIAL_TITLES: dict[tuple[str, Rank, str], str] = {
    ("US", "minister", "Defence"): "Secretary of Defense of the United States",
    ("US", "minister", "Foreign Affairs"): "Secretary of State of the United States",
    ("GB", "minister", "Defence"): "Secretary of State for Defence of the United Kingdom",
    ("GB", "minister", "Foreign Affairs"): "Foreign Secretary of the United Kingdom",
}


def principal_title(code: str, rank: Rank, portfolio: str = "Defence") -> str:
    """'Minister of Defence of Japan', or the country's own title when it has one."""
    special = SPECIAL_TITLES.get((code, rank, portfolio))
    if special:
        return special
    country = COUNTRIES[code].in_text
    titles: dict[Rank, str] = {
        "head_of_state": f"Head of State or Government of {country}",
        "minister": f"Minister of {portfolio} of {country}",
        "deputy_minister": f"Deputy Minister of {portfolio} of {country}",
        "chief_of_defence": f"Chief of Defence of {country}",
        "senior_official": f"Head of Delegation of {country}",
        "official": f"Official of {country}",
    }
    return titles[rank]


class ScenarioBuilder:
    """Collects the parts of one problem; `problem()` assembles it."""

    def __init__(self, seed: int, name: str, time_zone: str, slot_minutes: int, first_day: date) -> None:
        self.rng = random.Random(seed)
        self.name = name
        self.time_zone = time_zone
        self.slot_minutes = slot_minutes
        self.first_day = first_day
        self.days: list[Day] = []
        self.delegations: dict[str, Delegation] = {}
        self.rooms: list[Room] = []
        self.venues: list[Venue] = []
        self.travel: list[Travel] = []
        self.resources: dict[str, Resource] = {}
        self.sessions: list[ProgrammeSession] = []
        self.meetings: dict[str, Meeting] = {}
        self.keep_apart: list[KeepApart] = []
        self.load: Counter[str] = Counter()  # meetings per participant id

    # --- time -------------------------------------------------------------

    def at(self, day: int, clock: str) -> datetime:
        """Naive (forum-local) datetime of "HH:MM" on forum day `day` (0-based)."""
        return datetime.combine(self.first_day + timedelta(days=day), time.fromisoformat(clock))

    def window(self, day: int, start: str, end: str) -> Window:
        return Window(self.at(day, start), self.at(day, end))

    def add_day(self, start: str, end: str) -> None:
        offset = len(self.days)
        self.days.append(
            Day(self.first_day + timedelta(days=offset), time.fromisoformat(start), time.fromisoformat(end))
        )

    def minutes(self, *choices: int) -> int:
        """One of `choices` (minutes), each a multiple of the slot."""
        picked = self.rng.choice(choices)
        assert picked % self.slot_minutes == 0, picked
        return picked

    # --- people -----------------------------------------------------------

    def add_delegation(
        self,
        code: str,
        rank: Rank = "minister",
        officials: int = 1,
        portfolio: str = "Defence",
        roles: Sequence[tuple[str, Rank]] = OFFICIAL_ROLES,
        **principal_fields: Any,
    ) -> Delegation:
        """A delegation of `code`: one principal and `officials` officials in `roles` order."""
        lower = code.lower()
        principal = Participant(
            id=f"{lower}-{PRINCIPAL_SUFFIX[rank]}",
            name=principal_title(code, rank, portfolio),
            rank=rank,
            principal=True,
            **principal_fields,
        )
        people = [principal]
        country = COUNTRIES[code].name
        for index in range(officials):
            role, role_rank = roles[index % len(roles)]
            people.append(Participant(id=f"{lower}-off{index + 1}", name=f"{role}, {country}", rank=role_rank))
        delegation = Delegation(
            id=code, name=f"Delegation of {COUNTRIES[code].in_text}", country=code, participants=people
        )
        self.delegations[code] = delegation
        return delegation

    def add_delegations(
        self,
        codes: Iterable[str],
        ranks: Sequence[Rank] = ("minister",),
        ministers: Collection[str] = (),
        officials: Sequence[int] = (1, 2),
    ) -> None:
        """A delegation of each of `codes`: its principal's rank one of `ranks` (a
        minister for `ministers`), its number of officials one of `officials`.

        Each is drawn, rank first, only where there is a choice: a single rank
        or count draws nothing, so the seed's later draws stay where they were.
        """
        for code in codes:
            rank = "minister" if code in ministers else self._one_of(ranks)
            self.add_delegation(code, rank, officials=self._one_of(officials))

    def _one_of(self, choices: Sequence[T]) -> T:
        return choices[0] if len(choices) == 1 else self.rng.choice(choices)

    def principal(self, code: str) -> Participant:
        return next(person for person in self.delegations[code].participants if person.principal)

    def officials(self, code: str) -> list[Participant]:
        return [person for person in self.delegations[code].participants if not person.principal]

    def update_principal(self, code: str, **fields: Any) -> None:
        """Replace fields of a delegation's principal (Structs are immutable in spirit)."""
        delegation = self.delegations[code]
        delegation.participants = [
            _replace(person, **fields) if person.principal else person for person in delegation.participants
        ]

    # --- places and programme ---------------------------------------------

    def add_venue(self, venue_id: str, name: str) -> None:
        self.venues.append(Venue(id=venue_id, name=name))

    def add_travel(self, first: str, second: str, minutes: int) -> None:
        self.travel.append(Travel(between=(first, second), minutes=minutes))

    def add_room(self, room_id: str, name: str, seats: int, venue: str | None = None, **fields: Any) -> None:
        self.rooms.append(Room(id=room_id, name=name, seats=seats, venue=venue, **fields))

    def add_rooms(self, venue: str, rooms: Iterable[RoomRow]) -> None:
        """Rooms of one venue, each (id, name, seats, features)."""
        for room_id, name, seats, features in rooms:
            self.add_room(room_id, name, seats, venue=venue, features=features)

    def add_interpreter_teams(self, teams: dict[str, str], capacity: dict[str, int] | None = None) -> None:
        """One resource per team of `teams` (language -> resource id), of capacity 1 unless `capacity` says."""
        for language, team in teams.items():
            self.add_resource(team, f"Interpreter team ({language})", (capacity or {}).get(language, 1))

    def add_resource(self, resource_id: str, name: str, capacity: int) -> None:
        self.resources[resource_id] = Resource(id=resource_id, name=name, capacity=capacity)

    def add_session(
        self,
        session_id: str,
        name: str,
        day: int,
        start: str,
        end: str,
        scope: SessionScope = "everyone",
        **fields: Any,
    ) -> None:
        self.sessions.append(
            ProgrammeSession(
                id=session_id, name=name, start=self.at(day, start), end=self.at(day, end), scope=scope, **fields
            )
        )

    # --- meetings ---------------------------------------------------------

    def add_meeting(
        self, delegations: Sequence[str], minutes: int, meeting_id: str | None = None, **fields: Any
    ) -> Meeting:
        """A meeting whose id is its delegations joined by '-', made unique by a suffix."""
        base = meeting_id or "-".join(delegations)
        unique, copy = base, 2
        while unique in self.meetings:
            unique, copy = f"{base}-{copy}", copy + 1
        fields.setdefault("title", _default_title(delegations))
        meeting = Meeting(id=unique, delegations=list(delegations), duration_minutes=minutes, **fields)
        self.meetings[unique] = meeting
        for person in self.attendees_of(meeting):
            self.load[person] += 1
        return meeting

    def attendees_of(self, meeting: Meeting) -> list[str]:
        if meeting.participants:
            return list(meeting.participants)
        return [self.principal(code).id for code in meeting.delegations]

    def has_pair(self, first: str, second: str) -> bool:
        return any({first, second} <= set(meeting.delegations) for meeting in self.meetings.values())

    def interpretation(
        self, codes: Iterable[str], teams: dict[str, str], speaks: dict[str, str] | None = None
    ) -> list[ResourceUse]:
        """Interpreter teams (language -> resource id) needed by a meeting of `codes`.

        `speaks` overrides a country's language where the forum's practice differs
        (a Surinamese minister speaks English at an inter-American meeting).
        """
        spoken = speaks or {}
        languages = sorted({spoken.get(code, COUNTRIES[code].language) for code in codes})
        if len(languages) < 2:
            return []
        return [ResourceUse(resource=teams[language]) for language in languages if language in teams]

    def meet(
        self,
        codes: Sequence[str],
        minutes: int,
        teams: dict[str, str] | None = None,
        speaks: dict[str, str] | None = None,
        **fields: Any,
    ) -> Meeting:
        """A principals' meeting with four seats per side; interpretation adds its team and booth."""
        resources = self.interpretation(codes, teams, speaks) if teams else []
        features = set(fields.pop("features", ()))
        if resources:
            features.add("interpretation")
        fields.setdefault("seats", 4 * len(codes))
        return self.add_meeting(codes, minutes, resources=resources, features=sorted(features), **fields)

    def random_pairs(
        self,
        pool: Sequence[str],
        count: int,
        cap: int | Callable[[str], int],
        weights: Sequence[float] | None = None,
        compatible: Callable[[str, str], bool] | None = None,
    ) -> list[tuple[str, str]]:
        """Up to `count` new pairs from `pool` whose principals stay under `cap` meetings.

        Pairs are drawn by weight; a pair already meeting, one whose principal is
        at the cap (a number, or one per delegation) or one that is not
        `compatible` is skipped, so busy delegations do not absorb every draw.
        """
        limit = cap if callable(cap) else (lambda _code: cap)
        chosen: list[tuple[str, str]] = []
        taken = {frozenset(meeting.delegations) for meeting in self.meetings.values() if len(meeting.delegations) == 2}
        load = Counter({code: self.load[self.principal(code).id] for code in pool})
        attempts = 0
        while len(chosen) < count and attempts < count * 50:
            attempts += 1
            first, second = self.rng.choices(pool, weights=weights, k=2)
            pair = frozenset((first, second))
            if first == second or pair in taken or load[first] >= limit(first) or load[second] >= limit(second):
                continue
            if compatible is not None and not compatible(first, second):
                continue
            taken.add(pair)
            load[first] += 1
            load[second] += 1
            chosen.append((first, second))
        return chosen

    # --- result -----------------------------------------------------------

    def built_by(self, *steps: Callable[[ScenarioBuilder], None]) -> Problem:
        """Run the scenario's steps (programme, places, delegations, meetings) in order."""
        for step in steps:
            step(self)
        return self.problem()

    def problem(self) -> Problem:
        forum = Forum(name=self.name, time_zone=self.time_zone, slot_minutes=self.slot_minutes, days=self.days)
        problem = Problem(
            forum=forum,
            rooms=self.rooms,
            delegations=list(self.delegations.values()),
            meetings=list(self.meetings.values()),
            sessions=self.sessions,
            venues=self.venues,
            travel=self.travel,
            resources=list(self.resources.values()),
            keep_apart=self.keep_apart,
        )
        for meeting in problem.meetings:
            assert attendees(problem, meeting), meeting.id
        return problem


def _default_title(delegations: Sequence[str]) -> str:
    names = [COUNTRIES[code].name for code in delegations]
    kind = {2: "Bilateral", 3: "Trilateral", 4: "Quadrilateral"}.get(len(names), "Meeting")
    return f"{kind}: {' – '.join(names)}"


def _replace(person: Participant, **fields: Any) -> Participant:
    return msgspec.structs.replace(person, **fields)
