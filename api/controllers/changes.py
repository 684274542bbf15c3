"""Last-minute changes (organiser): record a change and learn what it breaks;
fit one meeting into the published grid and apply the option chosen.

A change is recorded, never applied to the stored forum data: every solve sees
the stored forum with the recorded changes applied in order (db/changes.py).
Participants are named as in the solver's problem, "delegation/participant".
A new meeting is not a change here but a request (the requests flow); an
accepted request waits for a placement, which GET fit proposes.
"""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
import msgspec
from litestar import Request, Response, get, post
from litestar.params import Body, QueryParameter

from api.controllers.common import CallerDep, IdempotencyKey, PoolDep, load_forum, raise_if, zone_of
from api.controllers.paths import ForumPath
from api.errors import Conflict, FieldError, missing
from api.guards import forum_organiser
from api.http import Reply, json_response, run_change
from api.openapi import MORE_ERRORS
from api.paging import DEFAULT_LIMIT, LINK_HEADER, AfterNumber, Limit, fetched, page
from api.worker import stored_placements
from db.changes import Published, published_grid
from db.forum_state import ForumState, after_change, forum_state
from db.queries import changes as queries
from db.queries.audit import record_change
from db.queries.revisions import current_revision, derived_revision, version_revision
from db.queries.schedules import insert_placements, insert_version
from solver.changes import Change, MeetingRequested, broken_by, impacts_and_broken
from solver.check import ProblemError
from solver.diff import Move, diff_schedules
from solver.fit import FitError, FitOption, apply_fit, fit
from solver.model import Problem
from solver.result import Placement, Schedule
from solver.validate import validate

CHANGES_PATH = "/forums/{forum_id:str}/changes"
FIT_PATH = "/forums/{forum_id:str}/fit"


class FitIn(msgspec.Struct, forbid_unknown_fields=True):
    meeting: Annotated[str, msgspec.Meta(description="the meeting's id, as GET fit was asked")]
    option: Annotated[FitOption, msgspec.Meta(description="one option as GET fit answered it")]


class FitApplied(msgspec.Struct):
    version: int  # the new (unpublished) schedule version
    moved: list[Move]  # meetings of the published grid the option moves
    placed: str  # the meeting placed


# The field of each kind of change that the problem checks judge (a window must end after it starts...).
CHECKED_FIELD = {
    "arrival_changed": "arrival",
    "departure_changed": "departure",
    "participant_blocked": "window",
    "room_unavailable": "window",
}


def _body_errors(error: ProblemError, index: int, body_field: str = "", checked: str = "meeting") -> list[FieldError]:
    """Findings about `changes[index]` as paths into the request body; `checked` names
    the field behind a finding of the problem checks (a request, a window)."""
    prefix = f"changes[{index}]"
    found = []
    for finding in error.findings:
        path = finding.path
        if path.startswith(prefix + "."):
            found.append(FieldError(path.removeprefix(prefix + "."), finding.message))
        elif path.startswith(prefix + ": "):  # the changed forum fails the problem checks
            found.append(FieldError(checked, f"{path.removeprefix(prefix + ': ')}: {finding.message}"))
        else:
            found.append(FieldError(body_field or path, finding.message))
    return found


def _kind(change: Change) -> str:
    return str(type(change).__struct_config__.tag)


_PUBLISHED = "published"  # the published grid's placements, as `published_grid` reads them


async def _state_now(connection: asyncpg.Connection, forum_id: Any) -> ForumState:
    await load_forum(connection, forum_id)
    state = await forum_state(connection, forum_id)
    if state is None:
        raise missing("path:forum_id", f"no forum {forum_id}")
    return state


def _broken(state: ForumState, published: Published | None) -> list[str] | None:
    """`broken_by` of the published grid in the forum as it is now; None with nothing published."""
    if published is None:
        return None
    placed = published.schedule.placed
    return state.derived(_PUBLISHED, published.version_id, lambda: broken_by(state.changed, placed))


@post(CHANGES_PATH, tags=["changes"], summary="Record a last-minute change; answers what it breaks (organiser)")
async def record_forum_change(
    request: Request[Any, Any, Any],
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    data: Annotated[Change, Body(description="one change, tagged by `kind` (docs/resolve.md)")],
    idempotency_key: IdempotencyKey = None,
) -> Response[queries.ChangeRecord]:
    parsed = forum_organiser(caller, forum_id)
    if isinstance(data, MeetingRequested):
        # Placements name stored requests; a request comes through the requests flow.
        raise_if([FieldError("kind", "a new meeting is a request (POST /forums/{id}/requests); place it with GET fit")])

    async def work(connection: asyncpg.Connection) -> Reply[queries.ChangeRecord]:
        # The forum row lock first, so that a change recorded (or a version published) meanwhile
        # is part of what this one is checked against.
        await queries.lock_forum(connection, parsed)
        state = await _state_now(connection, parsed)
        published = await published_grid(connection, parsed)
        grid = published.schedule if published else Schedule(status="FEASIBLE", placed=[])
        # Earlier changes apply first, so this one is checked against the forum as it now is; what
        # the published grid breaks there was kept by the change before this one, or is now.
        before = _broken(state, published)
        try:
            changed, found, after = impacts_and_broken(state.changed, grid, [data], before)
        except ProblemError as error:
            raise_if(_body_errors(error, 0, checked=CHECKED_FIELD.get(_kind(data), "meeting")))
            raise
        following = after_change(state, data, changed)
        if published is not None:
            following.remember(_PUBLISHED, published.version_id, after)
        checked = published.number if published else None
        record = await queries.insert_change(connection, parsed, data, found[0], checked, caller.actor)
        await record_change(connection, parsed, caller.actor, "create", "change", str(record.number), None, record)
        return Reply(record, 201, {"Location": f"{request.url.path}/{record.number}"})

    return await run_change(pool, request, caller, idempotency_key, work)


