"""Paged lists over HTTP (api/paging.py): walking a list by its `Link: <...>; rel="next"`
pages gives each item once, in order, with no gap, while items are added (and removed)
between page reads; a delegation's pages hold only its own requests; the next link is
the URL to call, as given."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import msgspec
import pytest

from tests.conftest import ADMIN_TOKEN, World, bearer
from tests.grids import Slot, agree, publish, store_grid

pytestmark = pytest.mark.anyio

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "cis-council.json"
WHOLE = "limit=1000"

Between = Callable[[list[Any]], Awaitable[None]]  # given the items walked so far


class Walk(msgspec.Struct):
    items: list[Any]
    pages: list[int]  # the size of each page
    links: list[str]  # each page's Link header ("" on the last)


async def walk(client: httpx.AsyncClient, url: str, headers: dict[str, str], between: Between | None = None) -> Walk:
    """Every page from `url` on, each read from the previous one's next link as given;
    `between` runs after each page that has a next one."""
    done = Walk([], [], [])
    next_url: str | None = url
    while next_url is not None:
        answer = await client.get(next_url, headers=headers)
        assert answer.status_code == 200, answer.text
        done.items.extend(answer.json())
        done.pages.append(len(answer.json()))
        done.links.append(answer.headers.get("link", ""))
        next_url = answer.links.get("next", {}).get("url")
        if next_url is not None and between is not None:
            await between(done.items)
    return done


async def whole(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> list[Any]:
    answer = await client.get(f"{url}?{WHOLE}", headers=headers)
    assert answer.status_code == 200 and "link" not in answer.headers, answer.text
    return list(answer.json())


def once_in_order(walked: list[Any], now: list[Any], key: str) -> None:
    """Each item of the list as it now is was walked exactly once, in the list's order."""
    keys = [item[key] for item in walked]
    assert len(keys) == len(set(keys)), "an item came twice"
    still = [item[key] for item in now]
    assert [k for k in keys if k in set(still)] == still


class Council(msgspec.Struct):
    base: str
    organiser: dict[str, str]
    tokens: dict[str, dict[str, str]]


@pytest.fixture
async def council(client: httpx.AsyncClient) -> Council:
    """examples/cis-council.json stored: 20 requests made in one transaction, so of one creation time."""
    answer = await client.post("/forums/import", content=EXAMPLE.read_bytes(), headers=bearer(ADMIN_TOKEN))
    assert answer.status_code == 201, answer.text
    body = answer.json()
    tokens = {code: bearer(token) for code, token in body["delegation_tokens"].items()}
    return Council(f"/forums/{body['forum']['id']}", bearer(body["organiser_token"]), tokens)


async def ask(client: httpx.AsyncClient, council: Council, asker: str, invited: str) -> str:
    body = {"parties": [asker, invited], "duration_minutes": 30}
    made = await client.post(f"{council.base}/requests", json=body, headers=council.tokens[asker])
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


async def test_the_organiser_walks_every_request_once_while_requests_come_and_go(
    client: httpx.AsyncClient, council: Council
) -> None:
    url = f"{council.base}/requests"
    joined = await client.post(
        f"{council.base}/delegations", json={"id": "MD", "name": "Moldova", "country": "MD"}, headers=council.organiser
    )
    assert joined.status_code == 201, joined.text
    council.tokens["MD"] = bearer(joined.json()["token"])
    # MD's two requests lie mid-list; MD leaves once they are read, and its requests go with it.
    gone = [await ask(client, council, "MD", "RU") for _ in range(2)]
    later = [await ask(client, council, "KZ", "UZ") for _ in range(4)]
    before = await whole(client, url, council.organiser)
    made: list[str] = []

    async def between(walked: list[Any]) -> None:
        if set(gone) <= {r["id"] for r in walked} and len(made) == 0:
            deleted = await client.delete(
                f"{council.base}/delegations/MD", headers={**council.organiser, "If-Match": "*"}
            )
            assert deleted.status_code == 204, deleted.text
            made.append(await ask(client, council, "KZ", "UZ"))

    walked = await walk(client, f"{url}?limit=3", council.organiser, between)
    now = await whole(client, url, council.organiser)
    assert [r["id"] for r in before][-6:] == gone + later and len(made) == 1
    assert [r["id"] for r in now] == [r["id"] for r in before if r["id"] not in gone] + made
    once_in_order(walked.items, now, "id")
    assert [r["id"] for r in walked.items] == [r["id"] for r in before] + made  # nothing passed over
    assert walked.pages[:-1] == [3] * (len(walked.pages) - 1) and walked.links[-1] == ""
    assert walked.links[0] == f'<{url}?after={walked.items[2]["id"]}&limit=3>; rel="next"'


