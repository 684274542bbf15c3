"""Change notices: only the delegations whose meetings a publication changed are told,
by signed webhook (to a real HTTP receiver on 127.0.0.1) and on their event stream.

v1 holds SGP-AUS, SGP-JPN and AUS-JPN; v2 moves SGP-JPN only, so publishing v2
concerns SGP and JPN, and never AUS.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from uuid import UUID

import anyio
import asyncpg
import httpx
import msgspec
import pytest
import uvicorn

from api import publishing
from api.app import create_app
from api.controllers.notices import MAX_WEBHOOKS
from api.dispatcher import SIGNATURE_HEADER, DispatchSettings, deliver_due
from api.webhook_policy import ALLOW_VARIABLE
from api.worker import run_worker
from db.queries import notices
from db.queries.runs import GridPlacement
from tests.conftest import ADMIN_TOKEN, World, make_world
from tests.grids import Slot, agree, publish, store_grid
from tests.test_api_runs import FAST

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def loopback_receivers_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The receivers here listen on 127.0.0.1, which the webhook policy refuses unless allowed
    (and `localhost` may resolve to ::1 as well)."""
    monkeypatch.setenv(ALLOW_VARIABLE, "127.0.0.0/8,::1/128")


class Received(msgspec.Struct):
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def notice(self) -> dict[str, Any]:
        return msgspec.json.decode(self.body)


class Receiver:
    """A real HTTP server on 127.0.0.1 that records each POST; the first `failures` get a 500."""

    def __init__(self, failures: int = 0) -> None:
        self.received: list[Received] = []
        self.failures = failures
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                failing = receiver.failures > 0
                receiver.failures -= 1 if failing else 0
                self.send_response(500 if failing else 204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


class Story(msgspec.Struct):
    world: World
    meetings: dict[str, str]
    v1: int
    v2: int
    # Each delegation's notices before any publication: one request.received per meeting arranged.
    received: dict[str, int]


@pytest.fixture
async def story(client: httpx.AsyncClient, world: World, pool: asyncpg.Pool) -> Story:
    pairs = {"sa": ("SGP", "AUS"), "sj": ("SGP", "JPN"), "aj": ("AUS", "JPN")}
    ids = dict(zip(pairs, await agree(client, world, *pairs.values()), strict=True))
    parties = {ids[key]: pair for key, pair in pairs.items()}
    first = {"sa": Slot("R1", "09:00"), "sj": Slot("R1", "09:30"), "aj": Slot("R1", "10:00")}
    second = {**first, "sj": Slot("R1", "11:00")}
    v1 = await store_grid(pool, world, parties, {ids[key]: slot for key, slot in first.items()})
    v2 = await store_grid(pool, world, parties, {ids[key]: slot for key, slot in second.items()})
    rows = await pool.fetch(
        "SELECT delegation_id, count(*) FROM notices WHERE forum_id = $1 GROUP BY delegation_id", UUID(world.forum_id)
    )
    return Story(world, ids, v1, v2, {row["delegation_id"]: row["count"] for row in rows})


async def register(client: httpx.AsyncClient, world: World, delegation: str, url: str) -> str:
    made = await client.post(
        f"{world.base}/delegations/{delegation}/webhooks", json={"url": url}, headers=world.tokens[delegation]
    )
    assert made.status_code == 201, made.text
    return str(made.json()["secret"])


def signed_by(secret: str, received: Received) -> bool:
    fields = dict(part.split("=", 1) for part in received.headers[SIGNATURE_HEADER.lower()].split(","))
    expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + received.body, hashlib.sha256).hexdigest()
    fresh = abs(time.time() - int(fields["t"])) < 300
    return fresh and hmac.compare_digest(expected, fields["v1"])


async def until(condition: Callable[[], bool], seconds: float = 30) -> None:
    with anyio.fail_after(seconds):
        while not condition():
            await asyncio.sleep(0.05)


