"""What the pages need from the server, over HTTP: the pages themselves (no data, no token),
`GET /me`, the detailed agenda (a delegation's own meetings, with names, else 404; an open agenda
page polls it with If-None-Match), and the forum's revision an open grid page polls (the
organiser's; a delegation gets 404)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import anyio
import asyncpg
import httpx
import pytest

from api.controllers import pages
from api.demo import DemoForum, demo_lines
from db.queries.audit import record_change
from tests.conftest import World, make_world
from tests.grids import Slot, add_venue_room, agree, publish, store_grid
from tests.test_api_moves import solved
from tests.test_api_runs import start, work_one

pytestmark = pytest.mark.anyio


async def test_pages_are_static_and_forbid_other_origins(client: httpx.AsyncClient) -> None:
    pages = (("/grid", "/static/grid.js"), ("/agenda", "/static/agenda.js"), ("/requests", "/static/requests.js"))
    for path, script in pages:
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


async def _revision(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    answer = await client.get(f"{world.base}/revision", headers=world.organiser)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_the_revision_moves_with_setup_edits_versions_and_publications(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    """Each number an open grid page compares moves when, and only when, what it shows would
    change: a setup edit, a new version, a publication (even of the version published before)."""
    empty = await _revision(client, world)
    assert empty == {
        "revision": empty["revision"],
        "latest_version": None,
        "published_version": None,
        "publications": 0,
    }
    await solved(client, world, pool)  # two requests agreed: two setup edits, and version 1
    first = await _revision(client, world)
    assert first == {**empty, "revision": empty["revision"] + 2, "latest_version": 1}

    rotated = await client.post(f"{world.base}/delegations/JPN/token", headers=world.organiser)
    assert rotated.status_code == 201 and await _revision(client, world) == first  # no solve would differ
    room = await client.post(
        f"{world.base}/rooms", json={"id": "R2", "name": "Room 2", "seats": 8}, headers=world.organiser
    )
    assert room.status_code == 201, room.text
    edited = await _revision(client, world)
    assert edited == {**first, "revision": first["revision"] + 1}

    await _solve(client, world, pool)  # version 2, current; version 1 lacks the room
    assert await _revision(client, world) == {**edited, "latest_version": 2}
    await _publish(client, world, 2)
    published = await _revision(client, world)
    assert published == {**edited, "latest_version": 2, "published_version": 2, "publications": 1}
    await _solve(client, world, pool)
    await _publish(client, world, 3)
    await _publish(client, world, 2)  # 2 again: only the count tells that 3 was published meanwhile
    again = await _revision(client, world)
    assert again == {**published, "latest_version": 3, "publications": 3}
    await _publish(client, world, 2)  # already published: nothing is recorded, nothing moves
    assert await _revision(client, world) == again


async def test_a_grid_says_when_it_was_last_published_also_once_replaced(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    """`published_at` is the current publication's; `last_published_at` stays once another version
    replaces it, which is how the grid page tells a version delegations saw from a draft."""
    await solved(client, world, pool)
    draft = await _grid(client, world, 1)
    assert draft["published_at"] is None and draft["last_published_at"] is None
    await _publish(client, world, 1)
    shown = await _grid(client, world, 1)
    assert shown["published"] and shown["last_published_at"] == shown["published_at"] is not None
    await _solve(client, world, pool)
    await _publish(client, world, 2)
    replaced = await _grid(client, world, 1)
    assert not replaced["published"] and replaced["published_at"] is None
    assert replaced["last_published_at"] == shown["published_at"]
    current = await _grid(client, world, 2)
    assert current["last_published_at"] == current["published_at"]
    assert datetime.fromisoformat(current["published_at"]) > datetime.fromisoformat(shown["published_at"])


async def _solve(client: httpx.AsyncClient, world: World, pool: asyncpg.Pool) -> None:
    await start(client, world)
    assert await work_one(pool, world.forum_id) == "succeeded"


async def _publish(client: httpx.AsyncClient, world: World, number: int) -> None:
    answer = await client.post(f"{world.base}/schedules/{number}/publish", headers=world.organiser)
    assert answer.status_code == 200, answer.text


async def _grid(client: httpx.AsyncClient, world: World, number: int) -> dict[str, Any]:
    answer = await client.get(f"{world.base}/schedules/{number}", headers=world.organiser)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_the_revision_is_hidden_from_delegations_and_other_forums(
    client: httpx.AsyncClient, world: World
) -> None:
    """It counts the organiser's setup edits, unpublished ones included: to a delegation of the
    forum it does not exist (404, as a whole grid), nor to another forum's organiser."""
    path = f"{world.base}/revision"
    for delegation in ("SGP", "AUS"):
        answer = await client.get(path, headers=world.tokens[delegation])
        assert answer.status_code == 404 and answer.headers["content-type"] == "application/problem+json"
        assert "revision" not in answer.json() and "edit" not in answer.text
    other = await make_world(client)
    assert (await client.get(path, headers=other.organiser)).status_code == 404
    assert (await client.get(path)).status_code == 401


