"""The meetings' domains share their tuples: compiled code (mypyc) boxes a new
tuple for every pair it stores, which made the 800-meeting OptaPlanner file's
domains 6.3 M tuples (about 600 MB) where 14,000 are distinct."""

from __future__ import annotations

from solver.compile import compile_problem
from solver.greedy import classes_by_start
from solver.scenarios import generate


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
