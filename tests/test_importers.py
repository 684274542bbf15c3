"""The benchmark importers: every public instance maps onto a valid problem,
the sizes match the sources, and each source construct lands in the right field."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable
from datetime import datetime, time
from pathlib import Path
from typing import Any

import pytest

from api.bench import DEFAULT_DATA
from solver.check import check_problem
from solver.engine import SolveOptions, solve
from solver.importers import load_b2b, load_csplib046, parse_b2b, parse_csplib046
from solver.importers.common import one_day_forum
from solver.model import Meeting, Participant, Problem, Window, attendees, participants_by_id
from solver.result import Placement, Schedule
from solver.timegrid import TimeGrid
from solver.validate import validate

BENCH = DEFAULT_DATA  # ../shared beside the clone, as CI has it
B2B_DIR = BENCH / "b2b-udg"
B2B_FILES = sorted((B2B_DIR / "noves").glob("*.dzn"))
PROB046_MD = BENCH / "csplib-prob046" / "instances.md"
PROB046_JSON = BENCH / "csplib-prob046" / "instances.parsed.json"
PROB046_NUMBERS = range(1, 28)


def _b2b_summary() -> dict[str, dict[str, str]]:
    with (B2B_DIR / "instances_summary.csv").open() as handle:
        return {row["file"]: row for row in csv.DictReader(handle)}


def _prob046_reference() -> dict[int, dict[str, Any]]:
    return {item["id"]: item for item in json.loads(PROB046_JSON.read_text())["instances"]}


def _at(clock: str) -> datetime:
    """A time on the benchmark day (both importers use 2024-01-15)."""
    return datetime.fromisoformat(f"2024-01-15T{clock}")


def _meeting(problem: Problem, meeting_id: str) -> Meeting:
    return next(meeting for meeting in problem.meetings if meeting.id == meeting_id)


def _person(problem: Problem, person_id: str) -> Participant:
    return participants_by_id(problem)[person_id][1]


# --- B2B -------------------------------------------------------------------------------------------------------------


def test_all_twenty_b2b_files_are_present() -> None:
    assert len(B2B_FILES) == 20


@pytest.mark.parametrize("path", B2B_FILES, ids=lambda path: path.name)
def test_b2b_instance_imports_valid_with_source_counts(path: Path) -> None:
    expected = _b2b_summary()[path.name]
    problem = load_b2b(path)
    assert check_problem(problem) == []
    meetings = problem.meetings
    assert len(problem.delegations) == int(expected["participants"])
    assert sum(len(delegation.participants) for delegation in problem.delegations) == int(expected["participants"])
    assert len(meetings) == int(expected["meetings"])
    assert TimeGrid.of(problem.forum).size == int(expected["time_slots"])
    assert len(problem.rooms) == int(expected["locations_nTables"])
    assert sum(meeting.latest is not None for meeting in meetings) == int(expected["meetings_session_morning"])
    assert sum(meeting.earliest is not None for meeting in meetings) == int(expected["meetings_session_afternoon"])
    forbidden = sum(len(person.blocked) for delegation in problem.delegations for person in delegation.participants)
    assert forbidden == int(expected["forbidden_participant_slots"])
    assert sum(meeting.pinned_start is not None for meeting in meetings) == int(expected["fixed_meetings"])
    assert sum(len(meeting.after) for meeting in meetings) == int(expected["precedence_arcs"])
    assert all(meeting.priority == "must" and len(meeting.delegations) == 2 for meeting in meetings)


def test_b2b_objective_follows_the_benchmark() -> None:
    problem = load_b2b(B2B_DIR / "noves" / "tic-12.original.dzn", fairness=3)
    assert problem.objective.breaks_count_unavailable is True
    assert problem.objective.break_spread_limit == 3
    assert load_b2b(B2B_DIR / "noves" / "tic-12.original.dzn", fairness=None).objective.break_spread_limit is None


def test_b2b_meeting_keeps_source_numbering_and_sessions() -> None:
    # forum-13crafb: 22 slots, 12 morning; row 1 is `3, 9, 1`, row 15 `14, 20, 2`.
    problem = load_b2b(B2B_DIR / "noves" / "forum-13crafb.original.dzn")
    grid = TimeGrid.of(problem.forum)
    morning, afternoon = _meeting(problem, "m1"), _meeting(problem, "m15")
    assert morning.delegations == ["p3", "p9"]
    assert (morning.earliest, morning.latest) == (None, _at("15:00"))
    assert afternoon.delegations == ["p14", "p20"]
    assert (afternoon.earliest, afternoon.latest) == (_at("15:00"), None)
    # The windows admit exactly the source's slots 1..12 and 13..22 (0-based here).
    assert grid.within(morning.earliest, morning.latest) == set(range(12))
    assert grid.within(afternoon.earliest, afternoon.latest) == set(range(12, 22))


def test_b2b_forbidden_slot_becomes_a_blocked_window() -> None:
    # forum-13crafb: forbidden[1] = {5}, forbidden[2] = {0} (none).
    problem = load_b2b(B2B_DIR / "noves" / "forum-13crafb.original.dzn")
    assert _person(problem, "p1").blocked == [Window(start=_at("11:00"), end=_at("11:30"))]
    assert _person(problem, "p2").blocked == []
    assert TimeGrid.of(problem.forum).covered_by(_person(problem, "p1").blocked[0]) == {4}


def test_b2b_duplicate_pair_stays_two_meetings() -> None:
    problem = load_b2b(B2B_DIR / "noves" / "forum-13crafb.original.dzn")
    pairs = [tuple(sorted(meeting.delegations)) for meeting in problem.meetings]
    assert len(pairs) - len(set(pairs)) == 1


SMALL_DZN = """% a hand-made instance with every construct the benchmark files use
nBusiness = 3;
nMeetings = 3;
nTables = 1;
nTotalSlots = 4;
nMorningSlots = 2;
requested = [|1, 2,3,
|1, 3,2, % afternoon only
|2, 3,1,
|];
meetingsxBusiness = [{1,2,3},{1,2,4},{1,3,4}];
nMeetingsBusiness = [2,2,2];
forbidden = [{0},{3,4},{}];
fixed = [4,0,0];
precedences = [{},{3},{}];
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "small.dzn"
    path.write_text(text)
    return path


