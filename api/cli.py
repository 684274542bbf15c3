"""The `sidelines` command line: solve, validate, generate and import problems.

Every subcommand reads and writes the same JSON documents as the API. Bad
input never ends in a traceback: it prints `sidelines: error: <path>: <message>`
lines on stderr and exits with EXIT_USAGE, where <path> is the file (or option)
and the message names the faulty field.

The engine (and OR-Tools), the validator, the scenarios and the importers are
imported inside their subcommands so that `sidelines --help` stays fast.
"""

from __future__ import annotations

import argparse
import difflib
import inspect
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, NoReturn

import msgspec
from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from db.errors import DatabaseUnreachable
from solver.check import (
    BOM,
    ProblemError,
    decode_finding,
    decode_json,
    json_fault,
    load_problem,
    out_of_calendar,
    utf8_fault,
    without_bom,
)
from solver.model import Problem
from solver.result import Progress, Schedule

if TYPE_CHECKING:
    from db.load import LoadedForum
    from solver.engine import SolveOptions
    from solver.validate import Report

EXIT_OK = 0
EXIT_FAILED = 1  # the command ran but the answer is "no": rules broken, no grid found
EXIT_USAGE = 2  # bad input: options, files, problem or schedule documents
EXIT_INTERRUPTED = 130

Subparsers = Any  # argparse keeps the type of its subparsers action private

SCHEMA_FILES: dict[str, type] = {"problem.schema.json": Problem, "schedule.schema.json": Schedule}


class CliError(Exception):
    """Bad input; each line is (where, what) and is printed as `sidelines: error: where: what`."""

    def __init__(self, lines: list[tuple[str, str]], usage: str = "") -> None:
        self.lines = lines
        self.usage = usage
        super().__init__("; ".join(f"{where}: {what}" for where, what in lines))


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so `main` decides what reaches the user.

    Every command's parser is one too (subparsers take their parent's class). An argument a
    command does not know is that command's error, said with its usage: argparse hands a
    command's leftover arguments up to the top-level parser, which named them under
    `usage: sidelines [-h] COMMAND ...`, as though the command were the fault."""

    def error(self, message: str) -> NoReturn:
        # "argument --seed: invalid value" names the option; other messages name nothing
        where, _, what = message.removeprefix("argument ").partition(": ")
        line = (where, what) if message.startswith("argument ") and what else ("", message)
        raise CliError([line], usage=self.format_usage())

    def parse_known_args(  # type: ignore[override]  # one signature for typeshed's three overloads
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            raise CliError(self._unknown(extras), usage=self.format_usage())
        return parsed, extras

    def _unknown(self, extras: list[str]) -> list[tuple[str, str]]:
        """One line per unknown option ("--time-limt: unknown option; did you mean --time-limit?");
        only when there are none, the stray arguments (a value after an unknown option is its own)."""
        options = [text.partition("=")[0] for text in extras if text.startswith("-") and not _is_number(text)]
        if not options:
            return [("", f"unexpected argument{'s' if len(extras) > 1 else ''}: {' '.join(extras)}")]
        known = {option.lstrip("-"): option for action in self._actions for option in action.option_strings}
        lines = []
        for option in options:
            close = difflib.get_close_matches(option.lstrip("-"), known, n=1, cutoff=0.75)
            lines.append((option, "unknown option" + (f"; did you mean {known[close[0]]}?" if close else "")))
        return lines


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    """Run one `sidelines` command and return its exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return int(args.run(args))
    except SystemExit as exit_request:  # --help ends here
        return int(exit_request.code or 0)
    except CliError as error:
        _report(error)
        return EXIT_USAGE
    except DatabaseUnreachable as error:  # a wrong DATABASE_URL, or the server is down
        print(f"sidelines: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def _report(error: CliError) -> None:
    if error.usage:
        sys.stderr.write(error.usage)
    for where, what in error.lines:
        print(f"sidelines: error: {where}: {what}" if where else f"sidelines: error: {what}", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    from api.remote import add_forum  # a module of its own, which imports this one

    parser = _Parser(prog="sidelines", description="Bilateral meeting grids for multilateral defence forums.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    # Later commands (serve, worker, db migrate, demo, bench) add one function here.
    for add_command in (
        _add_solve,
        _add_validate,
        _add_generate,
        _add_import,
        _add_schema,
        _add_bench,
        _add_db,
        _add_serve,
        _add_worker,
        _add_load,
        _add_demo,
        _add_csv,
        add_forum,
    ):
        add_command(commands)
    return parser


# ---- option value types: a bad value becomes "--option: message", exit 2


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a number above 0, not {text!r}")
    return value


def positive_int(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return int(text)


MAX_SEARCH_WORKERS = 64  # CP-SAT starts a thread each: 100,000 asked for (unchecked) meant 100,000 threads


def search_workers(text: str) -> int:
    count = positive_int(text)
    if count > MAX_SEARCH_WORKERS:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_SEARCH_WORKERS} search threads, not {text!r}")
    return count


def non_negative_int(text: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 0, not {text!r}")
    return int(text)


MAX_LEASE_SECONDS = 86_400.0  # a day: longer, and a dead worker's run waits for nobody


def lease_seconds(text: str) -> float:
    """A worker's lease. 1e308 passed as a positive number, and the first claim ended in a
    traceback: PostgreSQL's 'timestamp out of range' for now() plus the lease."""
    value = positive_float(text)
    if value > MAX_LEASE_SECONDS:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_LEASE_SECONDS:g} seconds (a day), not {text!r}")
    return value


def port_or_zero(text: str) -> int:
    """A TCP port, or 0 for one the system picks. uvicorn took 70000 and listened on 4464
    (70000 - 65536), saying 70000."""
    if not (text.isascii() and text.isdigit()) or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"must be a TCP port from 1 to 65535, or 0 for a free one, not {text!r}")
    return int(text)


# ---- files


def read_bytes(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise CliError([(path, error.strerror or str(error))]) from None


def write_output(path: str | None, data: bytes) -> None:
    """Write to `path`, or to stdout when no path is given."""
    if path is None:
        sys.stdout.write(data.decode())
        return
    try:
        Path(path).write_bytes(data)
    except OSError as error:
        raise CliError([(path, error.strerror or str(error))]) from None


def check_writable(path: str | None) -> None:
    """Fail before a long solve rather than after it."""
    if path is not None and not Path(path).resolve().parent.is_dir():
        raise CliError([(path, "its directory does not exist")])


def pretty_json(value: object) -> bytes:
    return msgspec.json.format(msgspec.json.encode(value), indent=2) + b"\n"


def read_problem(path: str) -> Problem:
    data = read_bytes(path)
    try:
        return load_problem(data)
    except ProblemError as error:
        raise problem_error(path, error, _other_kind(data, "schedule", "problem")) from None


VALIDATE_ORDER = "`sidelines validate PROBLEM.json SCHEDULE.json`"


def _other_kind(data: bytes, kind: str, wanted: str) -> str:
    """A note when `data` is a document of the other kind (its top-level field, `placed` or
    `forum`, says so): `validate` given its files the wrong way round."""
    try:
        document = msgspec.json.decode(without_bom(data))
    except msgspec.DecodeError:
        return ""
    field = {"schedule": "placed", "problem": "forum"}[kind]
    if not isinstance(document, dict) or field not in document:
        return ""
    first = ": the problem comes first, " if kind == "schedule" else ": "
    return f" (this file is a {kind}, not a {wanted}{first}{VALIDATE_ORDER})"


def problem_error(path: str, error: ValueError, note: str = "") -> CliError:
    """One line per finding of a ProblemError (`note` after each), else the error's text."""
    if isinstance(error, ProblemError):
        return CliError([(path, f"{finding}{note}") for finding in error.findings])
    # importers already start their messages with the path
    return CliError([(path, str(error).removeprefix(f"{path}: "))])


def read_schedule(path: str) -> Schedule:
    data = read_bytes(path)
    if (reason := utf8_fault(data)) is not None:
        raise CliError([(path, f"$: not UTF-8 text: {reason}")])
    data = data.removeprefix(BOM.encode())
    if not data.strip():
        raise CliError([(path, "$: empty: a schedule is a JSON object")])
    try:
        schedule = decode_json(data, Schedule)
    except msgspec.ValidationError as error:
        note = _other_kind(data, "problem", "schedule")
        raise CliError([(path, f"{decode_finding(str(error), Schedule)}{note}")]) from None
    except msgspec.DecodeError as error:
        raise CliError([(path, f"$: {json_fault(data, error)}")]) from None
    findings = out_of_calendar(schedule)
    if findings:
        raise CliError([(path, str(finding)) for finding in findings])
    return schedule


# ---- solve


# A problem file: what `sidelines load`, `solve` and `validate` read, and `generate` writes.
PROBLEM_HELP = "a forum's problem (docs/schema/problem.schema.json; examples/ has one per scenario)"


def _add_solve(commands: Subparsers) -> None:
    command = commands.add_parser(
        "solve",
        help="build the meeting grid of a problem",
        description="Solve PROBLEM.json. Exit 0 with a grid, 1 when none was found, 2 on bad input.",
    )
    command.add_argument("problem", metavar="PROBLEM.json", help=PROBLEM_HELP)
    command.add_argument("--time-limit", type=positive_float, default=10.0, metavar="S", help="seconds (default 10)")
    command.add_argument("--workers", type=search_workers, default=2, metavar="N", help="search threads (default 2)")
    command.add_argument("--seed", type=non_negative_int, default=0, metavar="K", help="random seed (default 0)")
    command.add_argument(
        "--method",
        choices=("cpsat", "greedy"),
        default="cpsat",
        help="cpsat: CP-SAT and the local search (default); greedy: the quick baseline alone",
    )
    command.add_argument("--deterministic", action="store_true", help="same answer for the same seed and workers")
    command.add_argument("--out", metavar="SCHEDULE.json", help="write the schedule here")
    command.set_defaults(run=run_solve)


def run_solve(args: argparse.Namespace) -> int:
    from solver.options import SolveOptions
    from solver.twin import prewarm

    options = SolveOptions(
        method=args.method,
        time_limit=args.time_limit,
        workers=args.workers,
        seed=args.seed,
        deterministic=args.deterministic,
    )
    if options.may_start_twin:
        prewarm()  # the twin's start overlaps this process's imports and reading (solver/twin.py)
    problem = read_problem(args.problem)
    check_writable(args.out)
    schedule = solve_with_progress(problem, options)
    if args.out is not None:
        write_output(args.out, pretty_json(schedule))
    console = Console(soft_wrap=True)
    console.print(summary_table(problem, schedule))
    print_unplaced(console, schedule)
    return EXIT_OK if schedule.status in ("OPTIMAL", "FEASIBLE") else EXIT_FAILED


def solve_with_progress(problem: Problem, options: SolveOptions) -> Schedule:
    """Solve with a live progress line when stderr is a terminal."""
    if not sys.stderr.isatty():
        return solve_interruptibly(problem, options, None)
    view = ProgressView(time.perf_counter())
    with Live(view, console=Console(stderr=True), refresh_per_second=4, transient=True):
        return solve_interruptibly(problem, options, view.update)


def solve_interruptibly(
    problem: Problem, options: SolveOptions, on_progress: Callable[[Progress], None] | None
) -> Schedule:
    """Solve so that Ctrl-C stops the search and keeps the best grid found.

    The engine's CP-SAT solves leave SIGINT to Python (`solver.stopping.quiet_solver`),
    so a Ctrl-C at any stage sets `stop`, which ends the search as at its time limit.
    """
    from solver.engine import solve

    stop = threading.Event()
    with _interrupt_sets(stop):
        return solve(problem, options, on_progress, stop)


@contextmanager
def _interrupt_sets(stop: threading.Event) -> Iterator[None]:
    """A first Ctrl-C sets `stop`, a second one aborts."""
    # Only the main thread may handle signals; an ignored SIGINT (a background job) stays ignored.
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        yield
        return
    presses = 0

    def on_interrupt(signum: int, frame: FrameType | None) -> None:
        nonlocal presses
        presses += 1
        stop.set()
        if presses > 1:
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        with _relay_interrupts(stop):
            yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def _relay_interrupts(stop: threading.Event) -> Iterator[None]:
    """Set `stop` as soon as SIGINT arrives, even while the main thread is inside a
    CP-SAT solve: Python runs its handler only between bytecodes, so `on_interrupt`
    would wait for that solve's own time limit. The interpreter's C-level handler
    writes each signal's number to the wakeup fd, which a thread watches."""
    readable, writable = os.pipe()
    os.set_blocking(writable, False)
    previous = signal.set_wakeup_fd(writable, warn_on_full_buffer=False)

    def relay() -> None:
        while received := os.read(readable, 64):  # b"" once the write end is closed
            if signal.SIGINT in received:
                stop.set()

    watcher = threading.Thread(target=relay, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        signal.set_wakeup_fd(previous)
        os.close(writable)
        watcher.join()
        os.close(readable)


class ProgressView:
    """The live progress line; elapsed time ticks between solver reports."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.latest: Progress | None = None

    def update(self, progress: Progress) -> None:
        self.latest = progress

    def __rich__(self) -> Text:
        elapsed = time.perf_counter() - self.started
        latest = self.latest
        if latest is None:
            return Text(f"solving  {elapsed:6.1f} s  no solution yet")
        return Text(
            f"solving  {elapsed:6.1f} s  objective {_number(latest.objective)}  "
            f"bound {_number(latest.best_bound)}  gap {_percent(latest.gap)}  solutions {latest.solutions}"
        )


def summary_table(problem: Problem, schedule: Schedule) -> Table:
    stats = schedule.stats
    table = Table(title="Solve summary", show_header=False, title_justify="left")
    table.add_column("what")
    table.add_column("value", justify="right")
    rows: list[tuple[str, str]] = [
        ("status", schedule.status),
        ("objective", _number(schedule.objective)),
        ("best bound", _number(schedule.best_bound)),
        ("gap", _percent(schedule.gap)),
        ("placed", f"{len(schedule.placed)}/{len(problem.meetings)}"),
        *((f"  {term}", _number(value)) for term, value in schedule.terms.items()),
        ("first solution", _seconds(stats.first_solution_seconds)),
        ("solve time", _seconds(stats.solve_seconds)),
        ("variables/constraints", f"{stats.variables:,}/{stats.constraints:,}" if stats.variables else "-"),
        ("greedy objective", _number(stats.greedy_objective)),
        ("method", _method(schedule)),
    ]
    for what, value in rows:
        table.add_row(what, Text(value))
    return table


SEARCH_NAMES = {"local_search": ("local search", "local searches"), "cpsat": ("CP-SAT", "CP-SAT")}


def _method(schedule: Schedule) -> str:
    stats = schedule.stats
    if stats.method == "greedy":
        return "greedy"
    workers = f"{stats.workers} worker" + ("s" if stats.workers != 1 else "")
    return f"{searched(stats.searches)}, {workers}, seed {stats.seed}, limit {stats.time_limit:g} s"


def searched(searches: Sequence[str]) -> str:
    """What ran, e.g. "local search + CP-SAT" or "2 local searches" (a twin, solver/twin.py)."""
    counts = {search: searches.count(search) for search in searches}
    names = [SEARCH_NAMES[search][0] if n == 1 else f"{n} {SEARCH_NAMES[search][1]}" for search, n in counts.items()]
    return " + ".join(names) or "cpsat"


def print_unplaced(console: Console, schedule: Schedule) -> None:
    if not schedule.unplaced:
        return
    console.print(f"Unplaced meetings ({len(schedule.unplaced)}):")
    for unplaced in schedule.unplaced:
        blockers = f" [{', '.join(unplaced.blockers)}]" if unplaced.blockers else ""
        console.print(Text(f"  {unplaced.meeting}  {unplaced.reason}  {unplaced.message}{blockers}"))


def _number(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


# ---- validate


def _add_validate(commands: Subparsers) -> None:
    command = commands.add_parser(
        "validate",
        help="check a schedule against every rule",
        description="Recompute the objective terms and list broken rules. Exit 0 when valid, 1 when not.",
    )
    command.add_argument("problem", metavar="PROBLEM.json", help=PROBLEM_HELP)
    command.add_argument(
        "schedule", metavar="SCHEDULE.json", help="the schedule to check (`sidelines solve --out`'s file)"
    )
    command.set_defaults(run=run_validate)


def run_validate(args: argparse.Namespace) -> int:
    from solver.validate import validate

    problem = read_problem(args.problem)
    schedule = read_schedule(args.schedule)
    report = validate(problem, schedule)
    console = Console(soft_wrap=True)
    console.print(terms_table(schedule, report))
    for violation in report.violations:
        meetings = f" [{', '.join(violation.meetings)}]" if violation.meetings else ""
        console.print(Text(f"violation {violation.rule}: {violation.message}{meetings}"))
    verdict = "valid" if report.ok else f"invalid: {len(report.violations)} violation(s)"
    console.print(Text(verdict))
    return EXIT_OK if report.ok else EXIT_FAILED


def terms_table(schedule: Schedule, report: Report) -> Table:
    """Recomputed terms beside the ones the schedule claims."""
    table = Table(title="Objective terms", title_justify="left")
    table.add_column("term")
    table.add_column("recomputed", justify="right")
    table.add_column("in schedule", justify="right")
    for term, value in report.terms.items():
        table.add_row(term, _number(value), _number(schedule.terms.get(term)))
    table.add_row("objective", _number(report.objective), _number(schedule.objective))
    return table


# ---- generate


def _add_generate(commands: Subparsers) -> None:
    command = commands.add_parser(
        "generate",
        help="write a synthetic forum problem",
        description="Write a synthetic problem modelled on a real forum, the same for the same seed "
        "(examples/README.md describes each scenario).",
    )
    # Named here rather than read from solver.scenarios, which every command would then import.
    command.add_argument(
        "scenario",
        metavar="SCENARIO",
        help="admm-plus, cdma, cis-council, halifax, shangri-la, staff-talks or unga-week",
    )
    command.add_argument("--seed", type=non_negative_int, default=0, metavar="K", help="random seed (default 0)")
    command.add_argument("--out", metavar="PROBLEM.json", help="write here instead of stdout")
    command.set_defaults(run=run_generate)


def run_generate(args: argparse.Namespace) -> int:
    from solver.scenarios import SCENARIOS, UnknownScenario, generate

    try:
        problem = generate(args.scenario, args.seed)
    except UnknownScenario:
        known = ", ".join(sorted(SCENARIOS))
        raise CliError([(args.scenario, f"unknown scenario; known: {known}")]) from None
    write_output(args.out, pretty_json(problem))
    return EXIT_OK


# ---- import


def _add_import(commands: Subparsers) -> None:
    command = commands.add_parser(
        "import",
        help="convert a public benchmark instance into a problem",
        description="Convert a published benchmark instance into a problem file (docs/importers.md).",
    )
    formats = command.add_subparsers(dest="format", metavar="FORMAT", required=True)
    b2b = _add_import_format(formats, "b2b", "a B2B forum instance (MiniZinc .dzn)")
    b2b.add_argument("file", metavar="FILE.dzn", help="the instance, e.g. forum-13.original.dzn")
    b2b.add_argument("--fairness", type=non_negative_int, required=True, metavar="D", help="break spread limit")
    _add_import_out(b2b)
    b2b.set_defaults(run=run_import_b2b)
    csplib = _add_import_format(formats, "csplib046", "a CSPLib prob046 meeting scheduling instance")
    csplib.add_argument("file", metavar="instances.md", help="CSPLib's page of the instances")
    csplib.add_argument("--instance", type=positive_int, required=True, metavar="N", help="instance number, from 1")
    _add_import_out(csplib)
    csplib.set_defaults(run=run_import_csplib046)
    opta = _add_import_format(formats, "optaplanner", "an OptaPlanner meeting scheduling workbook (.xlsx)")
    opta.add_argument("file", metavar="FILE.xlsx", help="the workbook, e.g. 50meetings-160timegrains-5rooms.xlsx")
    _add_import_out(opta)
    opta.set_defaults(run=run_import_optaplanner)


def _add_import_format(formats: Subparsers, name: str, what: str) -> argparse.ArgumentParser:
    return formats.add_parser(name, help=what, description=f"Convert {what} into a problem file.")


def _add_import_out(command: argparse.ArgumentParser) -> None:
    command.add_argument("--out", required=True, metavar="PROBLEM.json", help="the problem file to write")


def run_import_b2b(args: argparse.Namespace) -> int:
    from solver.importers import load_b2b

    return _import(args, lambda: load_b2b(Path(args.file), args.fairness))


def run_import_csplib046(args: argparse.Namespace) -> int:
    from solver.importers import load_csplib046

    return _import(args, lambda: load_csplib046(Path(args.file), args.instance))


def run_import_optaplanner(args: argparse.Namespace) -> int:
    from solver.importers import load_optaplanner

    return _import(args, lambda: load_optaplanner(Path(args.file)))


def _import(args: argparse.Namespace, load: Callable[[], Problem]) -> int:
    read_bytes(args.file)  # a missing file is reported like everywhere else
    try:
        problem = load()
    except ValueError as error:  # includes ProblemError when the mapping yields a bad problem
        raise problem_error(str(Path(args.file)), error) from None
    write_output(args.out, pretty_json(problem))
    return EXIT_OK


# ---- schema


def _add_schema(commands: Subparsers) -> None:
    command = commands.add_parser(
        "schema",
        help="write the JSON Schemas of problems and schedules",
        description="Write problem.schema.json and schedule.schema.json, the JSON Schemas (2020-12) of "
        "the files `solve` reads and writes, from the models; run it after changing solver/model.py "
        "or solver/result.py.",
    )
    command.add_argument("--out-dir", default="docs/schema", metavar="DIR", help="default docs/schema")
    command.set_defaults(run=run_schema)


def run_schema(args: argparse.Namespace) -> int:
    out_dir = Path(args.out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CliError([(args.out_dir, error.strerror or str(error))]) from None
    for name, document in schema_documents().items():
        write_output(str(out_dir / name), document)
    return EXIT_OK


def schema_documents() -> dict[str, bytes]:
    """File name -> JSON Schema (2020-12) of each document type, as committed in docs/schema."""
    return {name: pretty_json(_schema_of(struct)) for name, struct in SCHEMA_FILES.items()}


def _schema_of(struct: type) -> dict[str, object]:
    schema = _dedented(msgspec.json.schema(struct))
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": struct.__name__, **schema}


def _dedented(node: Any) -> Any:
    """The schema with every description dedented as `inspect.cleandoc` does: msgspec 0.23
    does so itself and 0.22 did not, and the committed files must not depend on which is installed."""
    if isinstance(node, dict):
        return {
            key: inspect.cleandoc(value) if key == "description" and isinstance(value, str) else _dedented(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_dedented(item) for item in node]
    return node


# ---- bench


def _add_bench(commands: Subparsers) -> None:
    command = commands.add_parser(
        "bench",
        help="run a benchmark suite and print a markdown table",
        description="Run SUITE and print a markdown table beside the published results. "
        "Exit 0 when every row checks out, 1 when a row is FAILED, 2 on bad input.",
    )
    command.add_argument(
        "suite",
        choices=("b2b", "csplib046", "scenarios", "optaplanner"),
        metavar="SUITE",
        help="b2b, csplib046, scenarios or optaplanner",
    )
    command.add_argument(
        "--time-limit",
        "--time-limits",
        dest="time_limits",
        type=positive_float,
        nargs="+",
        metavar="S",
        help="seconds per solve; scenarios take several (default: b2b 60, csplib046 10, scenarios 1 5 30, "
        "optaplanner 30)",
    )
    command.add_argument("--workers", type=search_workers, default=2, metavar="N", help="search threads (default 2)")
    command.add_argument("--instances", nargs="+", metavar="NAME", help="only these (default: all)")
    command.add_argument("--data", metavar="DIR", help="benchmark data (default: ../shared/bench/external)")
    command.set_defaults(run=run_bench)


def run_bench(args: argparse.Namespace) -> int:
    from api.bench import DEFAULT_DATA, BenchError, run_suite

    data = Path(args.data) if args.data else DEFAULT_DATA
    try:
        result = run_suite(args.suite, data, args.time_limits, args.workers, args.instances, _progress)
    except BenchError as error:
        raise CliError([(error.where, error.what)]) from None
    sys.stdout.write(result.markdown)
    return EXIT_FAILED if result.failed else EXIT_OK


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# ---- db, serve


def _add_db(commands: Subparsers) -> None:
    command = commands.add_parser("db", help="manage the PostgreSQL database")
    actions = command.add_subparsers(dest="action", metavar="ACTION", required=True)
    says = "apply pending SQL migrations (DATABASE_URL, else the embedded server in .sidelines/pgdata)"
    migrate = actions.add_parser(
        "migrate",
        help=says,
        description=f"{says[0].upper()}{says[1:]}: db/migrations/NNNN_*.sql not yet applied, in order. "
        "`sidelines serve` does it too when it starts.",
    )
    migrate.set_defaults(run=run_db_migrate)


def run_db_migrate(args: argparse.Namespace) -> int:
    from api.server import run_migrate

    applied = run_migrate()
    print(f"applied: {', '.join(applied)}" if applied else "database is up to date")
    return EXIT_OK


DEFAULT_PORT = 8000  # docker-compose.yml publishes this one


def _add_serve(commands: Subparsers) -> None:
    command = commands.add_parser(
        "serve",
        help="run the HTTP API (API reference at /schema)",
        description="Serve the API. Uses DATABASE_URL, else an embedded PostgreSQL in .sidelines/pgdata; "
        "migrates first. SIDELINES_ADMIN_TOKEN enables POST /forums.",
    )
    command.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1")
    # 0 as in `sidelines demo`: uvicorn's "running on" line names the port the system chose.
    command.add_argument(
        "--port", type=port_or_zero, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}; 0 picks a free port"
    )
    command.add_argument(
        "--workers",
        type=non_negative_int,
        default=1,
        metavar="N",
        help="solve workers in this process (default 1; 0 when separate `sidelines worker` processes solve)",
    )
    _add_lease_option(command)
    command.set_defaults(run=run_serve)


def _add_lease_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--lease",
        type=lease_seconds,
        default=10.0,
        metavar="S",
        help="seconds a worker holds a run without a heartbeat before another worker takes it up (default 10)",
    )


def check_listen(host: str, port: int) -> None:
    """Fail before the database is touched when the server could not listen: uvicorn only
    logged 'ERROR: [Errno -2] Name or service not known' (or 98) and ended with exit 3."""
    import socket

    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as error:
        reason = error.strerror if isinstance(error, socket.gaierror) else str(error)
        raise CliError([("--host", f"cannot listen on {host!r}: {reason}")]) from None
    family, kind, protocol, _, address = found[0]
    with socket.socket(family, kind, protocol) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as error:
            raise CliError([("--port", f"cannot listen on {host}:{port}: {error.strerror or error}")]) from None


def run_serve(args: argparse.Namespace) -> int:
    from api.server import run_serve as serve
    from api.worker import WorkerSettings

    check_listen(args.host, args.port)
    if not os.environ.get("SIDELINES_ADMIN_TOKEN"):  # else its POST /forums says only "unknown or revoked token"
        print(
            "sidelines: SIDELINES_ADMIN_TOKEN is not set: POST /forums and /forums/import are refused "
            "(`sidelines load` still stores a forum)",
            file=sys.stderr,
            flush=True,
        )
    serve(args.host, args.port, args.workers, WorkerSettings(args.lease))
    return EXIT_OK


def _add_worker(commands: Subparsers) -> None:
    command = commands.add_parser(
        "worker",
        help="solve queued runs (POST /forums/{id}/runs), one at a time, until interrupted",
        description="Take solve runs from the database (DATABASE_URL, else the embedded PostgreSQL) and solve "
        "each in a child process. Several workers may run at once; a run whose worker died is taken up again. "
        "SIGTERM or SIGINT: claim nothing more, hand back an unfinished run at once, exit 0.",
    )
    command.add_argument("--owner", default=None, help="lease owner name (default host:pid)")
    _add_lease_option(command)
    command.add_argument(
        "--alive-file", metavar="PATH", help="touch PATH at every poll and heartbeat (a container health check)"
    )
    command.set_defaults(run=run_worker_command)


def run_worker_command(args: argparse.Namespace) -> int:
    from api.server import run_worker_process
    from api.worker import WorkerSettings

    check_writable(args.alive_file)
    run_worker_process(args.owner, WorkerSettings(args.lease, alive_file=args.alive_file))
    return EXIT_OK


# ---- load


def _add_load(commands: Subparsers) -> None:
    command = commands.add_parser(
        "load",
        help="store a problem as a new forum and print its tokens",
        description="Store PROBLEM.json as a new forum (DATABASE_URL, else the embedded PostgreSQL): sessions, "
        "rooms, delegations, participants, and every meeting as an accepted request. Prints the forum id, the "
        "organiser token and one token per delegation; they are shown once (only their hashes are stored).",
    )
    command.add_argument("problem", metavar="PROBLEM.json", help=PROBLEM_HELP)
    command.add_argument("--json", action="store_true", help="print {forum_id, organiser_token, delegation_tokens}")
    command.set_defaults(run=run_load)


def run_load(args: argparse.Namespace) -> int:
    from api.server import run_load as load

    problem = read_problem(args.problem)
    try:
        loaded = load(problem)
    except ProblemError as error:  # ids the API cannot carry in a URL
        raise problem_error(args.problem, error) from None
    if args.json:
        write_output(None, pretty_json(loaded))
        return EXIT_OK
    print("\n".join(load_lines(problem.forum.name, loaded)))
    return EXIT_OK


def load_lines(name: str, loaded: LoadedForum) -> list[str]:
    """The forum, its tokens (the demo's lines, which say they are shown once) and the pages to
    open next: a walkthrough's user had tokens and no word of either."""
    from api.demo import PAGES_NOTE, page_lines, token_lines
    from api.remote import SERVER_VARIABLE

    # The address `sidelines forum` uses, else the one `sidelines serve` listens on by default.
    base = os.environ.get(SERVER_VARIABLE, "").strip().rstrip("/") or f"http://127.0.0.1:{DEFAULT_PORT}"
    first = next(iter(loaded.delegation_tokens.items()), None)
    return [
        f"forum {loaded.forum_id}: {name}",
        *token_lines(loaded.organiser_token, loaded.delegation_tokens.items()),
        "",
        f"Pages, once `sidelines serve` runs at {base} ({PAGES_NOTE}):",
        *page_lines(base, loaded.organiser_token, first),
    ]


# ---- demo


def _add_demo(commands: Subparsers) -> None:
    command = commands.add_parser(
        "demo",
        help="load, solve and publish the Shangri-La example, then serve the API and print tokens and curl examples",
        description="Uses DATABASE_URL, else an embedded PostgreSQL in .sidelines/pgdata (kept across restarts). "
        "Migrates, loads the problem as a new forum, solves it through a solve run, publishes the version, and "
        "serves the API until Ctrl-C or SIGTERM.",
    )
    command.add_argument("--problem", metavar="PROBLEM.json", help="default examples/shangri-la.json")
    command.add_argument("--time-limit", type=positive_float, default=10.0, metavar="S", help="seconds (default 10)")
    command.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1")
    command.add_argument("--port", type=port_or_zero, default=8000, help="default 8000; 0 picks a free port")
    command.set_defaults(run=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from api.demo import DEFAULT_PROBLEM, SHOWN_DELEGATIONS
    from api.demo import run_demo as demo

    path = args.problem or str(DEFAULT_PROBLEM)
    problem = read_problem(path)
    if len(problem.delegations) < SHOWN_DELEGATIONS:  # its curl lines show one delegation hidden from another
        raise CliError(
            [(path, f"delegations: the demo needs at least {SHOWN_DELEGATIONS}, not {len(problem.delegations)}")]
        )
    check_listen(args.host, args.port)
    try:
        return demo(problem, args.host, args.port, args.time_limit)
    except ProblemError as error:  # ids the API cannot carry in a URL
        raise problem_error(path, error) from None


# ---- csv


def _add_csv(commands: Subparsers) -> None:
    command = commands.add_parser(
        "csv",
        help="import delegations, participants or requests from a CSV file into a forum (docs/csv.md)",
        description="All or nothing: a file with a bad row stores nothing and each fault is reported as "
        "'row N, column C: message'. Rows already stored with the same values are left alone. "
        "Uses DATABASE_URL, else the embedded PostgreSQL.",
    )
    command.add_argument(
        "kind",
        choices=("delegations", "participants", "requests"),
        help="what the file lists; import delegations first, then participants, then requests",
    )
    command.add_argument("forum", metavar="FORUM_ID", help="the forum's id, as `sidelines load` printed it")
    command.add_argument("file", metavar="FILE.csv", help="the spreadsheet saved as CSV (columns: docs/csv.md)")
    command.add_argument("--json", action="store_true", help="print the result as JSON")
    command.set_defaults(run=run_csv)


def run_csv(args: argparse.Namespace) -> int:
    from uuid import UUID

    from api.csv_import import ClosedForum, CsvError, UnknownForum, import_csv
    from api.server import run_in_transaction

    try:
        text = read_bytes(args.file).decode("utf-8")
        forum_id = UUID(args.forum)
    except UnicodeDecodeError:
        raise CliError([(args.file, "must be UTF-8 text")]) from None
    except ValueError:
        raise CliError([("FORUM_ID", f"{args.forum!r} is not a forum id")]) from None
    try:
        imported = run_in_transaction(lambda connection: import_csv(connection, forum_id, args.kind, text, "cli"))
    except UnknownForum:
        raise CliError([("FORUM_ID", f"no forum {forum_id}")]) from None
    except ClosedForum as error:
        raise CliError([("FORUM_ID", error.errors[0].message)]) from None
    except CsvError as error:
        raise CliError([(args.file, str(fault)) for fault in error.errors]) from None
    if args.json:
        write_output(None, pretty_json(imported))
        return EXIT_OK
    print(f"{args.kind}: {len(imported.created)} created, {len(imported.unchanged)} already stored unchanged")
    for delegation, token in (imported.tokens or {}).items():
        print(f"  token {delegation}: {token}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
