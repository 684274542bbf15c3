"""Stored first answers to POSTs carrying an Idempotency-Key."""

from __future__ import annotations

import asyncpg
import msgspec


class StoredAnswer(msgspec.Struct, frozen=True):
    request_hash: str
    status: int
    body: bytes
    headers: dict[str, str]


async def lock_key(connection: asyncpg.Connection, actor: str, key: str) -> None:
    """Serialise requests with the same key until the transaction ends, so a retry racing the
    first attempt waits for its answer instead of creating a second time."""
    await connection.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"{actor}\n{key}")


async def find_answer(connection: asyncpg.Connection, actor: str, key: str) -> StoredAnswer | None:
    row = await connection.fetchrow(
        "SELECT request_hash, status, body, headers FROM idempotency_keys WHERE actor = $1 AND key = $2", actor, key
    )
    return None if row is None else StoredAnswer(row["request_hash"], row["status"], row["body"], row["headers"])


async def store_answer(connection: asyncpg.Connection, actor: str, key: str, answer: StoredAnswer) -> None:
    await connection.execute(
        "INSERT INTO idempotency_keys (actor, key, request_hash, status, body, headers)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        actor,
        key,
        answer.request_hash,
        answer.status,
        answer.body,
        answer.headers,
    )
