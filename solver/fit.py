"""Fit one meeting into a published grid: the best few (start, room) placements.

For a new request or a displaced meeting, every placement its static domain
allows is tried against the grid as it stands (the greedy ledger's checks,
which implement every hard rule of docs/rules.md slot by slot), and so are the
placements that become possible when one other meeting moves: that meeting is
lifted out, the placements it was blocking are tried, and for each the
nearest spot the lifted meeting can take instead is searched. Direct
enumeration, not CP-SAT: one meeting against a fixed grid is a few thousand
cheap checks, well inside the 200 ms an organiser's screen can wait.

Options are ranked by cost, in the objective's units (docs/rules.md):
the moved meeting's disruption (`weights.moved_*`), the change in breaks of
everyone involved, the preference penalty, and, for a displaced meeting, its
own move away from where it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

import msgspec

from solver.check import Finding, ProblemError
from solver.compile import Compiled, MeetingInfo, compile_problem
from solver.diff import Move, change_kind
from solver.greedy import Ledger
from solver.grid import grid_schedule
from solver.model import Problem, Room, move_weights
from solver.result import Placement, Schedule
from solver.terms import Assignment, person_breaks


class FitOption(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """One placement of the meeting and what it would move."""

    start: Annotated[datetime, msgspec.Meta(description="where the meeting would start (the forum's zone)")]
    end: Annotated[datetime, msgspec.Meta(description="where it would end")]
    room: Annotated[str, msgspec.Meta(description="the room's id")]
    cost: Annotated[int, msgspec.Meta(description="the sum of costs, in the objective's units")]
    costs: Annotated[
        dict[str, int], msgspec.Meta(description="moves, breaks, preferences, displaced (the meeting's own move)")
    ]
    moves: Annotated[list[Move], msgspec.Meta(description="other meetings it moves (at most one)")] = []


class FitError(ValueError):
    """The option cannot be applied to this grid (it changed since the options were computed)."""


Spot = tuple[int, Room]  # (start slot, room)


@dataclass
class _Grid:
    """The published grid in the ledger, the meeting to fit lifted out of it."""

    compiled: Compiled
    info: MeetingInfo
    ledger: Ledger
    assignment: Assignment  # every other placed meeting
    rooms: dict[str, Room]
    own: tuple[int, str] | None  # where the meeting was, when it is displaced
    # person -> meeting -> start in the published grid (the meeting to fit included
    # when displaced), so that an option's breaks touch only its people's meetings
    starts_of: dict[str, dict[str, int]]
    suitable_rooms: set[str]  # rooms some placement of the meeting could use

    def spot_allowed(self, info: MeetingInfo, start: int, room: Room) -> bool:
        return self.ledger.people_and_order_allow(info, start) and self.room_and_gaps_allow(info, start, room)

    def room_and_gaps_allow(self, info: MeetingInfo, start: int, room: Room) -> bool:
        return self.ledger.room_allows(info, start, room) and self.ledger.gaps_allow(info, start, room.venue)

    def spots(self, info: MeetingInfo) -> Iterator[Spot]:
        for start, class_index in info.domain:
            for room in self.compiled.classes[class_index].rooms:
                yield start, room


def fit(
    problem: Problem,
    schedule: Schedule,
    meeting_id: str,
    k: int = 5,
    *,
    with_moves: bool = True,
    compiled: Compiled | None = None,
) -> list[FitOption]:
    """The `k` cheapest placements of `meeting_id` against `schedule`, best first.

    The meeting may be new (unplaced in `schedule`) or displaced (placed: its
    own placement is lifted out first). With `with_moves`, placements that move
    exactly one other meeting to its nearest free spot are included, at the
    starts where the meeting fits in no room as the grid stands. `compiled` is
    `compile_problem(problem)` when the caller kept it: at UNGA's size compiling
    is most of a fit without moves.
    """
    grid = _lifted(problem, schedule, meeting_id, compiled)
    options = {(start, room.id): option for start, room, option in _direct(grid)}
    if with_moves:
        for start, room, option in _with_one_move(grid, set(options)):
            best = options.get((start, room.id))
            if best is None or option.cost < best.cost:
                options[(start, room.id)] = option
    ranked = sorted(options.values(), key=lambda o: (o.cost, len(o.moves), o.start, o.room))
    return ranked[:k]


def apply_fit(problem: Problem, schedule: Schedule, meeting_id: str, option: FitOption) -> Schedule:
    """The grid with `option` applied: the meeting placed, the meetings it moves moved.

    Raises FitError when the option no longer fits the grid.
    """
    grid = _lifted(problem, schedule, meeting_id)
    for move in option.moves:
        other = grid.compiled.by_id.get(move.meeting)
        if other is None or grid.assignment.get(move.meeting) != _slot_room(grid, move.before):
            raise FitError(f"{move.meeting} is no longer where the option expects it")
        grid.ledger.unbook(other, *_spot(grid, move.before))
        del grid.assignment[move.meeting]
    placements = [(grid.info, option.start, option.room)] + [
        (grid.compiled.by_id[move.meeting], move.after.start, move.after.room) for move in option.moves
    ]
    for info, start, room_id in placements:
        slot = grid.compiled.grid.slot_at(start)
        room = grid.rooms.get(room_id)
        if slot is None or room is None or (slot, room_id) not in _domain_spots(grid, info):
            raise FitError(f"{info.id} cannot start {start} in {room_id}")
        if not grid.spot_allowed(info, slot, room):
            raise FitError(f"{info.id} no longer fits {grid.compiled.grid.describe(start)} in {room.name}")
        grid.ledger.book(info, slot, room)
        grid.assignment[info.id] = (slot, room_id)
    return grid_schedule(grid.compiled, grid.assignment)


def _lifted(problem: Problem, schedule: Schedule, meeting_id: str, compiled: Compiled | None = None) -> _Grid:
    compiled = compiled if compiled is not None else compile_problem(problem)
    info = compiled.by_id.get(meeting_id)
    if info is None:
        raise ProblemError([Finding("meeting", f"unknown meeting {meeting_id!r}")])
    rooms = {room.id: room for room in problem.rooms}
    ledger = Ledger(compiled)
    assignment: Assignment = {}
    own = None
    for placement in schedule.placed:
        slot = compiled.grid.slot_at(placement.start)
        if placement.meeting not in compiled.by_id or slot is None or placement.room not in rooms:
            continue  # not a meeting of this problem any more: it holds nothing
        if placement.meeting == meeting_id:
            own = (slot, placement.room)
            continue
        ledger.book(compiled.by_id[placement.meeting], slot, rooms[placement.room])
        assignment[placement.meeting] = (slot, placement.room)
    starts_of: dict[str, dict[str, int]] = {person: {} for person in compiled.people}
    for placed_id, (start, _) in [*assignment.items(), (meeting_id, own)] if own else assignment.items():
        for person in compiled.by_id[placed_id].people:
            starts_of[person][placed_id] = start
    suitable = {room.id for _, class_index in info.domain for room in compiled.classes[class_index].rooms}
    return _Grid(compiled, info, ledger, assignment, rooms, own, starts_of, suitable)


def _direct(grid: _Grid) -> Iterator[tuple[int, Room, FitOption]]:
    for start, room in grid.spots(grid.info):
        if grid.spot_allowed(grid.info, start, room):
            yield start, room, _option(grid, start, room, None)


def _with_one_move(grid: _Grid, direct: set[tuple[int, str]]) -> Iterator[tuple[int, Room, FitOption]]:
    """Placements blocked by exactly one meeting that can move elsewhere.

    Only at starts where no room is free: moving someone's meeting merely to
    get another room at a time the meeting could have anyway is disruption
    for nothing. One option per start and moved meeting, in the smallest room
    that works: the same move with another room is no new choice. Each
    neighbour is lifted out in turn; only the target's starts near it (or
    all, when it binds through precedence or a daily limit) can open.
    """
    info, compiled = grid.info, grid.compiled
    direct_starts = {start for start, _ in direct}
    by_start: dict[int, list[Room]] = {}
    for start, room in sorted(grid.spots(info), key=lambda spot: (spot[0], spot[1].seats, spot[1].id)):
        if start not in direct_starts:
            by_start.setdefault(start, []).append(room)  # smallest room first, as greedy does
    for other_id, (other_start, other_room) in sorted(grid.assignment.items()):
        other = compiled.by_id[other_id]
        if not _may_block(grid, other):
            continue
        room = grid.rooms[other_room]
        grid.ledger.unbook(other, other_start, room)
        del grid.assignment[other_id]
        try:
            refuges: list[Spot] | None = None  # where `other` could go, found once it is needed
            for start in _starts_near(grid, other, other_start, by_start):
                if not grid.ledger.people_and_order_allow(info, start):
                    continue
                for target_room in by_start[start]:
                    if not grid.room_and_gaps_allow(info, start, target_room):
                        continue
                    if refuges is None:
                        refuges = _refuges(grid, other, (other_start, room))
                    option = _relocated(grid, start, target_room, other, (other_start, room), refuges)
                    if option is not None:
                        yield start, target_room, option
                        break  # one room per time and moved meeting: the others are the same move again
        finally:
            grid.ledger.book(other, other_start, room)
            grid.assignment[other_id] = (other_start, other_room)


def _may_block(grid: _Grid, other: MeetingInfo) -> bool:
    """`other` shares something with the meeting to fit: people, a suitable room, a resource, an order."""
    info = grid.info
    if set(info.people) & set(other.people) or other.id in info.meeting.after or info.id in other.meeting.after:
        return True
    resources = {use.resource for use in info.meeting.resources}
    if resources & {use.resource for use in other.meeting.resources}:
        return True
    return grid.assignment[other.id][1] in grid.suitable_rooms


def _starts_near(grid: _Grid, other: MeetingInfo, other_start: int, by_start: dict[int, list[Room]]) -> list[int]:
    info, compiled = grid.info, grid.compiled
    if other.id in info.meeting.after or info.id in other.meeting.after:
        return sorted(by_start)
    day = compiled.grid.day_of_slot[other_start]
    limited = any(compiled.people[p].max_meetings_per_day is not None for p in set(info.people) & set(other.people))
    if limited:
        return sorted(start for start in by_start if compiled.grid.day_of_slot[start] == day)
    reach = max((compiled.gap_needed(p, a, b) for p in info.people for a, b in _venue_pairs(grid)), default=0) + 1
    low, high = other_start - info.length - reach, other_start + other.length + reach
    return sorted(start for start in by_start if low <= start <= high)


def _venue_pairs(grid: _Grid) -> list[tuple[str | None, str | None]]:
    venues = {room.venue for room in grid.rooms.values()}
    return [(a, b) for a in venues for b in venues]


def _refuges(grid: _Grid, other: MeetingInfo, was: tuple[int, Room]) -> list[Spot]:
    """Where `other` (lifted out of the grid) could go, least disruptive first."""
    return [spot for spot in _by_closeness(grid, other, was) if grid.spot_allowed(other, *spot)]


def _relocated(
    grid: _Grid, start: int, room: Room, other: MeetingInfo, was: tuple[int, Room], refuges: list[Spot]
) -> FitOption | None:
    """With the meeting placed at (start, room), the first of `other`'s refuges still free."""
    grid.ledger.book(grid.info, start, room)
    shared = set(grid.info.people) & set(other.people)
    full = _full_days(grid, other)
    day_of_slot = grid.compiled.grid.day_of_slot
    try:
        for other_start, other_room in refuges:
            if day_of_slot[other_start] in full:
                continue
            if shared and _too_close(grid, shared, (start, room, grid.info), (other_start, other_room, other)):
                continue  # the common attendees cannot make both: no need for the full check
            if grid.spot_allowed(other, other_start, other_room):
                return _option(grid, start, room, (other, was, (other_start, other_room)))
        return None
    finally:
        grid.ledger.unbook(grid.info, start, room)


