"""A request corrected in place (PATCH): who may edit what, what an edit does to the answers
given, the fields named when it is refused, and the audit entry every edit writes (which keeps
db/forum_state.py's cache exact and makes built versions out of date)."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import World
from tests.test_api_runs import RUN, work_one

pytestmark = pytest.mark.anyio


async def _ask(client: httpx.AsyncClient, world: World, by: str, parties: list[str], **fields: object) -> str:
    body = {"parties": parties, "duration_minutes": 30, "title": f"{by} asks", **fields}
    made = await client.post(f"{world.base}/requests", json=body, headers=world.tokens[by])
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


async def _accept(client: httpx.AsyncClient, world: World, request_id: str, by: str) -> None:
    answer = await client.post(f"{world.base}/requests/{request_id}/accept", json={}, headers=world.tokens[by])
    assert answer.status_code == 200, answer.text


async def _edit(
    client: httpx.AsyncClient, world: World, request_id: str, headers: dict[str, str], body: dict[str, Any]
) -> httpx.Response:
    """PATCH with the request's current ETag, read by the organiser."""
    url = f"{world.base}/requests/{request_id}"
    read = await client.get(url, headers=world.organiser)
    return await client.patch(url, json=body, headers={**headers, "If-Match": read.headers["ETag"]})


def _parties(answer: httpx.Response) -> dict[str, str]:
    return {party["delegation"]: party["status"] for party in answer.json()["parties"]}


async def _meeting(client: httpx.AsyncClient, world: World, request_id: str) -> dict[str, Any] | None:
    problem = (await client.get(f"{world.base}/problem", headers=world.organiser)).json()["problem"]
    return next((meeting for meeting in problem["meetings"] if meeting["id"] == request_id), None)


async def _revision(client: httpx.AsyncClient, world: World) -> int:
    return int((await client.get(f"{world.base}/revision", headers=world.organiser)).json()["revision"])


async def _audit(client: httpx.AsyncClient, world: World) -> list[dict[str, Any]]:
    return list((await client.get(f"{world.base}/audit?limit=1000", headers=world.organiser)).json())


