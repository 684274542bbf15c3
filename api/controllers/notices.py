"""Change notices for a delegation: its webhooks, their deliveries, and an event stream.

A publication leaves one notice per delegation whose meetings it changed (see
api/publishing.py); a change of a meeting request, one per other party it concerns
(api/request_notices.py). The delegation receives it by webhook (signed, retried; see
api/dispatcher.py) and on the Server-Sent Events stream, which resumes after
the notice named by Last-Event-ID. Only the delegation itself registers webhooks:
their secret is shown once, when created.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import secrets
from collections.abc import AsyncIterator
from typing import Annotated, Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import msgspec
from litestar import Request, Response, delete, get, post
from litestar.params import Body, HeaderParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from msgspec import Meta

from api.controllers.common import CallerDep, IdempotencyKey, PoolDep
from api.controllers.paths import DelegationPath, ForumPath, WebhookPath
from api.errors import Conflict, NotFound, invalid
from api.guards import Caller, delegation_itself, delegation_reader, still_holds, token_digest
from api.http import Reply, json_response, run_change
from api.openapi import event_stream
from api.paging import DEFAULT_LIMIT, LINK_HEADER, AfterId, Limit, fetched, page
from api.webhook_policy import ALLOW_VARIABLE, literal_refusal
from db.queries import notices as queries
from db.queries.audit import record_change
from db.queries.delegations import delegation_ids
from db.records import INT8_MAX

DELEGATION_PATH = "/forums/{forum_id:str}/delegations/{delegation_id:str}"
WEBHOOKS_PATH = f"{DELEGATION_PATH}/webhooks"
WEBHOOK_PATH = f"{WEBHOOKS_PATH}/{{webhook_id:int}}"
POLL_SECONDS = 0.5  # how often the stream looks for new notices
KEEPALIVE_SECONDS = 15.0  # a comment line, so proxies do not close an idle stream
WEBHOOKS = "its webhooks"
# A delegation's own systems (a calendar bridge, a staff channel, a spare): each publication
# posts every notice to each of them, and their list is answered whole.
MAX_WEBHOOKS = 10


class WebhookIn(msgspec.Struct, forbid_unknown_fields=True):
    url: Annotated[
        str,
        Meta(min_length=1, max_length=2000),
        msgspec.Meta(
            description="an http or https URL on a public address (SIDELINES_WEBHOOK_ALLOW admits private networks)"
        ),
    ]


class WebhookCreated(msgspec.Struct):
    webhook: queries.WebhookRecord
    # Signs every delivery (HMAC-SHA256); shown once, null on an idempotent replay.
    secret: str | None


# One label of a DNS name, after IDNA encoding (underscores too: some internal names use them).
_LABEL = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)")


def _host_fault(host: str) -> str | None:
    """Why `host` (an IP literal or a DNS name) cannot be called, or None."""
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    try:
        name = host.encode("idna").decode("ascii")
    except UnicodeError:
        return f"host {host!r} is not a valid name"
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in name.removesuffix(".").split(".")):
        return f"host {host!r} is not a valid name"
    return None


def _checked_url(url: str) -> str:
    try:  # both parsers: urlsplit here, httpx at delivery (a bracket left open was a 500)
        parts = urlsplit(url)
        port = parts.port  # raises for a port past 65535 or not a number
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL) as error:
        raise invalid("url", f"must be an absolute http or https URL ({error})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid("url", "must be an absolute http or https URL")
    if port == 0:
        raise invalid("url", "port 0 cannot be called")
    if (fault := _host_fault(parts.hostname)) is not None:
        raise invalid("url", fault)
    refusal = literal_refusal(parts.hostname)
    if refusal is not None:
        raise invalid("url", f"host {refusal}: webhooks may only call public addresses ({ALLOW_VARIABLE})")
    return url


@post(
    WEBHOOKS_PATH,
    tags=["notices"],
    summary=f"Register a webhook for change notices (at most {MAX_WEBHOOKS} a delegation); answers its secret once",
)
async def create_webhook(
    request: Request[Any, Any, Any],
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    delegation_id: DelegationPath,
    data: Annotated[WebhookIn, Body()],
    idempotency_key: IdempotencyKey = None,
) -> Response[WebhookCreated]:
    parsed = delegation_itself(caller, forum_id, delegation_id, WEBHOOKS)
    url = _checked_url(data.url)

    async def work(connection: asyncpg.Connection) -> Reply[WebhookCreated]:
        secret = secrets.token_urlsafe(32)
        webhook = await queries.insert_webhook(connection, parsed, delegation_id, url, secret, MAX_WEBHOOKS)
        if webhook is None:
            raise Conflict(
                f"a delegation may register at most {MAX_WEBHOOKS} webhooks, and {delegation_id} has"
                f" {MAX_WEBHOOKS}: remove one (DELETE {request.url.path}/{{id}}) before registering another"
            )
        await record_change(connection, parsed, caller.actor, "create", "webhook", str(webhook.id), None, webhook)
        headers = {"Location": f"{request.url.path}/{webhook.id}"}
        return Reply(WebhookCreated(webhook, secret), 201, headers, replay_body=WebhookCreated(webhook, None))

    return await run_change(pool, request, caller, idempotency_key, work)


@get(WEBHOOKS_PATH, tags=["notices"], summary="The delegation's webhooks (without their secrets)")
async def list_webhooks(
    pool: PoolDep, caller: CallerDep, forum_id: ForumPath, delegation_id: DelegationPath
) -> Response[list[queries.WebhookRecord]]:
    parsed = delegation_itself(caller, forum_id, delegation_id, WEBHOOKS)
    async with pool.acquire() as connection:
        return json_response(await queries.list_webhooks(connection, parsed, delegation_id))


@delete(WEBHOOK_PATH, tags=["notices"], summary="Remove a webhook; its pending deliveries go with it")
async def delete_webhook(
    request: Request[Any, Any, Any],
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    delegation_id: DelegationPath,
    webhook_id: WebhookPath,
) -> None:
    parsed = delegation_itself(caller, forum_id, delegation_id, WEBHOOKS)

    async def work(connection: asyncpg.Connection) -> Reply[None]:
        if not await queries.delete_webhook(connection, parsed, delegation_id, webhook_id):
            raise NotFound(f"no webhook {webhook_id}")
        await record_change(connection, parsed, caller.actor, "delete", "webhook", str(webhook_id))
        return Reply(None, 204)

    await run_change(pool, request, caller, None, work)


@get(
    f"{WEBHOOK_PATH}/deliveries",
    tags=["notices"],
    summary="Each delivery of a webhook and its attempts, oldest first, by pages",
    response_headers=[LINK_HEADER],
)
async def list_deliveries(
    request: Request[Any, Any, Any],
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    delegation_id: DelegationPath,
    webhook_id: WebhookPath,
    after: AfterId = 0,
    limit: Limit = DEFAULT_LIMIT,
) -> Response[list[queries.DeliveryRecord]]:
    parsed = delegation_itself(caller, forum_id, delegation_id, WEBHOOKS)
    async with pool.acquire() as connection:
        if not any(w.id == webhook_id for w in await queries.list_webhooks(connection, parsed, delegation_id)):
            raise NotFound(f"no webhook {webhook_id}")
        found = await queries.list_deliveries(connection, parsed, delegation_id, webhook_id, after, fetched(limit))
    return page(request, found, limit, lambda delivery: delivery.id)


async def _notices(
    pool: asyncpg.Pool, caller: Caller, digest: str | None, forum_id: Any, delegation_id: str, after: int
) -> AsyncIterator[Any]:
    """Every notice after `after`, then each new one as it is committed. It ends once the token
    that opened it no longer works (replaced, revoked, or its forum closed: what a new request
    would answer 401), asked before each read: a stream opened with a leaked token stops with it."""
    seen, quiet = after, 0.0
    while True:
        async with pool.acquire() as connection:
            if not await still_holds(connection, caller, digest):
                return
            found = await queries.notices_after(connection, forum_id, delegation_id, seen)
        for notice in found:
            seen = notice.number
            data = msgspec.json.encode({"id": notice.number, **notice.payload}).decode()
            yield ServerSentEventMessage(data, event=str(notice.payload.get("type", "notice")), id=notice.number)
        if found:
            quiet = 0.0
            continue
        await asyncio.sleep(POLL_SECONDS)
        quiet += POLL_SECONDS
        if quiet >= KEEPALIVE_SECONDS:
            quiet = 0.0
            yield ServerSentEventMessage(None, comment="keep-alive")


@get(
    f"{DELEGATION_PATH}/events",
    tags=["notices"],
    summary="The delegation's change notices as Server-Sent Events",
    responses=event_stream(
        "events named by the notice's type (`schedule.changed`, `request.received`, `request.answered`,"
        " `request.withdrawn`, `request.changed`; id: the notice's number), a keep-alive comment every 15 s"
    ),
)
async def notice_events(
    request: Request[Any, Any, Any],
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    delegation_id: DelegationPath,
    last_event_id: Annotated[
        str | None, HeaderParameter(name="Last-Event-ID", required=False, description="resume after this notice")
    ] = None,
) -> ServerSentEvent:
    parsed = delegation_reader(caller, forum_id, delegation_id)
    after = 0
    if last_event_id is not None:
        if not last_event_id.strip().isdigit() or int(last_event_id) > INT8_MAX:
            raise invalid("header:Last-Event-ID", "must be the id of a notice received")
        after = int(last_event_id)
    async with pool.acquire() as connection:
        if delegation_id not in await delegation_ids(connection, parsed):  # a 404 before the stream starts
            raise NotFound(f"no delegation {delegation_id}")
    return ServerSentEvent(_notices(pool, caller, token_digest(request), parsed, delegation_id, after))


ROUTES = [create_webhook, list_webhooks, delete_webhook, list_deliveries, notice_events]