async def _titled(client: httpx.AsyncClient, world: World, title: str, *parties: str) -> str:
    body = {"parties": list(parties), "duration_minutes": 30, "title": title}
    made = await client.post(f"{world.base}/requests", json=body, headers=world.organiser)
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def _person(delegation: str, participant: str, principal: bool) -> dict[str, Any]:
    name = f"{delegation} {participant}"
    return {
        "delegation": delegation,
        "participant": participant,
        "name": name,
        "rank": "minister",
        "principal": principal,
    }


async def test_the_detailed_agenda_names_everything_as_it_did_from_the_whole_forums_problem(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    """Three delegations, a meeting of all three in a venue's room, Singapore's aide at one, a meeting
    Singapore is not at, and one withdrawn after publication (its title is no longer an accepted
    request's: empty). The whole answer, as it was when it was read from the forum's solver problem."""
    await add_venue_room(client, world)
    three = await _titled(client, world, "Straits", "SGP", "AUS", "JPN")
    pair = await _titled(client, world, "Exercises", "SGP", "AUS")
    others = await _titled(client, world, "Not Singapore's", "AUS", "JPN")
    gone = await _titled(client, world, "Withdrawn", "SGP", "JPN")
    parties = {three: ("SGP", "AUS", "JPN"), pair: ("SGP", "AUS"), others: ("AUS", "JPN"), gone: ("SGP", "JPN")}
    grid = {three: Slot("R2", "09:00"), pair: Slot("R1", "10:00"), others: Slot("R1", "11:00")}
    grid[gone] = Slot("R1", "12:00")
    with_aide = {pair: [("AUS", "min"), ("SGP", "aide"), ("SGP", "min")]}
    await publish(client, world, await store_grid(pool, world, parties, grid, with_aide))
    withdrawn = await client.post(f"{world.base}/requests/{gone}/withdraw", headers=world.organiser)
    assert withdrawn.status_code == 200, withdrawn.text

    answer = await client.get(f"{world.base}/delegations/SGP/agenda/detailed", headers=world.tokens["SGP"])
    assert answer.status_code == 200, answer.text
    assert others not in answer.text and "Not Singapore's" not in answer.text  # AUS-JPN: not Singapore's
    agenda = answer.json()
    assert agenda.pop("published_at")
    sgp, aus, jpn = (_person(code, "min", True) for code in ("SGP", "AUS", "JPN"))
    singapore = {"id": "SGP", "name": "Singapore", "country": "SGP"}
    australia = {"id": "AUS", "name": "Australia", "country": "AUS"}
    japan = {"id": "JPN", "name": "Japan", "country": "JPN"}
    at = {"room": "R1", "room_name": "Room 1", "venue": None}
    assert agenda == {
        "forum": "Shangri-La Dialogue",
        "time_zone": "Asia/Singapore",
        "delegation": singapore,
        "people": [_person("SGP", "aide", False), sgp],
        "version": 1,
        "publication": 1,
        "meetings": [
            {
                "meeting": three,
                "title": "Straits",
                "start": "2023-06-02T09:00:00+08:00",
                "end": "2023-06-02T09:30:00+08:00",
                **{"room": "R2", "room_name": "Island Ballroom", "venue": "Shangri-La Hotel"},
                "counterparts": [australia, japan],
                "attendees": [aus, jpn, sgp],
            },
            {
                "meeting": pair,
                "title": "Exercises",
                "start": "2023-06-02T10:00:00+08:00",
                "end": "2023-06-02T10:30:00+08:00",
                **at,
                "counterparts": [australia],
                "attendees": [aus, _person("SGP", "aide", False), sgp],
            },
            {
                "meeting": gone,
                "title": "",
                "start": "2023-06-02T12:00:00+08:00",
                "end": "2023-06-02T12:30:00+08:00",
                **at,
                "counterparts": [japan],
                "attendees": [jpn, sgp],
            },
        ],
    }
    japans = await client.get(f"{world.base}/delegations/JPN/agenda/detailed", headers=world.tokens["JPN"])
    assert [m["meeting"] for m in japans.json()["meetings"]] == [three, others, gone]
    assert japans.json()["people"] == [_person("JPN", "aide", False), jpn]


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
    assert "  requests         http://127.0.0.1:8000/requests#token=organiser-token" in lines
    assert "  agenda of SG     http://127.0.0.1:8000/agenda#token=sg-token" in lines


async def _agenda(
    client: httpx.AsyncClient, world: World, delegation: str, tag: str | None = None, as_: str | None = None
) -> httpx.Response:
    """`delegation`'s detailed agenda, read with its own token (or `as_`'s), If-None-Match `tag`."""
    headers = {**world.tokens[as_ or delegation], **({} if tag is None else {"If-None-Match": tag})}
    return await client.get(f"{world.base}/delegations/{delegation}/agenda/detailed", headers=headers)


async def _rename_room(client: httpx.AsyncClient, world: World, room: str, name: str) -> None:
    path = f"{world.base}/rooms/{room}"
    read = await client.get(path, headers=world.organiser)
    body = {**read.json(), "name": name}
    answer = await client.put(path, json=body, headers={**world.organiser, "If-Match": read.headers["etag"]})
    assert answer.status_code == 200, answer.text


async def test_an_open_agenda_is_answered_304_until_what_it_shows_changes(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    """What an open agenda page polls. Its ETag is a digest of the answer: setup edits and drafts
    that leave Singapore's agenda as it was answer 304, so nothing of them reaches it; a publication
    answers 200 (its version number is in the answer), with Singapore's meetings as they were when it
    moved only others'; a move of Singapore's meeting, or a rename of its room, answers 200 with it."""
    await add_venue_room(client, world)  # R2, "Island Ballroom" in "Shangri-La Hotel"
    sa, aj = await agree(client, world, ("SGP", "AUS"), ("AUS", "JPN"))
    parties = {sa: ("SGP", "AUS"), aj: ("AUS", "JPN")}
    await publish(
        client, world, await store_grid(pool, world, parties, {sa: Slot("R1", "09:00"), aj: Slot("R1", "10:00")})
    )
    first = await _agenda(client, world, "SGP")
    assert first.status_code == 200 and first.headers["cache-control"] == "private, no-cache"
    tag = first.headers["etag"]
    unchanged = await _agenda(client, world, "SGP", tag)
    assert unchanged.status_code == 304 and unchanged.content == b"" and unchanged.headers["etag"] == tag
    assert (await _agenda(client, world, "SGP", f'"elsewhere", W/{tag}')).status_code == 304
    assert (await _agenda(client, world, "SGP", '"elsewhere"')).json() == first.json()

    # the organiser's work that Singapore's agenda does not show: a room, another pair's request, a draft
    room = await client.post(
        f"{world.base}/rooms", json={"id": "R3", "name": "Annex", "seats": 4}, headers=world.organiser
    )
    assert room.status_code == 201, room.text
    await agree(client, world, ("AUS", "JPN"))
    assert (await _agenda(client, world, "SGP", tag)).status_code == 304
    draft = await store_grid(pool, world, parties, {sa: Slot("R2", "11:00"), aj: Slot("R1", "10:00")})
    assert (await _agenda(client, world, "SGP", tag)).status_code == 304

    # a publication that moves Australia and Japan's meeting only
    others = await store_grid(pool, world, parties, {sa: Slot("R1", "09:00"), aj: Slot("R2", "12:00")})
    await publish(client, world, others)
    republished = await _agenda(client, world, "SGP", tag)
    assert republished.status_code == 200 and republished.json()["version"] == others
    assert republished.json()["meetings"] == first.json()["meetings"]
    tag = republished.headers["etag"]
    assert (await _agenda(client, world, "SGP", tag)).status_code == 304

    # Singapore's meeting moved, then its room renamed (a setup edit of what its agenda shows)
    await publish(client, world, draft)
    moved = await _agenda(client, world, "SGP", tag)
    assert moved.status_code == 200 and moved.headers["etag"] != tag
    [meeting] = moved.json()["meetings"]
    assert (meeting["start"], meeting["room_name"]) == ("2023-06-02T11:00:00+08:00", "Island Ballroom")
    tag = moved.headers["etag"]
    assert (await _agenda(client, world, "SGP", tag)).status_code == 304
    await _rename_room(client, world, "R2", "Orchid Room")
    renamed = await _agenda(client, world, "SGP", tag)
    assert renamed.status_code == 200 and renamed.json()["meetings"][0]["room_name"] == "Orchid Room"
    tag = renamed.headers["etag"]

    # another delegation, or forum, asking with the tag it might have seen: 404, never a 304
    for peeking in ("JPN", "AUS"):
        refused = await _agenda(client, world, "SGP", tag, as_=peeking)
        assert refused.status_code == 404 and "etag" not in refused.headers
    other = await make_world(client)
    stranger = await client.get(
        f"{world.base}/delegations/SGP/agenda/detailed", headers={**other.organiser, "If-None-Match": tag}
    )
    assert stranger.status_code == 404
    assert (await _agenda(client, world, "SGP", tag)).status_code == 304


async def test_an_edit_committed_while_the_agenda_is_read_is_not_missed(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The agenda's tag is kept under the forum's numbers read before the agenda: a room renamed
    (and counted) just after the agenda's names were read is caught at the next poll, not filed
    under the numbers that already count it, where the old tag would answer 304 for good."""
    (sa,) = await agree(client, world, ("SGP", "AUS"))
    await publish(client, world, await store_grid(pool, world, {sa: ("SGP", "AUS")}, {sa: Slot("R1", "09:00")}))
    names = pages._names

    async def then_renamed(connection: asyncpg.Connection, *args: Any) -> pages.AgendaNames:
        read = await names(connection, *args)
        async with pool.acquire() as other, other.transaction():
            await other.execute(
                "UPDATE rooms SET name = 'Orchid Room' WHERE forum_id = $1 AND id = 'R1'", UUID(world.forum_id)
            )
            await record_change(other, UUID(world.forum_id), "test", "update", "room", "R1")
        return read

    monkeypatch.setattr(pages, "_names", then_renamed)
    before = await _agenda(client, world, "SGP")
    monkeypatch.setattr(pages, "_names", names)
    assert before.json()["meetings"][0]["room_name"] == "Room 1"
    after = await _agenda(client, world, "SGP", before.headers["etag"])
    assert after.status_code == 200 and after.json()["meetings"][0]["room_name"] == "Orchid Room"


# ---------------------------------------------------------------- the inbox


async def _inbox(
    client: httpx.AsyncClient, world: World, delegation: str, tag: str | None = None, as_: str | None = None
) -> httpx.Response:
    """`delegation`'s inbox, read with its own token (or `as_`'s), If-None-Match `tag`."""
    headers = {**world.tokens[as_ or delegation], **({} if tag is None else {"If-None-Match": tag})}
    return await client.get(f"{world.base}/delegations/{delegation}/inbox", headers=headers)


async def _ask(client: httpx.AsyncClient, world: World, asker: str, *others: str, title: str = "") -> str:
    body = {"parties": [asker, *others], "duration_minutes": 30, "title": title}
    made = await client.post(f"{world.base}/requests", json=body, headers=world.tokens[asker])
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def _answers(request: dict[str, Any]) -> dict[str, str]:
    return {party["delegation"]: party["status"] for party in request["parties"]}


async def test_an_open_inbox_is_answered_304_until_a_request_or_an_answer_of_its_own_moves_it(
    client: httpx.AsyncClient, world: World
) -> None:
    """What an open agenda page polls beside its agenda: the requests waiting for Singapore's answer
    and those it made. Its ETag is a digest of the answer: requests Singapore is no party to, and
    setup edits, answer 304; a request to it, an answer to one of its own, its own answer and the
    request deadline passing (nothing written: a pending request expires with the clock) answer 200."""
    empty = await _inbox(client, world, "SGP")
    assert empty.status_code == 200 and empty.headers["cache-control"] == "private, no-cache"
    assert empty.json() == {
        "forum": "Shangri-La Dialogue",
        "time_zone": "Asia/Singapore",
        "request_deadline": None,
        "delegation": {"id": "SGP", "name": "Singapore", "country": "SGP"},
        "waiting": [],
        "sent": [],
    }
    tag = empty.headers["etag"]
    unchanged = await _inbox(client, world, "SGP", tag)
    assert unchanged.status_code == 304 and unchanged.content == b"" and unchanged.headers["etag"] == tag

    # others' requests and the organiser's setup work: nothing of them reaches Singapore
    others = await _ask(client, world, "AUS", "JPN", title="Not Singapore's")
    await agree(client, world, ("AUS", "JPN"))
    room = await client.post(
        f"{world.base}/rooms", json={"id": "R3", "name": "Annex", "seats": 4}, headers=world.organiser
    )
    assert room.status_code == 201, room.text
    assert (await _inbox(client, world, "SGP", tag)).status_code == 304

    # Australia asks Singapore and Japan: waiting for Singapore's answer, with every party named
    asked = await _ask(client, world, "AUS", "SGP", "JPN", title="Straits")
    arrived = await _inbox(client, world, "SGP", tag)
    assert arrived.status_code == 200 and arrived.headers["etag"] != tag
    [waiting] = arrived.json()["waiting"]
    assert waiting["id"] == asked and waiting["title"] == "Straits" and waiting["status"] == "pending"
    assert waiting["requester"] == "AUS" and waiting["created_at"].endswith("+08:00")
    assert all(party.pop("attendees") == [] for party in waiting["parties"])  # none named yet: principals
    assert waiting["parties"] == [
        {"delegation": "AUS", "name": "Australia", "country": "AUS", "role": "requester", "status": "accepted"},
        {"delegation": "JPN", "name": "Japan", "country": "JPN", "role": "invitee", "status": "pending"},
        {"delegation": "SGP", "name": "Singapore", "country": "SGP", "role": "invitee", "status": "pending"},
    ]
    assert arrived.json()["sent"] == [] and others not in arrived.text and "Not Singapore's" not in arrived.text
    tag = arrived.headers["etag"]
    assert (await _inbox(client, world, "SGP", tag)).status_code == 304
    [australias] = (await _inbox(client, world, "AUS")).json()["sent"][1:]
    assert australias["id"] == asked and _answers(australias) == {"AUS": "accepted", "JPN": "pending", "SGP": "pending"}

    # the organiser names who attends for Singapore (a request edit): the answer moves, naming them
    read = await client.get(f"{world.base}/requests/{asked}", headers=world.organiser)
    headers = {**world.organiser, "If-Match": read.headers["etag"]}
    body = {"attendees": {"SGP": ["aide"]}}
    named = await client.patch(f"{world.base}/requests/{asked}", json=body, headers=headers)
    assert named.status_code == 200, named.text
    edited = await _inbox(client, world, "SGP", tag)
    assert edited.status_code == 200 and edited.json()["waiting"][0]["parties"][2]["attendees"] == ["aide"]
    tag = edited.headers["etag"]

    # Japan accepts first (still waiting for Singapore: the answer moves), Singapore then accepts
    accepted = await client.post(f"{world.base}/requests/{asked}/accept", json={}, headers=world.tokens["JPN"])
    assert accepted.status_code == 200, accepted.text
    moved = await _inbox(client, world, "SGP", tag)
    assert moved.status_code == 200 and _answers(moved.json()["waiting"][0])["JPN"] == "accepted"
    tag = moved.headers["etag"]
    accepted = await client.post(f"{world.base}/requests/{asked}/accept", json={}, headers=world.tokens["SGP"])
    assert accepted.status_code == 200, accepted.text
    answered = await _inbox(client, world, "SGP", tag)
    assert answered.status_code == 200 and answered.json()["waiting"] == []
    tag = answered.headers["etag"]

    # Singapore asks Japan: its own request, then Japan's answer to it
    own = await _ask(client, world, "SGP", "JPN", title="Exercises")
    sent = await _inbox(client, world, "SGP", tag)
    assert sent.status_code == 200 and [r["id"] for r in sent.json()["sent"]] == [own]
    assert _answers(sent.json()["sent"][0]) == {"SGP": "accepted", "JPN": "pending"}
    tag = sent.headers["etag"]
    assert (await _inbox(client, world, "SGP", tag)).status_code == 304

    # the request deadline passes, nothing written meanwhile: a pending request expires with the clock
    deadline = datetime.now(UTC) + timedelta(seconds=1)
    forum = await client.get(world.base, headers=world.organiser)
    headers = {**world.organiser, "If-Match": forum.headers["etag"]}
    set_ = await client.patch(world.base, json={"request_deadline": deadline.isoformat()}, headers=headers)
    assert set_.status_code == 200, set_.text
    before = await _inbox(client, world, "SGP", tag)
    assert before.status_code == 200 and before.json()["sent"][0]["status"] == "pending"
    assert before.json()["request_deadline"] == deadline.astimezone(ZoneInfo("Asia/Singapore")).isoformat()
    tag = before.headers["etag"]
    await anyio.sleep((deadline - datetime.now(UTC)).total_seconds() + 0.05)
    expired = await _inbox(client, world, "SGP", tag)
    assert expired.status_code == 200 and expired.json()["sent"][0]["status"] == "expired"
    tag = expired.headers["etag"]
    declined = await client.post(f"{world.base}/requests/{own}/decline", headers=world.tokens["JPN"])
    assert declined.status_code == 409  # expired: no answer any more
    assert (await _inbox(client, world, "SGP", tag)).status_code == 304


async def test_another_delegations_inbox_is_404_even_with_its_tag(client: httpx.AsyncClient, world: World) -> None:
    """Another delegation, or another forum, asking for Singapore's inbox with the tag Singapore
    holds: 404, never a 304 (which would say that the tag is Singapore's current one); the forum's
    organiser reads it, and no one's of a delegation that does not exist."""
    await _ask(client, world, "AUS", "SGP", title="Straits")
    current = await _inbox(client, world, "SGP")
    tag = current.headers["etag"]
    for peeking in ("JPN", "AUS"):  # AUS is a party to the request in it: still not its inbox
        refused = await _inbox(client, world, "SGP", tag, as_=peeking)
        assert refused.status_code == 404 and "etag" not in refused.headers
        assert refused.headers["content-type"] == "application/problem+json" and "Straits" not in refused.text
    other = await make_world(client)
    for stranger in (other.organiser, other.tokens["SGP"]):
        path = f"{world.base}/delegations/SGP/inbox"
        assert (await client.get(path, headers={**stranger, "If-None-Match": tag})).status_code == 404
    assert (await client.get(f"{world.base}/delegations/SGP/inbox")).status_code == 401
    organisers = await client.get(f"{world.base}/delegations/SGP/inbox", headers=world.organiser)
    assert organisers.status_code == 200 and organisers.json() == current.json()
    nobody = await client.get(f"{world.base}/delegations/NZL/inbox", headers=world.organiser)
    assert nobody.status_code == 404
    assert (await _inbox(client, world, "SGP", tag)).status_code == 304


async def test_the_agenda_names_its_publication_as_well_as_its_version(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    """Versions count the organiser's drafts; publications only what delegations were shown. Two
    drafts, then the second published: version 2, publication 1; the first published after it:
    version 1, publication 2. Both agendas, plain and detailed, say both."""
    (sa,) = await agree(client, world, ("SGP", "AUS"))
    parties = {sa: ("SGP", "AUS")}
    first = await store_grid(pool, world, parties, {sa: Slot("R1", "09:00")})
    second = await store_grid(pool, world, parties, {sa: Slot("R1", "10:00")})
    await publish(client, world, second)
    for path in ("agenda", "agenda/detailed"):
        agenda = (await client.get(f"{world.base}/delegations/SGP/{path}", headers=world.tokens["SGP"])).json()
        assert (agenda["version"], agenda["publication"]) == (second, 1)
    await publish(client, world, first)
    for path in ("agenda", "agenda/detailed"):
        agenda = (await client.get(f"{world.base}/delegations/SGP/{path}", headers=world.tokens["SGP"])).json()
        assert (agenda["version"], agenda["publication"]) == (first, 2)
