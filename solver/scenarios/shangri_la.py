"""Shangri-La Dialogue, Singapore: 54 delegations, about 120 meetings over a
Friday afternoon, a full Saturday and a Sunday morning.

The US secretary has 16 meetings (two at the US embassy, a trilateral pair and
the quad), the Singapore minister meets about ten delegations a day, and two
ministers who are never in Singapore together ask to meet, so that one meeting
is unplaceable for an obvious reason.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from solver.model import KeepApart, Problem, Window
from solver.scenarios.common import RoomRow, ScenarioBuilder

HOST = "SG"
CORE = ("US", "CN", "JP", "AU", "IN", "KR", "PH", "VN", "ID", "MY", "TH", "GB", "FR", "DE", "NZ", "CA")
OTHERS = (
    *("BN", "KH", "LA", "TL", "PG", "FJ", "TO", "VU", "LK", "BD", "PK", "NP", "MN", "MV", "NL", "IT", "ES"),
    *("SE", "NO", "DK", "PL", "UA", "CZ", "TR", "AE", "SA", "QA", "BR", "CL", "MX", "ZA", "KE", "GR", "FI"),
    *("BE", "EE", "LT"),
)
US_MUST_MEET = ("SG", "CN", "JP", "AU", "PH", "IN", "KR")
US_MAY_MEET = ("VN", "ID", "MY", "TH", "GB", "FR", "NZ", "CA", "KH", "TL", "PG", "FJ")
INTERPRETER_TEAMS = {
    "zh": "interp-zh",
    "ja": "interp-ja",
    "ko": "interp-ko",
    "vi": "interp-vi",
    "fr": "interp-fr",
    "id": "interp-id",
    "th": "interp-th",
}
TARGET_MEETINGS = 120
OFFICIALS_MEETINGS = 8
BUSY_LOAD = 8  # principals with this many meetings get a 10-minute buffer


def build(seed: int) -> Problem:
    forum = ScenarioBuilder(seed, "Shangri-La Dialogue 2024", "Asia/Singapore", 10, date(2024, 5, 31))
    _programme(forum)
    _places(forum)
    _delegations(forum)
    _us_secretary(forum)
    _host_bilaterals(forum)
    _other_meetings(forum)
    _officials_meetings(forum)
    _constraints(forum)
    return forum.problem()


def _programme(forum: ScenarioBuilder) -> None:
    forum.add_day("13:00", "19:00")  # Friday: arrivals, then the opening dinner
    forum.add_day("07:30", "19:30")
    forum.add_day("07:30", "13:00")
    forum.add_session("opening-dinner", "Opening dinner and keynote address", 0, "18:30", "21:30")
    forum.add_session("plenary-1", "First plenary session", 1, "09:00", "10:30", "principals")
    forum.add_session("plenary-2", "Second plenary session", 1, "11:30", "12:40", "principals")
    forum.add_session("photo-lunch", "Official photograph and delegates' lunch", 1, "12:40", "13:20")
    forum.add_session("plenary-4", "Fourth plenary session", 2, "09:00", "10:20", "principals")
    forum.add_session("plenary-5", "Fifth plenary session", 2, "10:50", "12:00", "principals")


def _places(forum: ScenarioBuilder) -> None:
    forum.add_venue("hotel", "Shangri-La Hotel")
    forum.add_venue("us-embassy", "Embassy of the United States, Napier Road")
    forum.add_travel("hotel", "us-embassy", 25)
    rooms: tuple[RoomRow, ...] = (
        ("sl-1", "Bilateral Room 1, Tower Wing", 8, []),
        ("sl-2", "Bilateral Room 2, Tower Wing", 8, ["interpretation"]),
        ("sl-3", "Bilateral Room 3, Garden Wing", 10, []),
        ("sl-4", "Bilateral Room 4, Garden Wing", 12, ["interpretation"]),
        ("sl-5", "Bilateral Room 5, Valley Wing", 14, ["interpretation"]),
        ("sl-6", "Secure Room, Horizon Club", 16, ["interpretation", "secure"]),
    )
    forum.add_rooms("hotel", rooms)
    # Breakfast set-up keeps one room closed early on Saturday.
    forum.rooms[2].unavailable = [forum.window(1, "07:30", "08:30")]
    forum.add_room(
        "emb-1", "Ambassador's conference room", 12, venue="us-embassy", features=["interpretation", "secure"]
    )
    forum.add_interpreter_teams(INTERPRETER_TEAMS, capacity={"ja": 2})


def _delegations(forum: ScenarioBuilder) -> None:
    forum.add_delegation(HOST, "minister", officials=2, max_meetings_per_day=12)
    forum.add_delegations(CORE)
    forum.add_delegations(OTHERS, ("minister", "minister", "minister", "deputy_minister", "chief_of_defence"))


def _meet(forum: ScenarioBuilder, codes: tuple[str, ...], minutes: int, **fields: Any) -> None:
    """A principals' meeting: bilaterals seat three or four a side, larger formats more."""
    seats = {2: forum.rng.choice((6, 8)), 3: 12}.get(len(codes), 16)
    forum.meet(codes, minutes, INTERPRETER_TEAMS, seats=seats, **fields)


