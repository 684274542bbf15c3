"""The greedy baseline: order, earliest start, smallest room, and every hard rule
forcing the exact later start (or the omission) worked out by hand.

Unless a test says otherwise the forum is one day 09:00-11:00 in 15-minute
slots, meetings are 30 minutes and every room has ten seats, so `09:30` in an
expectation is the third slot.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solver.compile import compile_problem
from solver.greedy import by_start, greedy_assign, placement_order
from solver.model import Delegation, KeepApart, Meeting, Problem, Resource, ResourceUse, Travel, Venue
from solver.result import Placement, Schedule, Unplaced
from solver.scenarios import generate
from solver.validate import validate
from tests.builders import at, delegation, forum, meeting, person, problem, room

FORUM = forum(start="09:00", end="11:00")
PEOPLE = ("a", "b", "c", "d", "e")


def people(**fields: dict[str, Any]) -> list[Delegation]:
    """One single-principal delegation per letter; `a={"buffer_minutes": 15}` sets fields of a's principal."""
    return [delegation(name, person(f"{name}1", **fields.get(name, {}))) for name in PEOPLE]


def talk(id: str, *delegations: str, minutes: int = 30, **fields: Any) -> Meeting:
    return meeting(id, list(delegations), minutes, **fields)


def greedy_schedule(the_problem: Problem) -> Schedule:
    """Greedy's placements as a Schedule, the rest listed as unplaced."""
    compiled = compile_problem(the_problem)
    assignment = greedy_assign(compiled)
    grid = compiled.grid
    placed = [
        Placement(
            meeting=meeting_id,
            start=grid.starts[slot],
            end=grid.end_of(slot, compiled.by_id[meeting_id].length),
            room=room_id,
            slot=slot,
        )
        for meeting_id, (slot, room_id) in assignment.items()
    ]
    unplaced = [
        Unplaced(meeting=info.id, reason="capacity_conflict", message="greedy found no place")
        for info in compiled.meetings
        if info.id not in assignment
    ]
    return Schedule(status="FEASIBLE", placed=placed, unplaced=unplaced)


def outcome(the_problem: Problem) -> dict[str, tuple[str, str]]:
    """meeting id -> ("HH:MM" or "dN HH:MM" after the first day, room id), checked by the validator."""
    schedule = greedy_schedule(the_problem)
    report = validate(the_problem, schedule)
    assert report.violations == []
    first_day = the_problem.forum.days[0].date
    readable: dict[str, tuple[str, str]] = {}
    for placement in schedule.placed:
        day = (placement.start.date() - first_day).days
        clock = f"{placement.start:%H:%M}"
        readable[placement.meeting] = (clock if day == 0 else f"d{day} {clock}", placement.room)
    return readable


# ------------------------------------------------------------------ order


def test_must_meeting_takes_the_only_slot_before_a_low_one() -> None:
    one_slot = forum(start="09:00", end="09:30")
    # "aa" would come first by id; its priority puts it last.
    the_problem = problem(
        people(),
        [talk("aa", "a", "b", priority="low"), talk("zz", "a", "c", priority="must")],
        forum=one_slot,
    )
    assert outcome(the_problem) == {"zz": ("09:00", "R1")}


def test_priority_then_fewest_options_then_id() -> None:
    meetings = [
        talk("low", "a", "b", priority="low"),
        talk("wide", "a", "c", priority="high"),
        talk("narrow", "a", "d", priority="high", latest=at("10:00")),
        talk("also-wide", "b", "c", priority="high"),
    ]
    order = [info.id for info in placement_order(compile_problem(problem(people(), meetings, forum=FORUM)))]
    assert order == ["narrow", "also-wide", "wide", "low"]


def test_fewer_options_wins_the_early_slot() -> None:
    # By id "flexible" would go first and take 09:00; "tight" can only be held then.
    meetings = [talk("flexible", "a", "b"), talk("tight", "a", "c", latest=at("09:30"))]
    assert outcome(problem(people(), meetings, forum=FORUM)) == {
        "tight": ("09:00", "R1"),
        "flexible": ("09:30", "R1"),
    }


def test_same_priority_predecessor_is_placed_just_before_its_successor() -> None:
    # "alpha" (3 starts) must follow "omega" (7 starts); "mid" (4 starts) wants
    # a for 09:00-10:00 too. Taken by own options, mid would go first and leave
    # alpha no start; the chain instead comes up at alpha's turn, ahead of mid.
    meetings = [
        talk("alpha", "a", "b", after=["omega"], latest=at("10:00")),
        talk("omega", "c", "d"),
        talk("mid", "a", "e", minutes=60, latest=at("10:45")),
    ]
    compiled = compile_problem(problem(people(), meetings, rooms=[room("R1"), room("R2")], forum=FORUM))
    assert [info.id for info in placement_order(compiled)] == ["omega", "alpha", "mid"]
    assert outcome(compiled.problem) == {"omega": ("09:00", "R1"), "alpha": ("09:30", "R1")}


