"""The `sidelines` command line, run in-process through `main` and, where the
process matters (entry point, Ctrl-C, terminal progress), as a real subprocess."""

from __future__ import annotations

import argparse
import json
import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from ortools.sat.python import cp_model

from api import cli
from api.cli import main, pretty_json
from solver.check import lone_surrogate
from solver.model import Problem
from solver.objective import break_clauses, break_windows
from solver.result import Schedule
from solver.scenarios import SCENARIOS, generate
from tests.builders import delegation, meeting, person, problem, room, window
from tests.conftest import ADMIN_TOKEN, bearer

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS = REPO.parent / "shared" / "bench" / "external"
EXAMPLES = REPO / "examples"
SIDELINES = Path(sys.executable).parent / "sidelines"  # the console script installed beside this interpreter

Result = tuple[int, str, str]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    """(exit code, stdout, stderr) of one in-process `sidelines` run."""
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def four_delegations(**people: Any) -> Problem:
    """JP, AU, SG and NZ principals, two rooms, a 09:00-13:00 day; m1 JP-AU and m2 SG-NZ."""
    return problem(
        [delegation(code, person(f"{code}-min", **people.get(code, {}))) for code in ("jp", "au", "sg", "nz")],
        [meeting("m1", ["jp", "au"], 30), meeting("m2", ["sg", "nz"], 30), meeting("m3", ["jp", "sg"], 45)],
        rooms=[room("R1"), room("R2")],
    )


def write(path: Path, document: object) -> str:
    path.write_bytes(pretty_json(document))
    return str(path)


def read_schedule(path: Path) -> Schedule:
    return msgspec.json.decode(path.read_bytes(), type=Schedule)


@pytest.fixture
def problem_file(tmp_path: Path) -> str:
    return write(tmp_path / "problem.json", four_delegations())


# ---- solve and validate


def test_greedy_solve_writes_a_schedule_that_validates(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, problem_file: str
) -> None:
    out = tmp_path / "schedule.json"
    code, stdout, _ = run(capsys, "solve", problem_file, "--method", "greedy", "--out", str(out))
    assert code == 0
    assert "FEASIBLE" in stdout and "3/3" in stdout and "greedy" in stdout
    schedule = read_schedule(out)
    assert sorted(p.meeting for p in schedule.placed) == ["m1", "m2", "m3"]
    assert out.read_text().startswith('{\n  "status"')  # indented for people and diffs
    code, stdout, _ = run(capsys, "validate", problem_file, str(out))
    assert code == 0
    assert "valid" in stdout and "breaks" in stdout and "objective" in stdout


def test_every_placement_in_the_file_carries_its_slot_the_first_one_included(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, problem_file: str
) -> None:
    out = tmp_path / "schedule.json"
    assert run(capsys, "solve", problem_file, "--method", "greedy", "--out", str(out))[0] == 0
    placed = json.loads(out.read_text())["placed"]
    slots = {entry["meeting"]: entry.get("slot") for entry in placed}
    assert 0 in slots.values()  # greedy's earliest start: the case that used to be left out
    for entry in placed:  # one 09:00 day of 15-minute slots (tests/builders.py)
        start = datetime.fromisoformat(entry["start"])
        assert slots[entry["meeting"]] == (start.hour * 60 + start.minute - 9 * 60) // 15


def test_cpsat_solve_proves_the_small_problem_optimal(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, problem_file: str
) -> None:
    out = tmp_path / "schedule.json"
    args = ("--time-limit", "2", "--workers", "1", "--seed", "3", "--deterministic", "--out", str(out))
    code, stdout, stderr = run(capsys, "solve", problem_file, *args)
    assert code == 0
    assert stderr == ""  # no progress lines when stderr is not a terminal
    schedule = read_schedule(out)
    assert schedule.status == "OPTIMAL" and schedule.objective == 0 and schedule.stats.seed == 3
    for shown in ("OPTIMAL", "0.00%", "3/3", "first solution", "variables/constraints", "greedy objective"):
        assert shown in stdout
    assert run(capsys, "validate", problem_file, str(out))[0] == 0


def test_solve_without_out_prints_only_the_summary(capsys: pytest.CaptureFixture[str], problem_file: str) -> None:
    code, stdout, _ = run(capsys, "solve", problem_file, "--method", "greedy")
    assert code == 0
    assert "Solve summary" in stdout and '"placed"' not in stdout


def test_unplaced_meetings_are_listed_with_their_reason(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    busy_all_day = {"blocked": [window("09:00", "13:00")]}
    path = write(tmp_path / "problem.json", four_delegations(sg=busy_all_day))
    code, stdout, _ = run(capsys, "solve", path, "--time-limit", "2", "--workers", "1")
    assert code == 0  # a grid was found, just not a complete one
    assert "1/3" in stdout and "Unplaced meetings (2):" in stdout
    assert "m2  no_common_availability" in stdout and "m3  no_common_availability" in stdout


def test_validate_names_the_rule_of_two_meetings_in_one_room_at_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, problem_file: str
) -> None:
    good = tmp_path / "schedule.json"
    assert run(capsys, "solve", problem_file, "--method", "greedy", "--out", str(good))[0] == 0
    schedule = read_schedule(good)
    by_id = {placement.meeting: placement for placement in schedule.placed}
    # m1 (JP-AU) and m2 (SG-NZ) share nobody, so only the room is double-booked.
    moved = msgspec.structs.replace(by_id["m2"], start=by_id["m1"].start, end=by_id["m1"].end, room=by_id["m1"].room)
    tampered = msgspec.structs.replace(schedule, placed=[by_id["m1"], moved, by_id["m3"]])
    code, stdout, _ = run(capsys, "validate", problem_file, write(tmp_path / "tampered.json", tampered))
    assert code == 1
    assert "violation room_overlap" in stdout and "invalid" in stdout
    assert "participant_overlap" not in stdout


