"""Shared bodies of list/create/read/replace/delete handlers over a db Family."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import asyncpg
import msgspec
from litestar import Response

from api.errors import Conflict, FieldError, NotFound, invalid, missing
from api.guards import Caller
from api.http import Reply, check_version, etag, json_response
from db.queries import items
from db.queries.audit import record_change
from db.queries.items import Family

T = TypeVar("T", bound=msgspec.Struct)


def _key(scope: Sequence[Any], item_id: str) -> str:
    """The audit entity id: the item id, after the delegation id for participants."""
    return "/".join([*(str(part) for part in scope[1:]), item_id])


async def list_response(pool: asyncpg.Pool, family: Family[T], scope: Sequence[Any]) -> Response[list[T]]:
    async with pool.acquire() as connection:
        stored = await items.list_items(connection, family, scope)
    return json_response([entry.item for entry in stored])


async def read_response(pool: asyncpg.Pool, family: Family[T], scope: Sequence[Any], item_id: str) -> Response[T]:
    async with pool.acquire() as connection:
        stored = await items.get_item(connection, family, scope, item_id)
    if stored is None:
        raise _missing(family, item_id)
    return json_response(stored.item, headers={"ETag": etag(stored.version)})


def _missing(family: Family[Any], item_id: str) -> NotFound:
    """The 404 of an item, naming its route's path parameter."""
    return missing(_PATHS.get(family.entity, "path:item_id"), f"no {family.entity} {item_id}")


_PATHS = {"delegation": "path:delegation_id", "participant": "path:participant_id"}  # else the setup routes' item_id


async def create(
    connection: asyncpg.Connection, family: Family[T], scope: Sequence[Any], item: T, caller: Caller, location: str
) -> Reply[T]:
    item_id: str = getattr(item, "id")  # noqa: B009 - every family's record has an id
    stored = await items.insert_item(connection, family, scope, item)
    if stored is None:
        raise Conflict(f"{family.entity} {item_id} already exists", [FieldError("id", "already exists")])
    await record_change(
        connection, scope[0], caller.actor, "create", family.entity, _key(scope, item_id), None, stored.item
    )
    return Reply(stored.item, 201, {"Location": f"{location}/{item_id}", "ETag": etag(stored.version)})


async def replace(
    connection: asyncpg.Connection,
    family: Family[T],
    scope: Sequence[Any],
    item_id: str,
    item: T,
    expected: int | None,
    caller: Caller,
) -> Reply[T]:
    if getattr(item, "id") != item_id:  # noqa: B009
        raise invalid("id", f"must be {item_id!r}, the id in the path")
    current = await items.get_item(connection, family, scope, item_id, for_update=True)
    if current is None:
        raise _missing(family, item_id)
    check_version(current.version, expected)
    stored = await items.replace_item(connection, family, scope, item)
    await record_change(
        connection, scope[0], caller.actor, "update", family.entity, _key(scope, item_id), current.item, stored.item
    )
    return Reply(stored.item, headers={"ETag": etag(stored.version)})


async def remove(
    connection: asyncpg.Connection,
    family: Family[T],
    scope: Sequence[Any],
    item_id: str,
    expected: int | None,
    caller: Caller,
) -> Reply[None]:
    current = await items.get_item(connection, family, scope, item_id, for_update=True)
    if current is None:
        raise _missing(family, item_id)
    check_version(current.version, expected)
    await items.delete_item(connection, family, scope, item_id)
    await record_change(
        connection, scope[0], caller.actor, "delete", family.entity, _key(scope, item_id), current.item, None
    )
    return Reply(None, 204)
