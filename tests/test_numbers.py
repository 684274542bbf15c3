"""Runs and webhooks are numbered within their forum and delegation (migration 0012): the ids
in their URLs, answers and event streams count only the forum's own runs and the delegation's
own webhooks, never what other forums and delegations did in between."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from tests.conftest import World, make_world
from tests.test_api_runs import arrange, read_events, start, work_one

pytestmark = pytest.mark.anyio


async def test_each_forum_numbers_its_runs_from_1(client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    first, second = await make_world(client), await make_world(client)
    for world in (first, second):
        await arrange(client, world, ["SGP", "AUS"])
    started = [await start(client, world) for world in (first, second, first)]
    assert [answer.json()["id"] for answer in started] == [1, 1, 2]
    assert [answer.headers["location"] for answer in started] == [
        f"{first.base}/runs/1",
        f"{second.base}/runs/1",
        f"{first.base}/runs/2",
    ]
    for world in (first, second, first):  # the oldest queued first: this order
        assert await work_one(pool, world.forum_id) == "succeeded"

    for world, run in ((first, 2), (second, 1)):
        read = (await client.get(f"{world.base}/runs/{run}", headers=world.organiser)).json()
        assert (read["id"], read["forum_id"], read["status"]) == (run, world.forum_id, "succeeded")
        versions = (await client.get(f"{world.base}/schedules", headers=world.organiser)).json()
        assert versions[-1]["run_id"] == run and versions[-1]["number"] == read["version"]
        events = await read_events(client, f"{world.base}/runs/{run}/events", world.organiser)
        ids = [event_id for kind, event_id in events if kind == "progress"]
        assert ids == [str(position) for position in range(1, len(ids) + 1)] and ids  # the run's own reports
    assert (await client.get(f"{second.base}/runs/2", headers=second.organiser)).status_code == 404


async def _register(client: httpx.AsyncClient, world: World, delegation: str) -> int:
    made = await client.post(
        f"{world.base}/delegations/{delegation}/webhooks",
        json={"url": f"https://hooks.example.org/{delegation}"},
        headers=world.tokens[delegation],
    )
    assert made.status_code == 201, made.text
    assert made.headers["location"].endswith(f"/webhooks/{made.json()['webhook']['id']}")
    return int(made.json()["webhook"]["id"])


async def test_each_delegation_numbers_its_webhooks_and_never_reuses_a_number(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    hooks = f"{world.base}/delegations/SGP/webhooks"
    sgp = world.tokens["SGP"]
    assert [await _register(client, world, "SGP"), await _register(client, world, "AUS")] == [1, 1]
    assert await _register(client, world, "SGP") == 2
    assert (await client.delete(f"{hooks}/2", headers=sgp)).status_code == 204
    assert await _register(client, world, "SGP") == 3  # 2 named a removed webhook: a stale client must not reach 3
    assert [hook["id"] for hook in (await client.get(hooks, headers=sgp)).json()] == [1, 3]
    assert (await client.get(f"{hooks}/2/deliveries", headers=sgp)).status_code == 404

    await arrange(client, world, ["SGP", "AUS"])
    await start(client, world)
    assert await work_one(pool, world.forum_id) == "succeeded"
    assert (await client.post(f"{world.base}/schedules/1/publish", headers=world.organiser)).status_code == 200
    for delegation, number in (("SGP", 3), ("AUS", 1)):
        url = f"{world.base}/delegations/{delegation}/webhooks/{number}"
        deliveries = (await client.get(f"{url}/deliveries", headers=world.tokens[delegation])).json()
        # The arranged request's request.received, then the publication's schedule.changed.
        assert [(d["id"], d["webhook_id"], d["notice_id"]) for d in deliveries] == [(1, number, 1), (2, number, 2)]
    for delegation, numbers in (("SGP", (1, 3)), ("AUS", (1,))):  # no other test's dispatcher may try them
        for number in numbers:
            url = f"{world.base}/delegations/{delegation}/webhooks/{number}"
            assert (await client.delete(url, headers=world.tokens[delegation])).status_code == 204