def test_validate_names_the_bad_field_of_a_schedule(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, problem_file: str
) -> None:
    bad = tmp_path / "schedule.json"
    bad.write_text('{"status": "FEASIBLE", "placed": [{"meeting": "m1", "start": "noon", "end": "x", "room": "R1"}]}')
    code, _, stderr = run(capsys, "validate", problem_file, str(bad))
    assert code == 2
    assert stderr.startswith(f"sidelines: error: {bad}: placed[0].start: ")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"status": "FEASIBLE", "placed": [], "x": 1}', "x: Object contains unknown field `x`"),
        (b"[]", "$: Expected `object`, got `array`"),
        (b'{"status": "FEASIBLE", "placed": [], "\xff": 1}', "$: not UTF-8 text: invalid start byte"),
        (
            b'{"status": "FEASIBLE", "placed": [], "x\\ud800": 1}',
            "$: invalid text: \\ud800 (byte 39) is half of a UTF-16 surrogate pair, not a character",
        ),
    ],
)
def test_a_schedule_wrong_at_its_root_is_reported_at_dollar(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, problem_file: str, content: bytes, expected: str
) -> None:
    bad = tmp_path / "schedule.json"
    bad.write_bytes(content)
    code, stdout, stderr = run(capsys, "validate", problem_file, str(bad))
    assert (code, stdout, stderr) == (2, "", f"sidelines: error: {bad}: {expected}\n")


def test_a_placement_at_the_calendars_end_is_bad_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, problem_file: str
) -> None:
    bad = tmp_path / "schedule.json"
    end = "9999-12-31T23:00:00-05:00"  # past the last datetime Python holds once in the forum's zone
    bad.write_text(
        f'{{"status": "FEASIBLE", "placed": [{{"meeting": "m1", "start": "{end}", "end": "{end}", "room": "R1"}}]}}'
    )
    code, stdout, stderr = run(capsys, "validate", problem_file, str(bad))
    assert (code, stdout) == (2, "")
    assert stderr == "".join(
        f"sidelines: error: {bad}: placed[0].{field}: must be between the years 2 and 9998\n"
        for field in ("start", "end")
    )


# ---- bad input: exit 2, one `sidelines: error: <file>: <field>: <message>` line per fault


def _unknown_participant(document: dict[str, Any]) -> None:
    document["meetings"][0]["participants"] = ["ghost"]


def _duration_off_the_grid(document: dict[str, Any]) -> None:
    document["meetings"][0]["duration_minutes"] = 25


def _longer_than_any_day(document: dict[str, Any]) -> None:
    document["meetings"][0]["duration_minutes"] = 300


def _arrival_after_departure(document: dict[str, Any]) -> None:
    document["delegations"][0]["participants"][0].update(arrival="2023-06-02T12:00:00", departure="2023-06-02T10:00:00")


def _placed_twice_before(document: dict[str, Any]) -> None:
    document["previous"] = [
        {"meeting": "m1", "start": "2023-06-02T09:00:00", "room": "R1"},
        {"meeting": "m1", "start": "2023-06-02T10:00:00", "room": "R1"},
    ]


def _misspelt_field(document: dict[str, Any]) -> None:
    document["meetings"][1]["priorty"] = "high"


def _unknown_top_level_field(document: dict[str, Any]) -> None:
    document["colour"] = "blue"


def _duration_as_text(document: dict[str, Any]) -> None:
    document["meetings"][0]["duration_minutes"] = "30"


def _duration_as_a_float(document: dict[str, Any]) -> None:
    document["meetings"][0]["duration_minutes"] = 30.0


def _slots_in_words(document: dict[str, Any]) -> None:
    document["forum"]["slot_minutes"] = "fifteen"


def _day_end_with_an_offset(document: dict[str, Any]) -> None:
    document["forum"]["days"][0]["end"] = "13:00:00+08:00"


def _arrival_at_the_calendars_start(document: dict[str, Any]) -> None:
    document["delegations"][0]["participants"][0]["arrival"] = "0001-01-01T00:00:00+05:00"


def _last_day_of_the_calendar(document: dict[str, Any]) -> None:
    document["forum"]["days"][-1]["date"] = "9999-12-31"


def _attendee_listed_twice(document: dict[str, Any]) -> None:
    document["meetings"][0]["participants"] = ["jp-min", "au-min", "jp-min"]


def _lexicographic_without_terms(document: dict[str, Any]) -> None:
    document["objective"] = {"mode": "lexicographic", "lexicographic_order": []}


def _urgent_priority(document: dict[str, Any]) -> None:
    document["meetings"][0]["priority"] = "urgent"


def _unknown_term(document: dict[str, Any]) -> None:
    document["objective"] = {"mode": "lexicographic", "lexicographic_order": ["held", "speed"]}


