"""Travel time between venues for participants with meetings in several places."""

from __future__ import annotations

from collections import defaultdict

from ortools.sat.python import cp_model

from solver.formulation import Formulation


def travel_between_venues(formulation: Formulation) -> None:
    """A participant in a meeting at venue A in slot t is in no meeting at
    venue B in slots t+1 .. t+travel(A, B).

    One literal per (participant, venue, slot) says "here then", channelled
    from the placement literals; the travel rule is then binary clauses
    between those. Stating it directly on placement literals made this the
    largest family of the model (half a million terms at Shangri-La scale).
    """
    compiled = formulation.compiled
    if not compiled.travel_slots:
        return
    for person in compiled.people:
        present = _presence(formulation, person)
        if len({venue for venue, _ in present}) >= 2:
            _separate(formulation, person, present)


def _presence(formulation: Formulation, person: str) -> dict[tuple[str | None, int], cp_model.IntVar]:
    compiled = formulation.compiled
    covering: dict[tuple[str | None, int], list] = defaultdict(list)
    for info in formulation.meetings_of(person):
        for (start, room_class), literal in formulation.x[info.index].items():
            venue = compiled.classes[room_class].venue
            for slot in info.covers(start):
                covering[(venue, slot)].append(literal)
    present: dict[tuple[str | None, int], cp_model.IntVar] = {}
    for key, literals in covering.items():
        here = formulation.model.new_bool_var("present")
        formulation.model.add(sum(literals) == here)
        present[key] = here
    return present


def _separate(formulation: Formulation, person: str, present: dict[tuple[str | None, int], cp_model.IntVar]) -> None:
    compiled = formulation.compiled
    grid = compiled.grid
    venues = {venue for venue, _ in present}
    for (venue_a, slot), here in present.items():
        for venue_b in venues - {venue_a}:
            for gap in range(1, compiled.gap_needed(person, venue_a, venue_b) + 1):
                later = slot + gap
                there = present.get((venue_b, later))
                if there is not None and grid.day_of_slot[later] == grid.day_of_slot[slot]:
                    formulation.model.add_bool_or([~here, ~there])
