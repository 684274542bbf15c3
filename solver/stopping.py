"""Stopping a search from another thread."""

from __future__ import annotations

import threading

from ortools.sat.python import cp_model


def quiet_solver() -> cp_model.CpSolver:
    """A CP-SAT solver that leaves SIGINT to Python; every solve in the engine
    uses one and is stopped through its `stop` event instead (`watch_stop`).

    CP-SAT's own handler is wrong everywhere here: in a worker thread it aborts
    the process; in the main thread it ends only the solve it guards, and when
    that solve returns it sets SIGINT to the default action, so a Ctrl-C in
    the next stage killed the CLI with its grid unwritten (a B2B floor search
    runs a dozen solves in a row)."""
    solver = cp_model.CpSolver()
    solver.parameters.catch_sigint_signal = False
    return solver


def cp_sat_seed(seed: int) -> int:
    """`seed` as CP-SAT takes it: an int32. Any seed of at least 0 is a seed (`--seed`, a run's
    `seed`), and the searches add steps to it; CP-SAT raised TypeError past 2**31 - 1."""
    return seed % 2**31


def watch_stop(solver: cp_model.CpSolver, stop: threading.Event | None) -> threading.Event | None:
    """Stop the search from another thread when `stop` is set."""
    if stop is None:
        return None
    finished = threading.Event()

    def wait() -> None:
        while not finished.wait(0.05):
            if stop.is_set():
                solver.stop_search()
                return

    threading.Thread(target=wait, daemon=True).start()
    return finished


class Halt(threading.Event):
    """Set when one of two searches side by side has proven its grid optimal
    (so the other may stop), and also set whenever the caller's own stop event is."""

    def __init__(self, outer: threading.Event | None) -> None:
        super().__init__()
        self.outer = outer

    def is_set(self) -> bool:
        return super().is_set() or (self.outer is not None and self.outer.is_set())
