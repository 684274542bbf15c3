"""Audit entries written before migration 0012 named solve runs and webhooks by the tables'
server-wide ids; migration 0015 gives them the numbers 0012 gave those runs and webhooks, and
leaves alone what it cannot tie to a row beyond doubt: entries written since 0012 (which name
numbers already, some equal to another run's id) and those of webhooks removed since."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
import pytest

from db.migrate import MIGRATIONS_DIR, migrate
from tests.conftest import Databases

pytestmark = pytest.mark.anyio

FORUM = (
    "INSERT INTO forums (name, time_zone, slot_minutes, days, organiser_token_hash)"
    " VALUES ($1, 'UTC', 15, '[]', $2) RETURNING id"
)
ENTRY = (
    "INSERT INTO audit_log (forum_id, actor, action, entity, entity_id, before, after)"
    " VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb)"
)


def at(second: int) -> datetime:
    return datetime(2026, 3, 1, 9, 0, second, 250_000, tzinfo=UTC)


def as_json(value: object) -> str | None:
    """`value` as record_change stores it (msgspec.to_builtins: times as RFC 3339, 'Z' for UTC)."""
    return None if value is None else json.dumps(msgspec.to_builtins(value))


def run_shown(run_id: int, forum_id: UUID, created: datetime, status: str = "queued") -> dict[str, Any]:
    """A run as the API showed it, and its audit entries copied it, from 639d1e3 to 0012."""
    return {
        "id": run_id,
        "forum_id": forum_id,
        "status": status,
        "options": {"time_limit": 10.0, "workers": 2, "seed": 0, "resolve": None},
        "cancel_requested": status == "cancelled",
        "attempts": 0,
        "progress": None,
        "error": None,
        "created_at": created,
        "started_at": None,
        "finished_at": None,
        "version": None,
        "moves": None,
    }


LEASE = ("lease_owner", "lease_expires_at", "heartbeat_at", "version_id")


def run_record(
    run_id: int, forum_id: UUID, created: datetime, status: str = "queued", version_id: int | None = None
) -> dict[str, Any]:
    """A run as its entries copied it before 639d1e3: the whole record, worker lease and all."""
    shown = run_shown(run_id, forum_id, created, status)
    del shown["moves"], shown["version"]
    leased = status != "queued"
    return {
        **shown,
        "version_id": version_id,
        "lease_owner": "worker-7.example.org:4242" if leased else None,
        "lease_expires_at": created if leased else None,
        "heartbeat_at": created if leased else None,
    }


def summary(number: int, run_id: int, created: datetime) -> dict[str, Any]:
    """A version's summary, as a publication's entry holds it."""
    return {
        "number": number,
        "published": True,
        "published_at": created,
        "created_at": created,
        "run_id": run_id,
        "status": "OPTIMAL",
        "objective": 0,
        "placed": 2,
        "unplaced": 0,
    }


def webhook(webhook_id: int, url: str, created: datetime) -> dict[str, Any]:
    return {"id": webhook_id, "url": url, "created_at": created}


async def migrate_below(connection: asyncpg.Connection, tmp_path: Path, number: int) -> None:
    """Apply the migrations numbered below `number`, as a server of that time had them."""
    directory = tmp_path / f"below-{number}"
    directory.mkdir()
    for path in MIGRATIONS_DIR.glob("*.sql"):
        if int(path.name[:4]) < number:
            shutil.copy(path, directory / path.name)
    await migrate(connection, directory)


async def write(
    connection: asyncpg.Connection,
    forum_id: UUID,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    before: object = None,
    after: object = None,
) -> None:
    await connection.execute(ENTRY, forum_id, actor, action, entity, entity_id, as_json(before), as_json(after))


async def entries(connection: asyncpg.Connection) -> list[tuple[Any, ...]]:
    rows = await connection.fetch(
        "SELECT forum_id, action, entity, entity_id, before, after, number, revision, at FROM audit_log ORDER BY id"
    )
    return [tuple(row) for row in rows]


async def test_entries_written_before_0012_name_runs_and_webhooks_by_their_numbers(
    databases: Databases, tmp_path: Path
) -> None:
    connection = await asyncpg.connect(await databases.create())
    try:
        await _old_server(connection, tmp_path)
        await _server_since_0012(connection, tmp_path)
        written = await entries(connection)
        await migrate(connection)  # 0015
        a, b = await connection.fetch("SELECT id FROM forums ORDER BY name")
        a, b = a["id"], b["id"]
        rows = await entries(connection)
        shown = [
            (
                forum_id,
                action,
                entity,
                entity_id,
                None if before is None else json.loads(before).get("id"),
                None if after is None else json.loads(after).get("run_id" if entity == "schedule" else "id"),
            )
            for forum_id, action, entity, entity_id, before, after, *_ in rows
        ]
        assert shown == [
            # written before 0012: ids, now numbers
            (a, "create", "run", "1", None, 1),  # A's first run: id 1, number 1
            (a, "cancel", "run", "1", 1, 1),
            (b, "create", "run", "1", None, 1),  # B's first run: id 2
            (a, "create", "run", "2", None, 2),  # A's second run: id 3
            (a, "cancel", "run", "2", 2, 2),
            (a, "publish", "schedule", "1", None, 2),  # version 1 of A's second run
            (b, "create", "webhook", "1", None, 1),  # B/AUS's first webhook: id 1, number 1
            (a, "create", "webhook", "2", None, 2),  # removed before 0012: never numbered, left as written
            (a, "create", "webhook", "1", None, 1),  # A/SGP's webhook 3, numbered 1 by 0012
            (a, "delete", "webhook", "2", None, None),  # of the removed one: left as written
            # written since 0012: numbers already, though A's run id 3 and B's webhook id 2 exist
            (a, "create", "run", "3", None, 3),
            (a, "publish", "schedule", "2", None, 3),
            (a, "create", "webhook", "2", None, 2),
        ]
        # The old copies of a whole run record lose the worker's lease and the version's
        # server-wide id; they name the version by its number, as the API shows a run.
        for *_, before, after, _number, _revision, _at in rows:
            for value in (before, after):
                assert value is None or not set(LEASE) & set(json.loads(value)), value
        assert json.loads(written[1][4])["lease_owner"] == "worker-7.example.org:4242"
        cancelled = json.loads(rows[1][5])
        assert cancelled["status"] == "cancelled" and cancelled["version"] == 1  # version id 2
        assert json.loads(rows[1][4])["version"] is None
        # Only the names changed: the rest of each entry, its number and revision are as written.
        for old, new in zip(written, rows, strict=True):
            assert old[6:] == new[6:]
            for before_or_after in (4, 5):
                if old[before_or_after] is not None:
                    kept = {key: value for key, value in json.loads(old[before_or_after]).items() if key != "id"}
                    changed = {key: value for key, value in json.loads(new[before_or_after]).items() if key != "id"}
                    kept.pop("run_id", None), changed.pop("run_id", None)
                    for key in (*LEASE, "version"):
                        kept.pop(key, None), changed.pop(key, None)
                    assert kept == changed
        sql = (MIGRATIONS_DIR / "0015_audit_run_and_webhook_numbers.sql").read_text()
        await connection.execute(sql)  # run again: nothing left that it ties to a row
        assert await entries(connection) == rows
    finally:
        await connection.close()


async def _old_server(connection: asyncpg.Connection, tmp_path: Path) -> None:
    """Two forums' runs, a publication and webhooks, with entries as the code before 0012 wrote them."""
    await migrate_below(connection, tmp_path, 12)
    a, b = [await connection.fetchval(FORUM, name, f"hash-{name}") for name in ("A", "B")]
    for forum_id, delegation in ((a, "SGP"), (b, "AUS")):
        await connection.execute(
            "INSERT INTO delegations (forum_id, id, name, country, token_hash) VALUES ($1, $2, $2, 'SG', $3)",
            forum_id,
            delegation,
            f"token-{delegation}",
        )
    organiser_a, organiser_b = f"organiser:{a}", f"organiser:{b}"
    sgp, aus = f"delegation:{a}/SGP", f"delegation:{b}/AUS"
    runs = []
    for forum_id, second in ((a, 1), (b, 2), (a, 3)):  # interleaved: A's second run is id 3
        runs.append(
            await connection.fetchval(
                "INSERT INTO solve_runs (forum_id, options, created_at) VALUES ($1, '{}', $2) RETURNING id",
                forum_id,
                at(second),
            )
        )
    assert runs == [1, 2, 3]
    for forum_id, run in ((b, 2), (a, 3)):  # A's version 1 is id 2
        await connection.execute(
            "INSERT INTO schedule_versions (forum_id, number, run_id, created_at) VALUES ($1, 1, $2, $3)",
            forum_id,
            run,
            at(4),
        )
    hooks = []
    for forum_id, delegation, second in ((b, "AUS", 5), (a, "SGP", 6), (a, "SGP", 7)):
        hooks.append(
            await connection.fetchval(
                "INSERT INTO webhooks (forum_id, delegation_id, url, secret, created_at)"
                " VALUES ($1, $2, $3, 's', $4) RETURNING id",
                forum_id,
                delegation,
                f"https://hooks.example.org/{second}",
                at(second),
            )
        )
    assert hooks == [1, 2, 3]
    await connection.execute("DELETE FROM webhooks WHERE id = 2")

    await write(connection, a, organiser_a, "create", "run", "1", None, run_record(1, a, at(1)))
    running = run_record(1, a, at(1), "running")
    await write(connection, a, organiser_a, "cancel", "run", "1", running, run_record(1, a, at(1), "cancelled", 2))
    await write(connection, b, organiser_b, "create", "run", "2", None, run_shown(2, b, at(2)))
    await write(connection, a, organiser_a, "create", "run", "3", None, run_shown(3, a, at(3)))
    cancelled = run_shown(3, a, at(3), "cancelled")
    await write(connection, a, organiser_a, "cancel", "run", "3", run_shown(3, a, at(3)), cancelled)
    await write(connection, a, organiser_a, "publish", "schedule", "1", None, summary(1, 3, at(4)))
    for forum_id, actor, hook, second in ((b, aus, 1, 5), (a, sgp, 2, 6), (a, sgp, 3, 7)):
        after = webhook(hook, f"https://hooks.example.org/{second}", at(second))
        await write(connection, forum_id, actor, "create", "webhook", str(hook), None, after)
    await write(connection, a, sgp, "delete", "webhook", "2")


