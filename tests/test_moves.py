"""Manual moves (solver/moves.py): a clash blocks, a clean move passes, a worse grid only warns."""

from __future__ import annotations

import pytest

from solver.model import Problem
from solver.moves import UnknownMeeting, apply_move, check_move
from solver.result import Schedule
from tests.builders import at, delegation, meeting, person, place, problem, room, schedule, window


def four_meetings() -> tuple[Problem, Schedule]:
    """AUS meets JPN 09:00 and SGP 09:30 in R1; IND-KOR 09:00 and IND-SGP 10:00 in R2 (prefers 10:00-10:30)."""
    built = problem(
        [delegation(code, person(f"{code}-min")) for code in ("aus", "jpn", "sgp", "ind", "kor")],
        [
            meeting("aus-jpn", ["aus", "jpn"], 30),
            meeting("aus-sgp", ["aus", "sgp"], 30),
            meeting("ind-kor", ["ind", "kor"], 30),
            meeting("ind-sgp", ["ind", "sgp"], 30, preferred=[window("10:00", "10:30")]),
        ],
        rooms=[room("R1"), room("R2")],
    )
    grid = schedule(
        built,
        place(built, "aus-jpn", "09:00", "R1"),
        place(built, "aus-sgp", "09:30", "R1"),
        place(built, "ind-kor", "09:00", "R2"),
        place(built, "ind-sgp", "10:00", "R2"),
    )
    return built, grid


def test_a_move_onto_a_clash_is_blocked_and_names_the_rules() -> None:
    built, grid = four_meetings()
    # aus-sgp onto 09:00 in R1: R1 already holds aus-jpn, and the AUS minister is in it
    check = check_move(built, grid, "aus-sgp", at("09:00"), "R1")
    assert not check.allowed
    assert {v.rule for v in check.blocking} == {"room_overlap", "participant_overlap"}
    assert all("aus-sgp" in v.meetings and "aus-jpn" in v.meetings for v in check.blocking)
    assert check.before is not None and check.before.start == at("09:30")
    assert grid.placed[1].start == at("09:30")  # the input is untouched


def test_a_clean_move_has_nothing_to_report() -> None:
    built, grid = four_meetings()
    check = check_move(built, grid, "ind-kor", at("12:00"), "R1")
    assert check.allowed and check.warnings == []
    assert check.after.start.hour == 12 and check.after.room == "R1"
    assert check.after.end.hour == 12 and check.after.end.minute == 30
    assert check.objective_after == check.objective_before


def test_a_move_that_misses_a_preferred_window_and_adds_a_break_only_warns() -> None:
    built, grid = four_meetings()
    # ind-sgp to 10:30: outside 10:00-10:30, and the SGP minister (aus-sgp ends 10:00) idles 10:00-10:30
    check = check_move(built, grid, "ind-sgp", at("10:30"), "R2")
    assert check.allowed
    terms = {warning.term: warning for warning in check.warnings}
    assert set(terms) == {"preferences", "breaks"}
    assert terms["preferences"].cost == built.objective.weights.preferences
    assert terms["breaks"].participants == ["sgp-min"]
    assert "Sgp-Min" in terms["breaks"].message
    assert check.objective_after - check.objective_before == sum(w.cost for w in check.warnings)


def test_an_unplaced_meeting_can_be_moved_onto_the_grid() -> None:
    built, grid = four_meetings()
    grid = schedule(built, *[p for p in grid.placed if p.meeting != "ind-kor"])
    moved = apply_move(built, grid, "ind-kor", at("12:00"), "R2")
    assert [u.meeting for u in moved.unplaced] == []
    check = check_move(built, grid, "ind-kor", at("12:00"), "R2")
    assert check.before is None and check.allowed
    assert check.objective_after < check.objective_before  # one more meeting held


def test_an_off_grid_start_blocks_and_an_unknown_meeting_is_refused() -> None:
    built, grid = four_meetings()
    assert {v.rule for v in check_move(built, grid, "ind-kor", at("12:50"), "R2").blocking} == {"grid"}
    with pytest.raises(UnknownMeeting):
        check_move(built, grid, "nope", at("10:00"), "R1")
