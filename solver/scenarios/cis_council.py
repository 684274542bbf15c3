"""Council of Ministers of Defence of the CIS, Moscow: one long council
session that blocks everyone on the second day, and about twenty bilaterals
around it. The working language is Russian; ministers who speak another
language bring the meeting a Russian interpreter team."""

from __future__ import annotations

from datetime import date

from solver.model import Problem
from solver.scenarios.common import RoomRow, ScenarioBuilder

HOST = "RU"
MEMBERS = ("RU", "BY", "KZ", "KG", "TJ", "AM", "AZ", "UZ", "TM")
INTERPRETER_TEAMS = {language: "interp-ru" for language in ("hy", "az", "uz")}
BILATERALS = 20


def build(seed: int) -> Problem:
    forum = ScenarioBuilder(seed, "Council of Ministers of Defence of the CIS", "Europe/Moscow", 15, date(2024, 11, 27))
    return forum.built_by(_programme, _places, _delegations, _meetings)


def _programme(forum: ScenarioBuilder) -> None:
    forum.add_day("09:00", "19:00")
    forum.add_day("08:30", "18:00")
    forum.add_session("wreath", "Wreath-laying at the Tomb of the Unknown Soldier", 0, "09:00", "10:00", "principals")
    forum.add_session("reception", "Reception by the Minister of Defence", 0, "18:30", "21:00")
    forum.add_session("council", "Meeting of the Council of Ministers of Defence", 1, "10:00", "14:00")


def _places(forum: ScenarioBuilder) -> None:
    forum.add_venue("ndmc", "National Defence Management Centre")
    rooms: tuple[RoomRow, ...] = (
        ("cis-1", "Bilateral hall 1", 12, ["interpretation", "secure"]),
        ("cis-2", "Bilateral hall 2", 10, ["interpretation"]),
        ("cis-3", "Bilateral hall 3", 8, []),
    )
    forum.add_rooms("ndmc", rooms)
    forum.add_resource("interp-ru", "Russian interpreter team", 2)


def _delegations(forum: ScenarioBuilder) -> None:
    forum.add_delegations(MEMBERS)
    late = forum.rng.choice([code for code in MEMBERS if code != HOST])
    forum.update_principal(late, arrival=forum.at(0, "14:00"))
    forum.update_principal(HOST, buffer_minutes=15)


def _meetings(forum: ScenarioBuilder) -> None:
    for code in MEMBERS:
        if code != HOST:
            forum.meet((HOST, code), forum.minutes(30, 45), INTERPRETER_TEAMS, priority="high", seats=8)
    pool = [code for code in MEMBERS if code != HOST]
    wanted = BILATERALS - len(forum.meetings)
    for first, second in forum.random_pairs(pool, wanted, cap=5):
        priority = forum.rng.choice(("normal", "normal", "low"))
        forum.meet((first, second), forum.minutes(30, 45), INTERPRETER_TEAMS, priority=priority, seats=8)