def _rank_in_french(document: dict[str, Any]) -> None:
    document["delegations"][1]["participants"][0]["rank"] = "ministre"


def _negative_break_spread(document: dict[str, Any]) -> None:
    document["objective"] = {"break_spread_limit": -1}


def _negative_weight(document: dict[str, Any]) -> None:
    document["objective"] = {"weights": {"breaks": -10}}


def _weight_overflowing_the_objective(document: dict[str, Any]) -> None:
    document["objective"] = {"priority_weights": {"high": 2**62}}


def _travel_longer_than_a_day(document: dict[str, Any]) -> None:
    document["venues"] = [{"id": "v1", "name": "Hotel"}, {"id": "v2", "name": "Embassy"}]
    document["rooms"][0]["venue"], document["rooms"][1]["venue"] = "v1", "v2"
    document["travel"] = [{"between": ["v1", "v2"], "minutes": 2**62}]


def _day_holding_a_clock_change(document: dict[str, Any]) -> None:
    document["forum"].update(
        time_zone="Europe/Berlin", days=[{"date": "2024-03-31", "start": "00:00:00", "end": "06:00:00"}]
    )


def _grid_too_fine(document: dict[str, Any]) -> None:
    # Two weeks of 1-minute slots: building the model alone took 17 s and 1.3 GB at a 2 s limit.
    document["forum"]["slot_minutes"] = 1
    document["meetings"] = []
    document["forum"]["days"] = [
        {"date": f"2024-06-{day:02d}", "start": "07:00:00", "end": "21:00:00"} for day in range(1, 15)
    ]


def _zone_that_is_a_directory(document: dict[str, Any]) -> None:
    document["forum"]["time_zone"] = "America"


def _zone_too_long_for_a_file_name(document: dict[str, Any]) -> None:
    document["forum"]["time_zone"] = "Z" * 300


BAD_PROBLEMS: list[tuple[Callable[[dict[str, Any]], None], str]] = [
    (_unknown_participant, "meetings[0].participants: unknown participant 'ghost'"),
    (_duration_off_the_grid, "meetings[0].duration_minutes: 25 is not a positive multiple of the 15-minute slot"),
    (_longer_than_any_day, "meetings[0].duration_minutes: 300 minutes is longer than any day (240)"),
    (_arrival_after_departure, "delegations[0].participants[0].departure: must be after the arrival"),
    (_misspelt_field, "meetings[1].priorty: Object contains unknown field `priorty`"),
    (_unknown_top_level_field, "colour: Object contains unknown field `colour`"),
    (_duration_as_text, "meetings[0].duration_minutes: Expected `int`, got `str`"),
    (_duration_as_a_float, "meetings[0].duration_minutes: Expected `int`, got `float`"),
    (_slots_in_words, "forum.slot_minutes: Expected `int`, got `str`"),
    (_placed_twice_before, "previous[1].meeting: meeting 'm1' is placed by an earlier entry"),
    (_day_end_with_an_offset, "forum.days[0].end: must be wall-clock time without a UTC offset"),
    (
        _arrival_at_the_calendars_start,
        "delegations[0].participants[0].arrival: must be between the years 2 and 9998",
    ),
    (_last_day_of_the_calendar, "forum.days[0].date: must be between the years 2 and 9998"),
    (_attendee_listed_twice, "meetings[0].participants: 'jp-min' is listed 2 times"),
    (_lexicographic_without_terms, "objective.lexicographic_order: lexicographic mode needs at least one term"),
    (_urgent_priority, "meetings[0].priority: must be one of: must, high, normal, low (not 'urgent')"),
    (
        _unknown_term,
        "objective.lexicographic_order[1]: must be one of: held, fairness, breaks, preferences, stability"
        " (not 'speed')",
    ),
    (
        _rank_in_french,
        "delegations[1].participants[0].rank: must be one of: head_of_state, minister, deputy_minister,"
        " chief_of_defence, senior_official, official (not 'ministre')",
    ),
    (_negative_break_spread, "objective.break_spread_limit: must not be negative"),
    (_negative_weight, "objective.weights.breaks: must be between 0 and 1,000,000,000"),
    (_weight_overflowing_the_objective, "objective.priority_weights.high: must be between 0 and 1,000,000,000"),
    (_travel_longer_than_a_day, "travel[0].minutes: must be between 0 and 1440 (a day)"),
    (
        _day_holding_a_clock_change,
        "forum.days[0]: the clocks change between its start and end; move its hours clear of the change",
    ),
    (_grid_too_fine, "forum.days: 11,760 slots of 1 min in all; at most 5,000: use longer slots or fewer days"),
    (_zone_that_is_a_directory, "forum.time_zone: unknown IANA time zone 'America'"),
    (_zone_too_long_for_a_file_name, f"forum.time_zone: unknown IANA time zone '{'Z' * 300}'"),
]


@pytest.mark.parametrize(("damage", "expected"), BAD_PROBLEMS)
def test_a_bad_problem_is_reported_by_field_path(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, damage: Callable[[dict[str, Any]], None], expected: str
) -> None:
    document = msgspec.to_builtins(four_delegations())
    damage(document)
    path = write(tmp_path / "problem.json", document)
    for command in (["solve", path], ["validate", path, path]):
        code, stdout, stderr = run(capsys, *command)
        assert code == 2 and stdout == ""
        assert f"sidelines: error: {path}: {expected}\n" in stderr