def test_b2b_fixed_meeting_and_precedence_map_to_pin_and_after(tmp_path: Path) -> None:
    problem = load_b2b(_write(tmp_path, SMALL_DZN))
    assert check_problem(problem) == []
    first, second, third = problem.meetings
    assert first.pinned_start == _at("10:30")  # slot 4 of 30 minutes from 09:00
    assert second.pinned_start is None and second.earliest == _at("10:00")
    assert second.after == ["m3"] and first.after == [] and third.after == []
    assert third.latest == _at("10:00")
    assert [window.start for window in _person(problem, "p2").blocked] == [_at("10:00"), _at("10:30")]
    assert _person(problem, "p3").blocked == []


BAD_DZN = {
    "missing field": (SMALL_DZN.replace("nTables = 1;\n", ""), "'nTables' is missing"),
    "not a statement": (SMALL_DZN.replace("nTables = 1;", "nTables 1;"), "expected `name = value;`"),
    "unsupported value": (SMALL_DZN.replace("nTables = 1;", "nTables = 1..2;"), "cannot read the value of 'nTables'"),
    "wrong length": (SMALL_DZN.replace("fixed = [4,0,0]", "fixed = [4,0]"), "'fixed' must have 3 entries"),
    "bad row": (SMALL_DZN.replace("|2, 3,1,", "|2, 3,"), "requested row 3"),
    "self meeting": (SMALL_DZN.replace("|2, 3,1,", "|2, 2,1,"), "requested row 3 needs two distinct businesses"),
    "bad session": (SMALL_DZN.replace("|2, 3,1,", "|2, 3,7,"), "session 7"),
    "slot out of range": (SMALL_DZN.replace("{3,4},{}", "{3,9},{}"), "forbidden[2]"),
    "inconsistent lists": (SMALL_DZN.replace("{1,2,4},{1,3,4}", "{1,2},{1,3,4}"), "business 2 disagree"),
    "self precedence": (SMALL_DZN.replace("[{},{3},{}]", "[{},{2},{}]"), "precedences[2]"),
    "bad set list": (SMALL_DZN.replace("[{},{3},{}]", "[{},3,{}]"), "'precedences' must be a list of integer sets"),
}


@pytest.mark.parametrize("case", BAD_DZN, ids=str)
def test_b2b_malformed_file_raises_value_error_naming_the_fault(tmp_path: Path, case: str) -> None:
    text, message = BAD_DZN[case]
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        parse_b2b(_write(tmp_path, text))


def test_instance_files_with_a_byte_order_mark_or_not_utf8_are_told_apart(tmp_path: Path) -> None:
    """A BOM was 'expected `name = value;`, found \\ufeff'; bytes not UTF-8 gave the codec's own words."""
    plain = load_b2b(_write(tmp_path, SMALL_DZN))
    path = tmp_path / "small.dzn"  # the same name: the forum is named after the file
    path.write_bytes(b"\xef\xbb\xbf" + SMALL_DZN.encode())
    assert load_b2b(path) == plain
    markdown = tmp_path / "instances.md"
    markdown.write_bytes(b"\xef\xbb\xbf" + _first_block().encode())
    assert parse_csplib046(markdown)[1] == parse_csplib046(PROB046_MD)[1]
    for broken, read in ((path, parse_b2b), (markdown, parse_csplib046)):
        broken.write_bytes(b"\xff" + broken.read_bytes())
        expected = f"^{re.escape(str(broken))}: not UTF-8 text: invalid start byte at byte 0$"
        with pytest.raises(ValueError, match=expected):
            read(broken)