def _full_days(grid: _Grid, info: MeetingInfo) -> set[int]:
    """Days on which an attendee of `info` already has their daily limit of meetings."""
    people, ledger = grid.compiled.people, grid.ledger
    return {
        day
        for person in info.people
        if (limit := people[person].max_meetings_per_day) is not None
        for day in range(len(grid.compiled.grid.day_ranges))
        if len(ledger.person_day[(person, day)]) >= limit
    }


def _too_close(
    grid: _Grid, people: set[str], first: tuple[int, Room, MeetingInfo], second: tuple[int, Room, MeetingInfo]
) -> bool:
    """Two placements that the people they share could not both attend (overlap, buffer or travel)."""
    compiled = grid.compiled
    (start_a, room_a, info_a), (start_b, room_b, _) = sorted((first, second), key=lambda item: item[0])
    if compiled.grid.day_of_slot[start_a] != compiled.grid.day_of_slot[start_b]:
        return False
    gap = start_b - (start_a + info_a.length)
    return any(gap < compiled.gap_needed(person, room_a.venue, room_b.venue) for person in people)


def _by_closeness(grid: _Grid, other: MeetingInfo, was: tuple[int, Room]) -> list[Spot]:
    """`other`'s spots, least disruptive first: same start in another room, then
    the nearest start on the same day, then other days."""
    old_start, old_room = was
    day = grid.compiled.grid.day_of_slot[old_start]
    spots = [spot for spot in grid.spots(other) if spot != (old_start, old_room)]
    return sorted(
        spots,
        key=lambda spot: (
            spot[0] != old_start,
            grid.compiled.grid.day_of_slot[spot[0]] != day,
            abs(spot[0] - old_start),
            spot[0],
            spot[1].id,
        ),
    )


