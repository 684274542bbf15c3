"""The organiser's own tokens (named, several, revocable) and closing a forum.

A forum has numbered organiser tokens, each with a name saying whose it is ("Duty officer, night
shift"): any of them issues another, lists them (never the tokens: only their hashes are stored)
and revokes one but the last. Audit entries name the token that acted
(`organiser:<forum>/<number>`). Closing a forum ends its delegations' tokens (401) and calendar
feeds (410), and cancels its queued and running runs (a running one stores no grid: a closed
forum takes no version); its organiser still reads and exports, and changes nothing (409) until
it reopens it. A change that passed its token lookup before the close committed is refused at its
own COMMIT (migration 0019, api/http.py). Webhook deliveries still pending wait while the forum
is closed and go out once it is reopened (db/queries/notices.py `claim_due`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import asyncpg
import msgspec
from litestar import Request, Response, delete, get, post
from litestar.params import Body, PathParameter

from api.controllers.common import CallerDep, IdempotencyKey, PoolDep
from api.controllers.paths import ForumPath
from api.controllers.runs import shown
from api.errors import Conflict, FieldError, missing
from api.guards import forum_organiser, hash_token, new_token
from api.http import Reply, etag, json_response, run_change
from db.queries import forums, runs
from db.queries.audit import record_change
from db.records import ForumRecord, Name, Record

TOKENS_PATH = "/forums/{forum_id:str}/organiser-tokens"
TokenNumberPath = Annotated[
    int, PathParameter(description="the organiser token's number in the forum (1, 2, 3 ...)", ge=1, le=2**31 - 1)
]


class OrganiserTokenIn(Record):
    name: Annotated[Name, msgspec.Meta(description='whose token it is, e.g. "Duty officer, night shift"')]


class OrganiserTokenRecord(Record):
    number: Annotated[int, msgspec.Meta(description="its number in the forum; audit actors name it")]
    name: str
    created_at: datetime
    last_used_at: Annotated[
        datetime | None, msgspec.Meta(description="when it was last used, to the minute; null: never")
    ]
    revoked_at: Annotated[datetime | None, msgspec.Meta(description="null while it works")]


class OrganiserTokenIssued(Record):
    organiser_token: OrganiserTokenRecord
    # Shown once; null when the answer is an idempotent replay (tokens are never stored).
    token: str | None


def _shown(token: forums.OrganiserToken) -> OrganiserTokenRecord:
    return OrganiserTokenRecord(token.number, token.name, token.created_at, token.last_used_at, token.revoked_at)


@get(TOKENS_PATH, tags=["forums"], summary="List the forum's organiser tokens, revoked ones too (never the tokens)")
async def list_organiser_tokens(
    pool: PoolDep, caller: CallerDep, forum_id: ForumPath
) -> Response[list[OrganiserTokenRecord]]:
    parsed = forum_organiser(caller, forum_id)
    async with pool.acquire() as connection:
        listed = await forums.list_organiser_tokens(connection, parsed)
    return json_response([_shown(token) for token in listed])


@post(TOKENS_PATH, tags=["forums"], summary="Issue another organiser token, named; answers it once")
async def issue_organiser_token(
    request: Request[Any, Any, Any],
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    data: Annotated[OrganiserTokenIn, Body()],
    idempotency_key: IdempotencyKey = None,
) -> Response[OrganiserTokenIssued]:
    parsed = forum_organiser(caller, forum_id)
    name = data.name

    async def work(connection: asyncpg.Connection) -> Reply[OrganiserTokenIssued]:
        token = new_token()
        made = _shown(await forums.insert_organiser_token(connection, parsed, name, hash_token(token)))
        await record_change(connection, parsed, caller.actor, "create", "organiser_token", str(made.number), None, made)
        headers = {"Location": f"/forums/{forum_id}/organiser-tokens/{made.number}"}
        return Reply(OrganiserTokenIssued(made, token), 201, headers, replay_body=OrganiserTokenIssued(made, None))

    return await run_change(pool, request, caller, idempotency_key, work)


@delete(
    f"{TOKENS_PATH}/{{token_number:int}}",
    tags=["forums"],
    summary="Revoke an organiser token (not the last one); it stops working at once",
    status_code=204,
)
async def revoke_organiser_token(
    request: Request[Any, Any, Any],
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    token_number: TokenNumberPath,
) -> None:
    parsed = forum_organiser(caller, forum_id)
    number = token_number

    async def work(connection: asyncpg.Connection) -> Reply[None]:
        active = await forums.active_organiser_tokens(connection, parsed)
        if number not in active:
            raise missing("path:token_number", f"no organiser token {number} in use")
        if active == [number]:
            raise Conflict(
                f"organiser token {number} is the forum's last: issue another before revoking it",
                [FieldError("path:token_number", "the last organiser token in use")],
            )
        revoked = _shown(await forums.revoke_organiser_token(connection, parsed, number))
        await record_change(connection, parsed, caller.actor, "revoke", "organiser_token", str(number), None, revoked)
        return Reply(None, 204)

    await run_change(pool, request, caller, None, work)


async def _closing(
    request: Request[Any, Any, Any], pool: PoolDep, caller: CallerDep, forum_id: str, closed: bool
) -> Response[ForumRecord]:
    parsed = forum_organiser(caller, forum_id)

    async def work(connection: asyncpg.Connection) -> Reply[ForumRecord]:
        current = await forums.get_forum(connection, parsed, for_update=True)
        if current is None:  # a token outlived its forum
            raise missing("path:forum_id", f"no forum {forum_id}")
        if (current.item.closed_at is not None) == closed:  # already so: nothing to write
            return Reply(current.item, headers={"ETag": etag(current.version)})
        stored = await forums.set_closed(connection, parsed, closed)
        action = "close" if closed else "reopen"
        await record_change(connection, parsed, caller.actor, action, "forum", forum_id, current.item, stored.item)
        if closed:  # its queued and running runs are cancelled, each with its audit entry, as a cancel
            for before, after in await runs.cancel_for_closing(connection, parsed):
                number = str(before.number)
                await record_change(
                    connection, parsed, caller.actor, "cancel", "run", number, shown(before), shown(after)
                )
        return Reply(stored.item, headers={"ETag": etag(stored.version)})

    return await run_change(pool, request, caller, None, work, when_closed=True)


@post(
    "/forums/{forum_id:str}/close",
    tags=["forums"],
    summary="Close (archive) the forum: delegation tokens and calendar feeds stop; nothing changes until reopened",
    status_code=200,
)
async def close_forum(
    request: Request[Any, Any, Any], pool: PoolDep, caller: CallerDep, forum_id: ForumPath
) -> Response[ForumRecord]:
    return await _closing(request, pool, caller, forum_id, closed=True)


@post(
    "/forums/{forum_id:str}/reopen",
    tags=["forums"],
    summary="Reopen a closed forum: its tokens, feeds and changes work again",
    status_code=200,
)
async def reopen_forum(
    request: Request[Any, Any, Any], pool: PoolDep, caller: CallerDep, forum_id: ForumPath
) -> Response[ForumRecord]:
    return await _closing(request, pool, caller, forum_id, closed=False)


ROUTES = [list_organiser_tokens, issue_organiser_token, revoke_organiser_token, close_forum, reopen_forum]
