"""Idle breaks inside each participant's day, and the B2B fairness bound on them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Container

from ortools.sat.python import cp_model

from solver.compile import MeetingInfo
from solver.formulation import Formulation
from solver.objective.break_bounds import person_break_floor
from solver.objective.break_windows import proven_floor


def breaks(formulation: Formulation) -> cp_model.LinearExprT:
    """Cost of the breaks: per participant and day, the idle gaps between meetings.

    Counts are exact in both directions, because the spread limit compares
    participants' breaks and a slack count could otherwise be inflated to
    satisfy it.
    """
    objective = formulation.compiled.problem.objective
    if objective.weights.breaks == 0 and objective.break_spread_limit is None:
        return 0  # prob046: nothing to count, so no literals to build
    per_person = {person: _breaks_of(formulation, person) for person in formulation.compiled.people}
    if objective.break_spread_limit is not None:
        _limit_spread(formulation, per_person, objective.break_spread_limit)
    total = sum(per_person.values())
    floor = sum(_lower_bound(formulation, count) for count in per_person.values())
    # The zero-break model, when the hint step proved it infeasible, is worth one break.
    floor = max(floor, proven_floor(formulation.compiled))
    if floor > 0:
        # A variable whose domain starts at the participants' floors: without
        # the LP (the SAT-style subsolvers) only a domain reaches the objective bound.
        upper = formulation.compiled.grid.size * len(per_person)
        all_breaks = formulation.model.new_int_var(floor, upper, "all_breaks")
        formulation.model.add(all_breaks == total)
        total = all_breaks
    return objective.weights.breaks * total


def _lower_bound(formulation: Formulation, count: cp_model.LinearExprT) -> int:
    if isinstance(count, cp_model.IntVar):
        return formulation.model.proto.variables[count.index].domain[0]
    return 0


def _breaks_of(formulation: Formulation, person: str) -> cp_model.LinearExprT:
    infos = formulation.meetings_of(person)
    if len(infos) < 2:
        return 0
    compiled = formulation.compiled
    counted = _counted_slots(formulation, person)
    buffer = compiled.buffer_slots.get(person, 0)
    days: list[cp_model.LinearExprT] = []
    for day, day_slots in enumerate(compiled.grid.day_ranges):
        that_day = [info for info in infos if formulation.starts_on_day(info, day)]
        if len(that_day) < 2:
            continue
        if buffer == 0:
            days.append(_day_gap_starts(formulation, [slot for slot in day_slots if slot in counted], day, that_day))
        else:
            following = _next_after_buffer(formulation, person, day_slots, counted)
            days.append(_day_breaks(formulation, day, following, that_day))
    floor = person_break_floor(formulation, person, counted)
    if floor == 0 and len(days) <= 1:
        return sum(days)
    count = formulation.model.new_int_var(floor, compiled.grid.size, "person_breaks")
    formulation.model.add(count == sum(days))
    return count


def _counted_slots(formulation: Formulation, person: str) -> Container[int]:
    compiled = formulation.compiled
    if compiled.problem.objective.breaks_count_unavailable:
        return range(compiled.grid.size)
    return compiled.available[person]


def _day_gap_starts(
    formulation: Formulation, sequence: list[int], day: int, infos: list[MeetingInfo]
) -> cp_model.LinearExprT:
    """Breaks of one participant-day without buffer: the number of gap starts.

    Over the day's counted slots in order, a gap starts at position i when
    the participant is busy at i, idle at i+1 and busy somewhere later.
    Uncounted slots are left out of the sequence, so idling through them is
    no break; no meeting covers one (a meeting only takes slots all its
    attendees are available in, and those are counted).

    Measured against one pair literal per possible (end, next start): B2B
    grids about a third lower at 10 s and more instances proven (docs/engine.md);
    the busy literals also carry the busy-total identity below.
    """
    model = formulation.model
    covering = formulation.cover(infos)
    used = [_busy(model, covering.get(slot, [])) for slot in sequence]
    if set(covering) <= set(sequence):
        # Redundant: the busy slots add up to the meetings' lengths. With every
        # meeting held this is a constant, so once the day's runs are decided
        # the remaining busy slots are forced. Stated only when no meeting of
        # the participant can start on another day (B2B's single day): that is
        # where it was measured.
        held = [info.length * literal for info in infos for literal in formulation.starts_on_day(info, day).values()]
        model.add(sum(used) == sum(held))
    later = _busy_later(model, used)
    gaps = []
    for position in range(len(sequence) - 1):
        here, following, further = used[position], used[position + 1], later[position + 1]
        if isinstance(here, int) or isinstance(further, int):
            continue  # never busy here or never busy later: no gap can start
        gap = model.new_bool_var("gap_start")
        model.add_implication(gap, here)
        model.add_implication(gap, further)
        if not isinstance(following, int):
            model.add_implication(gap, ~following)
            model.add_bool_or([gap, ~here, following, ~further])
        else:
            model.add_bool_or([gap, ~here, ~further])
        gaps.append(gap)
    return sum(gaps)


def _busy(model: cp_model.CpModel, literals: list[cp_model.IntVar]) -> cp_model.IntVar | int:
    """One literal for "some meeting covers this slot" (at most one does), or 0."""
    if not literals:
        return 0
    if len(literals) == 1:
        return literals[0]
    busy = model.new_bool_var("busy")
    model.add(sum(literals) == busy)
    return busy


def _busy_later(model: cp_model.CpModel, used: list) -> list:
    """later[i]: busy at some position after i (0 when that cannot happen)."""
    later: list = [0] * len(used)
    for position in range(len(used) - 2, -1, -1):
        parts = [part for part in (used[position + 1], later[position + 1]) if not isinstance(part, int)]
        if not parts:
            continue
        if len(parts) == 1:
            later[position] = parts[0]
            continue
        flag = model.new_bool_var("busy_later")
        model.add_max_equality(flag, parts)
        later[position] = flag
    return later


def _next_after_buffer(
    formulation: Formulation, person: str, day_slots: range, counted: Container[int]
) -> dict[int, int]:
    """last slot of a meeting -> the start of a following meeting that makes
    no break: the first counted slot after the participant's buffer."""
    buffer = formulation.compiled.buffer_slots.get(person, 0)
    following: dict[int, int] = {}
    for last in day_slots:
        after = [slot for slot in range(last + buffer + 1, day_slots.stop) if slot in counted]
        if after:
            following[last] = after[0]
    return following


