"""`sidelines bench`: run the engine on the public benchmarks and the generated scenarios.

Three suites, each rendered as a markdown table:

* `b2b`: the 20 original B2B instances (Bofill et al., JAIR 2022) at fairness d=2, beside the
  published optimum and solve times (`published_results_JAIR2022.csv`);
* `csplib046`: the 27 CSPLib prob046 instances, feasible or infeasible, beside `results.md`;
* `scenarios`: every generated forum scenario (seed 0) at one or more time limits, beside the greedy baseline.

Nothing in a row is taken on the solver's word: every schedule goes through the independent validator,
breaks are recomputed from the placements, and a row whose schedule breaks a rule, whose claimed objective
differs from the recomputed one, or that contradicts a published result is marked FAILED.

Each solve runs in its own spawned process, so the peak memory of a row (ru_maxrss of that process) is the
peak of that run alone, not of everything the benchmark did before it.
"""

from __future__ import annotations

import csv
import math
import multiprocessing
import re
import resource
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from solver.engine import SolveOptions, solve
from solver.model import Problem
from solver.result import Schedule
from solver.validate import Report, breaks_by_participant, validate

REPO = Path(__file__).resolve().parents[1]
# CI lays shared/ beside the clone of the repository.
DEFAULT_DATA = REPO.parent / "shared" / "bench" / "external"

SUITES = ("b2b", "csplib046", "scenarios", "optaplanner")
# The settings: what `sidelines bench SUITE` runs without --time-limit.
DEFAULT_LIMITS: dict[str, tuple[float, ...]] = {
    "b2b": (60.0,),
    "csplib046": (10.0,),
    "scenarios": (1.0, 5.0, 30.0),
    "optaplanner": (30.0,),
}
B2B_FAIRNESS = 2  # the d of the published Tables 2-5
BEST_PUBLISHED_CONFIG = "MaxSAT-imp12+"  # the fastest configuration overall in the paper (Table 3)
SCENARIO_SEED = 0  # the seed of the committed examples

Log = Callable[[str], None]


class BenchError(ValueError):
    """Bad bench input (missing data, unknown instance); `where` names the option or path."""

    def __init__(self, where: str, what: str) -> None:
        self.where, self.what = where, what
        super().__init__(f"{where}: {what}")


# ---- one isolated solve


@dataclass(frozen=True)
class Run:
    schedule: Schedule
    peak_mb: float  # peak resident memory of the process that solved, plus its largest child's


def run_isolated(problem: Problem, options: SolveOptions) -> Run:
    """Solve in a fresh spawned process, so its peak memory is this run's alone."""
    # spawn, not fork: a forked child would inherit (and report) the parent's memory high-water mark.
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_solve_and_measure, problem, options).result()


