"""Stopping CP-SAT's searches: the engine's solvers leave SIGINT to Python."""

from __future__ import annotations

import subprocess
import sys

AFTER_A_SOLVE = """
import os, signal
from ortools.sat.python import cp_model
from solver.stopping import quiet_solver
caught = []
signal.signal(signal.SIGINT, lambda *_: caught.append(True))
model = cp_model.CpModel()
model.add(model.new_int_var(0, 9, "x") >= 3)
solver = {make}
assert solver.solve(model) == cp_model.OPTIMAL
os.kill(os.getpid(), signal.SIGINT)
print("caught" if caught else "missed")
"""


def _after_a_solve(make: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", AFTER_A_SOLVE.format(make=make)], capture_output=True, text=True)


def test_a_quiet_solver_leaves_pythons_sigint_handler_in_place() -> None:
    finished = _after_a_solve("quiet_solver()")
    assert (finished.returncode, finished.stdout.strip()) == (0, "caught")


def test_a_plain_solver_resets_sigint_to_the_default_action() -> None:
    # Why the engine does not use one: the next Ctrl-C kills the process outright.
    finished = _after_a_solve("cp_model.CpSolver()")
    assert finished.returncode == -2 and finished.stdout == ""