async def _server_since_0012(connection: asyncpg.Connection, tmp_path: Path) -> None:
    """Entries as the code since 0012 writes them: numbers, here equal to other rows' ids."""
    await migrate_below(connection, tmp_path, 15)
    a = await connection.fetchval("SELECT id FROM forums WHERE name = 'A'")
    organiser, sgp = f"organiser:{a}", f"delegation:{a}/SGP"
    run = await connection.fetchval(
        "INSERT INTO solve_runs (forum_id, number, options, created_at) VALUES ($1, 3, '{}', $2) RETURNING id",
        a,
        at(8),
    )
    assert run == 4  # A's third run: number 3, as A's second run's id
    await connection.execute(
        "INSERT INTO schedule_versions (forum_id, number, run_id, created_at) VALUES ($1, 2, $2, $3)", a, run, at(9)
    )
    hook = await connection.fetchval(
        "WITH counted AS (UPDATE delegations SET webhooks_registered = webhooks_registered + 1"
        "  WHERE forum_id = $1 AND id = 'SGP' RETURNING webhooks_registered)"
        " INSERT INTO webhooks (forum_id, delegation_id, number, url, secret, created_at)"
        " SELECT $1, 'SGP', webhooks_registered, 'https://hooks.example.org/10', 's', $2 FROM counted RETURNING number",
        a,
        at(10),
    )
    assert hook == 2  # as the webhook removed before 0012 was named
    await write(connection, a, organiser, "create", "run", "3", None, run_shown(3, a, at(8)))
    await write(connection, a, organiser, "publish", "schedule", "2", None, summary(2, 3, at(9)))
    await write(connection, a, sgp, "create", "webhook", "2", None, webhook(2, "https://hooks.example.org/10", at(10)))
