"""Order between meetings: precedence and keep-apart."""

from __future__ import annotations

from collections import defaultdict

from solver.formulation import Formulation


def precedence(formulation: Formulation) -> None:
    """When both are held, each meeting in `after` ends before this one starts.

    For every slot t, "this starts at or before t" excludes "the earlier one
    ends after t": one at-most-one per slot, which is the tightest encoding.
    """
    compiled = formulation.compiled
    for info in compiled.meetings:
        later = formulation.y[info.index]
        for earlier_id in info.meeting.after:
            earlier = compiled.by_id[earlier_id]
            before = formulation.y[earlier.index]
            if not later or not before:
                continue
            for slot in sorted(later):
                started = [lit for start, lit in later.items() if start <= slot]
                unfinished = [lit for start, lit in before.items() if start + earlier.length > slot]
                if unfinished:
                    formulation.model.add_at_most_one([*started, *unfinished])


def keep_apart(formulation: Formulation) -> None:
    """Meetings of one delegation of a keep-apart pair never end in a room just
    as a meeting of the other begins there.

    With keep-apart pairs every room is its own class (compile.py), and a room
    holds one meeting at a time, so "ends at t" and "starts at t" in a room are
    each at most one literal: one at-most-one per room and slot boundary.
    """
    compiled = formulation.compiled
    grid = compiled.grid
    for pair in compiled.problem.keep_apart:
        first, second = pair.delegations
        for one, other in ((first, second), (second, first)):
            ending: dict[tuple[int, int], list] = defaultdict(list)
            beginning: dict[tuple[int, int], list] = defaultdict(list)
            for info in compiled.meetings:
                with_one = one in info.delegations and other not in info.delegations
                with_other = other in info.delegations and one not in info.delegations
                for (start, room_class), literal in formulation.x[info.index].items():
                    if with_one:
                        ending[(room_class, start + info.length)].append(literal)
                    if with_other:
                        beginning[(room_class, start)].append(literal)
            for (room_class, boundary), literals in ending.items():
                following = beginning.get((room_class, boundary))
                if following and grid.day_of_slot[boundary] == grid.day_of_slot[boundary - 1]:
                    formulation.model.add_at_most_one([*literals, *following])
