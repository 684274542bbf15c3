"""What the pages need from the server, over HTTP: the pages themselves (no data, no token),
`GET /me`, and the detailed agenda (a delegation's own meetings, with names, else 404)."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from api.demo import DemoForum, demo_lines
from tests.conftest import World
from tests.test_api_moves import solved

pytestmark = pytest.mark.anyio


async def test_pages_are_static_and_forbid_other_origins(client: httpx.AsyncClient) -> None:
    for path, script in (("/grid", "/static/grid.js"), ("/agenda", "/static/agenda.js")):
        page = await client.get(path)
        assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
        assert script in page.text and "token" not in page.text.split("<body", 1)[0].lower()
        policy = page.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert page.headers["referrer-policy"] == "no-referrer"
        asset = await client.get(script)
        assert asset.status_code == 200 and "Sidelines" in asset.text
    assert (await client.get("/static/../app.py")).status_code == 404


async def test_me_names_the_tokens_owner(client: httpx.AsyncClient, world: World) -> None:
    organiser = (await client.get("/me", headers=world.organiser)).json()
    assert organiser == {"kind": "organiser", "forum_id": world.forum_id, "delegation_id": None}
    delegation = (await client.get("/me", headers=world.tokens["AUS"])).json()
    assert delegation == {"kind": "delegation", "forum_id": world.forum_id, "delegation_id": "AUS"}
    anonymous = await client.get("/me")
    assert anonymous.status_code == 401 and anonymous.headers["content-type"] == "application/problem+json"
    assert (await client.get("/me", headers={"Authorization": "Bearer nope"})).status_code == 401


async def test_the_detailed_agenda_holds_only_the_delegations_own_meetings(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    path = f"{world.base}/delegations/SGP/agenda/detailed"
    assert (await client.get(path, headers=world.tokens["SGP"])).status_code == 404  # nothing solved yet
    grid = await solved(client, world, pool)  # SGP-AUS and AUS-JPN
    assert (await client.get(path, headers=world.tokens["SGP"])).status_code == 404  # solved, not published
    published = await client.post(f"{world.base}/schedules/{grid['number']}/publish", headers=world.organiser)
    assert published.status_code == 200

    agenda = (await client.get(path, headers=world.tokens["SGP"])).json()
    assert agenda["delegation"] == {"id": "SGP", "name": "Singapore", "country": "SGP"}
    [meeting] = agenda["meetings"]
    assert [c["id"] for c in meeting["counterparts"]] == ["AUS"]
    assert meeting["room_name"] == "Room 1" and meeting["venue"] is None
    assert sorted(a["name"] for a in meeting["attendees"]) == ["AUS min", "SGP min"]
    assert "JPN" not in str(agenda)  # AUS-JPN is not SGP's meeting
    assert [p["participant"] for p in agenda["people"]] == ["aide", "min"]

    assert (await client.get(path, headers=world.tokens["JPN"])).status_code == 404  # another delegation's
    assert (await client.get(path, headers=world.organiser)).status_code == 200
    both = (await client.get(f"{world.base}/delegations/AUS/agenda/detailed", headers=world.tokens["AUS"])).json()
    assert len(both["meetings"]) == 2


def test_the_demo_prints_the_pages_with_their_tokens() -> None:
    demo = DemoForum(
        base_url="http://127.0.0.1:8000",
        forum_id="f",
        forum_name="Forum",
        organiser_token="organiser-token",
        delegations=[("SG", "sg-token"), ("US", "us-token")],
        version=1,
        meetings=2,
        placed=2,
        unplaced=[],
    )
    lines = demo_lines(demo)
    assert "  organiser grid   http://127.0.0.1:8000/grid#token=organiser-token" in lines
    assert "  agenda of SG     http://127.0.0.1:8000/agenda#token=sg-token" in lines
