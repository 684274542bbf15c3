"""Generic queries for a table whose columns are the fields of a record struct.

Each family (rooms, venues, participants...) lives in a table keyed by its scope
(forum, or forum and delegation) and the item's `id`; every other column has the
name of a struct field, so rows and structs convert without per-table code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import asyncpg
import msgspec

from db.records import Stored

T = TypeVar("T", bound=msgspec.Struct)


@dataclass(frozen=True)
class Family(Generic[T]):
    """A family of items: `entity` names one item in audit rows and messages."""

    entity: str
    table: str
    record: type[T]
    scope: tuple[str, ...] = ("forum_id",)

    @property
    def fields(self) -> tuple[str, ...]:
        return self.record.__struct_fields__

    def row_to_stored(self, row: asyncpg.Record) -> Stored[T]:
        values = {name: row[name] for name in self.fields}
        return Stored(msgspec.convert(values, self.record, strict=False), row["version"])

    def where_scope(self, first: int = 1) -> str:
        return " AND ".join(f"{column} = ${first + index}" for index, column in enumerate(self.scope))


def _quoted(names: Sequence[str]) -> str:
    return ", ".join(f'"{name}"' for name in names)


def _values(item: msgspec.Struct, names: Sequence[str]) -> list[Any]:
    return [getattr(item, name) for name in names]


async def list_items(connection: asyncpg.Connection, family: Family[T], scope: Sequence[Any]) -> list[Stored[T]]:
    rows = await connection.fetch(f"SELECT * FROM {family.table} WHERE {family.where_scope()} ORDER BY id", *scope)
    return [family.row_to_stored(row) for row in rows]


async def get_item(
    connection: asyncpg.Connection, family: Family[T], scope: Sequence[Any], item_id: str, *, for_update: bool = False
) -> Stored[T] | None:
    lock = " FOR UPDATE" if for_update else ""
    where = family.where_scope()
    row = await connection.fetchrow(
        f"SELECT * FROM {family.table} WHERE {where} AND id = ${len(scope) + 1}{lock}", *scope, item_id
    )
    return None if row is None else family.row_to_stored(row)


async def insert_item(
    connection: asyncpg.Connection,
    family: Family[T],
    scope: Sequence[Any],
    item: T,
    extra: Mapping[str, Any] | None = None,
) -> Stored[T] | None:
    """Insert `item`; None when its id is taken in this scope."""
    extra = dict(extra or {})
    names = [*family.scope, *family.fields, *extra]
    values = [*scope, *_values(item, family.fields), *extra.values()]
    placeholders = ", ".join(f"${index}" for index in range(1, len(names) + 1))
    row = await connection.fetchrow(
        f"INSERT INTO {family.table} ({_quoted(names)}) VALUES ({placeholders}) ON CONFLICT DO NOTHING RETURNING *",
        *values,
    )
    return None if row is None else family.row_to_stored(row)


async def replace_item(
    connection: asyncpg.Connection,
    family: Family[T],
    scope: Sequence[Any],
    item: T,
    extra: Mapping[str, Any] | None = None,
) -> Stored[T]:
    """Overwrite the stored item with the same id and bump its version."""
    extra = dict(extra or {})
    names = [name for name in family.fields if name != "id"] + list(extra)
    values = [*_values(item, [name for name in family.fields if name != "id"]), *extra.values()]
    first = len(scope) + 2
    assignments = ", ".join(f'"{name}" = ${first + index}' for index, name in enumerate(names))
    row = await connection.fetchrow(
        f"UPDATE {family.table} SET {assignments}, version = version + 1 "
        f"WHERE {family.where_scope()} AND id = ${len(scope) + 1} RETURNING *",
        *scope,
        getattr(item, "id"),  # noqa: B009 - every family's record has an id; the generic T does not say so
        *values,
    )
    assert row is not None  # callers lock the row first
    return family.row_to_stored(row)


async def delete_item(connection: asyncpg.Connection, family: Family[T], scope: Sequence[Any], item_id: str) -> None:
    await connection.execute(
        f"DELETE FROM {family.table} WHERE {family.where_scope()} AND id = ${len(scope) + 1}", *scope, item_id
    )
