"""Transient database failures never answer 500 (db/transient.py, api/errors.py, db/pool.py).

A deadlock, a serialization failure or a connection lost before the change's COMMIT was
sent runs the request's whole transaction again, a bounded number of times; what still
fails, a database that cannot be reached, a connection lost during the COMMIT, and no
connection free within the pool's acquire timeout answer 503 with Retry-After, as an
RFC 9457 problem, and are logged.

All against the real PostgreSQL: the deadlocks are real ones between two requests; a
persistent failure is raised by PostgreSQL itself, from a trigger in a database of the
test's own; the unreachable server is a port nobody listens on; the busy pool is one
whose only connection the test holds; the lost connection is a backend terminated.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest

from api.app import create_app
from db import forum_state
from db.migrate import migrate_url
from db.pool import connect, connect_one, setup_connection
from db.queries import items
from db.queries.delegations import DELEGATIONS
from db.records import DelegationRecord
from db.tokens import hash_token
from db.transient import ATTEMPTS
from tests.conftest import ADMIN_TOKEN, FORUM_BODY, Databases, World, asgi_client, bearer
from tests.test_api_changes import Forum, arrival_body, imported, store_greedy

pytestmark = pytest.mark.anyio

CSV = {"Content-Type": "text/csv"}
PROBLEM = "application/problem+json"


@pytest.fixture(autouse=True)
def empty_state() -> Iterator[None]:
    forum_state.forget_all()
    yield
    forum_state.forget_all()


async def _blocked_by(watcher: asyncpg.Connection, pid: int, count: int) -> list[int]:
    """The backends waiting for a lock `pid` holds, once there are `count` of them."""
    query = "SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))"
    for _ in range(1000):
        waiting = [row["pid"] for row in await watcher.fetch(query, pid)]
        if len(waiting) == count:
            return waiting
        await asyncio.sleep(0.01)
    raise AssertionError(f"{count} backends never waited for {pid}")


async def _holding(database_url: str, world: World, codes: list[str]) -> tuple[asyncpg.Connection, Any]:
    """A connection whose open transaction has inserted delegations `codes`: an insert of any of
    them elsewhere waits until it ends."""
    holder = await connect_one(database_url)
    await setup_connection(holder)
    transaction = holder.transaction()
    await transaction.start()
    for code in codes:
        record = DelegationRecord(code, f"held {code}", code[:2])
        await items.insert_item(holder, DELEGATIONS, (world.forum_id,), record, {"token_hash": hash_token(code)})
    return holder, transaction


async def _concurrent_imports(
    client: httpx.AsyncClient, world: World, database_url: str, files: list[str], held: list[str]
) -> list[httpx.Response]:
    """The files imported at once, each first waiting at its first row for a transaction that
    inserted `held` and then rolls back, so that the imports go on together."""
    holder, transaction = await _holding(database_url, world, held)
    watcher = await connect_one(database_url)
    try:
        headers = {**world.organiser, **CSV}
        url = f"{world.base}/import/delegations"
        imports = [asyncio.create_task(client.post(url, content=text.encode(), headers=headers)) for text in files]
        await _blocked_by(watcher, holder.get_server_pid(), len(files))
        await transaction.rollback()
        return list(await asyncio.gather(*imports))
    finally:
        await holder.close()
        await watcher.close()


async def _imported_audit(client: httpx.AsyncClient, world: World) -> list[str]:
    audit = await client.get(f"{world.base}/audit?limit=1000", headers=world.organiser)
    return sorted(entry["entity_id"] for entry in audit.json() if entry["action"] == "import")


# A barrier before each import's second row (a trigger of the test's own, on its forum's delegations
# only): the inserts count themselves in a setting of their transaction, and the second waits for an
# advisory lock the test holds, shared, so that both wait together and go on together.
BARRIER_KEY = 7_340_001
BARRIER = """
CREATE FUNCTION barrier_before_second_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    inserted int := coalesce(nullif(current_setting('sidelines_test.inserted', true), ''), '0')::int + 1;
BEGIN
    PERFORM set_config('sidelines_test.inserted', inserted::text, true);
    IF inserted = 2 THEN
        PERFORM pg_advisory_xact_lock_shared(TG_ARGV[0]::bigint);
    END IF;
    RETURN NEW;
