"""Delegations (organiser) and their participants (the delegation itself, or the organiser)."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, cast

import asyncpg
import msgspec
from litestar import Request, Response, delete, get, post, put
from litestar.params import Body

from api.controllers import items as handlers
from api.controllers.common import (
    CallerDep,
    IdempotencyKey,
    IfMatch,
    IfNoneMatch,
    PoolDep,
    load_forum,
    order_errors,
    raise_if,
    window_errors,
    zone_of,
)
from api.controllers.paths import DelegationPath, ForumPath, ParticipantPath
from api.errors import Conflict, FieldError, Forbidden, missing
from api.guards import (
    delegation_organiser,
    delegation_reader,
    forum_member,
    forum_organiser,
    hash_token,
    new_token,
    participant_editor,
)
from api.http import Reply, etag, expected_version, json_response, none_match, run_change
from db.queries import items
from db.queries.audit import record_change
from db.queries.delegations import DELEGATIONS, PARTICIPANTS, set_token_hash
from db.records import DelegationCreated, DelegationRecord, ParticipantRecord, to_forum_time

DELEGATIONS_PATH = "/forums/{forum_id:str}/delegations"
DELEGATION_PATH = f"{DELEGATIONS_PATH}/{{delegation_id:str}}"
PARTICIPANTS_PATH = f"{DELEGATION_PATH}/participants"
PARTICIPANT_PATH = f"{PARTICIPANTS_PATH}/{{participant_id:str}}"
DIRECTORY_PATH = "/forums/{forum_id:str}/directory"


@get(DELEGATIONS_PATH, tags=["delegations"], summary="List delegations (organiser)")
async def list_delegations(pool: PoolDep, caller: CallerDep, forum_id: ForumPath) -> Response[list[DelegationRecord]]:
    return await handlers.list_response(pool, DELEGATIONS, (forum_organiser(caller, forum_id),))


class DirectoryEntry(msgspec.Struct, omit_defaults=False):
    """A delegation as every member of its forum may see it. Its own struct, not DelegationRecord:
    a field added to a delegation for the organiser is not shown to every delegation by the way."""

    id: Annotated[str, msgspec.Meta(description="what a request's `parties` names it by")]
    name: str
    country: Annotated[str, msgspec.Meta(description="the code shown in grids and calendars (SG)")]


# Read afresh by a page that polls it: a cache keeps it only to ask again with If-None-Match.
_DIRECTORY_CACHE = {"Cache-Control": "private, no-cache"}


@get(
    DIRECTORY_PATH,
    tags=["delegations"],
    summary="The forum's delegations, by id, name and country (the organiser, and every delegation unless the"
    " forum's directory setting is organiser: 403); 304 to If-None-Match while unchanged",
)
async def read_directory(
    pool: PoolDep, caller: CallerDep, forum_id: ForumPath, if_none_match: IfNoneMatch = None
) -> Response[list[DirectoryEntry]]:
    """Whom a delegation may ask for a meeting. At a defence forum the list of those attending is
    not secret; a delegation's people, their times and its requests are (never here). Whole, not
    paged: one row a delegation, about 190 at the largest forum (UNGA, some 12 KB), in one
    statement; a page asks for it once and then with If-None-Match. The ETag is a digest of the
    answer: it moves when, and only when, the directory does.

    A forum may keep the list private until it opens (`directory: "organiser"`, PATCH /forums/{id}):
    a delegation is then answered 403, not 404 (the route and the forum are its own; nothing here
    is another delegation's) nor an empty list (which would say the forum has no one else, and a
    page would offer nothing without saying why). The refusal tells only what GET /forums/{id}
    shows every member, the setting; it is checked before any 304, so a page holding the list is
    told it is private now."""
    parsed = forum_member(caller, forum_id)
    async with pool.acquire() as connection:
        if caller.kind != "organiser" and await _directory_private(connection, parsed):
            message = "the organiser keeps the forum's list of delegations private: ask for a delegation by its id"
            raise Forbidden(f"directory: {message}", [FieldError("directory", message)])
        stored = await items.list_items(connection, DELEGATIONS, (parsed,))
    shown = [DirectoryEntry(entry.item.id, entry.item.name, entry.item.country) for entry in stored]
    tag = f'"{hashlib.sha256(msgspec.json.encode(shown)).hexdigest()[:32]}"'
    if none_match(if_none_match, tag):
        return cast(
            "Response[list[DirectoryEntry]]",
            Response(content=b"", status_code=304, headers={"ETag": tag, **_DIRECTORY_CACHE}),
        )
    return json_response(shown, headers={"ETag": tag, **_DIRECTORY_CACHE})


async def _directory_private(connection: asyncpg.Connection, forum_id: Any) -> bool:
    return bool(await connection.fetchval("SELECT directory = 'organiser' FROM forums WHERE id = $1", forum_id))


@post(DELEGATIONS_PATH, tags=["delegations"], summary="Add a delegation; answers its token once (organiser)")
async def create_delegation(
    request: Request[Any, Any, Any],
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    data: Annotated[DelegationRecord, Body()],
    idempotency_key: IdempotencyKey = None,
) -> Response[DelegationCreated]:
    parsed = forum_organiser(caller, forum_id)

    async def work(connection: asyncpg.Connection) -> Reply[DelegationCreated]:
        token = new_token()
        stored = await items.insert_item(connection, DELEGATIONS, (parsed,), data, {"token_hash": hash_token(token)})
        if stored is None:
            raise Conflict(f"delegation {data.id} already exists", [FieldError("id", "already exists")])
        await record_change(connection, parsed, caller.actor, "create", "delegation", data.id, None, stored.item)
        headers = {"Location": f"{request.url.path}/{data.id}", "ETag": etag(stored.version)}
        body = DelegationCreated(stored.item, token)
        return Reply(body, 201, headers, replay_body=DelegationCreated(stored.item, None))

    return await run_change(pool, request, caller, idempotency_key, work)


@get(DELEGATION_PATH, tags=["delegations"], summary="Read a delegation (organiser, or the delegation itself)")
async def read_delegation(
    pool: PoolDep, caller: CallerDep, forum_id: ForumPath, delegation_id: DelegationPath
) -> Response[DelegationRecord]:
    parsed = delegation_reader(caller, forum_id, delegation_id)
    return await handlers.read_response(pool, DELEGATIONS, (parsed,), delegation_id)


@put(DELEGATION_PATH, tags=["delegations"], summary="Replace a delegation's name and country (organiser)")
async def replace_delegation(
    request: Request[Any, Any, Any],
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    delegation_id: DelegationPath,
    data: Annotated[DelegationRecord, Body()],
    if_match: IfMatch = None,
) -> Response[DelegationRecord]:
    parsed = delegation_organiser(caller, forum_id, delegation_id)
    expected = expected_version(if_match)

    async def work(connection: asyncpg.Connection) -> Reply[DelegationRecord]:
        return await handlers.replace(connection, DELEGATIONS, (parsed,), delegation_id, data, expected, caller)

    return await run_change(pool, request, caller, None, work)


async def _refuse_if_in_sessions(
    connection: asyncpg.Connection, forum_id: Any, delegation_id: str, participant_id: str | None
) -> None:
    """409 while a programme session lists the participant (any of the delegation's, for
    None). Sessions name people as "delegation/participant" in a JSON list, which no
    foreign key guards: the delete went through, and every solve then failed on the
    session's unknown participant."""
    rows = await connection.fetch(
        "SELECT DISTINCT s.id FROM programme_sessions s, jsonb_array_elements_text(s.participants) AS person"
        " WHERE s.forum_id = $1 AND split_part(person, '/', 1) = $2"
        " AND ($3::text IS NULL OR split_part(person, '/', 2) = $3) ORDER BY s.id",
        forum_id,
        delegation_id,
        participant_id,
    )
    if rows:
        who = f"participant {delegation_id}/{participant_id}" if participant_id else f"delegation {delegation_id}"
        sessions = ", ".join(row["id"] for row in rows)
        field = "path:participant_id" if participant_id else "path:delegation_id"
        message = f"listed by programme session {sessions}: the organiser takes them off it first"
        raise Conflict(f"{who} is {message}", [FieldError(field, message)])


