"""Named organiser tokens (issue, list, revoke; audit actors name the token) and closing a forum
(delegation tokens 401, calendar feeds 410, changes 409, the organiser still reads; reopening
restores all), against real PostgreSQL through the app (migration 0018)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from tests.authz_scene import A, Scene, published_scene, tidy
from tests.conftest import World, bearer, make_world

pytestmark = pytest.mark.anyio

NIGHT = "Duty officer, night shift"


async def issue(client: httpx.AsyncClient, world: World, name: str, by: dict[str, str]) -> tuple[int, dict[str, str]]:
    answer = await client.post(f"{world.base}/organiser-tokens", json={"name": name}, headers=by)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["organiser_token"]["name"] == name and body["organiser_token"]["revoked_at"] is None
    return int(body["organiser_token"]["number"]), bearer(body["token"])


async def listed(client: httpx.AsyncClient, world: World, by: dict[str, str]) -> list[dict[str, Any]]:
    answer = await client.get(f"{world.base}/organiser-tokens", headers=by)
    assert answer.status_code == 200, answer.text
    return list(answer.json())


async def test_issue_list_and_revoke_a_named_token(client: httpx.AsyncClient, world: World) -> None:
    number, night = await issue(client, world, NIGHT, world.organiser)
    assert number == 2
    assert (await client.get(world.base, headers=night)).status_code == 200  # it works, and is used
    answer = await client.get(f"{world.base}/organiser-tokens", headers=world.organiser)
    tokens = answer.json()
    assert [(token["number"], token["name"]) for token in tokens] == [(1, "first organiser token"), (2, NIGHT)]
    assert tokens[1]["last_used_at"] is not None and tokens[1]["created_at"]
    secret = night["Authorization"].removeprefix("Bearer ")
    assert secret not in answer.text and world.plain_tokens[0] not in answer.text  # never the tokens

    revoked = await client.delete(f"{world.base}/organiser-tokens/2", headers=world.organiser)
    assert revoked.status_code == 204, revoked.text
    refused = await client.get(world.base, headers=night)  # at once: no cache holds it
    assert refused.status_code == 401, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    after = await listed(client, world, world.organiser)
    assert after[1]["number"] == 2 and after[1]["revoked_at"] is not None and after[0]["revoked_at"] is None
    again = await client.delete(f"{world.base}/organiser-tokens/2", headers=world.organiser)
    assert again.status_code == 404, again.text  # revoked already: no token 2 in use


async def test_the_last_token_cannot_be_revoked(client: httpx.AsyncClient, world: World) -> None:
    alone = await client.delete(f"{world.base}/organiser-tokens/1", headers=world.organiser)
    assert alone.status_code == 409, alone.text
    assert "last" in alone.json()["detail"] and alone.json()["errors"][0]["field"] == "path:token_number"
    assert (await client.get(world.base, headers=world.organiser)).status_code == 200  # still works

    _, night = await issue(client, world, NIGHT, world.organiser)
    first = await client.delete(f"{world.base}/organiser-tokens/1", headers=night)  # token 1 leaked
    assert first.status_code == 204, first.text
    assert (await client.get(world.base, headers=world.organiser)).status_code == 401
    last = await client.delete(f"{world.base}/organiser-tokens/2", headers=night)
    assert last.status_code == 409, last.text
    assert (await client.get(world.base, headers=night)).status_code == 200


async def test_audit_entries_name_the_token_that_acted(client: httpx.AsyncClient, world: World) -> None:
    number, night = await issue(client, world, NIGHT, world.organiser)
    room = {"id": "N1", "name": "Night room", "seats": 4}
    assert (await client.post(f"{world.base}/rooms", json=room, headers=night)).status_code == 201
    audit = (await client.get(f"{world.base}/audit?limit=1000", headers=world.organiser)).json()
    actors = {(entry["entity"], entry["entity_id"]): entry["actor"] for entry in audit}
    assert actors[("organiser_token", "2")] == f"organiser:{world.forum_id}/1"  # token 1 issued it
    assert actors[("room", "N1")] == f"organiser:{world.forum_id}/{number}"
    issued = next(entry for entry in audit if entry["entity"] == "organiser_token")
    assert issued["after"]["name"] == NIGHT and "token" not in issued["after"]


async def test_another_forums_organiser_gets_404(client: httpx.AsyncClient, world: World) -> None:
    other = await make_world(client)
    path = f"{world.base}/organiser-tokens"
    for method, url, body in (
        ("GET", path, None),
        ("POST", path, {"name": "intruder"}),
        ("DELETE", f"{path}/1", None),
        ("POST", f"{world.base}/close", None),
    ):
        answer = await client.request(method, url, json=body, headers=other.organiser)
        assert answer.status_code == 404, (method, url, answer.text)
    assert len(await listed(client, world, world.organiser)) == 1
    assert (await client.get(world.base, headers=world.organiser)).json()["closed_at"] is None
    delegation = await client.get(path, headers=world.tokens[A])
    assert delegation.status_code == 403, delegation.text


@pytest.fixture
async def scene(client: httpx.AsyncClient, pool: asyncpg.Pool) -> AsyncIterator[Scene]:
    made = await published_scene(client, pool)
    yield made
    await tidy(pool, made.world.forum_id)


async def test_closing_ends_delegations_and_feeds_and_freezes_the_forum(
    client: httpx.AsyncClient, scene: Scene
) -> None:
    world, org = scene.world, scene.world.organiser
    agenda, feed = f"{world.base}/delegations/{A}/agenda", f"/calendar/{scene.feed_key}"
    room = {"id": "R7", "name": "Room 7", "seats": 4}
    assert (await client.get(agenda, headers=world.tokens[A])).status_code == 200
    assert (await client.get(feed)).status_code == 200

    closed = await client.post(f"{world.base}/close", headers=org)
    assert closed.status_code == 200, closed.text
    assert closed.json()["closed_at"] is not None

    refused = await client.get(agenda, headers=world.tokens[A])
    assert refused.status_code == 401 and "closed" in refused.json()["detail"], refused.text
    gone = await client.get(feed)
    assert gone.status_code == 410 and gone.headers["content-type"] == "application/problem+json", gone.text
    for method, url, body in (
        ("POST", f"{world.base}/rooms", room),
        ("PATCH", world.base, {"name": "Renamed"}),
        ("POST", f"{world.base}/organiser-tokens", {"name": NIGHT}),
        ("POST", f"{world.base}/schedules/{scene.versions[1]}/publish", None),
        ("POST", f"{world.base}/runs", {}),
    ):
        headers = {**org, "If-Match": "*"}
        answer = await client.request(method, url, json=body, headers=headers)
        assert answer.status_code == 409, (method, url, answer.text)
        problem = answer.json()
        assert problem["status"] == 409 and "closed" in problem["detail"] and "reopen" in problem["detail"]
    for url in (world.base, f"{world.base}/audit", agenda, f"{world.base}/schedules/{scene.versions[0]}/grid.csv"):
        assert (await client.get(url, headers=org)).status_code == 200, url
    assert (await client.get(f"{world.base}/delegations/{A}/calendar", headers=org)).status_code == 200
    rooms = (await client.get(f"{world.base}/rooms", headers=org)).json()
    assert "R7" not in {item["id"] for item in rooms}

    reopened = await client.post(f"{world.base}/reopen", headers=org)
    assert reopened.status_code == 200 and reopened.json()["closed_at"] is None, reopened.text
    assert (await client.get(agenda, headers=world.tokens[A])).status_code == 200
    assert (await client.get(feed)).status_code == 200
    assert (await client.post(f"{world.base}/rooms", json=room, headers=org)).status_code == 201
    audit = (await client.get(f"{world.base}/audit?limit=1000", headers=org)).json()
    assert [entry["action"] for entry in audit if entry["action"] in ("close", "reopen")] == ["close", "reopen"]
