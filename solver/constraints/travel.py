"""Travel time between venues for participants with meetings in several places."""

from __future__ import annotations

from collections import defaultdict

from solver.formulation import Formulation


def travel_between_venues(formulation: Formulation) -> None:
    """After a meeting at venue A, a participant's next meeting at venue B starts
    at least the travel time later.

    For each slot t: "a meeting of p at A ends at t" and "a meeting of p at B
    starts at t+k" (k within the travel time, beyond the buffer the occupancy
    rule already enforces) are mutually exclusive.
    """
    compiled = formulation.compiled
    if not compiled.travel_slots:
        return
    grid = compiled.grid
    for person in compiled.people:
        ends: dict[tuple[str | None, int], list] = defaultdict(list)
        starts: dict[tuple[str | None, int], list] = defaultdict(list)
        for info in formulation.meetings_of(person):
            for (start, room_class), literal in formulation.x[info.index].items():
                venue = compiled.classes[room_class].venue
                ends[(venue, start + info.length - 1)].append(literal)
                starts[(venue, start)].append(literal)
        venues = {venue for venue, _ in starts}
        if len(venues) < 2:
            continue
        buffer = compiled.buffer_slots.get(person, 0)
        for (venue_a, last), ending in ends.items():
            for venue_b in venues - {venue_a}:
                for gap in range(buffer + 1, compiled.gap_needed(person, venue_a, venue_b) + 1):
                    later = last + gap
                    if later < grid.size and grid.day_of_slot[later] == grid.day_of_slot[last]:
                        following = starts.get((venue_b, later))
                        if following:
                            formulation.model.add_at_most_one([*ending, *following])
