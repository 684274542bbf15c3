"""Organiser CRUD for what surrounds the meetings: programme sessions, venues,
travel times, rooms and shared resources. One set of five handlers per family,
built by `family_routes`.

No `from __future__ import annotations` here: the handlers are built in a
function, and Litestar reads their annotations, which must be real types.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import asyncpg
import msgspec
from litestar import Request, Response, delete, get, post, put
from litestar.handlers import HTTPRouteHandler
from litestar.params import Body

from api.controllers import items as handlers
from api.controllers.common import (
    CallerDep,
    IdempotencyKey,
    IfMatch,
    PoolDep,
    load_forum,
    raise_if,
    window_errors,
    zone_of,
)
from api.controllers.paths import ForumPath, ItemPath
from api.errors import FieldError
from api.guards import forum_organiser
from api.http import Reply, expected_version, run_change
from db.queries.items import Family
from db.queries.setup import RESOURCES, ROOMS, SESSIONS, TRAVEL, VENUES, travel_id
from db.records import ResourceRecord, RoomRecord, SessionRecord, TravelIn, TravelRecord, VenueRecord, to_forum_time

R = TypeVar("R", bound=msgspec.Struct)  # a family's record

# (connection, forum id, record) -> field errors: checks the body's shape cannot express
Check = Callable[[asyncpg.Connection, Any, R], Awaitable[list[FieldError]]]


async def _no_check(connection: asyncpg.Connection, forum_id: Any, record: Any) -> list[FieldError]:
    return []


async def _check_session(connection: asyncpg.Connection, forum_id: Any, record: SessionRecord) -> list[FieldError]:
    """As solver/check.py checks a problem's sessions: a session naming a participant that does not
    exist, or listing nobody, was stored, and every solve of the forum then failed on it."""
    errors = [FieldError("end", "must be after start")] if record.end <= record.start else []
    if record.scope == "listed" and not record.participants:
        errors.append(FieldError("participants", "scope 'listed' needs participants"))
    known = {
        row["person"]
        for row in await connection.fetch(
            "SELECT delegation_id || '/' || id AS person FROM participants"
            " WHERE forum_id = $1 AND delegation_id || '/' || id = ANY($2::text[])",
            forum_id,
            record.participants,
        )
    }
    errors.extend(
        FieldError(
            f"participants[{index}]", f"no participant {person!r} (write delegation/participant, e.g. 'SGP/min')"
        )
        for index, person in enumerate(record.participants)
        if person not in known
    )
    return errors


async def _check_room(connection: asyncpg.Connection, forum_id: Any, record: RoomRecord) -> list[FieldError]:
    errors = window_errors("unavailable", record.unavailable)
    if record.venue is not None and not await _venue_exists(connection, forum_id, record.venue):
        errors.append(FieldError("venue", f"no venue {record.venue}"))
    return errors


async def _check_travel(connection: asyncpg.Connection, forum_id: Any, record: TravelRecord) -> list[FieldError]:
    if record.between[0] == record.between[1]:
        return [FieldError("between", "names the same venue twice")]
    return [
        FieldError(f"between[{index}]", f"no venue {venue}")
        for index, venue in enumerate(record.between)
        if not await _venue_exists(connection, forum_id, venue)
    ]


async def _venue_exists(connection: asyncpg.Connection, forum_id: Any, venue: str) -> bool:
    return bool(await connection.fetchval("SELECT 1 FROM venues WHERE forum_id = $1 AND id = $2", forum_id, venue))


def _travel_record(body: TravelIn) -> TravelRecord:
    low, high = sorted(body.between)
    return TravelRecord(travel_id(low, high), (low, high), body.minutes)


def family_routes(
    segment: str,
    family: Family[R],
    body_type: type[msgspec.Struct],
    check: Check[R] = _no_check,
    to_record: Callable[[Any], R] = lambda body: body,
) -> list[HTTPRouteHandler]:
    """List, create, read, replace and delete handlers for /forums/{forum_id}/{segment}.

    Litestar reads the handlers' annotations at run time, so they name `record_type` (the
    family's record, a value here); mypy checks the work against `R`, the same type."""
    collection = f"/forums/{{forum_id:str}}/{segment}"
    member = f"{collection}/{{item_id:str}}"
    record_type = family.record
    tags = [segment]

    async def prepared(connection: asyncpg.Connection, forum_id: Any, body: msgspec.Struct) -> R:
        forum = await load_forum(connection, forum_id)
        record = to_forum_time(to_record(body), zone_of(forum.item))
        raise_if(await check(connection, forum_id, record))
        return record

    @get(collection, operation_id=f"list_{segment}", tags=tags, summary=f"List the forum's {segment} (organiser)")
    async def list_items(pool: PoolDep, caller: CallerDep, forum_id: ForumPath) -> Response[list[record_type]]:  # type: ignore[valid-type]
        return await handlers.list_response(pool, family, (forum_organiser(caller, forum_id),))

    @post(collection, operation_id=f"create_{family.entity}", tags=tags, summary=f"Add a {family.entity}")
    async def create_item(
        request: Request[Any, Any, Any],
        pool: PoolDep,
        caller: CallerDep,
        forum_id: ForumPath,
        data: Annotated[body_type, Body()],  # type: ignore[valid-type]
        idempotency_key: IdempotencyKey = None,
    ) -> Response[record_type]:  # type: ignore[valid-type]
        parsed = forum_organiser(caller, forum_id)

        async def work(connection: asyncpg.Connection) -> Reply[R]:
            record = await prepared(connection, parsed, data)
            return await handlers.create(connection, family, (parsed,), record, caller, request.url.path)

        return await run_change(pool, request, caller, idempotency_key, work)

    @get(member, operation_id=f"read_{family.entity}", tags=tags, summary=f"Read a {family.entity} (ETag)")
    async def read_item(
        pool: PoolDep, caller: CallerDep, forum_id: ForumPath, item_id: ItemPath
    ) -> Response[record_type]:  # type: ignore[valid-type]
        return await handlers.read_response(pool, family, (forum_organiser(caller, forum_id),), item_id)

    @put(member, operation_id=f"replace_{family.entity}", tags=tags, summary=f"Replace a {family.entity} (If-Match)")
    async def replace_item(
        request: Request[Any, Any, Any],
        pool: PoolDep,
        caller: CallerDep,
        forum_id: ForumPath,
        item_id: ItemPath,
        data: Annotated[body_type, Body()],  # type: ignore[valid-type]
        if_match: IfMatch = None,
    ) -> Response[record_type]:  # type: ignore[valid-type]
        parsed = forum_organiser(caller, forum_id)
        expected = expected_version(if_match)

        async def work(connection: asyncpg.Connection) -> Reply[R]:
            record = await prepared(connection, parsed, data)
            return await handlers.replace(connection, family, (parsed,), item_id, record, expected, caller)

        return await run_change(pool, request, caller, None, work)

    @delete(member, operation_id=f"delete_{family.entity}", tags=tags, summary=f"Delete a {family.entity} (If-Match)")
    async def delete_item(
        request: Request[Any, Any, Any],
        pool: PoolDep,
        caller: CallerDep,
        forum_id: ForumPath,
        item_id: ItemPath,
        if_match: IfMatch = None,
    ) -> None:
        parsed = forum_organiser(caller, forum_id)
        expected = expected_version(if_match)

        async def work(connection: asyncpg.Connection) -> Reply[None]:
            return await handlers.remove(connection, family, (parsed,), item_id, expected, caller)

        await run_change(pool, request, caller, None, work)

    return [list_items, create_item, read_item, replace_item, delete_item]


ROUTES: list[HTTPRouteHandler] = [
    *family_routes("sessions", SESSIONS, SessionRecord, _check_session),
    *family_routes("venues", VENUES, VenueRecord),
    *family_routes("travel", TRAVEL, TravelIn, _check_travel, _travel_record),
    *family_routes("rooms", ROOMS, RoomRecord, _check_room),
    *family_routes("resources", RESOURCES, ResourceRecord),
]
