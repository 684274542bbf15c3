"""No participant, room class or shared resource over-booked in any slot."""

from __future__ import annotations

from collections import defaultdict

from solver.formulation import Formulation


def participants_one_place(formulation: Formulation) -> None:
    """A participant attends one meeting at a time, with their buffer after each.

    Extending every meeting of a participant by the buffer at its end and
    asking the extended meetings not to overlap is exactly "the later meeting
    starts at least the buffer after the earlier ends", in both orders.
    """
    compiled = formulation.compiled
    for person in compiled.people:
        infos = formulation.meetings_of(person)
        if len(infos) < 2:
            continue
        buffer = compiled.buffer_slots.get(person, 0)
        for literals in formulation.cover(infos, extra=buffer).values():
            formulation.at_most(literals, 1)


def room_capacity(formulation: Formulation) -> None:
    """In each slot a room class holds at most as many meetings as it has rooms."""
    compiled = formulation.compiled
    by_class: dict[int, list] = defaultdict(list)
    for info in compiled.meetings:
        for (start, room_class), literal in formulation.x[info.index].items():
            by_class[room_class].append((start, info.length, literal))
    for room_class, entries in by_class.items():
        covering: dict[int, list] = defaultdict(list)
        for start, length, literal in entries:
            for slot in range(start, start + length):
                covering[slot].append(literal)
        for literals in covering.values():
            formulation.at_most(literals, compiled.classes[room_class].size)


def resource_capacity(formulation: Formulation) -> None:
    """In each slot the meetings in progress use at most a resource's capacity."""
    problem = formulation.compiled.problem
    capacity = {resource.id: resource.capacity for resource in problem.resources}
    usage: dict[str, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    for info in formulation.compiled.meetings:
        for use in info.meeting.resources:
            for (start, _), literal in formulation.x[info.index].items():
                for slot in range(start, start + info.length):
                    usage[use.resource][slot].append((use.amount, literal))
    for resource, per_slot in usage.items():
        for entries in per_slot.values():
            if sum(amount for amount, _ in entries) <= capacity[resource]:
                continue
            if all(amount == 1 for amount, _ in entries):
                formulation.at_most([literal for _, literal in entries], capacity[resource])
            else:
                formulation.model.add(sum(a * lit for a, lit in entries) <= capacity[resource])
