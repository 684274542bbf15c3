"""Handing out concrete rooms inside each room class after the solve.

The model only guarantees that no class holds more meetings than it has
rooms in any slot. Meetings of one class, taken in order of start, can then
always be given a free room (interval graphs are perfect), so this never fails.
"""

from __future__ import annotations

from collections import defaultdict

from solver.compile import Compiled
from solver.terms import Assignment


def assign_rooms(compiled: Compiled, chosen: dict[int, tuple[int, int]]) -> Assignment:
    """meeting index -> (start, class) becomes meeting id -> (start, room id)."""
    by_class: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for index, (start, room_class) in chosen.items():
        by_class[room_class].append((start, index))
    assignment: Assignment = {}
    for room_class, entries in by_class.items():
        rooms = [room.id for room in compiled.classes[room_class].rooms]
        free_from = dict.fromkeys(rooms, -1)  # room -> first slot it is free again
        for start, index in sorted(entries):
            info = compiled.meetings[index]
            free = [room for room in rooms if free_from[room] <= start]
            wanted = info.previous[1] if info.previous else None
            room = wanted if wanted in free else free[0]
            free_from[room] = start + info.length
            assignment[info.id] = (start, room)
    return assignment
