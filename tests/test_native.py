"""The compiled search (setup.py, mypyc): in use after an install, current with its sources,
and making exactly the moves the Python source makes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from typing import Any

import solver
import solver.localsearch
from solver import native

ROOT = Path(__file__).resolve().parents[1]

# One search under a fake clock: every perf_counter call advances it by 0.2 ms, so two runs
# make the same moves only if every price and check along the way agrees.
FAKE_CLOCK_SEARCH = """
import json, sys, time
import solver.localsearch
from solver.check import load_problem
from solver.compile import compile_problem
from solver.greedy import greedy_assign
from solver.localsearch import improve

ticks = [0.0]
def fake_clock():
    ticks[0] += 0.0002
    return ticks[0]
time.perf_counter = fake_clock

example, seed, penalty = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
compiled = compile_problem(load_problem(open(example, "rb").read()))
result = improve(compiled, greedy_assign(compiled), fake_clock() + 0.1, seed, penalty=penalty or None)
print(json.dumps({
    "module": solver.localsearch.__file__, "grid": sorted(result.assignment.items()),
    "tries": result.tried, "moves": result.moves,
}))
"""


def _search(example: str, seed: int, penalty: dict[str, int], pure: bool) -> dict[str, Any]:
    env = {key: value for key, value in os.environ.items() if key != native.PURE_PYTHON_VARIABLE}
    if pure:
        env[native.PURE_PYTHON_VARIABLE] = "1"
    done = subprocess.run(
        [sys.executable, "-c", FAKE_CLOCK_SEARCH, str(ROOT / "examples" / example), str(seed), json.dumps(penalty)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(done.stdout)


def test_the_search_runs_compiled() -> None:
    """The speed targets are measured compiled; a failed or stale build must not pass unseen."""
    module = solver.localsearch.__file__ or ""
    assert solver.COMPILED and module.endswith(tuple(EXTENSION_SUFFIXES)), (
        f"the local search runs as Python ({module}): reinstall with `pip install -e .`, "
        "which needs a C compiler and the Python headers (setup.py says why it did not compile)"
    )


def test_compiled_and_python_make_the_same_moves() -> None:
    for example, seed, penalty in [("shangri-la.json", 1, {}), ("shangri-la.json", 2, {"us-min": 5})]:
        compiled = _search(example, seed, penalty, pure=False)
        python = _search(example, seed, penalty, pure=True)
        assert compiled["module"].endswith(tuple(EXTENSION_SUFFIXES))
        assert python["module"].endswith(".py")
        assert compiled["tries"] > 10_000 and compiled["moves"] > 0
        assert (compiled["tries"], compiled["moves"]) == (python["tries"], python["moves"])
        assert compiled["grid"] == python["grid"]


def test_an_edited_source_is_not_shadowed_by_its_old_build(tmp_path: Path) -> None:
    for name in native.NATIVE_MODULES:
        (tmp_path / f"{name}.py").write_text(f"# {name}\n")
    (tmp_path / native.BUILD_RECORD).write_text(json.dumps(native.source_hashes(tmp_path)))
    assert native.build_is_current(tmp_path)
    (tmp_path / "localsearch.py").write_text("# localsearch, edited\n")
    assert not native.build_is_current(tmp_path)
    (tmp_path / native.BUILD_RECORD).unlink()
    assert not native.build_is_current(tmp_path)
