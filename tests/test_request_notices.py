"""Request notices: the parties of a meeting request are told when it is made, answered,
withdrawn or edited, through the same outbox, webhooks and event stream as `schedule.changed`,
and never told more than a read of the request shows them.

The world: SGP, AUS and JPN, each with a principal ("min") and an aide.
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import anyio
import asyncpg
import httpx
import msgspec
import pytest

from api.dispatcher import EVENT_HEADER
from tests.conftest import World
from tests.test_csv_import import REQUESTS, add_room_for_requests, post_csv
from tests.test_notices import Receiver, live_server, loopback_receivers_allowed, receiver, register, signed_by
from tests.test_notices import _deliver_all as deliver_all
from tests.test_request_submission import Statements, watched

pytestmark = pytest.mark.anyio
__all__ = ["live_server", "loopback_receivers_allowed", "receiver", "watched"]  # fixtures, used by name


async def notices_of(pool: asyncpg.Pool, world: World) -> dict[str, list[dict[str, Any]]]:
    """Every notice of the forum, by delegation, in its numbers' order (with its number as `id`)."""
    rows = await pool.fetch(
        "SELECT delegation_id, number, payload FROM notices WHERE forum_id = $1 ORDER BY delegation_id, number",
        UUID(world.forum_id),
    )
    found: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(row["delegation_id"], []).append({"id": row["number"], **row["payload"]})
    return found


def types(found: dict[str, list[dict[str, Any]]], after: dict[str, int] | None = None) -> dict[str, list[str]]:
    """Each delegation's notice types, after the first `after[delegation]` of them."""
    skip = after or {}
    return {d: [n["type"] for n in listed[skip.get(d, 0) :]] for d, listed in found.items() if listed[skip.get(d, 0) :]}