@pytest.mark.anyio
@pytest.mark.parametrize(("damage", "expected"), BAD_PROBLEMS)
async def test_the_api_names_a_bad_problem_as_the_cli_does(
    client: httpx.AsyncClient, damage: Callable[[dict[str, Any]], None], expected: str
) -> None:
    """The same document posted to POST /forums/import: its problem names the same field with the
    same message. The CLI said `meetings[1]: ...` for the unknown field the API called
    `meetings[1].priorty`, and the API took "30" for the number 30, which the CLI refused."""
    document = msgspec.to_builtins(four_delegations())
    damage(document)
    answer = await client.post("/forums/import", json=document, headers=bearer(ADMIN_TOKEN))
    assert answer.status_code in (400, 422), answer.text
    field, _, message = expected.partition(": ")
    assert {"field": field, "message": message} in answer.json()["errors"]


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("localtime", "'localtime' is the server's own clock setting, not a place's IANA time zone"),
        ("posixrules", "'posixrules' is the tz compiler's template for POSIX TZ strings, not a place's"),
        ("Factory", "'Factory' is the placeholder of a machine whose zone is not set, not a place's"),
        ("posix/Asia/Singapore", "'posix/Asia/Singapore' is a copy of 'Asia/Singapore' kept for C libraries"),
        ("right/UTC", "'right/UTC' is a copy of 'UTC' kept for C libraries, counting leap seconds"),
        ("right/Nowhere", "unknown IANA time zone 'right/Nowhere'"),
    ],
)
def test_zones_zoneinfo_loads_that_are_no_place_are_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, zone: str, expected: str
) -> None:
    """zoneinfo loads each of these; a forum in one would keep the server's hours, or none."""
    document = msgspec.to_builtins(four_delegations())
    document["forum"]["time_zone"] = zone
    path = write(tmp_path / "problem.json", document)
    code, stdout, stderr = run(capsys, "validate", path, path)
    assert (code, stdout) == (2, "")
    assert stderr.startswith(f"sidelines: error: {path}: forum.time_zone: {expected}"), stderr


@pytest.mark.parametrize("zone", ["Asia/Singapore", "America/Halifax", "UTC", "Etc/GMT-8", "US/Eastern"])
def test_place_zones_and_their_links_are_accepted(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, zone: str
) -> None:
    document = msgspec.to_builtins(four_delegations())
    document["forum"]["time_zone"] = zone
    path = write(tmp_path / "problem.json", document)
    assert run(capsys, "solve", path, "--method", "greedy")[0] == 0