def test_b2b_missing_file_raises_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read the B2B instance"):
        load_b2b(tmp_path / "absent.dzn")


# --- CSPLib prob046 --------------------------------------------------------------------------------------------------


def test_prob046_markdown_has_all_27_instances_and_agrees_with_the_parsed_json() -> None:
    parsed = parse_csplib046(PROB046_MD)
    reference = _prob046_reference()
    assert sorted(parsed) == list(PROB046_NUMBERS) == sorted(reference)
    for number, instance in parsed.items():
        expected = reference[number]
        assert instance.meetings == expected["n_meetings"]
        assert len(instance.agent_meetings) == expected["n_agents"]
        assert instance.domain_size == expected["domain_size"]
        assert (instance.min_distance, instance.max_distance) == (expected["min_dist"], expected["max_dist"])
        assert instance.agent_meetings == expected["agent_meetings"]
        assert instance.distance == expected["distance"]


def _travel_slots(problem: Problem) -> dict[tuple[str, str], int]:
    slot = problem.forum.slot_minutes
    table: dict[tuple[str, str], int] = {}
    for travel in problem.travel:
        first, second = travel.between
        table[(first, second)] = table[(second, first)] = travel.minutes // slot
    return table


@pytest.mark.parametrize("number", PROB046_NUMBERS)
def test_prob046_instance_imports_valid_with_source_structure(number: int) -> None:
    expected = _prob046_reference()[number]
    problem = load_csplib046(PROB046_MD, number)
    assert check_problem(problem) == []
    size = expected["n_meetings"]
    assert [meeting.id for meeting in problem.meetings] == [f"m{index}" for index in range(size)]
    assert TimeGrid.of(problem.forum).size == expected["domain_size"]
    assert all(meeting.duration_minutes == problem.forum.slot_minutes for meeting in problem.meetings)
    assert all(meeting.priority == "must" for meeting in problem.meetings)
    agents = [delegation for delegation in problem.delegations if delegation.id.startswith("a")]
    assert len(agents) == expected["n_agents"]
    for index, meeting in enumerate(problem.meetings):
        wanted = {f"a{agent}" for agent, listed in enumerate(expected["agent_meetings"]) if index in listed}
        assert {party for party in meeting.delegations if party.startswith("a")} == wanted
        assert meeting.venues == [f"v{index}"]
    travel = _travel_slots(problem)
    assert all(
        travel[(f"v{i}", f"v{j}")] == expected["distance"][i][j] for i in range(size) for j in range(size) if i != j
    )


def test_prob046_meetings_with_fewer_than_two_agents_get_neutral_stand_ins() -> None:
    # Instance #3: meeting 11 has no agent, meeting 13 only agent 3.
    problem = load_csplib046(PROB046_MD, 3)
    assert _meeting(problem, "m11").delegations == ["m11-standin1", "m11-standin2"]
    assert _meeting(problem, "m13").delegations == ["a3", "m13-standin1"]
    stand_ins = {d.id for d in problem.delegations if "standin" in d.id}
    for stand_in in stand_ins:
        # Attending a single meeting, a stand-in can never constrain the schedule.
        assert sum(stand_in in attendees(problem, meeting) for meeting in problem.meetings) == 1
    assert len(stand_ins) == 2 * 2 + 1 * 3  # two meetings without agents, three with one


def _arrival_violations(problem: Problem, times: dict[str, int]) -> set[tuple[str, str]]:
    """Pairs of meetings of one participant closer than the travel rule allows (in slots)."""
    travel = _travel_slots(problem)
    venue = {meeting.id: meeting.venues[0] for meeting in problem.meetings}
    meetings_of: dict[str, list[str]] = {}
    for meeting in problem.meetings:
        for person in attendees(problem, meeting):
            meetings_of.setdefault(person, []).append(meeting.id)
    return {
        (first, second)
        for ids in meetings_of.values()
        for first in ids
        for second in ids
        if first < second and abs(times[first] - times[second]) < travel[(venue[first], venue[second])] + 1
    }