def test_precedence_cycle_of_unchecked_input_is_broken_not_looped() -> None:
    # check_problem rejects this; compile_problem does not, and greedy must still end.
    meetings = [talk("m1", "a", "b", after=["m2"]), talk("m2", "c", "d", after=["m1"])]
    the_problem = problem(people(), meetings, rooms=[room("R1"), room("R2")], forum=FORUM)
    assert [info.id for info in placement_order(compile_problem(the_problem))] == ["m1", "m2"]
    # m2 would have to end before m1 starts and start after it ends.
    assert outcome(the_problem) == {"m1": ("09:00", "R1")}


# ------------------------------------------------------- start and room


def test_earliest_start_and_smallest_room() -> None:
    rooms = [room("hall", seats=40), room("R2", seats=4), room("R1", seats=4), room("salon", seats=8)]
    late = {"a": {"arrival": at("09:45")}}
    the_problem = problem(people(**late), [talk("m", "a", "b")], rooms=rooms, forum=FORUM)
    assert outcome(the_problem) == {"m": ("09:45", "R1")}


def test_next_smallest_room_when_the_smallest_is_taken() -> None:
    rooms = [room("hall", seats=40), room("small", seats=4), room("mid", seats=8)]
    meetings = [talk("first", "a", "b"), talk("second", "c", "d")]
    assert outcome(problem(people(), meetings, rooms=rooms, forum=FORUM)) == {
        "first": ("09:00", "small"),
        "second": ("09:00", "mid"),
    }


def test_room_overlap_forces_the_next_free_start() -> None:
    meetings = [talk("first", "a", "b", minutes=45), talk("second", "c", "d")]
    assert outcome(problem(people(), meetings, forum=FORUM)) == {
        "first": ("09:00", "R1"),
        "second": ("09:45", "R1"),
    }


# ------------------------------------------------------------ hard rules


def test_participant_overlap_forces_a_later_start() -> None:
    meetings = [talk("first", "a", "b"), talk("second", "a", "c")]
    rooms = [room("R1"), room("R2")]
    assert outcome(problem(people(), meetings, rooms=rooms, forum=FORUM)) == {
        "first": ("09:00", "R1"),
        "second": ("09:30", "R1"),
    }


def test_participant_overlap_leaves_a_meeting_out_when_no_start_remains() -> None:
    meetings = [talk("first", "a", "b", minutes=120), talk("second", "a", "c")]
    rooms = [room("R1"), room("R2")]
    assert outcome(problem(people(), meetings, rooms=rooms, forum=FORUM)) == {"first": ("09:00", "R1")}


def test_buffer_after_an_earlier_meeting() -> None:
    meetings = [talk("first", "a", "b"), talk("second", "a", "c")]
    the_problem = problem(people(a={"buffer_minutes": 15}), meetings, rooms=[room("R1"), room("R2")], forum=FORUM)
    assert outcome(the_problem) == {"first": ("09:00", "R1"), "second": ("09:45", "R1")}


def test_buffer_before_a_later_meeting_placed_first() -> None:
    # The pinned must meeting is placed first; 09:00-09:30 would end 0 minutes
    # before it, 10:00 would start 0 minutes after it: 10:15 is the first start.
    meetings = [
        talk("pinned", "a", "b", priority="must", pinned_start=at("09:30")),
        talk("other", "a", "c"),
    ]
    the_problem = problem(people(a={"buffer_minutes": 15}), meetings, rooms=[room("R1"), room("R2")], forum=FORUM)
    assert outcome(the_problem) == {"pinned": ("09:30", "R1"), "other": ("10:15", "R1")}


def _two_venues(travel_minutes: int) -> dict[str, Any]:
    return {
        "venues": [Venue(id="hotel", name="Hotel"), Venue(id="ministry", name="Ministry")],
        "travel": [Travel(between=("hotel", "ministry"), minutes=travel_minutes)],
    }


def test_travel_between_venues_delays_the_next_meeting() -> None:
    rooms = [room("H1", venue="hotel"), room("M1", venue="ministry")]
    meetings = [
        talk("at-hotel", "a", "b", pinned_room="H1", priority="must"),
        talk("at-ministry", "a", "c", venues=["ministry"]),
    ]
    the_problem = problem(people(), meetings, rooms=rooms, forum=FORUM, **_two_venues(30))
    # Ends 09:30 at the hotel, 30 minutes to the ministry: 10:00.
    assert outcome(the_problem) == {"at-hotel": ("09:00", "H1"), "at-ministry": ("10:00", "M1")}


