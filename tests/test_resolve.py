"""Re-solving after last-minute changes: each change names what it breaks, the
re-solve moves only that, and every result passes the independent validator.

The four scenarios of the issue run on the seeded Shangri-La example. Its
published grid is the greedy grid: valid, deterministic and instant; the
re-solve does not care how the published grid was made.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path

import msgspec
import pytest

from solver.changes import (
    ArrivalChanged,
    Change,
    DelegationWithdrawn,
    DepartureChanged,
    MeetingCancelled,
    MeetingRequested,
    ParticipantBlocked,
    RoomUnavailable,
    apply_changes,
    broken_by,
)
from solver.check import ProblemError, check_problem, load_problem
from solver.engine import SolveOptions, solve
from solver.fit import fit
from solver.model import Problem, Window, attendees
from solver.resolve import ResolveResult, resolve
from solver.result import Schedule
from solver.scenarios.late_changes import LATE_ARRIVAL, LOST_MORNING, follow_up, urgent_request
from solver.timegrid import TimeGrid
from solver.validate import validate
from tests.builders import at, delegation, meeting, person, place, problem, room, schedule, window

SHANGRI_LA = Path(__file__).resolve().parent.parent / "examples" / "shangri-la.json"
SINGAPORE = timezone(timedelta(hours=8))


@cache
def shangri_la() -> Problem:
    return load_problem(SHANGRI_LA.read_bytes())


def published(forum: Problem) -> Schedule:
    grid = solve(forum, SolveOptions(method="greedy"))
    assert validate(forum, grid).ok
    return grid


def at_singapore(moment: datetime) -> datetime:
    """A naive forum-local time as the aware time placements carry."""
    return moment.replace(tzinfo=SINGAPORE)


def assert_minimal(result: ResolveResult, before: Schedule) -> None:
    """The new grid is valid, every published meeting the changes did not touch is
    where it was, each difference has a cause, and every unplaced meeting a reason."""
    report = validate(result.problem, result.schedule)
    assert report.violations == [], report.violations
    assert report.terms == result.schedule.terms
    touched = {m for impact in result.impacts for m in (*impact.breaks, *impact.removes)}
    local = TimeGrid.of(result.problem.forum).local
    after = {p.meeting: (local(p.start), p.room) for p in result.schedule.placed}
    for placement in before.placed:
        if placement.meeting not in touched and placement.meeting in after and placement.meeting not in result.free:
            assert after[placement.meeting] == (local(placement.start), placement.room), placement.meeting
    removed = {m for impact in result.impacts for m in impact.removes}
    for move in result.moves:
        if move.kind == "removed" and move.meeting in removed:
            continue
        if move.kind != "added":
            assert move.meeting in result.free, move
    placed = set(after)
    explained = {u.meeting for u in result.schedule.unplaced}
    assert explained == {m.id for m in result.problem.meetings} - placed


def moved_ids(result: ResolveResult) -> set[str]:
    return {m.meeting for m in result.moves if m.kind != "added"}


# ------------------------------------------------------------ the four scenarios


def test_a_principals_late_arrival_moves_only_the_meetings_before_it() -> None:
    forum = shangri_la()
    grid = published(forum)
    arrival = LATE_ARRIVAL
    result = resolve(forum, grid, [ArrivalChanged("us-min", arrival)])
    assert_minimal(result, grid)
    hers = {m.id for m in forum.meetings if "us-min" in attendees(forum, m)}
    early = {p.meeting for p in grid.placed if p.meeting in hers and p.start < at_singapore(arrival)}
    assert early  # the scenario bites
    assert result.impacts[0].breaks == sorted(early)
    assert moved_ids(result) <= early
    for move in result.moves:
        assert move.cause.change == 0 and "arrives Friday 17:00" in move.cause.message
        if move.after is not None:
            assert move.after.start >= at_singapore(arrival)
    assert result.kept == len(grid.placed) - len(early)


def test_a_room_lost_for_a_morning_moves_only_its_meetings() -> None:
    forum = shangri_la()
    grid = published(forum)
    morning = LOST_MORNING
    result = resolve(forum, grid, [RoomUnavailable("sl-5", morning)])
    assert_minimal(result, grid)
    inside = {
        p.meeting
        for p in grid.placed
        if p.room == "sl-5" and p.start < at_singapore(morning.end) and p.end > at_singapore(morning.start)
    }
    assert inside
    assert set(result.impacts[0].breaks) == inside
    assert moved_ids(result) <= inside
    for move in result.moves:
        if move.after is not None and move.after.room == "sl-5":
            assert move.after.start >= at_singapore(morning.end) or move.after.end <= at_singapore(morning.start)


def test_a_cancelled_meeting_frees_the_slot_a_waiting_request_takes() -> None:
    # A follow-up between the US secretary and Viet Nam that only fits Saturday
    # 10:30-11:10: the pinned US-Singapore bilateral holds it, so it waits.
    forum = msgspec.structs.replace(shangri_la(), meetings=[*shangri_la().meetings, follow_up()])
    grid = published(forum)
    waiting = next(u for u in grid.unplaced if u.meeting == "US-VN")
    assert "US-SG" in waiting.blockers
    result = resolve(forum, grid, [MeetingCancelled("US-SG")])
    assert_minimal(result, grid)
    assert result.impacts[0].removes == ["US-SG"] and result.impacts[0].breaks == []
    by_meeting = {m.meeting: m for m in result.moves}
    assert set(by_meeting) == {"US-SG", "US-VN"}
    assert by_meeting["US-SG"].kind == "removed"
    assert by_meeting["US-VN"].kind == "added"
    assert by_meeting["US-VN"].cause.change == 0 and "US-SG made room" in by_meeting["US-VN"].cause.message


def test_an_urgent_request_displaces_one_meeting_and_says_so() -> None:
    forum = shangri_la()
    grid = published(forum)
    result = resolve(forum, grid, [MeetingRequested(urgent_request(), urgent=True)])
    assert_minimal(result, grid)
    placed = {p.meeting for p in result.schedule.placed}
    assert "US-CA" in placed
    displaced = moved_ids(result)
    assert len(displaced) == 1
    move = next(m for m in result.moves if m.meeting in displaced)
    assert move.cause.change == 0 and "makes room for the urgent new request" in move.cause.message
    assert move.after is not None  # moved, not dropped


def test_a_request_that_is_not_urgent_waits_instead_of_moving_anything() -> None:
    forum = shangri_la()
    grid = published(forum)
    result = resolve(forum, grid, [MeetingRequested(urgent_request())])
    assert_minimal(result, grid)
    assert result.moves == []
    reason = next(u for u in result.schedule.unplaced if u.meeting == "US-CA")
    assert reason.reason in ("capacity_conflict", "lower_priority") and reason.blockers


# ------------------------------------------------------------ changes on small forums


def small() -> Problem:
    return problem(
        [delegation(d, person(d.lower())) for d in ("AAA", "BBB", "CCC", "DDD")],
        [
            meeting("ab", ["AAA", "BBB"], 30),
            meeting("ac", ["AAA", "CCC"], 30),
            meeting("bd", ["BBB", "DDD"], 30),
            meeting("abc", ["AAA", "BBB", "CCC"], 30),
        ],
        [room("R1"), room("R2")],
    )


def small_grid(forum: Problem) -> Schedule:
    return schedule(
        forum,
        place(forum, "ab", "09:00"),
        place(forum, "ac", "09:30"),
        place(forum, "bd", "09:30", "R2"),
        place(forum, "abc", "10:00"),
    )


@pytest.mark.parametrize(
    ("change", "broken"),
    [
        (DepartureChanged("ccc", at("10:00")), ["abc"]),
        (ArrivalChanged("aaa", at("09:30")), ["ab"]),
        (ParticipantBlocked("bbb", window("09:30", "10:00")), ["bd"]),
        (RoomUnavailable("R2", window("09:00", "13:00")), ["bd"]),
        (MeetingCancelled("ab"), []),
    ],
    ids=["departure", "arrival", "blocked", "room", "cancelled"],
)
def test_each_change_breaks_exactly_the_placements_it_invalidates(change: Change, broken: list[str]) -> None:
    forum = small()
    grid = small_grid(forum)
    assert broken_by(forum, grid.placed) == []
    changed = apply_changes(forum, [change])
    assert check_problem(changed) == []
    assert broken_by(changed, grid.placed) == broken
    result = resolve(forum, grid, [change])
    assert_minimal(result, grid)
    assert result.impacts[0].breaks == broken
    assert moved_ids(result) - {"ab"} <= set(broken)


def crowded() -> tuple[Problem, Schedule]:
    """ab holds 09:00, the only time the request ac can take: moving ab would pay (ac held)."""
    forum = problem(
        [delegation(d, person(d.lower())) for d in ("AAA", "BBB", "CCC")],
        [meeting("ab", ["AAA", "BBB"], 30), meeting("ac", ["AAA", "CCC"], 30, latest=at("09:30"))],
        [room("R1")],
    )
    grid = schedule(forum, place(forum, "ab", "09:00"))
    assert validate(forum, grid).ok
    return forum, grid


def test_changes_that_cancel_each_other_move_nothing() -> None:
    forum, grid = crowded()
    late, back = ArrivalChanged("aaa", at("10:00")), ArrivalChanged("aaa", None)
    result = resolve(forum, grid, [late, back])
    assert_minimal(result, grid)
    assert [impact.breaks for impact in result.impacts] == [["ab"], []]
    assert result.moves == [] and "ab" not in result.free


def test_a_meeting_broken_again_is_charged_to_the_change_that_keeps_it_broken() -> None:
    forum, grid = crowded()
    changes: list[Change] = [
        ArrivalChanged("aaa", at("10:00")),
        ArrivalChanged("aaa", None),
        ParticipantBlocked("bbb", window("09:00", "09:30")),
    ]
    result = resolve(forum, grid, changes)
    assert_minimal(result, grid)
    assert [impact.breaks for impact in result.impacts] == [["ab"], [], ["ab"]]
    moved = next(m for m in result.moves if m.meeting == "ab")
    assert moved.cause.change == 2 and "unavailable" in moved.cause.message


def test_a_withdrawn_delegation_cancels_its_bilaterals_and_leaves_the_trilateral() -> None:
    forum = small()
    changed = apply_changes(forum, [DelegationWithdrawn("CCC")])
    assert [m.id for m in changed.meetings] == ["ab", "bd", "abc"]
    assert next(m for m in changed.meetings if m.id == "abc").delegations == ["AAA", "BBB"]
    result = resolve(forum, small_grid(forum), [DelegationWithdrawn("CCC")])
    assert result.impacts[0].removes == ["ac"]
    assert [m.meeting for m in result.moves] == ["ac"]


def test_changes_that_name_nothing_are_errors_naming_the_field() -> None:
    forum = small()
    cases: list[tuple[Change, str]] = [
        (ArrivalChanged("nobody", None), "changes[0].participant"),
        (RoomUnavailable("R9", window("09:00", "10:00")), "changes[0].room"),
        (MeetingCancelled("zz"), "changes[0].meeting"),
        (DelegationWithdrawn("ZZZ"), "changes[0].delegation"),
        (MeetingRequested(meeting("ab", ["AAA", "BBB"], 30)), "changes[0].meeting.id"),
    ]
    for change, path in cases:
        with pytest.raises(ProblemError) as error:
            apply_changes(forum, [change])
        assert error.value.findings[0].path == path
    with pytest.raises(ProblemError) as error:
        resolve(forum, small_grid(forum), [], free=["nope"])
    assert error.value.findings[0].path == "free[0]"


def test_a_room_window_ending_before_it_starts_is_refused_under_the_change() -> None:
    with pytest.raises(ProblemError) as error:
        apply_changes(small(), [RoomUnavailable("R1", window("10:00", "09:00"))])
    assert error.value.findings[0].path == "changes[0]: rooms[0].unavailable[0].end"


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (RoomUnavailable("R1", window("2019-06-02T09:00", "2019-06-02T10:00")), "changes[0].window"),
        (ParticipantBlocked("aaa", window("14:00", "15:00")), "changes[0].window"),
        (ArrivalChanged("aaa", at("09:00", day=3)), "changes[0].arrival"),
        (DepartureChanged("aaa", at("2019-06-02T09:00")), "changes[0].departure"),
    ],
    ids=["room year", "blocked after hours", "arrival after", "departure before"],
)
def test_a_change_outside_the_forums_time_is_refused_naming_the_field(change: Change, path: str) -> None:
    with pytest.raises(ProblemError) as error:
        apply_changes(small(), [change])
    assert error.value.findings[0].path == path
    assert "outside the forum" in error.value.findings[0].message


def test_a_request_naming_an_unknown_delegation_is_refused_under_the_change() -> None:
    with pytest.raises(ProblemError) as error:
        apply_changes(small(), [MeetingRequested(meeting("ax", ["AAA", "XXX"], 30))])
    assert error.value.findings[0].path.startswith("changes[0]: meetings[4]")


def test_a_freed_meeting_moves_only_when_that_pays() -> None:
    forum = small()
    grid = small_grid(forum)
    result = resolve(forum, grid, [], free=["ac"])
    assert_minimal(result, grid)
    assert result.moves == []  # nothing gains from moving it: it stays
    assert "ac" in result.free


def test_reoptimise_frees_everything_and_says_why_each_moved() -> None:
    forum = small()
    # A poor published grid: the trilateral late, in a second room.
    grid = schedule(forum, place(forum, "ab", "09:00"), place(forum, "abc", "12:00", "R2"))
    result = resolve(forum, grid, [], reoptimise=True)
    assert validate(result.problem, result.schedule).ok
    assert result.kept == 0
    assert {m.id for m in forum.meetings} <= {p.meeting for p in result.schedule.placed}
    for move in result.moves:
        assert move.cause.kind in ("reoptimised", "waiting")


def test_the_urgent_displacement_is_the_best_fit() -> None:
    forum = shangri_la()
    grid = published(forum)
    change = MeetingRequested(urgent_request(), urgent=True)
    best = fit(apply_changes(forum, [change]), grid, "US-CA", k=1)[0]
    assert len(best.moves) == 1
    result = resolve(forum, grid, [change])
    assert best.moves[0].meeting in result.free


def test_a_published_meeting_no_longer_in_the_forum_is_reported_withdrawn() -> None:
    forum = small()
    grid = small_grid(forum)
    without = msgspec.structs.replace(forum, meetings=[m for m in forum.meetings if m.id != "bd"])
    result = resolve(without, grid, [])
    assert [(m.meeting, m.kind, m.cause.kind) for m in result.moves] == [("bd", "removed", "withdrawn")]
    assert validate(result.problem, result.schedule).ok


def test_a_new_request_is_told_from_one_that_waited_in_the_published_grid() -> None:
    forum = small()
    before = msgspec.structs.replace(forum, meetings=[m for m in forum.meetings if m.id != "bd"])
    # ac waited unplaced in the published grid; bd was requested after it was published
    grid = schedule(before, place(forum, "ab", "09:00"), place(forum, "abc", "10:00"))
    result = resolve(forum, grid, [])
    assert validate(result.problem, result.schedule).ok
    causes = {m.meeting: (m.kind, m.cause.kind, m.cause.message) for m in result.moves}
    assert causes == {
        "ac": ("added", "waiting", "a waiting request that now fits"),
        "bd": ("added", "new_request", "a new request, not in the published version"),
    }


def test_a_placement_in_a_room_that_is_gone_is_broken_and_moved() -> None:
    forum = small()
    grid = small_grid(forum)
    without_r2 = msgspec.structs.replace(forum, rooms=[r for r in forum.rooms if r.id != "R2"])
    assert broken_by(without_r2, grid.placed) == ["bd"]
    result = resolve(without_r2, grid, [])
    assert validate(result.problem, result.schedule).ok
    assert [(m.meeting, m.cause.kind) for m in result.moves] == [("bd", "repair")]


def busiest_principal(forum: Problem) -> str:
    counts = Counter(person for m in forum.meetings for person in attendees(forum, m))
    principals = {p.id for d in forum.delegations for p in d.participants if p.principal}
    return max(principals, key=lambda person: (counts[person], person))


def second_day_noon(forum: Problem) -> datetime:
    day = forum.forum.days[1]
    return datetime.combine(day.date, day.start) + timedelta(hours=3)


def first_morning(forum: Problem) -> Window:
    day = forum.forum.days[0]
    start = datetime.combine(day.date, day.start)
    return Window(start, start + timedelta(hours=3))


CHANGE_MAKERS: dict[str, Callable[[Problem], Change]] = {
    "late arrival": lambda forum: ArrivalChanged(busiest_principal(forum), second_day_noon(forum)),
    "early departure": lambda forum: DepartureChanged(busiest_principal(forum), second_day_noon(forum)),
    "blocked morning": lambda forum: ParticipantBlocked(busiest_principal(forum), first_morning(forum)),
    "room lost": lambda forum: RoomUnavailable(forum.rooms[0].id, first_morning(forum)),
    "cancelled": lambda forum: MeetingCancelled(forum.meetings[0].id),
    "withdrawn": lambda forum: DelegationWithdrawn(forum.delegations[-1].id),
}


@pytest.mark.parametrize("example", ["halifax", "cdma"])
@pytest.mark.parametrize("kind", sorted(CHANGE_MAKERS))
def test_every_kind_of_change_on_other_examples_moves_only_what_it_breaks(example: str, kind: str) -> None:
    forum = load_problem((SHANGRI_LA.parent / f"{example}.json").read_bytes())
    grid = published(forum)
    change = CHANGE_MAKERS[kind](forum)
    result = resolve(forum, grid, [change])
    assert_minimal(result, grid)
    forced = set(result.impacts[0].breaks) | set(result.impacts[0].removes)
    assert moved_ids(result) <= forced
    if kind in ("late arrival", "early departure", "room lost"):
        assert forced, f"{kind} should break something in {example}"