def test_prob046_travel_reproduces_the_source_arrival_constraint() -> None:
    reference = _prob046_reference()
    for number in (1, 2, 3, 4, 5, 20, 21, 22, 23, 24):
        solution = reference[number]["published_solution"]
        times = {f"m{index}": slot for index, slot in enumerate(solution)}
        assert _arrival_violations(load_csplib046(PROB046_MD, number), times) == set(), number
    # The published #19 solution has a known transcription error (SOURCE.md): exactly two clashes.
    solution = reference[19]["published_solution"]
    times = {f"m{index}": slot for index, slot in enumerate(solution)}
    assert _arrival_violations(load_csplib046(PROB046_MD, 19), times) == {("m20", "m37"), ("m28", "m37")}


def _published_schedule(problem: Problem, solution: list[int]) -> Schedule:
    grid = TimeGrid.of(problem.forum)
    placed = [
        Placement(meeting=f"m{index}", start=grid.starts[slot], end=grid.slot_end(slot), room=f"r{index}", slot=slot)
        for index, slot in enumerate(solution)
    ]
    return Schedule(status="FEASIBLE", placed=placed)


def test_prob046_published_solutions_pass_the_independent_validator() -> None:
    reference = _prob046_reference()
    for number in (1, 2, 3, 4, 5, 20, 21, 22, 23, 24):
        problem = load_csplib046(PROB046_MD, number)
        report = validate(problem, _published_schedule(problem, reference[number]["published_solution"]))
        assert report.violations == [], number
    problem = load_csplib046(PROB046_MD, 19)
    report = validate(problem, _published_schedule(problem, reference[19]["published_solution"]))
    # m37 and m20 share agent 0 and slot 6 (an overlap); m37 and m28 are one slot apart (travel).
    assert report.broken == {"participant_overlap", "travel"}


@pytest.mark.parametrize("number", [0, 28])
def test_prob046_instance_out_of_range_raises_value_error(number: int) -> None:
    with pytest.raises(ValueError, match=rf"no instance #{number} \(the file has #1\.\.#27\)"):
        load_csplib046(PROB046_MD, number)


def test_prob046_missing_file_raises_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read the prob046 instances"):
        load_csplib046(tmp_path / "instances.md", 1)


def _first_block() -> str:
    text = PROB046_MD.read_text()
    return text[: text.index("**Instance #2**")]


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda text: text.replace("**Instance #1**", "Instance one"), "no `\\*\\*Instance #k\\*\\*` block"),
        (lambda text: text.replace("DomainSize", "Domain"), "instance #1: missing DomainSize"),
        (lambda text: text.replace(" Agents (3):", " Agents (9):"), "instance #1: expected agent lines"),
        (lambda text: text.replace("19:  2  2  1", "19:  2  2"), "every distance row needs 20 entries"),
        (lambda text: text.replace(" 0 : 0  1  2", " 0 : 0  1  3"), "distance\\[0\\]\\[2\\] must be"),
        (lambda text: text.replace("Agents (0): 6 7", "Agents (0): 6 70"), "agent 0 lists unknown"),
    ],
    ids=["no header", "missing setting", "agent lines", "short row", "asymmetric", "unknown meeting"],
)
def test_prob046_malformed_file_raises_value_error_naming_the_fault(
    tmp_path: Path, mangle: Callable[[str], str], message: str
) -> None:
    path = tmp_path / "instances.md"
    original = _first_block()
    mangled = mangle(original)
    assert mangled != original  # the mangling must hit the text
    path.write_text(mangled)
    with pytest.raises(ValueError, match=message):
        parse_csplib046(path)


# --- solving imported instances --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("number", "feasible"), [(1, True), (10, False)])
def test_prob046_engine_reproduces_the_published_label(number: int, feasible: bool) -> None:
    problem = load_csplib046(PROB046_MD, number)
    schedule = solve(problem, SolveOptions(method="cpsat", time_limit=10, workers=2))
    # All meetings are hard musts: infeasible means CP-SAT proves no grid holds them all.
    assert schedule.status == ("OPTIMAL" if feasible else "INFEASIBLE")
    assert (schedule.unplaced == []) is feasible
    grid = TimeGrid.of(problem.forum)
    times: dict[str, int] = {}
    for placement in schedule.placed:
        slot = grid.slot_at(placement.start)
        assert slot is not None, placement  # every grid's starts are slot starts
        times[placement.meeting] = slot
    if feasible:
        assert _arrival_violations(problem, times) == set()


def test_a_day_of_slots_ends_where_they_end_and_may_not_pass_midnight() -> None:
    day = one_day_forum("twelve hours", time(8, 0), 60, 12).days[0]
    assert (day.start, day.end) == (time(8, 0), time(20, 0))
    with pytest.raises(ValueError, match="too many: 17 slots of 60 minutes from 08:00 do not fit in one day"):
        one_day_forum("too many", time(8, 0), 60, 17)