def test_travel_picks_a_larger_room_at_the_same_venue_over_a_smaller_one_across_town() -> None:
    rooms = [room("H1", seats=10, venue="hotel"), room("M1", seats=4, venue="ministry")]
    meetings = [
        talk("at-hotel", "a", "b", pinned_room="H1", priority="must"),
        talk("anywhere", "a", "c"),
    ]
    the_problem = problem(people(), meetings, rooms=rooms, forum=FORUM, **_two_venues(30))
    # At 09:30 the smaller M1 is free but needs 30 minutes of travel; H1 needs none.
    assert outcome(the_problem) == {"at-hotel": ("09:00", "H1"), "anywhere": ("09:30", "H1")}


def test_travel_counts_in_both_orders() -> None:
    rooms = [room("H1", venue="hotel"), room("M1", venue="ministry")]
    meetings = [
        talk("pinned", "a", "b", pinned_room="H1", pinned_start=at("10:00"), priority="must"),
        talk("at-ministry", "a", "c", venues=["ministry"]),
    ]
    the_problem = problem(people(), meetings, rooms=rooms, forum=FORUM, **_two_venues(30))
    # 09:00-09:30 leaves exactly the 30 minutes before 10:00.
    assert outcome(the_problem) == {"pinned": ("10:00", "H1"), "at-ministry": ("09:00", "M1")}
    rushed = problem(people(), meetings, rooms=rooms, forum=FORUM, **_two_venues(45))
    # 45 minutes: nothing fits before 10:00; after it ends at 10:30, 11:15 is past the day.
    assert outcome(rushed) == {"pinned": ("10:00", "H1")}


def test_resource_capacity_forces_a_later_start() -> None:
    interpreters = Resource(id="arabic", name="Arabic interpreters", capacity=3)
    meetings = [
        talk("first", "a", "b", resources=[ResourceUse(resource="arabic", amount=2)]),
        talk("second", "c", "d", resources=[ResourceUse(resource="arabic", amount=2)]),
        talk("third", "e", "b", minutes=15, resources=[ResourceUse(resource="arabic")]),
    ]
    rooms = [room("R1"), room("R2"), room("R3")]
    the_problem = problem(people(), meetings, rooms=rooms, forum=FORUM, resources=[interpreters])
    # 2 + 2 > 3: "second" waits for "first"; "third" (1 more) fits beside "first"
    # by the resource but shares b with it, so it follows at 09:30 beside "second".
    assert outcome(the_problem) == {
        "first": ("09:00", "R1"),
        "second": ("09:30", "R1"),
        "third": ("09:30", "R2"),
    }


def test_daily_limit_moves_a_meeting_to_the_next_day() -> None:
    limited = {"a": {"max_meetings_per_day": 1}}
    meetings = [talk("first", "a", "b"), talk("second", "a", "c")]
    two_days = forum(days=2, start="09:00", end="11:00")
    assert outcome(problem(people(**limited), meetings, forum=two_days)) == {
        "first": ("09:00", "R1"),
        "second": ("d1 09:00", "R1"),
    }


def test_daily_limit_leaves_a_meeting_out_on_a_single_day() -> None:
    limited = {"a": {"max_meetings_per_day": 1}}
    meetings = [talk("first", "a", "b"), talk("second", "a", "c")]
    assert outcome(problem(people(**limited), meetings, forum=FORUM)) == {"first": ("09:00", "R1")}


def test_precedence_delays_the_successor() -> None:
    meetings = [talk("brief", "a", "b", minutes=45), talk("follow-up", "c", "d", after=["brief"])]
    rooms = [room("R1"), room("R2")]
    assert outcome(problem(people(), meetings, rooms=rooms, forum=FORUM)) == {
        "brief": ("09:00", "R1"),
        "follow-up": ("09:45", "R1"),
    }


def test_precedence_against_a_successor_placed_first() -> None:
    # The high successor is placed first at 09:00; the low predecessor would
    # have to end by then, which is impossible, so it is left out.
    meetings = [
        talk("prep", "a", "b", priority="low"),
        talk("main", "c", "d", priority="high", after=["prep"]),
    ]
    rooms = [room("R1"), room("R2")]
    assert outcome(problem(people(), meetings, rooms=rooms, forum=FORUM)) == {"main": ("09:00", "R1")}


def test_keep_apart_forbids_back_to_back_in_one_room() -> None:
    meetings = [talk("m1", "a", "c"), talk("m2", "b", "d")]
    the_problem = problem(people(), meetings, forum=FORUM, keep_apart=[KeepApart(delegations=("a", "b"))])
    # m2 may not start in R1 at 09:30 as m1 (with a) ends there.
    assert outcome(the_problem) == {"m1": ("09:00", "R1"), "m2": ("09:45", "R1")}


