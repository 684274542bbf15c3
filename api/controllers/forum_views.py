"""Read-only organiser views of a forum: the solver's problem (with the recorded changes, as runs
solve it, unless asked for without) and the audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get
from litestar.params import QueryParameter

from api.controllers.common import CallerDep, PoolDep
from api.controllers.paths import ForumPath
from api.guards import forum_organiser
from api.http import json_response
from api.paging import DEFAULT_LIMIT, LINK_HEADER, AfterId, Limit, fetched, page
from db.changes import applied
from db.problem import build_problem
from db.queries.audit import list_changes
from db.queries.changes import list_changes as list_recorded
from db.records import AuditEntry
from solver.check import Finding, check_problem
from solver.model import Problem


class ProblemView(msgspec.Struct):
    problem: Problem
    # What the solver would reject, with field paths into `problem`; empty when it can be solved.
    findings: list[Finding]
    changes_applied: Annotated[
        list[int],
        msgspec.Meta(
            description="the numbers of the recorded changes applied to `problem`, in order (a change whose"
            " subject has left the forum is passed over, as runs pass it over); empty with `changes=false`"
        ),
    ]
    changes_recorded: Annotated[int, msgspec.Meta(description="how many changes the forum has recorded")]


@get(
    "/forums/{forum_id:str}/problem",
    tags=["forums"],
    summary="The problem the solver will see (organiser)",
    description="By default the stored setup with the recorded changes applied, as every run solves it"
    " (`changes_applied` names them); `changes=false`: the stored setup alone.",
)
async def read_problem(
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    changes: Annotated[
        bool,
        QueryParameter(
            name="changes", description="false: the stored setup, without the recorded changes (default true)"
        ),
    ] = True,
) -> Response[ProblemView]:
    parsed = forum_organiser(caller, forum_id)
    # One snapshot, as a run loads it (api/worker.py): the changes are those of this setup.
    async with pool.acquire() as connection, connection.transaction(isolation="repeatable_read", readonly=True):
        problem = await build_problem(connection, parsed, datetime.now(UTC))
        recorded = await list_recorded(connection, parsed)
    assert problem is not None  # the organiser's token belongs to it
    numbers: list[int] = []
    if changes:
        indices, problem = applied(problem, [record.change for record in recorded])
        numbers = [recorded[index].number for index in indices]
    return json_response(ProblemView(problem, check_problem(problem), numbers, len(recorded)))


@get(
    "/forums/{forum_id:str}/audit",
    tags=["forums"],
    summary="Every change to the forum, oldest first, by pages (organiser)",
    response_headers=[LINK_HEADER],
)
async def read_audit(
    request: Request[Any, Any, Any],
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    after: AfterId = 0,
    limit: Limit = DEFAULT_LIMIT,
) -> Response[list[AuditEntry]]:
    parsed = forum_organiser(caller, forum_id)
    async with pool.acquire() as connection:
        entries = await list_changes(connection, parsed, after, fetched(limit))
    return page(request, entries, limit, lambda entry: entry.id)


ROUTES = [read_problem, read_audit]
