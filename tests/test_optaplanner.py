"""The OptaPlanner meeting-scheduling importer, its CLI command and its bench rows."""

from __future__ import annotations

from pathlib import Path

import msgspec
import openpyxl
import pytest

from api.bench import DEFAULT_DATA, optaplanner_files, run_suite
from api.cli import main
from solver.check import check_problem
from solver.compile import compile_problem
from solver.engine import SolveOptions, solve
from solver.importers import load_optaplanner, parse_optaplanner
from solver.model import Problem
from solver.validate import validate

BENCH = DEFAULT_DATA  # ../shared beside the clone, as CI has it
FOLDER = BENCH / "optaplanner-meetingscheduling"
SMALLEST = FOLDER / "50meetings-160timegrains-5rooms.xlsx"
HEADER = ("Topic", "Group", "Duration", "Speakers", "Content", "Required attendance list", "Preferred attendance list")
Row = tuple[str, str, int, str, str, str, str]  # a Meetings row, in HEADER's columns


def test_the_five_workbooks_are_found_smallest_first() -> None:
    assert list(optaplanner_files(BENCH)) == ["50meetings", "100meetings", "200meetings", "400meetings", "800meetings"]


@pytest.mark.parametrize("size", [50, 100, 200])
def test_workbook_imports_valid_with_the_sources_time_grains(size: int) -> None:
    grains = {50: 160, 100: 320, 200: 640}[size]
    path = FOLDER / f"{size}meetings-{grains}timegrains-5rooms.xlsx"
    problem = load_optaplanner(path)
    assert check_problem(problem) == []
    assert len(problem.meetings) == size and len(problem.rooms) == 5
    compiled = compile_problem(problem)
    # the file name counts time grains without the lunch hour: so does every person's open time here
    assert {len(free) for free in compiled.available.values()} == {grains}


def test_source_rows_land_in_the_right_fields() -> None:
    source = parse_optaplanner(SMALLEST)
    problem = load_optaplanner(SMALLEST)
    first = problem.meetings[0]
    assert (first.id, first.title, first.duration_minutes) == ("m1", "Strategize B2B", 45)
    assert first.participants == ["dan-li", "amy-jones"] == first.delegations
    assert first.seats == 2 + 3  # required + preferred, the source's room capacity rule
    assert first.priority == "must"
    assert [(room.id, room.seats) for room in problem.rooms] == [
        ("r-1", 30),
        ("r-2", 20),
        ("r-3", 16),
        ("r-4", 14),
        ("r-5", 12),
    ]
    assert len(problem.delegations) == len(source.persons)
    assert all(len(d.participants) == 1 and d.participants[0].principal for d in problem.delegations)
    # lunch 12:00-13:00 on the four full days; the last day ends at 12:00
    lunch = problem.sessions[0]
    assert (lunch.start.isoformat(), lunch.end.isoformat(), lunch.scope) == (
        "2022-01-01T12:00:00",
        "2022-01-01T13:00:00",
        "everyone",
    )
    assert len(problem.sessions) == 4


def test_smallest_workbook_solves_valid_and_never_worse_than_greedy() -> None:
    problem = load_optaplanner(SMALLEST)
    greedy = solve(problem, SolveOptions(method="greedy"))
    schedule = solve(problem, SolveOptions(time_limit=3, workers=2))
    report = validate(problem, schedule)
    assert report.violations == [] and report.objective == schedule.objective
    assert schedule.objective is not None and greedy.objective is not None
    assert schedule.objective <= greedy.objective
    assert len(schedule.placed) == 50


def _workbook(tmp_path: Path, meetings: list[Row], persons: tuple[str, ...] = ("Amy Cole", "Beth Fox")) -> Path:
    book = openpyxl.Workbook()
    days = book.worksheets[0]  # the new workbook's one sheet (`active`, typed as possibly None)
    days.title = "Days"
    days.append(("Day", "Start", "End", "Lunch hour start time"))
    days.append(("Sat 2022-01-01", "08:00", "18:00", "12:00"))
    rooms = book.create_sheet("Rooms")
    rooms.append(("Name", "Capacity"))
    rooms.append(("R 1", 10))
    people = book.create_sheet("Persons")
    people.append(("Full name",))
    for name in persons:
        people.append((name,))
    sheet = book.create_sheet("Meetings")
    sheet.append(HEADER)
    for row in meetings:
        sheet.append(row)
    path = tmp_path / "forum.xlsx"
    book.save(path)
    return path


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (("Plan", "", 45, "", "", "Amy Cole, Zed Nobody", ""), "row 2: 'Required attendance list' names 'Zed Nobody'"),
        (("Plan", "", 50, "", "", "Amy Cole, Beth Fox", ""), "row 2: 'Duration' is not a multiple of 15"),
        (("Plan", "", -15, "", "", "Amy Cole, Beth Fox", ""), "row 2: 'Duration' must be a positive whole number"),
        (("Plan", "", 30, "", "", "Amy Cole", ""), "row 2: a meeting needs two required attendees or more"),
    ],
)
def test_bad_rows_raise_value_error_naming_sheet_row_and_column(tmp_path: Path, row: Row, message: str) -> None:
    path = _workbook(tmp_path, [row])
    with pytest.raises(ValueError, match="sheet Meetings " + message.replace("(", r"\(")):
        parse_optaplanner(path)


def test_a_good_hand_made_workbook_imports(tmp_path: Path) -> None:
    problem = load_optaplanner(_workbook(tmp_path, [("Plan", "", 30, "", "", "Amy Cole, Beth Fox", "")]))
    assert check_problem(problem) == [] and problem.meetings[0].seats == 2


def test_missing_sheet_missing_file_and_not_a_workbook(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.worksheets[0].title = "Days"
    partial = tmp_path / "partial.xlsx"
    book.save(partial)
    with pytest.raises(ValueError, match="missing sheet 'Rooms'"):
        parse_optaplanner(partial)
    with pytest.raises(ValueError, match="cannot read the OptaPlanner workbook"):
        parse_optaplanner(tmp_path / "nowhere.xlsx")
    text = tmp_path / "text.xlsx"
    text.write_text("not a workbook")
    with pytest.raises(ValueError, match=r"not an \.xlsx workbook"):
        parse_optaplanner(text)


def test_cli_import_writes_a_problem_and_rejects_a_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "problem.json"
    assert main(["import", "optaplanner", str(SMALLEST), "--out", str(out)]) == 0
    assert len(msgspec.json.decode(out.read_bytes(), type=Problem).meetings) == 50
    text = tmp_path / "text.xlsx"
    text.write_text("not a workbook")
    assert main(["import", "optaplanner", str(text), "--out", str(tmp_path / "other.json")]) == 2
    assert capsys.readouterr().err.startswith(f"sidelines: error: {text}: ")
    assert not (tmp_path / "other.json").exists()


def test_bench_row_for_the_smallest_workbook_checks_out() -> None:
    result = run_suite("optaplanner", BENCH, [2.0], 2, ["50meetings"])
    assert result.failed == 0
    assert "| 50meetings | 50 |" in result.markdown and "yes |" in result.markdown
