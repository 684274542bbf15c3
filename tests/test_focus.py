"""The focused second start (solver/focus.py): who it picks, the packing it
builds, and that its grids keep every rule and are never worse than the plain search's."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import msgspec
import pytest
from ortools.sat.python import cp_model

from solver import focus
from solver.compile import Compiled, compile_problem
from solver.greedy import greedy_assign
from solver.large import domain_bound
from solver.localsearch import Costs, LocalSearch, LocalSearchResult
from solver.model import Problem, Room
from solver.objective.break_clauses import one_worker
from solver.terms import Assignment, breaks_by_person, evaluate
from solver.validate import validate
from tests.builders import at, delegation, forum, meeting, person, problem
from tests.test_localsearch import _schedule_of

SHANGRI_LA = Path(__file__).parent.parent / "examples" / "shangri-la.json"


@pytest.fixture(scope="module")
def shangri_la() -> Problem:
    return msgspec.json.decode(SHANGRI_LA.read_bytes(), type=Problem)


def _saturday_after_us_sg(compiled: Compiled) -> set[int]:
    pinned = compiled.by_id["US-SG"]
    assert pinned.pinned_start is not None
    day = compiled.grid.day_ranges[compiled.grid.day_of_slot[pinned.pinned_start]]
    return set(range(pinned.pinned_start + pinned.length, day.stop))


def test_a_pinned_meeting_that_nothing_can_follow_cuts_off_the_rest_of_its_day(shangri_la: Problem) -> None:
    compiled = compile_problem(shangri_la)
    mine, costs = compiled.meetings_of("us-min"), Costs(compiled)
    # US-SG ends 11:10, his buffer to 11:20, the plenary at 11:30: no meeting fits in between
    assert focus._cut_off(compiled, costs, "us-min", compiled.by_id["US-SG"], mine) == _saturday_after_us_sg(compiled)
    assert focus.pressure(compiled, "us-min", costs) > 1 > focus.pressure(compiled, "sg-min", costs)


def test_without_the_plenary_after_it_the_pinned_meetings_day_goes_on(shangri_la: Problem) -> None:
    sessions = [session for session in shangri_la.sessions if session.name != "Second plenary session"]
    compiled = compile_problem(msgspec.structs.replace(shangri_la, sessions=sessions))
    mine = compiled.meetings_of("us-min")
    assert focus._cut_off(compiled, Costs(compiled), "us-min", compiled.by_id["US-SG"], mine) == set()


def test_the_circle_is_the_person_and_the_partners_of_three_meetings_or_more(shangri_la: Problem) -> None:
    compiled = compile_problem(shangri_la)
    # au-min shares US-GB-AU, US-AU, US-JP-AU and the quad; jp-min US-JP, US-JP-AU and the quad; gb-min only two
    assert focus.close_circle(compiled, "us-min") == ["us-min", "au-min", "jp-min"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_packing_books_whole_and_leaves_nobody_in_the_circle_a_break(shangri_la: Problem, seed: int) -> None:
    people = ["us-min", "au-min", "jp-min"]
    narrowed = focus.at_main_venues(focus.preferred_only(compile_problem(shangri_la)), people)
    starts = focus.Packer(narrowed, people).pack(seed)
    assert starts is not None
    theirs = {info.id for info in narrowed.meetings if set(people) & set(info.people) and info.domain}
    assert set(starts) == theirs
    kept = focus.book(narrowed, starts)
    assert kept.keys() == theirs  # every rule among these meetings was in the packing
    assert all(breaks_by_person(narrowed, kept).get(name, 0) == 0 for name in people)
    assert validate(shangri_la, _schedule_of(shangri_la, kept)).violations == []


def test_a_packer_solved_again_packs_as_a_fresh_model_would(shangri_la: Problem) -> None:
    # The focused attempts share one model: the second solve must not keep the
    # first one's objective (nor anything else of it) and must vary with its seed.
    people = ["us-min", "au-min", "jp-min"]
    narrowed = focus.at_main_venues(focus.preferred_only(compile_problem(shangri_la)), people)
    packer = focus.Packer(narrowed, people)
    first, second = packer.pack(0), packer.pack(focus.ATTEMPT_SEED_STEP)
    assert first is not None and first != second
    assert second == focus.Packer(narrowed, people).pack(focus.ATTEMPT_SEED_STEP)


def _crowded_morning() -> Compiled:
    """a meets b and c, an hour each, 09:00-12:00; d and e must meet at 11:00,
    f and g at any hour, and there are rooms for all."""
    people = [delegation(name, person(name.lower())) for name in "ABCDEFG"]
    meetings = [
        meeting("ab", ["A", "B"], 60),
        meeting("ac", ["A", "C"], 60),
        meeting("de", ["D", "E"], 60, earliest=at("11:00")),
        meeting("fg", ["F", "G"], 60),
    ]
    rooms = [Room(id=f"R{index}", name=f"Room {index}", seats=10) for index in range(3)]
    return compile_problem(problem(people, meetings, rooms=rooms, forum=forum(slot=60, end="12:00")))


def test_crowding_is_what_the_other_meetings_want_of_each_slot_against_the_mean() -> None:
    compiled = _crowded_morning()
    packed = {compiled.by_id["ab"].index, compiled.by_id["ac"].index}
    # de wants 11:00 whole; fg a third of each hour: 1/3, 1/3, 4/3, a mean of 2/3
    assert focus.crowding(compiled, packed) == pytest.approx({0: 0.5, 1: 0.5, 2: 2.0})


def test_each_start_costs_the_packing_its_crowding_beside_the_random_part(monkeypatch: pytest.MonkeyPatch) -> None:
    compiled = _crowded_morning()
    monkeypatch.setattr(focus, "CROWDING", 1_000)
    packer = focus.Packer(compiled, ["a"])
    assert packer.pack(seed=0) is not None and packer.model is not None
    objective = packer.model.Proto().objective
    coefficient = dict(zip(objective.vars, objective.coeffs, strict=True))
    for index, by_start in packer.starts.items():
        for start, literal in by_start.items():
            crowding = {0: 500, 1: 500, 2: 2_000}[start]  # 1,000 times the slot's, as above
            assert crowding <= coefficient[literal.index] <= crowding + 20, (index, start)


def test_the_packing_leaves_ctrl_c_to_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    # With CP-SAT's own SIGINT handler, a Ctrl-C during the packing only ended
    # the packing, and the CLI's solve ran on to its time limit.
    used: list[cp_model.CpSolver] = []

    def recorded(seconds: float, seed: int) -> cp_model.CpSolver:
        used.append(one_worker(seconds, seed))
        return used[-1]

    monkeypatch.setattr(focus, "one_worker", recorded)
    assert focus.Packer(_crowded_morning(), ["a"]).pack(seed=0) is not None
    assert [solver.parameters.catch_sigint_signal for solver in used] == [False]


def test_a_packing_that_cannot_avoid_a_break_is_not_found() -> None:
    # a meets b at 09:00 and c only at 11:00: a's day has a break whatever happens
    people = [delegation(name, person(name.lower())) for name in ("A", "B", "C")]
    meetings = [
        meeting("ab", ["A", "B"], 60, latest=at("10:00")),
        meeting("ac", ["A", "C"], 60, earliest=at("11:00")),
    ]
    compiled = compile_problem(problem(people, meetings))
    assert focus.Packer(compiled, ["a"]).pack(seed=0) is None


def test_a_meeting_that_ends_one_day_does_not_precede_the_next_days_first() -> None:
    # a's Saturday is 09:00 with b and 11:00 with c: a break whatever Friday holds.
    # Friday's meeting ends at 12:00, where Saturday's grid begins (slot-wise), so a
    # packing that took it for the 09:00 meeting's predecessor left the break in.
    people = [delegation(name, person(name.lower())) for name in ("A", "B", "C", "D")]
    meetings = [
        meeting("ad", ["A", "D"], 60, earliest=at("11:00"), latest=at("12:00")),
        meeting("ab", ["A", "B"], 60, earliest=at("09:00", day=1), latest=at("10:00", day=1)),
        meeting("ac", ["A", "C"], 60, earliest=at("11:00", day=1)),
    ]
    compiled = compile_problem(problem(people, meetings, forum=forum(days=2, slot=60, end="12:00")))
    assert [info.starts for info in compiled.meetings] == [[2], [3], [5]]
    assert focus.Packer(compiled, ["a"]).pack(seed=0) is None


def test_narrowing_cuts_domains_to_preferred_starts_and_leaves_the_original_alone(shangri_la: Problem) -> None:
    compiled = compile_problem(shangri_la)
    before = {info.id: list(info.domain) for info in compiled.meetings}
    narrowed = focus.preferred_only(compiled)
    for info in narrowed.meetings:
        if info.meeting.preferred and any(start in info.preferred_starts for start, _ in before[info.id]):
            assert info.domain and all(start in info.preferred_starts for start, _ in info.domain)
        else:
            assert info.domain == before[info.id]
        assert narrowed.by_id[info.id] is info
    assert {info.id: info.domain for info in compiled.meetings} == before
    assert any(len(info.domain) < len(before[info.id]) for info in narrowed.meetings)


def test_a_break_nobody_can_mend_is_tallied_at_every_look() -> None:
    people = [delegation(name, person(name.lower())) for name in ("A", "B", "C", "D")]
    meetings = [
        meeting("ab", ["A", "B"], 60, latest=at("10:00")),
        meeting("ac", ["A", "C"], 60, earliest=at("11:00")),
        meeting("bd", ["B", "D"], 60),
    ]
    compiled = compile_problem(problem(people, meetings))
    result = LocalSearch(compiled, greedy_assign(compiled), seed=0).run(time.perf_counter() + 1.0)
    assert result.stuck["a"] == 1.0
    assert focus.focus_person(compiled, result) == "a"  # b's two meetings can always be side by side


def test_no_focus_when_nobody_keeps_a_break(shangri_la: Problem) -> None:
    compiled = compile_problem(shangri_la)
    start = greedy_assign(compiled)
    assert focus.focus_person(compiled, LocalSearchResult(start, 0, 0, {})) is None


def _recording_searches(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, int] | None]:
    """The penalty of each local search focus.search runs, in order (None: a plain one)."""
    penalties: list[dict[str, int] | None] = []
    real_improve = focus.improve

    def recorded(
        compiled: Compiled,
        assignment: Assignment,
        deadline: float,
        seed: int = 0,
        stop: threading.Event | None = None,
        floor: int | None = None,
        penalty: dict[str, int] | None = None,
    ) -> LocalSearchResult:
        penalties.append(penalty)
        return real_improve(compiled, assignment, deadline, seed, stop, floor, penalty)

    monkeypatch.setattr(focus, "improve", recorded)
    return penalties


def test_a_person_pressed_past_their_break_free_time_is_focused_on_at_once(
    shangri_la: Problem, monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled = compile_problem(shangri_la)
    assert focus.pressed_person(compiled) == "us-min"
    penalties = _recording_searches(monkeypatch)
    found = focus.search(compiled, greedy_assign(compiled), time.perf_counter() + 2.5, 0, None, domain_bound(compiled))
    assert penalties and all(penalty is not None and "us-min" in penalty for penalty in penalties)  # no plain phase
    assert validate(shangri_la, _schedule_of(shangri_la, found)).violations == []


def test_below_that_pressure_the_plain_search_runs_first(shangri_la: Problem, monkeypatch: pytest.MonkeyPatch) -> None:
    compiled = compile_problem(shangri_la)
    monkeypatch.setattr(focus, "AT_ONCE_PRESSURE", 1.1)  # above the US minister's 1.02
    assert focus.pressed_person(compiled) is None
    penalties = _recording_searches(monkeypatch)
    focus.search(compiled, greedy_assign(compiled), time.perf_counter() + 2.5, 0, None, domain_bound(compiled))
    assert penalties[0] is None


def test_penalised_breaks_are_priced_into_the_cost_the_search_tracks(shangri_la: Problem) -> None:
    compiled = compile_problem(shangri_la)
    penalty = {"us-min": 5, "sg-min": 2}
    search = LocalSearch(compiled, greedy_assign(compiled), seed=3, penalty=penalty)
    search.run(time.perf_counter() + 1.0)
    grid = search.assignment()
    breaks = breaks_by_person(compiled, grid)
    weight = compiled.problem.objective.weights.breaks
    # The weights as they are now: the search raises those of the others who keep breaks (`_guide`).
    weights = search.costs.penalty
    assert weights.items() >= penalty.items() and penalty == {"us-min": 5, "sg-min": 2}
    extra = weight * sum(weights[name] * breaks.get(name, 0) for name in weights)
    assert search.cost == sum(evaluate(compiled, grid).values()) + extra


def test_the_focused_search_keeps_every_rule_and_never_returns_worse_than_its_start(shangri_la: Problem) -> None:
    compiled = compile_problem(shangri_la)
    start = greedy_assign(compiled)
    found = focus.search(compiled, start, time.perf_counter() + 4.0, 0, None, domain_bound(compiled))
    report = validate(shangri_la, _schedule_of(shangri_la, found))
    assert report.violations == []
    assert domain_bound(compiled) <= report.objective <= sum(evaluate(compiled, start).values())
    focused = focus.focused_search(compiled, "us-min", time.perf_counter() + 2.0, 0, None, domain_bound(compiled))
    assert focused is not None
    assert validate(shangri_la, _schedule_of(shangri_la, focused)).violations == []


def test_a_circle_too_large_to_pack_quickly_is_cut_to_the_person_or_skipped(
    shangri_la: Problem, monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled = compile_problem(shangri_la)
    narrowed = focus.preferred_only(compiled)
    alone, circle = (focus.packing_size(narrowed, people) for people in (["us-min"], ["us-min", "au-min", "jp-min"]))
    assert alone < circle
    packed: list[list[str]] = []
    real_pack = focus.Packer.pack

    def recorded(packer: focus.Packer, seed: int) -> dict[str, int] | None:
        packed.append(packer.people)
        return real_pack(packer, seed)

    monkeypatch.setattr(focus.Packer, "pack", recorded)
    monkeypatch.setattr(focus, "PACKING_STARTS", alone)
    deadline = time.perf_counter() + 1.0
    assert focus.focused_search(compiled, "us-min", deadline, 0, None, domain_bound(compiled)) is not None
    assert packed and all(people == ["us-min"] for people in packed)  # one per attempt
    tried = len(packed)
    monkeypatch.setattr(focus, "PACKING_STARTS", alone - 1)
    assert focus.focused_search(compiled, "us-min", time.perf_counter() + 1.0, 0, None, domain_bound(compiled)) is None
    assert len(packed) == tried  # no packing tried at all


def _recording_packings(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    seeds: list[int] = []
    real_pack = focus.Packer.pack

    def recorded(packer: focus.Packer, seed: int) -> dict[str, int] | None:
        seeds.append(seed)
        return real_pack(packer, seed)

    monkeypatch.setattr(focus.Packer, "pack", recorded)
    return seeds


def test_an_attempt_short_of_the_floor_gives_way_to_one_from_another_packing(
    shangri_la: Problem, monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled = compile_problem(shangri_la)
    seeds = _recording_packings(monkeypatch)
    grids: list[int] = []
    real_improve = focus.improve

    def recorded(
        searched: Compiled,  # perhaps narrowed: the grid is priced on the whole forum below
        assignment: Assignment,
        deadline: float,
        seed: int = 0,
        stop: threading.Event | None = None,
        floor: int | None = None,
        penalty: dict[str, int] | None = None,
    ) -> LocalSearchResult:
        result = real_improve(searched, assignment, deadline, seed, stop, floor, penalty)
        grids.append(sum(evaluate(compiled, result.assignment).values()))
        return result

    monkeypatch.setattr(focus, "improve", recorded)
    unreachable = -1
    found = focus.focused_search(compiled, "us-min", time.perf_counter() + 1.0, 7, None, unreachable)
    assert found is not None
    assert seeds == [7, 7 + focus.ATTEMPT_SEED_STEP] and len(grids) == 2
    assert sum(evaluate(compiled, found).values()) == min(grids)
    assert validate(shangri_la, _schedule_of(shangri_la, found)).violations == []


def test_an_attempt_at_the_floor_is_the_last(shangri_la: Problem, monkeypatch: pytest.MonkeyPatch) -> None:
    compiled = compile_problem(shangri_la)
    seeds = _recording_packings(monkeypatch)
    reached = 10**9  # every grid is at or below it
    assert focus.focused_search(compiled, "us-min", time.perf_counter() + 1.0, 7, None, reached) is not None
    assert seeds == [7]
