"""Run every benchmark suite with the issue's settings and write docs/benchmarks.md.

    python bench/run_all.py                      # the full run: b2b 60 s, csplib046 10 s, scenarios 1/5/30 s
    python bench/run_all.py --quick --out /tmp/benchmarks.md   # a smoke run: tiny limits, a few instances

The full run takes about half an hour on two cores. The page records the machine and the versions next to
the tables, because solve times mean nothing without them.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import solver
from api.bench import BEST_PUBLISHED_CONFIG, DEFAULT_DATA, REPO, run_suite


@dataclass(frozen=True)
class SuiteSettings:
    suite: str
    limits: tuple[float, ...]
    instances: tuple[str, ...] | None  # None: all
    title: str


FULL = (
    SuiteSettings("b2b", (60.0,), None, "B2B meeting scheduling, 20 original instances, d=2"),
    SuiteSettings("csplib046", (10.0,), None, "CSPLib prob046 meeting scheduling, 27 instances"),
    SuiteSettings("scenarios", (1.0, 5.0, 30.0), None, "Generated forum scenarios (seed 0)"),
    SuiteSettings("optaplanner", (30.0,), None, "OptaPlanner meeting scheduling, all five files"),
)
# One small instance of each kind, one feasible and one infeasible prob046 instance.
QUICK = (
    SuiteSettings("b2b", (2.0,), ("tic-12",), FULL[0].title),
    SuiteSettings("csplib046", (2.0,), ("1", "8"), FULL[1].title),
    SuiteSettings("scenarios", (1.0, 2.0), ("cis-council",), FULL[2].title),
    SuiteSettings("optaplanner", (2.0,), ("50meetings",), FULL[3].title),
)

NOTES = {
    "b2b": (
        "Breaks are recomputed from each schedule by the validator, never taken from the solver; the bound is the "
        "solver's lower bound on the objective divided by the weight of a break, shown when every meeting is placed. "
        f"`{BEST_PUBLISHED_CONFIG} (s)` is the fastest configuration of the paper (Table 3) and `fastest published` "
        "the best time over all its configurations (Intel Xeon E3-1220v2, timeout 7200 s). "
        "`agree`: every meeting placed and breaks equal to the published optimum; `proven` when the status is OPTIMAL."
    ),
    "csplib046": (
        "Feasible: every meeting placed. Infeasible: CP-SAT proves that no grid holds every meeting (all meetings are "
        "hard musts, status INFEASIBLE). Anything else is unknown at this time limit. results.md publishes no times."
    ),
    "scenarios": (
        "Objectives are recomputed by the validator. `≤ greedy` checks that the solve is never worse than the greedy "
        "baseline on the same problem. Time includes compiling the model and the greedy warm start; peak MB is the "
        "peak resident memory of the process that ran that one solve (with two workers, a large forum adds its second "
        "local search's child process: the two peaks summed)."
    ),
    "optaplanner": (
        "No scores are published and the engine optimises its own objective (docs/importers.md), so rows compare "
        "with the greedy baseline; the bound is the solver's. The 400- and 800-meeting files (2.1 M and 8.4 M "
        "start-room pairs) converge more slowly: 30 s is short for them."
    ),
}


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    suites = [
        settings for settings in (QUICK if args.quick else FULL) if args.suites is None or settings.suite in args.suites
    ]
    sections = [run_section(settings, Path(args.data), args.workers) for settings in suites]
    command = "python bench/run_all.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    out = Path(args.out)
    head = header(command.strip(), args.workers)
    if args.suites is None:
        page = head + "".join(text for text, _ in sections) + kept_sections(out)
    else:
        page = replace_sections(out.read_text() if out.exists() else "", head, [text for text, _ in sections])
    out.write_text(page)
    failed = sum(failures for _, failures in sections)
    print(f"wrote {args.out}; {failed} failed row(s)", file=sys.stderr)
    return 1 if failed else 0


def replace_sections(page: str, head: str, sections: Sequence[str]) -> str:
    """The page with its header and the given suites' sections rewritten, everything else kept.

    A section runs from its `## title` line to the next `## ` heading or marker comment;
    a suite the page does not have yet goes first.
    """
    start = page.find("\n## ")
    body = page[start:] if start >= 0 else ""
    for section in sections:
        title = section.strip().splitlines()[0]
        found = re.search(rf"\n{re.escape(title)}\n.*?(?=\n## |\n<!-- |\Z)", body, flags=re.DOTALL)
        fresh = "\n" + section.strip("\n") + "\n"
        body = body[: found.start()] + fresh + body[found.end() :] if found else fresh + body
    return head + body


def write_marked(path: Path, start: str, end: str, text: str) -> None:
    """Replace the part of `path` from `start` to `end` (markers included in `text`), or append it."""
    page = path.read_text() if path.exists() else ""
    if start in page and end in page:
        before, rest = page.split(start, 1)
        after = rest.split(end, 1)[1].lstrip("\n")
        page = before + text + after
    else:
        page = page.rstrip("\n") + "\n\n" + text
    path.write_text(page)


def kept_sections(path: Path) -> str:
    """Sections other scripts write into the page between their own markers
    (`<!-- bench/NAME.py: start -->` ... `end -->`), kept across a rewrite."""
    page = path.read_text() if path.exists() else ""
    blocks = re.finditer(r"<!-- (bench/[\w.]+): start -->.*?<!-- \1: end -->\n?", page, flags=re.DOTALL)
    return "".join("\n" + block.group(0) for block in blocks)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run all benchmark suites and write docs/benchmarks.md.")
    parser.add_argument("--quick", action="store_true", help="tiny limits and a few instances (a smoke test)")
    parser.add_argument("--out", default=str(REPO / "docs" / "benchmarks.md"), help="default docs/benchmarks.md")
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="benchmark data (default ../shared/bench/external)")
    parser.add_argument("--workers", type=int, default=2, help="search threads per solve (default 2)")
    parser.add_argument(
        "--suites",
        nargs="+",
        choices=[settings.suite for settings in FULL],
        help="rerun only these suites; the page's other sections are kept as they are",
    )
    return parser.parse_args(argv)


def run_section(settings: SuiteSettings, data: Path, workers: int) -> tuple[str, int]:
    """The markdown section of one suite and its number of failed rows."""

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    started, load_before = f"{datetime.now(UTC):%Y-%m-%d %H:%M}", f"{os.getloadavg()[0]:.1f}"
    result = run_suite(settings.suite, data, settings.limits, workers, settings.instances, log)
    limits = ", ".join(f"{limit:g} s" for limit in settings.limits)
    only = f", instances {', '.join(settings.instances)}" if settings.instances else ""
    command = f"sidelines bench {settings.suite} --time-limit {' '.join(f'{x:g}' for x in settings.limits)}"
    if settings.instances:
        command += f" --instances {' '.join(settings.instances)}"
    text = (
        f"\n## {settings.title}\n\n"
        f"Time limit {limits} per solve, {workers} workers{only}. Same table: `{command} --workers {workers}`.\n\n"
        f"{NOTES[settings.suite]}\n\n{result.markdown}\n"
        f"_Measured {started}-{datetime.now(UTC):%H:%M} UTC; load average (1 min) {load_before} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end._\n"
    )
    return text, result.failed


def header(command: str, workers: int) -> str:
    rows = "\n".join(f"| {what} | {value} |" for what, value in machine().items())
    return (
        "# Benchmarks\n\n"
        f"Written by `{command}` ({workers} workers per solve). Do not edit by hand: rerun the script.\n\n"
        f"| what | value |\n| --- | --- |\n{rows}\n"
    )


def machine() -> dict[str, str]:
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "CPU": cpu_model(),
        "cores": str(os.cpu_count()),
        "memory": memory_total(),
        "OS": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "Python": platform.python_version(),
        "OR-Tools": version("ortools"),
        "msgspec": version("msgspec"),
        "local search": "compiled (mypyc)" if solver.COMPILED else "Python (not compiled)",
    }


def cpu_model() -> str:
    return _proc_field("/proc/cpuinfo", "model name") or platform.processor() or "unknown"


def memory_total() -> str:
    total_kib = _proc_field("/proc/meminfo", "MemTotal")
    return f"{int(total_kib.split()[0]) / 1024**2:.1f} GiB" if total_kib else "unknown"


def _proc_field(path: str, name: str) -> str | None:
    """The value of the first `name: value` line of a /proc file (None off Linux)."""
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        key, _, value = line.partition(":")
        if key.strip() == name:
            return value.strip()
    return None


if __name__ == "__main__":
    sys.exit(main())
