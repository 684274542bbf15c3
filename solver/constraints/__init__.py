"""Hard rules of docs/rules.md as CP-SAT constraints, one module per family.

Each function takes the Formulation, adds its constraints and returns nothing.
The static rules (availability, sessions, room fit, windows, pins) need no
constraint: compile.py never creates a literal that breaks them.
"""

from solver.constraints.limits import daily_limits
from solver.constraints.occupancy import participants_one_place, resource_capacity, room_capacity
from solver.constraints.sequencing import keep_apart, precedence
from solver.constraints.travel import travel_between_venues
from solver.formulation import Formulation

ALL = (
    participants_one_place,
    room_capacity,
    resource_capacity,
    travel_between_venues,
    precedence,
    keep_apart,
    daily_limits,
)


def add_hard_rules(formulation: Formulation) -> None:
    for rule in ALL:
        rule(formulation)
