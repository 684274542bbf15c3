"""Why a meeting was left out, in a code a program can act on and a sentence a
person understands.

Direct analysis of domains, not a second CP-SAT solve: a meeting whose static
domain is empty is explained by the rule that emptied it; otherwise every
candidate (start, room class) is checked against the meetings that were kept,
and a small set of kept meetings that together block every candidate is
named (a greedy hitting set, then pruned to be minimal). That is the same
answer an assumption core would give, in milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from solver.compile import (
    Compiled,
    MeetingInfo,
    candidate_starts,
    feasible_starts,
    session_blocks,
    suitable_classes,
)
from solver.model import Participant
from solver.result import Unplaced
from solver.terms import Assignment

Group = frozenset[str]  # meetings that jointly block a candidate


def explain_unplaced(compiled: Compiled, assignment: Assignment, proven: bool = False) -> list[Unplaced]:
    """Why each meeting is left out of `assignment`; `proven`: the grid is proven optimal."""
    return [explain(compiled, info, assignment, proven) for info in compiled.meetings if info.id not in assignment]


def explain_infeasible(compiled: Compiled) -> list[Unplaced]:
    """With must meetings hard and no grid holding them all, no meeting is placed."""
    return [
        _static_reason(compiled, info)
        or Unplaced(info.id, "capacity_conflict", "no grid holds every must meeting at once (proven infeasible)")
        for info in compiled.meetings
    ]


def explain(compiled: Compiled, info: MeetingInfo, assignment: Assignment, proven: bool = False) -> Unplaced:
    static = _static_reason(compiled, info)
    if static is not None:
        return static
    candidates = [_blocking_groups(compiled, info, start, c, assignment) for start, c in info.domain]
    if any(not groups for groups in candidates):
        if proven:  # the search did not stop short: holding it is worse
            return Unplaced(info.id, "costs_more", _COSTS_MORE)
        return Unplaced(
            info.id, "not_reached", "it fits in the grid as it stands; the search stopped before placing it"
        )
    blockers = _minimal_blockers(candidates)
    ranked = sorted(blockers, key=lambda m: (-compiled.by_id[m].weight, m))
    named = ", ".join(f"{label(compiled, compiled.by_id[m])} ({compiled.by_id[m].meeting.priority})" for m in ranked)
    if all(compiled.by_id[m].weight > info.weight for m in blockers):
        message = f"every possible time and room would displace meetings that rank higher: {named}"
        return Unplaced(info.id, "lower_priority", message, ranked)
    message = f"all {len(info.domain)} possible times and rooms are taken; together these block them: {named}"
    return Unplaced(info.id, "capacity_conflict", message, ranked)


_COSTS_MORE = (
    "it fits in the grid as it stands, but the grid is proven optimal without it: holding it would cost more "
    "than leaving it out (the breaks or missed preferred windows it brings, or the break spread limit)"
)


def label(compiled: Compiled, info: MeetingInfo) -> str:
    if info.meeting.title:
        return info.meeting.title
    names = {d.id: d.country for d in compiled.problem.delegations}
    return "–".join(names.get(d, d) for d in info.delegations)


def _static_reason(compiled: Compiled, info: MeetingInfo) -> Unplaced | None:
    barred = [person for person in info.people if compiled.people[person].max_meetings_per_day == 0]
    if barred:  # no domain pair is lost, but the daily limit forbids every one
        text = "; ".join(f"{_who(compiled, person)} may attend no meeting (a daily limit of 0)" for person in barred)
        return Unplaced(info.id, "no_common_availability", f"no common availability: {text}", barred)
    if info.domain:
        return None
    if not candidate_starts(compiled, info):
        return Unplaced(info.id, "outside_window", _window_message(compiled, info))
    rooms = suitable_classes(compiled, info.meeting)
    if not rooms:
        return Unplaced(info.id, "no_suitable_room", _room_message(compiled, info))
    if not feasible_starts(compiled, info):
        people = _unavailable_together(compiled, info)
        return Unplaced(info.id, "no_common_availability", _availability_message(compiled, info, people), people)
    ids = [room.id for room_class in rooms for room in room_class.rooms]
    return Unplaced(
        info.id,
        "no_room_available",
        "the rooms that suit it are closed whenever all attendees are free: " + ", ".join(ids),
        ids,
    )


def _window_message(compiled: Compiled, info: MeetingInfo) -> str:
    meeting, grid = info.meeting, compiled.grid
    parts = []
    if meeting.pinned_start:
        parts.append(f"pinned to {grid.describe(meeting.pinned_start)}")
    if meeting.earliest:
        parts.append(f"not before {grid.describe(meeting.earliest)}")
    if meeting.latest:
        parts.append(f"ending by {grid.describe(meeting.latest)}")
    limits = " and ".join(parts) or "its duration"
    return f"{limits} leaves no {meeting.duration_minutes}-minute start within the forum's hours"


def _room_message(compiled: Compiled, info: MeetingInfo) -> str:
    meeting = info.meeting
    seats = meeting.seats if meeting.seats is not None else len(info.people)
    needs = [f"{seats} seats"]
    if meeting.features:
        needs.append("features " + ", ".join(meeting.features))
    if meeting.venues:
        needs.append("at " + " or ".join(meeting.venues))
    if meeting.pinned_room:
        needs.append(f"in room {meeting.pinned_room}")
    return "no room has " + " with ".join(needs)


def _unavailable_together(compiled: Compiled, info: MeetingInfo) -> list[str]:
    """A small set of attendees who are never free together for the meeting."""
    starts = candidate_starts(compiled, info)
    free = {person: _free_starts(compiled, info, person, starts) for person in info.people}
    chosen: list[str] = []
    common = set(starts)
    while common:
        person = min((p for p in info.people if p not in chosen), key=lambda p: (len(common & free[p]), p))
        chosen.append(person)
        common &= free[person]
    return chosen


def _free_starts(compiled: Compiled, info: MeetingInfo, person: str, starts: list[int]) -> set[int]:
    return {s for s in starts if all(slot in compiled.available[person] for slot in info.covers(s))}


def _availability_message(compiled: Compiled, info: MeetingInfo, people: list[str]) -> str:
    """Each named attendee with the limits that rule out the starts the others could meet at."""
    starts = candidate_starts(compiled, info)
    free = {person: _free_starts(compiled, info, person, starts) for person in people}
    parts = []
    for person in people:
        others = set(starts).intersection(*(free[other] for other in people if other != person))
        parts.append(_person_limits(compiled, info, person, others))
    return "no common availability: " + "; ".join(parts)


def _person_limits(compiled: Compiled, info: MeetingInfo, person_id: str, starts: set[int]) -> str:
    person = compiled.people[person_id]
    limits: list[str] = []
    left = set(starts)  # the starts still to rule out, by the limits in the order below
    for text, ruled_out in _limits_of(compiled, info, person):
        if left & ruled_out:
            limits.append(text)
            left -= ruled_out
    if not limits:
        limits.append("is in sessions or blocked windows whenever the others are free")
    return f"{_who(compiled, person_id)} " + " and ".join(limits)


def _who(compiled: Compiled, person_id: str) -> str:
    person = compiled.people[person_id]
    delegation = next(d for d in compiled.problem.delegations if d.id == compiled.delegation_of[person_id])
    return f"{delegation.name}'s {'principal' if person.principal else person.rank.replace('_', ' ')} ({person.name})"


def _limits_of(compiled: Compiled, info: MeetingInfo, person: Participant) -> Iterator[tuple[str, set[int]]]:
    """Arrival, departure, blocked windows and sessions of `person`, each with the starts it rules out."""
    grid = compiled.grid
    spans = {s: (grid.starts[s], grid.end_of(s, info.length)) for s in candidate_starts(compiled, info)}

    def overlapping(start: datetime, end: datetime) -> set[int]:
        return {s for s, (begin, finish) in spans.items() if begin < grid.local(end) and finish > grid.local(start)}

    if person.arrival:
        yield (
            f"arrives {grid.describe(person.arrival)}",
            {s for s, (b, _) in spans.items() if b < grid.local(person.arrival)},
        )
    if person.departure:
        gone = {s for s, (_, f) in spans.items() if f > grid.local(person.departure)}
        yield f"leaves {grid.describe(person.departure)}", gone
    for window in person.blocked:
        text = f"is blocked {grid.describe(window.start)}-{grid.local(window.end):%H:%M}"
        yield text, overlapping(window.start, window.end)
    for session in compiled.problem.sessions:
        if session_blocks(session.scope, session.participants, person):
            text = f"is in {session.name} {grid.describe(session.start)}-{grid.local(session.end):%H:%M}"
            yield text, overlapping(session.start, session.end)


def _minimal_blockers(candidates: list[list[Group]]) -> set[str]:
    chosen: set[str] = set()
    for groups in sorted(candidates, key=len):
        if not any(group <= chosen for group in groups):
            chosen |= min(groups, key=lambda group: (len(group - chosen), sorted(group)))
    for meeting in sorted(chosen):
        if all(any(group <= chosen - {meeting} for group in groups) for groups in candidates):
            chosen.discard(meeting)
    return chosen


def _blocking_groups(
    compiled: Compiled, info: MeetingInfo, start: int, room_class: int, assignment: Assignment
) -> list[Group]:
    """Each group alone, if kept where it is, rules out placing `info` here."""
    groups: list[Group] = []
    groups += _people_groups(compiled, info, start, room_class, assignment)
    groups += _room_groups(compiled, info, start, room_class, assignment)
    groups += _resource_groups(compiled, info, start, assignment)
    groups += _order_groups(compiled, info, start, room_class, assignment)
    return groups


def _venue_of_room(compiled: Compiled, room_id: str) -> str | None:
    return next(room.venue for room in compiled.problem.rooms if room.id == room_id)


def _people_groups(
    compiled: Compiled, info: MeetingInfo, start: int, room_class: int, assignment: Assignment
) -> Iterable[Group]:
    grid = compiled.grid
    venue = compiled.classes[room_class].venue
    end = start + info.length
    day = grid.day_of_slot[start]
    for person in info.people:
        same_day = []
        for other in compiled.meetings_of(person):
            placed = assignment.get(other.id)
            if placed is None or grid.day_of_slot[placed[0]] != day:
                continue
            same_day.append(other.id)
            other_start, room = placed
            other_end = other_start + other.length
            other_venue = _venue_of_room(compiled, room)
            apart_after = other_start >= end + compiled.gap_needed(person, venue, other_venue)
            apart_before = start >= other_end + compiled.gap_needed(person, other_venue, venue)
            if not (apart_after or apart_before):
                yield frozenset({other.id})
        limit = compiled.people[person].max_meetings_per_day
        if limit is not None and len(same_day) >= limit:
            yield frozenset(same_day)


def _room_groups(
    compiled: Compiled, info: MeetingInfo, start: int, room_class: int, assignment: Assignment
) -> Iterable[Group]:
    rooms = {room.id for room in compiled.classes[room_class].rooms}
    for slot in info.covers(start):
        occupants = frozenset(
            meeting_id
            for meeting_id, (other_start, room) in assignment.items()
            if room in rooms and other_start <= slot < other_start + compiled.by_id[meeting_id].length
        )
        if len(occupants) >= len(rooms):
            yield occupants


def _resource_groups(compiled: Compiled, info: MeetingInfo, start: int, assignment: Assignment) -> Iterable[Group]:
    capacity = {resource.id: resource.capacity for resource in compiled.problem.resources}
    for use in info.meeting.resources:
        for slot in info.covers(start):
            users = {
                meeting_id: amount
                for meeting_id, (other_start, _) in assignment.items()
                for other_use in compiled.by_id[meeting_id].meeting.resources
                if other_use.resource == use.resource
                and other_start <= slot < other_start + compiled.by_id[meeting_id].length
                for amount in [other_use.amount]
            }
            if sum(users.values()) + use.amount > capacity[use.resource]:
                yield frozenset(users)


def _order_groups(
    compiled: Compiled, info: MeetingInfo, start: int, room_class: int, assignment: Assignment
) -> Iterable[Group]:
    end = start + info.length
    for earlier in info.meeting.after:
        placed = assignment.get(earlier)
        if placed and placed[0] + compiled.by_id[earlier].length > start:
            yield frozenset({earlier})
    for other in compiled.meetings:
        placed = assignment.get(other.id)
        if placed and info.id in other.meeting.after and end > placed[0]:
            yield frozenset({other.id})
    yield from _keep_apart_groups(compiled, info, start, room_class, assignment)


def _keep_apart_groups(
    compiled: Compiled, info: MeetingInfo, start: int, room_class: int, assignment: Assignment
) -> Iterable[Group]:
    grid = compiled.grid
    rooms = {room.id for room in compiled.classes[room_class].rooms}
    end = start + info.length
    for pair in compiled.problem.keep_apart:
        for one, other in (pair.delegations, pair.delegations[::-1]):
            if one not in info.delegations or other in info.delegations:
                continue
            for meeting_id, (other_start, room) in assignment.items():
                neighbour = compiled.by_id[meeting_id]
                if room not in rooms or other not in neighbour.delegations or one in neighbour.delegations:
                    continue
                other_end = other_start + neighbour.length
                touching = other_start == end or other_end == start
                if touching and grid.day_of_slot[other_start] == grid.day_of_slot[start]:
                    yield frozenset({meeting_id})
