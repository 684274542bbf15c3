"""The slot grid's shortcuts agree with the definitions they replace: the
starts a meeting's length fits into (a day at a time, not slot by slot), and
compile's starts free to every attendee (runs of free slots, not a set per start)."""

from __future__ import annotations

from datetime import time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from solver.compile import compile_problem, feasible_starts
from solver.model import Day, Forum, Window
from solver.timegrid import TimeGrid
from tests.builders import FIRST_DAY, ZONE, delegation, meeting, person, problem, room, window

HOURS = st.tuples(st.integers(7, 12), st.integers(1, 6))  # a day's first hour and how many hours


def forum_of(days: list[tuple[int, int]]) -> Forum:
    return Forum(
        name="Grid",
        time_zone=ZONE,
        slot_minutes=30,
        days=[
            Day(FIRST_DAY + timedelta(days=index), time(first), time(first + hours))
            for index, (first, hours) in enumerate(days)
        ],
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(HOURS, min_size=1, max_size=4), st.integers(1, 14))
def test_fitting_starts_are_the_slots_where_the_length_fits_inside_one_day(
    days: list[tuple[int, int]], length: int
) -> None:
    grid = TimeGrid.of(forum_of(days))
    assert grid.fitting_starts(length) == [slot for slot in range(grid.size) if grid.fits(slot, length)]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 15), st.integers(1, 4)), max_size=3),
    st.lists(st.tuples(st.integers(0, 15), st.integers(1, 4)), max_size=3),
    st.integers(1, 4),
)
def test_feasible_starts_are_the_starts_whose_slots_are_all_free_to_every_attendee(
    blocked_a: list[tuple[int, int]], blocked_b: list[tuple[int, int]], length: int
) -> None:
    def windows(blocked: list[tuple[int, int]]) -> list[Window]:
        clock = [f"{9 + half // 2:02d}:{30 * (half % 2):02d}" for half in range(17)]  # 09:00 .. 17:00
        return [window(clock[first], clock[min(16, first + span)]) for first, span in blocked]

    prob = problem(
        delegations=[
            delegation("A", person("a", blocked=windows(blocked_a))),
            delegation("B", person("b", blocked=windows(blocked_b))),
        ],
        meetings=[meeting("m", ["A", "B"], 30 * length)],
        rooms=[room("r")],
        forum=forum_of([(9, 8)]),
    )
    compiled = compile_problem(prob)
    info = compiled.meetings[0]
    free = compiled.available["a"] & compiled.available["b"]
    naive = [start for start in compiled.grid.fitting_starts(length) if free.issuperset(info.covers(start))]
    assert feasible_starts(compiled, info) == naive