async def test_the_requester_corrects_its_request_and_a_change_of_time_asks_again(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    asked = await _ask(client, world, "SGP", ["SGP", "AUS"], attendees={"SGP": ["min"]})
    await _accept(client, world, asked, "AUS")
    started = await client.post(f"{world.base}/runs", json=RUN, headers=world.organiser)
    assert started.status_code == 202, started.text
    assert await work_one(pool, world.forum_id) == "succeeded"
    assert (await _meeting(client, world, asked)) is not None  # cached by db/forum_state.py from here
    revision = await _revision(client, world)

    url = f"{world.base}/requests/{asked}"
    unguarded = await client.patch(url, json={"title": "Maritime security"}, headers=world.tokens["SGP"])
    assert unguarded.status_code == 428, unguarded.text
    # Logistics (title, its own attendees) keep Australia's acceptance.
    body = {"title": "Maritime security", "attendees": {"SGP": ["aide"]}}
    edited = await _edit(client, world, asked, world.tokens["SGP"], body)
    assert edited.status_code == 200, edited.text
    assert edited.json()["id"] == asked and edited.json()["status"] == "accepted"
    assert _parties(edited) == {"SGP": "accepted", "AUS": "accepted"}
    entry = (await _audit(client, world))[-1]
    assert (entry["actor"], entry["action"], entry["entity"], entry["entity_id"]) == (
        f"delegation:{world.forum_id}/SGP",
        "edit",
        "request",
        asked,
    )
    assert (entry["before"]["title"], entry["after"]["title"]) == ("SGP asks", "Maritime security")
    # A setup edit: counted, so the cached problem is not served again, and the version is out of date.
    assert await _revision(client, world) == revision + 1
    meeting = await _meeting(client, world, asked)
    assert meeting is not None and meeting["title"] == "Maritime security"
    assert meeting["participants"] == ["SGP/aide", "AUS/min"]
    (version,) = (await client.get(f"{world.base}/schedules", headers=world.organiser)).json()
    assert version["out_of_date"] is not None and version["out_of_date"]["first"][0]["entity_id"] == asked

    # Longer: what Australia agreed to is not what is asked now; it answers again.
    longer = await _edit(client, world, asked, world.tokens["SGP"], {"duration_minutes": 45})
    assert longer.status_code == 200, longer.text
    assert longer.json()["status"] == "pending" and _parties(longer) == {"SGP": "accepted", "AUS": "pending"}
    assert await _revision(client, world) == revision + 2  # it was accepted before the edit
    assert await _meeting(client, world, asked) is None  # not scheduled until Australia agrees again
    inbox = await client.get(f"{world.base}/delegations/AUS/inbox", headers=world.tokens["AUS"])
    assert [request["id"] for request in inbox.json()["waiting"]] == [asked]  # its answer is asked for again
    windows = {"preferred": [{"start": "2023-06-02T10:00:00", "end": "2023-06-02T12:00:00"}]}
    moved = await _edit(client, world, asked, world.tokens["SGP"], windows)  # still pending: nothing counted
    assert moved.status_code == 200, moved.text
    assert await _revision(client, world) == revision + 2
    await _accept(client, world, asked, "AUS")
    meeting = await _meeting(client, world, asked)
    assert meeting is not None and meeting["duration_minutes"] == 45
    assert meeting["preferred"][0]["start"].startswith("2023-06-02T10:00")
    assert [e["action"] for e in await _audit(client, world)][-4:] == ["edit", "edit", "edit", "accept"]

    # A change of when it may lie asks again as well.
    later = await _edit(client, world, asked, world.tokens["SGP"], {"earliest": "2023-06-03T09:00:00+08:00"})
    assert later.status_code == 200, later.text
    assert _parties(later) == {"SGP": "accepted", "AUS": "pending"}
    assert later.json()["needs"]["earliest"].startswith("2023-06-03T09:00:00")


async def test_the_organisers_edit_keeps_every_answer_and_any_time(client: httpx.AsyncClient, world: World) -> None:
    asked = await _ask(client, world, "SGP", ["SGP", "AUS", "JPN"])
    await _accept(client, world, asked, "AUS")
    await _accept(client, world, asked, "JPN")
    assert (await _meeting(client, world, asked)) is not None  # cached
    room = {"id": "R2", "name": "Room 2", "seats": 12, "features": ["interpretation"]}
    assert (await client.post(f"{world.base}/rooms", json=room, headers=world.organiser)).status_code == 201
    forum = await client.get(world.base, headers=world.organiser)
    past = {"request_deadline": "2020-01-01T00:00:00Z"}
    closed = await client.patch(world.base, json=past, headers={**world.organiser, "If-Match": forum.headers["etag"]})
    assert closed.status_code == 200, closed.text

    late = await _edit(client, world, asked, world.tokens["SGP"], {"duration_minutes": 60})
    assert late.status_code == 409, late.text  # the deadline closes delegations' edits
    assert "deadline" in late.json()["detail"]
    body = {
        "duration_minutes": 60,
        "priority": "must",
        "features": ["interpretation"],
        "seats": 10,
        "earliest": "2023-06-02T10:00:00",
        "latest": "2023-06-02T12:00:00",
    }
    edited = await _edit(client, world, asked, world.organiser, body)
    assert edited.status_code == 200, edited.text
    assert edited.json()["status"] == "accepted"  # re-asking now would expire it at once
    assert set(_parties(edited).values()) == {"accepted"}
    meeting = await _meeting(client, world, asked)
    assert meeting is not None
    assert (meeting["duration_minutes"], meeting["priority"], meeting["features"], meeting["seats"]) == (
        60,
        "must",
        ["interpretation"],
        10,
    )
    assert meeting["earliest"].startswith("2023-06-02T10:00") and meeting["latest"].startswith("2023-06-02T12:00")
    cleared = await _edit(client, world, asked, world.organiser, {"seats": None, "earliest": None})
    assert cleared.status_code == 200, cleared.text
    assert (cleared.json()["needs"]["seats"], cleared.json()["needs"]["earliest"]) == (None, None)
    assert (await _audit(client, world))[-1]["action"] == "edit"


async def test_who_may_edit_what(client: httpx.AsyncClient, world: World) -> None:
    asked = await _ask(client, world, "SGP", ["SGP", "AUS"])
    await _accept(client, world, asked, "AUS")
    url = f"{world.base}/requests/{asked}"

    # Australia, invited: its own attendees, and nothing else of Singapore's request.
    title = await _edit(client, world, asked, world.tokens["AUS"], {"title": "Renamed"})
    assert title.status_code == 403, title.text
    theirs = await _edit(client, world, asked, world.tokens["AUS"], {"attendees": {"SGP": ["aide"]}})
    assert theirs.status_code == 422 and theirs.json()["errors"][0]["field"] == "attendees.SGP", theirs.text
    own = await _edit(client, world, asked, world.tokens["AUS"], {"attendees": {"AUS": ["aide"]}})
    assert own.status_code == 200, own.text
    assert own.json()["status"] == "accepted"  # who it sends is its own affair: its acceptance stands
    assert [p["attendees"] for p in own.json()["parties"]] == [[], ["aide"]]
    assert (await _audit(client, world))[-1]["actor"] == f"delegation:{world.forum_id}/AUS"

    # The requester: all but the priority. Japan, no party to it: 404, as a request that does not exist.
    priority = await _edit(client, world, asked, world.tokens["SGP"], {"priority": "low"})
    assert priority.status_code == 403, priority.text
    hidden = await _edit(client, world, asked, world.tokens["JPN"], {"title": "Renamed"})
    nothing = await client.patch(
        f"{world.base}/requests/m-0123456789",
        json={"title": "Renamed"},
        headers={**world.tokens["JPN"], "If-Match": "*"},
    )
    assert hidden.status_code == nothing.status_code == 404
    assert hidden.json()["detail"].replace(asked, "<id>") == nothing.json()["detail"].replace("m-0123456789", "<id>")

    # Lost updates: an edit made against an ETag another edit has moved on from is refused.
    read = await client.get(url, headers=world.tokens["SGP"])
    first = await client.patch(
        url, json={"title": "One"}, headers={**world.tokens["SGP"], "If-Match": read.headers["ETag"]}
    )
    assert first.status_code == 200, first.text
    second = await client.patch(
        url, json={"title": "Two"}, headers={**world.organiser, "If-Match": read.headers["ETag"]}
    )
    assert second.status_code == 412, second.text
    assert (await client.get(url, headers=world.organiser)).json()["title"] == "One"

    # A closed forum changes nothing; a withdrawn request is not edited, by anyone.
    closing = await client.post(f"{world.base}/close", headers=world.organiser)
    assert closing.status_code == 200, closing.text
    shut = await client.patch(url, json={"title": "Three"}, headers={**world.organiser, "If-Match": "*"})
    assert shut.status_code == 409, shut.text
    assert (await client.post(f"{world.base}/reopen", headers=world.organiser)).status_code == 200
    assert (await client.post(f"{url}/withdraw", headers=world.tokens["SGP"])).status_code == 200
    for who in (world.tokens["SGP"], world.organiser):
        gone = await client.patch(url, json={"title": "Three"}, headers={**who, "If-Match": "*"})
        assert gone.status_code == 409, gone.text


async def test_a_refused_edit_names_each_field(client: httpx.AsyncClient, world: World) -> None:
    asked = await _ask(client, world, "SGP", ["SGP", "AUS"])
    body = {
        "duration_minutes": 20,  # 15-minute slots
        "preferred": [{"start": "2023-06-02T10:00:00", "end": "2023-06-02T09:00:00"}],
        "attendees": {"SGP": ["min", "ghost"], "AUS": ["min"], "JPN": []},
        "features": ["interpretation"],  # no room offers it
        "seats": 50,  # the only room has 8
        "earliest": "2023-06-02T12:00:00",
        "latest": "2023-06-02T11:00:00",
    }
    refused = await _edit(client, world, asked, world.tokens["SGP"], body)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert [error["field"] for error in refused.json()["errors"]] == [
        "duration_minutes",
        "preferred[0].end",
        "attendees.SGP[1]",
        "attendees.AUS",  # another delegation's people are its own to name
        "attendees.JPN",  # no party to it
        "features[0]",
        "seats",
        "latest",
    ]
    # Decoded strictly, as every body: a number in a string, or a field that does not exist, is refused.
    for wrong, field in (({"duration_minutes": "30"}, "duration_minutes"), ({"room": "R1"}, "room")):
        answer = await _edit(client, world, asked, world.tokens["SGP"], wrong)
        assert answer.status_code in (400, 422) and field in answer.text, answer.text
    unchanged = (await client.get(f"{world.base}/requests/{asked}", headers=world.organiser)).json()
    assert (unchanged["duration_minutes"], unchanged["preferred"], unchanged["needs"]["seats"]) == (30, [], None)
    assert [entry["action"] for entry in await _audit(client, world) if entry["entity"] == "request"] == ["create"]


async def test_an_edit_answers_a_delegation_only_what_it_may_read(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    """`needs.after` may name another delegation's request (a loaded problem's order): the answer to
    an edit, even one that changes nothing, leaves it out, as a read does."""
    asked = await _ask(client, world, "SGP", ["SGP", "AUS"])
    theirs = await _ask(client, world, "AUS", ["AUS", "JPN"])
    await pool.execute(
        "UPDATE meeting_requests SET needs = $3 WHERE forum_id = $1 AND id = $2",
        world.forum_id,
        asked,
        {"after": [theirs]},
    )
    for body in ({}, {"title": "Renamed"}, {"title": "Renamed"}):  # the last changes nothing
        answer = await _edit(client, world, asked, world.tokens["SGP"], body)
        assert answer.status_code == 200, answer.text
        assert answer.json()["needs"]["after"] == [] and theirs not in answer.text
    organisers = await _edit(client, world, asked, world.organiser, {})
    assert organisers.json()["needs"]["after"] == [theirs]


async def test_a_listed_request_carries_the_etag_an_edit_matches(client: httpx.AsyncClient, world: World) -> None:
    """The list gives each request's ETag (as GET answers it), so that a page holding the list
    edits with If-Match as it read it: after a colleague's edit, the listed tag is stale (412)."""
    asked = await _ask(client, world, "SGP", ["SGP", "AUS"])
    url = f"{world.base}/requests/{asked}"

    async def listed() -> dict[str, Any]:
        items = (await client.get(f"{world.base}/requests", headers=world.organiser)).json()
        return next(item for item in items if item["id"] == asked)

    before = await listed()
    assert before["etag"] == (await client.get(url, headers=world.organiser)).headers["ETag"]
    stored = {key: value for key, value in before.items() if key != "etag"}
    assert stored == (await client.get(url, headers=world.organiser)).json()
    mine = (await client.get(f"{world.base}/requests", headers=world.tokens["SGP"])).json()
    assert [item["etag"] for item in mine if item["id"] == asked] == [before["etag"]]
    headers = {**world.organiser, "If-Match": before["etag"]}
    edited = await client.patch(url, json={"priority": "low"}, headers=headers)
    assert edited.status_code == 200, edited.text
    after = await listed()
    assert after["etag"] == edited.headers["ETag"] != before["etag"]
    stale = await client.patch(url, json={"priority": "must"}, headers=headers)
    assert stale.status_code == 412 and stale.json()["errors"][0]["field"] == "header:If-Match"
