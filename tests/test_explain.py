"""Who is to blame for a meeting left out: one test per kind of blocking rule.

Each grid is written by hand, so the answer does not depend on a search: the
explanation must name exactly the kept meeting that stands in the way.
"""

from __future__ import annotations

from solver.compile import compile_problem
from solver.explain import explain_unplaced
from solver.model import KeepApart, Problem, Resource, ResourceUse
from solver.result import Unplaced
from tests.builders import delegation, forum, meeting, person, problem, room

TWO_SLOTS = forum(slot=30, start="09:00", end="10:00")
PEOPLE = [delegation(name, person(name.lower())) for name in ("AAA", "BBB", "CCC", "DDD")]
TWO_ROOMS = [room("R1"), room("R2")]


def explained(prob: Problem, grid: dict[str, tuple[int, str]]) -> dict[str, Unplaced]:
    compiled = compile_problem(prob)
    assignment = {meeting_id: (slot, room_id) for meeting_id, (slot, room_id) in grid.items()}
    return {reason.meeting: reason for reason in explain_unplaced(compiled, assignment)}


def test_a_full_room_blames_its_occupant() -> None:
    meetings = [meeting("ab", ["AAA", "BBB"], 60), meeting("cd", ["CCC", "DDD"], 30)]
    reason = explained(problem(PEOPLE, meetings, forum=TWO_SLOTS), {"ab": (0, "R1")})["cd"]
    assert (reason.reason, reason.blockers) == ("capacity_conflict", ["ab"])


def test_a_busy_attendee_blames_their_meeting() -> None:
    meetings = [meeting("ab", ["AAA", "BBB"], 60), meeting("ac", ["AAA", "CCC"], 30)]
    reason = explained(problem(PEOPLE, meetings, TWO_ROOMS, forum=TWO_SLOTS), {"ab": (0, "R1")})["ac"]
    assert (reason.reason, reason.blockers) == ("capacity_conflict", ["ab"])


def test_a_used_up_resource_blames_its_user() -> None:
    interpreters = [ResourceUse("interp")]
    meetings = [
        meeting("ab", ["AAA", "BBB"], 60, resources=interpreters),
        meeting("cd", ["CCC", "DDD"], 30, resources=interpreters),
    ]
    prob = problem(PEOPLE, meetings, TWO_ROOMS, forum=TWO_SLOTS, resources=[Resource("interp", "Interpreters", 1)])
    reason = explained(prob, {"ab": (0, "R1")})["cd"]
    assert (reason.reason, reason.blockers) == ("capacity_conflict", ["ab"])


def test_a_meeting_that_must_come_later_blames_the_one_already_earlier() -> None:
    meetings = [meeting("prep", ["CCC", "DDD"], 30), meeting("main", ["AAA", "BBB"], 30, after=["prep"])]
    reason = explained(problem(PEOPLE, meetings, TWO_ROOMS, forum=TWO_SLOTS), {"main": (0, "R1")})["prep"]
    assert (reason.reason, reason.blockers) == ("capacity_conflict", ["main"])


def test_keep_apart_blames_the_neighbour_in_the_same_room() -> None:
    meetings = [meeting("ab", ["AAA", "BBB"], 30), meeting("cd", ["CCC", "DDD"], 30)]
    prob = problem(PEOPLE, meetings, forum=TWO_SLOTS, keep_apart=[KeepApart(("AAA", "CCC"))])
    reason = explained(prob, {"ab": (0, "R1")})["cd"]  # slot 0: the room; slot 1: back to back with ab
    assert (reason.reason, reason.blockers) == ("capacity_conflict", ["ab"])


def test_a_daily_limit_blames_the_days_meetings() -> None:
    people = [delegation("AAA", person("aaa", max_meetings_per_day=1)), *PEOPLE[1:]]
    meetings = [meeting("ab", ["AAA", "BBB"], 30), meeting("ac", ["AAA", "CCC"], 30)]
    reason = explained(problem(people, meetings, TWO_ROOMS, forum=TWO_SLOTS), {"ab": (0, "R1")})["ac"]
    assert (reason.reason, reason.blockers) == ("capacity_conflict", ["ab"])


def test_a_meeting_with_room_to_spare_is_not_blamed_on_anyone() -> None:
    meetings = [meeting("ab", ["AAA", "BBB"], 30), meeting("cd", ["CCC", "DDD"], 30)]
    reason = explained(problem(PEOPLE, meetings, TWO_ROOMS, forum=TWO_SLOTS), {"ab": (0, "R1")})["cd"]
    assert (reason.reason, reason.blockers) == ("not_reached", [])
