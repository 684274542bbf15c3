"""A floor under each participant's breaks that holds in every grid.

When every meeting of a participant must be held (`objective.must_is_hard`
and priority `must`), whether they can have a day without a break is decided
by their own meetings alone: where each may start (availability, sessions,
the other attendees' availability, windows, pins). For one-slot meetings
that all fall on one day (the B2B benchmark) that is a matching question: a
break-free day is a window of consecutive counted slots, one per meeting, and
some window must admit a perfect matching of meetings to its slots. When no
window does, the participant has at least one break.

`breaks >= floor` cuts no grid, but the LP alone lets every participant sit
at zero breaks; on B2B forum-14 and the forumt family the floors add up to
the published optimum.
"""

from __future__ import annotations

from collections.abc import Container

from solver.compile import Compiled, MeetingInfo
from solver.formulation import Formulation


def always_held(formulation: Formulation, infos: list[MeetingInfo]) -> bool:
    objective = formulation.compiled.problem.objective
    return objective.must_is_hard and all(info.meeting.priority == "must" for info in infos)


def person_break_floor(formulation: Formulation, person: str, counted: Container[int]) -> int:
    """0 or 1: a lower bound on `person`'s breaks in every grid (0 when it does not apply).

    Applies to a participant without buffer whose meetings are all held,
    one slot long and on one day; `counted` are the slots that can make a break.
    """
    compiled = formulation.compiled
    infos = formulation.meetings_of(person)
    if len(infos) < 2 or not always_held(formulation, infos) or compiled.buffer_slots.get(person, 0):
        return 0
    if any(info.length != 1 for info in infos):
        return 0
    domains = [set(formulation.y[info.index]) for info in infos]
    days = {compiled.grid.day_of_slot[start] for domain in domains for start in domain}
    if len(days) != 1:
        return 0
    day_slots = compiled.grid.day_ranges[days.pop()]
    sequence = [slot for slot in day_slots if slot in counted]
    width = len(infos)
    for first in range(len(sequence) - width + 1):
        window = set(sequence[first : first + width])
        if perfect_matching([domain & window for domain in domains]):
            return 0
    return 1


def perfect_matching(choices: list[set[int]]) -> bool:
    """True when every item can take a distinct slot of its own set (Kuhn's augmenting paths)."""
    holder: dict[int, int] = {}

    def place(item: int, seen: set[int]) -> bool:
        for slot in choices[item]:
            if slot in seen:
                continue
            seen.add(slot)
            if slot not in holder or place(holder[slot], seen):
                holder[slot] = item
                return True
        return False

    return all(place(item, set()) for item in range(len(choices)))


def window_starts(compiled: Compiled, person: str) -> list[int]:
    """Starts of the windows that the participant's meetings can fill, one meeting per slot.
    Remembered: the floor search builds dozens of models of one problem
    (one_more_broken: one per candidate), and the matchings were a fifth of each build."""
    known = compiled.derived.setdefault("window_starts", {})
    if person not in known:
        known[person] = _fillable(compiled, person)
    return list(known[person])


def _fillable(compiled: Compiled, person: str) -> list[int]:
    infos = compiled.meetings_of(person)
    width = len(infos)
    domains = [set(info.starts) for info in infos]
    return [
        first
        for first in range(compiled.grid.size - width + 1)
        if perfect_matching([domain & set(range(first, first + width)) for domain in domains])
    ]
