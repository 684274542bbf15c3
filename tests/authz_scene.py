"""A forum with something of every kind, for the authorization matrix and the bad-input tests.

Delegation A is SGP, B is AUS, C is JPN (tests/conftest.py's world). B holds things A must
never learn of: a participant, a pending request to C, an arranged meeting with C placed in
the grid, a webhook. A has its own of each kind, so its answers on its own things can be
checked too.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
import httpx
import msgspec

from db.queries.notices import delete_webhook, list_webhooks
from db.queries.runs import request_cancel
from tests.conftest import World, make_world
from tests.grids import Slot, add_venue_room, agree, store_grid

A, B, C = "SGP", "AUS", "JPN"
B_SECRET_PERSON = "aus-secret-envoy"
B_HOOK = "https://b-only.example.org/hook"
A_HOOK = "https://a-only.example.org/hook"


class Scene(msgspec.Struct):
    world: World
    request_a: str  # JPN asks SGP: A is invited
    request_b: str  # AUS asks JPN: A is no party
    meeting_a: str  # SGP-JPN, arranged and placed
    meeting_b: str  # AUS-JPN, arranged and placed
    run_id: int
    hooks: dict[str, int]  # delegation -> its webhook id
    feed_key: str  # A's secret calendar feed, "<key>.ics"
    versions: tuple[int, int]

    def b_secrets(self) -> list[str]:
        """Strings that appear in no answer to A: B's own things and B's meetings."""
        return [self.request_b, self.meeting_b, B_SECRET_PERSON, B_HOOK]


async def _created(answer: httpx.Response) -> Any:
    assert answer.status_code in (201, 202), answer.text
    return answer.json()


async def _setup_items(client: httpx.AsyncClient, world: World) -> None:
    org, base = world.organiser, world.base
    await add_venue_room(client, world)  # venue V1, room R2
    await _created(await client.post(f"{base}/venues", json={"id": "V2", "name": "Annex"}, headers=org))
    await _created(await client.post(f"{base}/venues", json={"id": "V3", "name": "Marquee"}, headers=org))
    await _created(await client.post(f"{base}/travel", json={"between": ["V1", "V2"], "minutes": 10}, headers=org))
    session = {"id": "P1", "name": "Plenary", "start": "2023-06-02T12:00:00", "end": "2023-06-02T13:00:00"}
    await _created(await client.post(f"{base}/sessions", json=session, headers=org))
    resource = {"id": "interp", "name": "Interpreters", "capacity": 2}
    await _created(await client.post(f"{base}/resources", json=resource, headers=org))


async def _ask(client: httpx.AsyncClient, world: World, asker: str, invited: str) -> str:
    body = {"parties": [asker, invited], "duration_minutes": 30}
    return str(
        (await _created(await client.post(f"{world.base}/requests", json=body, headers=world.tokens[asker])))["id"]
    )


async def _hook(client: httpx.AsyncClient, world: World, delegation: str, url: str) -> int:
    path = f"{world.base}/delegations/{delegation}/webhooks"
    return int(
        (await _created(await client.post(path, json={"url": url}, headers=world.tokens[delegation])))["webhook"]["id"]
    )


async def make_scene(client: httpx.AsyncClient, pool: asyncpg.Pool) -> Scene:
    world = await make_world(client)
    await _setup_items(client, world)
    secret = {"id": B_SECRET_PERSON, "name": "AUS envoy", "principal": False, "rank": "minister"}
    path = f"{world.base}/delegations/{B}/participants"
    await _created(await client.post(path, json=secret, headers=world.tokens[B]))
    request_a, request_b = await _ask(client, world, C, A), await _ask(client, world, B, C)
    meeting_a, meeting_b = await agree(client, world, (A, C), (B, C))
    parties = {meeting_a: (A, C), meeting_b: (B, C)}
    grid = {meeting_a: Slot("R1", "09:00"), meeting_b: Slot("R1", "10:00")}
    v1 = await store_grid(pool, world, parties, grid)
    v2 = await store_grid(pool, world, parties, {**grid, meeting_b: Slot("R2", "11:00")})
    run = await _created(await client.post(f"{world.base}/runs", json={}, headers=world.organiser))
    hooks = {A: await _hook(client, world, A, A_HOOK), B: await _hook(client, world, B, B_HOOK)}
    link = await client.get(f"{world.base}/delegations/{A}/calendar-link", headers=world.tokens[A])
    assert link.status_code == 200, link.text
    feed = link.json()["url"].rsplit("/", 1)[1]
    return Scene(world, request_a, request_b, meeting_a, meeting_b, int(run["id"]), hooks, feed, (v1, v2))


async def published_scene(client: httpx.AsyncClient, pool: asyncpg.Pool) -> Scene:
    """The scene with its first version published (A and B each have an agenda)."""
    scene = await make_scene(client, pool)
    published = await client.post(
        f"{scene.world.base}/schedules/{scene.versions[0]}/publish", headers=scene.world.organiser
    )
    assert published.status_code == 200, published.text
    return scene


async def tidy(pool: asyncpg.Pool, forum_id: str) -> None:
    """End what would reach beyond the scene's forum: workers claim the oldest queued run of any
    forum, and dispatchers the due deliveries of any webhook (these point at example.org)."""
    forum = UUID(forum_id)
    async with pool.acquire() as connection:
        runs = await connection.fetch(
            "SELECT number FROM solve_runs WHERE forum_id = $1 AND status IN ('queued', 'running')", forum
        )
        for run in runs:
            await request_cancel(connection, forum, run["number"])
        for delegation in (A, B, C):
            for hook in await list_webhooks(connection, forum, delegation):
                await delete_webhook(connection, forum, delegation, hook.id)
