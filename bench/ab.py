"""Two versions of the engine on one example, seed by seed, each solve a fresh process.

    git worktree add /work/old HEAD~1
    python bench/ab.py /work/old . --example shangri-la --limit 5 --seeds 0 59

Runs are interleaved (seed 0 of each tree, then seed 1 of each ...) so that a
machine that slows down or speeds up during the run weighs on both alike. Each
solve runs the tree's own code (its directory first on the path, and the twin
search starts from there too), with 2 workers, and its objective is the
validator's recomputation. The summary counts the runs that reached the bound
the solver reports (proven optimal) and the median objective.

Why a script: these machines vary by run more than most changes of the local
search differ (docs/engine.md, ninth and tenth sessions), so a change to the
search is only worth keeping when it wins over 50 or more seeds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def solve_in(tree: Path, example: Path, limit: float, seed: int) -> dict[str, Any]:
    """One solve with the code of `tree`, in a process of its own (this script's `--one`)."""
    done = subprocess.run(
        [sys.executable, __file__, "--one", str(example), str(limit), str(seed)],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        check=True,
    )
    run = json.loads(done.stdout.strip().splitlines()[-1])
    if not Path(run["code"]).is_relative_to(tree):  # an installed copy shadowed the tree
        raise SystemExit(f"{tree}: the solve imported {run['code']}")
    return run


def solve_one(example: str, limit: str, seed: str) -> None:
    """In the child: solve with whatever `solver` the path holds first, print the outcome as JSON.
    Like `sidelines solve`, it starts the twin's process before its own imports when the tree
    has `solver.twin.prewarm` (since the sixteenth session)."""
    import solver
    import solver.twin

    if hasattr(solver.twin, "prewarm"):
        solver.twin.prewarm()
    from solver.check import load_problem
    from solver.engine import SolveOptions, solve
    from solver.validate import validate

    problem = load_problem(Path(example).read_bytes())
    began = time.perf_counter()
    schedule = solve(problem, SolveOptions(time_limit=float(limit), workers=2, seed=int(seed)))
    seconds = round(time.perf_counter() - began, 2)
    report = validate(problem, schedule)
    outcome = {"status": schedule.status, "objective": report.objective, "seconds": seconds}
    print(json.dumps({**outcome, "valid": not report.violations, "code": solver.__file__}))


def summary(runs: list[dict[str, Any]]) -> str:
    proven = [run["seconds"] for run in runs if run["status"] == "OPTIMAL"]
    objective = statistics.median(run["objective"] for run in runs)
    when = f", median time of those {statistics.median(proven):.1f} s" if proven else ""
    return f"proven {len(proven)} of {len(runs)}{when}; median objective {objective:g}"


def main() -> None:
    if sys.argv[1:2] == ["--one"]:
        solve_one(*sys.argv[2:5])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs=2, type=Path, help="two checkouts of the project (git worktrees)")
    parser.add_argument("--example", default="shangri-la", help="a file of examples/, without .json")
    parser.add_argument("--limit", type=float, default=5.0, help="seconds per solve")
    parser.add_argument("--seeds", type=int, nargs=2, default=[0, 29], metavar=("FIRST", "LAST"))
    args = parser.parse_args()
    trees = [tree.resolve() for tree in args.trees]
    example = Path(__file__).resolve().parent.parent / "examples" / f"{args.example}.json"
    results: dict[Path, list[dict[str, Any]]] = {tree: [] for tree in trees}
    for seed in range(args.seeds[0], args.seeds[1] + 1):
        for tree in trees:
            run = solve_in(tree, example, args.limit, seed)
            if not run["valid"]:
                raise SystemExit(f"{tree}, seed {seed}: the grid breaks a rule")
            results[tree].append(run)
            print(f"{tree} seed {seed}: {run['status']} {run['objective']} in {run['seconds']} s", flush=True)
    for tree, runs in results.items():
        print(f"{tree}: {summary(runs)}")


if __name__ == "__main__":
    main()