def _solve_and_measure(problem: Problem, options: SolveOptions) -> Run:
    schedule = solve(problem, options)
    # KiB on Linux. With two workers a large forum's second local search runs in a
    # child (solver/twin.py): the two peaks added are an upper bound of the pair's.
    peak_kib = sum(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return Run(schedule, round(peak_kib / 1024, 1))


def claimed_objective_differs(schedule: Schedule, report: Report) -> bool:
    """The solver's objective is not the validator's recomputation (a schedule without one claims nothing)."""
    return schedule.objective is not None and schedule.objective != report.objective


# ---- formatting


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return "\n".join(lines) + "\n"


def number(value: float | None) -> str:
    return "-" if value is None else f"{value:,}"


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _known(names: Sequence[str]) -> str:
    return ", ".join(names)


def _pick(requested: Sequence[str] | None, available: Sequence[str], suite: str) -> list[str]:
    """The requested instance names in the order given, or all of them."""
    if not requested:
        return list(available)
    unknown = [name for name in requested if name not in available]
    if unknown:
        raise BenchError("--instances", f"unknown {suite} instance {unknown[0]!r}; known: {_known(available)}")
    return list(dict.fromkeys(requested))


def _require(path: Path) -> Path:
    if not path.exists():
        hint = "give the folder that holds b2b-udg/ and csplib-prob046/ with --data"
        raise BenchError(str(path), f"benchmark data not found ({hint})")
    return path


# ---- B2B


@dataclass(frozen=True)
class B2BPublished:
    optimum: int | None  # breaks, proven by at least one published configuration
    best_config_seconds: float | None  # BEST_PUBLISHED_CONFIG's time to prove it
    fastest_seconds: float | None  # the fastest proof over all published configurations
    fastest_config: str | None


def read_b2b_published(path: Path) -> dict[str, B2BPublished]:
    """Instance name -> its published d=2 results."""
    proofs: dict[str, list[dict[str, str]]] = {}
    with _require(path).open(newline="") as handle:
        for row in csv.DictReader(handle):
            proofs.setdefault(row["instance"], [])
            if row["status"] == "OPTIMAL" and row["fairness_d"] == str(B2B_FAIRNESS):
                proofs[row["instance"]].append(row)
    return {name: _b2b_published(path, name, rows) for name, rows in proofs.items()}


def _b2b_published(path: Path, name: str, rows: list[dict[str, str]]) -> B2BPublished:
    if not rows:
        return B2BPublished(None, None, None, None)
    optima = {int(row["objective_breaks"]) for row in rows}
    if len(optima) != 1:
        raise BenchError(str(path), f"{name}: published optima disagree: {sorted(optima)}")
    fastest = min(rows, key=lambda row: float(row["time_s"]))
    best = [float(row["time_s"]) for row in rows if row["config"] == BEST_PUBLISHED_CONFIG]
    return B2BPublished(optima.pop(), min(best, default=None), float(fastest["time_s"]), fastest["config"])


@dataclass(frozen=True)
class B2BRow:
    instance: str
    status: str
    meetings: int
    placed: int
    breaks: int  # recomputed from the placements by the validator
    bound_breaks: int | None  # the solver's bound as a bound on breaks, when all meetings are placed
    seconds: float
    peak_mb: float
    violations: int
    objective_mismatch: bool
    published: B2BPublished

    @property
    def all_placed(self) -> bool:
        return self.placed == self.meetings

    @property
    def proven(self) -> bool:
        return self.status == "OPTIMAL"

    @property
    def reproduced(self) -> bool:
        return self.all_placed and self.breaks == self.published.optimum

    @property
    def contradicts(self) -> bool:
        """A valid schedule better than a published optimum, or a proof of a different one."""
        optimum = self.published.optimum
        if optimum is None or not self.all_placed:
            return False
        return self.breaks < optimum or (self.proven and self.breaks != optimum)

    @property
    def failed(self) -> bool:
        return bool(self.violations) or self.objective_mismatch or self.contradicts

    def agree(self) -> str:
        if self.violations or self.objective_mismatch:
            return f"**FAILED** ({self._fault()})"
        if self.contradicts:
            return "**FAILED** (contradicts published optimum)"
        if self.reproduced:
            return "yes, proven" if self.proven else "yes"
        return "no"

    def _fault(self) -> str:
        faults = [f"{self.violations} violations"] if self.violations else []
        return ", ".join([*faults, "objective mismatch"] if self.objective_mismatch else faults)

    def cells(self) -> list[str]:
        published = self.published
        fastest = "-"
        if published.fastest_config:
            fastest = f"{seconds(published.fastest_seconds)} ({published.fastest_config})"
        return [
            self.instance,
            self.status,
            f"{self.placed}/{self.meetings}",
            str(self.breaks),
            number(self.bound_breaks),
            seconds(self.seconds),
            f"{self.peak_mb:.0f}",
            number(published.optimum),
            seconds(published.best_config_seconds),
            fastest,
            self.agree(),
        ]


B2B_HEADERS = (
    "instance",
    "status",
    "placed",
    "breaks",
    "bound (breaks)",
    "time (s)",
    "peak MB",
    "published optimum",
    f"{BEST_PUBLISHED_CONFIG} (s)",
    "fastest published (s)",
    "agree",
)


def b2b_instances(data: Path) -> dict[str, Path]:
    folder = _require(data / "b2b-udg" / "noves")
    return {path.name.removesuffix(".original.dzn"): path for path in sorted(folder.glob("*.original.dzn"))}


def run_b2b(
    data: Path, limit: float, workers: int, names: Sequence[str] | None = None, log: Log | None = None
) -> list[B2BRow]:
    from solver.importers import load_b2b

    instances = b2b_instances(data)
    published = read_b2b_published(data / "b2b-udg" / "published_results_JAIR2022.csv")
    rows = []
    for name in _pick(names, list(instances), "b2b"):
        problem = load_b2b(instances[name], fairness=B2B_FAIRNESS)
        run = run_isolated(problem, SolveOptions(time_limit=limit, workers=workers))
        rows.append(b2b_row(name, problem, run, published.get(name, B2BPublished(None, None, None, None))))
        if log:
            log(f"b2b {name}: {rows[-1].status}, {rows[-1].breaks} breaks, {rows[-1].seconds:.1f} s")
    return rows


def b2b_row(name: str, problem: Problem, run: Run, published: B2BPublished) -> B2BRow:
    schedule = run.schedule
    report = validate(problem, schedule)
    placed = len(schedule.placed)
    return B2BRow(
        instance=name,
        status=schedule.status,
        meetings=len(problem.meetings),
        placed=placed,
        breaks=sum(breaks_by_participant(problem, schedule).values()),
        bound_breaks=_bound_in_breaks(problem, schedule, placed == len(problem.meetings)),
        seconds=schedule.stats.solve_seconds,
        peak_mb=run.peak_mb,
        violations=len(report.violations),
        objective_mismatch=claimed_objective_differs(schedule, report),
        published=published,
    )


def _bound_in_breaks(problem: Problem, schedule: Schedule, all_placed: bool) -> int | None:
    """A lower bound on the breaks of any schedule that places every meeting.

    Such a schedule costs exactly weights.breaks x breaks (no unplaced, full fairness, no other term
    in a B2B problem), and every schedule costs at least the bound.
    """
    per_break = problem.objective.weights.breaks
    if not all_placed or schedule.best_bound is None or per_break <= 0:
        return None
    return max(0, math.ceil(schedule.best_bound / per_break))


def b2b_totals(rows: Sequence[B2BRow]) -> list[str]:
    published_total = sum(row.published.best_config_seconds or 0.0 for row in rows)
    fastest_total = sum(row.published.fastest_seconds or 0.0 for row in rows)
    return [
        "**total**",
        f"{sum(row.proven for row in rows)}/{len(rows)} proven",
        f"{sum(row.all_placed for row in rows)}/{len(rows)} all placed",
        str(sum(row.breaks for row in rows)),
        "",
        seconds(sum(row.seconds for row in rows)),
        f"{max((row.peak_mb for row in rows), default=0):.0f} max",
        str(sum(row.published.optimum or 0 for row in rows)),
        seconds(published_total),
        seconds(fastest_total),
        f"{sum(row.reproduced for row in rows)}/{len(rows)} reproduced, {sum(row.failed for row in rows)} failed",
    ]


def b2b_markdown(rows: Sequence[B2BRow]) -> str:
    return markdown_table(B2B_HEADERS, [*(row.cells() for row in rows), b2b_totals(rows)])


# ---- CSPLib prob046

_RESULT_HEADER = re.compile(r"^(?:\*\*|__)Instance #(\d+)(?:\*\*|__)\s*$", re.MULTILINE)


def read_prob046_labels(path: Path) -> dict[int, str]:
    """Instance number -> "feasible" or "infeasible", as results.md states it."""
    text = _require(path).read_text()
    headers = list(_RESULT_HEADER.finditer(text))
    labels: dict[int, str] = {}
    for header, following in zip(headers, [*headers[1:], None], strict=True):
        body = text[header.end() : following.start() if following else len(text)]
        if "infeasible" in body:
            labels[int(header[1])] = "infeasible"
        elif "satisfiable" in body:
            labels[int(header[1])] = "feasible"
        else:
            raise BenchError(str(path), f"instance #{header[1]}: no feasible/infeasible statement")
    return labels


@dataclass(frozen=True)
class Prob046Row:
    instance: int
    status: str
    meetings: int
    placed: int
    seconds: float
    peak_mb: float
    violations: int
    objective_mismatch: bool
    published: str | None

    @property
    def label(self) -> str:
        if self.placed == self.meetings:
            return "feasible"
        # every meeting is a hard must: the solver proves that no grid holds them all
        return "infeasible" if self.status == "INFEASIBLE" else "unknown"

    @property
    def agrees(self) -> bool:
        return self.label == self.published

    @property
    def failed(self) -> bool:
        contradicts = self.label != "unknown" and self.published is not None and not self.agrees
        return bool(self.violations) or self.objective_mismatch or contradicts

    def agree(self) -> str:
        if self.violations or self.objective_mismatch:
            return f"**FAILED** ({self.violations} violations, objective mismatch: {self.objective_mismatch})"
        if self.failed:
            return "**FAILED** (contradicts published label)"
        return "yes" if self.agrees else "unknown"

    def cells(self) -> list[str]:
        return [
            f"#{self.instance}",
            self.status,
            f"{self.placed}/{self.meetings}",
            self.label,
            self.published or "-",
            seconds(self.seconds),
            f"{self.peak_mb:.0f}",
            self.agree(),
        ]


PROB046_HEADERS = ("instance", "status", "placed", "label", "published label", "time (s)", "peak MB", "agree")


def run_csplib046(
    data: Path, limit: float, workers: int, names: Sequence[str] | None = None, log: Log | None = None
) -> list[Prob046Row]:
    from solver.importers.csplib046 import parse_csplib046, problem_of

    folder = data / "csplib-prob046"
    instances = parse_csplib046(_require(folder / "instances.md"))
    labels = read_prob046_labels(folder / "results.md")
    available = [str(number) for number in sorted(instances)]
    rows = []
    for name in _pick([name.removeprefix("#") for name in names or []], available, "csplib046"):
        problem = problem_of(instances[int(name)])
        run = run_isolated(problem, SolveOptions(time_limit=limit, workers=workers))
        rows.append(prob046_row(int(name), problem, run, labels.get(int(name))))
        if log:
            log(f"csplib046 #{name}: {rows[-1].label} ({rows[-1].status}), {rows[-1].seconds:.1f} s")
    return rows


def prob046_row(number: int, problem: Problem, run: Run, published: str | None) -> Prob046Row:
    schedule = run.schedule
    report = validate(problem, schedule)
    return Prob046Row(
        instance=number,
        status=schedule.status,
        meetings=len(problem.meetings),
        placed=len(schedule.placed),
        seconds=schedule.stats.solve_seconds,
        peak_mb=run.peak_mb,
        violations=len(report.violations),
        objective_mismatch=claimed_objective_differs(schedule, report),
        published=published,
    )


def prob046_totals(rows: Sequence[Prob046Row]) -> list[str]:
    proven = sum(row.label != "unknown" for row in rows)
    return [
        "**total**",
        "",
        "",
        f"{proven}/{len(rows)} decided",
        "",
        seconds(sum(row.seconds for row in rows)),
        f"{max((row.peak_mb for row in rows), default=0):.0f} max",
        f"{sum(row.agrees for row in rows)}/{len(rows)} agree, {sum(row.failed for row in rows)} failed",
    ]


def prob046_markdown(rows: Sequence[Prob046Row]) -> str:
    return markdown_table(PROB046_HEADERS, [*(row.cells() for row in rows), prob046_totals(rows)])


# ---- scenarios


@dataclass(frozen=True)
class ScenarioRun:
    limit: float
    placed: int
    objective: int  # recomputed by the validator
    bound: int | None
    gap: float | None
    seconds: float
    first_solution: float | None
    peak_mb: float
    violations: int
    objective_mismatch: bool


@dataclass(frozen=True)
class ScenarioRow:
    scenario: str
    meetings: int
    greedy_objective: int | None  # recomputed; None when greedy breaks a rule (e.g. the break spread)
    greedy_placed: int
    runs: tuple[ScenarioRun, ...]

    def not_worse(self, run: ScenarioRun) -> bool:
        return self.greedy_objective is None or run.objective <= self.greedy_objective

    @property
    def failed(self) -> bool:
        return any(run.violations or run.objective_mismatch or not self.not_worse(run) for run in self.runs)

    def verdict(self, run: ScenarioRun) -> str:
        if run.violations or run.objective_mismatch:
            return f"**FAILED** ({run.violations} violations, objective mismatch: {run.objective_mismatch})"
        return "yes" if self.not_worse(run) else "**FAILED** (worse)"

    def cells(self) -> list[str]:
        cells = [self.scenario, str(self.meetings), number(self.greedy_objective), str(self.greedy_placed)]
        for run in self.runs:
            cells += [
                str(run.placed),
                number(run.objective),
                number(run.bound),
                percent(run.gap),
                seconds(run.seconds),
                seconds(run.first_solution),
                f"{run.peak_mb:.0f}",
                self.verdict(run),
            ]
        return cells


SCENARIO_RUN_HEADERS = ("placed", "objective", "bound", "gap", "time (s)", "first solution (s)", "peak MB", "≤ greedy")


def scenario_headers(limits: Sequence[float]) -> list[str]:
    headers = ["scenario", "meetings", "greedy objective", "greedy placed"]
    for limit in limits:
        headers += [f"{header} @{limit:g}s" for header in SCENARIO_RUN_HEADERS]
    return headers


def run_scenarios(
    limits: Sequence[float], workers: int, names: Sequence[str] | None = None, log: Log | None = None
) -> list[ScenarioRow]:
    from solver.scenarios import SCENARIOS, generate

    rows = []
    for name in _pick(names, list(SCENARIOS), "scenario"):
        problem = generate(name, SCENARIO_SEED)
        greedy = solve(problem, SolveOptions(method="greedy"))
        greedy_report = validate(problem, greedy)
        runs = tuple(
            scenario_run(problem, limit, run_isolated(problem, SolveOptions(time_limit=limit, workers=workers)))
            for limit in limits
        )
        greedy_objective = greedy_report.objective if greedy_report.ok else None
        rows.append(ScenarioRow(name, len(problem.meetings), greedy_objective, len(greedy.placed), runs))
        if log:
            log(f"scenario {name}: objectives {[run.objective for run in runs]}, greedy {greedy_objective}")
    return rows


def scenario_run(problem: Problem, limit: float, run: Run) -> ScenarioRun:
    schedule = run.schedule
    report = validate(problem, schedule)
    return ScenarioRun(
        limit=limit,
        placed=len(schedule.placed),
        objective=report.objective,
        bound=schedule.best_bound,
        gap=schedule.gap,
        seconds=schedule.stats.solve_seconds,
        first_solution=schedule.stats.first_solution_seconds,
        peak_mb=run.peak_mb,
        violations=len(report.violations),
        objective_mismatch=claimed_objective_differs(schedule, report),
    )


def scenario_totals(rows: Sequence[ScenarioRow], limits: Sequence[float]) -> list[str]:
    cells = ["**total**", str(sum(row.meetings for row in rows)), "", str(sum(row.greedy_placed for row in rows))]
    for index, _ in enumerate(limits):
        runs = [(row, row.runs[index]) for row in rows]
        not_worse = sum(row.not_worse(run) and not (run.violations or run.objective_mismatch) for row, run in runs)
        cells += [str(sum(run.placed for _, run in runs)), "", "", "", seconds(sum(run.seconds for _, run in runs))]
        cells += ["", f"{max((run.peak_mb for _, run in runs), default=0):.0f} max", f"{not_worse}/{len(runs)}"]
    return cells


def scenarios_markdown(rows: Sequence[ScenarioRow], limits: Sequence[float]) -> str:
    return markdown_table(scenario_headers(limits), [*(row.cells() for row in rows), scenario_totals(rows, limits)])


# ---- one suite, as the CLI and bench/run_all.py run it


@dataclass(frozen=True)
class SuiteResult:
    markdown: str
    failed: int  # rows marked FAILED


def run_suite(
    suite: str,
    data: Path,
    limits: Sequence[float] | None,
    workers: int,
    names: Sequence[str] | None = None,
    log: Log | None = None,
) -> SuiteResult:
    """Run one suite (see SUITES) and render its table; raises BenchError on bad input before solving."""
    if suite not in SUITES:
        raise BenchError("suite", f"unknown suite {suite!r}; known: {_known(SUITES)}")
    limits = tuple(limits or DEFAULT_LIMITS[suite])
    if suite == "scenarios":
        scenario_rows = run_scenarios(limits, workers, names, log)
        return SuiteResult(scenarios_markdown(scenario_rows, limits), sum(row.failed for row in scenario_rows))
    if len(limits) != 1:
        raise BenchError("--time-limit", f"the {suite} suite takes one time limit, not {len(limits)}")
    if suite == "b2b":
        b2b_rows = run_b2b(data, limits[0], workers, names, log)
        return SuiteResult(b2b_markdown(b2b_rows), sum(row.failed for row in b2b_rows))
    if suite == "optaplanner":
        opta_rows = run_optaplanner(data, limits[0], workers, names, log)
        return SuiteResult(optaplanner_markdown(opta_rows), sum(row.failed for row in opta_rows))
    prob046_rows = run_csplib046(data, limits[0], workers, names, log)
    return SuiteResult(prob046_markdown(prob046_rows), sum(row.failed for row in prob046_rows))


# ---- OptaPlanner meeting scheduling (no published scores: beside greedy)

OPTAPLANNER_FOLDER = "optaplanner-meetingscheduling"
# All five: the 400- and 800-meeting files (2.1 M and 8.4 M (start, room) pairs) were left out while
# compiling them took 19 s and 82 s; it takes 0.5 s and 2.3 s since the twenty-first session.
OPTAPLANNER_DEFAULT = ("50meetings", "100meetings", "200meetings", "400meetings", "800meetings")


@dataclass(frozen=True)
class OptaPlannerRow:
    instance: str
    meetings: int
    greedy_objective: int | None
    run: ScenarioRun

    @property
    def failed(self) -> bool:
        worse = self.greedy_objective is not None and self.run.objective > self.greedy_objective
        return bool(self.run.violations) or self.run.objective_mismatch or worse

    def cells(self) -> list[str]:
        run = self.run
        verdict = "**FAILED**" if self.failed else "yes"
        return [
            self.instance,
            str(self.meetings),
            number(self.greedy_objective),
            f"{run.placed}/{self.meetings}",
            number(run.objective),
            number(run.bound),
            percent(run.gap),
            seconds(run.seconds),
            f"{run.peak_mb:.0f}",
            verdict,
        ]


OPTAPLANNER_HEADERS = (
    "instance",
    "meetings",
    "greedy objective",
    "placed",
    "objective",
    "bound",
    "gap",
    "time (s)",
    "peak MB",
    "valid and ≤ greedy",
)


def optaplanner_files(data: Path) -> dict[str, Path]:
    """Short name ("50meetings") -> workbook, smallest first."""
    folder = _require(data / OPTAPLANNER_FOLDER)
    files = {path.name.split("-")[0]: path for path in folder.glob("*.xlsx")}
    return dict(sorted(files.items(), key=lambda item: int(item[0].removesuffix("meetings"))))


def run_optaplanner(
    data: Path, limit: float, workers: int, names: Sequence[str] | None = None, log: Log | None = None
) -> list[OptaPlannerRow]:
    from solver.importers.optaplanner import load_optaplanner

    files = optaplanner_files(data)
    rows = []
    for name in _pick(names or list(OPTAPLANNER_DEFAULT), list(files), "optaplanner"):
        problem = load_optaplanner(files[name])
        greedy = solve(problem, SolveOptions(method="greedy"))
        greedy_report = validate(problem, greedy)
        run = scenario_run(problem, limit, run_isolated(problem, SolveOptions(time_limit=limit, workers=workers)))
        greedy_objective = greedy_report.objective if greedy_report.ok else None
        rows.append(OptaPlannerRow(name, len(problem.meetings), greedy_objective, run))
        if log:
            log(f"optaplanner {name}: objective {run.objective}, greedy {greedy_objective}")
    return rows


def optaplanner_markdown(rows: Sequence[OptaPlannerRow]) -> str:
    return markdown_table(OPTAPLANNER_HEADERS, [row.cells() for row in rows])
