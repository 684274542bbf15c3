"""Change notices: the outbox, the webhooks delegations register, and their deliveries.

Notices and deliveries are inserted by the transaction that publishes or changes a request; the
dispatcher (api/dispatcher.py) takes due deliveries with SKIP LOCKED under a
short lease, posts them outside any transaction, then records the attempt.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

import asyncpg
import msgspec

DeliveryStatus = Literal["pending", "delivered", "failed"]


class WebhookRecord(msgspec.Struct, frozen=True):
    # Its number among its delegation's webhooks (1, 2, 3 ..., never reused; migration 0012): the
    # table's id is one counter for the whole server, whose gaps counted other delegations' webhooks.
    id: int
    url: str
    created_at: datetime


class NoticeRow(msgspec.Struct, frozen=True):
    number: int  # the delegation's own count (migration 0008), what it sees as the notice's id
    payload: dict[str, Any]


class DueDelivery(msgspec.Struct, frozen=True):
    id: int
    notice_id: int  # the notice's number, as its delegation sees it
    attempts: int  # before this one
    url: str
    secret: str
    payload: dict[str, Any]


class AttemptRecord(msgspec.Struct, frozen=True):
    at: datetime
    status_code: int | None
    error: str | None


class DeliveryRecord(msgspec.Struct, frozen=True):
    # The delivery's number among its webhook's (1, 2, 3 ...): the table's id is one counter for
    # the whole server, whose gaps told a delegation how many deliveries others got in between.
    id: int
    notice_id: int  # the notice's number, as its delegation sees it
    webhook_id: int  # the webhook's number, as its delegation sees it
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    delivered_at: datetime | None
    history: list[AttemptRecord]


async def insert_notice(
    connection: asyncpg.Connection, forum_id: Any, delegation_id: str, publication_id: int | None, payload: object
) -> int:
    """The notice and one pending delivery per webhook the delegation has registered; its id."""
    (notice_id,) = await insert_notices(connection, forum_id, [(delegation_id, payload)], publication_id)
    return notice_id


async def insert_notices(
    connection: asyncpg.Connection,
    forum_id: Any,
    notices: Sequence[tuple[str, object]],
    publication_id: int | None = None,
) -> list[int]:
    """Notices (delegation, payload), in order, and one pending delivery per webhook each delegation
    has registered: one statement whatever their number (a CSV import writes a thousand at once).

    Each delegation's notices are numbered after its last (1, 2, 3 ...) by raising its count on its
    delegation row (migration 0021): the UPDATE waits for a concurrent writer's commit and reads
    its count afresh, so numbers never collide. The rows are locked in id order (`notices_written`),
    so two writers of overlapping delegations wait for each other rather than deadlock."""
    if not notices:
        return []
    rows = await connection.fetch(
        f"WITH {notices_written('$1', '$2', '$3', '$4::bigint')} SELECT id FROM notice_inserted ORDER BY id",
        forum_id,
        *notice_arguments(notices),
        publication_id,
    )
    return [int(row["id"]) for row in rows]


def notice_arguments(notices: Sequence[tuple[str, object]]) -> tuple[list[str], list[object]]:
    """The delegations and the payloads of `notices`, as `notices_written` takes them."""
    return [delegation_id for delegation_id, _ in notices], [payload for _, payload in notices]


def notices_written(forum: str, delegations: str, payloads: str, publication: str) -> str:
    """SQL: the CTEs (to follow a WITH) that insert the notices and their deliveries, the parameters
    named: `delegations` a text[] and `payloads` a jsonb array (`notice_arguments`; not a jsonb[],
    whose type asyncpg would look up on each new connection), in order. Another
    writer's statement may carry them (a new request and the notices to its parties: one statement);
    `notice_inserted` (id, delegation_id) holds the notices written."""
    return (
        "notice_given AS (SELECT g.delegation_id, g.payload, g.position,"
        "  row_number() OVER (PARTITION BY g.delegation_id ORDER BY g.position) AS nth"
        f"  FROM ROWS FROM (unnest({delegations}::text[]), jsonb_array_elements({payloads}::jsonb))"
        "  WITH ORDINALITY AS g(delegation_id, payload, position)),"
        " notice_counts AS (SELECT delegation_id, count(*) AS n FROM notice_given GROUP BY delegation_id),"
        # The delegations' rows locked in id order before the UPDATE touches them (it visits them
        # in whatever order its plan reads them): two writers of overlapping delegations queue on
        # the first they share rather than each holding a row the other waits for. A locking
        # SELECT locks rows as they leave its sort (LockRows sits above Sort), and the UPDATE
        # reaches a row only through this CTE's output, so no row is locked first by the UPDATE.
        f" notice_locked AS (SELECT d.id FROM delegations d WHERE d.forum_id = {forum}"
        "  AND d.id IN (SELECT delegation_id FROM notice_counts) ORDER BY d.id FOR UPDATE),"
        " notice_counted AS (UPDATE delegations d SET notices_written = d.notices_written + c.n"
        "  FROM notice_locked l JOIN notice_counts c ON c.delegation_id = l.id"
        f"  WHERE d.forum_id = {forum} AND d.id = l.id"
        "  RETURNING d.id AS delegation_id, d.notices_written - c.n AS before),"
        " notice_inserted AS (INSERT INTO notices (forum_id, delegation_id, publication_id, payload, number)"
        f"  SELECT {forum}, g.delegation_id, {publication}, g.payload, c.before + g.nth"
        "  FROM notice_given g JOIN notice_counted c USING (delegation_id) ORDER BY g.position"
        "  RETURNING id, delegation_id),"
        " notice_delivered AS (INSERT INTO webhook_deliveries (notice_id, webhook_id)"
        f"  SELECT i.id, w.id FROM notice_inserted i JOIN webhooks w ON w.forum_id = {forum}"
        "  AND w.delegation_id = i.delegation_id ORDER BY i.id, w.id)"
    )


async def notices_after(
    connection: asyncpg.Connection, forum_id: Any, delegation_id: str, after_number: int
) -> list[NoticeRow]:
    rows = await connection.fetch(
        "SELECT number, payload FROM notices WHERE forum_id = $1 AND delegation_id = $2 AND number > $3"
        " ORDER BY number LIMIT 100",
        forum_id,
        delegation_id,
        after_number,
    )
    return [NoticeRow(row["number"], row["payload"]) for row in rows]


# ---- webhooks


async def insert_webhook(
    connection: asyncpg.Connection, forum_id: Any, delegation_id: str, url: str, secret: str, most: int
) -> WebhookRecord | None:
    """The delegation's new webhook; None when it has `most` already. In the caller's transaction:
    the delegation's row lock, taken first, has concurrent registrations count one after another
    (a count in the insert's own statement would read a snapshot from before the other's commit)."""
    await connection.execute(
        "SELECT 1 FROM delegations WHERE forum_id = $1 AND id = $2 FOR UPDATE", forum_id, delegation_id
    )
    held = await connection.fetchval(
        "SELECT count(*) FROM webhooks WHERE forum_id = $1 AND delegation_id = $2", forum_id, delegation_id
    )
    if held >= most:
        return None
    # The delegation's count of registrations, raised under its row lock: numbers never collide,
    # and one freed by a deletion never names a later webhook.
    row = await connection.fetchrow(
        "WITH counted AS (UPDATE delegations SET webhooks_registered = webhooks_registered + 1"
        "  WHERE forum_id = $1 AND id = $2 RETURNING webhooks_registered)"
        " INSERT INTO webhooks (forum_id, delegation_id, number, url, secret)"
        " SELECT $1, $2, webhooks_registered, $3, $4 FROM counted"
        " RETURNING number AS id, url, created_at",
        forum_id,
        delegation_id,
        url,
        secret,
    )
    assert row is not None
    return WebhookRecord(**dict(row))


async def list_webhooks(connection: asyncpg.Connection, forum_id: Any, delegation_id: str) -> list[WebhookRecord]:
    rows = await connection.fetch(
        "SELECT number AS id, url, created_at FROM webhooks WHERE forum_id = $1 AND delegation_id = $2 ORDER BY number",
        forum_id,
        delegation_id,
    )
    return [WebhookRecord(**dict(row)) for row in rows]


async def delete_webhook(connection: asyncpg.Connection, forum_id: Any, delegation_id: str, webhook_id: int) -> bool:
    """Remove the delegation's webhook numbered `webhook_id`; False when it has none so numbered."""
    status = await connection.execute(
        "DELETE FROM webhooks WHERE forum_id = $1 AND delegation_id = $2 AND number = $3",
        forum_id,
        delegation_id,
        webhook_id,
    )
    return status.endswith(" 1")