def counts(found: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
    return {delegation: len(listed) for delegation, listed in found.items()}


async def ask(client: httpx.AsyncClient, world: World, asker: str, parties: list[str], **extra: Any) -> str:
    body = {"parties": parties, "duration_minutes": 30, "title": "Maritime security", **extra}
    made = await client.post(f"{world.base}/requests", json=body, headers=world.tokens[asker])
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


async def etag_of(client: httpx.AsyncClient, world: World, request_id: str) -> str:
    return (await client.get(f"{world.base}/requests/{request_id}", headers=world.organiser)).headers["etag"]


async def test_each_change_is_told_to_the_other_parties_and_no_one_else(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    base = world.base
    meeting = await ask(client, world, "SGP", ["SGP", "AUS", "JPN"], attendees={"SGP": ["min"]})
    await ask(client, world, "AUS", ["AUS", "JPN"])  # SGP is no party: told nothing of it
    found = await notices_of(pool, world)
    assert types(found) == {"AUS": ["request.received"], "JPN": ["request.received", "request.received"]}
    received = found["AUS"][0]
    assert (received["delegation"], received["by"], received["request"]["id"]) == ("AUS", "SGP", meeting)
    assert received["forum"] == world.forum_id and received["request"]["duration_minutes"] == 30
    before = counts(found)

    accepted = await client.post(
        f"{base}/requests/{meeting}/accept", json={"attendees": ["min"]}, headers=world.tokens["AUS"]
    )
    assert accepted.status_code == 200, accepted.text
    found = await notices_of(pool, world)
    assert types(found, before) == {"SGP": ["request.answered"], "JPN": ["request.answered"]}
    answered = found["SGP"][-1]
    assert (answered["by"], answered["answer"]) == ("AUS", "accepted")
    assert {p["delegation"]: p["status"] for p in answered["request"]["parties"]}["AUS"] == "accepted"
    before = counts(found)

    # The requester changes the duration: AUS, which had accepted, is asked again; JPN (pending) sees it too.
    longer = await client.patch(
        f"{base}/requests/{meeting}",
        json={"duration_minutes": 60},
        headers={**world.tokens["SGP"], "If-Match": await etag_of(client, world, meeting)},
    )
    assert longer.status_code == 200, longer.text
    found = await notices_of(pool, world)
    assert types(found, before) == {"AUS": ["request.changed"], "JPN": ["request.changed"]}
    aus, jpn = found["AUS"][-1], found["JPN"][-1]
    assert aus["changes"]["duration_minutes"] == {"before": 30, "after": 60} and aus["asked_again"] is True
    assert {p["delegation"]: p["status"] for p in aus["changes"]["parties"]["after"]}["AUS"] == "pending"
    assert jpn["asked_again"] is False and set(jpn["changes"]) >= {"duration_minutes", "parties"}
    before = counts(found)

    # The organiser's priority: every party is told (the organiser is none of them).
    raised = await client.patch(
        f"{base}/requests/{meeting}",
        json={"priority": "must"},
        headers={**world.organiser, "If-Match": await etag_of(client, world, meeting)},
    )
    assert raised.status_code == 200, raised.text
    found = await notices_of(pool, world)
    assert types(found, before) == {d: ["request.changed"] for d in ("AUS", "JPN", "SGP")}
    assert found["SGP"][-1]["changes"] == {"priority": {"before": "normal", "after": "must"}}
    assert found["SGP"][-1]["by"] == "organiser"
    before = counts(found)

    withdrawn = await client.post(f"{base}/requests/{meeting}/withdraw", headers=world.tokens["SGP"])
    assert withdrawn.status_code == 200, withdrawn.text
    found = await notices_of(pool, world)
    assert types(found, before) == {"AUS": ["request.withdrawn"], "JPN": ["request.withdrawn"]}
    assert found["JPN"][-1]["request"]["status"] == "withdrawn"
    # Each delegation's ids count its own notices: 1, 2, 3 ...
    assert all([n["id"] for n in listed] == list(range(1, len(listed) + 1)) for listed in found.values())


async def test_a_notice_shows_what_a_read_of_the_request_shows_that_delegation(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    """Nothing another delegation keeps to itself: the request in a notice is the request as
    GET /requests/{id} answers the delegation told, at that moment."""
    meeting = await ask(client, world, "SGP", ["SGP", "AUS", "JPN"], attendees={"SGP": ["aide"]})
    accepted = await client.post(
        f"{world.base}/requests/{meeting}/accept", json={"attendees": ["min"]}, headers=world.tokens["JPN"]
    )
    assert accepted.status_code == 200, accepted.text
    for delegation in ("AUS", "SGP"):
        read = await client.get(f"{world.base}/requests/{meeting}", headers=world.tokens[delegation])
        told = (await notices_of(pool, world))[delegation][-1]
        assert told["type"] == "request.answered" and told["request"] == read.json()
        assert set(told) == {
            "id",
            "type",
            "forum",
            "delegation",
            "request",
            "by",
            "at",
            "answer",
            "asked_again",
            "changes",
        }


async def test_a_notice_names_in_needs_after_only_requests_its_delegation_is_party_to(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    """`needs.after` may name another delegation's request (a loaded problem's order): SGP's notice
    leaves out AUS-JPN's request, as SGP's read does; AUS, a party to both, sees it named."""
    asked = await ask(client, world, "SGP", ["SGP", "AUS"])
    theirs = await ask(client, world, "AUS", ["AUS", "JPN"])
    await pool.execute(
        "UPDATE meeting_requests SET needs = $3 WHERE forum_id = $1 AND id = $2",
        world.forum_id,
        asked,
        {"after": [theirs]},
    )
    renamed = await client.patch(
        f"{world.base}/requests/{asked}",
        json={"title": "Renamed"},
        headers={**world.organiser, "If-Match": await etag_of(client, world, asked)},
    )
    assert renamed.status_code == 200, renamed.text
    found = await notices_of(pool, world)
    for delegation, after in (("SGP", []), ("AUS", [theirs])):
        told = found[delegation][-1]
        read = await client.get(f"{world.base}/requests/{asked}", headers=world.tokens[delegation])
        assert told["type"] == "request.changed" and told["request"] == read.json()
        assert told["request"]["needs"]["after"] == after and told["changes"] == {
            "title": {"before": "Maritime security", "after": "Renamed"}
        }
    assert theirs not in msgspec.json.encode(found["SGP"]).decode()


async def test_a_refused_change_leaves_no_notice(client: httpx.AsyncClient, world: World, pool: asyncpg.Pool) -> None:
    """The notices are written by the change's own statement or transaction: the organiser's
    request under a taken id fails at its insert (409), and tells no one."""
    made = await client.post(
        f"{world.base}/requests",
        json={"id": "host-call", "parties": ["SGP", "AUS"], "duration_minutes": 30},
        headers=world.organiser,
    )
    assert made.status_code == 201, made.text
    before = await notices_of(pool, world)
    assert types(before) == {"AUS": ["request.received"], "SGP": ["request.received"]}
    again = await client.post(
        f"{world.base}/requests",
        json={"id": "host-call", "parties": ["JPN", "AUS"], "duration_minutes": 30},
        headers=world.organiser,
    )
    assert again.status_code == 409, again.text
    # An edit refused for its fields (422), checked under the request's row lock: nothing either.
    refused = await client.patch(
        f"{world.base}/requests/host-call",
        json={"duration_minutes": 20},
        headers={**world.organiser, "If-Match": await etag_of(client, world, "host-call")},
    )
    assert refused.status_code == 422, refused.text
    assert await notices_of(pool, world) == before


async def test_webhooks_carry_the_type_signed_and_the_event_stream_names_it(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool, receiver: Receiver, live_server: str
) -> None:
    secret = await register(client, world, "AUS", receiver.url("/hooks/AUS"))
    url = f"{live_server}{world.base}/delegations/AUS/events"
    with anyio.fail_after(20):
        async with (
            httpx.AsyncClient(timeout=20) as live,
            live.stream("GET", url, headers=world.tokens["AUS"]) as stream,
        ):
            assert stream.status_code == 200
            meeting = await ask(client, world, "SGP", ["SGP", "AUS"])
            lines: list[str] = []
            async for line in stream.aiter_lines():
                lines.append(line)
                if line.startswith("data:"):
                    break
    fields = dict(line.split(":", 1) for line in lines if ":" in line)
    assert fields["event"].strip() == "request.received" and fields["id"].strip() == "1"
    assert msgspec.json.decode(fields["data"].strip())["request"]["id"] == meeting
    await deliver_all(pool)
    (delivered,) = receiver.received
    assert delivered.headers[EVENT_HEADER.lower()] == "request.received" and signed_by(secret, delivered)
    assert delivered.notice["request"]["id"] == meeting and delivered.notice["id"] == 1

    # A request notice written before the forum is closed waits, as a publication's, until it is reopened.
    await ask(client, world, "SGP", ["SGP", "AUS"])
    closed = await client.post(f"{world.base}/close", headers=world.organiser)
    assert closed.status_code == 200, closed.text
    await deliver_all(pool)
    assert len(receiver.received) == 1
    reopened = await client.post(f"{world.base}/reopen", headers=world.organiser)
    assert reopened.status_code == 200, reopened.text
    await deliver_all(pool)
    assert [r.notice["id"] for r in receiver.received] == [1, 2]


async def test_a_csv_import_tells_every_party_with_one_statement(
    watched: tuple[httpx.AsyncClient, Statements], world: World, pool: asyncpg.Pool
) -> None:
    """Imported requests start agreed, as the organiser's: each party is told. A thousand rows
    must stay one insert of notices, not one statement each."""
    client, statements = watched
    await add_room_for_requests(client, world)
    statements.sent.clear()
    imported = await post_csv(client, world, "requests", REQUESTS)
    assert imported.status_code == 200, imported.text
    found = await notices_of(pool, world)
    assert types(found) == {
        "AUS": ["request.received", "request.received"],
        "JPN": ["request.received"],
        "SGP": ["request.received", "request.received"],
    }
    jpn = found["JPN"][0]
    assert (jpn["by"], jpn["request"]["id"], jpn["request"]["status"]) == ("organiser", "AUS-JPN-SGP", "accepted")
    # The requests' own inserts carry no notice (their CTE takes none); one statement writes them all.
    assert len([sent for sent in statements.sent if sent.startswith("WITH notice_given")]) == 1
    again = await post_csv(client, world, "requests", REQUESTS)  # unchanged rows: no one is told again
    assert again.status_code == 200 and await notices_of(pool, world) == found


async def test_requests_made_side_by_side_number_their_notices_without_a_gap_or_a_clash(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    """Request changes do not hold the forum's lock as publishing does: JPN's notices from requests
    made at once are numbered on its delegation row (migration 0021), 1 to 8, none refused."""
    asks = [ask(client, world, asker, [asker, "JPN"]) for asker in ("SGP", "AUS") * 4]
    made = await asyncio.gather(*asks)
    assert len(set(made)) == 8
    found = await notices_of(pool, world)
    assert [n["id"] for n in found["JPN"]] == list(range(1, 9))
    assert sorted(n["request"]["id"] for n in found["JPN"]) == sorted(made)


async def _stream_after(live: httpx.AsyncClient, url: str, token: dict[str, str], cut: Any, then: Any) -> list[str]:
    """The lines of a stream opened with `token`: its first notice, then `cut()` (the token's
    end), then `then()` (a new notice); every line until the stream ends (20 s at most)."""
    lines: list[str] = []
    with anyio.fail_after(20):
        async with live.stream("GET", url, headers=token) as stream:
            assert stream.status_code == 200
            told = False
            async for line in stream.aiter_lines():
                lines.append(line)
                if line.startswith("data:") and not told:
                    told = True
                    await cut()
                    await then()
    return lines


async def test_an_open_stream_ends_with_its_token(client: httpx.AsyncClient, world: World, live_server: str) -> None:
    """A stream opened before its token was replaced (a leaked token's remedy), revoked, or its
    forum closed told its holder every notice after, as if it still worked: since request notices,
    every request that names the delegation, with its parties. It ends instead, before the next."""
    first = await ask(client, world, "SGP", ["SGP", "AUS"])
    url = f"{live_server}{world.base}/delegations/AUS/events"
    seconds: list[str] = []

    async def another() -> None:
        seconds.append(await ask(client, world, "SGP", ["SGP", "AUS"]))

    async def another_to(delegation: str) -> None:
        seconds.append(await ask(client, world, "JPN", ["JPN", delegation]))

    async def rotate() -> None:
        rotated = await client.post(f"{world.base}/delegations/AUS/token", headers=world.organiser)
        assert rotated.status_code == 201, rotated.text

    async with httpx.AsyncClient(timeout=20) as live:
        lines = await _stream_after(live, url, world.tokens["AUS"], rotate, another)
        assert first in "".join(lines) and seconds[-1] not in "".join(lines)

        # The organiser's token revoked: the stream it opened ends too.
        issued = await client.post(f"{world.base}/organiser-tokens", json={"name": "night"}, headers=world.organiser)
        assert issued.status_code == 201, issued.text
        night = {"Authorization": f"Bearer {issued.json()['token']}"}

        async def revoke() -> None:
            number = issued.json()["organiser_token"]["number"]
            revoked = await client.delete(f"{world.base}/organiser-tokens/{number}", headers=world.organiser)
            assert revoked.status_code in (200, 204), revoked.text

        sgp = f"{live_server}{world.base}/delegations/SGP/events"
        await ask(client, world, "JPN", ["JPN", "SGP"])  # SGP's first notice
        lines = await _stream_after(live, sgp, night, revoke, lambda: another_to("SGP"))
        assert seconds[-1] not in "".join(lines) and sum(line.startswith("data:") for line in lines) == 1

        # The forum closed: a delegation's token no longer works (401), nor its open stream, which
        # ends (else it would go on once the forum is reopened, the token never asked again).
        async def close() -> None:
            closed = await client.post(f"{world.base}/close", headers=world.organiser)
            assert closed.status_code == 200, closed.text

        async def nothing() -> None:
            return None

        resume = {**world.tokens["SGP"], "Last-Event-ID": "1"}
        lines = await _stream_after(live, sgp, resume, close, nothing)
        assert sum(line.startswith("data:") for line in lines) == 1