async def test_only_affected_delegations_get_one_signed_notice(
    client: httpx.AsyncClient, story: Story, pool: asyncpg.Pool, receiver: Receiver
) -> None:
    world, ids = story.world, story.meetings
    secrets = {code: await register(client, world, code, receiver.url(f"/hooks/{code}")) for code in world.tokens}
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(pool, "notices-worker", stop, FAST))  # its dispatcher delivers
    try:
        await publish(client, world, story.v1)  # the first publication concerns everybody
        await until(lambda: len(receiver.received) == 3)
        first_round = len(receiver.received)
        await publish(client, world, story.v2)
        await until(lambda: len(receiver.received) == first_round + 2)
        await asyncio.sleep(1.5)  # a dispatcher round or more: nothing else may arrive
    finally:
        stop.set()
        with anyio.fail_after(60):
            await worker
    second_round = receiver.received[first_round:]
    assert sorted(r.path for r in second_round) == ["/hooks/JPN", "/hooks/SGP"]  # AUS: none
    for received in second_round:
        delegation = received.path.rsplit("/", 1)[1]
        assert signed_by(secrets[delegation], received)
        assert not signed_by(secrets["AUS"], received)
        notice = received.notice
        assert received.headers["sidelines-notice-id"] == str(notice["id"])
        assert (notice["type"], notice["delegation"], notice["version"]) == ("schedule.changed", delegation, story.v2)
        assert notice["previous_version"] == story.v1
        assert [(m["meeting"], m["kind"]) for m in notice["moved"]] == [(ids["sj"], "time")]
        assert notice["moved"][0]["after"]["start"] == "2023-06-02T11:00:00+08:00"
        assert notice["added"] == [] and notice["removed"] == []
    first_notices = {r.path: r.notice for r in receiver.received[:first_round]}
    assert {p["meeting"] for p in first_notices["/hooks/SGP"]["added"]} == {ids["sa"], ids["sj"]}  # never AUS-JPN


async def test_failed_delivery_is_retried_and_every_attempt_recorded(
    client: httpx.AsyncClient, story: Story, pool: asyncpg.Pool
) -> None:
    world = story.world
    flaky = Receiver(failures=1)
    try:
        secret = await register(client, world, "SGP", flaky.url("/flaky"))
        await publish(client, world, story.v1)
        settings = DispatchSettings(first_retry_seconds=0.3, idle_seconds=0.05)
        async with httpx.AsyncClient(timeout=5) as http:
            with anyio.fail_after(30):
                while not any(r.path == "/flaky" for r in flaky.received[1:]):
                    await deliver_due(pool, http, settings)
                    await asyncio.sleep(0.05)
    finally:
        flaky.close()
    assert [r.path for r in flaky.received] == ["/flaky", "/flaky"]
    assert flaky.received[0].body == flaky.received[1].body  # the same notice again
    assert all(signed_by(secret, received) for received in flaky.received)
    sgp = world.tokens["SGP"]
    hooks = (await client.get(f"{world.base}/delegations/SGP/webhooks", headers=sgp)).json()
    deliveries = await client.get(f"{world.base}/delegations/SGP/webhooks/{hooks[0]['id']}/deliveries", headers=sgp)
    assert deliveries.status_code == 200, deliveries.text
    (delivery,) = deliveries.json()
    assert (delivery["status"], delivery["attempts"]) == ("delivered", 2)
    assert [(a["status_code"], a["error"]) for a in delivery["history"]] == [(500, "answered 500"), (204, None)]
    first_at, second_at = (datetime.fromisoformat(a["at"]) for a in delivery["history"])
    assert (second_at - first_at).total_seconds() >= 0.3  # waited out the back-off


async def test_rolled_back_publication_leaves_no_notice(story: Story, pool: asyncpg.Pool) -> None:
    forum = UUID(story.world.forum_id)
    count = (
        "SELECT (SELECT count(*) FROM notices WHERE forum_id = $1 AND publication_id IS NOT NULL)"
        " + (SELECT count(*) FROM publications WHERE forum_id = $1)"
    )
    async with pool.acquire() as connection:
        transaction = connection.transaction()
        await transaction.start()
        outcome = await publishing.publish(connection, forum, story.v1)
        assert outcome.notified == ["AUS", "JPN", "SGP"]
        assert await connection.fetchval(count, forum) == 4  # written in the publishing transaction...
        await transaction.rollback()
    assert await pool.fetchval(count, forum) == 0  # ...so gone with it
    assert await pool.fetchval("SELECT count(*) FROM schedule_versions WHERE forum_id = $1 AND published", forum) == 0