def _day_breaks(
    formulation: Formulation, day: int, following: dict[int, int], infos: list[MeetingInfo]
) -> cp_model.IntVar:
    """Breaks of one participant-day with a buffer: meetings held minus
    back-to-back pairs minus one, with one pair literal per possible
    (end, next start after the buffer) boundary."""
    model = formulation.model
    starting: dict[int, list] = defaultdict(list)
    ending: dict[int, list] = defaultdict(list)
    held = []
    for info in infos:
        for start, literal in formulation.starts_on_day(info, day).items():
            starting[start].append(literal)
            ending[start + info.length - 1].append(literal)
            held.append(literal)
    adjacent = []
    for last, enders in ending.items():
        starters = starting.get(following.get(last, -1))
        if starters:
            pair = model.new_bool_var("back_to_back")
            model.add(pair <= sum(enders))
            model.add(pair <= sum(starters))
            model.add(pair >= sum(enders) + sum(starters) - 1)
            adjacent.append(pair)
    any_held = model.new_bool_var("any_held")
    model.add_max_equality(any_held, held)
    # A bounded variable, not the bare expression: the LP relaxation of the
    # max alone would let every participant-day add -1 to the bound.
    count = model.new_int_var(0, len(infos), "breaks")
    model.add(count == sum(held) - sum(adjacent) - any_held)
    return count


def _limit_spread(formulation: Formulation, per_person: dict, limit: int) -> None:
    """max breaks - min breaks <= limit, over every participant."""
    model = formulation.model
    fewest = model.new_int_var(0, formulation.compiled.grid.size, "fewest_breaks")
    for count in per_person.values():
        model.add(fewest <= count)
        model.add(count <= fewest + limit)
