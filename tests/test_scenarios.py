"""The seeded scenario generator: valid, deterministic, the sizes the docs
promise, mostly placeable, and the committed examples never drift from it."""

from __future__ import annotations

from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from solver.check import check_problem, load_problem
from solver.compile import Compiled, compile_problem
from solver.model import Problem, attendees
from solver.scenarios import SCENARIOS, UnknownScenario, generate, problem_json
from solver.scenarios.__main__ import main as write_examples
from solver.scenarios.countries import COUNTRIES

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NAMES = sorted(SCENARIOS)

# name -> (delegations, fewest meetings, most meetings)
SIZES = {
    "shangri-la": (54, 110, 130),
    "halifax": (30, 45, 55),
    "cdma": (34, 50, 56),
    "admm-plus": (18, 36, 44),
    "cis-council": (9, 18, 24),
    "staff-talks": (2, 20, 40),
    "unga-week": (190, 1000, 1200),
}


@cache
def scenario(name: str, seed: int = 0) -> Problem:
    return generate(name, seed)


@cache
def compiled(name: str) -> Compiled:
    return compile_problem(scenario(name))


def meetings_of(problem: Problem, person: str) -> list[str]:
    return [meeting.id for meeting in problem.meetings if person in attendees(problem, meeting)]


def test_the_seven_scenarios_are_registered() -> None:
    assert set(SCENARIOS) == set(SIZES)


@pytest.mark.parametrize("name", NAMES)
def test_scenario_passes_check_problem(name: str) -> None:
    assert check_problem(scenario(name)) == []
    assert check_problem(scenario(name, 7)) == []


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_gives_identical_json_and_another_seed_differs(name: str) -> None:
    assert problem_json(generate(name, 0)) == problem_json(scenario(name))
    assert problem_json(scenario(name, 1)) != problem_json(scenario(name))


@pytest.mark.parametrize("name", NAMES)
def test_sizes_match_the_description(name: str) -> None:
    problem = scenario(name)
    delegations, fewest, most = SIZES[name]
    assert len(problem.delegations) == delegations
    assert fewest <= len(problem.meetings) <= most


@pytest.mark.parametrize("name", NAMES)
def test_delegations_are_real_countries_with_one_principal(name: str) -> None:
    for delegation in scenario(name).delegations:
        assert delegation.country in COUNTRIES
        assert sum(person.principal for person in delegation.participants) == 1, delegation.id


@pytest.mark.parametrize("name", NAMES)
def test_most_meetings_have_a_static_domain(name: str) -> None:
    infos = compiled(name).meetings
    placeable = sum(1 for info in infos if info.domain)
    assert placeable >= 0.9 * len(infos)


@pytest.mark.parametrize("name", NAMES)
def test_committed_example_equals_seed_zero(name: str) -> None:
    path = EXAMPLES / f"{name}.json"
    assert path.read_bytes() == problem_json(scenario(name)), "regenerate: python -m solver.scenarios --write examples/"
    load_problem(path.read_bytes())  # the file reads back through the public loader


def test_writer_regenerates_the_examples(tmp_path: Path) -> None:
    write_examples(["--write", str(tmp_path), "--only", "cis-council"])
    assert (tmp_path / "cis-council.json").read_bytes() == problem_json(scenario("cis-council"))


def test_unknown_scenario_names_the_known_ones() -> None:
    with pytest.raises(UnknownScenario, match="shangri-la") as raised:
        generate("davos")
    assert isinstance(raised.value, KeyError)


def test_shangri_la_us_secretary_has_sixteen_meetings() -> None:
    problem = scenario("shangri-la")
    us_meetings = meetings_of(problem, "us-min")
    assert len(us_meetings) == 16
    assert "US-JP-AU-PH" in us_meetings


def test_shangri_la_host_meets_about_ten_delegations_a_day() -> None:
    host_bilaterals = [
        meeting
        for meeting in scenario("shangri-la").meetings
        if "SG" in meeting.delegations and len(meeting.delegations) == 2
    ]
    assert 25 <= len(host_bilaterals) <= 32


def test_shangri_la_has_the_special_requests() -> None:
    problem = scenario("shangri-la")
    by_id = {meeting.id: meeting for meeting in problem.meetings}
    assert by_id["US-JP-AU-PH"].after == ["US-JP-AU-PH-prep"]
    assert [meeting.id for meeting in problem.meetings if meeting.pinned_start] == ["US-SG"]
    assert 1 <= sum(meeting.venues == ["us-embassy"] for meeting in problem.meetings) <= 2
    assert len(problem.keep_apart) == 1
    assert {resource.id for resource in problem.resources} >= {"interp-zh", "interp-fr"}


def test_shangri_la_has_a_few_impossible_meetings() -> None:
    empty = [info.id for info in compiled("shangri-la").meetings if not info.domain]
    assert 1 <= len(empty) <= 3


def test_cdma_host_meets_all_33_others() -> None:
    problem = scenario("cdma")
    partners = Counter(
        other
        for meeting in problem.meetings
        if "AR" in meeting.delegations and len(meeting.delegations) == 2
        for other in meeting.delegations
        if other != "AR"
    )
    assert set(partners) == {delegation.id for delegation in problem.delegations} - {"AR"}
    assert set(partners.values()) == {1}


def test_cdma_interpretation_is_booked_for_english_speakers() -> None:
    by_id = {meeting.id: meeting for meeting in scenario("cdma").meetings}
    assert [use.resource for use in by_id["AR-US"].resources] == ["interp-en"]
    assert by_id["AR-CL"].resources == []


def test_staff_talks_rounds_follow_each_other() -> None:
    by_id = {meeting.id: meeting for meeting in scenario("staff-talks").meetings}
    assert by_id["cyber-r2"].after == ["cyber-r1"]
    assert by_id["cyber-r3"].after == ["cyber-r2"]
    assert "secure" in by_id["cyber-r1"].features


def test_unga_has_one_minister_with_forty_bilaterals_in_identical_booths() -> None:
    problem = scenario("unga-week")
    assert len(meetings_of(problem, "in-min")) == 40
    assert len({(room.seats, room.venue, tuple(room.features)) for room in problem.rooms}) == 1
    assert len(compiled("unga-week").classes) == 1
    assert all(session.scope == "listed" for session in problem.sessions)
