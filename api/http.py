"""Conditional requests, idempotent POSTs and transactional changes.

Every change runs in one transaction that also writes its audit row, run again
after a deadlock or a serialization failure (db/transient.py). ETags are
the row's `version`; PUT, PATCH and DELETE need If-Match (428 without it, 412
when stale). A POST with an Idempotency-Key replays the first answer for the
same key and body (Idempotency-Replayed: true), and answers 422 for the same
key with another body. Answers that carry a freshly issued token are stored
without it: the token is shown once, and a replay shows null.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar, cast

import asyncpg
import msgspec
from litestar import Request, Response

from api.errors import Conflict, FieldError, PreconditionFailed, PreconditionRequired, Unprocessable
from api.guards import Caller
from db.queries.idempotency import StoredAnswer, find_answer, lock_key, store_answer
from db.transient import LostBeforeCommit, connection_lost, retrying

JSON = "application/json"
IF_MATCH = "header:If-Match"

T = TypeVar("T")


class Reply(msgspec.Struct, Generic[T]):
    """What a change answers: `T` is the handler's `Response[T]`, which mypy checks against the
    body (and the replay body) through `run_change`; a bare `Reply` is a mypy error
    (disallow_any_generics), so the record a handler declares is the one it answers."""

    body: T
    status: int = 200
    headers: dict[str, str] = {}
    # What an idempotent replay shows, when it must differ from `body` (tokens removed): the
    # same record type, for the replay answers under the same OpenAPI schema.
    replay_body: T | None = None


Work = Callable[[asyncpg.Connection], Awaitable[Reply[T]]]


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version(if_match: str | None, *, required: bool = True) -> int | None:
    """The version an If-Match header names; None for `*`, or when absent and not required."""
    if if_match is None:
        if required:
            raise PreconditionRequired(
                "send If-Match with the ETag you read, so that a concurrent change is not lost",
                [FieldError(IF_MATCH, "required")],
            )
        return None
    value = if_match.strip()
    if value == "*":
        return None
    digits = value.removeprefix("W/").strip('"')
    if not digits.isdigit():
        raise PreconditionFailed("If-Match does not name a current version", [FieldError(IF_MATCH, "unknown ETag")])
    return int(digits)


def none_match(if_none_match: str | None, tag: str) -> bool:
    """Whether If-None-Match names `tag` or is `*`, by weak comparison (RFC 9110 13.1.2): a
    compressed answer carries its ETag as `W/"..."` (api/compression.py), and a client sends that
    form back."""
    if if_none_match is None:
        return False
    named = {candidate.strip().removeprefix("W/") for candidate in if_none_match.split(",")}
    return tag.removeprefix("W/") in named or "*" in named


def check_version(current: int, expected: int | None) -> None:
    if expected is not None and current != expected:
        raise PreconditionFailed(
            f"the resource changed (now {etag(current)}); read it again and retry",
            [FieldError(IF_MATCH, f"stale: current ETag is {etag(current)}")],
        )


def json_response(body: T, status: int = 200, headers: dict[str, str] | None = None) -> Response[T]:
    """`body` encoded by msgspec here, typed as `body`'s type: handlers declare `Response[Record]`,
    which Litestar reads for the OpenAPI schema and mypy checks against what they pass."""
    content = b"" if status == 204 else msgspec.json.encode(body)
    return cast("Response[T]", Response(content=content, status_code=status, media_type=JSON, headers=headers or {}))


async def run_change(
    pool: asyncpg.Pool,
    request: Request[Any, Any, Any],
    caller: Caller,
    idempotency_key: str | None,
    work: Work[T],
    *,
    one_statement: bool = False,
    when_closed: bool = False,
) -> Response[T]:
    """Run `work` in a transaction, replaying or storing its answer under an Idempotency-Key.

    A closed forum (POST /forums/{id}/close) changes nothing: 409, unless `when_closed` (closing
    and reopening it). Every change of a forum passes here, so this is the one place to refuse:
    at once when the forum was closed at the token lookup, and at COMMIT when a close committed
    since (migration 0019 refuses the audit entries of a closed forum under the lock the close
    takes too; `_refused_when_closed`), so that no change lands after the close.

    A deadlock, a serialization failure or a connection lost before COMMIT was sent runs the
    whole transaction again (db/transient.py), so `work` is run once per attempt: it may touch
    nothing outside the database but db/forum_state's cache (which a failed attempt leaves as
    it found it). A connection lost during the COMMIT (or during a one-statement change, which
    commits itself) is not retried: whether the change was stored cannot be told (503).

    `one_statement`: `work` writes (change and audit row) with a single statement, its last
    step, which PostgreSQL makes atomic and durable on its own; without an Idempotency-Key it
    then runs outside a transaction, sparing the BEGIN and COMMIT round trips (the commit's
    WAL flush is the same). Its reads see committed data either way (READ COMMITTED).
    """

    if caller.closed and not when_closed:
        raise _closed(caller.forum_id)

    async def attempt() -> Response[T]:
        return await _change_once(pool, request, caller, idempotency_key, work, one_statement)

    try:
        return await retrying(attempt, f"{request.method} {request.url.path}")
    except asyncpg.ObjectNotInPrerequisiteStateError as error:
        if _refused_when_closed(error):
            raise _closed(caller.forum_id) from error
        raise


def _closed(forum_id: object) -> Conflict:
    return Conflict(
        "the forum is closed: it can be read and exported, not changed;"
        f" its organiser reopens it with POST /forums/{forum_id}/reopen"
    )


def _refused_when_closed(error: asyncpg.ObjectNotInPrerequisiteStateError) -> bool:
    """Whether PostgreSQL refused the change's COMMIT because its forum was closed meanwhile
    (migration 0019's trigger names forums.closed_at)."""
    return getattr(error, "table_name", None) == "forums" and getattr(error, "column_name", None) == "closed_at"


async def _change_once(
    pool: asyncpg.Pool,
    request: Request[Any, Any, Any],
    caller: Caller,
    idempotency_key: str | None,
    work: Work[T],
    one_statement: bool,
) -> Response[T]:
    if one_statement and idempotency_key is None:
        async with pool.acquire() as connection:
            reply = await work(connection)
        return json_response(reply.body, reply.status, reply.headers)
    async with pool.acquire() as connection:
        committing = False  # set once the work is done: what fails after it may be the COMMIT itself
        try:
            async with connection.transaction():
                response = await _in_transaction(connection, request, caller, idempotency_key, work)
                committing = True
        except Exception as error:
            if not committing and connection_lost(error):
                raise LostBeforeCommit(f"{type(error).__name__}: {error}") from error
            raise
    return response


async def _in_transaction(
    connection: asyncpg.Connection,
    request: Request[Any, Any, Any],
    caller: Caller,
    idempotency_key: str | None,
    work: Work[T],
) -> Response[T]:
    if idempotency_key is None:
        reply = await work(connection)
        return json_response(reply.body, reply.status, reply.headers)
    fingerprint = hashlib.sha256(
        b"\n".join([request.method.encode(), request.url.path.encode(), await request.body()])
    ).hexdigest()
    await lock_key(connection, caller.actor, idempotency_key)
    stored = await find_answer(connection, caller.actor, idempotency_key)
    if stored is not None:
        return _replay(stored, fingerprint)
    reply = await work(connection)
    replay_body = reply.body if reply.replay_body is None else reply.replay_body
    answer = StoredAnswer(fingerprint, reply.status, msgspec.json.encode(replay_body), reply.headers)
    await store_answer(connection, caller.actor, idempotency_key, answer)
    return json_response(reply.body, reply.status, reply.headers)


def _replay(stored: StoredAnswer, fingerprint: str) -> Response[Any]:
    if stored.request_hash != fingerprint:
        raise Unprocessable(
            "this Idempotency-Key was used for a different request",
            [FieldError("header:Idempotency-Key", "already used with another method, path or body")],
        )
    headers = {**stored.headers, "Idempotency-Replayed": "true"}
    # Any: the stored bytes are the first answer's body, whose type the caller's work gave.
    return Response(content=stored.body, status_code=stored.status, media_type=JSON, headers=headers)
