"""ADMM-Plus, Vientiane: the ten ASEAN members and their eight dialogue
partners over two days, about 40 meetings including several trilaterals.

Day one opens with the ASEAN-only ADMM retreat (a session listing the ASEAN
principals), so the Plus ministers meet one another that morning.
"""

from __future__ import annotations

from datetime import date

from solver.model import Problem
from solver.scenarios.common import RoomRow, ScenarioBuilder

HOST = "LA"
ASEAN = ("BN", "KH", "ID", "LA", "MY", "MM", "PH", "SG", "TH", "VN")
PLUS = ("AU", "CN", "IN", "JP", "NZ", "KR", "RU", "US")
TRILATERALS = (("US", "JP", "AU"), ("US", "JP", "PH"), ("JP", "AU", "PH"), ("US", "JP", "KR"), ("AU", "IN", "ID"))
INTERPRETER_TEAMS = {"zh": "interp-zh", "ru": "interp-ru", "ja": "interp-ja", "ko": "interp-ko", "vi": "interp-vi"}
TARGET_MEETINGS = 40


def build(seed: int) -> Problem:
    forum = ScenarioBuilder(seed, "11th ADMM-Plus", "Asia/Vientiane", 15, date(2024, 11, 20))
    return forum.built_by(_programme, _places, _delegations, _meetings)


def _programme(forum: ScenarioBuilder) -> None:
    forum.add_day("08:00", "19:00")
    forum.add_day("08:00", "18:00")
    forum.add_session("admm", "18th ADMM Retreat (ASEAN ministers)", 0, "09:00", "12:00", "listed")
    forum.add_session("gala", "Gala dinner", 0, "18:30", "21:00")
    forum.add_session("admm-plus", "11th ADMM-Plus plenary", 1, "09:00", "12:30", "principals")
    forum.add_session("photo", "Family photograph and lunch", 1, "12:30", "13:30")


def _places(forum: ScenarioBuilder) -> None:
    forum.add_venue("nccv", "National Convention Centre, Vientiane")
    rooms: tuple[RoomRow, ...] = (
        ("admm-1", "Bilateral Room Champa", 8, []),
        ("admm-2", "Bilateral Room Mekong", 10, ["interpretation"]),
        ("admm-3", "Bilateral Room That Luang", 12, ["interpretation"]),
        ("admm-4", "Secure Room Phou Bia", 14, ["interpretation", "secure"]),
    )
    forum.add_rooms("nccv", rooms)
    forum.add_interpreter_teams(INTERPRETER_TEAMS)


def _delegations(forum: ScenarioBuilder) -> None:
    forum.add_delegations((*ASEAN, *PLUS), ("minister", "deputy_minister"), ministers=(HOST, *PLUS))
    forum.sessions[0].participants = [forum.principal(code).id for code in ASEAN]
    early = forum.rng.choice(("RU", "IN", "NZ"))
    forum.update_principal(early, departure=forum.at(1, "15:00"))
    forum.update_principal("US", buffer_minutes=15)


def _meetings(forum: ScenarioBuilder) -> None:
    teams = INTERPRETER_TEAMS
    for codes in TRILATERALS:
        forum.meet(codes, 45, teams, priority="high", features=["secure"] if "US" in codes else [])
    for code in forum.rng.sample(PLUS, 6):
        forum.meet((HOST, code), 30, teams, priority="high")
    pool = [*ASEAN, *PLUS]
    weights = [3.0 if code in PLUS else 1.0 for code in pool]
    wanted = TARGET_MEETINGS - len(forum.meetings)
    for first, second in forum.random_pairs(pool, wanted, cap=8, weights=weights):
        priority = forum.rng.choice(("high", "normal", "normal", "low"))
        forum.meet((first, second), forum.minutes(30, 45), teams, priority=priority)
