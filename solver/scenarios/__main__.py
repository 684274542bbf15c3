"""`python -m solver.scenarios --write examples/`: write every scenario (seed 0)
as examples/<name>.json; `--seed` and `--only` pick other seeds or scenarios."""

from __future__ import annotations

import argparse
from pathlib import Path

from solver.scenarios import SCENARIOS, generate, problem_json


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m solver.scenarios", description=__doc__)
    parser.add_argument("--write", type=Path, required=True, help="directory to write <name>.json into")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=sorted(SCENARIOS), action="append", help="scenario to write (repeatable)")
    args = parser.parse_args(argv)
    args.write.mkdir(parents=True, exist_ok=True)
    for name in args.only or SCENARIOS:
        path = args.write / f"{name}.json"
        path.write_bytes(problem_json(generate(name, args.seed)))
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