END $$;
"""


async def _imports_in_step(
    client: httpx.AsyncClient, world: World, database_url: str, files: list[str]
) -> list[httpx.Response]:
    """The files imported at once, each stopping before its second row until every one has stored
    its first: then each goes on to a row another holds, whatever the machine's load."""
    gate = await connect_one(database_url)
    imports: list[asyncio.Task[httpx.Response]] = []
    try:
        await gate.execute(BARRIER)
        await gate.execute(
            "CREATE TRIGGER barrier BEFORE INSERT ON delegations FOR EACH ROW"
            f" WHEN (NEW.forum_id = '{world.forum_id}') EXECUTE FUNCTION barrier_before_second_row('{BARRIER_KEY}')"
        )
        await gate.execute("SELECT pg_advisory_lock($1)", BARRIER_KEY)
        headers = {**world.organiser, **CSV}
        url = f"{world.base}/import/delegations"
        imports = [asyncio.create_task(client.post(url, content=text.encode(), headers=headers)) for text in files]
        await _blocked_by(gate, gate.get_server_pid(), len(files))
        await gate.execute("SELECT pg_advisory_unlock($1)", BARRIER_KEY)
        return list(await asyncio.gather(*imports))
    finally:
        # the imports let through and ended before the trigger goes (dropping it waits for them)
        await gate.execute("SELECT pg_advisory_unlock_all()")
        await asyncio.gather(*imports, return_exceptions=True)
        await gate.execute("DROP TRIGGER IF EXISTS barrier ON delegations")
        await gate.execute("DROP FUNCTION IF EXISTS barrier_before_second_row()")
        await gate.close()


