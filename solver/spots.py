"""The (start, room class) pairs of the meetings' domains, one tuple for each pair.

Kept out of the modules mypyc compiles (solver/native.py): compiled code holds a
`tuple[int, int]` unboxed and boxes a new tuple each time it stores one in a
list, so the domains of the 800-meeting OptaPlanner file held 6.3 M tuples and
their starts (about 600 MB) where 14,000 are distinct. Built here, every domain
holding a pair points at the same tuple, and compiled code reads them as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # compile imports this module
    from solver.compile import RoomClass


def spot_table(slots: int, classes: int) -> list[list[tuple[int, int]]]:
    """table[start][class index] is the pair (start, class index)."""
    return [[(start, index) for index in range(classes)] for start in range(slots)]


def domain_pairs(
    table: list[list[tuple[int, int]]],
    starts: Sequence[int],
    rooms: Sequence[RoomClass],
    always_open: set[int],
    length: int,
) -> list[tuple[int, int]]:
    """Start by start, each room class open throughout the meeting's `length` slots from it."""
    return [
        table[start][room_class.index]
        for start in starts
        for room_class in rooms
        if room_class.index in always_open or room_class.open_slots.issuperset(range(start, start + length))
    ]


def starts_by_day(starts: Iterable[int], day_of_slot: Sequence[int]) -> list[tuple[int, list[int]]]:
    """(day, its starts) in the order given: the local search's cheapest-spot draw
    (`LocalSearch._starts_by_day`). The lists hold the given int objects; compiled
    code would box a new one for every start past 256 (2,844 a meeting, 800
    meetings, in the OptaPlanner file)."""
    by_day: dict[int, list[int]] = {}
    for start in starts:
        by_day.setdefault(day_of_slot[start], []).append(start)
    return list(by_day.items())
