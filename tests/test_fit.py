"""Fitting one meeting into a published grid.

On a small forum that exercises every rule family, the options are compared
with brute force through the independent validator: the direct options are
exactly the valid placements, and a placement that one move would open is
offered whenever some move opens it. Applying an option gives a valid grid
that differs from the published one in exactly the meetings the option names.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
import pytest

from solver.changes import MeetingRequested, apply_changes
from solver.check import ProblemError
from solver.diff import diff_schedules
from solver.fit import FitError, apply_fit, fit
from solver.model import KeepApart, Problem, Resource, ResourceUse, Travel, Venue
from solver.result import Placement, Schedule
from solver.scenarios.late_changes import urgent_request
from solver.timegrid import TimeGrid
from solver.validate import validate
from tests.builders import delegation, forum, meeting, person, place, problem, room, schedule
from tests.test_resolve import published, shangri_la

ROOMS = ("R1", "R2", "E1")


def busy_forum() -> Problem:
    """Buffers, travel between venues, room features, a resource, a daily limit,
    precedence and a keep-apart pair, on a four-hour morning."""
    return problem(
        [
            delegation("AAA", person("aaa", buffer_minutes=15, max_meetings_per_day=3)),
            delegation("BBB", person("bbb")),
            delegation("CCC", person("ccc")),
            delegation("DDD", person("ddd")),
        ],
        [
            meeting("ab", ["AAA", "BBB"], 30),
            meeting("bc", ["BBB", "CCC"], 30, resources=[ResourceUse("interp")]),
            meeting("cd", ["CCC", "DDD"], 30, after=["bc"]),
            meeting("ad", ["AAA", "DDD"], 30, features=["secure"]),
            meeting("new", ["AAA", "CCC"], 30, resources=[ResourceUse("interp")]),
        ],
        [room("R1", venue="hotel"), room("R2", venue="hotel"), room("E1", venue="embassy", features=["secure"])],
        forum=forum(slot=15, start="09:00", end="13:00"),
        venues=[Venue("hotel", "Hotel"), Venue("embassy", "Embassy")],
        travel=[Travel(("hotel", "embassy"), 30)],
        resources=[Resource("interp", "Interpreters", 1)],
        keep_apart=[KeepApart(("BBB", "DDD"))],
    )


def busy_grid(built: Problem) -> Schedule:
    return schedule(
        built,
        place(built, "ab", "09:00"),
        place(built, "bc", "10:00", "R2"),
        place(built, "cd", "10:30", "R1"),
        place(built, "ad", "11:30", "E1"),
    )


def with_placement(built: Problem, grid: Schedule, *placements: Placement) -> Schedule:
    replaced = {p.meeting for p in placements}
    return schedule(built, *[p for p in grid.placed if p.meeting not in replaced], *placements)


def every_placement(built: Problem, meeting_id: str) -> list[Placement]:
    grid = TimeGrid.of(built.forum)
    return [place(built, meeting_id, start, room_id) for start in grid.starts for room_id in ROOMS]


def aware(built: Problem, placements: list[Placement]) -> list[Placement]:
    """Placements with the aware forum-local times a solver gives, so a diff compares like with like."""
    local = TimeGrid.of(built.forum).local
    return [msgspec.structs.replace(p, start=local(p.start), end=local(p.end)) for p in placements]


def valid(built: Problem, grid: Schedule) -> bool:
    return validate(built, grid).violations == []


def key(start: datetime, room_id: str) -> tuple[str, str]:
    return (start.strftime("%H:%M"), room_id)


def test_direct_options_are_exactly_the_valid_placements() -> None:
    built, grid = busy_forum(), busy_grid(busy_forum())
    assert valid(built, grid)
    options = fit(built, grid, "new", k=1000, with_moves=False)
    offered = {key(o.start, o.room) for o in options}
    expected = {
        key(p.start, p.room) for p in every_placement(built, "new") if valid(built, with_placement(built, grid, p))
    }
    assert expected  # the case has room left
    assert offered == expected
    assert all(o.moves == [] for o in options)


def test_a_time_one_move_opens_is_offered_with_that_move() -> None:
    built, grid = busy_forum(), busy_grid(busy_forum())
    options = fit(built, grid, "new", k=1000)
    direct_starts = {key(o.start, o.room)[0] for o in options if not o.moves}
    with_move = {(key(o.start, o.room)[0], o.moves[0].meeting) for o in options if o.moves}
    assert with_move
    for start in TimeGrid.of(built.forum).starts:
        if key(start, "")[0] in direct_starts:
            continue  # a room is free at that time: no reason to move anyone
        for other in grid.placed:
            targets = [t for t in every_placement(built, "new") if t.start == start]
            opened = any(_one_move_opens(built, grid, target, other) for target in targets)
            assert opened == ((key(start, "")[0], other.meeting) in with_move), (key(start, ""), other.meeting)


def _one_move_opens(built: Problem, grid: Schedule, target: Placement, other: Placement) -> bool:
    return any(
        valid(built, with_placement(built, grid, target, spot))
        for spot in every_placement(built, other.meeting)
        if (spot.start, spot.room) != (other.start, other.room)
    )


def test_applying_any_option_gives_a_valid_grid_that_moves_only_what_it_says() -> None:
    built, grid = busy_forum(), busy_grid(busy_forum())
    for option in fit(built, grid, "new", k=1000):
        applied = apply_fit(built, grid, "new", option)
        assert valid(built, applied), option
        diff = diff_schedules(aware(built, grid.placed), applied.placed)
        assert [p.meeting for p in diff.added] == ["new"]
        assert [m.meeting for m in diff.moved] == [m.meeting for m in option.moves]
        assert applied.terms == validate(built, applied).terms


def test_options_are_ranked_by_their_cost_and_the_cost_adds_up() -> None:
    built, grid = busy_forum(), busy_grid(busy_forum())
    options = fit(built, grid, "new", k=1000)
    assert [o.cost for o in options] == sorted(o.cost for o in options)
    assert all(o.cost == sum(o.costs.values()) for o in options)
    assert fit(built, grid, "new", k=3) == options[:3]
    for option in options:
        if option.moves:
            assert option.costs["moves"] > 0


def test_the_cost_of_an_option_is_the_objective_it_adds() -> None:
    """Breaks and preferences priced by fit are what the validator finds in the applied grid."""
    built, grid = busy_forum(), busy_grid(busy_forum())
    base = validate(built, grid).terms
    for option in fit(built, grid, "new", k=1000, with_moves=False):
        terms = validate(built, apply_fit(built, grid, "new", option)).terms
        assert terms["breaks"] - base["breaks"] == option.costs["breaks"]


def test_a_displaced_meeting_can_stay_where_it_is_at_no_cost() -> None:
    built = busy_forum()
    grid = with_placement(built, busy_grid(built), place(built, "new", "12:30", "R1"))
    assert valid(built, grid)
    best = fit(built, grid, "ab", k=1)[0]
    assert key(best.start, best.room) == ("09:00", "R1") and best.cost == 0


def test_a_stale_option_is_refused() -> None:
    built, grid = busy_forum(), busy_grid(busy_forum())
    option = next(o for o in fit(built, grid, "new", k=1000) if o.moves)
    moved = option.moves[0]
    elsewhere = next(
        spot
        for spot in every_placement(built, moved.meeting)
        if (spot.start, spot.room) not in {(moved.before.start, moved.before.room)}
        and valid(built, with_placement(built, grid, spot))
    )
    with pytest.raises(FitError, match="no longer where"):
        apply_fit(built, with_placement(built, grid, elsewhere), "new", option)
    forged = msgspec.structs.replace(option, room="nowhere", moves=[])
    with pytest.raises(FitError):
        apply_fit(built, grid, "new", forged)


def test_shangri_la_urgent_request_options_move_one_meeting_each() -> None:
    forum = shangri_la()
    grid = published(forum)
    changed = apply_changes(forum, [MeetingRequested(urgent_request(), urgent=True)])
    options = fit(changed, grid, "US-CA", k=5)
    assert options and all(len(o.moves) == 1 for o in options)
    for option in options:
        applied = apply_fit(changed, grid, "US-CA", option)
        assert validate(changed, applied).violations == []
        moved = {m.meeting for m in diff_schedules(grid.placed, applied.placed).moved}
        assert moved == {option.moves[0].meeting}


def test_shangri_la_a_meeting_without_common_availability_has_no_option() -> None:
    forum = shangri_la()
    assert fit(forum, published(forum), "BD-LT") == []


def test_unknown_meeting_is_an_error_naming_it() -> None:
    built = busy_forum()
    with pytest.raises(ProblemError) as error:
        fit(built, busy_grid(built), "zz")
    assert error.value.findings[0].path == "meeting"


def test_every_rule_family_binds_somewhere_in_the_small_case() -> None:
    """Guard the brute-force tests: the case must exercise the rules, or their agreement proves little."""
    built, grid = busy_forum(), busy_grid(busy_forum())
    broken = set()
    for target in every_placement(built, "new"):
        broken |= validate(built, with_placement(built, grid, target)).broken
    assert {"participant_overlap", "room_overlap", "resource_capacity", "buffer", "travel"} <= broken
