"""Stopping a CP-SAT search from another thread."""

from __future__ import annotations

import threading

from ortools.sat.python import cp_model


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