@get(
    CHANGES_PATH,
    tags=["changes"],
    summary="Every recorded change, in order, with what each broke, by pages (organiser)",
    response_headers=[LINK_HEADER],
)
async def list_forum_changes(
    request: Request[Any, Any, Any],
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    after: AfterNumber = 0,
    limit: Limit = DEFAULT_LIMIT,
) -> Response[list[queries.ChangeRecord]]:
    parsed = forum_organiser(caller, forum_id)
    async with pool.acquire() as connection:
        await load_forum(connection, parsed)
        found = await queries.list_changes(connection, parsed, after, fetched(limit))
    return page(request, found, limit, lambda change: change.number)


async def _fit_context(connection: asyncpg.Connection, forum_id: Any) -> tuple[Problem, Published]:
    state = await _state_now(connection, forum_id)
    published = await published_grid(connection, forum_id)
    if published is None:
        raise Conflict("nothing is published yet: fit places a meeting into the published grid")
    return state.changed, published


@get(
    FIT_PATH,
    tags=["changes"],
    summary="The best placements of one meeting in the published grid (organiser)",
    opt={MORE_ERRORS: (409, 422)},
)
async def fit_meeting(
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    meeting: Annotated[str, QueryParameter(name="meeting", description="the meeting (request id) to place")],
    k: Annotated[int, QueryParameter(name="k", ge=1, le=50, description="how many options")] = 5,
    moves: Annotated[bool, QueryParameter(name="moves", description="include options moving one meeting")] = True,
) -> Response[list[FitOption]]:
    parsed = forum_organiser(caller, forum_id)
    async with pool.acquire() as connection:
        problem, published = await _fit_context(connection, parsed)
        zone = zone_of((await load_forum(connection, parsed)).item)
    try:
        options = fit(problem, published.schedule, meeting, k, with_moves=moves)
    except ProblemError as error:
        raise_if(_body_errors(error, 0, "query:meeting"))
        raise
    return json_response([_in_zone(option, zone) for option in options])


def _in_zone(option: FitOption, zone: Any) -> FitOption:
    return msgspec.structs.replace(option, start=option.start.astimezone(zone), end=option.end.astimezone(zone))


def _local(placed: list[Placement], zone: Any) -> list[Placement]:
    """Placements as every other answer gives them: in the forum's zone, without the slot index.
    The published grid comes back from the database in UTC, the applied option in the forum's zone."""
    return [Placement(p.meeting, p.start.astimezone(zone), p.end.astimezone(zone), p.room) for p in placed]


@post(
    f"{FIT_PATH}/apply",
    tags=["changes"],
    summary="Apply one fit option: a new schedule version, the published one untouched (organiser)",
    status_code=201,
)
async def apply_fit_option(
    request: Request[Any, Any, Any],
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    data: Annotated[FitIn, Body(description="the meeting and one option as GET fit answered it")],
    idempotency_key: IdempotencyKey = None,
) -> Response[FitApplied]:
    parsed = forum_organiser(caller, forum_id)

    async def work(connection: asyncpg.Connection) -> Reply[FitApplied]:
        # The forum lock numbers this version after any a run or a move is storing, and keeps
        # the published grid the option is checked against from being replaced meanwhile.
        await queries.lock_forum(connection, parsed)
        current = await current_revision(connection, parsed)  # before the problem: a later edit counts as unseen
        problem, published = await _fit_context(connection, parsed)
        zone = zone_of((await load_forum(connection, parsed)).item)
        try:
            schedule = apply_fit(problem, published.schedule, data.meeting, data.option)
        except ProblemError as error:
            raise_if(_body_errors(error, 0, "meeting"))
            raise
        except FitError as error:
            raise Conflict(f"the option no longer fits the published grid: {error}") from None
        source = await version_revision(connection, parsed, published.number)
        revision = derived_revision(current, source, validate(problem, schedule).ok)
        version_id = await insert_version(
            connection, parsed, schedule, derived_from=published.number, forum_revision=revision
        )
        await insert_placements(connection, parsed, version_id, stored_placements(problem, schedule, zone))
        number = await connection.fetchval("SELECT number FROM schedule_versions WHERE id = $1", version_id)
        diff = diff_schedules(_local(published.schedule.placed, zone), _local(schedule.placed, zone))
        body = FitApplied(int(number), diff.moved, data.meeting)
        await record_change(connection, parsed, caller.actor, "create", "schedule", str(number), None, body)
        return Reply(body, 201, {"Location": f"/forums/{forum_id}/schedules/{number}"})

    return await run_change(pool, request, caller, idempotency_key, work)


ROUTES = [record_forum_change, list_forum_changes, fit_meeting, apply_fit_option]
