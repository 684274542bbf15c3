"""Seeded scenario generator: realistic forum problems for demos, benchmarks
and tests.

`generate(name, seed)` builds the named scenario; the same seed always gives
the same problem. `python -m solver.scenarios --write examples/` regenerates
the committed examples (seed 0).
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from solver.model import Problem
from solver.scenarios import admm_plus, cdma, cis_council, halifax, shangri_la, staff_talks, unga_week

SCENARIOS: dict[str, Callable[[int], Problem]] = {
    "shangri-la": shangri_la.build,
    "halifax": halifax.build,
    "cdma": cdma.build,
    "admm-plus": admm_plus.build,
    "cis-council": cis_council.build,
    "staff-talks": staff_talks.build,
    "unga-week": unga_week.build,
}


class UnknownScenario(KeyError):
    """No scenario of that name; the message lists the known ones."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"unknown scenario {name!r}; known: {', '.join(sorted(SCENARIOS))}")

    def __str__(self) -> str:
        return str(self.args[0])


def generate(name: str, seed: int = 0) -> Problem:
    """The scenario `name` built from `seed`."""
    try:
        builder = SCENARIOS[name]
    except KeyError:
        raise UnknownScenario(name) from None
    return builder(seed)


def problem_json(problem: Problem) -> bytes:
    """The committed examples' format: JSON indented by two, with a final newline."""
    return msgspec.json.format(msgspec.json.encode(problem), indent=2) + b"\n"
