"""The pool skips asyncpg's reset query (db.pool.keep_session): what it would clear
must never exist. A transaction left open is still rolled back by asyncpg, and no
code creates session state that would leak into the next request."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from db.pool import connect
from tests.conftest import Databases

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parent.parent
# session-level state the default reset would clear: settings, advisory locks, listeners, cursors
SESSION_STATE = re.compile(
    r"execute\(\s*f?[\"']\s*SET\s+(?!LOCAL\b)|\bpg_advisory_lock\b|[\"']\s*LISTEN\b|add_listener|\.cursor\(",
    re.IGNORECASE,
)


def test_no_code_creates_session_state() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for folder in ("api", "db")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if SESSION_STATE.search(line) and "SESSION_STATE" not in line
    ]
    assert offenders == [], "session state outlives the request with keep_session; use SET LOCAL or xact locks"


async def test_a_transaction_left_open_is_rolled_back_on_release(databases: Databases) -> None:
    url = await databases.create()
    pool = await connect(url, min_size=1, max_size=1)  # one connection: the second acquire gets the same one
    try:
        async with pool.acquire() as connection:
            await connection.execute("CREATE TABLE marks (id int)")
            await connection.execute("BEGIN")
            await connection.execute("INSERT INTO marks VALUES (1)")
        async with pool.acquire() as connection:
            assert not connection.is_in_transaction()
            assert await connection.fetchval("SELECT count(*) FROM marks") == 0
    finally:
        await pool.close()


def test_the_pattern_catches_what_it_should() -> None:
    caught = ('execute("SET search_path TO x")', "execute('SET SESSION work_mem = 1')", "pg_advisory_lock(1)")
    for line in (*caught, '"LISTEN runs"'):
        assert SESSION_STATE.search(line), line
    allowed = ('execute("SET LOCAL lock_timeout = 1")', 'execute("UPDATE t SET v = 1")', "pg_advisory_xact_lock(1)")
    for line in allowed:
        assert not SESSION_STATE.search(line), line
