"""The CP-SAT engine, one hard rule or objective term at a time.

Each rule gets a case where it binds (the solver must bend the grid to keep
it) and a case where pins would break it (the solver leaves a meeting out
instead). Every result is checked by the independent validator, and the
engine's reported terms must equal the validator's recomputation.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from solver.engine import SolveOptions, solve
from solver.model import (
    Delegation,
    Forum,
    KeepApart,
    ObjectiveSettings,
    PreviousPlacement,
    Problem,
    ProgrammeSession,
    Resource,
    ResourceUse,
    Term,
    Travel,
    Venue,
    Weights,
)
from solver.result import Progress, Schedule
from solver.validate import validate
from tests.builders import at, delegation, forum, meeting, person, problem, room, window

FAST = SolveOptions(time_limit=5, workers=2)


def run(prob: Problem, options: SolveOptions = FAST) -> Schedule:
    schedule = solve(prob, options)
    report = validate(prob, schedule)
    assert report.violations == [], report.violations
    assert schedule.terms == report.terms
    assert schedule.objective == report.objective
    return schedule


def starts(schedule: Schedule) -> dict[str, datetime]:
    return {p.meeting: p.start.replace(tzinfo=None) for p in schedule.placed}


def rooms(schedule: Schedule) -> dict[str, str]:
    return {p.meeting: p.room for p in schedule.placed}


def unplaced(schedule: Schedule) -> dict[str, str]:
    return {u.meeting: u.reason for u in schedule.unplaced}


def trio(**fields: dict[str, Any]) -> list[Delegation]:
    """Three one-person delegations A, B, C."""
    return [delegation(name, person(name.lower(), **fields.get(name, {}))) for name in ("AAA", "BBB", "CCC")]


def one_slot_forum() -> Forum:
    return forum(slot=30, start="09:00", end="09:30")


# --- hard rules -------------------------------------------------------------


def test_participant_attends_one_meeting_at_a_time() -> None:
    meetings = [meeting("ab", ["AAA", "BBB"], 30), meeting("ac", ["AAA", "CCC"], 30)]
    rooms_ = [room("R1"), room("R2")]
    tight = run(problem(trio(), meetings, rooms_, forum=one_slot_forum()))
    assert len(tight.placed) == 1 and len(tight.unplaced) == 1
    roomy = run(problem(trio(), meetings, rooms_, forum=forum(slot=30, start="09:00", end="10:00")))
    assert len(roomy.placed) == 2
    assert len(set(starts(roomy).values())) == 2


def test_room_holds_one_meeting_at_a_time() -> None:
    people = [*trio(), delegation("DDD", person("ddd"))]
    meetings = [meeting("ab", ["AAA", "BBB"], 30), meeting("cd", ["CCC", "DDD"], 30)]
    single = run(problem(people, meetings, [room("R1")], forum=one_slot_forum()))
    assert len(single.placed) == 1
    assert single.unplaced[0].reason == "capacity_conflict"
    double = run(problem(people, meetings, [room("R1"), room("R2")], forum=one_slot_forum()))
    assert sorted(rooms(double).values()) == ["R1", "R2"]


def test_shared_resource_capacity() -> None:
    people = [*trio(), delegation("DDD", person("ddd"))]
    interpreted = [ResourceUse("interp-fr")]
    meetings = [
        meeting("ab", ["AAA", "BBB"], 30, resources=interpreted),
        meeting("cd", ["CCC", "DDD"], 30, resources=interpreted),
    ]
    for capacity, expected in ((1, 1), (2, 2)):
        resources = [Resource("interp-fr", "French interpreters", capacity)]
        result = run(problem(people, meetings, [room("R1"), room("R2")], forum=one_slot_forum(), resources=resources))
        assert len(result.placed) == expected


def test_arrival_and_departure() -> None:
    people = trio(AAA={"arrival": at("10:00")}, BBB={"departure": at("12:00")})
    result = run(problem(people, [meeting("ab", ["AAA", "BBB"], 60)]))
    assert at("10:00") <= starts(result)["ab"] <= at("11:00")
    gone = trio(BBB={"departure": at("09:30")})
    impossible = run(problem(gone, [meeting("ab", ["AAA", "BBB"], 60)]))
    assert unplaced(impossible) == {"ab": "no_common_availability"}
    assert "leaves" in impossible.unplaced[0].message and "Bbb" in impossible.unplaced[0].message


def test_no_common_availability_names_the_limits_in_the_way() -> None:
    # AAA stays all morning but is blocked until 11:00; BBB leaves at 11:00.
    people = trio(AAA={"departure": at("13:00"), "blocked": [window("09:00", "11:00")]}, BBB={"departure": at("11:00")})
    result = run(problem(people, [meeting("ab", ["AAA", "BBB"], 30)]))
    message = result.unplaced[0].message
    assert "Aaa" in message and "is blocked Friday 09:00-11:00" in message
    assert "leaves Friday 13:00" not in message  # true, but not why they never meet


def test_programme_session_blocks_principals_only() -> None:
    plenary = ProgrammeSession("plenary", "Plenary", at("09:00"), at("12:00"), scope="principals")
    people = [
        delegation("AAA", person("a-min"), person("a-off", principal=False)),
        delegation("BBB", person("b-min"), person("b-off", principal=False)),
    ]
    meetings = [
        meeting("principals", ["AAA", "BBB"], 60),
        # Officials must end by noon: only possible if the plenary leaves them free.
        meeting("officials", ["AAA", "BBB"], 60, participants=["a-off", "b-off"], latest=at("12:00")),
    ]
    result = run(problem(people, meetings, [room("R1"), room("R2")], sessions=[plenary]))
    assert starts(result)["principals"] == at("12:00")
    assert starts(result)["officials"] < at("12:00")


def test_room_unavailable_window() -> None:
    closed = room("R1", unavailable=[window("09:00", "11:00")])
    result = run(problem(trio(), [meeting("ab", ["AAA", "BBB"], 60)], [closed]))
    assert starts(result)["ab"] >= at("11:00")


def test_room_seats_features_and_venue() -> None:
    venues = [Venue("hotel", "Hotel"), Venue("embassy", "Embassy")]
    rooms_ = [
        room("small", seats=2, venue="hotel", features=["secure"]),
        room("large", seats=12, venue="hotel"),
        room("annex", seats=12, venue="embassy", features=["secure"]),
    ]
    meetings = [
        meeting("big", ["AAA", "BBB"], 30, seats=8),
        meeting("secret", ["AAA", "CCC"], 30, features=["secure"]),
        meeting("offsite", ["BBB", "CCC"], 30, venues=["embassy"]),
        meeting("nowhere", ["AAA", "BBB"], 30, seats=20),
    ]
    result = run(problem(trio(), meetings, rooms_, venues=venues))
    assigned = rooms(result)
    assert assigned["big"] in {"large", "annex"}
    assert assigned["secret"] in {"small", "annex"}
    assert assigned["offsite"] == "annex"
    assert unplaced(result) == {"nowhere": "no_suitable_room"}


def test_earliest_latest_window() -> None:
    meetings = [meeting("ab", ["AAA", "BBB"], 30, earliest=at("11:00"), latest=at("12:00"))]
    result = run(problem(trio(), meetings))
    assert at("11:00") <= starts(result)["ab"] <= at("11:30")
    outside = [meeting("ab", ["AAA", "BBB"], 60, earliest=at("12:30"))]
    assert unplaced(run(problem(trio(), outside))) == {"ab": "outside_window"}


def test_pins_are_honoured_and_pinned_clash_leaves_one_out() -> None:
    rooms_ = [room("R1"), room("R2")]
    pinned = [meeting("ab", ["AAA", "BBB"], 30, pinned_start=at("11:00"), pinned_room="R2")]
    result = run(problem(trio(), pinned, rooms_))
    assert starts(result)["ab"] == at("11:00") and rooms(result)["ab"] == "R2"
    clash = [*pinned, meeting("ac", ["AAA", "CCC"], 30, pinned_start=at("11:00"), priority="low")]
    clashed = run(problem(trio(), clash, rooms_))
    assert unplaced(clashed) == {"ac": "lower_priority"}
    assert clashed.unplaced[0].blockers == ["ab"]


def test_precedence() -> None:
    meetings = [
        meeting("prep", ["AAA", "BBB"], 60),
        meeting("main", ["AAA", "CCC"], 60, after=["prep"], preferred=[window("09:00", "10:00")]),
    ]
    result = run(problem(trio(), meetings, [room("R1"), room("R2")]))
    assert starts(result)["main"] >= starts(result)["prep"].replace() + (at("10:00") - at("09:00"))
    pinned_first = [
        meeting("prep", ["BBB", "CCC"], 60, pinned_start=at("12:00"), priority="must"),
        meeting("main", ["AAA", "CCC"], 60, after=["prep"], latest=at("12:00")),
    ]
    blocked = run(problem(trio(), pinned_first, [room("R1"), room("R2")]))
    assert unplaced(blocked) == {"main": "lower_priority"}


def test_buffer_between_meetings() -> None:
    people = trio(AAA={"buffer_minutes": 15})
    meetings = [meeting("ab", ["AAA", "BBB"], 30), meeting("ac", ["AAA", "CCC"], 30)]
    result = run(problem(people, meetings, [room("R1"), room("R2")], forum=forum(slot=15, end="10:15")))
    first, second = sorted(starts(result).values())
    assert (second - first).total_seconds() >= 45 * 60
    tight = run(problem(people, meetings, [room("R1"), room("R2")], forum=forum(slot=15, end="10:00")))
    assert len(tight.placed) == 1


def test_travel_between_venues() -> None:
    venues = [Venue("hotel", "Hotel"), Venue("embassy", "Embassy")]
    travel = [Travel(("hotel", "embassy"), 30)]
    rooms_ = [room("H", venue="hotel"), room("E", venue="embassy")]
    meetings = [
        meeting("here", ["AAA", "BBB"], 30, venues=["hotel"], pinned_start=at("09:00")),
        meeting("there", ["AAA", "CCC"], 30, venues=["embassy"]),
    ]
    result = run(problem(trio(), meetings, rooms_, venues=venues, travel=travel))
    assert starts(result)["there"] >= at("10:00")
    short = forum(slot=30, start="09:00", end="10:00")
    squeezed = run(problem(trio(), meetings, rooms_, venues=venues, travel=travel, forum=short))
    assert len(squeezed.placed) == 1
    assert squeezed.unplaced[0].reason == "capacity_conflict"
    assert squeezed.unplaced[0].blockers == [squeezed.placed[0].meeting]


def test_daily_limit() -> None:
    people = trio(AAA={"max_meetings_per_day": 1})
    meetings = [meeting("ab", ["AAA", "BBB"], 30), meeting("ac", ["AAA", "CCC"], 30)]
    one_day = run(problem(people, meetings))
    assert len(one_day.placed) == 1
    two_days = run(problem(people, meetings, forum=forum(days=2)))
    assert len({p.start.date() for p in two_days.placed}) == 2


def test_daily_limit_of_zero_is_the_reason_given() -> None:
    # Every start is in the domain, but AAA may attend nothing: no meeting of
    # higher rank is in the way, as "lower_priority" with no blockers claimed.
    result = run(problem(trio(AAA={"max_meetings_per_day": 0}), [meeting("ab", ["AAA", "BBB"], 30)]))
    (reason,) = result.unplaced
    assert (reason.reason, reason.blockers) == ("no_common_availability", ["aaa"])
    assert "daily limit of 0" in reason.message


def test_keep_apart_never_back_to_back_in_one_room() -> None:
    people = [*trio(), delegation("DDD", person("ddd"))]
    meetings = [
        meeting("ac", ["AAA", "CCC"], 30, pinned_start=at("09:00")),
        meeting("bd", ["BBB", "DDD"], 30, preferred=[window("09:30", "10:00")]),
    ]
    apart = [KeepApart(("AAA", "BBB"))]
    result = run(problem(people, meetings, forum=forum(slot=30, end="10:30"), keep_apart=apart))
    assert starts(result)["bd"] == at("10:00")
    together = run(problem(people, meetings, forum=forum(slot=30, end="10:30")))
    assert starts(together)["bd"] == at("09:30")


def test_break_spread_limit() -> None:
    meetings = [
        meeting("early", ["AAA", "BBB"], 30, pinned_start=at("09:00")),
        meeting("late", ["AAA", "CCC"], 30, pinned_start=at("10:00")),
    ]
    strict = ObjectiveSettings(break_spread_limit=0)
    assert len(run(problem(trio(), meetings, objective=strict)).placed) == 1
    loose = ObjectiveSettings(break_spread_limit=1)
    assert len(run(problem(trio(), meetings, objective=loose)).placed) == 2


# --- objective terms ----------------------------------------------------------


def test_priority_decides_who_gets_the_only_slot() -> None:
    meetings = [
        meeting("low", ["AAA", "BBB"], 30, priority="low"),
        meeting("must", ["AAA", "CCC"], 30, priority="must"),
    ]
    result = run(problem(trio(), meetings, forum=one_slot_forum()))
    assert set(starts(result)) == {"must"}
    assert result.terms["held"] == 100


def test_fairness_spreads_meetings_between_delegations() -> None:
    people = [*trio(), delegation("DDD", person("ddd"))]
    meetings = [
        meeting("ca", ["CCC", "AAA"], 30),
        meeting("cb", ["CCC", "BBB"], 30),
        meeting("ad", ["AAA", "DDD"], 30, pinned_start=at("09:30")),
    ]
    short = forum(slot=30, start="09:00", end="10:00")
    limited = trio(CCC={"departure": at("09:30")})
    result = run(problem([*limited, people[3]], meetings, [room("R1"), room("R2")], forum=short))
    assert "cb" in starts(result) and "ca" not in starts(result)
    # C holds 1 of 2, A 1 of 2: the worst share is 50%
    assert result.terms["fairness"] == 10 * 50


def test_breaks_are_avoided() -> None:
    meetings = [meeting("ab", ["AAA", "BBB"], 30, pinned_start=at("09:00")), meeting("ac", ["AAA", "CCC"], 30)]
    result = run(problem(trio(), meetings))
    assert starts(result)["ac"] == at("09:30")
    assert result.terms["breaks"] == 0
    gap = [meetings[0], meeting("ac", ["AAA", "CCC"], 30, earliest=at("10:30"))]
    assert run(problem(trio(), gap)).terms["breaks"] == 10


def test_meeting_left_out_of_a_proven_optimum_is_not_said_to_be_unreached() -> None:
    # AAA can meet 09:00-09:30 and 10:00-10:30 only: holding both makes a break worth more than ac.
    busy = {"blocked": [window("09:30", "10:00"), window("10:30", "13:00")]}
    meetings = [meeting("ab", ["AAA", "BBB"], 30, priority="high"), meeting("ac", ["AAA", "CCC"], 30)]
    objective = ObjectiveSettings(weights=Weights(breaks=400, fairness=0), breaks_count_unavailable=True)
    result = run(problem(trio(AAA=busy), meetings, objective=objective))
    assert result.status == "OPTIMAL" and unplaced(result) == {"ac": "costs_more"}


def test_preferred_window_is_used() -> None:
    meetings = [meeting("ab", ["AAA", "BBB"], 30, preferred=[window("11:00", "12:00")])]
    result = run(problem(trio(), meetings))
    assert at("11:00") <= starts(result)["ab"] <= at("11:30")
    assert result.terms["preferences"] == 0


def test_stability_keeps_previous_placement() -> None:
    meetings = [meeting("ab", ["AAA", "BBB"], 30), meeting("ac", ["AAA", "CCC"], 30)]
    previous = [PreviousPlacement("ab", at("11:00"), "R2"), PreviousPlacement("ac", at("11:30"), "R1")]
    result = run(problem(trio(), meetings, [room("R1"), room("R2")], previous=previous))
    assert starts(result) == {"ab": at("11:00"), "ac": at("11:30")}
    assert rooms(result) == {"ab": "R2", "ac": "R1"}
    assert result.terms["stability"] == 0
    moved = problem(trio(BBB={"departure": at("11:00")}), meetings, [room("R1"), room("R2")], previous=previous)
    assert run(moved).terms["stability"] == Weights().moved_time


def test_lexicographic_mode_puts_breaks_before_preferences() -> None:
    meetings = [
        meeting("ab", ["AAA", "BBB"], 30, pinned_start=at("09:00")),
        meeting("ac", ["AAA", "CCC"], 30, preferred=[window("11:00", "12:00")]),
    ]
    weighted = run(problem(trio(), meetings, objective=ObjectiveSettings(weights=Weights(breaks=1, preferences=50))))
    assert starts(weighted)["ac"] >= at("11:00")
    order: list[Term] = ["held", "breaks", "preferences", "fairness", "stability"]
    lexi = ObjectiveSettings(mode="lexicographic", lexicographic_order=order, weights=Weights(breaks=1, preferences=50))
    result = run(problem(trio(), meetings, objective=lexi))
    assert starts(result)["ac"] == at("09:30")
    assert result.status == "OPTIMAL"


def test_lexicographic_answer_is_not_replaced_by_a_cheaper_sum() -> None:
    # AAA can meet 09:00-09:30 and 10:00-10:30 only: both meetings make a break.
    # Breaks first, one meeting is left out; greedy's grid (both held) costs less
    # as a sum, but is worse in this order and must not replace the answer.
    busy = {"blocked": [window("09:30", "10:00"), window("10:30", "13:00")]}
    meetings = [meeting("ab", ["AAA", "BBB"], 30), meeting("ac", ["AAA", "CCC"], 30)]
    order: list[Term] = ["breaks", "held", "fairness", "preferences", "stability"]
    objective = ObjectiveSettings(mode="lexicographic", lexicographic_order=order, breaks_count_unavailable=True)
    result = run(problem(trio(AAA=busy), meetings, objective=objective))
    assert result.terms["breaks"] == 0 and len(result.placed) == 1
    assert result.status == "OPTIMAL"


# --- engine behaviour ---------------------------------------------------------


def test_progress_reports_and_stop() -> None:
    meetings = [meeting(f"m{i}", ["AAA", "BBB"], 30) for i in range(4)]
    reports: list[Progress] = []
    result = solve(problem(trio(), meetings), FAST, on_progress=reports.append)
    assert reports and reports[-1].objective == result.objective
    # greedy's grid comes first, at once, as solution 1; CP-SAT's follow it, counted after it
    assert reports[0].objective == result.stats.greedy_objective and reports[0].best_bound is None
    assert [r.solutions for r in reports] == list(range(1, len(reports) + 1))
    stop = threading.Event()
    stop.set()
    stopped = solve(problem(trio(), meetings), SolveOptions(time_limit=30), stop=stop)
    assert stopped.stats.solve_seconds < 30
    assert validate(problem(trio(), meetings), stopped).violations == []


def test_greedy_method_and_stats() -> None:
    meetings = [meeting("ab", ["AAA", "BBB"], 30), meeting("ac", ["AAA", "CCC"], 30)]
    prob = problem(trio(), meetings)
    greedy = run(prob, SolveOptions(method="greedy"))
    assert greedy.status == "FEASIBLE" and len(greedy.placed) == 2
    assert greedy.stats.variables == 0
    exact = run(prob)
    assert exact.status == "OPTIMAL" and exact.best_bound == exact.objective and exact.gap == 0
    assert exact.stats.variables > 0 and exact.stats.first_solution_seconds is not None
    assert exact.objective is not None and greedy.objective is not None
    assert exact.objective <= greedy.objective


def test_buffer_gap_is_not_counted_as_a_break() -> None:
    people = trio(AAA={"buffer_minutes": 30})
    meetings = [meeting("ab", ["AAA", "BBB"], 30, pinned_start=at("09:00")), meeting("ac", ["AAA", "CCC"], 30)]
    result = run(problem(people, meetings, forum=forum(slot=30)))
    assert starts(result)["ac"] == at("10:00")
    assert result.terms["breaks"] == 0


def test_deterministic_mode_repeats_itself() -> None:
    from solver.scenarios import generate

    forum_problem = generate("cis-council", 0)
    options = SolveOptions(time_limit=2, workers=2, seed=7, deterministic=True)
    first, second = solve(forum_problem, options), solve(forum_problem, options)
    assert first.placed == second.placed
    assert first.objective == second.objective
    assert validate(forum_problem, first).violations == []


def test_solve_in_a_worker_thread() -> None:
    """The service runs solves off the main thread; CP-SAT must not install its signal handler there."""
    results: list[Schedule] = []
    prob = problem(trio(), [meeting("ab", ["AAA", "BBB"], 30)])
    worker = threading.Thread(target=lambda: results.append(solve(prob, FAST)))
    worker.start()
    worker.join(timeout=60)
    assert results and len(results[0].placed) == 1
