"""The independent validator: each hard rule broken and kept, each objective term
computed by hand."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from typing import Any

import msgspec
import pytest

from solver.check import check_problem
from solver.model import (
    KeepApart,
    Meeting,
    ObjectiveSettings,
    PreviousPlacement,
    Problem,
    ProgrammeSession,
    Resource,
    ResourceUse,
    SessionScope,
    Travel,
    Venue,
    Weights,
    Window,
)
from solver.result import Placement, Schedule, Unplaced
from solver.validate import Report, breaks_by_participant, validate
from tests.builders import at, delegation, forum, meeting, person, place, problem, room, schedule, window

# One principal per delegation; meetings are bilaterals named "aus-jpn" etc.
PRINCIPALS = {"aus": "marles", "jpn": "hamada", "sgp": "ng", "ind": "singh"}


def bilateral(first: str, second: str, minutes: int = 30, **fields: Any) -> Meeting:
    return meeting(f"{first}-{second}", [first, second], minutes, **fields)


def four_nations(*meetings: Meeting, people: dict[str, dict[str, Any]] | None = None, **fields: Any) -> Problem:
    """AUS, JPN, SGP and IND, rooms R1 and R2, 09:00-13:00 in 15-minute slots unless told otherwise."""
    settings = people or {}
    delegations = [delegation(d, person(p, **settings.get(p, {}))) for d, p in PRINCIPALS.items()]
    fields.setdefault("rooms", [room("R1"), room("R2")])
    built = problem(delegations, list(meetings), **fields)
    assert check_problem(built) == []  # the hand-made case itself is a valid problem
    return built


def validated(built: Problem, *placements: Placement) -> Report:
    return validate(built, schedule(built, *placements))


def only(report: Report, rule: str) -> None:
    """The report finds `rule` broken and nothing else."""
    assert report.broken == {rule}, report.violations
    assert not report.ok


# ---------------------------------------------------------------- grid


def test_grid_kept_by_a_meeting_on_a_slot_start() -> None:
    built = four_nations(bilateral("aus", "jpn"))
    assert validated(built, place(built, "aus-jpn", "12:30")).ok


def test_grid_off_slot_start() -> None:
    built = four_nations(bilateral("aus", "jpn"))
    report = validated(built, place(built, "aus-jpn", "09:05"))
    only(report, "grid")
    assert report.violations[0].meetings == ["aus-jpn"]
    assert "09:05" in report.violations[0].message


def test_grid_past_the_end_of_the_day() -> None:
    built = four_nations(bilateral("aus", "jpn"))
    only(validated(built, place(built, "aus-jpn", "12:45")), "grid")  # 12:45 + 30 min > 13:00


def test_grid_across_the_night_is_not_one_day() -> None:
    built = four_nations(bilateral("aus", "jpn"), forum=forum(days=2, start="09:00", end="09:30"))
    # 09:15 is a slot start on day one, but 30 minutes from it leave the day's grid.
    only(validated(built, place(built, "aus-jpn", "09:15")), "grid")


def test_grid_wrong_end() -> None:
    built = four_nations(bilateral("aus", "jpn"))
    placement = place(built, "aus-jpn", "09:00")
    stretched = msgspec.structs.replace(placement, end=at("09:45"))
    only(validated(built, stretched), "grid")


def test_aware_times_are_read_in_the_forum_zone() -> None:
    built = four_nations(bilateral("aus", "jpn"))
    # 01:00 UTC is 09:00 in Singapore, a slot start.
    start = datetime.fromisoformat("2023-06-02T01:00:00+00:00")
    end = datetime.fromisoformat("2023-06-02T01:30:00+00:00")
    assert validated(built, Placement("aus-jpn", start, end, "R1")).ok


# ---------------------------------------------------------------- overlaps


def test_participant_overlap_broken() -> None:
    built = four_nations(bilateral("aus", "jpn"), bilateral("aus", "sgp"))
    report = validated(built, place(built, "aus-jpn", "09:00", "R1"), place(built, "aus-sgp", "09:15", "R2"))
    only(report, "participant_overlap")
    violation = report.violations[0]
    assert violation.meetings == ["aus-jpn", "aus-sgp"]
    assert "Marles" in violation.message
    assert "Friday 09:15" in violation.message


def test_participant_overlap_kept_back_to_back() -> None:
    built = four_nations(bilateral("aus", "jpn"), bilateral("aus", "sgp"))
    assert validated(built, place(built, "aus-jpn", "09:00", "R1"), place(built, "aus-sgp", "09:30", "R2")).ok


def test_participant_overlap_counts_listed_participants_not_principals() -> None:
    aus = delegation("aus", person("marles"), person("moriarty", principal=False))
    jpn = delegation("jpn", person("hamada"))
    sgp = delegation("sgp", person("ng"))
    officials = meeting("officials", ["aus", "jpn"], 30, participants=["moriarty", "hamada"])
    ministers = meeting("ministers", ["aus", "sgp"], 30)  # principals: marles and ng
    built = problem([aus, jpn, sgp], [officials, ministers], rooms=[room("R1"), room("R2")])
    both = validated(built, place(built, "officials", "09:00", "R1"), place(built, "ministers", "09:00", "R2"))
    assert both.ok  # Moriarty attends one, Marles the other


def test_room_overlap_broken() -> None:
    built = four_nations(bilateral("aus", "jpn"), bilateral("sgp", "ind"))
    report = validated(built, place(built, "aus-jpn", "09:00", "R1"), place(built, "sgp-ind", "09:15", "R1"))
    only(report, "room_overlap")
    assert "Room R1" in report.violations[0].message


def test_room_overlap_kept_in_two_rooms() -> None:
    built = four_nations(bilateral("aus", "jpn"), bilateral("sgp", "ind"))
    assert validated(built, place(built, "aus-jpn", "09:00", "R1"), place(built, "sgp-ind", "09:15", "R2")).ok


# ---------------------------------------------------------------- resources


def interpreted(amount: int, capacity: int) -> Problem:
    uses = [ResourceUse("interpreters", amount)]
    return four_nations(
        bilateral("aus", "jpn", resources=uses),
        bilateral("sgp", "ind", resources=uses),
        resources=[Resource("interpreters", "Interpreter team", capacity)],
    )


def test_resource_capacity_broken() -> None:
    built = interpreted(amount=2, capacity=3)  # 2 + 2 at 09:15 > 3
    report = validated(built, place(built, "aus-jpn", "09:00", "R1"), place(built, "sgp-ind", "09:15", "R2"))
    only(report, "resource_capacity")
    assert sorted(report.violations[0].meetings) == ["aus-jpn", "sgp-ind"]


def test_resource_capacity_kept_when_meetings_follow_each_other() -> None:
    built = interpreted(amount=2, capacity=3)
    assert validated(built, place(built, "aus-jpn", "09:00", "R1"), place(built, "sgp-ind", "09:30", "R2")).ok


def test_resource_capacity_kept_when_the_capacity_suffices() -> None:
    built = interpreted(amount=2, capacity=4)
    assert validated(built, place(built, "aus-jpn", "09:00", "R1"), place(built, "sgp-ind", "09:15", "R2")).ok


# ---------------------------------------------------------------- availability and sessions

AVAILABILITY: dict[str, tuple[dict[str, datetime | list[Window]], str, str]] = {
    "arrival": ({"arrival": at("10:00")}, "09:45", "10:00"),
    "departure": ({"departure": at("10:00")}, "09:45", "09:30"),
    "blocked": ({"blocked": [window("10:00", "10:30")]}, "09:45", "10:30"),
}


@pytest.mark.parametrize("case", AVAILABILITY, ids=list(AVAILABILITY))
def test_availability(case: str) -> None:
    fields, breaking, keeping = AVAILABILITY[case]
    built = four_nations(bilateral("aus", "jpn"), people={"hamada": fields})
    report = validated(built, place(built, "aus-jpn", breaking))
    only(report, "availability")
    assert "Hamada" in report.violations[0].message
    assert validated(built, place(built, "aus-jpn", keeping)).ok


def plenary(scope: SessionScope, listed: tuple[str, ...] = ()) -> ProgrammeSession:
    return ProgrammeSession(
        "plenary", "First plenary", at("10:00"), at("11:00"), scope=scope, participants=list(listed)
    )


def session_problem(session: ProgrammeSession) -> Problem:
    aus = delegation("aus", person("marles"), person("moriarty", principal=False))
    jpn = delegation("jpn", person("hamada"), person("masuda", principal=False))
    officials = meeting("officials", ["aus", "jpn"], 30, participants=["moriarty", "masuda"])
    built = problem([aus, jpn], [officials], sessions=[session])
    assert check_problem(built) == []
    return built


@pytest.mark.parametrize(
    ("session", "blocks"),
    [
        (plenary("everyone"), True),
        (plenary("principals"), False),
        (plenary("principals", ("masuda",)), True),
        (plenary("listed", ("moriarty",)), True),
        (plenary("listed", ("marles",)), False),
    ],
    ids=["everyone", "principals only", "principals and a listed official", "listed", "someone else listed"],
)
def test_session_blocks_by_scope(session: ProgrammeSession, blocks: bool) -> None:
    built = session_problem(session)
    report = validated(built, place(built, "officials", "10:30"))
    assert report.broken == ({"session"} if blocks else set())


def test_session_kept_outside_its_time() -> None:
    built = session_problem(plenary("everyone"))
    assert validated(built, place(built, "officials", "09:30")).ok  # ends 10:00 as the plenary starts


def test_room_unavailable_broken_and_kept() -> None:
    built = four_nations(bilateral("aus", "jpn"), rooms=[room("R1", unavailable=[window("09:00", "10:00")])])
    only(validated(built, place(built, "aus-jpn", "09:45")), "room_unavailable")
    assert validated(built, place(built, "aus-jpn", "10:00")).ok


# ---------------------------------------------------------------- room fit

# Any: a meeting's and a room's fields of several types, passed on as keywords
ROOM_FIT: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "too few seats for the attendees": ({}, {"seats": 1}),
    "too few seats for the requested seats": ({"seats": 6}, {"seats": 5}),
    "missing feature": ({"features": ["secure", "video"]}, {"features": ["video"]}),
    "wrong venue": ({"venues": ["shangri-la"]}, {"venue": "fullerton"}),
}
VENUES = [Venue("shangri-la", "Shangri-La Hotel"), Venue("fullerton", "Fullerton Hotel")]


@pytest.mark.parametrize("case", ROOM_FIT, ids=list(ROOM_FIT))
def test_room_fit_broken(case: str) -> None:
    meeting_fields, room_fields = ROOM_FIT[case]
    built = four_nations(bilateral("aus", "jpn", **meeting_fields), rooms=[room("R1", **room_fields)], venues=VENUES)
    only(validated(built, place(built, "aus-jpn", "09:00")), "room_fit")


def test_room_fit_kept() -> None:
    demands = bilateral("aus", "jpn", seats=6, features=["secure"], venues=["shangri-la"])
    suits = room("R1", seats=6, features=["secure", "video"], venue="shangri-la")
    built = four_nations(demands, rooms=[suits], venues=VENUES)
    assert validated(built, place(built, "aus-jpn", "09:00")).ok


def test_room_fit_counts_two_attendees_by_default() -> None:
    built = four_nations(bilateral("aus", "jpn"), rooms=[room("R1", seats=2)])
    assert validated(built, place(built, "aus-jpn", "09:00")).ok


# ---------------------------------------------------------------- window, pin, precedence


def test_window_broken_by_an_early_start_and_a_late_end() -> None:
    built = four_nations(bilateral("aus", "jpn", earliest=at("10:00"), latest=at("11:00")))
    only(validated(built, place(built, "aus-jpn", "09:45")), "window")
    only(validated(built, place(built, "aus-jpn", "10:45")), "window")  # ends 11:15


def test_window_kept_at_its_edges() -> None:
    built = four_nations(bilateral("aus", "jpn", 60, earliest=at("10:00"), latest=at("11:00")))
    assert validated(built, place(built, "aus-jpn", "10:00")).ok


def test_pinned_start_and_room() -> None:
    built = four_nations(bilateral("aus", "jpn", pinned_start=at("10:00"), pinned_room="R2"))
    only(validated(built, place(built, "aus-jpn", "10:15", "R2")), "pinned")
    only(validated(built, place(built, "aus-jpn", "10:00", "R1")), "pinned")
    assert validated(built, place(built, "aus-jpn", "10:00", "R2")).ok


def test_precedence() -> None:
    built = four_nations(bilateral("aus", "jpn"), bilateral("sgp", "ind", after=["aus-jpn"]))
    early = validated(built, place(built, "aus-jpn", "09:00", "R1"), place(built, "sgp-ind", "09:15", "R2"))
    only(early, "precedence")
    assert early.violations[0].meetings == ["aus-jpn", "sgp-ind"]
    assert validated(built, place(built, "aus-jpn", "09:00", "R1"), place(built, "sgp-ind", "09:30", "R2")).ok


def test_precedence_ignored_when_the_earlier_meeting_is_not_held() -> None:
    built = four_nations(bilateral("aus", "jpn"), bilateral("sgp", "ind", after=["aus-jpn"]))
    assert validated(built, place(built, "sgp-ind", "09:00")).ok


# ---------------------------------------------------------------- buffer and travel


def test_buffer() -> None:
    built = four_nations(bilateral("aus", "jpn"), bilateral("aus", "sgp"), people={"marles": {"buffer_minutes": 15}})
    tight = validated(built, place(built, "aus-jpn", "09:00", "R1"), place(built, "aus-sgp", "09:30", "R2"))
    only(tight, "buffer")
    assert "Marles needs 15 minutes between" in tight.violations[0].message
    assert validated(built, place(built, "aus-jpn", "09:00", "R1"), place(built, "aus-sgp", "09:45", "R2")).ok


def test_buffer_only_within_one_day() -> None:
    built = four_nations(
        bilateral("aus", "jpn"),
        bilateral("aus", "sgp"),
        people={"marles": {"buffer_minutes": 15}},
        forum=forum(days=2, start="09:00", end="09:30"),
    )
    assert validated(built, place(built, "aus-jpn", "09:00"), place(built, "aus-sgp", "09:00", day=1)).ok


def travel_problem(*meetings: Meeting, travel: list[Travel]) -> Problem:
    venues = [Venue("shangri-la", "Shangri-La Hotel"), Venue("fullerton", "Fullerton"), Venue("raffles", "Raffles")]
    rooms = [room("SL", venue="shangri-la"), room("FU", venue="fullerton"), room("RA", venue="raffles")]
    return four_nations(*meetings, rooms=rooms, venues=venues, travel=travel)


def test_travel_between_venues() -> None:
    built = travel_problem(
        bilateral("aus", "jpn"), bilateral("aus", "sgp"), travel=[Travel(("shangri-la", "fullerton"), 30)]
    )
    rushed = validated(built, place(built, "aus-jpn", "09:00", "SL"), place(built, "aus-sgp", "09:45", "FU"))
    only(rushed, "travel")
    assert "Room SL" in rushed.violations[0].message and "Room FU" in rushed.violations[0].message
    assert "needs 30 minutes to get from" in rushed.violations[0].message
    # The table holds each pair once and serves both directions.
    only(validated(built, place(built, "aus-jpn", "09:00", "FU"), place(built, "aus-sgp", "09:45", "SL")), "travel")
    assert validated(built, place(built, "aus-jpn", "09:00", "SL"), place(built, "aus-sgp", "10:00", "FU")).ok


def test_travel_not_needed_within_a_venue_or_without_an_entry() -> None:
    built = travel_problem(
        bilateral("aus", "jpn"), bilateral("aus", "sgp"), travel=[Travel(("shangri-la", "fullerton"), 30)]
    )
    assert validated(built, place(built, "aus-jpn", "09:00", "SL"), place(built, "aus-sgp", "09:30", "SL")).ok
    assert validated(built, place(built, "aus-jpn", "09:00", "SL"), place(built, "aus-sgp", "09:30", "RA")).ok


def test_travel_checks_every_pair_not_only_neighbours() -> None:
    # Shangri-La -> Raffles -> Fullerton needs no time per leg, but Shangri-La -> Fullerton needs 30 minutes,
    # and the first and last meeting are only 15 minutes apart.
    built = travel_problem(
        bilateral("aus", "jpn", 15),
        bilateral("aus", "sgp", 15),
        bilateral("aus", "ind", 15),
        travel=[Travel(("shangri-la", "fullerton"), 30)],
    )
    report = validated(
        built,
        place(built, "aus-jpn", "09:00", "SL"),
        place(built, "aus-sgp", "09:15", "RA"),
        place(built, "aus-ind", "09:30", "FU"),
    )
    only(report, "travel")
    assert report.violations[0].meetings == ["aus-jpn", "aus-ind"]


# ---------------------------------------------------------------- daily limit and keep apart


def test_daily_limit() -> None:
    built = four_nations(
        bilateral("aus", "jpn"),
        bilateral("aus", "sgp"),
        people={"marles": {"max_meetings_per_day": 1}},
        forum=forum(days=2),
    )
    only(validated(built, place(built, "aus-jpn", "09:00"), place(built, "aus-sgp", "11:00")), "daily_limit")
    assert validated(built, place(built, "aus-jpn", "09:00"), place(built, "aus-sgp", "09:00", day=1)).ok


def keep_apart_problem() -> Problem:
    return four_nations(
        bilateral("aus", "jpn"),
        bilateral("sgp", "ind"),
        bilateral("jpn", "sgp"),
        keep_apart=[KeepApart(("jpn", "sgp"))],
    )


def test_keep_apart_broken_both_ways_round() -> None:
    built = keep_apart_problem()
    report = validated(built, place(built, "aus-jpn", "09:00"), place(built, "sgp-ind", "09:30"))
    only(report, "keep_apart")
    assert report.violations[0].meetings == ["aus-jpn", "sgp-ind"]
    only(validated(built, place(built, "sgp-ind", "09:00"), place(built, "aus-jpn", "09:30")), "keep_apart")


def test_keep_apart_kept() -> None:
    built = keep_apart_problem()
    other_room = validated(built, place(built, "aus-jpn", "09:00", "R1"), place(built, "sgp-ind", "09:30", "R2"))
    gap = validated(built, place(built, "aus-jpn", "09:00"), place(built, "sgp-ind", "09:45"))
    # A meeting with both delegations is not "with one but not the other".
    joint = validated(built, place(built, "jpn-sgp", "09:00"), place(built, "sgp-ind", "09:30"))
    assert other_room.ok and gap.ok and joint.ok


# ---------------------------------------------------------------- break spread


def spread_problem(limit: int) -> Problem:
    return four_nations(
        bilateral("aus", "jpn"),
        bilateral("aus", "sgp"),
        forum=forum(slot=30),
        objective=ObjectiveSettings(break_spread_limit=limit),
    )


def test_break_spread_broken() -> None:
    built = spread_problem(limit=0)
    # Marles meets at 09:00 and 10:00: one break; everyone else none.
    report = validated(built, place(built, "aus-jpn", "09:00"), place(built, "aus-sgp", "10:00"))
    only(report, "break_spread")
    assert "Marles" in report.violations[0].message


def test_break_spread_kept() -> None:
    built = spread_problem(limit=1)
    assert validated(built, place(built, "aus-jpn", "09:00"), place(built, "aus-sgp", "10:00")).ok


def test_break_spread_counts_participants_without_meetings() -> None:
    # Marles and Hamada both have one break, but Ng and Singh have none (and no meetings).
    built = four_nations(
        bilateral("aus", "jpn"),
        meeting("aus-jpn-2", ["aus", "jpn"], 30),
        forum=forum(slot=30),
        objective=ObjectiveSettings(break_spread_limit=0),
    )
    only(validated(built, place(built, "aus-jpn", "09:00"), place(built, "aus-jpn-2", "10:00")), "break_spread")


# ---------------------------------------------------------------- schedule


def test_schedule_unknown_meeting() -> None:
    built = four_nations(bilateral("aus", "jpn"))
    ghost = Placement("aus-nzl", at("09:00"), at("09:30"), "R1")
    report = validate(built, Schedule("FEASIBLE", [place(built, "aus-jpn", "09:00", "R1"), ghost]))
    only(report, "schedule")
    assert report.violations[0].meetings == ["aus-nzl"]


def test_schedule_meeting_placed_twice() -> None:
    built = four_nations(bilateral("aus", "jpn"))
    twice = [place(built, "aus-jpn", "09:00"), place(built, "aus-jpn", "11:00")]
    only(validate(built, Schedule("FEASIBLE", twice)), "schedule")


def test_schedule_unknown_room() -> None:
    built = four_nations(bilateral("aus", "jpn"))
    report = validate(built, Schedule("FEASIBLE", [place(built, "aus-jpn", "09:00", "R9")]))
    only(report, "schedule")
    assert "'R9'" in report.violations[0].message


def test_schedule_placed_and_unplaced() -> None:
    built = four_nations(bilateral("aus", "jpn"))
    unplaced = [Unplaced("aus-jpn", "lower_priority", "dropped")]
    only(validate(built, Schedule("FEASIBLE", [place(built, "aus-jpn", "09:00")], unplaced)), "schedule")


def test_schedule_unknown_unplaced_meeting() -> None:
    built = four_nations(bilateral("aus", "jpn"))
    unplaced = [Unplaced("aus-nzl", "not_reached", "not placed")]
    report = validate(built, Schedule("FEASIBLE", [place(built, "aus-jpn", "09:00")], unplaced))
    only(report, "schedule")
    assert report.violations[0].meetings == ["aus-nzl"]


def test_schedule_kept() -> None:
    built = four_nations(bilateral("aus", "jpn"), bilateral("sgp", "ind"))
    assert validated(built, place(built, "aus-jpn", "09:00")).ok  # sgp-ind is listed as unplaced


# ---------------------------------------------------------------- objective terms


def test_held_sums_the_priority_weights_of_unplaced_meetings() -> None:
    built = four_nations(
        bilateral("aus", "jpn", priority="must"),
        bilateral("aus", "sgp", priority="high"),
        bilateral("aus", "ind", priority="normal"),
        bilateral("jpn", "sgp", priority="low"),
    )
    nothing = validated(built)
    assert nothing.terms["held"] == 10_000 + 1_000 + 300 + 100
    some = validated(built, place(built, "aus-jpn", "09:00"), place(built, "jpn-sgp", "10:00"))
    assert some.terms["held"] == 1_000 + 300


def test_fairness_takes_the_worst_served_delegation() -> None:
    # Every pair of the four nations asks for a meeting: each delegation is party to three.
    pairs = [("aus", "jpn"), ("aus", "sgp"), ("aus", "ind"), ("jpn", "sgp"), ("jpn", "ind"), ("sgp", "ind")]
    meetings = [bilateral(first, second) for first, second in pairs]
    idle = delegation("nzl", person("collins"))  # asks for nothing, so it is not the worst served
    built = four_nations(*meetings)
    built = msgspec.structs.replace(built, delegations=[*built.delegations, idle])
    times = ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]
    everything = [place(built, m.id, start) for m, start in zip(meetings, times, strict=True)]
    assert validated(built, *everything).terms["fairness"] == 0
    # Without aus-jpn, AUS and JPN have 2 of 3 held: floor(200 / 3) = 66, cost 10 x (100 - 66).
    assert validated(built, *everything[1:]).terms["fairness"] == 340
    assert validated(built).terms["fairness"] == 1000  # nobody served at all


def test_breaks_term_counts_runs_minus_one() -> None:
    built = four_nations(bilateral("aus", "jpn"), bilateral("aus", "sgp"), forum=forum(slot=30))
    # Marles meets at 09:00 and 10:00, idle 09:30: one break. Hamada and Ng meet once each.
    placements = [place(built, "aus-jpn", "09:00"), place(built, "aus-sgp", "10:00")]
    assert validated(built, *placements).terms["breaks"] == 10
    by_person = breaks_by_participant(built, schedule(built, *placements))
    assert by_person == {"marles": 1, "hamada": 0, "ng": 0, "singh": 0}


def test_breaks_weight_and_long_meetings() -> None:
    weights = ObjectiveSettings(weights=Weights(breaks=7))
    built = four_nations(
        bilateral("aus", "jpn", 60),
        bilateral("aus", "sgp"),
        bilateral("aus", "ind"),
        forum=forum(slot=30),
        objective=weights,
    )
    # 09:00-10:00 and 10:00-10:30 are one run; 11:30 starts a second: one break, weighted 7.
    placements = [place(built, "aus-jpn", "09:00"), place(built, "aus-sgp", "10:00"), place(built, "aus-ind", "11:30")]
    assert validated(built, *placements).terms["breaks"] == 7


def plenary_gap(count_unavailable: bool) -> Problem:
    return four_nations(
        bilateral("aus", "jpn"),
        bilateral("aus", "sgp"),
        forum=forum(slot=30),
        sessions=[ProgrammeSession("plenary", "Plenary", at("09:30"), at("10:00"))],
        objective=ObjectiveSettings(breaks_count_unavailable=count_unavailable),
    )


def test_a_plenary_in_the_gap_is_not_a_break() -> None:
    built = plenary_gap(count_unavailable=False)
    placements = [place(built, "aus-jpn", "09:00"), place(built, "aus-sgp", "10:00")]
    assert breaks_by_participant(built, schedule(built, *placements))["marles"] == 0
    assert validated(built, *placements).terms["breaks"] == 0


def test_a_plenary_in_the_gap_is_a_break_when_unavailable_slots_count() -> None:
    built = plenary_gap(count_unavailable=True)
    placements = [place(built, "aus-jpn", "09:00"), place(built, "aus-sgp", "10:00")]
    assert breaks_by_participant(built, schedule(built, *placements))["marles"] == 1
    assert validated(built, *placements).terms["breaks"] == 10


def test_a_gap_longer_than_the_plenary_is_still_a_break() -> None:
    built = plenary_gap(count_unavailable=False)
    placements = [place(built, "aus-jpn", "09:00"), place(built, "aus-sgp", "10:30")]  # 10:00 is free and idle
    assert breaks_by_participant(built, schedule(built, *placements))["marles"] == 1


def test_a_blocked_window_in_the_gap_is_not_a_break() -> None:
    built = four_nations(
        bilateral("aus", "jpn"),
        bilateral("aus", "sgp"),
        forum=forum(slot=30),
        people={"marles": {"blocked": [window("09:30", "10:00")]}},
    )
    placements = [place(built, "aus-jpn", "09:00"), place(built, "aus-sgp", "10:00")]
    assert breaks_by_participant(built, schedule(built, *placements))["marles"] == 0


def test_no_break_across_days() -> None:
    built = four_nations(
        bilateral("aus", "jpn"),
        bilateral("aus", "sgp"),
        bilateral("aus", "ind"),
        meeting("aus-jpn-2", ["aus", "jpn"], 30),
        forum=forum(days=2, slot=30),
    )
    # Friday 12:30 is idle, but the night does not join Friday 12:00 and Saturday 09:00 into one day.
    evening_and_morning = [place(built, "aus-jpn", "12:00"), place(built, "aus-sgp", "09:00", day=1)]
    assert breaks_by_participant(built, schedule(built, *evening_and_morning))["marles"] == 0
    # Marles: one break on each day (09:00 and 11:00 on Friday, 09:00 and 10:00 on Saturday).
    # Hamada meets once each day and has none.
    both_days = [
        place(built, "aus-jpn", "09:00"),
        place(built, "aus-sgp", "11:00"),
        place(built, "aus-ind", "09:00", day=1),
        place(built, "aus-jpn-2", "10:00", day=1),
    ]
    by_person = breaks_by_participant(built, schedule(built, *both_days))
    assert by_person == {"marles": 2, "hamada": 0, "ng": 0, "singh": 0}


def test_preferences() -> None:
    morning = [window("09:00", "10:00"), window("12:00", "13:00")]
    built = four_nations(bilateral("aus", "jpn", preferred=morning), bilateral("sgp", "ind", preferred=morning))
    inside = validated(built, place(built, "aus-jpn", "09:30"), place(built, "sgp-ind", "12:00"))
    assert inside.terms["preferences"] == 0
    one_out = validated(built, place(built, "aus-jpn", "09:45"), place(built, "sgp-ind", "12:00"))  # ends 10:15
    assert one_out.terms["preferences"] == 5
    both_out = validated(built, place(built, "aus-jpn", "10:00"), place(built, "sgp-ind", "11:00"))
    assert both_out.terms["preferences"] == 10


def test_preferences_ignore_meetings_without_windows() -> None:
    built = four_nations(bilateral("aus", "jpn"))
    assert validated(built, place(built, "aus-jpn", "11:00")).terms["preferences"] == 0


STABILITY = {
    "unchanged": ("09:00", "R1", 0),
    "other room": ("09:00", "R2", 10),
    "other time": ("10:00", "R1", 50),
    "other time and room": ("10:00", "R2", 50),
    "dropped": (None, None, 50),
}


@pytest.mark.parametrize("case", STABILITY, ids=list(STABILITY))
def test_stability(case: str) -> None:
    start, room_id, expected = STABILITY[case]
    # The previous start is given in UTC: 01:00Z is 09:00 in Singapore.
    previous = [PreviousPlacement("aus-jpn", datetime.fromisoformat("2023-06-02T01:00:00+00:00"), "R1")]
    built = four_nations(bilateral("aus", "jpn"), previous=previous)
    placements = [place(built, "aus-jpn", start, room_id)] if start and room_id else []
    assert validated(built, *placements).terms["stability"] == expected


def test_objective_is_recomputed_not_copied() -> None:
    built = four_nations(bilateral("aus", "jpn"), bilateral("aus", "sgp", priority="low"), forum=forum(slot=30))
    claimed = Schedule(
        "OPTIMAL",
        [place(built, "aus-jpn", "09:00")],
        [Unplaced("aus-sgp", "lower_priority", "dropped")],
        objective=0,
        terms={"held": 0},
    )
    report = validate(built, claimed)
    # Low priority unplaced: 100. AUS and SGP served 1 of 2 and 0 of 1: floor 0, fairness 10 x 100.
    assert report.terms == {"held": 100, "fairness": 1000, "breaks": 0, "preferences": 0, "stability": 0}
    assert report.objective == 1100


def test_validator_stands_apart_from_the_solvers() -> None:
    # A bug in the shared index form or in OR-Tools glue must not be able to hide behind itself.
    code = "import sys, solver.validate; print(sorted({'ortools', 'solver.compile'} & set(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_the_buffer_after_a_meeting_is_not_a_break() -> None:
    built = four_nations(
        bilateral("aus", "jpn"),
        bilateral("aus", "sgp"),
        forum=forum(slot=30),
        people={"marles": {"buffer_minutes": 30}},
    )
    # 09:30 is Marles's buffer: rest he asked for, not idle time.
    rested = [place(built, "aus-jpn", "09:00"), place(built, "aus-sgp", "10:00")]
    assert breaks_by_participant(built, schedule(built, *rested))["marles"] == 0
    # 10:30 is idle beyond the buffer.
    idle = [place(built, "aus-jpn", "09:00"), place(built, "aus-sgp", "11:00")]
    assert breaks_by_participant(built, schedule(built, *idle))["marles"] == 1
