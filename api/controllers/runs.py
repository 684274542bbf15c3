"""Solve runs (organiser): queue a solve, follow its progress, cancel it.

A run is queued here and solved by a `sidelines worker`; its progress is read
from the run's row, or followed as Server-Sent Events until the run ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

import asyncpg
import msgspec
from litestar import Request, Response, get, post
from litestar.params import Body, HeaderParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from api.controllers.common import CallerDep, IdempotencyKey, PoolDep, load_forum, raise_if
from api.controllers.paths import ForumPath, RunPath
from api.errors import Conflict, FieldError, invalid, missing
from api.guards import forum_organiser
from api.http import Reply, json_response, run_change
from api.openapi import OptionalBodyOperation, event_stream
from api.paging import DEFAULT_LIMIT, LINK_HEADER, AfterId, Limit, fetched, page
from db.changes import changed_problem, published_grid
from db.queries import runs as queries
from db.queries.audit import record_change

RUNS_PATH = "/forums/{forum_id:str}/runs"
RUN_PATH = f"{RUNS_PATH}/{{run_id:int}}"
POLL_SECONDS = 0.5  # how often the event stream looks at the run
# A reconnecting EventSource sends the id of the last event it had: the stream resumes after it.
LastEventId = Annotated[
    str | None, HeaderParameter(name="Last-Event-ID", required=False, description="resume after this progress event")
]


class RunIn(msgspec.Struct, forbid_unknown_fields=True):
    time_limit: Annotated[
        float | None,
        msgspec.Meta(description="seconds, above 0 and at most 3600; default 10 for a solve, 0.5 for a re-solve"),
    ] = None
    workers: Annotated[int, msgspec.Meta(description="search threads, 1 to 16")] = 2
    seed: Annotated[int, msgspec.Meta(description="random seed, 0 or more")] = 0
    # Set: a re-solve from the published version and the recorded changes (docs/resolve.md).
    resolve: Annotated[
        queries.ResolveSettings | None,
        msgspec.Meta(
            description="set: a re-solve from the published version and the recorded changes (docs/resolve.md)"
        ),
    ] = None


STATUS_DESCRIPTION = (
    "queued, running, then succeeded (with its version), failed (`error` says why) or cancelled."
    " A running run that is cancelled stops its search within seconds and keeps the best grid it"
    " had found, as a version like any other (`version`; its status FEASIBLE, or OPTIMAL if proven);"
    " it has none when it was stopped before any grid existed, or cancelled while still queued."
)
VERSION_DESCRIPTION = (
    "the number of the version the run made: a succeeded run's grid, or a cancelled run's best grid"
    " when it was stopped; null otherwise"
)
CANCEL_DESCRIPTION = (
    "A queued run ends `cancelled` at once, with no version. A running one is stopped at its"
    " worker's next heartbeat (half a second): its search ends as at its time limit, and the best"
    " grid found so far is stored as a version, with the same checks as a finished run's, which the"
    " run names as it ends `cancelled`, within a few seconds. No version when no grid existed yet,"
    " nor when the forum recorded a change meanwhile (`error` says why). A run that finished"
    " before the cancel reached it answers 409 and stays as it ended."
)


class RunSummary(msgspec.Struct):
    """A run as the list of runs shows it: as `Run`, without a re-solve's moves."""

    id: int  # the run's number in its forum (1, 2, 3 ...)
    forum_id: UUID
    status: Annotated[queries.RunStatus, msgspec.Meta(description=STATUS_DESCRIPTION)]
    options: queries.RunOptions
    cancel_requested: bool
    attempts: int
    progress: queries.RunProgress | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    version: Annotated[int | None, msgspec.Meta(description=VERSION_DESCRIPTION)]  # its number in the forum


class Run(RunSummary):
    """A run as the organiser reads it: without what only the workers need, the server-wide
    ids of the run and its version (they counted other forums' runs and versions) and the
    lease, whose owner names a worker's host and process."""

    # A re-solve's moves against the published version (solver.resolve.Moved, with their causes);
    # a cause's `change` is the change's number (GET .../changes).
    moves: list[dict[str, Any]] | None = None


