"""Conference of Defence Ministers of the Americas (XVI CDMA, Mendoza): all 34
member states, the host minister meets each of the other 33, plus about twenty
other bilaterals, with Spanish, English, Portuguese and French interpretation.
"""

from __future__ import annotations

from datetime import date

from solver.model import Problem, Rank
from solver.scenarios.common import RoomRow, ScenarioBuilder

HOST = "AR"
MEMBERS = (
    *("AG", "AR", "BS", "BB", "BZ", "BO", "BR", "CA", "CL", "CO", "CR", "DM", "DO", "EC", "SV", "GD", "GT"),
    *("GY", "HT", "HN", "JM", "MX", "NI", "PA", "PY", "PE", "KN", "LC", "VC", "SR", "TT", "US", "UY", "VE"),
)
# Interpretation from and into Spanish, the host's language; the English team
# also covers English-Portuguese and English-French pairs.
INTERPRETER_TEAMS = {"en": "interp-en", "pt": "interp-pt", "fr": "interp-fr"}
SPEAKS = {"SR": "en"}  # Suriname's minister works in English at the CDMA
LARGER = ("US", "BR", "CA", "MX", "CO", "CL", "PE")
OTHER_BILATERALS = 20


def build(seed: int) -> Problem:
    forum = ScenarioBuilder(
        seed, "XVI Conference of Defence Ministers of the Americas", "America/Argentina/Mendoza", 10, date(2024, 10, 9)
    )
    return forum.built_by(_programme, _places, _delegations, _meetings)


def _programme(forum: ScenarioBuilder) -> None:
    for _ in range(3):
        forum.add_day("08:00", "19:00")
    forum.add_session("opening", "Opening ceremony", 0, "09:00", "10:30")
    forum.add_session("plenary-1", "First plenary: hemispheric security", 0, "14:00", "16:00", "principals")
    forum.add_session("plenary-2", "Second plenary: disaster response", 1, "09:00", "12:00", "principals")
    forum.add_session("plenary-3", "Closing plenary and Declaration of Mendoza", 2, "09:00", "11:00", "principals")
    forum.add_session("signing", "Signing of the Declaration and family photograph", 2, "11:30", "12:30")


def _places(forum: ScenarioBuilder) -> None:
    forum.add_venue("conference", "Centro de Congresos y Exposiciones, Mendoza")
    rooms: tuple[RoomRow, ...] = (
        ("cdma-1", "Sala Aconcagua", 10, ["interpretation"]),
        ("cdma-2", "Sala Tupungato", 10, ["interpretation"]),
        ("cdma-3", "Sala Malbec", 8, ["interpretation"]),
        ("cdma-4", "Sala Uco", 8, []),
        ("cdma-5", "Sala Cuyo", 12, ["interpretation", "secure"]),
    )
    forum.add_rooms("conference", rooms)
    forum.add_resource("interp-en", "Interpreter team Spanish-English", 2)
    forum.add_resource("interp-pt", "Interpreter team Spanish-Portuguese", 1)
    forum.add_resource("interp-fr", "Interpreter team Spanish-French", 1)


def _delegations(forum: ScenarioBuilder) -> None:
    ranks: tuple[Rank, ...] = ("minister", "minister", "minister", "deputy_minister", "chief_of_defence")
    forum.add_delegations(MEMBERS, ranks, ministers=(HOST, *LARGER))
    forum.update_principal(HOST, max_meetings_per_day=14)
    small = [code for code in MEMBERS if code not in (HOST, *LARGER)]
    late, early, blocked = forum.rng.sample(small, 3)
    forum.update_principal(late, arrival=forum.at(1, "12:00"))
    forum.update_principal(early, departure=forum.at(1, "19:00"))
    forum.update_principal(blocked, blocked=[forum.window(0, "16:00", "19:00")])  # visit to a local unit


def _meetings(forum: ScenarioBuilder) -> None:
    for code in MEMBERS:
        if code != HOST:
            priority = "must" if code in LARGER else forum.rng.choice(("high", "normal"))
            forum.meet((HOST, code), 20, INTERPRETER_TEAMS, SPEAKS, priority=priority, seats=6)
    pool = [code for code in MEMBERS if code != HOST]
    weights = [4.0 if code in LARGER else 1.0 for code in pool]
    for first, second in forum.random_pairs(pool, OTHER_BILATERALS, cap=5, weights=weights):
        priority = forum.rng.choice(("high", "normal", "normal", "low"))
        forum.meet((first, second), forum.minutes(20, 30), INTERPRETER_TEAMS, SPEAKS, priority=priority, seats=8)
