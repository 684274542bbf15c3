"""The grid diff: each kind of change recognised, nothing unchanged reported as moved."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from solver.diff import diff_schedules
from solver.result import Placement

T0 = datetime(2023, 6, 2, 9, 0, tzinfo=timezone(timedelta(hours=8)))


def placed(meeting: str, minute: int, room: str, minutes: int = 30) -> Placement:
    start = T0 + timedelta(minutes=minute)
    return Placement(meeting, start, start + timedelta(minutes=minutes), room)


def test_each_kind_of_change_is_named() -> None:
    before = [placed("a", 0, "R1"), placed("b", 30, "R1"), placed("c", 60, "R1"), placed("d", 90, "R1")]
    after = [placed("a", 0, "R1"), placed("b", 30, "R2"), placed("c", 120, "R1"), placed("d", 150, "R2")]
    diff = diff_schedules(before, after)
    assert diff.unchanged == ["a"]
    assert [(m.meeting, m.kind) for m in diff.moved] == [("b", "room"), ("c", "time"), ("d", "time_and_room")]
    assert diff.moved[1].before.start == T0 + timedelta(minutes=60)
    assert diff.moved[1].after.start == T0 + timedelta(minutes=120)
    assert not diff.is_empty


def test_added_and_removed_meetings() -> None:
    diff = diff_schedules(
        [placed("a", 0, "R1"), placed("gone", 30, "R1")], [placed("a", 0, "R1"), placed("new", 60, "R2")]
    )
    assert [p.meeting for p in diff.added] == ["new"]
    assert [p.meeting for p in diff.removed] == ["gone"]
    assert diff.changed_meetings == {"new", "gone"}


def test_a_longer_meeting_at_the_same_start_is_a_time_change() -> None:
    diff = diff_schedules([placed("a", 0, "R1", 30)], [placed("a", 0, "R1", 45)])
    assert [m.kind for m in diff.moved] == ["time"]


def test_same_grid_is_empty_whatever_the_order() -> None:
    grid = [placed("a", 0, "R1"), placed("b", 30, "R2")]
    diff = diff_schedules(grid, list(reversed(grid)))
    assert diff.is_empty
    assert diff.unchanged == ["a", "b"]