async def test_webhooks_belong_to_their_delegation(client: httpx.AsyncClient, world: World) -> None:
    url = f"{world.base}/delegations/SGP/webhooks"
    sgp = world.tokens["SGP"]
    bad = await client.post(url, json={"url": "ftp://example.org/x"}, headers=sgp)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "url"
    made = await client.post(
        url, json={"url": "https://hooks.example.org/in"}, headers={**sgp, "Idempotency-Key": "w1"}
    )
    assert made.status_code == 201 and len(made.json()["secret"]) > 30
    again = await client.post(
        url, json={"url": "https://hooks.example.org/in"}, headers={**sgp, "Idempotency-Key": "w1"}
    )
    assert again.json()["secret"] is None  # the secret is shown once
    listed = (await client.get(url, headers=sgp)).json()
    assert [w["url"] for w in listed] == ["https://hooks.example.org/in"] and "secret" not in listed[0]
    assert (await client.get(url, headers=world.tokens["JPN"])).status_code == 404
    assert (await client.get(url, headers=world.organiser)).status_code == 403
    hook = f"{url}/{listed[0]['id']}"
    assert (await client.delete(hook, headers=world.tokens["JPN"])).status_code == 404
    assert (await client.delete(hook, headers=sgp)).status_code == 204
    assert (await client.delete(hook, headers=sgp)).status_code == 404


async def test_a_delegation_registers_at_most_ten_webhooks(client: httpx.AsyncClient, world: World) -> None:
    url = f"{world.base}/delegations/SGP/webhooks"
    sgp = world.tokens["SGP"]
    for number in range(1, MAX_WEBHOOKS + 1):
        made = await client.post(url, json={"url": f"https://hooks.example.org/{number}"}, headers=sgp)
        assert made.status_code == 201, made.text
    refused = await client.post(
        url, json={"url": "https://hooks.example.org/more"}, headers={**sgp, "Idempotency-Key": "one-more"}
    )
    assert refused.status_code == 409 and refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["detail"].startswith("a delegation may register at most 10 webhooks, and SGP has 10:")
    assert len((await client.get(url, headers=sgp)).json()) == MAX_WEBHOOKS  # nothing stored
    aus = f"{world.base}/delegations/AUS/webhooks"  # each delegation has its own ten
    assert (await client.post(aus, json={"url": "https://hooks.example.org/a"}, headers=world.tokens["AUS"])).is_success
    assert (await client.delete(f"{url}/3", headers=sgp)).status_code == 204
    made = await client.post(url, json={"url": "https://hooks.example.org/more"}, headers=sgp)
    assert made.status_code == 201 and made.json()["webhook"]["id"] == MAX_WEBHOOKS + 1  # the refusal took no number
    for hook in (await client.get(url, headers=sgp)).json():
        assert (await client.delete(f"{url}/{hook['id']}", headers=sgp)).status_code == 204
    assert (await client.delete(f"{aus}/1", headers=world.tokens["AUS"])).status_code == 204


async def test_two_registrations_at_once_never_pass_the_limit(world: World, pool: asyncpg.Pool) -> None:
    """Two connections register at once where one more webhook is allowed: the second waits for
    the first's commit and finds the limit reached."""
    forum = UUID(world.forum_id)
    async with pool.acquire() as one, pool.acquire() as two:
        first, second = one.transaction(), two.transaction()
        await first.start()
        await second.start()
        assert await notices.insert_webhook(one, forum, "SGP", "https://hooks.example.org/1", "s", 1) is not None
        racing = asyncio.create_task(notices.insert_webhook(two, forum, "SGP", "https://hooks.example.org/2", "s", 1))
        with anyio.fail_after(30):
            while not await pool.fetchval(
                "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1", two.get_server_pid()
            ):
                await asyncio.sleep(0.05)
        await first.commit()
        assert await racing is None
        await second.rollback()
    assert await pool.fetchval("SELECT count(*) FROM webhooks WHERE forum_id = $1", forum) == 1
    await pool.execute("DELETE FROM webhooks WHERE forum_id = $1", forum)


async def test_two_notice_writers_lock_their_delegations_in_id_order_and_never_deadlock(
    world: World, pool: asyncpg.Pool
) -> None:
    """Two writers of notices to the same delegations, named in opposite orders, while a third
    transaction holds the first of them by id (AUS): each waits there holding none of the others
    (locked in id order, not in whatever order the UPDATE's plan visits them), so whichever gets
    AUS first gets all three and the other waits for its commit: numbered one after the other."""
    forum = UUID(world.forum_id)
    written = "SELECT id, notices_written FROM delegations WHERE forum_id = $1 ORDER BY id"
    before = dict(await pool.fetch(written, forum))
    async with pool.acquire() as holder, pool.acquire() as one, pool.acquire() as two:
        writers: list[asyncio.Task[list[int]]] = []
        try:
            async with holder.transaction():
                await holder.execute("SELECT 1 FROM delegations WHERE forum_id = $1 AND id = 'AUS' FOR UPDATE", forum)
                for connection, order in ((one, ["SGP", "JPN", "AUS"]), (two, ["AUS", "JPN", "SGP"])):
                    writers.append(asyncio.create_task(_notices_committed(connection, forum, order)))
                await _waiting_for_a_lock(pool, [one.get_server_pid(), two.get_server_pid()])
                async with pool.acquire() as probe, probe.transaction():
                    # neither writer holds JPN or SGP while it waits for AUS (NOWAIT: refused if one did)
                    free = (
                        "SELECT id FROM delegations WHERE forum_id = $1 AND id <> 'AUS' ORDER BY id FOR UPDATE NOWAIT"
                    )
                    assert [row["id"] for row in await probe.fetch(free, forum)] == ["JPN", "SGP"]
            with anyio.fail_after(30):
                numbers = await asyncio.gather(*writers)  # a deadlock would raise here: no retry in this test
        finally:
            await asyncio.gather(*writers, return_exceptions=True)  # done before their connections go back
    after = dict(await pool.fetch(written, forum))
    assert after == {code: count + 2 for code, count in before.items()}
    assert sorted(n for pair in numbers for n in pair) == sorted(
        n for code, count in before.items() for n in (count + 1, count + 2)
    )


async def _waiting_for_a_lock(pool: asyncpg.Pool, pids: list[int]) -> None:
    """Until every backend of `pids` waits for a lock."""
    waiting = "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1) AND wait_event_type = 'Lock'"
    with anyio.fail_after(30):
        while await pool.fetchval(waiting, pids) < len(pids):
            await asyncio.sleep(0.05)


async def _notices_committed(connection: asyncpg.Connection, forum: UUID, order: list[str]) -> list[int]:
    """One notice to each delegation of `order`, in that order, in a transaction of its own; their
    numbers (each its delegation's own count)."""
    async with connection.transaction():
        ids = await notices.insert_notices(connection, forum, [(code, {"test": "lock order"}) for code in order])
        return [
            int(n) for n in await connection.fetchval("SELECT array_agg(number) FROM notices WHERE id = ANY($1)", ids)
        ]


@pytest.fixture
async def live_server(pool: asyncpg.Pool) -> AsyncIterator[str]:
    """The app on a real socket: an endless event stream cannot be read through ASGITransport,
    which hands the body over only once the app has finished."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        create_app(pool, admin_token=ADMIN_TOKEN),
        lifespan="off",
        ws="none",
        log_level="warning",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[listener]))
    await until(lambda: server.started, 10)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    server.should_exit = True
    with anyio.fail_after(10):
        await task
    listener.close()


async def next_notice(
    live: httpx.AsyncClient, url: str, headers: dict[str, str], publish_step: Callable[[], Awaitable[None]]
) -> tuple[str, dict[str, Any]]:
    """Open the stream, run `publish_step`, and return the first notice's id and data."""
    with anyio.fail_after(20):  # never an endless read
        async with live.stream("GET", url, headers=headers) as stream:
            assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")
            await publish_step()
            event_id = ""
            async for line in stream.aiter_lines():
                if line.startswith("id:"):
                    event_id = line.split(":", 1)[1].strip()
                elif line.startswith("data:"):
                    return event_id, msgspec.json.decode(line.split(":", 1)[1].strip())
    raise AssertionError("the stream ended without a notice")


async def test_a_delegations_notice_ids_count_its_own_notices_only(
    client: httpx.AsyncClient, story: Story, live_server: str
) -> None:
    # Ids were one counter for the whole server: v1's notices went to AUS, JPN and SGP in
    # turn and v2's to JPN and SGP, so SGP saw 3 then 5, and the gap told it that one other
    # delegation's meetings changed in v2 (JPN's: who SGP-JPN's counterpart also meets).
    world = story.world
    url = f"{live_server}{world.base}/delegations/SGP/events"
    sgp, aus = story.received["SGP"], story.received["AUS"]  # the request.received notices come first
    assert (sgp, aus) == (2, 2)
    async with httpx.AsyncClient(timeout=20) as live:
        after_requests = {**world.tokens["SGP"], "Last-Event-ID": str(sgp)}
        first_id, _ = await next_notice(live, url, after_requests, lambda: publish(client, world, story.v1))
        resumed = {**world.tokens["SGP"], "Last-Event-ID": first_id}
        second_id, second = await next_notice(live, url, resumed, lambda: publish(client, world, story.v2))
        aus_url = f"{live_server}{world.base}/delegations/AUS/events"
        aus_id, _ = await next_notice(live, aus_url, {**world.tokens["AUS"], "Last-Event-ID": str(aus)},
                                      lambda: asyncio.sleep(0))  # fmt: skip
    assert (first_id, second_id, second["id"], aus_id) == ("3", "4", 4, "3")


async def test_event_stream_delivers_notices_and_resumes(
    client: httpx.AsyncClient, story: Story, live_server: str
) -> None:
    world, ids = story.world, story.meetings
    url = f"{live_server}{world.base}/delegations/SGP/events"
    after_requests = {**world.tokens["SGP"], "Last-Event-ID": str(story.received["SGP"])}
    async with httpx.AsyncClient(timeout=20) as live:
        first_id, first = await next_notice(live, url, after_requests, lambda: publish(client, world, story.v1))
        assert first["delegation"] == "SGP" and first["version"] == story.v1 and first_id == str(first["id"])
        assert {p["meeting"] for p in first["added"]} == {ids["sa"], ids["sj"]}

        async def nothing() -> None:
            return None

        resumed_headers = {**world.tokens["SGP"], "Last-Event-ID": first_id}
        second_id, second = await next_notice(live, url, resumed_headers, lambda: publish(client, world, story.v2))
        assert int(second_id) > int(first_id) and second["version"] == story.v2  # not the first again
        replay_id, replayed = await next_notice(live, url, world.tokens["SGP"], nothing)
        assert replay_id == "1"  # without Last-Event-ID the stream starts from the first notice
        assert replayed["type"] == "request.received"

        aus = await live.get(f"{live_server}{world.base}/delegations/AUS/events", headers=world.tokens["SGP"])
        assert aus.status_code == 404
        bad = await live.get(url, headers={**world.tokens["SGP"], "Last-Event-ID": "x"})
        assert bad.status_code == 422


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://api.localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data/",  # a cloud's metadata service
        "http://[::1]:5432/",
        "http://[::ffff:10.0.0.1]/hook",
        "http://100.64.0.1/hook",  # carrier-grade NAT
        "http://0.0.0.0/hook",
    ],
)
async def test_webhooks_to_private_or_local_addresses_are_refused_naming_the_field(
    client: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.delenv(ALLOW_VARIABLE)
    made = await client.post(f"{world.base}/delegations/SGP/webhooks", json={"url": url}, headers=world.tokens["SGP"])
    assert made.status_code == 422, made.text
    error = made.json()["errors"][0]
    assert error["field"] == "url" and "public addresses" in error["message"]
    assert (await client.get(f"{world.base}/delegations/SGP/webhooks", headers=world.tokens["SGP"])).json() == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://[::1", "must be an absolute http or https URL (Invalid IPv6 URL)"),  # was a 500
        ("http://hooks.example.org:99999/in", "must be an absolute http or https URL (Port out of range 0-65535)"),
        ("http://hooks.example.org:0/in", "port 0 cannot be called"),
        ("https://hooks.exa mple.org/in", "host 'hooks.exa mple.org' is not a valid name"),
        ("https://-hooks.example.org/in", "host '-hooks.example.org' is not a valid name"),
        ("https://hooks.example.org/in\n", "must be an absolute http or https URL (Invalid non-printable ASCII"),
    ],
)
async def test_webhook_urls_that_cannot_be_called_are_refused_naming_the_field(
    client: httpx.AsyncClient, world: World, url: str, message: str
) -> None:
    """Each was stored (to fail at every delivery) or, with the open bracket, a 500."""
    made = await client.post(f"{world.base}/delegations/SGP/webhooks", json={"url": url}, headers=world.tokens["SGP"])
    assert made.status_code == 422, made.text
    error = made.json()["errors"][0]
    assert error["field"] == "url" and error["message"].startswith(message), error
    assert (await client.get(f"{world.base}/delegations/SGP/webhooks", headers=world.tokens["SGP"])).json() == []
    idn = await client.post(
        f"{world.base}/delegations/SGP/webhooks",
        json={"url": "https://b\u00fccher.example/in"},
        headers=world.tokens["SGP"],
    )
    assert idn.status_code == 201, idn.text  # an internationalised name is a name


async def test_the_operator_can_allow_a_private_network_for_webhooks(
    client: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ALLOW_VARIABLE, "10.20.0.0/16, fd00::/8")
    url = f"{world.base}/delegations/SGP/webhooks"
    for allowed in ("http://10.20.3.4/hook", "http://[fd00::7]/hook", "https://hooks.example.org/in"):
        assert (await client.post(url, json={"url": allowed}, headers=world.tokens["SGP"])).status_code == 201
    refused = await client.post(url, json={"url": "http://10.21.0.1/hook"}, headers=world.tokens["SGP"])
    assert refused.status_code == 422  # outside the allowed network


def test_a_malformed_allow_setting_stops_the_app_at_start(pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ALLOW_VARIABLE, "10.0.0.0/8,not-a-network")
    with pytest.raises(ValueError, match="SIDELINES_WEBHOOK_ALLOW: 'not-a-network'"):
        create_app(pool)


async def _deliver_all(pool: asyncpg.Pool, rounds: int = 3) -> None:
    settings = DispatchSettings(first_retry_seconds=60, idle_seconds=0.05)
    async with httpx.AsyncClient(timeout=5) as http:
        for _ in range(rounds):
            await deliver_due(pool, http, settings)


async def test_a_delivery_goes_to_the_checked_address_under_the_urls_own_host(
    client: httpx.AsyncClient, story: Story, pool: asyncpg.Pool, receiver: Receiver
) -> None:
    port = receiver.server.server_address[1]
    await register(client, story.world, "SGP", f"http://localhost:{port}/by-name")
    await publish(client, story.world, story.v1)
    await _deliver_all(pool)
    (received,) = receiver.received
    assert received.path == "/by-name" and received.headers["host"] == f"localhost:{port}"