async def test_a_delegation_pages_through_its_own_requests_only(client: httpx.AsyncClient, council: Council) -> None:
    url = f"{council.base}/requests"
    everything = await whole(client, url, council.organiser)
    added: list[str] = []

    async def between(_: list[Any]) -> None:  # others' requests made meanwhile never show; its own do
        await ask(client, council, "KZ", "UZ")
        if not added:
            added.append(await ask(client, council, "BY", "RU"))

    walked = await walk(client, f"{url}?limit=2", council.tokens["RU"], between)
    ids = [r["id"] for r in walked.items]
    own = [r["id"] for r in everything if any(p["delegation"] == "RU" for p in r["parties"])]
    assert len(own) == 8 and ids == own + added
    assert all(any(p["delegation"] == "RU" for p in r["parties"]) for r in walked.items)
    assert walked.pages == [2] * 4 + [1] and walked.links[-1] == ""  # pages count its requests alone


async def test_a_request_the_caller_may_not_see_is_no_place_to_page_from(
    client: httpx.AsyncClient, council: Council
) -> None:
    url = f"{council.base}/requests"
    theirs = await ask(client, council, "KZ", "UZ")  # RU is no party to it
    own = await ask(client, council, "RU", "BY")  # after it: where a page after `theirs` would start
    answers = [await client.get(f"{url}?after={after}", headers=council.tokens["RU"]) for after in (theirs, "nothing")]
    for after, answer in zip((theirs, "nothing"), answers, strict=True):
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"] == [{"field": "query:after", "message": f"no request {after}"}]
    organiser = await client.get(f"{url}?after={theirs}", headers=council.organiser)
    assert organiser.status_code == 200 and [r["id"] for r in organiser.json()] == [own]
    end = await client.get(f"{url}?after={own}", headers=council.tokens["RU"])
    assert end.status_code == 200 and end.json() == [] and "link" not in end.headers


async def test_the_next_link_keeps_the_other_query_values_and_a_full_last_page_has_none(
    client: httpx.AsyncClient, council: Council
) -> None:
    url = f"{council.base}/requests"
    answer = await client.get(f"{url}?x=a%20b&limit=5", headers=council.organiser)
    assert answer.status_code == 200 and len(answer.json()) == 5
    assert answer.headers["link"] == f'<{url}?x=a+b&after={answer.json()[-1]["id"]}&limit=5>; rel="next"'
    assert "link" in (await client.get(f"{url}?limit=19", headers=council.organiser)).headers
    full = await client.get(f"{url}?limit=20", headers=council.organiser)
    assert full.status_code == 200 and len(full.json()) == 20 and "link" not in full.headers


class Numbered(msgspec.Struct):
    """A world with one meeting (SGP-AUS) and SGP's webhook, for the forum's numbered lists."""

    world: World
    meeting: str
    hook: int
    pool: asyncpg.Pool
    moves: int = 0

    async def publish_a_move(self, client: httpx.AsyncClient) -> None:
        """A new version moving the meeting, published: a publication, and a notice for SGP."""
        self.moves += 1
        slot = Slot("R1", f"{9 + self.moves % 4}:00")
        number = await store_grid(self.pool, self.world, {self.meeting: ("SGP", "AUS")}, {self.meeting: slot})
        await publish(client, self.world, number)


@pytest.fixture
async def numbered(client: httpx.AsyncClient, world: World, pool: asyncpg.Pool) -> AsyncIterator[Numbered]:
    (meeting,) = await agree(client, world, ("SGP", "AUS"))
    made = await client.post(
        f"{world.base}/delegations/SGP/webhooks",
        json={"url": "https://hooks.example.org/sgp"},
        headers=world.tokens["SGP"],
    )
    assert made.status_code == 201, made.text
    built = Numbered(world, meeting, int(made.json()["webhook"]["id"]), pool)
    yield built
    async with pool.acquire() as connection:  # no dispatcher of another test may call it
        await connection.execute("DELETE FROM webhooks WHERE forum_id = $1", UUID(world.forum_id))


