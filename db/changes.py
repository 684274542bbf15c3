"""The forum as the solver sees it once the recorded changes apply, and the
published grid as solver placements: what change checks, fits and re-solves
start from."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from db.problem import build_problem
from db.queries import changes as change_queries
from db.queries import runs as run_queries
from solver.changes import Change, apply_change
from solver.check import ProblemError
from solver.model import Problem
from solver.result import Placement, Schedule, Unplaced
from solver.timegrid import TimeGrid


class Published(msgspec.Struct, frozen=True):
    number: int
    version_id: int  # the version's row id: never given to another version
    schedule: Schedule  # the stored placements (instants), and the unplaced meetings with their reasons


async def recorded_changes(connection: asyncpg.Connection, forum_id: Any) -> list[Change]:
    return [record.change for record in await change_queries.list_changes(connection, forum_id)]


async def stored_and_changes(
    connection: asyncpg.Connection, forum_id: Any, now: datetime
) -> tuple[Problem, list[Change]] | None:
    """The stored forum's problem and the changes recorded since; None when there is no such forum."""
    problem = await build_problem(connection, forum_id, now)
    if problem is None:
        return None
    return problem, await recorded_changes(connection, forum_id)


async def changed_problem(connection: asyncpg.Connection, forum_id: Any, now: datetime) -> Problem | None:
    """The problem every solve sees: the stored forum with every recorded change applied."""
    found = await stored_and_changes(connection, forum_id, now)
    return None if found is None else apply_recorded(*found)


def apply_recorded(problem: Problem, changes: list[Change]) -> Problem:
    return applied(problem, changes)[1]


def applicable_changes(problem: Problem, changes: list[Change]) -> list[Change]:
    """The recorded changes that still apply, in order, passing over any whose
    subject has left the stored forum since (a cancelled request withdrawn
    through the requests flow): it has nothing left to change, and must not
    stop every later solve."""
    return [changes[index] for index in applicable_indices(problem, changes)]


def applicable_indices(problem: Problem, changes: list[Change]) -> list[int]:
    """The positions in `changes` of those that still apply (see `applicable_changes`)."""
    return applied(problem, changes)[0]


def applied(problem: Problem, changes: list[Change]) -> tuple[list[int], Problem]:
    """`applicable_indices`, and the problem once they apply: both from one pass, as each change
    checks the whole changed forum (the pass was made twice, once for each)."""
    grid = TimeGrid.of(problem.forum)
    kept: list[int] = []
    for index, change in enumerate(changes):
        try:
            problem = apply_change(problem, change, len(kept), grid)
        except ProblemError:
            continue
        kept.append(index)
    return kept, problem


async def published_grid(connection: asyncpg.Connection, forum_id: Any) -> Published | None:
    row = await run_queries.get_version(connection, forum_id, None, published_only=True)
    if row is None:
        return None
    placements = await run_queries.grid_placements(connection, row.id)
    schedule = Schedule(
        status="FEASIBLE",
        placed=[Placement(p.meeting, p.start, p.end, p.room) for p in placements],
        unplaced=msgspec.convert(row.schedule.get("unplaced", []), list[Unplaced]),
    )
    return Published(row.number, row.id, schedule)