def _us_secretary(forum: ScenarioBuilder) -> None:
    optional = forum.rng.sample(US_MAY_MEET, 6)
    at_embassy = set(optional[:2])  # held at the embassy for security reasons
    for code in (*US_MUST_MEET, *optional):
        fields: dict[str, object] = {"priority": "high"}
        if code in at_embassy:
            fields["venues"] = ["us-embassy"]
        if code == "CN":
            fields["priority"] = "must"
        if code == HOST:
            # Agreed months ahead: the host's courtesy call on Saturday morning.
            fields.update(priority="must", pinned_start=forum.at(1, "10:30"), pinned_room="sl-6")
        _meet(forum, ("US", code), 40 if code in ("CN", HOST) else forum.minutes(20, 30), **fields)
    _meet(forum, ("US", "JP", "AU"), 60, priority="high", title="Trilateral Defence Ministers' Meeting")
    _meet(forum, ("US", "GB", "AU"), 40, priority="high", features=["secure"], title="AUKUS Defence Ministers")
    forum.add_meeting(
        ("US", "JP", "AU", "PH"),
        60,
        meeting_id="US-JP-AU-PH-prep",
        participants=[forum.officials(code)[0].id for code in ("US", "JP", "AU", "PH")],
        title="Quad ministerial: officials' preparatory meeting",
        priority="must",  # the quad cannot go ahead unprepared
        seats=8,
    )
    _meet(
        forum,
        ("US", "JP", "AU", "PH"),
        60,
        priority="must",
        features=["secure"],
        after=["US-JP-AU-PH-prep"],
        title="Quadrilateral Defence Ministers' Meeting",
    )


def _host_bilaterals(forum: ScenarioBuilder) -> None:
    partners = [code for code in CORE if code != "US"]
    partners += forum.rng.sample(OTHERS, 27 - len(partners))
    for code in partners:
        priority = "high" if code in CORE else forum.rng.choice(("normal", "normal", "low"))
        _meet(forum, (HOST, code), forum.minutes(20, 30), priority=priority)


def _other_meetings(forum: ScenarioBuilder) -> None:
    _meet(forum, ("AU", "NZ", "PG"), 40, title="Pacific security trilateral")
    _meet(forum, ("FR", "GB", "DE"), 40, title="European defence ministers")
    pool = [code for code in (*CORE, *OTHERS) if code != "US"]
    weights = [4.0 if code in CORE else 1.0 for code in pool]
    wanted = TARGET_MEETINGS - OFFICIALS_MEETINGS - len(forum.meetings)
    for first, second in forum.random_pairs(pool, wanted, cap=10, weights=weights):
        priority = forum.rng.choice(("high", "normal", "normal", "normal", "low"))
        fields: dict[str, object] = {"priority": priority}
        if forum.rng.random() < 0.1:
            fields["preferred"] = [forum.window(1, "13:20", "19:30")]  # Saturday afternoon, after the plenaries
        _meet(forum, (first, second), forum.minutes(20, 30), **fields)


def _officials_meetings(forum: ScenarioBuilder) -> None:
    """Officials' talks, which can run while the principals sit in the plenaries."""
    pool = [code for code in CORE if code != "US"]
    while len(forum.meetings) < TARGET_MEETINGS:
        first, second = forum.rng.sample(pool, 2)
        people = [forum.officials(first)[0].id, forum.officials(second)[0].id]
        forum.add_meeting(
            (first, second),
            forum.minutes(30, 40),
            meeting_id=f"{first}-{second}-officials",
            participants=people,
            title=f"Officials' talks {first}–{second}",
            priority="low",
            preferred=[forum.window(1, "09:00", "12:40")],
        )


def _constraints(forum: ScenarioBuilder) -> None:
    """Arrivals, departures, blocked windows, buffers and limits, then the impossible pair."""
    for code in CORE:  # the host goes unbuffered, or ten bilaterals a day would not fit
        if forum.load[forum.principal(code).id] >= BUSY_LOAD:
            forum.update_principal(code, buffer_minutes=10)
    forum.update_principal("US", blocked=[Window(forum.at(1, "17:30"), forum.at(1, "18:10"))])  # press availability
    quiet = [code for code in OTHERS if forum.load[forum.principal(code).id] <= 3]
    leaver, arriver, late, early, limited = forum.rng.sample(quiet, 5)
    forum.update_principal(leaver, departure=forum.at(1, "12:00"))
    forum.update_principal(arriver, arrival=forum.at(1, "14:00"))
    forum.update_principal(late, arrival=forum.at(0, "16:00"))
    forum.update_principal(early, departure=forum.at(2, "10:00"))
    forum.update_principal(limited, max_meetings_per_day=2, blocked=[forum.window(1, "13:20", "15:00")])
    for code in forum.rng.sample([c for c in CORE if c not in ("US", "CN")], 2):
        forum.update_principal(code, max_meetings_per_day=5, blocked=[forum.window(0, "13:00", "14:00")])
    # Never in Singapore at the same time: this request cannot be met.
    _meet(forum, (leaver, arriver), 30, priority="normal", title="Bilateral requested late by both offices")
    forum.keep_apart.append(KeepApart(delegations=("CN", "PH")))
