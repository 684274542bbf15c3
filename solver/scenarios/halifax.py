"""Halifax International Security Forum: about 30 delegations and 50 meetings
in four rooms of one hotel, 15-minute slots, Friday to Sunday in November.

Canada hosts and Ukraine and the United States are in demand; the plenaries
take the principals for much of Saturday, so the rooms are busiest around them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from solver.model import Problem, Rank
from solver.scenarios.common import RoomRow, ScenarioBuilder

HOST = "CA"
IN_DEMAND = ("US", "UA", "GB")
OTHERS = (
    *("FR", "DE", "PL", "EE", "LV", "LT", "FI", "SE", "NO", "DK", "NL", "BE", "IT", "ES", "JP", "KR"),
    *("AU", "NZ", "PH", "IN", "IL", "GE", "MD", "RO", "CZ", "MX"),
)
INTERPRETER_TEAMS = {"fr": "interp-fr", "uk": "interp-uk", "ja": "interp-ja", "ko": "interp-ko"}
TARGET_MEETINGS = 50


def build(seed: int) -> Problem:
    forum = ScenarioBuilder(
        seed, "Halifax International Security Forum 2023", "America/Halifax", 15, date(2023, 11, 17)
    )
    return forum.built_by(_programme, _places, _delegations, _meetings)


def _programme(forum: ScenarioBuilder) -> None:
    forum.add_day("12:00", "19:00")
    forum.add_day("07:30", "19:00")
    forum.add_day("07:30", "12:30")
    forum.add_session("opening", "Opening reception and dinner", 0, "18:00", "21:00")
    forum.add_session("plenary-1", "Plenary: Ukraine", 1, "08:30", "10:00", "principals")
    forum.add_session("plenary-2", "Plenary: the Indo-Pacific", 1, "10:30", "12:00", "principals")
    forum.add_session("lunch", "Working lunch plenary", 1, "12:00", "13:15")
    forum.add_session("plenary-3", "Plenary: democracy and security", 1, "15:00", "16:15", "principals")
    forum.add_session("closing", "Closing plenary", 2, "09:00", "10:15", "principals")


def _places(forum: ScenarioBuilder) -> None:
    forum.add_venue("westin", "The Westin Nova Scotian")
    rooms: tuple[RoomRow, ...] = (
        ("hfx-1", "Harbour Room", 8, []),
        ("hfx-2", "Citadel Room", 10, ["interpretation"]),
        ("hfx-3", "Atlantic Room", 12, ["interpretation"]),
        ("hfx-4", "Secure Room, Nova Scotia Suite", 12, ["secure"]),
    )
    forum.add_rooms("westin", rooms)
    forum.add_interpreter_teams(INTERPRETER_TEAMS)


def _delegations(forum: ScenarioBuilder) -> None:
    forum.add_delegation(HOST, "minister", officials=2, portfolio="National Defence")
    for code in IN_DEMAND:
        forum.add_delegation(code, "minister", officials=2, buffer_minutes=15)
    ranks: tuple[Rank, ...] = ("minister", "minister", "deputy_minister", "chief_of_defence")
    forum.add_delegations(OTHERS, ranks, officials=(1,))
    late, early = forum.rng.sample(OTHERS, 2)
    forum.update_principal(late, arrival=forum.at(1, "07:00"))  # misses Friday
    forum.update_principal(early, departure=forum.at(1, "16:30"))
    forum.update_principal("US", blocked=[forum.window(1, "13:15", "14:00")])  # press gaggle


def _meetings(forum: ScenarioBuilder) -> None:
    teams = INTERPRETER_TEAMS
    forum.meet(("CA", "US"), 45, teams, priority="must", features=["secure"])
    forum.meet(("CA", "UA"), 45, teams, priority="must")
    forum.meet(("CA", "US", "UA"), 60, teams, priority="high", title="Trilateral on support to Ukraine")
    for code in forum.rng.sample(OTHERS, 8):
        forum.meet((HOST, code), forum.minutes(30, 45), teams, priority=forum.rng.choice(("high", "normal")))
    for code in ("US", "GB"):
        forum.meet(("UA", code), 30, teams, priority="high")
    pool = [*IN_DEMAND, *OTHERS]
    weights = [5.0 if code in IN_DEMAND else 1.0 for code in pool]
    wanted = TARGET_MEETINGS - len(forum.meetings)
    for first, second in forum.random_pairs(pool, wanted, cap=9, weights=weights):
        priority = forum.rng.choice(("high", "normal", "normal", "low"))
        fields: dict[str, Any] = {"priority": priority}
        if forum.rng.random() < 0.15:
            fields["preferred"] = [forum.window(1, "13:15", "19:00")]
        forum.meet((first, second), forum.minutes(30, 45), teams, **fields)