async def list_deliveries(
    connection: asyncpg.Connection,
    forum_id: Any,
    delegation_id: str,
    webhook_id: int,
    after: int = 0,
    limit: int | None = None,
) -> list[DeliveryRecord]:
    """The webhook's deliveries numbered above `after`, oldest first; all of them without `limit`.

    A delivery's number is its position among its webhook's: each is inserted by the statement that
    first raises its delegation's notice count (`notices_written`), whose row lock a concurrent
    writer waits on (so a webhook's deliveries commit in id order), and deleted only with the webhook."""
    rows = await connection.fetch(
        "SELECT d.number AS id, n.number AS notice_id, w.number AS webhook_id, d.status,"
        " d.attempts, d.next_attempt_at, d.delivered_at,"
        " coalesce((SELECT jsonb_agg(jsonb_build_object('at', a.at, 'status_code', a.status_code, 'error', a.error)"
        "   ORDER BY a.id) FROM webhook_attempts a WHERE a.delivery_id = d.id), '[]') AS history"
        " FROM (SELECT *, row_number() OVER (ORDER BY id) AS number FROM webhook_deliveries"
        "       WHERE webhook_id = (SELECT id FROM webhooks WHERE forum_id = $1 AND delegation_id = $2 AND number = $3)"
        "      ) d"
        " JOIN webhooks w ON w.id = d.webhook_id JOIN notices n ON n.id = d.notice_id"
        " WHERE d.number > $4::bigint ORDER BY d.id LIMIT $5",
        forum_id,
        delegation_id,
        webhook_id,
        after,
        limit,
    )
    return [msgspec.convert(dict(row), DeliveryRecord, strict=False) for row in rows]


