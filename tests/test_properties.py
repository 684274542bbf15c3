"""Properties over random forums: every solve is valid by the independent
validator, reports the validator's terms, and is never worse than greedy."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solver.check import check_problem
from solver.engine import SolveOptions, solve
from solver.model import (
    KeepApart,
    Meeting,
    ObjectiveSettings,
    Problem,
    ProgrammeSession,
    Resource,
    ResourceUse,
    Travel,
    Venue,
)
from solver.validate import validate
from tests.builders import at, delegation, forum, meeting, person, problem, room, window

HOURS = ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "12:00", "12:30"]


@st.composite
def forums(draw: st.DrawFn) -> Problem:
    days = draw(st.integers(1, 2))
    names = [f"D{index}" for index in range(draw(st.integers(3, 6)))]
    people = [
        delegation(
            name,
            person(
                name.lower(),
                buffer_minutes=draw(st.sampled_from([0, 0, 30])),
                max_meetings_per_day=draw(st.sampled_from([None, None, 2])),
                arrival=at(draw(st.sampled_from(HOURS[:3]))) if draw(st.booleans()) else None,
            ),
            country="ZZ",
        )
        for name in names
    ]
    venues = [Venue("hotel", "Hotel"), Venue("annex", "Annex")]
    rooms = [
        room("R1", seats=4, venue="hotel"),
        room("R2", seats=8, venue="hotel", features=["interpretation"]),
        room("R3", seats=8, venue="annex"),
    ][: draw(st.integers(1, 3))]
    meetings = [draw(_meeting(index, names)) for index in range(draw(st.integers(2, 9)))]
    built = problem(
        people,
        meetings,
        rooms,
        forum=forum(days=days, slot=30, start="09:00", end="13:00"),
        venues=venues,
        travel=[Travel(("hotel", "annex"), draw(st.sampled_from([0, 30, 60])))],
        resources=[Resource("interp", "Interpreters", 1)],
        sessions=[ProgrammeSession("plenary", "Plenary", at("10:00"), at("10:30"), scope="principals")]
        if draw(st.booleans())
        else [],
        keep_apart=[KeepApart((names[0], names[1]))] if draw(st.booleans()) else [],
        objective=ObjectiveSettings(mode=draw(st.sampled_from(["weighted", "weighted", "lexicographic"]))),
    )
    assert check_problem(built) == []
    return built


@st.composite
def _meeting(draw: st.DrawFn, index: int, names: list[str]) -> Meeting:
    parties = draw(st.lists(st.sampled_from(names), min_size=2, max_size=3, unique=True))
    fields = {
        "priority": draw(st.sampled_from(["must", "high", "normal", "low"])),
        "features": ["interpretation"] if draw(st.integers(0, 4)) == 0 else [],
        "resources": [ResourceUse("interp")] if draw(st.integers(0, 3)) == 0 else [],
    }
    if draw(st.integers(0, 3)) == 0:
        fields["preferred"] = [window("11:00", "12:30")]
    if index > 0 and draw(st.integers(0, 4)) == 0:
        fields["after"] = [f"m{index - 1}"]
    return meeting(f"m{index}", parties, draw(st.sampled_from([30, 60])), **fields)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(forums())
def test_every_solve_is_valid_and_never_worse_than_greedy(forum_problem: Problem) -> None:
    greedy = solve(forum_problem, SolveOptions(method="greedy"))
    exact = solve(forum_problem, SolveOptions(time_limit=2, workers=2))
    for schedule in (greedy, exact):
        report = validate(forum_problem, schedule)
        assert report.violations == []
        assert schedule.terms == report.terms
        assert schedule.objective == report.objective
        placed = {p.meeting for p in schedule.placed}
        assert placed.isdisjoint(u.meeting for u in schedule.unplaced)
        assert placed | {u.meeting for u in schedule.unplaced} == {m.id for m in forum_problem.meetings}
    assert exact.objective is not None and greedy.objective is not None
    assert exact.objective <= greedy.objective
    if exact.status == "OPTIMAL" and forum_problem.objective.mode == "weighted":
        assert exact.best_bound == exact.objective