def _option(grid: _Grid, start: int, room: Room, moved: tuple[MeetingInfo, tuple[int, Room], Spot] | None) -> FitOption:
    compiled, info = grid.compiled, grid.info
    weights = compiled.problem.objective.weights
    costs = {"moves": 0, "breaks": 0, "preferences": 0, "displaced": 0}
    if info.meeting.preferred and start not in info.preferred_starts:
        costs["preferences"] = weights.preferences
    if grid.own is not None:
        costs["displaced"] = _move_cost(grid, info, grid.own, (start, room.id))
    moves: list[Move] = []
    changed = {info.id: (start, room.id)}
    if moved is not None:
        other, (old_start, old_room), (new_start, new_room) = moved
        costs["moves"] = _move_cost(grid, other, (old_start, old_room.id), (new_start, new_room.id))
        before, after = _placement(grid, other, old_start, old_room.id), _placement(grid, other, new_start, new_room.id)
        moves.append(Move(other.id, before, after, change_kind(before, after) or "room"))
        changed[other.id] = (new_start, new_room.id)
    costs["breaks"] = weights.breaks * _breaks_delta(grid, changed)
    return FitOption(
        start=compiled.grid.starts[start],
        end=compiled.grid.end_of(start, info.length),
        room=room.id,
        cost=sum(costs.values()),
        costs=costs,
        moves=moves,
    )


