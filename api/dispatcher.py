"""Webhook delivery of change notices, run beside the worker's solve loop.

Deliveries come from the outbox that publishing and request changes fill (db/queries/notices.py);
`Sidelines-Event` carries the notice's type.
Each POST carries the notice as JSON and a signature header in the style of
Stripe's: `Sidelines-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`,
keyed by the webhook's secret; receivers recompute it and refuse stale `t` to
stop replays. Any answer other than 2xx, or no answer, is retried with
exponential back-off until `max_attempts`; every attempt is recorded. A host
that resolves to an address the policy refuses (api/webhook_policy.py) is a
failed attempt like any other, recorded with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import time
from datetime import UTC, datetime

import asyncpg
import httpx
import msgspec

from api.request_notices import tell_expired
from api.webhook_policy import AddressRefused, allowed_networks, checked_addresses
from db.queries import notices

SIGNATURE_HEADER = "Sidelines-Signature"
EVENT_HEADER = "Sidelines-Event"
ID_HEADER = "Sidelines-Notice-Id"
_log = logging.getLogger("sidelines.dispatcher")


class DispatchSettings(msgspec.Struct, frozen=True):
    first_retry_seconds: float = 5.0  # then doubled after every failure
    max_retry_seconds: float = 3600.0
    max_attempts: int = 10
    lease_seconds: float = 60.0  # a claimed delivery is hidden this long from other dispatchers
    timeout_seconds: float = 10.0
    batch: int = 20
    idle_seconds: float = 1.0


DEFAULT_DISPATCH = DispatchSettings()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def retry_delay(attempts_made: int, settings: DispatchSettings) -> float | None:
    """Seconds before the next attempt after `attempts_made` failures; None once they are used up."""
    if attempts_made >= settings.max_attempts:
        return None
    return min(settings.first_retry_seconds * 2 ** (attempts_made - 1), settings.max_retry_seconds)


async def _post(client: httpx.AsyncClient, delivery: notices.DueDelivery) -> tuple[int | None, str | None]:
    body = msgspec.json.encode({"id": delivery.notice_id, **delivery.payload})
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature(delivery.secret, int(time.time()), body),
        EVENT_HEADER: str(delivery.payload.get("type", "")),
        ID_HEADER: str(delivery.notice_id),
    }
    url = httpx.URL(delivery.url)
    try:
        addresses = await checked_addresses(url.host, url.port or (443 if url.scheme == "https" else 80))
    except AddressRefused as error:
        return None, f"refused: {error}"
    answer = await _send(client, url, addresses, body, headers)
    if isinstance(answer, str):
        return None, answer
    if 200 <= answer.status_code < 300:
        return answer.status_code, None
    return answer.status_code, f"answered {answer.status_code}"


async def _send(
    client: httpx.AsyncClient, url: httpx.URL, addresses: list[str], body: bytes, headers: dict[str, str]
) -> httpx.Response | str:
    """POST to the first of the checked addresses that takes the connection, never
    to a second lookup of the name (api/webhook_policy.py); the Host header and,
    for https, the TLS server name stay the URL's own. A string: why it failed."""
    headers = {**headers, "Host": url.netloc.decode("ascii")}
    extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
    failure = "no address"
    for address in addresses:
        try:
            return await client.post(url.copy_with(host=address), content=body, headers=headers, extensions=extensions)
        except httpx.ConnectError as error:
            failure = f"{type(error).__name__}: {error}"  # try the next address
        except httpx.HTTPError as error:
            return f"{type(error).__name__}: {error}"
    return failure


async def deliver_due(
    pool: asyncpg.Pool, client: httpx.AsyncClient, settings: DispatchSettings = DEFAULT_DISPATCH
) -> int:
    """Post every due delivery once; returns how many were attempted."""
    async with pool.acquire() as connection, connection.transaction():
        due = await notices.claim_due(connection, settings.lease_seconds, settings.batch)
    # Concurrently, so that one slow receiver cannot hold the others past their lease.
    await asyncio.gather(*(_attempt(pool, client, delivery, settings) for delivery in due))
    return len(due)


async def _attempt(
    pool: asyncpg.Pool, client: httpx.AsyncClient, delivery: notices.DueDelivery, settings: DispatchSettings
) -> None:
    status_code, error = await _post(client, delivery)
    delay = None if error is None else retry_delay(delivery.attempts + 1, settings)
    async with pool.acquire() as connection:
        await notices.record_attempt(connection, delivery.id, status_code, error, delay)
    if error is not None:
        _log.info("notice %s to %s: %s", delivery.notice_id, delivery.url, error)


async def run_dispatcher(
    pool: asyncpg.Pool, stop: asyncio.Event, settings: DispatchSettings = DEFAULT_DISPATCH
) -> None:
    """Deliver until `stop` is set; the worker runs this beside its solve loop."""
    allowed_networks()  # a malformed SIDELINES_WEBHOOK_ALLOW stops the worker at once, not each delivery
    # No kept-alive connections: requests go to checked addresses, and a TLS
    # connection verified for one webhook's name must not carry another's.
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=settings.timeout_seconds, follow_redirects=False, limits=limits) as client:
        while not stop.is_set():
            try:
                await tell_expired(pool, datetime.now(UTC))  # a deadline passed: its notices, then delivered
                attempted = await deliver_due(pool, client, settings)
            except (asyncpg.PostgresError, OSError) as error:  # the database is away: try again later
                _log.warning("dispatcher: %s", error)
                attempted = 0
            if not attempted:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), settings.idle_seconds)


def start_dispatcher(
    pool: asyncpg.Pool, stop: asyncio.Event, settings: DispatchSettings = DEFAULT_DISPATCH
) -> asyncio.Task[None]:
    return asyncio.create_task(run_dispatcher(pool, stop, settings), name="sidelines-dispatcher")


async def end_dispatcher(task: asyncio.Task[None], grace_seconds: float = 15.0) -> None:
    """Let a delivery in flight finish (its `stop` is set), then cancel; an interrupted
    delivery is posted again once its lease lapses, so a notice may arrive twice, never zero times."""
    with contextlib.suppress(TimeoutError, asyncio.CancelledError):
        await asyncio.wait_for(task, grace_seconds)
