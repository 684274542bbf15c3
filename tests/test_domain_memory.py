"""The meetings' domains share their tuples: compiled code (mypyc) boxes a new
tuple for every pair it stores, which made the 800-meeting OptaPlanner file's
domains 6.3 M tuples (about 600 MB) where 14,000 are distinct."""

from __future__ import annotations

from api.bench import DEFAULT_DATA
from solver.compile import compile_problem
from solver.greedy import classes_by_start, greedy_assign
from solver.importers import load_optaplanner
from solver.localsearch import LocalSearch
from solver.scenarios import generate

OPTAPLANNER_200 = "200meetings-640timegrains-5rooms.xlsx"  # 640 slots: starts past 256


def test_equal_domain_pairs_are_one_tuple_across_meetings() -> None:
    compiled = compile_problem(generate("unga-week", seed=1))
    pairs = [pair for info in compiled.meetings for pair in info.domain]
    assert len(pairs) > 10 * len(set(pairs))  # many meetings hold each pair ...
    assert len({id(pair) for pair in pairs}) == len(set(pairs))  # ... as the same object


def test_a_meetings_equal_class_tuples_are_one_object() -> None:
    compiled = compile_problem(generate("shangri-la", seed=1))
    for info in compiled.meetings:
        grouped = classes_by_start(info.domain)
        assert len({id(classes) for classes in grouped.values()}) == len(set(grouped.values()))


def test_the_searchs_starts_by_day_are_the_domains_own_ints() -> None:
    """The local search's cheapest-spot draw keeps each meeting's starts by day;
    built in compiled code, every start past 256 was a new int (130 MB more per
    search on the 800-meeting OptaPlanner file)."""
    compiled = compile_problem(load_optaplanner(DEFAULT_DATA / "optaplanner-meetingscheduling" / OPTAPLANNER_200))
    search = LocalSearch(compiled, greedy_assign(compiled), seed=0)
    for info in compiled.meetings[:50]:
        own = {id(start) for start in search._classes_at(info)}
        by_day = search._starts_by_day(info)
        kept = [start for _, starts in by_day for start in starts]
        assert sorted(kept) == sorted(search._classes_at(info))
        assert max(kept) > 256  # past the ints Python keeps one of each
        assert {id(start) for start in kept} <= own