def _move_cost(grid: _Grid, info: MeetingInfo, before: tuple[int, str], after: tuple[int, str]) -> int:
    moved_time, moved_room = move_weights(grid.compiled.problem.objective.weights, info.principal)
    if before[0] != after[0]:
        return moved_time
    return moved_room if before[1] != after[1] else 0


def _breaks_delta(grid: _Grid, changed: dict[str, tuple[int, str]]) -> int:
    """Breaks after minus before, for everyone whose day the change touches.

    `grid.assignment` holds the grid without the meeting to fit; `changed`
    says where it and the meeting it moves end up.
    """
    compiled = grid.compiled
    people = {person for meeting_id in changed for person in compiled.by_id[meeting_id].people}
    delta = 0
    for person in people:
        before = grid.starts_of[person]
        after = {**before, **{m: start for m, (start, _) in changed.items() if person in compiled.by_id[m].people}}
        delta += _breaks_of(grid, person, after) - _breaks_of(grid, person, before)
    return delta


def _breaks_of(grid: _Grid, person: str, starts: dict[str, int]) -> int:
    by_id = grid.compiled.by_id
    spans = [(start, start + by_id[meeting_id].length - 1) for meeting_id, start in starts.items()]
    return person_breaks(grid.compiled, person, spans)


def _placement(grid: _Grid, info: MeetingInfo, start: int, room: str) -> Placement:
    time_grid = grid.compiled.grid
    return Placement(info.id, time_grid.starts[start], time_grid.end_of(start, info.length), room, slot=start)


def _slot_room(grid: _Grid, placement: Placement) -> tuple[int | None, str]:
    return grid.compiled.grid.slot_at(placement.start), placement.room


def _spot(grid: _Grid, placement: Placement) -> Spot:
    slot = grid.compiled.grid.slot_at(placement.start)
    assert slot is not None  # checked against the assignment by the caller
    return slot, grid.rooms[placement.room]


def _domain_spots(grid: _Grid, info: MeetingInfo) -> set[tuple[int, str]]:
    return {(start, room.id) for start, room in grid.spots(info)}
