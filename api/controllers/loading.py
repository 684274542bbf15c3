"""`POST /forums/import`: a whole problem document becomes a forum (admin token).

The same loader as `sidelines load`: every meeting becomes a request accepted by
all its parties. The answer carries the organiser token and one token per
delegation, once; an idempotent replay shows them as null.
"""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
import msgspec
from litestar import Request, Response, post
from litestar.params import Body

from api.controllers.common import CallerDep, IdempotencyKey, PoolDep, raise_if
from api.errors import FieldError
from api.guards import require_admin
from api.http import Reply, etag, run_change
from db.load import load_problem
from db.queries.forums import get_forum
from db.records import ForumRecord
from solver.check import ProblemError
from solver.model import Problem


class ForumImported(msgspec.Struct):
    forum: ForumRecord
    # Shown once; null when the answer is an idempotent replay (tokens are never stored).
    organiser_token: str | None
    delegation_tokens: dict[str, str] | None  # delegation id -> token


@post(
    "/forums/import",
    tags=["forums"],
    summary="Create a forum from a whole problem document (admin); answers every token once",
)
async def import_forum(
    request: Request[Any, Any, Any],
    pool: PoolDep,
    caller: CallerDep,
    data: Annotated[Problem, Body(description="a problem document (docs/schema/problem.schema.json)")],
    idempotency_key: IdempotencyKey = None,
) -> Response[ForumImported]:
    require_admin(caller)

    async def work(connection: asyncpg.Connection) -> Reply[ForumImported]:
        try:
            loaded = await load_problem(connection, data, actor=caller.actor)
        except ProblemError as error:
            raise_if([FieldError(finding.path, finding.message) for finding in error.findings])
            raise
        stored = await get_forum(connection, loaded.forum_id)
        assert stored is not None
        body = ForumImported(stored.item, loaded.organiser_token, loaded.delegation_tokens)
        headers = {"Location": f"/forums/{loaded.forum_id}", "ETag": etag(stored.version)}
        return Reply(body, 201, headers, replay_body=ForumImported(stored.item, None, None))

    return await run_change(pool, request, caller, idempotency_key, work)


ROUTES = [import_forum]