async def record_change(client: httpx.AsyncClient, numbered: Numbered) -> None:
    hour = 9 + len(
        (await client.get(f"{numbered.world.base}/changes?{WHOLE}", headers=numbered.world.organiser)).json()
    )
    window = {"start": f"2023-06-02T{hour:02}:00:00", "end": f"2023-06-02T{hour:02}:15:00"}
    body = {"kind": "room_unavailable", "room": "R1", "window": window}
    answer = await client.post(f"{numbered.world.base}/changes", json=body, headers=numbered.world.organiser)
    assert answer.status_code == 201, answer.text


LISTS = {
    "changes": ("/changes", "number"),
    "schedules": ("/schedules", "number"),
    "publications": ("/publications", "number"),
    "audit": ("/audit", "id"),
    "runs": ("/runs", "id"),
    "deliveries": ("/delegations/SGP/webhooks/{hook}/deliveries", "id"),
}


async def add_one(client: httpx.AsyncClient, numbered: Numbered, name: str) -> None:
    if name == "changes":
        await record_change(client, numbered)
    elif name == "schedules":
        await store_grid(numbered.pool, numbered.world, {}, {})
    elif name == "audit":
        body = {"id": f"V{numbered.moves}", "name": "Annex"}
        numbered.moves += 1
        answer = await client.post(f"{numbered.world.base}/venues", json=body, headers=numbered.world.organiser)
        assert answer.status_code == 201, answer.text
    elif name == "runs":  # cancelled while queued: no worker of another test's may take it up
        answer = await client.post(f"{numbered.world.base}/runs", headers=numbered.world.organiser)
        assert answer.status_code == 202, answer.text
        cancel = await client.post(f"{answer.headers['location']}/cancel", headers=numbered.world.organiser)
        assert cancel.status_code == 202 and cancel.json()["status"] == "cancelled", cancel.text
    else:  # a publication, and a delivery of SGP's notice
        await numbered.publish_a_move(client)


@pytest.mark.parametrize("name", sorted(LISTS))
async def test_each_numbered_list_walks_once_in_order_while_it_grows(
    client: httpx.AsyncClient, numbered: Numbered, name: str
) -> None:
    path, key = LISTS[name]
    world = numbered.world
    url = world.base + path.format(hook=numbered.hook)
    headers = world.tokens["SGP"] if name == "deliveries" else world.organiser
    for _ in range(5):
        await add_one(client, numbered, name)
    grown = 0

    async def between(_: list[Any]) -> None:
        nonlocal grown
        if grown < 3:
            grown += 1
            await add_one(client, numbered, name)

    walked = await walk(client, f"{url}?limit=2", headers, between)
    now = await whole(client, url, headers)
    assert len(now) >= 8
    once_in_order(walked.items, now, key)
    assert [item[key] for item in walked.items] == [item[key] for item in now]
    assert walked.pages[:-1] == [2] * (len(walked.pages) - 1) and walked.links[-1] == ""
    assert walked.links[0] == f'<{url}?after={walked.items[1][key]}&limit=2>; rel="next"'
    past = await client.get(f"{url}?after={now[-1][key]}", headers=headers)
    assert past.status_code == 200 and past.json() == [] and "link" not in past.headers


async def test_the_default_page_is_a_hundred_with_a_link_to_the_rest(
    client: httpx.AsyncClient, numbered: Numbered
) -> None:
    world = numbered.world
    async with numbered.pool.acquire() as connection:
        await connection.execute(
            "INSERT INTO audit_log (forum_id, actor, action, entity, entity_id)"
            " SELECT $1, 'test', 'create', 'note', n::text FROM generate_series(1, 150) AS n",
            UUID(world.forum_id),
        )
    first = await client.get(f"{world.base}/audit", headers=world.organiser)
    assert first.status_code == 200 and len(first.json()) == 100
    rest = await client.get(first.links["next"]["url"], headers=world.organiser)
    assert rest.status_code == 200 and "link" not in rest.headers
    every = await whole(client, f"{world.base}/audit", world.organiser)
    assert first.json() + rest.json() == every and len(every) > 150
