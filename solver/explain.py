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

from collections import defaultdict
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
    kept = _Kept(compiled, assignment)
    return [explain(compiled, info, kept, proven) for info in compiled.meetings if info.id not in assignment]


def explain_infeasible(compiled: Compiled) -> list[Unplaced]:
    """With must meetings hard and no grid holding them all, no meeting is placed."""
    return [
        _static_reason(compiled, info)
        or Unplaced(info.id, "capacity_conflict", "no grid holds every must meeting at once (proven infeasible)")
        for info in compiled.meetings
    ]


def explain(compiled: Compiled, info: MeetingInfo, kept: _Kept, proven: bool = False) -> Unplaced:
    static = _static_reason(compiled, info)
    if static is not None:
        return static
    candidates = [_blocking_groups(compiled, info, start, c, kept) for start, c in info.domain]
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
    # Pruned to be minimal: a meeting goes unless some candidate has it in every one
    # of its groups inside `chosen` (their intersection: what that candidate needs).
    covered = [[group for group in groups if group <= chosen] for groups in candidates]
    needed = [frozenset.intersection(*groups) for groups in covered]
    for meeting in sorted(chosen):
        if any(meeting in needs for needs in needed):
            continue
        chosen.discard(meeting)
        for index, groups in enumerate(covered):
            if any(meeting in group for group in groups):
                covered[index] = [group for group in groups if meeting not in group]
                needed[index] = frozenset.intersection(*covered[index])
    return chosen


class _Kept:
    """The grid as it stands, indexed once for every candidate of every meeting
    to explain: scanning the whole grid per candidate took 14 s for the 665
    meetings an oversubscribed UNGA (3 booths) leaves out."""

    def __init__(self, compiled: Compiled, assignment: Assignment) -> None:
        self.assignment = assignment
        self.venue = {room.id: room.venue for room in compiled.problem.rooms}
        self.in_room: dict[tuple[str, int], list[str]] = defaultdict(list)  # (room, slot) -> meetings
        self.using: dict[tuple[str, int], dict[str, int]] = defaultdict(dict)  # (resource, slot) -> meeting: amount
        self.room_meetings: dict[str, list[str]] = defaultdict(list)
        for meeting_id, (start, room) in assignment.items():
            other = compiled.by_id[meeting_id]
            self.room_meetings[room].append(meeting_id)
            for slot in range(start, start + other.length):
                self.in_room[(room, slot)].append(meeting_id)
                for use in other.meeting.resources:
                    self.using[(use.resource, slot)][meeting_id] = use.amount
        self.capacity = {resource.id: resource.capacity for resource in compiled.problem.resources}
        self.on_day = self._by_person_day(compiled)
        self.followers: dict[str, list[str]] = defaultdict(list)  # meeting -> kept meetings that must follow it
        for other in compiled.meetings:
            if other.id in assignment:
                for earlier in other.meeting.after:
                    self.followers[earlier].append(other.id)

    def _by_person_day(self, compiled: Compiled) -> dict[tuple[str, int], list[tuple[str, int, int, str | None]]]:
        """(person, day) -> that person's kept meetings that day: (meeting, start, end, venue)."""
        found: dict[tuple[str, int], list[tuple[str, int, int, str | None]]] = defaultdict(list)
        for person in compiled.people:
            for other in compiled.meetings_of(person):
                if (placed := self.assignment.get(other.id)) is not None:
                    entry = (other.id, placed[0], placed[0] + other.length, self.venue[placed[1]])
                    found[(person, compiled.grid.day_of_slot[placed[0]])].append(entry)
        return found


def _blocking_groups(compiled: Compiled, info: MeetingInfo, start: int, room_class: int, kept: _Kept) -> list[Group]:
    """Each group alone, if kept where it is, rules out placing `info` here."""
    groups: list[Group] = []
    groups += _people_groups(compiled, info, start, room_class, kept)
    groups += _room_groups(compiled, info, start, room_class, kept)
    groups += _resource_groups(compiled, info, start, kept)
    groups += _order_groups(compiled, info, start, room_class, kept)
    return groups


def _people_groups(compiled: Compiled, info: MeetingInfo, start: int, room_class: int, kept: _Kept) -> Iterable[Group]:
    grid = compiled.grid
    venue = compiled.classes[room_class].venue
    end = start + info.length
    day = grid.day_of_slot[start]
    for person in info.people:
        same_day = kept.on_day.get((person, day), [])
        for other_id, other_start, other_end, other_venue in same_day:
            apart_after = other_start >= end + compiled.gap_needed(person, venue, other_venue)
            apart_before = start >= other_end + compiled.gap_needed(person, other_venue, venue)
            if not (apart_after or apart_before):
                yield frozenset({other_id})
        limit = compiled.people[person].max_meetings_per_day
        if limit is not None and len(same_day) >= limit:
            yield frozenset(other_id for other_id, *_ in same_day)


def _room_groups(compiled: Compiled, info: MeetingInfo, start: int, room_class: int, kept: _Kept) -> Iterable[Group]:
    rooms = [room.id for room in compiled.classes[room_class].rooms]
    for slot in info.covers(start):
        occupants = frozenset(meeting_id for room in rooms for meeting_id in kept.in_room.get((room, slot), ()))
        if len(occupants) >= len(rooms):
            yield occupants


def _resource_groups(compiled: Compiled, info: MeetingInfo, start: int, kept: _Kept) -> Iterable[Group]:
    for use in info.meeting.resources:
        for slot in info.covers(start):
            users = kept.using.get((use.resource, slot), {})
            if sum(users.values()) + use.amount > kept.capacity[use.resource]:
                yield frozenset(users)


def _order_groups(compiled: Compiled, info: MeetingInfo, start: int, room_class: int, kept: _Kept) -> Iterable[Group]:
    end = start + info.length
    for earlier in info.meeting.after:
        placed = kept.assignment.get(earlier)
        if placed and placed[0] + compiled.by_id[earlier].length > start:
            yield frozenset({earlier})
    for later in kept.followers.get(info.id, ()):
        if end > kept.assignment[later][0]:
            yield frozenset({later})
    yield from _keep_apart_groups(compiled, info, start, room_class, kept)


def _keep_apart_groups(
    compiled: Compiled, info: MeetingInfo, start: int, room_class: int, kept: _Kept
) -> Iterable[Group]:
    grid = compiled.grid
    end = start + info.length
    for pair in compiled.problem.keep_apart:
        for one, other in (pair.delegations, pair.delegations[::-1]):
            if one not in info.delegations or other in info.delegations:
                continue
            for room in compiled.classes[room_class].rooms:
                for meeting_id in kept.room_meetings.get(room.id, ()):
                    neighbour = compiled.by_id[meeting_id]
                    if other not in neighbour.delegations or one in neighbour.delegations:
                        continue
                    other_start = kept.assignment[meeting_id][0]
                    other_end = other_start + neighbour.length
                    touching = other_start == end or other_end == start
                    if touching and grid.day_of_slot[other_start] == grid.day_of_slot[start]:
                        yield frozenset({meeting_id})