@delete(DELEGATION_PATH, tags=["delegations"], summary="Delete a delegation, its participants and requests")
async def delete_delegation(
    request: Request[Any, Any, Any],
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    delegation_id: DelegationPath,
    if_match: IfMatch = None,
) -> None:
    parsed = delegation_organiser(caller, forum_id, delegation_id)
    expected = expected_version(if_match)

    async def work(connection: asyncpg.Connection) -> Reply[None]:
        await _refuse_if_in_sessions(connection, parsed, delegation_id, None)
        return await handlers.remove(connection, DELEGATIONS, (parsed,), delegation_id, expected, caller)

    await run_change(pool, request, caller, None, work)


@post(
    f"{DELEGATION_PATH}/token",
    tags=["delegations"],
    summary="Issue a new token; the old one, its calendar link and its webhooks stop working",
)
async def rotate_token(
    request: Request[Any, Any, Any],
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    delegation_id: DelegationPath,
    idempotency_key: IdempotencyKey = None,
) -> Response[DelegationCreated]:
    parsed = delegation_organiser(caller, forum_id, delegation_id)

    async def work(connection: asyncpg.Connection) -> Reply[DelegationCreated]:
        token = new_token()
        if not await set_token_hash(connection, parsed, delegation_id, hash_token(token)):
            raise missing("path:delegation_id", f"no delegation {delegation_id}")
        stored = await items.get_item(connection, DELEGATIONS, (parsed,), delegation_id)
        assert stored is not None
        await record_change(connection, parsed, caller.actor, "rotate_token", "delegation", delegation_id)
        body = DelegationCreated(stored.item, token)
        return Reply(body, 201, {"ETag": etag(stored.version)}, replay_body=DelegationCreated(stored.item, None))

    return await run_change(pool, request, caller, idempotency_key, work)