def test_a_precedence_cycle_longer_than_the_recursion_limit_is_reported(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    count = 2 * sys.getrecursionlimit()
    document = msgspec.to_builtins(four_delegations())
    chain = document["meetings"][0]
    document["meetings"] = [{**chain, "id": f"c{n}", "after": [f"c{(n + 1) % count}"]} for n in range(count)]
    path = write(tmp_path / "problem.json", document)
    code, stdout, stderr = run(capsys, "solve", path, "--method", "greedy")
    assert (code, stdout) == (2, "")
    assert stderr == f"sidelines: error: {path}: meetings[0].after: precedences form a cycle\n"


def test_twenty_thousand_pinned_meetings_are_checked_and_the_bad_one_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """20,000 meetings pinned on three days of one-minute slots, the grid's largest size. The
    check used to gather the known ids per meeting and scan the grid per pin (about a minute
    here); how long it takes now is a benchmark's matter, not this test's."""
    document = msgspec.to_builtins(four_delegations())
    first = datetime.fromisoformat(document["forum"]["days"][0]["date"])
    days = [first + timedelta(days=n) for n in range(3)]
    document["forum"].update(
        slot_minutes=1, days=[{"date": f"{d:%Y-%m-%d}", "start": "00:00:00", "end": "23:59:00"} for d in days]
    )
    pinned = {**document["meetings"][0], "pinned_start": f"{days[-1]:%Y-%m-%d}T20:00:00"}
    document["meetings"] = [{**pinned, "id": f"m{n}"} for n in range(20_000)] + [
        {**pinned, "id": "x", "delegations": ["jp", "zz"]}
    ]
    path = write(tmp_path / "problem.json", document)
    code, _, stderr = run(capsys, "solve", path, "--method", "greedy")
    assert (code, stderr) == (2, f"sidelines: error: {path}: meetings[20000].delegations: unknown delegation 'zz'\n")


def test_malformed_json_is_reported_with_its_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "problem.json"
    path.write_text('{"forum": ')
    code, _, stderr = run(capsys, "solve", str(path))
    assert code == 2
    assert stderr.startswith(f"sidelines: error: {path}: $: malformed JSON")


def test_a_file_that_is_not_json_is_called_malformed_once(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A spreadsheet passed to solve read "malformed JSON: JSON is malformed: invalid character"."""
    path = tmp_path / "delegations.csv"
    path.write_text("id,name,country\nSG,Delegation of Singapore,SG\n")
    code, _, stderr = run(capsys, "solve", str(path))
    assert (code, stderr) == (2, f"sidelines: error: {path}: $: malformed JSON: invalid character (byte 0)\n")


def test_a_schedule_and_a_problem_given_the_wrong_way_round_are_named(
    capsys: pytest.CaptureFixture[str], problem_file: str, tmp_path: Path
) -> None:
    """`validate SCHEDULE.json PROBLEM.json` said only "status: Object contains unknown field `status`"."""
    schedule = tmp_path / "schedule.json"
    assert run(capsys, "solve", problem_file, "--method", "greedy", "--out", str(schedule))[0] == 0
    code, _, stderr = run(capsys, "validate", str(schedule), problem_file)
    assert code == 2
    assert stderr.endswith(
        f"{schedule}: status: Object contains unknown field `status` (this file is a schedule, not a problem: "
        "the problem comes first, `sidelines validate PROBLEM.json SCHEDULE.json`)\n"
    )
    code, _, stderr = run(capsys, "validate", problem_file, problem_file)
    assert code == 2
    assert stderr.endswith(
        "(this file is a problem, not a schedule: `sidelines validate PROBLEM.json SCHEDULE.json`)\n"
    )


def test_a_lone_surrogate_in_a_problem_is_named_not_called_truncated(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """msgspec says "Input data was truncated" for a \\ud800 escape with no low half after it."""
    path = tmp_path / "problem.json"
    path.write_bytes(pretty_json(four_delegations()).replace(b'"m1"', b'"m\\uD83D1"', 1))
    code, _, stderr = run(capsys, "solve", str(path))
    offset = path.read_bytes().index(b"\\uD83D")
    assert (code, stderr) == (
        2,
        f"sidelines: error: {path}: $: invalid text: \\uD83D (byte {offset}) is half of a UTF-16 surrogate pair,"
        " not a character\n",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (rb'"\ud800"', (r"\ud800", 1)),  # a high half at the end
        (rb'"\ud800x\udc00"', (r"\ud800", 1)),  # its low half not right after it
        (rb'"\ud800\n"', (r"\ud800", 1)),  # another escape after it
        (rb'"ok \udc00"', (r"\udc00", 4)),  # a low half alone
        (rb'"\ud83d\ude00 \uDBFF\uDFFF"', None),  # pairs, either case
        (rb'"\\ud800"', None),  # an escaped backslash, then text
        (rb'"\\\ud800"', (r"\ud800", 3)),  # an escaped backslash, then the escape
        ('"\u00e9 \\ud800"'.encode(), (r"\ud800", 4)),  # offsets count bytes (é is two)
    ],
)
def test_lone_surrogate_finds_the_first_half_pair(text: bytes, expected: tuple[str, int] | None) -> None:
    assert lone_surrogate(text) == expected
    assert lone_surrogate(text.decode()) == expected


def test_a_problem_that_is_not_utf8_is_reported_not_raised(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "problem.json"
    path.write_bytes(pretty_json(four_delegations()).replace(b'"m1"', b'"m\xff1"', 1))
    for command in (["solve", str(path)], ["validate", str(path), str(path)]):
        code, stdout, stderr = run(capsys, *command)
        assert (code, stdout) == (2, "")
        assert stderr == f"sidelines: error: {path}: $: not UTF-8 text: invalid start byte\n"


def test_files_with_a_byte_order_mark_are_read(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, problem_file: str
) -> None:
    """Windows editors start UTF-8 files with a BOM; RFC 8259 lets a reader ignore it, as the CSV import does."""
    path = tmp_path / "bom-problem.json"
    path.write_bytes(b"\xef\xbb\xbf" + Path(problem_file).read_bytes())
    schedule = tmp_path / "schedule.json"
    assert run(capsys, "solve", str(path), "--method", "greedy", "--out", str(schedule))[0] == 0
    schedule.write_bytes(b"\xef\xbb\xbf" + schedule.read_bytes())
    code, stdout, stderr = run(capsys, "validate", str(path), str(schedule))
    assert (code, stderr) == (0, ""), stdout


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b" \n"])
def test_an_empty_file_is_reported_as_empty(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, problem_file: str, content: bytes
) -> None:
    path = tmp_path / "empty.json"
    path.write_bytes(content)
    expected = f"sidelines: error: {path}: $: empty: a problem is a JSON object\n"
    assert run(capsys, "solve", str(path)) == (2, "", expected)
    expected = f"sidelines: error: {path}: $: empty: a schedule is a JSON object\n"
    assert run(capsys, "validate", problem_file, str(path)) == (2, "", expected)


def test_times_to_the_minute_are_read_as_on_the_minute(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """As the CSV import and the API read them; a time still unreadable says what to write."""
    document = msgspec.to_builtins(four_delegations())
    document["forum"]["days"][0].update(start="09:00", end="13:00")
    document["meetings"][0]["pinned_start"] = document["forum"]["days"][0]["date"] + "T09:30"
    path = write(tmp_path / "problem.json", document)
    schedule = tmp_path / "schedule.json"
    assert run(capsys, "solve", path, "--method", "greedy", "--out", str(schedule))[0] == 0
    placed = {p.meeting: p.start for p in read_schedule(schedule).placed}
    assert f"{placed['m1']:%H:%M:%S}" == "09:30:00"
    document["forum"]["days"][0]["start"] = "9am"
    write(tmp_path / "problem.json", document)
    code, _, stderr = run(capsys, "solve", path)
    assert (code, stderr) == (
        2,
        f"sidelines: error: {path}: forum.days[0].start: must be a time of day such as 14:30 or 14:30:00\n",
    )


def test_a_missing_file_is_reported_not_raised(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.json"
    code, _, stderr = run(capsys, "solve", str(missing))
    assert (code, stderr) == (2, f"sidelines: error: {missing}: No such file or directory\n")


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--time-limit", "0"),
        ("--time-limit", "soon"),
        ("--workers", "0"),
        ("--workers", "100000"),
        ("--seed", "-1"),
        ("--method", "magic"),
    ],
)
def test_a_bad_option_value_names_the_option(
    capsys: pytest.CaptureFixture[str], problem_file: str, option: str, value: str
) -> None:
    code, _, stderr = run(capsys, "solve", problem_file, option, value)
    assert code == 2
    assert f"sidelines: error: {option}: " in stderr and value in stderr


@pytest.mark.parametrize(
    ("command", "value"), [("serve", "70000"), ("serve", "-1"), ("serve", "x"), ("demo", "65536"), ("demo", "-1")]
)
def test_a_port_out_of_range_is_refused_before_anything_starts(
    capsys: pytest.CaptureFixture[str], command: str, value: str
) -> None:
    """uvicorn took --port 70000, said it ran on 70000, and listened on 4464 (70000 - 65536)."""
    code, stdout, stderr = run(capsys, command, "--port", value)
    assert (code, stdout) == (2, "")
    expected = f"sidelines: error: --port: must be a TCP port from 1 to 65535, or 0 for a free one, not {value!r}\n"
    assert stderr.endswith(expected)


def test_a_seed_past_int32_solves(capsys: pytest.CaptureFixture[str], tmp_path: Path, problem_file: str) -> None:
    """CP-SAT takes an int32 seed: --seed 2147483648 ended in a TypeError traceback."""
    out = tmp_path / "schedule.json"
    code, stdout, stderr = run(capsys, "solve", problem_file, "--seed", str(2**31), "--out", str(out))
    assert (code, stderr) == (0, ""), stderr
    assert f"seed {2**31}" in stdout
    for seed in (2**31, 2**70):  # the break searches make solvers of their own
        assert break_clauses.one_worker(1.0, seed).parameters.random_seed == seed % 2**31
        assert break_windows._run(cp_model.CpModel(), 1.0, seed, None)[0].parameters.random_seed == seed % 2**31


def test_serve_names_a_host_or_port_it_cannot_listen_on(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """uvicorn logged 'ERROR: [Errno -2] Name or service not known' and exited 3, after migrating."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")  # never reached
    code, stdout, stderr = run(capsys, "serve", "--host", "999.1.1.1", "--workers", "0")
    assert (code, stdout) == (2, "")
    assert stderr.startswith("sidelines: error: --host: cannot listen on '999.1.1.1': "), stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for command in ("serve", "demo"):
            code, stdout, stderr = run(capsys, command, "--port", str(port))
            assert (code, stdout) == (2, "")
            expected = f"sidelines: error: --port: cannot listen on 127.0.0.1:{port}: Address already in use\n"
            assert stderr == expected


@pytest.mark.parametrize("command", ["worker", "serve"])
def test_a_lease_past_a_day_is_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """--lease 1e308 was taken, and the first claim of a run ended in a 'timestamp out of range' traceback."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")  # never reached
    code, stdout, stderr = run(capsys, command, "--lease", "1e308")
    assert (code, stdout) == (2, "")
    assert stderr.endswith("sidelines: error: --lease: must be at most 86400 seconds (a day), not '1e308'\n"), stderr


def _commands(
    parser: argparse.ArgumentParser, words: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """The top-level parser and every command's, each with the words that name it ("import", "b2b")."""
    yield words, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, command in action.choices.items():
                yield from _commands(command, (*words, name))


def _parsing_arguments(parser: argparse.ArgumentParser) -> list[str]:
    """Arguments `parser` takes without complaint: each positional and each required option, given
    "1" (a number, a file name, a port) or its first choice; a group of commands, its first."""
    arguments: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            name, command = next(iter(action.choices.items()))
            arguments += [name, *_parsing_arguments(command)]
        elif not action.option_strings:
            arguments.append(str(next(iter(action.choices))) if action.choices else "1")
        elif action.required:
            arguments += [action.option_strings[0], "1"]
    return arguments


COMMANDS = list(_commands(cli.build_parser()))


@pytest.mark.parametrize(("words", "parser"), COMMANDS, ids=[" ".join(words) or "sidelines" for words, _ in COMMANDS])
def test_an_unknown_option_is_named_under_its_commands_usage(
    capsys: pytest.CaptureFixture[str], words: tuple[str, ...], parser: argparse.ArgumentParser
) -> None:
    """The top-level parser took a command's unknown option as its own: `usage: sidelines [-h]
    COMMAND ...` and 'unrecognized arguments', whichever command had been given."""
    code, stdout, stderr = run(capsys, *words, "--no-such-option", *_parsing_arguments(parser))
    assert (code, stdout) == (2, "")
    usage = parser.format_usage()
    assert usage.startswith(f"usage: {' '.join(('sidelines', *words))} ")
    assert stderr == f"{usage}sidelines: error: --no-such-option: unknown option\n"


def test_a_misspelt_option_is_named_with_the_one_meant(capsys: pytest.CaptureFixture[str], problem_file: str) -> None:
    code, stdout, stderr = run(capsys, "solve", problem_file, "--time-limt", "5")
    assert (code, stdout) == (2, "")
    assert stderr.startswith("usage: sidelines solve ")
    assert stderr.endswith("sidelines: error: --time-limt: unknown option; did you mean --time-limit?\n")
    code, _, stderr = run(capsys, "validate", problem_file, problem_file, "extra.json")
    assert code == 2 and stderr.startswith("usage: sidelines validate ")
    assert stderr.endswith("sidelines: error: unexpected argument: extra.json\n")


# `sidelines forum` (api/remote.py) included: its FORUM_ID, VERSION, A and B were bare.
@pytest.mark.parametrize(("words", "parser"), COMMANDS, ids=[" ".join(words) or "sidelines" for words, _ in COMMANDS])
def test_every_commands_help_says_what_it_does_and_what_each_argument_is(
    words: tuple[str, ...], parser: argparse.ArgumentParser
) -> None:
    """A new user's walk through `--help`: `generate --help` said nothing of what SCENARIO could
    be, `solve --help` nothing of --method, `schema --help` nothing at all of what it writes."""
    commands = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    if not commands:  # a command that runs, not a group of them: its --help says what it does
        assert parser.description, f"sidelines {' '.join(words)} --help has no description"
    bare = [
        action.dest
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction | argparse._HelpAction) and not action.help
    ]
    assert bare == [], f"sidelines {' '.join(words)} --help leaves {bare} unexplained"


