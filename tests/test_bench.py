"""`sidelines bench` and api/bench.py: real solves on small public instances, checked against the
published results, and rows that turn FAILED when a schedule or the solver's claims are wrong."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from api.bench import (
    DEFAULT_DATA,
    REPO,
    B2BPublished,
    BenchError,
    Run,
    ScenarioRow,
    ScenarioRun,
    b2b_row,
    read_b2b_published,
    read_prob046_labels,
    run_csplib046,
    run_isolated,
    run_scenarios,
    run_suite,
)
from api.cli import main
from solver.engine import SolveOptions
from solver.importers import load_b2b
from solver.model import Problem
from solver.validate import breaks_by_participant

TIC_12 = DEFAULT_DATA / "b2b-udg" / "noves" / "tic-12.original.dzn"
# Generous against a loaded machine: tic-12 proves its optimum in about 2 s on two cores.
B2B_LIMIT = 20.0
# #1 is feasible, #8 infeasible; both are decided well under a second.
PROB046_LIMIT = 10.0


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def table_lines(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("|")]


# ---- published results


def test_data_is_found_relative_to_the_repository() -> None:
    assert DEFAULT_DATA.resolve() == (Path(__file__).resolve().parents[1].parent / "shared/bench/external").resolve()
    assert TIC_12.is_file()


def test_b2b_published_results_give_optimum_and_the_papers_total_time() -> None:
    published = read_b2b_published(DEFAULT_DATA / "b2b-udg" / "published_results_JAIR2022.csv")
    assert len(published) == 20
    assert published["tic-12"].optimum == 0
    assert published["forum-13crafb"].optimum == 6
    assert published["tic-12"].best_config_seconds == pytest.approx(0.1)
    # the paper's best configuration proves all 20 in 81 s in total
    assert sum(item.best_config_seconds or 0 for item in published.values()) == pytest.approx(81.0)


def test_prob046_published_labels_match_the_source_notes() -> None:
    labels = read_prob046_labels(DEFAULT_DATA / "csplib-prob046" / "results.md")
    feasible = {number for number, label in labels.items() if label == "feasible"}
    assert len(labels) == 27
    assert feasible == {1, 2, 3, 4, 5, 19, 20, 21, 22, 23, 24}


# ---- csplib046


def test_csplib046_reproduces_a_feasible_and_an_infeasible_label() -> None:
    rows = run_csplib046(DEFAULT_DATA, PROB046_LIMIT, 2, ["1", "#8"])
    by_number = {row.instance: row for row in rows}
    assert by_number[1].published == "feasible" and by_number[1].label == "feasible"
    assert by_number[8].published == "infeasible" and by_number[8].label == "infeasible"
    assert by_number[8].placed == 0 and by_number[8].status == "INFEASIBLE"
    assert all(row.violations == 0 and not row.failed and row.agree() == "yes" for row in rows)


# ---- b2b


@pytest.fixture(scope="module")
def tic_12() -> tuple[Problem, Run]:
    problem = load_b2b(TIC_12, fairness=2)
    return problem, run_isolated(problem, SolveOptions(time_limit=B2B_LIMIT, workers=2))


def test_b2b_row_validates_and_recomputes_breaks_from_the_schedule(tic_12: tuple[Problem, Run]) -> None:
    problem, solved = tic_12
    row = b2b_row("tic-12", problem, solved, B2BPublished(0, 0.1, 0.1, "MaxSAT-imp12+"))
    assert row.violations == 0 and not row.objective_mismatch
    assert row.breaks == sum(breaks_by_participant(problem, solved.schedule).values())
    assert row.all_placed and row.meetings == 125
    assert row.reproduced and not row.failed  # the published optimum, 0 breaks
    assert row.agree().startswith("yes")
    assert solved.peak_mb > 0


def test_b2b_row_ignores_the_solvers_claims(tic_12: tuple[Problem, Run]) -> None:
    problem, solved = tic_12
    claims = msgspec.structs.replace(solved.schedule, terms={"breaks": 70}, objective=70)
    row = b2b_row("tic-12", problem, Run(claims, solved.peak_mb), B2BPublished(0, None, None, None))
    assert row.breaks == 0  # from the placements, not the claimed 7 breaks
    assert row.objective_mismatch and row.failed and "FAILED" in row.agree()


def test_b2b_row_with_a_broken_schedule_fails_loudly(tic_12: tuple[Problem, Run]) -> None:
    problem, solved = tic_12
    first, second, *rest = solved.schedule.placed
    # the second meeting moved onto the first's time and table
    clash = msgspec.structs.replace(second, start=first.start, end=first.end, room=first.room, slot=first.slot)
    broken = msgspec.structs.replace(solved.schedule, placed=[first, clash, *rest])
    row = b2b_row("tic-12", problem, Run(broken, solved.peak_mb), B2BPublished(0, None, None, None))
    assert row.violations > 0 and row.failed
    assert "**FAILED**" in row.cells()[-1]


def test_b2b_row_that_beats_a_published_optimum_contradicts_it(tic_12: tuple[Problem, Run]) -> None:
    problem, solved = tic_12
    row = b2b_row("tic-12", problem, solved, B2BPublished(3, None, None, None))
    assert row.contradicts and row.failed and "contradicts" in row.agree()


# ---- scenarios


def test_smallest_scenario_at_one_second_is_never_worse_than_greedy() -> None:
    (row,) = run_scenarios([1.0], 2, ["cis-council"])
    (solved,) = row.runs
    assert row.greedy_objective is not None and row.greedy_placed == row.meetings == 20
    assert solved.violations == 0 and not solved.objective_mismatch
    assert solved.objective <= row.greedy_objective
    assert row.not_worse(solved) and not row.failed and row.verdict(solved) == "yes"


def test_a_scenario_run_worse_than_greedy_fails() -> None:
    run_ = ScenarioRun(1.0, 20, 500, None, None, 1.0, None, 100.0, 0, False)
    row = ScenarioRow("made-up", 20, 400, 20, (run_,))
    assert not row.not_worse(run_) and row.failed and "FAILED" in row.verdict(run_)


# ---- the command line


def test_cli_bench_prints_a_markdown_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "bench", "csplib046", "--instances", "1", "--time-limit", "5", "--workers", "2")
    assert code == 0, err
    lines = table_lines(out)
    assert lines[0].startswith("| instance | status | placed | label | published label")
    assert set(lines[1].replace("|", "").split()) == {"---"}
    assert lines[2].startswith("| #1 | OPTIMAL | 20/20 | feasible | feasible |")
    assert lines[-1].startswith("| **total** |")
    assert len({line.count("|") for line in lines}) == 1  # every row has the header's columns


def test_cli_bench_scenarios_has_a_column_group_per_limit(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "bench", "scenarios", "--instances", "cis-council", "--time-limits", "1", "1.5")
    assert code == 0, err
    header = table_lines(out)[0]
    assert "objective @1s" in header and "objective @1.5s" in header and "≤ greedy @1.5s" in header
    assert len({line.count("|") for line in table_lines(out)}) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bench", "nosuchsuite"], "invalid choice: 'nosuchsuite'"),
        (["bench", "b2b", "--instances", "tic-99"], "--instances: unknown b2b instance 'tic-99'; known: forum-13"),
        (["bench", "csplib046", "--instances", "28"], "--instances: unknown csplib046 instance '28'"),
        (["bench", "scenarios", "--instances", "davos"], "unknown scenario instance 'davos'; known: shangri-la"),
        (["bench", "b2b", "--time-limit", "-5"], "--time-limit/--time-limits: must be a number above 0, not '-5'"),
        (["bench", "b2b", "--time-limit", "1", "5"], "--time-limit: the b2b suite takes one time limit, not 2"),
        (
            ["bench", "b2b", "--data", "/nonexistent/bench"],
            "/nonexistent/bench/b2b-udg/noves: benchmark data not found",
        ),
    ],
)
def test_cli_bench_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2
    assert out == ""
    assert "sidelines: error: " in err and message in err


def test_run_suite_rejects_an_unknown_suite_before_solving() -> None:
    with pytest.raises(BenchError, match="unknown suite 'nope'; known: b2b, csplib046, scenarios"):
        run_suite("nope", DEFAULT_DATA, None, 2)


@pytest.mark.parametrize("script", sorted(path.name for path in (REPO / "bench").glob("*.py")))
def test_each_bench_script_starts(script: str) -> None:
    """Every script in bench/ imports and answers --help as run: from bench/, which Python
    puts first on the path, so a script named like a package (bench/api.py once) would stand
    in for it and break every other script's `from api.bench import ...`."""
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / script), "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout
