"""Submitting a meeting request: the answer is built from what is inserted (not read back),
and the request, its parties and its audit row are written by one statement, so each of
them must agree with what a later read shows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from api.app import create_app
from db.pool import keep_session, setup_connection
from tests.conftest import ADMIN_TOKEN, World, asgi_client, make_world

pytestmark = pytest.mark.anyio


async def add_delegation(client: httpx.AsyncClient, world: World, code: str) -> dict[str, str]:
    made = await client.post(
        f"{world.base}/delegations", json={"id": code, "name": code, "country": "ZZ"}, headers=world.organiser
    )
    assert made.status_code == 201, made.text
    return {"Authorization": f"Bearer {made.json()['token']}"}


async def audit_of(client: httpx.AsyncClient, world: World, request_id: str) -> list[dict[str, Any]]:
    audit = (await client.get(f"{world.base}/audit?limit=1000", headers=world.organiser)).json()
    return [entry for entry in audit if entry["entity"] == "request" and entry["entity_id"] == request_id]


async def test_answer_is_what_reads_and_the_audit_row_show(client: httpx.AsyncClient, world: World) -> None:
    lower = await add_delegation(client, world, "nzl")  # byte order puts it after every upper-case id
    body = {
        "parties": ["SGP", "nzl", "JPN", "AUS"],
        "duration_minutes": 30,
        "title": "Four-way",
        "priority": "high",
        "preferred": [{"start": "2023-06-02T02:00:00+00:00", "end": "2023-06-02T03:00:00+00:00"}],
        "attendees": {"nzl": []},
    }
    made = await client.post(f"{world.base}/requests", json=body, headers=lower)
    assert made.status_code == 201, made.text
    answer = made.json()
    assert [(p["delegation"], p["role"], p["status"]) for p in answer["parties"]] == [
        ("nzl", "requester", "accepted"),
        ("AUS", "invitee", "pending"),
        ("JPN", "invitee", "pending"),
        ("SGP", "invitee", "pending"),
    ]
    assert answer["preferred"] == [{"start": "2023-06-02T10:00:00", "end": "2023-06-02T11:00:00"}]  # forum time
    assert (answer["status"], answer["requester"], answer["created_by"]) == ("pending", "nzl", "delegation")
    assert made.headers["location"] == f"{world.base}/requests/{answer['id']}"

    # The organiser's view adds when it decided the priority (not yet: a delegation's request).
    organisers = {**answer, "priority_decided_at": None}
    for reader, shown in ((lower, answer), (world.tokens["AUS"], answer), (world.organiser, organisers)):
        read = await client.get(made.headers["location"], headers=reader)
        assert read.json() == shown and read.headers["etag"] == made.headers["etag"] == '"1"'
    [entry] = await audit_of(client, world, answer["id"])
    assert (entry["action"], entry["actor"]) == ("create", f"delegation:{world.forum_id}/nzl")
    assert entry["before"] is None and entry["after"] == organisers


async def test_organiser_request_and_an_expired_deadline(client: httpx.AsyncClient, world: World) -> None:
    body = {"parties": ["SGP", "AUS"], "duration_minutes": 15, "attendees": {"SGP": ["aide"], "AUS": ["min"]}}
    by_organiser = await client.post(f"{world.base}/requests", json=body, headers=world.organiser)
    assert by_organiser.status_code == 201, by_organiser.text
    made = by_organiser.json()
    assert (made["status"], made["requester"], made["created_by"]) == ("accepted", None, "organiser")
    assert [(p["delegation"], p["attendees"]) for p in made["parties"]] == [("AUS", ["min"]), ("SGP", ["aide"])]
    assert made["priority_decided_at"] == made["created_at"]  # the organiser chose it in asking
    read = await client.get(f"{world.base}/requests/{made['id']}", headers=world.tokens["SGP"])
    assert read.json() == {key: value for key, value in made.items() if key != "priority_decided_at"}
    [entry] = await audit_of(client, world, made["id"])
    assert entry["actor"] == f"organiser:{world.forum_id}/1" and entry["after"] == made

    forum = await client.get(world.base, headers=world.organiser)
    past = {"request_deadline": "2020-01-01T00:00:00Z"}
    moved = await client.patch(world.base, json=past, headers={**world.organiser, "If-Match": forum.headers["etag"]})
    assert moved.status_code == 200, moved.text
    before = (await client.get(f"{world.base}/requests", headers=world.organiser)).json()
    late = await client.post(
        f"{world.base}/requests", json={"parties": ["JPN", "AUS"], "duration_minutes": 30}, headers=world.tokens["JPN"]
    )
    # A delegation's request after the deadline would be expired at birth: refused, nothing stored.
    assert late.status_code == 409 and "deadline" in late.json()["detail"], late.text
    assert (await client.get(f"{world.base}/requests", headers=world.organiser)).json() == before
    by_organiser = await client.post(
        f"{world.base}/requests", json={"parties": ["JPN", "AUS"], "duration_minutes": 30}, headers=world.organiser
    )
    assert by_organiser.status_code == 201 and by_organiser.json()["status"] == "accepted", by_organiser.text


async def test_attendees_are_checked_per_party_and_nothing_is_written(client: httpx.AsyncClient, world: World) -> None:
    attendees = {"AUS": ["min", "ghost"], "JPN": ["aide", "min", "SGP-only"]}
    body = {"parties": ["SGP", "AUS", "JPN"], "duration_minutes": 30, "attendees": attendees}
    bad = await client.post(f"{world.base}/requests", json=body, headers=world.organiser)
    assert bad.status_code == 422, bad.text
    assert {error["field"] for error in bad.json()["errors"]} == {"attendees.AUS[1]", "attendees.JPN[2]"}
    others = {"parties": ["SGP", "AUS"], "duration_minutes": 30, "attendees": {"SGP": ["min"], "AUS": ["min"]}}
    foreign = await client.post(f"{world.base}/requests", json=others, headers=world.tokens["SGP"])
    assert foreign.status_code == 422 and [e["field"] for e in foreign.json()["errors"]] == ["attendees.AUS"]
    assert (await client.get(f"{world.base}/requests", headers=world.organiser)).json() == []
    audit = (await client.get(f"{world.base}/audit?limit=1000", headers=world.organiser)).json()
    assert [entry for entry in audit if entry["entity"] == "request"] == []


async def test_idempotent_submission_is_stored_once(client: httpx.AsyncClient, world: World) -> None:
    headers = {**world.tokens["SGP"], "Idempotency-Key": "ask-aus"}
    body = {"parties": ["SGP", "AUS"], "duration_minutes": 30}
    first = await client.post(f"{world.base}/requests", json=body, headers=headers)
    again = await client.post(f"{world.base}/requests", json=body, headers=headers)
    assert first.status_code == again.status_code == 201 and again.headers["idempotency-replayed"] == "true"
    assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
    listed = (await client.get(f"{world.base}/requests", headers=world.tokens["SGP"])).json()
    assert [request["id"] for request in listed] == [first.json()["id"]]
    assert len(await audit_of(client, world, first.json()["id"])) == 1
    other = await client.post(f"{world.base}/requests", json={**body, "duration_minutes": 45}, headers=headers)
    assert other.status_code == 422 and other.json()["errors"][0]["field"] == "header:Idempotency-Key"


class Statements:
    """Every statement the app's pool sends, in order (asyncpg's query logger)."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def watch(self, connection: asyncpg.Connection) -> None:
        await setup_connection(connection)
        connection.add_query_logger(lambda logged: self.sent.append(logged.query))


