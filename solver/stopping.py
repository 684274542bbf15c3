"""Stopping a search from another thread."""

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


class Halt(threading.Event):
    """Set when one of two searches side by side has proven its grid optimal
    (so the other may stop), and also set whenever the caller's own stop event is."""

    def __init__(self, outer: threading.Event | None) -> None:
        super().__init__()
        self.outer = outer

    def is_set(self) -> bool:
        return super().is_set() or (self.outer is not None and self.outer.is_set())