def shown(run: queries.RunRecord) -> Run:
    return Run(
        run.number, run.forum_id, run.status, run.options, run.cancel_requested, run.attempts, run.progress,
        run.error, run.created_at, run.started_at, run.finished_at, run.version, numbered_moves(run.moves),
    )  # fmt: skip


def summary(run: queries.RunRecord) -> RunSummary:
    return RunSummary(
        run.number, run.forum_id, run.status, run.options, run.cancel_requested, run.attempts, run.progress,
        run.error, run.created_at, run.started_at, run.finished_at, run.version,
    )  # fmt: skip


def numbered_moves(moves: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """The stored moves with each cause naming its change by the number `POST`/`GET .../changes`
    answer for it. A run stores a change's position among the forum's recorded changes, counted
    from 0 (api/worker.py), as every run stored before the API showed numbers did; changes are
    numbered 1, 2, 3 ... in the order recorded and never deleted, so the number is the position
    plus 1, and one conversion here serves runs old and new (no migration, no marker)."""
    if moves is None:
        return None
    return [
        {**move, "cause": {**move["cause"], "change": move["cause"]["change"] + 1}}
        if isinstance(move.get("cause"), dict) and isinstance(move["cause"].get("change"), int)
        else move
        for move in moves
    ]


def _options(body: RunIn) -> queries.RunOptions:
    time_limit = body.time_limit if body.time_limit is not None else (0.5 if body.resolve else 10.0)
    # Bounds keep one run from holding a worker (and its cores) for long.
    if not 0 < time_limit <= 3600:
        raise invalid("time_limit", "must be above 0 and at most 3600 seconds")
    if not 1 <= body.workers <= 16:
        raise invalid("workers", "must be between 1 and 16")
    if body.seed < 0:
        raise invalid("seed", "must be at least 0")
    return queries.RunOptions(time_limit, body.workers, body.seed, body.resolve)


@post(
    RUNS_PATH,
    tags=["runs"],
    summary="Queue a solve of the forum (organiser)",
    status_code=202,
    operation_class=OptionalBodyOperation,
    description="No body, or one of only white space, queues a solve with the defaults.",
)
async def start_run(
    request: Request[Any, Any, Any],
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    data: Annotated[RunIn | None, Body()] = None,
    idempotency_key: IdempotencyKey = None,
) -> Response[Run]:
    parsed = forum_organiser(caller, forum_id)
    options = _options(data or RunIn())

    async def work(connection: asyncpg.Connection) -> Reply[Run]:
        await load_forum(connection, parsed)
        if options.resolve is not None:
            await _check_resolve(connection, parsed, options.resolve)
        run = await queries.insert_run(connection, parsed, options)
        await record_change(connection, parsed, caller.actor, "create", "run", str(run.number), None, shown(run))
        return Reply(shown(run), 202, {"Location": f"{request.url.path}/{run.number}"})

    return await run_change(pool, request, caller, idempotency_key, work)


async def _check_resolve(connection: asyncpg.Connection, forum_id: Any, settings: queries.ResolveSettings) -> None:
    if await published_grid(connection, forum_id) is None:
        raise Conflict("nothing is published yet: a re-solve starts from the published version")
    problem = await changed_problem(connection, forum_id, datetime.now(UTC))
    known = {meeting.id for meeting in problem.meetings} if problem else set()
    raise_if(
        [
            FieldError(f"resolve.free[{index}]", f"unknown meeting {meeting!r}")
            for index, meeting in enumerate(settings.free)
            if meeting not in known
        ]
    )


async def _visible_run(
    connection: asyncpg.Connection, forum_id: Any, run_id: int, *, lock: bool = False
) -> queries.RunRecord:
    run = await queries.get_run(connection, forum_id, run_id, lock=lock)
    if run is None:
        raise missing("path:run_id", f"no run {run_id}")
    return run


@get(
    RUNS_PATH,
    tags=["runs"],
    summary="Every run, oldest first, by pages, without a re-solve's moves (organiser)",
    description="Each run as `GET .../runs/{run_id}` answers it, less `moves`. The last page's last run is"
    " the forum's latest.",
    response_headers=[LINK_HEADER],
)
async def list_runs(
    request: Request[Any, Any, Any],
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    after: AfterId = 0,
    limit: Limit = DEFAULT_LIMIT,
) -> Response[list[RunSummary]]:
    parsed = forum_organiser(caller, forum_id)
    async with pool.acquire() as connection:
        runs = await queries.list_runs(connection, parsed, after, fetched(limit))
    return page(request, [summary(run) for run in runs], limit, lambda run: run.id)


@get(RUN_PATH, tags=["runs"], summary="A run's status and latest progress (organiser)")
async def read_run(pool: PoolDep, caller: CallerDep, forum_id: ForumPath, run_id: RunPath) -> Response[Run]:
    parsed = forum_organiser(caller, forum_id)
    async with pool.acquire() as connection:
        run = await _visible_run(connection, parsed, run_id)
    return json_response(shown(run))


@post(
    f"{RUN_PATH}/cancel",
    tags=["runs"],
    summary="Cancel a queued or running run, keeping a running one's best grid (organiser)",
    description=CANCEL_DESCRIPTION,
    status_code=202,
)
async def cancel_run(
    request: Request[Any, Any, Any],
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    run_id: RunPath,
    idempotency_key: IdempotencyKey = None,
) -> Response[Run]:
    parsed = forum_organiser(caller, forum_id)

    async def work(connection: asyncpg.Connection) -> Reply[Run]:
        # Locked: a worker storing the run's grid right now ends it first, and this answers 409.
        before = await _visible_run(connection, parsed, run_id, lock=True)
        if before.status in queries.FINISHED:
            raise Conflict(f"the run has already ended ({before.status})")
        after = await queries.request_cancel(connection, parsed, run_id)
        assert after is not None
        await record_change(connection, parsed, caller.actor, "cancel", "run", str(run_id), shown(before), shown(after))
        return Reply(shown(after), 202)

    return await run_change(pool, request, caller, idempotency_key, work)


def _resumed_after(last_event_id: str | None) -> int:
    """The progress event a reconnecting client had last; 0 (from the start) when absent or not an id."""
    text = (last_event_id or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else 0


async def _events(
    pool: asyncpg.Pool, forum_id: Any, run_id: int, seen: int = 0
) -> AsyncIterator[ServerSentEventMessage]:
    """Each stored progress report after the first `seen`, then `end` with the final run once it has finished."""
    while True:
        async with pool.acquire() as connection:
            run = await queries.get_run(connection, forum_id, run_id)
            reports = [] if run is None else await queries.progress_after(connection, run.id, seen)
        for report_id, report in reports:
            seen = report_id
            yield ServerSentEventMessage(msgspec.json.encode(report).decode(), event="progress", id=str(report_id))
        if run is None or run.status in queries.FINISHED:
            final = msgspec.json.encode(shown(run)).decode() if run is not None else "null"
            yield ServerSentEventMessage(final, event="end")
            return
        await asyncio.sleep(POLL_SECONDS)


@get(
    f"{RUN_PATH}/events",
    tags=["runs"],
    summary="Progress as Server-Sent Events until the run ends (organiser)",
    responses=event_stream("`progress` events (id: the report's number in the run), then one `end` with the run"),
)
async def run_events(
    pool: PoolDep, caller: CallerDep, forum_id: ForumPath, run_id: RunPath, last_event_id: LastEventId = None
) -> ServerSentEvent:
    parsed = forum_organiser(caller, forum_id)
    async with pool.acquire() as connection:
        await _visible_run(connection, parsed, run_id)  # a 404 before the stream starts
    return ServerSentEvent(_events(pool, parsed, run_id, _resumed_after(last_event_id)))


ROUTES = [start_run, list_runs, read_run, cancel_run, run_events]
