"""The large-forum search: local moves on a grid and the held-first staging.

Every grid is checked by the independent validator; the objective the search
tracks move by move must be the one the rules define.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace

import msgspec
import pytest
from hypothesis import HealthCheck, assume, given, settings

import solver.large as large
import solver.twin as twin
from api.bench import DEFAULT_DATA
from solver.compile import Compiled, compile_problem
from solver.engine import SolveOptions, solve
from solver.greedy import greedy_assign
from solver.grid import placements_of
from solver.importers import load_optaplanner
from solver.localsearch import GUIDE_CAP, LocalSearch, MovableLedger
from solver.model import Meeting, ObjectiveSettings, Problem
from solver.result import Schedule, Unplaced
from solver.scenarios import SCENARIOS, generate
from solver.search import SearchSettings
from solver.terms import Assignment, evaluate, total_cost
from solver.validate import validate
from tests.builders import at, delegation, forum, meeting, person, problem, room
from tests.test_properties import forums


def _schedule_of(forum_problem: Problem, assignment: Assignment) -> Schedule:
    """A grid as the engine reports it, every other meeting unplaced."""
    compiled = compile_problem(forum_problem)
    terms = evaluate(compiled, assignment)
    return Schedule(
        status="FEASIBLE",
        placed=placements_of(compiled, assignment),
        unplaced=[
            Unplaced(meeting=m.id, reason="not_reached", message="not placed")
            for m in forum_problem.meetings
            if m.id not in assignment
        ],
        objective=sum(terms.values()),
        terms=terms,
    )


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_local_search_keeps_every_rule_and_never_raises_the_objective(name: str) -> None:
    forum_problem = generate(name, 0)
    compiled = compile_problem(forum_problem)
    start = greedy_assign(compiled)
    search = LocalSearch(compiled, start, seed=1)
    result = search.run(time.perf_counter() + 1.0)
    report = validate(forum_problem, _schedule_of(forum_problem, result.assignment))
    assert report.violations == []
    assert report.objective == sum(evaluate(compiled, result.assignment).values())
    assert report.objective <= sum(evaluate(compiled, start).values())
    # the cost tracked move by move is the rules' objective of the grid the search holds
    assert search.cost == sum(evaluate(compiled, search.assignment()).values())


def test_descent_closes_most_of_greedys_breaks_at_halifax() -> None:
    forum_problem = generate("halifax", 0)
    compiled = compile_problem(forum_problem)
    start = greedy_assign(compiled)
    search = LocalSearch(compiled, start, seed=0)
    search.descend()  # until a pass over every meeting gains nothing: no clock involved
    before, after = evaluate(compiled, start), evaluate(compiled, search.assignment())
    assert after["breaks"] <= before["breaks"] / 4
    assert after["held"] <= before["held"]
    assert validate(forum_problem, _schedule_of(forum_problem, search.assignment())).violations == []


def _forum_or_file(name: str) -> Problem:
    if name.endswith(".xlsx"):
        return load_optaplanner(DEFAULT_DATA / "optaplanner-meetingscheduling" / name)
    return generate(name, 0)


# The OptaPlanner file: 9 days, up to 10 attendees a meeting, most of them with
# no meeting on most days (the days `_free_starts` skips without a lookup).
@pytest.mark.parametrize("name", ["shangri-la", "halifax", "staff-talks", "100meetings-320timegrains-5rooms.xlsx"])
def test_free_starts_price_each_start_as_breaks_with_does(name: str) -> None:
    """The ejection chains' pricing of every start at once (`_free_starts`)
    agrees with pricing one start at a time (`_breaks_with`), and leaves out
    exactly the starts where an attendee is busy: for every meeting lifted
    from a grid the search has worked on (with penalties, as the focused search has)."""
    compiled = compile_problem(_forum_or_file(name))
    penalised = {compiled.meetings[0].people[0]: 5}
    search = LocalSearch(compiled, greedy_assign(compiled), seed=3, penalty=penalised)
    search.run(time.perf_counter() + 0.5)
    busy = search.ledger.person_busy
    for meeting_id in sorted(search.ledger.placed):
        info = compiled.by_id[meeting_id]
        spot = search.ledger.take_out(info)
        expected = [
            (start, classes, search._breaks_with(info, start))
            for start, classes in search._classes_at(info).items()
            if not any(any(busy[person][start : start + info.length]) for person in info.people)
        ]
        assert search._free_starts(info) == expected, meeting_id
        search.ledger.book(info, *spot)


@pytest.mark.parametrize("name", ["halifax", "staff-talks", "100meetings-320timegrains-5rooms.xlsx"])
def test_the_drawn_cheapest_spot_is_one_of_all_the_cheapest(name: str) -> None:
    """Where the price is the breaks alone, `_cheapest` draws one spot instead of
    listing them all: it must be one of `_all_cheapest`'s spots, at their price,
    and over many draws reach more than one of them where there are several."""
    compiled = compile_problem(_forum_or_file(name))
    search = LocalSearch(compiled, greedy_assign(compiled), seed=5)
    # A descent, not a timed search: the grid it ends on is the same on a busy
    # machine, and staff-talks' has few meetings with several cheapest spots
    # (1-3 after 0.5 s of annealing, so a slower run could leave none).
    search.descend()
    several = 0
    for meeting_id in sorted(search.ledger.placed):
        info = compiled.by_id[meeting_id]
        spot = search.ledger.take_out(info)
        every, price = search._all_cheapest(info, keep_room=None)
        allowed = {(start, room.id) for start, room in every}
        drawn = {(start, room.id) for _ in range(20) for start, room in search._cheapest(info, keep_room=None)[0]}
        assert drawn <= allowed, meeting_id
        assert search._cheapest(info, keep_room=None)[1] == price, meeting_id
        several += len(drawn) > 1
        search.ledger.book(info, *spot)
    assert several > 0


def test_unbooking_restores_the_ledger() -> None:
    compiled = compile_problem(generate("shangri-la", 0))
    assignment = greedy_assign(compiled)
    ledger = MovableLedger(compiled)
    rooms = {room.id: room for room in compiled.problem.rooms}
    for meeting_id, (start, room_id) in assignment.items():
        ledger.book(compiled.by_id[meeting_id], start, rooms[room_id])
    moved = next(iter(assignment))
    ledger.take_out(compiled.by_id[moved])
    fresh = MovableLedger(compiled)
    for meeting_id, (start, room_id) in assignment.items():
        if meeting_id != moved:
            fresh.book(compiled.by_id[meeting_id], start, rooms[room_id])
    assert ledger.placed == fresh.placed
    assert ledger.person_busy == fresh.person_busy
    assert ledger.room_busy == fresh.room_busy
    assert ledger.resource_used == fresh.resource_used
    assert ledger.ending_in == fresh.ending_in and ledger.starting_in == fresh.starting_in
    assert {key: sorted(value, key=repr) for key, value in ledger.person_day.items() if value} == {
        key: sorted(value, key=repr) for key, value in fresh.person_day.items() if value
    }


def test_insertion_places_a_meeting_greedy_left_out_when_it_fits() -> None:
    people = [delegation(name, person(name.lower())) for name in ("A", "B", "C")]
    meetings = [meeting("ab", ["A", "B"], 60, priority="high"), meeting("bc", ["B", "C"], 60, priority="low")]
    forum_problem = problem(people, meetings)
    compiled = compile_problem(forum_problem)
    result = LocalSearch(compiled, {"ab": greedy_assign(compiled)["ab"]}, seed=0).run(time.perf_counter() + 0.2)
    assert set(result.assignment) == {"ab", "bc"}
    assert validate(forum_problem, _schedule_of(forum_problem, result.assignment)).violations == []


@pytest.mark.parametrize(
    "objective",
    [
        ObjectiveSettings(must_is_hard=True),
        ObjectiveSettings(break_spread_limit=2),
        ObjectiveSettings(mode="lexicographic"),
    ],
)
def test_local_search_is_not_used_where_it_is_not_exact(objective: ObjectiveSettings) -> None:
    compiled = compile_problem(generate("unga-week", 0))
    compiled = replace(compiled, problem=msgspec.structs.replace(compiled.problem, objective=objective))
    assert not large.use_local_search(compiled, SearchSettings(60, 2, 0, False))


def test_local_search_is_used_but_not_in_deterministic_mode_and_alone_only_on_large_forums() -> None:
    unga, shangri_la = compile_problem(generate("unga-week", 0)), compile_problem(generate("shangri-la", 0))
    halifax = compile_problem(generate("halifax", 0))
    assert large.use_local_search(unga, SearchSettings(60, 2, 0, False))
    assert not large.use_local_search(unga, SearchSettings(60, 2, 0, True))
    assert large.use_local_search(halifax, SearchSettings(60, 2, 0, False))
    # UNGA by its meetings, Shangri-La by its model's size (64,282 domain pairs); Halifax has CP-SAT beside
    assert large.local_search_only(unga) and large.local_search_only(shangri_la)
    assert not large.local_search_only(halifax)


def test_unga_domain_bound_is_the_stranded_requests_and_the_fairness_they_force() -> None:
    compiled = compile_problem(generate("unga-week", 0))
    stranded = [info for info in compiled.meetings if not info.domain]
    assert len(stranded) == 8 and {info.meeting.priority for info in stranded} == {"low"}
    # 8 low meetings never held (800) and a delegation that can hold at most half its requests (10 x 50)
    assert large.domain_bound(compiled) == 800 + 500


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(forums())
def test_local_search_solves_of_random_forums_are_valid_bounded_and_never_worse_than_greedy(
    forum_problem: Problem,
) -> None:
    assume(forum_problem.objective.mode == "weighted")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(large, "LARGE_FORUM_MEETINGS", 1)
        found = solve(forum_problem, SolveOptions(time_limit=0.5, workers=2))
    greedy = solve(forum_problem, SolveOptions(method="greedy"))
    exact = solve(forum_problem, SolveOptions(time_limit=2, workers=2))
    report = validate(forum_problem, found)
    assert report.violations == []
    assert found.terms == report.terms and found.objective == report.objective
    assert found.objective is not None and greedy.objective is not None
    assert found.objective <= greedy.objective
    assert found.best_bound is not None and found.best_bound <= found.objective
    if exact.status == "OPTIMAL":  # the domain bound never passes the true optimum
        assert exact.objective is not None and found.best_bound <= exact.objective


def test_a_stop_request_ends_the_local_search_with_a_valid_grid() -> None:
    forum_problem = generate("unga-week", 0)
    stop = threading.Event()
    threading.Timer(1.0, stop.set).start()
    schedule = solve(forum_problem, SolveOptions(time_limit=600, workers=2), stop=stop)
    assert schedule.stats.solve_seconds < 120  # far below the limit: the stop was heard
    assert validate(forum_problem, schedule).violations == []
    assert schedule.objective is not None and schedule.stats.greedy_objective is not None
    assert schedule.objective <= schedule.stats.greedy_objective


def _rigid_forum(meetings: list[Meeting], rooms: int = 3) -> Problem:
    """One hour in four 15-minute slots, one principal per delegation."""
    names = sorted({name for m in meetings for name in m.delegations})
    return problem(
        [delegation(name, person(name)) for name in names],
        meetings,
        rooms=[room(f"R{index}") for index in range(1, rooms + 1)],
        forum=forum(start="09:00", end="10:00"),
    )


def _search_from(forum_problem: Problem, starts: dict[str, int]) -> LocalSearch:
    compiled = compile_problem(forum_problem)
    rooms = [r.id for r in forum_problem.rooms]
    grid: Assignment = {}
    for index, (meeting_id, start) in enumerate(starts.items()):
        grid[meeting_id] = (start, rooms[index % len(rooms)])
    assert validate(forum_problem, _schedule_of(forum_problem, grid)).violations == []
    return LocalSearch(compiled, grid, seed=0)


def test_an_ejection_chain_closes_a_break_that_no_single_move_can() -> None:
    # a meets b at 0 and c at 2: a break at 1, where b and c each have another meeting
    # (with e and d). Every single move is refused: ab and ac cannot go to 1 (b, c busy),
    # cd and be moved off 1 would give c or b a break. Moving ac into 1 and cd to 2
    # (its best spot once ac has left) closes the break.
    forum_problem = _rigid_forum(
        [
            meeting("ab", ["a", "b"], 15, latest=at("09:30")),
            meeting("ac", ["a", "c"], 15, earliest=at("09:15"), latest=at("09:45")),
            meeting("cd", ["c", "d"], 15, earliest=at("09:15"), latest=at("09:45")),
            meeting("be", ["b", "e"], 15, earliest=at("09:15"), latest=at("09:45")),
        ]
    )
    search = _search_from(forum_problem, {"ab": 0, "ac": 2, "cd": 1, "be": 1})
    compiled = search.compiled
    assert search.cost == 10  # one break (a's)
    search.descend()
    assert search.cost == 10  # single moves cannot remove it
    for _ in range(200):
        search._eject_move(compiled.by_id[search._pick(["ab", "ac"])], temperature=1e-9)
    assert search.cost == 0 == sum(evaluate(compiled, search.assignment()).values())
    assert validate(forum_problem, _schedule_of(forum_problem, search.assignment())).violations == []


def _grid_where_a_has_a_break() -> tuple[Problem, dict[str, int]]:
    """a meets b at 0 and c at 2: a break at 1 (the ejection chain's forum above)."""
    forum_problem = _rigid_forum(
        [
            meeting("ab", ["a", "b"], 15),
            meeting("ac", ["a", "c"], 15),
            meeting("cd", ["c", "d"], 15),
            meeting("be", ["b", "e"], 15),
        ]
    )
    return forum_problem, {"ab": 0, "ac": 2, "cd": 1, "be": 1}


def test_a_focused_search_weighs_the_break_of_a_participant_outside_its_packing_more_at_each_look() -> None:
    forum_problem, starts = _grid_where_a_has_a_break()
    search = _search_from(forum_problem, starts)
    search = LocalSearch(search.compiled, search.assignment(), seed=0, penalty={"c": 5})  # c packed, a not
    assert search.cost == 10  # a's break, at its plain weight
    for look in range(1, GUIDE_CAP + 1):
        assert search._guide(search._broken_days())
        assert search.costs.penalty == {"c": 5, "a": look}
        assert search.cost == 10 * (1 + look) == search._penalised_cost(search.assignment())
    assert not search._guide(search._broken_days())  # capped
    assert search.costs.penalty["a"] == GUIDE_CAP


def test_a_plain_search_and_a_packed_participant_are_not_guided() -> None:
    forum_problem, starts = _grid_where_a_has_a_break()
    plain = _search_from(forum_problem, starts)
    assert not plain._guide(plain._broken_days())
    assert plain.costs.penalty == {} and plain.cost == 10
    packed = LocalSearch(plain.compiled, plain.assignment(), seed=0, penalty={"a": 1})  # below the cap
    assert not packed._guide(packed._broken_days())
    assert packed.costs.penalty == {"a": 1} and packed.cost == 20


def test_the_local_search_stops_at_the_domains_bound_and_calls_its_grid_optimal() -> None:
    people = [delegation(name, person(name.lower())) for name in ("A", "B", "C", "D")]
    meetings = [meeting(f"{x}{y}", [x, y], 60) for x, y in ("AB", "AC", "AD", "BC", "BD", "CD")]
    compiled = compile_problem(problem(people, meetings, [room("R1"), room("R2")]))  # three rounds of two
    settings_ = SearchSettings(60, 2, 0, False)
    clock = time.perf_counter()
    found, outcome = large.local_search_solve(compiled, settings_, greedy_assign(compiled), clock)
    assert outcome.status == "OPTIMAL" and outcome.objective == outcome.bound == large.domain_bound(compiled)
    assert sum(evaluate(compiled, found).values()) == outcome.objective
    assert time.perf_counter() - clock < 30  # stopped at the bound, not at the 60 s limit


def test_the_schedule_says_which_searches_ran() -> None:
    people = [delegation(name, person(name.lower())) for name in ("A", "B")]
    forum_problem = problem(people, [meeting("ab", ["A", "B"], 60)])
    assert solve(forum_problem, SolveOptions(time_limit=5)).stats.searches == ["local_search", "cpsat"]
    assert solve(forum_problem, SolveOptions(time_limit=5, deterministic=True)).stats.searches == ["cpsat"]
    assert solve(forum_problem, SolveOptions(method="greedy")).stats.searches == []


def test_a_forced_break_is_proven_by_cp_sat_which_stops_the_local_search_beside_it() -> None:
    people = [delegation(name, person(name.lower())) for name in ("A", "B", "C")]
    meetings = [
        meeting("ab", ["A", "B"], 60, pinned_start=at("09:00")),
        meeting("ac", ["A", "C"], 60, pinned_start=at("11:00")),
    ]
    forum_problem = problem(people, meetings)
    schedule = solve(forum_problem, SolveOptions(time_limit=60))
    assert large.domain_bound(compile_problem(forum_problem)) == 0  # the bound CP-SAT has to beat
    assert schedule.status == "OPTIMAL" and schedule.objective == schedule.best_bound == 10  # one break
    assert schedule.stats.solve_seconds < 30  # CP-SAT's proof ended the local search
    assert schedule.stats.searches == ["local_search", "cpsat"]
    assert validate(forum_problem, schedule).violations == []


def _rounds_problem() -> Problem:
    """Four delegations, six meetings of an hour, two rooms: three rounds, no break needed."""
    people = [delegation(name, person(name.lower())) for name in ("A", "B", "C", "D")]
    meetings = [meeting(f"{x}{y}", [x, y], 60) for x, y in ("AB", "AC", "AD", "BC", "BD", "CD")]
    return problem(people, meetings, [room("R1"), room("R2")], forum=forum(start="09:00", end="17:00"))


def _spread_out() -> Assignment:
    """The rounds at 09:00, 11:00 and 13:00: everyone idles an hour twice (two breaks each)."""
    return {
        "AB": (0, "R1"), "CD": (0, "R2"), "AC": (8, "R1"), "BD": (8, "R2"), "AD": (16, "R1"), "BC": (16, "R2"),
    }  # fmt: skip


def test_the_twin_process_hands_back_a_valid_grid_no_worse_than_its_start() -> None:
    forum_problem = _rounds_problem()
    compiled = compile_problem(forum_problem)
    start = _spread_out()
    job = twin.Job(forum_problem, start, time.monotonic() + 30, seed=3, floor=large.domain_bound(compiled))
    answer = twin.TwinSearch(job).finish(wait=30)
    assert answer is not None
    assert validate(forum_problem, _schedule_of(forum_problem, answer)).violations == []
    assert sum(evaluate(compiled, answer).values()) == 0  # it reached the floor, and stopped there


def test_the_twin_keeps_pinned_meetings_where_they_are() -> None:
    # A re-solve pins the meetings it keeps (compile_problem's `pinned`); a twin
    # that compiled the problem without them moved them (resolve's "kept
    # meetings moved" at a limit long enough for the twin to search).
    forum_problem = _rounds_problem()
    pinned = {"AB": (0, "R1"), "AD": (16, "R1")}  # where they start: A cannot be break-free with both
    compiled = compile_problem(forum_problem, pinned)
    job = twin.Job(forum_problem, _spread_out(), time.monotonic() + 3, seed=3, floor=-1, pinned=pinned)
    answer = twin.TwinSearch(job).finish(wait=30)
    assert answer is not None
    assert {meeting: answer[meeting] for meeting in pinned} == pinned
    assert validate(forum_problem, _schedule_of(forum_problem, answer)).violations == []
    assert total_cost(compiled, answer) <= total_cost(compiled, _spread_out())


def test_a_prewarmed_twin_is_the_process_the_next_twin_search_takes() -> None:
    forum_problem = _rounds_problem()
    compiled = compile_problem(forum_problem)
    twin.prewarm()
    spare = twin._spare
    assert spare is not None
    time.sleep(1.0)  # its imports done, it waits for a job
    assert spare.poll() is None
    job = twin.Job(forum_problem, _spread_out(), time.monotonic() + 30, seed=3, floor=large.domain_bound(compiled))
    search = twin.TwinSearch(job)
    assert search.process is spare and twin._spare is None
    answer = search.finish(wait=30)
    assert answer is not None and sum(evaluate(compiled, answer).values()) == 0


def test_a_prewarmed_twin_that_no_search_takes_ends_with_the_solve() -> None:
    forum_problem = _rounds_problem()  # small: the local search runs beside CP-SAT, no twin
    twin.prewarm()
    spare = twin._spare
    assert spare is not None
    schedule = solve(forum_problem, SolveOptions(time_limit=2, workers=2))
    assert "local_search" in schedule.stats.searches and schedule.stats.searches.count("local_search") == 1
    assert twin._spare is None
    assert spare.poll() is not None  # ended with the solve, not left waiting


SEARCHING_CPU_SECONDS = 1.5  # the twin's imports take 0.4-0.8 s of CPU; past this it searches


def _wait_until_searching(pid: int) -> None:
    """Until the twin has used the CPU time of its start-up and more: by its CPU, not the
    clock, so that a loaded machine (helpers' test runs, load 5 on 2 cores: the start-up
    then takes seconds) does not stop a twin that has not begun to search."""
    deadline = time.monotonic() + 60
    while _cpu_seconds(pid) < SEARCHING_CPU_SECONDS:
        assert time.monotonic() < deadline, "the twin never started searching"
        time.sleep(0.05)


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().split(") ")[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def test_a_stopped_twin_hands_in_the_grid_it_has_at_once() -> None:
    forum_problem = _rounds_problem()
    start = _spread_out()
    job = twin.Job(forum_problem, start, time.monotonic() + 120, seed=0, floor=-1)  # never reached
    search = twin.TwinSearch(job)
    _wait_until_searching(search.process.pid)
    clock = time.perf_counter()
    answer = search.finish(wait=0)
    assert time.perf_counter() - clock < twin.STOP_GRACE
    assert answer is not None and validate(forum_problem, _schedule_of(forum_problem, answer)).violations == []


def test_a_twin_sent_ctrl_c_hands_in_its_grid() -> None:
    # A Ctrl-C at the terminal reaches the twin too (one process group); it stops
    # as on SIGTERM instead of dying, so its grid can still win.
    forum_problem = _rounds_problem()
    job = twin.Job(forum_problem, _spread_out(), time.monotonic() + 120, seed=0, floor=-1)  # never reached
    search = twin.TwinSearch(job)
    _wait_until_searching(search.process.pid)
    search.process.send_signal(signal.SIGINT)
    search.reader.join(twin.STOP_GRACE)
    assert not search.reader.is_alive()  # ended on the signal, not on a later SIGTERM
    assert search.answer is not None
    assert validate(forum_problem, _schedule_of(forum_problem, search.answer)).violations == []


def test_the_focused_search_runs_in_doubling_epochs_each_with_its_own_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    # One annealing cools over all the time it is given: at a 1,000 s limit cdma's
    # optimum came after 7.8 s, against 0.35 s at 10 s.
    calls: list[tuple[float, int]] = []

    def whole_epoch(
        compiled: Compiled, start: Assignment, deadline: float, seed: int, stop: threading.Event | None, floor: int
    ) -> Assignment:
        calls.append((deadline - time.perf_counter(), seed))
        time.sleep(max(0.0, deadline - time.perf_counter()))
        return start

    monkeypatch.setattr(large.focus, "search", whole_epoch)
    monkeypatch.setattr(large, "FIRST_EPOCH", 0.2)
    compiled = compile_problem(_rounds_problem())
    large.search_grid(compiled, _spread_out(), time.perf_counter() + 1.0, seed=3, stop=None, floor=0)
    spans = [span for span, _ in calls]
    assert len(spans) == 3  # 0.2 s, 0.4 s, then the 0.4 s left whole (not a 0.8 s epoch cut short)
    assert abs(spans[0] - 0.2) < 0.05 and abs(spans[1] - 0.4) < 0.05 and spans[2] < 0.45
    assert len({seed for _, seed in calls}) == 3 and calls[0][1] == 3


def test_an_epoch_that_reaches_the_floor_ends_the_search(monkeypatch: pytest.MonkeyPatch) -> None:
    rounds = {"AB": (0, "R1"), "CD": (0, "R2"), "AC": (4, "R1"), "BD": (4, "R2"), "AD": (8, "R1"), "BC": (8, "R2")}
    compiled = compile_problem(_rounds_problem())
    assert sum(evaluate(compiled, rounds).values()) == 0 == large.domain_bound(compiled)
    calls: list[Assignment] = []

    def optimal_at_once(
        compiled: Compiled, start: Assignment, deadline: float, seed: int, stop: threading.Event | None, floor: int
    ) -> Assignment:
        calls.append(start)
        return rounds

    monkeypatch.setattr(large.focus, "search", optimal_at_once)
    monkeypatch.setattr(large, "FIRST_EPOCH", 0.1)
    found = large.search_grid(compiled, _spread_out(), time.perf_counter() + 60, seed=0, stop=None, floor=0)
    assert found == rounds and len(calls) == 1


def test_with_two_workers_the_twins_grid_wins_when_it_is_cheaper(monkeypatch: pytest.MonkeyPatch) -> None:
    forum_problem = _rounds_problem()
    compiled = compile_problem(forum_problem)
    start = _spread_out()
    assert sum(evaluate(compiled, start).values()) == 80 > large.domain_bound(compiled)  # eight breaks
    # This process's search hands back its start unchanged: a better grid can only come from the twin.
    idle = lambda compiled, grid, *args, **kwargs: dict(grid)  # noqa: E731
    monkeypatch.setattr(large, "search_grid", idle)
    found, outcome = large.local_search_solve(
        compiled, SearchSettings(30, 2, 0, False), start, time.perf_counter(), twin=True
    )
    assert outcome.objective == sum(evaluate(compiled, found).values()) == large.domain_bound(compiled)
    assert outcome.status == "OPTIMAL"
    assert validate(forum_problem, _schedule_of(forum_problem, found)).violations == []


def test_a_forum_searched_locally_alone_uses_the_second_worker_for_a_twin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(large, "LARGE_FORUM_MEETINGS", 1)
    forum_problem = _rounds_problem()
    assert solve(forum_problem, SolveOptions(time_limit=5, workers=2)).stats.searches == ["local_search"] * 2
    schedule = solve(forum_problem, SolveOptions(time_limit=5, workers=1))
    assert schedule.stats.searches == ["local_search"]
    assert validate(forum_problem, schedule).violations == []


def test_when_the_twin_cannot_start_one_search_runs_and_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_process(*args: object, **kwargs: object) -> None:
        raise OSError("no process to be had")

    monkeypatch.setattr(large, "LARGE_FORUM_MEETINGS", 1)
    monkeypatch.setattr(large, "TwinSearch", no_process)
    forum_problem = _rounds_problem()
    schedule = solve(forum_problem, SolveOptions(time_limit=2, workers=2))
    assert schedule.stats.searches == ["local_search"]
    assert validate(forum_problem, schedule).violations == []


ORPHANING_PARENT = """
import os, sys, time
import msgspec
from solver.twin import Job, TwinSearch
from tests.test_localsearch import _rounds_problem, _spread_out
search = TwinSearch(Job(_rounds_problem(), _spread_out(), time.monotonic() + 120, seed=0, floor=-1))
print(search.process.pid, flush=True)
time.sleep(1.0)
os._exit(0)  # killed mid-solve: no finish(), no SIGTERM to the twin
"""


def test_a_twin_whose_parent_dies_stops_instead_of_running_to_its_deadline() -> None:
    parent = subprocess.run(
        [sys.executable, "-c", ORPHANING_PARENT], capture_output=True, text=True, timeout=60, check=True
    )
    twin_pid = int(parent.stdout.split()[0])
    deadline = time.monotonic() + 10 * twin.ORPHAN_POLL + 5
    while time.monotonic() < deadline and _alive(twin_pid):
        time.sleep(0.1)
    assert not _alive(twin_pid)  # well before its 120 s deadline


# The parent sends the job and dies at once, while the twin is still importing:
# a twin that asked the system for its parent only after its imports found init
# there and would have searched to its 120 s deadline.
PARENT_GONE_AT_ONCE = """
import os, time
import msgspec
from solver import twin
from tests.test_localsearch import _rounds_problem, _spread_out
child = twin._spawn()
child.stdin.write(msgspec.json.encode(twin.Job(_rounds_problem(), _spread_out(), time.monotonic() + 120, 0, -1)))
child.stdin.close()
print(child.pid, flush=True)
os._exit(0)
"""


def test_a_twin_whose_parent_dies_while_it_starts_stops_too() -> None:
    parent = subprocess.run(
        [sys.executable, "-c", PARENT_GONE_AT_ONCE], capture_output=True, text=True, timeout=60, check=True
    )
    twin_pid = int(parent.stdout.split()[0])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _alive(twin_pid):
        time.sleep(0.1)
    assert not _alive(twin_pid)  # well before its 120 s deadline


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False