async def test_two_imports_naming_new_ids_in_opposite_orders_deadlock_and_both_succeed(
    client: httpx.AsyncClient, world: World, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Each import stores its first id and, at the barrier, waits until the other has stored its
    # own; then each inserts the id the other holds uncommitted and waits for it: a real deadlock,
    # which PostgreSQL breaks (after deadlock_timeout) by aborting one of them.
    caplog.set_level(logging.INFO, logger="sidelines")
    files = [
        "id,name,country\nNZL,New Zealand,NZ\nIDN,Indonesia,ID\n",
        "id,name,country\nIDN,Indonesia,ID\nNZL,New Zealand,NZ\n",
    ]
    answers = await _imports_in_step(client, world, database_url, files)

    assert [answer.status_code for answer in answers] == [200, 200], [answer.text for answer in answers]
    outcomes = sorted((sorted(a.json()["created"]), sorted(a.json()["unchanged"])) for a in answers)
    assert outcomes == [([], ["IDN", "NZL"]), (["IDN", "NZL"], [])]  # one stored both, the other found them
    retried = [record.getMessage() for record in caplog.records if "deadlock detected" in record.getMessage()]
    assert len(retried) == 1 and "40P01); retrying, attempt 2 of 3" in retried[0], retried
    # The data is whole: each delegation once, as imported, one audit entry each, and the
    # tokens the storing import handed out are the stored ones.
    listed = await client.get(f"{world.base}/delegations", headers=world.organiser)
    names = {entry["id"]: entry["name"] for entry in listed.json()}
    assert names["NZL"] == "New Zealand" and names["IDN"] == "Indonesia"
    assert await _imported_audit(client, world) == ["IDN", "NZL"]
    tokens = next(answer.json()["tokens"] for answer in answers if answer.json()["created"])
    for code, token in tokens.items():
        assert (await client.get(f"{world.base}/delegations/{code}", headers=bearer(token))).status_code == 200


async def test_two_imports_of_the_same_new_id_at_once_store_it_once(
    client: httpx.AsyncClient, world: World, database_url: str
) -> None:
    # Both read NZL as absent; one inserts it, the other's insert waits for that commit and then
    # does nothing (ON CONFLICT DO NOTHING): that one found it stored, it did not create it.
    files = ["id,name,country\nNZL,New Zealand,NZ\n"] * 2
    answers = await _concurrent_imports(client, world, database_url, files, ["NZL"])

    assert [answer.status_code for answer in answers] == [200, 200], [answer.text for answer in answers]
    outcomes = sorted((a.json()["created"], a.json()["unchanged"], sorted(a.json()["tokens"])) for a in answers)
    assert outcomes == [([], ["NZL"], []), (["NZL"], [], ["NZL"])]
    assert await _imported_audit(client, world) == ["NZL"]
    token = next(answer.json()["tokens"]["NZL"] for answer in answers if answer.json()["created"])
    assert (await client.get(f"{world.base}/delegations/NZL", headers=bearer(token))).status_code == 200


# ---- failures that last: PostgreSQL raises them from a trigger, in a database of the test's own

FAILING = """
CREATE SEQUENCE failed_attempts;
CREATE FUNCTION fail_transiently() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- a sequence is not rolled back: it counts every attempt
    IF nextval('failed_attempts') <= TG_ARGV[1]::int THEN
        RAISE EXCEPTION 'forced by the test' USING ERRCODE = TG_ARGV[0];
    END IF;
    RETURN NEW;
END $$;
"""


class Failing(msgspec.Struct):
    client: httpx.AsyncClient
    pool: asyncpg.Pool

    async def fail(self, table: str, sqlstate: str, times: int) -> None:
        """Inserts into `table` fail with `sqlstate`, the next `times` times."""
        async with self.pool.acquire() as connection:
            await connection.execute(f"DROP TRIGGER IF EXISTS fail ON {table}")
            await connection.execute("SELECT setval('failed_attempts', 1, false)")
            await connection.execute(
                f"CREATE TRIGGER fail BEFORE INSERT ON {table} FOR EACH ROW"
                f" EXECUTE FUNCTION fail_transiently('{sqlstate}', '{times}')"
            )

    async def attempts(self) -> int:
        async with self.pool.acquire() as connection:
            return int(await connection.fetchval("SELECT last_value - 1 + is_called::int FROM failed_attempts"))


@pytest.fixture
async def failing(databases: Databases) -> AsyncIterator[Failing]:
    url = await databases.create()
    await migrate_url(url)
    pool = await connect(url, min_size=1, max_size=5)
    try:
        async with pool.acquire() as connection:
            await connection.execute(FAILING)
        async with asgi_client(create_app(pool, admin_token=ADMIN_TOKEN)) as client:
            yield Failing(client, pool)
    finally:
        await pool.close()


async def _published_forum(failing: Failing) -> Forum:
    """The Shangri-La example with its greedy grid published (tests/test_api_changes.py's fixture)."""
    forum_id, organiser, us = await imported(failing.client)
    number, _, _ = await store_greedy(failing.pool, forum_id)
    published = await failing.client.post(f"/forums/{forum_id}/schedules/{number}/publish", headers=organiser)
    assert published.status_code == 200, published.text
    return Forum(forum_id, organiser, us, number)


def _kept() -> list[tuple[forum_state.Key, bool, list[tuple[str, int]]]]:
    """The states kept and what is derived from each (the names of what is kept in them)."""
    return [(state.key, state.kept, list(state._derived)) for state in forum_state.kept()]


def _assert_unavailable(answer: httpx.Response, retry_after: str, reason: str) -> dict[str, Any]:
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == PROBLEM and answer.headers["retry-after"] == retry_after
    problem: dict[str, Any] = answer.json()
    assert problem["type"] == "urn:sidelines:problem:service-unavailable" and problem["status"] == 503
    assert problem["title"] == "Service Unavailable" and reason in problem["detail"]
    assert "Traceback" not in answer.text and "forced by the test" not in answer.text
    return problem


async def test_a_serialization_failure_is_retried_and_the_change_stored_once(failing: Failing) -> None:
    forum = await _published_forum(failing)
    await failing.fail("forum_changes", "40001", times=1)
    answer = await failing.client.post(f"{forum.base}/changes", json=arrival_body(), headers=forum.organiser)
    assert answer.status_code == 201, answer.text
    assert answer.json()["number"] == 1 and await failing.attempts() == 2
    listed = await failing.client.get(f"{forum.base}/changes", headers=forum.organiser)
    assert [change["number"] for change in listed.json()] == [1]


async def test_a_deadlock_that_lasts_answers_503_and_leaves_the_forum_state_as_it_was(
    failing: Failing, caplog: pytest.LogCaptureFixture
) -> None:
    forum = await _published_forum(failing)
    version = f"{forum.base}/schedules/{forum.published}"
    placed = (await failing.client.get(version, headers=forum.organiser)).json()["placements"][0]
    move = {"meeting": placed["meeting"], "start": placed["start"][:19], "room": placed["room"]}
    checked = await failing.client.post(f"{version}/moves/check", json=move, headers=forum.organiser)
    assert checked.status_code == 200, checked.text  # the forum's state is kept
    before = _kept()
    assert before and all(key[2] == b"[]" for key, _, _ in before)

    await failing.fail("forum_changes", "40P01", times=100)
    caplog.set_level(logging.INFO, logger="sidelines")
    answer = await failing.client.post(f"{forum.base}/changes", json=arrival_body(), headers=forum.organiser)
    _assert_unavailable(answer, "1", "a concurrent request deadlocked with this one")
    assert await failing.attempts() == ATTEMPTS
    # Each attempt kept the state with the change recorded (forum_state.after_change), and what
    # the published grid breaks in the state before it; each rolled back, so neither is left.
    assert _kept() == before
    assert (await failing.client.get(f"{forum.base}/changes", headers=forum.organiser)).json() == []
    logged = [record for record in caplog.records if "answered 503" in record.getMessage()]
    assert len(logged) == 1 and logged[0].levelno == logging.WARNING and "DeadlockDetectedError" in logged[0].message

    await failing.fail("forum_changes", "40P01", times=0)  # the database is well again
    again = await failing.client.post(f"{forum.base}/changes", json=arrival_body(), headers=forum.organiser)
    assert again.status_code == 201 and again.json()["number"] == 1


async def test_a_serialization_failure_that_lasts_answers_503(failing: Failing) -> None:
    made = await failing.client.post("/forums", json=FORUM_BODY, headers=bearer(ADMIN_TOKEN))
    assert made.status_code == 201, made.text
    organiser = bearer(made.json()["organiser_token"])
    await failing.fail("delegations", "40001", times=100)
    answer = await failing.client.post(
        f"/forums/{made.json()['forum']['id']}/delegations",
        json={"id": "NZL", "name": "N", "country": "NZ"},
        headers={**organiser, "Idempotency-Key": "k1"},
    )
    _assert_unavailable(answer, "1", "a concurrent change conflicted with this one")
    assert await failing.attempts() == ATTEMPTS


# ---- no database to be had


class Logged(logging.Handler):
    """The records of the `sidelines` loggers. Not caplog: an app started inside the test
    configures logging (Litestar's LoggingConfig), which takes caplog's handler off the root."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_an_unreachable_database_answers_503() -> None:
    logged = Logged()
    with socket.socket() as bound:  # bound, never listening: connections to it are refused
        bound.bind(("127.0.0.1", 0))
        port = bound.getsockname()[1]
        pool = await connect(f"postgresql://postgres@127.0.0.1:{port}/none", min_size=0, max_size=2)
        try:
            async with asgi_client(create_app(pool, admin_token=ADMIN_TOKEN)) as client:
                logging.getLogger("sidelines").addHandler(logged)
                answer = await client.get("/forums/00000000-0000-0000-0000-000000000000", headers=bearer("some-token"))
                created = await client.post("/forums", json=FORUM_BODY, headers=bearer(ADMIN_TOKEN))
        finally:
            logging.getLogger("sidelines").removeHandler(logged)
            await pool.close()
    for each in (answer, created):
        _assert_unavailable(each, "5", "the database cannot be reached")
        assert str(port) not in each.text  # where the database is stays in the log
    messages = [record.getMessage() for record in logged.records if record.levelno == logging.WARNING]
    assert len(messages) == 2 and all("answered 503" in m and "ConnectionRefusedError" in m for m in messages)


async def test_no_free_connection_within_the_acquire_timeout_answers_503(database_url: str, world: World) -> None:
    pool = await connect(database_url, min_size=1, max_size=1, acquire_timeout=0.2)
    try:
        async with asgi_client(create_app(pool, admin_token=ADMIN_TOKEN)) as client:
            async with pool.acquire():  # the pool's only connection, held
                answer = await asyncio.wait_for(client.get(world.base, headers=world.organiser), 10)
            _assert_unavailable(answer, "5", "every database connection is busy")
            assert (await client.get(world.base, headers=world.organiser)).status_code == 200  # released: well again
    finally:
        await pool.close()


async def test_a_connection_lost_before_commit_is_retried_and_the_change_stored_once(
    client: httpx.AsyncClient, world: World, database_url: str
) -> None:
    """Lost while the change waits in its work, before its COMMIT was sent: PostgreSQL rolled it
    back whole, so it runs again on another connection (db/transient.py) and is stored once."""
    holder, transaction = await _holding(database_url, world, ["NZL"])
    watcher = await connect_one(database_url)
    try:
        body = {"id": "NZL", "name": "New Zealand", "country": "NZ"}
        task = asyncio.create_task(client.post(f"{world.base}/delegations", json=body, headers=world.organiser))
        [waiting] = await _blocked_by(watcher, holder.get_server_pid(), 1)
        await watcher.execute("SELECT pg_terminate_backend($1)", waiting)  # the request's connection
        for _ in range(1000):  # the attempt run again, on another connection, waits in its turn
            again = await _blocked_by(watcher, holder.get_server_pid(), 1)
            if again != [waiting]:
                break
            await asyncio.sleep(0.01)
        await transaction.rollback()
        answer = await asyncio.wait_for(task, 30)
    finally:
        await holder.close()
        await watcher.close()
    assert answer.status_code == 201, answer.text
    created = [e for e in await _audit(client, world) if (e["entity"], e["entity_id"]) == ("delegation", "NZL")]
    assert [e["action"] for e in created] == ["create"]


async def test_a_connection_lost_during_commit_answers_503(
    client: httpx.AsyncClient, world: World, database_url: str
) -> None:
    """Lost while its COMMIT waits (at commit the audit entries are numbered under the forum's
    forum_revisions row, which the test holds): whether it was stored cannot be told from the
    API's side, so it is not run again; 503 with Retry-After (here it was not stored)."""
    holder = await connect_one(database_url)
    watcher = await connect_one(database_url)
    transaction = holder.transaction()
    await transaction.start()
    try:
        await holder.execute(
            "INSERT INTO forum_revisions AS f (forum_id, revision) VALUES ($1, 0)"
            " ON CONFLICT (forum_id) DO UPDATE SET revision = f.revision",
            world.forum_id,
        )
        body = {"id": "NZL", "name": "New Zealand", "country": "NZ"}
        task = asyncio.create_task(client.post(f"{world.base}/delegations", json=body, headers=world.organiser))
        [waiting] = await _blocked_by(watcher, holder.get_server_pid(), 1)
        query = await watcher.fetchval("SELECT query FROM pg_stat_activity WHERE pid = $1", waiting)
        assert query.strip().rstrip(";").upper() == "COMMIT", query
        await watcher.execute("SELECT pg_terminate_backend($1)", waiting)  # the request's connection
        answer = await asyncio.wait_for(task, 30)
        await transaction.rollback()
    finally:
        await holder.close()
        await watcher.close()
    _assert_unavailable(answer, "5", "the connection to the database was lost")
    assert (await client.get(f"{world.base}/delegations/NZL", headers=world.organiser)).status_code == 404
    assert (await client.get(world.base, headers=world.organiser)).status_code == 200  # the pool reconnects


async def _audit(client: httpx.AsyncClient, world: World) -> list[dict[str, Any]]:
    answer = await client.get(f"{world.base}/audit?limit=1000", headers=world.organiser)
    assert answer.status_code == 200, answer.text
    return list(answer.json())
