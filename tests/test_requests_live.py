"""Keeping up with requests cheaply: a request's `updated_at` (migration 0020), the ETag and 304 of
the requests list (the organiser's moves with any request change, a delegation's only with its own
requests), and the ETag of a delegation's participants list (polled by the agenda page)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.conftest import World
from tests.test_api_requests import ask

pytestmark = pytest.mark.anyio


async def _list(
    client: httpx.AsyncClient, world: World, headers: dict[str, str], tag: str | None = None
) -> httpx.Response:
    sent = {**headers, "If-None-Match": tag} if tag else headers
    return await client.get(f"{world.base}/requests", headers=sent)


async def _moved(client: httpx.AsyncClient, world: World, headers: dict[str, str], tag: str) -> str:
    """The list's new ETag, having checked that the old one answers 200 and the new one 304."""
    answer = await _list(client, world, headers, tag)
    assert answer.status_code == 200, answer.text
    fresh = answer.headers["etag"]
    assert fresh != tag
    again = await _list(client, world, headers, fresh)
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == fresh
    return fresh


async def _still(client: httpx.AsyncClient, world: World, headers: dict[str, str], tag: str) -> None:
    answer = await _list(client, world, headers, tag)
    assert answer.status_code == 304, answer.text
    assert answer.headers["etag"] == tag


def _at(record: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(record["updated_at"])


async def test_updated_at_moves_on_an_answer_and_an_edit(client: httpx.AsyncClient, world: World) -> None:
    asked = await ask(client, world, "SGP", ["SGP", "AUS"])
    assert asked["updated_at"] == asked["created_at"]
    url = f"{world.base}/requests/{asked['id']}"
    read = (await client.get(url, headers=world.tokens["SGP"])).json()
    assert read["updated_at"] == read["created_at"]  # shown as created_at is
    accepted = await client.post(f"{url}/accept", json={"attendees": ["min"]}, headers=world.tokens["AUS"])
    assert accepted.status_code == 200, accepted.text
    answered = (await client.get(url, headers=world.tokens["SGP"])).json()
    assert _at(answered) > _at(read) and answered["created_at"] == read["created_at"]
    assert accepted.json()["updated_at"] == answered["updated_at"]
    edited = await client.patch(url, json={"priority": "low"}, headers={**world.organiser, "If-Match": "*"})
    assert edited.status_code == 200, edited.text
    assert _at(edited.json()) > _at(answered)
    listed = (await _list(client, world, world.organiser)).json()
    assert [r["updated_at"] for r in listed] == [edited.json()["updated_at"]]


async def test_the_organisers_list_etag_moves_with_every_request_change(
    client: httpx.AsyncClient, world: World
) -> None:
    first = await _list(client, world, world.organiser)
    assert first.status_code == 200 and first.json() == []
    tag = first.headers["etag"]
    await _still(client, world, world.organiser, tag)
    asked = await ask(client, world, "SGP", ["SGP", "AUS"])
    tag = await _moved(client, world, world.organiser, tag)  # a new request
    url = f"{world.base}/requests/{asked['id']}"
    # Not a request change: a room edited leaves the list as it was.
    room = await client.post(
        f"{world.base}/rooms", json={"id": "R2", "name": "Room 2", "seats": 4}, headers=world.organiser
    )
    assert room.status_code == 201, room.text
    await _still(client, world, world.organiser, tag)
    answered = await client.post(f"{url}/accept", json={"attendees": ["min"]}, headers=world.tokens["AUS"])
    assert answered.status_code == 200, answered.text
    tag = await _moved(client, world, world.organiser, tag)  # an answer
    edited = await client.patch(url, json={"title": "Renamed"}, headers={**world.organiser, "If-Match": "*"})
    assert edited.status_code == 200, edited.text
    tag = await _moved(client, world, world.organiser, tag)  # an edit
    withdrawn = await client.post(f"{url}/withdraw", headers=world.tokens["SGP"])
    assert withdrawn.status_code == 200, withdrawn.text
    tag = await _moved(client, world, world.organiser, tag)  # a withdrawal
    # A refused change changes nothing.
    refused = await client.post(f"{url}/withdraw", headers=world.tokens["SGP"])
    assert refused.status_code == 409
    await _still(client, world, world.organiser, tag)
    # Each page has its own tag, and moves with the list.
    await ask(client, world, "AUS", ["AUS", "JPN"])
    paged = await client.get(f"{world.base}/requests?limit=1", headers=world.organiser)
    assert paged.status_code == 200 and paged.headers["etag"] != tag
    await _moved(client, world, world.organiser, tag)


async def test_a_delegations_list_etag_moves_only_with_its_own_requests(
    client: httpx.AsyncClient, world: World
) -> None:
    aus = world.tokens["AUS"]
    mine = await ask(client, world, "SGP", ["SGP", "AUS"])
    tag = (await _list(client, world, aus)).headers["etag"]
    organiser_tag = (await _list(client, world, world.organiser)).headers["etag"]
    await _still(client, world, aus, tag)
    # Other delegations' requests: made, answered, edited, withdrawn. AUS's list answers 304 all along.
    theirs = await ask(client, world, "SGP", ["SGP", "JPN"])
    url = f"{world.base}/requests/{theirs['id']}"
    await _still(client, world, aus, tag)
    assert (await client.post(f"{url}/accept", json={}, headers=world.tokens["JPN"])).status_code == 200
    await _still(client, world, aus, tag)
    edited = await client.patch(url, json={"title": "Theirs"}, headers={**world.organiser, "If-Match": "*"})
    assert edited.status_code == 200, edited.text
    await _still(client, world, aus, tag)
    assert (await client.post(f"{url}/withdraw", headers=world.tokens["SGP"])).status_code == 200
    await _still(client, world, aus, tag)
    # ... while the organiser's moved.
    await _moved(client, world, world.organiser, organiser_tag)
    # Its own request answered: its list moves.
    own = f"{world.base}/requests/{mine['id']}"
    assert (await client.post(f"{own}/decline", headers=aus)).status_code == 200
    await _moved(client, world, aus, tag)


async def test_the_participants_list_answers_304_while_unchanged(client: httpx.AsyncClient, world: World) -> None:
    path = f"{world.base}/delegations/AUS/participants"
    first = await client.get(path, headers=world.tokens["AUS"])
    assert first.status_code == 200 and len(first.json()) == 2
    tag = first.headers["etag"]
    unchanged = await client.get(path, headers={**world.tokens["AUS"], "If-None-Match": tag})
    assert unchanged.status_code == 304 and unchanged.headers["etag"] == tag
    # Another delegation's participant added: still 304.
    body = {"id": "adv", "name": "SGP adviser", "rank": "official"}
    added = await client.post(f"{world.base}/delegations/SGP/participants", json=body, headers=world.tokens["SGP"])
    assert added.status_code == 201, added.text
    unchanged = await client.get(path, headers={**world.tokens["AUS"], "If-None-Match": tag})
    assert unchanged.status_code == 304
    added = await client.post(f"{world.base}/delegations/AUS/participants", json=body, headers=world.tokens["AUS"])
    assert added.status_code == 201, added.text
    changed = await client.get(path, headers={**world.tokens["AUS"], "If-None-Match": tag})
    assert changed.status_code == 200 and len(changed.json()) == 3 and changed.headers["etag"] != tag
