"""Read-only organiser views of a forum: the solver's problem and the audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Request, Response, get

from api.controllers.common import CallerDep, PoolDep
from api.controllers.paths import ForumPath
from api.guards import forum_organiser
from api.http import json_response
from api.paging import DEFAULT_LIMIT, LINK_HEADER, AfterId, Limit, fetched, page
from db.problem import build_problem
from db.queries.audit import list_changes
from db.records import AuditEntry
from solver.check import Finding, check_problem
from solver.model import Problem


class ProblemView(msgspec.Struct):
    problem: Problem
    # What the solver would reject, with field paths into `problem`; empty when it can be solved.
    findings: list[Finding]


@get("/forums/{forum_id:str}/problem", tags=["forums"], summary="The problem the solver will see (organiser)")
async def read_problem(pool: PoolDep, caller: CallerDep, forum_id: ForumPath) -> Response[ProblemView]:
    parsed = forum_organiser(caller, forum_id)
    async with pool.acquire() as connection:
        problem = await build_problem(connection, parsed, datetime.now(UTC))
    assert problem is not None  # the organiser's token belongs to it
    return json_response(ProblemView(problem, check_problem(problem)))


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