# ---- participants


async def _existing_delegation(connection: asyncpg.Connection, forum_id: Any, delegation_id: str) -> None:
    if await items.get_item(connection, DELEGATIONS, (forum_id,), delegation_id) is None:
        raise missing("path:delegation_id", f"no delegation {delegation_id}")


async def _prepared(connection: asyncpg.Connection, forum_id: Any, body: ParticipantRecord) -> ParticipantRecord:
    forum = await load_forum(connection, forum_id)
    record = to_forum_time(body, zone_of(forum.item))
    raise_if(
        [
            *window_errors("blocked", record.blocked),
            *order_errors("departure", record.arrival, record.departure, "arrival"),
        ]
    )
    return record


@get(
    PARTICIPANTS_PATH,
    tags=["participants"],
    summary="List a delegation's participants; 304 to If-None-Match while unchanged",
)
async def list_participants(
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    delegation_id: DelegationPath,
    if_none_match: IfNoneMatch = None,
) -> Response[list[ParticipantRecord]]:
    """The ETag is a digest of the answer (an open agenda page polls it): it moves when, and only
    when, this list does, and tells nothing of other delegations' edits, as the forum's revision would."""
    parsed = delegation_reader(caller, forum_id, delegation_id)
    async with pool.acquire() as connection:
        await _existing_delegation(connection, parsed, delegation_id)
        stored = await items.list_items(connection, PARTICIPANTS, (parsed, delegation_id))
    shown = [entry.item for entry in stored]
    tag = f'"{hashlib.sha256(msgspec.json.encode(shown)).hexdigest()[:32]}"'
    cache = {"Cache-Control": "private, no-cache"}
    if none_match(if_none_match, tag):
        return cast(
            "Response[list[ParticipantRecord]]", Response(content=b"", status_code=304, headers={"ETag": tag, **cache})
        )
    return json_response(shown, headers={"ETag": tag, **cache})


@post(PARTICIPANTS_PATH, tags=["participants"], summary="Add a participant (the delegation itself, or the organiser)")
async def create_participant(
    request: Request[Any, Any, Any],
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    delegation_id: DelegationPath,
    data: Annotated[ParticipantRecord, Body()],
    idempotency_key: IdempotencyKey = None,
) -> Response[ParticipantRecord]:
    parsed = participant_editor(caller, forum_id, delegation_id)

    async def work(connection: asyncpg.Connection) -> Reply[ParticipantRecord]:
        record = await _prepared(connection, parsed, data)
        scope = (parsed, delegation_id)
        return await handlers.create(connection, PARTICIPANTS, scope, record, caller, request.url.path)

    return await run_change(pool, request, caller, idempotency_key, work)


@get(PARTICIPANT_PATH, tags=["participants"], summary="Read a participant (ETag)")
async def read_participant(
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    delegation_id: DelegationPath,
    participant_id: ParticipantPath,
) -> Response[ParticipantRecord]:
    parsed = delegation_reader(caller, forum_id, delegation_id)
    return await handlers.read_response(pool, PARTICIPANTS, (parsed, delegation_id), participant_id)


@put(PARTICIPANT_PATH, tags=["participants"], summary="Replace a participant's details and availability (If-Match)")
async def replace_participant(
    request: Request[Any, Any, Any],
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    delegation_id: DelegationPath,
    participant_id: ParticipantPath,
    data: Annotated[ParticipantRecord, Body()],
    if_match: IfMatch = None,
) -> Response[ParticipantRecord]:
    parsed = participant_editor(caller, forum_id, delegation_id)
    expected = expected_version(if_match)

    async def work(connection: asyncpg.Connection) -> Reply[ParticipantRecord]:
        record = await _prepared(connection, parsed, data)
        scope = (parsed, delegation_id)
        return await handlers.replace(connection, PARTICIPANTS, scope, participant_id, record, expected, caller)

    return await run_change(pool, request, caller, None, work)


@delete(PARTICIPANT_PATH, tags=["participants"], summary="Delete a participant (If-Match)")
async def delete_participant(
    request: Request[Any, Any, Any],
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    delegation_id: DelegationPath,
    participant_id: ParticipantPath,
    if_match: IfMatch = None,
) -> None:
    parsed = participant_editor(caller, forum_id, delegation_id)
    expected = expected_version(if_match)

    async def work(connection: asyncpg.Connection) -> Reply[None]:
        scope = (parsed, delegation_id)
        await _refuse_if_in_sessions(connection, parsed, delegation_id, participant_id)
        return await handlers.remove(connection, PARTICIPANTS, scope, participant_id, expected, caller)

    await run_change(pool, request, caller, None, work)


ROUTES = [
    list_delegations,
    read_directory,
    create_delegation,
    read_delegation,
    replace_delegation,
    delete_delegation,
    rotate_token,
    list_participants,
    create_participant,
    read_participant,
    replace_participant,
    delete_participant,
]