@pytest.fixture
async def watched(database_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, Statements]]:
    statements = Statements()
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2, init=statements.watch, reset=keep_session)
    try:
        async with asgi_client(create_app(pool, admin_token=ADMIN_TOKEN)) as client:
            yield client, statements
    finally:
        await pool.close()


async def test_a_submission_is_three_statements(watched: tuple[httpx.AsyncClient, Statements]) -> None:
    """Round trips, not time: the token, one read, one write (request, parties and audit row).
    Ten before (docs/benchmarks.md); each one costs latency under load."""
    client, statements = watched
    world = await make_world(client)
    body = {"parties": ["SGP", "AUS"], "duration_minutes": 30, "attendees": {"SGP": ["min"]}}
    statements.sent.clear()
    made = await client.post(f"{world.base}/requests", json=body, headers=world.tokens["SGP"])
    assert made.status_code == 201, made.text
    assert len(statements.sent) == 3, statements.sent
    assert statements.sent[-1].startswith("WITH request AS (INSERT INTO meeting_requests")
    statements.sent.clear()
    keyed = await client.post(
        f"{world.base}/requests", json=body, headers={**world.tokens["SGP"], "Idempotency-Key": "k"}
    )
    assert keyed.status_code == 201, keyed.text
    # with a key: in a transaction with the key's lock, lookup and stored answer
    assert [statements.sent[1], statements.sent[-1]] == ["BEGIN;", "COMMIT;"] and len(statements.sent) == 8