async def test_a_name_that_resolves_to_a_refused_address_at_delivery_is_not_called(
    client: httpx.AsyncClient, story: Story, pool: asyncpg.Pool, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Registered while allowed; by delivery time the policy refuses the address the name resolves to
    # (as it would a public name whose DNS answer turned private after registration).
    world = story.world
    await register(client, world, "SGP", f"http://localhost:{receiver.server.server_address[1]}/late")
    monkeypatch.delenv(ALLOW_VARIABLE)
    await publish(client, world, story.v1)
    await _deliver_all(pool, rounds=1)
    assert receiver.received == []
    sgp = world.tokens["SGP"]
    (hook,) = (await client.get(f"{world.base}/delegations/SGP/webhooks", headers=sgp)).json()
    deliveries = await client.get(f"{world.base}/delegations/SGP/webhooks/{hook['id']}/deliveries", headers=sgp)
    (delivery,) = deliveries.json()
    (attempt,) = delivery["history"]
    assert attempt["status_code"] is None and attempt["error"].startswith("refused: host localhost")


async def test_a_change_of_own_attendees_only_is_a_notice_to_that_delegation_alone(
    client: httpx.AsyncClient, story: Story, pool: asyncpg.Pool
) -> None:
    world, ids = story.world, story.meetings
    parties = {ids["sa"]: ("SGP", "AUS"), ids["sj"]: ("SGP", "JPN"), ids["aj"]: ("AUS", "JPN")}
    same_places = {ids["sa"]: Slot("R1", "09:00"), ids["sj"]: Slot("R1", "09:30"), ids["aj"]: Slot("R1", "10:00")}
    # Singapore's aide joins its minister at SGP-AUS: same time, same room.
    with_aide = {ids["sa"]: [("SGP", "min"), ("SGP", "aide"), ("AUS", "min")]}
    v3 = await store_grid(pool, world, parties, same_places, attendees=with_aide)
    await publish(client, world, story.v1)
    await publish(client, world, v3)
    rows = await pool.fetch(
        "SELECT n.delegation_id, n.payload FROM notices n JOIN publications p ON p.id = n.publication_id"
        " JOIN schedule_versions v ON v.id = p.version_id WHERE n.forum_id = $1 AND v.number = $2",
        UUID(world.forum_id),
        v3,
    )
    assert [row["delegation_id"] for row in rows] == ["SGP"]  # Australia's people did not change
    notice = rows[0]["payload"]  # jsonb comes decoded (db/pool.py)
    assert notice["moved"] == notice["added"] == notice["removed"] == []
    assert notice["attendees"] == [{"meeting": ids["sa"], "before": ["SGP/min"], "after": ["SGP/aide", "SGP/min"]}]


async def test_a_notice_names_its_publication_by_the_forums_own_count(
    client: httpx.AsyncClient, story: Story, pool: asyncpg.Pool
) -> None:
    """`publication` was the server-wide id: publications in another forum in between showed
    up as a gap. Now it counts the forum's publications, as the organiser's list numbers them."""
    elsewhere = await make_world(client)
    other = await agree(client, elsewhere, ("SGP", "AUS"))
    parties = {other[0]: ("SGP", "AUS")}
    for start in ("09:00", "10:00", "11:00"):  # another forum publishes before and between
        await publish(client, elsewhere, await store_grid(pool, elsewhere, parties, {other[0]: Slot("R1", start)}))
        if start == "09:00":
            await publish(client, story.world, story.v1)
    await publish(client, story.world, story.v2)
    async with pool.acquire() as connection:
        rows = await connection.fetch(
            "SELECT payload FROM notices WHERE forum_id = $1 AND delegation_id = 'SGP' AND publication_id IS NOT NULL"
            " ORDER BY number",
            UUID(story.world.forum_id),
        )
    payloads = [
        msgspec.json.decode(row["payload"]) if isinstance(row["payload"], str) else row["payload"] for row in rows
    ]
    assert [(p["publication"], p["version"], p["previous_version"]) for p in payloads] == [
        (1, story.v1, None),
        (2, story.v2, story.v1),
    ]
    listed = (await client.get(f"{story.world.base}/publications", headers=story.world.organiser)).json()
    assert [p["number"] for p in listed] == [1, 2]
    assert not {"id", "version_id"} & set(listed[0])  # no server-wide ids for the organiser either
    assert [
        p["number"] for p in (await client.get(f"{elsewhere.base}/publications", headers=elsewhere.organiser)).json()
    ] == [1, 2, 3]


async def test_a_webhooks_delivery_ids_count_its_own_deliveries_only(client: httpx.AsyncClient, story: Story) -> None:
    """Publishing v2 tells JPN and SGP: with one server-wide counter, SGP's deliveries were
    numbered with a gap, JPN's delivery, telling SGP that JPN's meetings changed too."""
    world = story.world
    hooks = {}
    for delegation in ("JPN", "SGP"):
        url = f"{world.base}/delegations/{delegation}/webhooks"
        made = await client.post(url, json={"url": "http://127.0.0.1:9/in"}, headers=world.tokens[delegation])
        assert made.status_code == 201, made.text
        hooks[delegation] = f"{url}/{made.json()['webhook']['id']}/deliveries"
    await publish(client, world, story.v1)
    await publish(client, world, story.v2)
    listed = await client.get(hooks["SGP"], headers=world.tokens["SGP"])
    assert listed.status_code == 200, listed.text
    before = story.received["SGP"]  # notices from before the webhook have no delivery
    assert [(d["id"], d["notice_id"]) for d in listed.json()] == [(1, before + 1), (2, before + 2)]


async def test_a_rotated_token_takes_the_webhooks_registered_with_it(client: httpx.AsyncClient, world: World) -> None:
    """Whoever held a leaked token could register a webhook and go on receiving the delegation's
    notices after the organiser rotated the token: rotation removes the delegation's webhooks."""
    url = f"{world.base}/delegations/SGP/webhooks"
    made = await client.post(url, json={"url": "https://hooks.example.org/in"}, headers=world.tokens["SGP"])
    assert made.status_code == 201, made.text
    other = await client.post(
        f"{world.base}/delegations/AUS/webhooks",
        json={"url": "https://hooks.example.org/aus"},
        headers=world.tokens["AUS"],
    )
    assert other.status_code == 201, other.text
    rotated = await client.post(f"{world.base}/delegations/SGP/token", headers=world.organiser)
    assert rotated.status_code == 201, rotated.text
    fresh = {"Authorization": f"Bearer {rotated.json()['token']}"}
    assert (await client.get(url, headers=fresh)).json() == []
    kept = (await client.get(f"{world.base}/delegations/AUS/webhooks", headers=world.tokens["AUS"])).json()
    assert [hook["url"] for hook in kept] == ["https://hooks.example.org/aus"]  # another delegation's stay


def test_each_delegation_gets_its_own_meetings_once_in_grid_order() -> None:
    """What a publication compares per delegation (api/publishing.by_delegation): the meetings
    it attends, each once however many of its people attend, in the grid's order."""
    start = datetime(2023, 6, 2, 9)
    grid = [
        GridPlacement("m1", "R1", start, start, ["AUS/a", "AUS/b", "SGP/c"]),
        GridPlacement("m2", "R2", start, start, ["JPN/d", "SGP/e"]),
        GridPlacement("m3", "R1", start, start, ["AUS/a", "JPN/f"]),
    ]
    found = publishing.by_delegation(grid)
    assert {name: [p.meeting for p in own] for name, own in found.items()} == {
        "AUS": ["m1", "m3"],
        "SGP": ["m1", "m2"],
        "JPN": ["m2", "m3"],
    }
    for name, own in found.items():
        assert own == [p for p in grid if publishing.attends(p, name)]


async def test_deliveries_wait_while_the_forum_is_closed_and_go_out_once_reopened(
    client: httpx.AsyncClient, story: Story, pool: asyncpg.Pool, receiver: Receiver
) -> None:
    """Published, then closed before the dispatcher came by: as the delegations' tokens and
    feeds, their webhooks are silent while the forum is closed; the delivery stays pending with
    its attempts unspent, and goes out once the forum is reopened."""
    world = story.world
    await register(client, world, "SGP", receiver.url("/hooks/SGP"))
    await publish(client, world, story.v1)
    closed = await client.post(f"{world.base}/close", headers=world.organiser)
    assert closed.status_code == 200, closed.text
    await _deliver_all(pool)
    assert [r.path for r in receiver.received] == []
    reopened = await client.post(f"{world.base}/reopen", headers=world.organiser)
    assert reopened.status_code == 200, reopened.text
    await _deliver_all(pool)
    assert [r.path for r in receiver.received] == ["/hooks/SGP"]
    deliveries = await client.get(f"{world.base}/delegations/SGP/webhooks/1/deliveries", headers=world.tokens["SGP"])
    assert deliveries.status_code == 200, deliveries.text
    assert [(d["status"], d["attempts"]) for d in deliveries.json()] == [("delivered", 1)]