# ---- the dispatcher's side


async def claim_due(connection: asyncpg.Connection, lease_seconds: float, limit: int) -> list[DueDelivery]:
    """Due deliveries, hidden from other dispatchers for `lease_seconds` while this one posts them.
    None of a closed forum: as its delegations' tokens and calendar feeds, its webhooks are silent
    while it is closed; their deliveries stay pending, their attempts unspent, and go out once the
    forum is reopened (a closed forum publishes nothing, so no new notice joins them)."""
    rows = await connection.fetch(
        "WITH due AS ("
        "  SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= now()"
        "  AND NOT EXISTS (SELECT 1 FROM notices n JOIN forums f ON f.id = n.forum_id"
        "   WHERE n.id = webhook_deliveries.notice_id AND f.closed_at IS NOT NULL)"
        "  ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)"
        " UPDATE webhook_deliveries d SET next_attempt_at = now() + make_interval(secs => $1)"
        " FROM due, webhooks w, notices n WHERE d.id = due.id AND w.id = d.webhook_id AND n.id = d.notice_id"
        " RETURNING d.id, n.number AS notice_id, d.attempts, w.url, w.secret, n.payload",
        lease_seconds,
        limit,
    )
    return [msgspec.convert(dict(row), DueDelivery) for row in rows]


async def record_attempt(
    connection: asyncpg.Connection,
    delivery_id: int,
    status_code: int | None,
    error: str | None,
    retry_in_seconds: float | None,
) -> None:
    """One attempt: delivered when `error` is None, else retried after `retry_in_seconds` (None: given up)."""
    async with connection.transaction():
        await connection.execute(
            "INSERT INTO webhook_attempts (delivery_id, status_code, error) VALUES ($1, $2, $3)",
            delivery_id,
            status_code,
            error,
        )
        if error is None:
            status, delay = "delivered", 0.0
        else:
            status, delay = ("pending", retry_in_seconds) if retry_in_seconds is not None else ("failed", 0.0)
        await connection.execute(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, status = $2,"
            " next_attempt_at = now() + make_interval(secs => $3),"
            " delivered_at = CASE WHEN $2 = 'delivered' THEN now() END WHERE id = $1",
            delivery_id,
            status,
            delay,
        )