def test_generate_help_names_every_scenario() -> None:
    """The names are written out in cli.py (importing solver.scenarios costs every command 0.1 s)."""
    (scenario,) = [action for action in dict(COMMANDS)[("generate",)]._actions if action.dest == "scenario"]
    assert sorted(name.strip() for name in re.split(r",| or ", scenario.help or "")) == sorted(SCENARIOS)


def test_an_unknown_scenario_lists_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, stderr = run(capsys, "generate", "atlantis")
    assert code == 2 and stdout == ""
    assert stderr.startswith("sidelines: error: atlantis: unknown scenario; known: ")
    assert all(name in stderr for name in SCENARIOS)


# ---- generate -> solve -> validate on a scenario


def test_scenario_round_trip_with_greedy_and_cpsat(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    smallest = min(SCENARIOS, key=lambda name: len(generate(name, 1).meetings))
    problem_path = tmp_path / "problem.json"
    assert run(capsys, "generate", smallest, "--seed", "1", "--out", str(problem_path))[0] == 0
    code, stdout, _ = run(capsys, "generate", smallest, "--seed", "1")
    assert code == 0 and stdout.encode() == problem_path.read_bytes()  # stdout carries the same document
    schedules: dict[str, Schedule] = {}
    for method, limits in (("greedy", []), ("cpsat", ["--time-limit", "2", "--workers", "1"])):
        out = tmp_path / f"{method}.json"
        code, stdout, _ = run(capsys, "solve", str(problem_path), "--method", method, *limits, "--out", str(out))
        assert code == 0
        schedules[method] = read_schedule(out)
        code, stdout, _ = run(capsys, "validate", str(problem_path), str(out))
        assert code == 0, stdout
    greedy, cpsat = schedules["greedy"], schedules["cpsat"]
    assert greedy.placed and cpsat.stats.method == "cpsat"
    assert cpsat.objective is not None and greedy.objective is not None
    assert cpsat.objective <= greedy.objective  # CP-SAT starts from the greedy grid and never returns worse


# ---- import


def test_import_csplib046_then_solve(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    instances = BENCHMARKS / "csplib-prob046" / "instances.md"
    out = tmp_path / "problem.json"
    assert run(capsys, "import", "csplib046", str(instances), "--instance", "1", "--out", str(out))[0] == 0
    imported = msgspec.json.decode(out.read_bytes(), type=Problem)
    assert len(imported.meetings) == 20  # "NumberOfMeetings = 20" in instance #1
    # every prob046 meeting is a hard must, which greedy alone need not manage: use the engine
    assert run(capsys, "solve", str(out), "--time-limit", "5")[0] == 0


def test_import_reports_a_bad_instance_and_a_bad_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    instances = BENCHMARKS / "csplib-prob046" / "instances.md"
    out = str(tmp_path / "problem.json")
    code, _, stderr = run(capsys, "import", "csplib046", str(instances), "--instance", "999", "--out", out)
    assert code == 2 and stderr.startswith(f"sidelines: error: {instances}: no instance #999")
    not_dzn = tmp_path / "forum.dzn"
    not_dzn.write_text("this is not MiniZinc")
    code, _, stderr = run(capsys, "import", "b2b", str(not_dzn), "--fairness", "2", "--out", out)
    assert code == 2 and stderr.startswith(f"sidelines: error: {not_dzn}: ")
    assert not Path(out).exists()


# ---- as a real process


def test_the_installed_console_script_runs_end_to_end(tmp_path: Path, problem_file: str) -> None:
    out = tmp_path / "schedule.json"
    solved = subprocess.run(
        [str(SIDELINES), "solve", problem_file, "--method", "greedy", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert solved.returncode == 0, solved.stderr
    assert "Solve summary" in solved.stdout
    checked = subprocess.run([str(SIDELINES), "validate", problem_file, str(out)], capture_output=True, text=True)
    assert checked.returncode == 0 and "valid" in checked.stdout
    broken = subprocess.run([str(SIDELINES), "solve", str(tmp_path / "absent.json")], capture_output=True, text=True)
    assert broken.returncode == 2 and "Traceback" not in broken.stderr


# A shell starting a background job makes it ignore SIGINT, and the CLI honours
# that; a terminal user's Ctrl-C arrives with the default handler, as here.
AS_FROM_A_TERMINAL = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from api.cli import main; sys.exit(main(sys.argv[1:]))"
)


def test_ctrl_c_stops_the_search_and_keeps_the_best_grid(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    problem_path = EXAMPLES / "shangri-la.json"  # improves in many small steps: a good Ctrl-C target
    out = tmp_path / "schedule.json"
    command = [sys.executable, "-c", AS_FROM_A_TERMINAL, "solve", str(problem_path), "--time-limit", "120"]
    terminal, stderr_end = pty.openpty()  # progress is drawn only on a terminal
    environment = {**os.environ, "TERM": "xterm", "COLUMNS": "120"}
    started = time.monotonic()
    with subprocess.Popen(
        [*command, "--workers", "1", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=stderr_end,
        text=True,
        env=environment,
    ) as child:
        os.close(stderr_end)
        try:
            progress = _read_until(terminal, b"solutions 1", seconds=45)
            child.send_signal(signal.SIGINT)
            stdout, _ = child.communicate(timeout=30)
        finally:
            child.kill()  # never leave a 120 s solve behind a failed assertion
    os.close(terminal)
    assert child.returncode == 0
    assert time.monotonic() - started < 60  # far below the 120 s limit: the search was stopped
    assert "Solve summary" in stdout
    shown = [int(value.replace(b",", b"")) for value in re.findall(rb"objective ([\d,]+)", progress)]
    schedule = read_schedule(out)
    assert schedule.objective is not None and schedule.objective <= min(shown)  # no worse than what was shown
    capsys.readouterr()
    assert main(["validate", str(problem_path), str(out)]) == 0


def test_ctrl_c_during_a_b2b_floor_search_ends_the_solve(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # A B2B solve is a dozen CP-SAT solves in a row. CP-SAT's own handler set SIGINT
    # to the default action after each, so a Ctrl-C a few seconds in killed the
    # process with nothing written.
    problem_path = tmp_path / "forum-13crafb.json"
    source = BENCHMARKS / "b2b-udg" / "noves" / "forum-13crafb.original.dzn"
    assert run(capsys, "import", "b2b", str(source), "--fairness", "2", "--out", str(problem_path))[0] == 0
    # 4 s: past the window model and the pattern floor, inside the floor's search (8-20 s here)
    returncode, stdout, waited = _interrupted(["solve", str(problem_path), "--time-limit", "120"], after=4)
    # Not killed by the signal, and a grid: the compaction settles one after the stop
    # (0.5-1.2 s after the signal, measured); before, the answer was UNKNOWN and no grid.
    assert (returncode, waited < 10) == (0, True)
    assert "FEASIBLE" in stdout or "OPTIMAL" in stdout


def test_ctrl_c_inside_a_cp_sat_solve_stops_it_at_once() -> None:
    # Python runs its handler only between bytecodes, so without the relay through the
    # wakeup fd this waited for the solve's own limit (78 s, measured).
    command = ["solve", str(EXAMPLES / "shangri-la.json"), "--deterministic", "--time-limit", "120"]
    returncode, stdout, waited = _interrupted(command, after=4)  # CP-SAT alone, in the main thread
    assert (returncode, waited < 10) == (0, True)
    assert "FEASIBLE" in stdout or "OPTIMAL" in stdout


def _interrupted(arguments: list[str], after: float) -> tuple[int, str, float]:
    """(exit code, stdout, seconds from SIGINT to exit) of a CLI run sent SIGINT `after` seconds in."""
    command = [sys.executable, "-c", AS_FROM_A_TERMINAL, *arguments, "--workers", "2"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as child:
        try:
            time.sleep(after)
            assert child.poll() is None
            child.send_signal(signal.SIGINT)
            signalled = time.monotonic()
            stdout, _ = child.communicate(timeout=150)
        finally:
            child.kill()  # never leave a 120 s solve behind a failed assertion
    return child.returncode, stdout, time.monotonic() - signalled


def _read_until(terminal: int, wanted: bytes, seconds: float) -> bytes:
    """Everything the child drew on the terminal until `wanted` appears."""
    seen = b""
    deadline = time.monotonic() + seconds
    while wanted not in seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no {wanted!r} on the terminal; saw {seen[-300:]!r}"
        ready, _, _ = select.select([terminal], [], [], remaining)
        if ready:
            seen += os.read(terminal, 4096)
    return seen


def test_the_method_row_names_what_searched() -> None:
    assert cli.searched(["local_search", "cpsat"]) == "local search + CP-SAT"
    assert cli.searched(["local_search", "local_search"]) == "2 local searches"
    assert cli.searched(["cpsat"]) == "CP-SAT"
