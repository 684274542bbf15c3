"""How to solve: the engine's options, in a module light enough (no OR-Tools)
for an entry point to read before it imports the engine (solver/twin.py's
`prewarm` depends on them)."""

from __future__ import annotations

import msgspec

from solver.result import Method


class SolveOptions(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    method: Method = "cpsat"
    time_limit: float = 10.0
    workers: int = 2
    seed: int = 0
    deterministic: bool = False
    log: bool = False

    @property
    def may_start_twin(self) -> bool:
        """Whether a solve with these options may run a second local search in a child."""
        return self.method == "cpsat" and self.workers >= 2
