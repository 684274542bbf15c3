"""Forums: created with the server's admin token, then run by their organiser."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import asyncpg
import msgspec
from litestar import Request, Response, get, patch, post
from litestar.params import Body

from api import request_notices
from api.controllers.common import CallerDep, IdempotencyKey, IfMatch, PoolDep, load_forum, raise_if
from api.controllers.paths import ForumPath
from api.errors import Conflict, FieldError
from api.guards import forum_member, forum_organiser, hash_token, new_token, require_admin
from api.http import Reply, check_version, etag, expected_version, json_response, run_change
from db.changes import apply_recorded, stored_and_changes
from db.queries import forums
from db.queries.audit import record_change
from db.records import ForumCreated, ForumPatch, ForumRecord, ForumSettings
from solver.check import Finding, check_problem
from solver.model import Forum, Problem


def checked_settings(settings: ForumSettings) -> ForumSettings:
    """Settings the solver accepts, with a naive deadline read as forum-local time."""
    forum = Forum(settings.name, settings.time_zone, settings.slot_minutes, settings.days)
    findings = check_problem(Problem(forum=forum, rooms=[], delegations=[], meetings=[]))
    # the empty rooms and meetings draw findings of their own; only the forum's count here
    raise_if(
        [
            FieldError(finding.path.removeprefix("forum."), finding.message)
            for finding in findings
            if finding.path.startswith("forum")
        ]
    )
    deadline = settings.request_deadline
    if deadline is not None and deadline.tzinfo is None:
        deadline = deadline.replace(tzinfo=ZoneInfo(settings.time_zone))
    return msgspec.structs.replace(settings, request_deadline=deadline)


@post("/forums", tags=["forums"], summary="Create a forum (admin token); answers its organiser token once")
async def create_forum(
    request: Request[Any, Any, Any],
    pool: PoolDep,
    caller: CallerDep,
    data: Annotated[ForumSettings, Body()],
    idempotency_key: IdempotencyKey = None,
) -> Response[ForumCreated]:
    require_admin(caller)
    settings = checked_settings(data)

    async def work(connection: asyncpg.Connection) -> Reply[ForumCreated]:
        token = new_token()
        stored = await forums.insert_forum(connection, settings, hash_token(token))
        await record_change(
            connection, stored.item.id, caller.actor, "create", "forum", stored.item.id, None, stored.item
        )
        headers = {"Location": f"/forums/{stored.item.id}", "ETag": etag(stored.version)}
        return Reply(ForumCreated(stored.item, token), 201, headers, replay_body=ForumCreated(stored.item, None))

    return await run_change(pool, request, caller, idempotency_key, work)


async def _refuse_breaking_stored_data(connection: asyncpg.Connection, forum_id: Any, settings: ForumSettings) -> None:
    """409 when the new settings would make stored data invalid: a slot of 7 minutes under
    requests of 30, a day dropped under a pinned meeting. They used to be stored, and every
    solve then failed on the forum until the setting was changed back."""
    found = await stored_and_changes(connection, forum_id, datetime.now(UTC))
    assert found is not None  # the forum was just read
    problem, changes = found
    forum = Forum(settings.name, settings.time_zone, settings.slot_minutes, settings.days)
    before = set(check_problem(apply_recorded(problem, changes)))
    changed = apply_recorded(msgspec.structs.replace(problem, forum=forum), changes)
    broken = [finding for finding in check_problem(changed) if finding not in before]
    if broken:
        errors = [FieldError(finding.path, _named(changed, finding)) for finding in broken]
        raise Conflict(
            "the new settings would make stored data invalid: "
            + "; ".join(f"{error.field}: {error.message}" for error in errors),
            errors,
        )


_INDEXED = re.compile(r"^(?P<collection>meetings|sessions|rooms|delegations)\[(?P<index>\d+)\]")
_NOUNS = {"meetings": "request", "sessions": "session", "rooms": "room", "delegations": "delegation"}


def _named(problem: Problem, finding: Finding) -> str:
    """The finding's message, naming the stored item its path points at by index."""
    match = _INDEXED.match(finding.path)
    if match is None:
        return finding.message
    item = getattr(problem, match["collection"])[int(match["index"])]
    return f"{finding.message} ({_NOUNS[match['collection']]} {item.id})"


@get("/forums/{forum_id:str}", tags=["forums"], summary="Read a forum (its organiser and delegations)")
async def read_forum(pool: PoolDep, caller: CallerDep, forum_id: ForumPath) -> Response[ForumRecord]:
    parsed = forum_member(caller, forum_id)
    async with pool.acquire() as connection:
        stored = await load_forum(connection, parsed)
    return json_response(stored.item, headers={"ETag": etag(stored.version)})


async def _refuse_slots_requests_do_not_fill(connection: asyncpg.Connection, forum_id: Any, minutes: int) -> None:
    """409 when a request still open lasts no whole number of the new slots: the forum would
    accept the change, then every solve, change and fit would fail on the request's duration."""
    rows = await connection.fetch(
        "SELECT id, duration_minutes FROM meeting_requests"
        " WHERE forum_id = $1 AND withdrawn_at IS NULL AND duration_minutes % $2 <> 0 ORDER BY id LIMIT 6",
        forum_id,
        minutes,
    )
    if rows:
        named = ", ".join(f"{row['id']} ({row['duration_minutes']} min)" for row in rows[:5])
        more = " and others" if len(rows) > 5 else ""
        raise Conflict(
            f"requests last no whole number of {minutes}-minute slots: {named}{more}; change or withdraw them first",
            [FieldError("slot_minutes", f"{named}{more} do not fill whole {minutes}-minute slots")],
        )


@patch("/forums/{forum_id:str}", tags=["forums"], summary="Change a forum's settings (organiser, If-Match)")
async def change_forum(
    request: Request[Any, Any, Any],
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    data: Annotated[ForumPatch, Body()],
    if_match: IfMatch = None,
) -> Response[ForumRecord]:
    parsed = forum_organiser(caller, forum_id)
    expected = expected_version(if_match)

    async def work(connection: asyncpg.Connection) -> Reply[ForumRecord]:
        current = await forums.get_forum(connection, parsed, for_update=True)
        assert current is not None  # the caller's token belongs to it
        check_version(current.version, expected)
        changes = {name: value for name, value in msgspec.structs.asdict(data).items() if value is not msgspec.UNSET}
        merged = {**msgspec.structs.asdict(current.item), **changes}
        del merged["id"], merged["closed_at"]
        settings = checked_settings(ForumSettings(**merged))
        grid = ("time_zone", "slot_minutes", "days")
        if any(getattr(settings, name) != getattr(current.item, name) for name in grid):
            await _refuse_breaking_stored_data(connection, parsed, settings)
        if settings.slot_minutes != current.item.slot_minutes:  # requests not accepted yet, too
            await _refuse_slots_requests_do_not_fill(connection, parsed, settings.slot_minutes)
        stored = await forums.update_forum(connection, parsed, settings)
        if settings.request_deadline != current.item.request_deadline:  # requests expire or open again
            await request_notices.deadline_moved(
                connection, parsed, current.item.request_deadline, settings.request_deadline, datetime.now(UTC)
            )
        await record_change(connection, parsed, caller.actor, "update", "forum", forum_id, current.item, stored.item)
        return Reply(stored.item, headers={"ETag": etag(stored.version)})

    return await run_change(pool, request, caller, None, work)
