"""A request's parties changed in place by the organiser (PATCH `parties`): an added party is asked,
a removed one loses its answer and its sight of the request, every other answer stands. (The
CSV import's check of `features` and `seats` is in tests/test_csv_import.py.)

The world: SGP, AUS and JPN, each with a principal ("min") and an aide; one room of 8 seats.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import World
from tests.test_request_edits import _accept, _ask, _audit, _edit, _meeting, _parties, _revision
from tests.test_request_notices import counts, notices_of, types

pytestmark = pytest.mark.anyio


async def _list_tag(client: httpx.AsyncClient, world: World) -> str:
    return (await client.get(f"{world.base}/requests", headers=world.organiser)).headers["ETag"]


async def _add_delegation(client: httpx.AsyncClient, world: World, code: str) -> dict[str, str]:
    body = {"id": code, "name": code, "country": code}
    made = await client.post(f"{world.base}/delegations", json=body, headers=world.organiser)
    assert made.status_code == 201, made.text
    return {"Authorization": f"Bearer {made.json()['token']}"}


async def test_the_organiser_adds_a_party_who_is_asked_and_every_answer_stands(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    asked = await _ask(client, world, "SGP", ["SGP", "AUS"], attendees={"SGP": ["aide"]})
    await _accept(client, world, asked, "AUS")
    assert await _meeting(client, world, asked) is not None  # accepted, scheduled (and cached)
    revision, tag = await _revision(client, world), await _list_tag(client, world)
    updated = (await client.get(f"{world.base}/requests/{asked}", headers=world.organiser)).json()["updated_at"]
    before = counts(await notices_of(pool, world))

    added = await _edit(client, world, asked, world.organiser, {"parties": ["SGP", "AUS", "JPN"]})
    assert added.status_code == 200, added.text
    # Japan is asked as a new request's invitee is: pending, its principals; the others keep their answers.
    assert _parties(added) == {"SGP": "accepted", "AUS": "accepted", "JPN": "pending"}
    assert [(p["role"], p["attendees"]) for p in added.json()["parties"]][2] == ("invitee", [])
    assert [p["attendees"] for p in added.json()["parties"]][:2] == [["aide"], []]
    assert added.json()["status"] == "pending" and added.json()["updated_at"] > updated
    assert await _meeting(client, world, asked) is None  # not scheduled until Japan agrees
    # An edit of an accepted request: audited, a setup edit, and the organiser's list moves on.
    entry = (await _audit(client, world))[-1]
    assert (entry["action"], entry["entity_id"]) == ("edit", asked)
    assert [p["delegation"] for p in entry["before"]["parties"]] == ["SGP", "AUS"]
    assert [p["delegation"] for p in entry["after"]["parties"]] == ["SGP", "AUS", "JPN"]
    assert await _revision(client, world) == revision + 1
    assert await _list_tag(client, world) != tag
    found = await notices_of(pool, world)
    assert types(found, before) == {"SGP": ["request.changed"], "AUS": ["request.changed"], "JPN": ["request.received"]}
    assert found["JPN"][-1]["by"] == "organiser" and found["JPN"][-1]["request"]["id"] == asked
    changed = found["AUS"][-1]["changes"]
    assert [p["delegation"] for p in changed["parties"]["after"]] == ["SGP", "AUS", "JPN"]
    assert changed["status"] == {"before": "accepted", "after": "pending"} and not found["AUS"][-1]["asked_again"]

    # Japan sees it now, in its inbox too, and its acceptance makes the trilateral.
    inbox = await client.get(f"{world.base}/delegations/JPN/inbox", headers=world.tokens["JPN"])
    assert [request["id"] for request in inbox.json()["waiting"]] == [asked]
    await _accept(client, world, asked, "JPN")
    meeting = await _meeting(client, world, asked)
    assert meeting is not None and sorted(meeting["participants"]) == ["AUS/min", "JPN/min", "SGP/aide"]


async def test_a_removed_party_loses_its_answer_and_its_sight_of_the_request(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    asked = await _ask(client, world, "SGP", ["SGP", "AUS", "JPN"])
    await _accept(client, world, asked, "AUS")
    own = await client.post(
        f"{world.base}/requests/{asked}/accept", json={"attendees": ["aide"]}, headers=world.tokens["JPN"]
    )
    assert own.status_code == 200, own.text
    revision = await _revision(client, world)
    before = counts(await notices_of(pool, world))

    removed = await _edit(client, world, asked, world.organiser, {"parties": ["SGP", "AUS"]})
    assert removed.status_code == 200, removed.text
    assert _parties(removed) == {"SGP": "accepted", "AUS": "accepted"} and removed.json()["status"] == "accepted"
    assert await _revision(client, world) == revision + 1  # it was and is accepted: a setup edit
    meeting = await _meeting(client, world, asked)
    assert meeting is not None and sorted(meeting["participants"]) == ["AUS/min", "SGP/min"]

    # Japan: a 404 for every route, worded as for a request that does not exist; nothing in its lists.
    url = f"{world.base}/requests/{asked}"
    nothing = await client.get(f"{world.base}/requests/m-0123456789", headers=world.tokens["JPN"])
    read = await client.get(url, headers=world.tokens["JPN"])
    assert read.status_code == nothing.status_code == 404
    assert read.json()["detail"].replace(asked, "<id>") == nothing.json()["detail"].replace("m-0123456789", "<id>")
    for route in ("accept", "decline"):
        answer = await client.post(f"{url}/{route}", json={}, headers=world.tokens["JPN"])
        assert answer.status_code == 404, answer.text
    patched = await client.patch(url, json={"attendees": {"JPN": []}}, headers={**world.tokens["JPN"], "If-Match": "*"})
    assert patched.status_code == 404, patched.text
    assert (await client.get(f"{world.base}/requests", headers=world.tokens["JPN"])).json() == []

    # Told as a withdrawal: the request as Japan last saw it, no more.
    found = await notices_of(pool, world)
    assert types(found, before) == {
        "SGP": ["request.changed"],
        "AUS": ["request.changed"],
        "JPN": ["request.withdrawn"],
    }
    told = found["JPN"][-1]
    assert told["request"]["status"] == "withdrawn" and told["by"] == "organiser"
    assert [p["delegation"] for p in told["request"]["parties"]] == ["SGP", "AUS", "JPN"]

    # Its answer went with it: added again, it is asked again, with its principal.
    again = await _edit(client, world, asked, world.organiser, {"parties": ["AUS", "JPN", "SGP"]})
    assert again.status_code == 200, again.text
    assert _parties(again) == {"SGP": "accepted", "AUS": "accepted", "JPN": "pending"}
    assert [p["attendees"] for p in again.json()["parties"] if p["delegation"] == "JPN"] == [[]]


async def test_who_may_change_the_parties_and_to_what(client: httpx.AsyncClient, world: World) -> None:
    asked = await _ask(client, world, "SGP", ["SGP", "AUS"])
    await _add_delegation(client, world, "NZL")
    # Delegations may not: the requester (withdraw and ask again) nor an invitee.
    for who in ("SGP", "AUS"):
        refused = await _edit(client, world, asked, world.tokens[who], {"parties": ["SGP", "AUS", "JPN"]})
        assert refused.status_code == 403 and "parties" in refused.json()["detail"], refused.text
    hidden = await _edit(client, world, asked, world.tokens["JPN"], {"parties": ["SGP", "AUS", "JPN"]})
    assert hidden.status_code == 404, hidden.text

    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({"parties": ["AUS", "JPN"]}, ["parties"]),  # the requester stays
        ({"parties": ["SGP", "ATL"]}, ["parties[1]"]),
        ({"parties": ["SGP", "AUS", "AUS"]}, ["parties[2]"]),
        # an added party's attendees are its own participants
        ({"parties": ["SGP", "AUS", "JPN"], "attendees": {"JPN": ["ghost"]}}, ["attendees.JPN[0]"]),
        ({"attendees": {"JPN": []}}, ["attendees.JPN"]),  # not a party unless added
    ]
    for body, fields in cases:
        answer = await _edit(client, world, asked, world.organiser, body)
        assert answer.status_code == 422, answer.text
        assert [error["field"] for error in answer.json()["errors"]] == fields, (body, answer.text)
    for few in (["SGP"], ["SGP", "AUS", "JPN", "NZL", "SGP"]):  # 2 to 4, as a new request
        answer = await _edit(client, world, asked, world.organiser, {"parties": few})
        assert answer.status_code in (400, 422) and "parties" in answer.text, answer.text
    assert [entry["action"] for entry in await _audit(client, world) if entry["entity"] == "request"] == ["create"]

    # Named with its attendees in the same edit; the organiser's own request keeps no requester.
    revision = await _revision(client, world)
    named = await _edit(
        client, world, asked, world.organiser, {"parties": ["SGP", "AUS", "JPN"], "attendees": {"JPN": ["aide"]}}
    )
    assert named.status_code == 200, named.text
    assert await _revision(client, world) == revision  # pending before and after: no setup edit
    assert [p["attendees"] for p in named.json()["parties"] if p["delegation"] == "JPN"] == [["aide"]]
    arranged = await client.post(
        f"{world.base}/requests", json={"parties": ["SGP", "AUS"], "duration_minutes": 30}, headers=world.organiser
    )
    swapped = await _edit(client, world, arranged.json()["id"], world.organiser, {"parties": ["JPN", "NZL"]})
    assert swapped.status_code == 200, swapped.text
    assert _parties(swapped) == {"JPN": "pending", "NZL": "pending"}


async def test_after_the_deadline_an_added_party_starts_agreed(client: httpx.AsyncClient, world: World) -> None:
    """Asked then, it could not answer: the request would read expired at once, as would its meeting."""
    asked = await _ask(client, world, "SGP", ["SGP", "AUS"])
    await _accept(client, world, asked, "AUS")
    forum = await client.get(world.base, headers=world.organiser)
    past = {"request_deadline": "2020-01-01T00:00:00Z"}
    moved = await client.patch(world.base, json=past, headers={**world.organiser, "If-Match": forum.headers["etag"]})
    assert moved.status_code == 200, moved.text
    added = await _edit(client, world, asked, world.organiser, {"parties": ["SGP", "AUS", "JPN"]})
    assert added.status_code == 200, added.text
    assert added.json()["status"] == "accepted" and _parties(added)["JPN"] == "accepted"
    assert await _meeting(client, world, asked) is not None