def test_keep_apart_against_a_later_meeting_placed_first() -> None:
    meetings = [
        talk("pinned", "b", "d", priority="must", pinned_start=at("09:30")),
        talk("other", "a", "c"),
    ]
    the_problem = problem(people(), meetings, forum=FORUM, keep_apart=[KeepApart(delegations=("a", "b"))])
    # 09:00 would end as "pinned" starts, 10:00 would start as it ends.
    assert outcome(the_problem) == {"pinned": ("09:30", "R1"), "other": ("10:15", "R1")}


@pytest.mark.parametrize("second", [("b", "d"), ("a", "b")])
def test_keep_apart_binds_only_meetings_with_one_side_without_the_other(second: tuple[str, str]) -> None:
    meetings = [talk("m1", "a", "b"), talk("m2", *second)]
    the_problem = problem(people(), meetings, forum=FORUM, keep_apart=[KeepApart(delegations=("a", "b"))])
    # m1 has both a and b, so it is neither side; m2 waits only for the participants it shares.
    assert outcome(the_problem) == {"m1": ("09:00", "R1"), "m2": ("09:30", "R1")}


def test_keep_apart_in_another_room_is_allowed() -> None:
    meetings = [talk("m1", "a", "c"), talk("m2", "b", "d", pinned_room="R2", earliest=at("09:30"))]
    rooms = [room("R1"), room("R2")]
    the_problem = problem(people(), meetings, rooms=rooms, forum=FORUM, keep_apart=[KeepApart(delegations=("a", "b"))])
    assert outcome(the_problem) == {"m1": ("09:00", "R1"), "m2": ("09:30", "R2")}


# ------------------------------------------------------- random problems


def _random_problem(seed: int) -> Problem:
    """A small problem in which every hard rule can bind."""
    rng = random.Random(seed)
    names = PEOPLE[: rng.randint(3, 5)]
    delegations = [
        delegation(
            name,
            person(
                f"{name}1",
                buffer_minutes=rng.choice([0, 0, 15, 30]),
                max_meetings_per_day=rng.choice([None, None, 1, 2]),
            ),
        )
        for name in names
    ]
    rooms = [
        room(f"R{index}", seats=rng.choice([2, 4, 8]), venue=rng.choice(["hotel", "ministry"])) for index in range(3)
    ]
    meetings = []
    for index in range(rng.randint(4, 10)):
        fields: dict[str, Any] = {"priority": rng.choice(["must", "high", "normal", "low"])}
        if index and rng.random() < 0.3:
            fields["after"] = [f"m{rng.randrange(index)}"]
        if rng.random() < 0.4:
            fields["resources"] = [ResourceUse(resource="escorts", amount=rng.randint(1, 2))]
        meetings.append(talk(f"m{index}", *rng.sample(names, 2), minutes=rng.choice([15, 30, 45]), **fields))
    return problem(
        delegations,
        meetings,
        rooms=rooms,
        forum=forum(days=2, start="09:00", end="10:30"),
        resources=[Resource(id="escorts", name="Escorts", capacity=2)],
        keep_apart=[KeepApart(delegations=("a", "b"))] if rng.random() < 0.5 else [],
        **_two_venues(rng.choice([0, 15, 30])),
    )


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=10**6))
def test_greedy_output_breaks_no_hard_rule(seed: int) -> None:
    the_problem = _random_problem(seed)
    assert validate(the_problem, greedy_schedule(the_problem)).violations == []


@pytest.mark.parametrize("name", ["shangri-la", "halifax"])
def test_greedy_output_breaks_no_hard_rule_on_scenarios(name: str) -> None:
    the_problem = generate(name)
    schedule = greedy_schedule(the_problem)
    assert len(schedule.placed) > len(the_problem.meetings) // 2  # a real grid, not a trivially valid empty one
    assert validate(the_problem, schedule).violations == []


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 3)), unique=True), st.booleans())
def test_starts_are_taken_earliest_first_with_all_their_classes_in_any_domain_order(
    pairs: list[tuple[int, int]], start_by_start: bool
) -> None:
    # compile's domains come start by start and are read lazily; any other
    # order must give the same starts, each with every class it has.
    domain = sorted(pairs, key=lambda pair: pair[0]) if start_by_start else pairs
    expected: dict[int, list[int]] = {}
    for start, class_index in domain:
        expected.setdefault(start, []).append(class_index)
    assert list(by_start(domain)) == [(start, tuple(expected[start])) for start in sorted(expected)]


@pytest.mark.parametrize("name", ["shangri-la", "unga-week"])
def test_greedy_is_the_same_whatever_the_order_of_the_domains(name: str) -> None:
    compiled = compile_problem(generate(name, seed=3))
    as_built = greedy_assign(compiled)
    rng = random.Random(0)
    for info in compiled.meetings:
        rng.shuffle(info.domain)
    assert greedy_assign(compiled) == as_built
