"""Two rules of a request's protocol (api/controllers/requests.py):

- The organiser's PATCH of `priority` is a decision, stored (`priority_decided_at`, migration
  0023) even at the value the request had: the requests page's "needs a priority" reads it. It
  is a change (audit entry `set_priority`, `updated_at`, the request's and the list's ETags) but
  no setup edit when the priority did not change (the problem did not), and no delegation is
  told: a delegation's view leaves the decision out.
- The requesting delegation's attendee change that lowers its most senior attendee's rank (a
  minister replaced by an official) asks the counterparts that accepted again, as a change of
  time does; the organiser's edits keep every answer."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest

from db.migrate import migrate
from tests.conftest import Databases, World
from tests.test_old_audit_ids import migrate_below
from tests.test_request_edits import _accept, _ask
from tests.test_request_notices import counts, notices_of

pytestmark = pytest.mark.anyio


async def _read(client: httpx.AsyncClient, world: World, request_id: str, who: dict[str, str]) -> httpx.Response:
    return await client.get(f"{world.base}/requests/{request_id}", headers=who)


async def _edit(
    client: httpx.AsyncClient, world: World, request_id: str, who: dict[str, str], body: dict[str, Any]
) -> httpx.Response:
    tag = (await _read(client, world, request_id, world.organiser)).headers["ETag"]
    url = f"{world.base}/requests/{request_id}"
    return await client.patch(url, json=body, headers={**who, "If-Match": tag})


async def _revision(client: httpx.AsyncClient, world: World) -> int:
    return int((await client.get(f"{world.base}/revision", headers=world.organiser)).json()["revision"])


async def _last_entry(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    entries = (await client.get(f"{world.base}/audit?limit=1000", headers=world.organiser)).json()
    return dict(entries[-1])


def _statuses(answer: httpx.Response) -> dict[str, str]:
    return {party["delegation"]: party["status"] for party in answer.json()["parties"]}


async def test_confirming_the_asked_priority_is_a_decision_but_no_setup_edit(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    asked = await _ask(client, world, "SGP", ["SGP", "AUS"], priority="normal")
    await _accept(client, world, asked, "AUS")  # accepted: a real edit of it is a setup edit
    read = await _read(client, world, asked, world.organiser)
    assert read.json()["priority_decided_at"] is None  # as asked, never looked at
    assert "priority_decided_at" not in (await _read(client, world, asked, world.tokens["SGP"])).json()
    listed = await client.get(f"{world.base}/requests", headers=world.organiser)
    revision, told = await _revision(client, world), counts(await notices_of(pool, world))

    confirmed = await _edit(client, world, asked, world.organiser, {"priority": "normal"})
    assert confirmed.status_code == 200, confirmed.text
    shown = confirmed.json()
    assert shown["priority"] == "normal" and shown["priority_decided_at"] is not None
    assert datetime.fromisoformat(shown["updated_at"]) > datetime.fromisoformat(read.json()["updated_at"])
    assert confirmed.headers["ETag"] != read.headers["ETag"]
    assert (await _read(client, world, asked, world.organiser)).json() == shown  # stored, not only answered
    entry = await _last_entry(client, world)
    assert (entry["action"], entry["entity_id"]) == ("set_priority", asked)
    assert entry["before"]["priority_decided_at"] is None and entry["after"] == shown
    # The list's ETag moved (forum_revisions.requests counts the entry): a page polling it sees it.
    again = await client.get(
        f"{world.base}/requests", headers={**world.organiser, "If-None-Match": listed.headers["ETag"]}
    )
    assert again.status_code == 200 and again.headers["ETag"] != listed.headers["ETag"]
    # The problem did not change: no setup edit, the built version stays current. No one is told.
    assert await _revision(client, world) == revision
    assert counts(await notices_of(pool, world)) == told
    assert "priority_decided_at" not in (await _read(client, world, asked, world.tokens["AUS"])).json()

    # A priority that changes is a setup edit of an accepted request, as before, and decided again.
    lowered = await _edit(client, world, asked, world.organiser, {"priority": "low"})
    assert lowered.status_code == 200, lowered.text
    decided_again = datetime.fromisoformat(lowered.json()["priority_decided_at"])
    assert decided_again > datetime.fromisoformat(shown["priority_decided_at"])
    assert await _revision(client, world) == revision + 1
    # Another field alone does not decide the priority; a delegation may not send one at all.
    titled = await _edit(client, world, asked, world.organiser, {"title": "Renamed"})
    assert titled.json()["priority_decided_at"] == lowered.json()["priority_decided_at"]
    refused = await _edit(client, world, asked, world.tokens["SGP"], {"priority": "low"})
    assert refused.status_code == 403, refused.text


async def test_a_must_held_at_high_is_confirmed_at_high(client: httpx.AsyncClient, world: World) -> None:
    """A delegation's `must` is used as `high` until the organiser decides: confirming `high` keeps
    it there and records the decision; the organiser's own request is decided when made."""
    asked = await _ask(client, world, "SGP", ["SGP", "AUS"], priority="must")
    held = (await _read(client, world, asked, world.organiser)).json()
    assert (held["priority"], held["requested_priority"], held["priority_decided_at"]) == ("high", "must", None)
    confirmed = await _edit(client, world, asked, world.organiser, {"priority": "high"})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["priority"] == "high" and confirmed.json()["priority_decided_at"] is not None
    body = {"parties": ["SGP", "AUS"], "duration_minutes": 30}
    made = await client.post(f"{world.base}/requests", json=body, headers=world.organiser)
    assert made.json()["priority_decided_at"] == made.json()["created_at"]


async def _add_participant(client: httpx.AsyncClient, world: World, delegation: str, person: str, rank: str) -> None:
    body = {"id": person, "name": f"{delegation} {person}", "rank": rank}
    added = await client.post(
        f"{world.base}/delegations/{delegation}/participants", json=body, headers=world.tokens[delegation]
    )
    assert added.status_code == 201, added.text


async def test_a_requester_sending_someone_of_lower_rank_asks_the_counterparts_again(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    """Singapore's minister (`min`, a principal) is to meet Australia and Japan; Australia accepts.
    Sending the official instead asks Australia again (told, `asked_again`), as a change of time
    would; Japan had not answered, and is told of the change only."""
    await _add_participant(client, world, "SGP", "off", "official")
    await _add_participant(client, world, "SGP", "dep", "deputy_minister")
    asked = await _ask(client, world, "SGP", ["SGP", "AUS", "JPN"])  # no one named: its principal, min
    await _accept(client, world, asked, "AUS")
    told = counts(await notices_of(pool, world))

    lowered = await _edit(client, world, asked, world.tokens["SGP"], {"attendees": {"SGP": ["off"]}})
    assert lowered.status_code == 200, lowered.text
    assert _statuses(lowered) == {"SGP": "accepted", "AUS": "pending", "JPN": "pending"}
    found = await notices_of(pool, world)
    [aus] = found["AUS"][told["AUS"] :]
    [jpn] = found["JPN"][told["JPN"] :]
    assert (aus["type"], aus["asked_again"], aus["by"]) == ("request.changed", True, "SGP")
    assert (jpn["type"], jpn["asked_again"]) == ("request.changed", False)
    assert set(aus["changes"]) == {"parties"}  # SGP's attendees, and its own answer cleared
    assert [p["status"] for p in aus["changes"]["parties"]["after"] if p["delegation"] == "AUS"] == ["pending"]

    # Held: a rank that rises or stays keeps the answer; so does naming the principal again.
    await _accept(client, world, asked, "AUS")
    for attendees in (["dep", "off"], ["min", "off"], ["aide"], []):  # deputy, minister, minister, min
        kept = await _edit(client, world, asked, world.tokens["SGP"], {"attendees": {"SGP": attendees}})
        assert kept.status_code == 200, kept.text
        assert _statuses(kept)["AUS"] == "accepted", attendees
    # Minister to deputy minister is a drop too.
    dropped = await _edit(client, world, asked, world.tokens["SGP"], {"attendees": {"SGP": ["dep"]}})
    assert _statuses(dropped)["AUS"] == "pending"


async def test_the_organiser_lowering_the_requesters_rank_keeps_every_answer(
    client: httpx.AsyncClient, world: World
) -> None:
    """The organiser arranges the grid: its edit of the requester's attendees keeps every answer,
    as its change of time does. An invitee's own attendees stay its own affair."""
    await _add_participant(client, world, "SGP", "off", "official")
    await _add_participant(client, world, "AUS", "off", "official")
    asked = await _ask(client, world, "SGP", ["SGP", "AUS"], attendees={"SGP": ["min"]})
    await _accept(client, world, asked, "AUS")
    edited = await _edit(client, world, asked, world.organiser, {"attendees": {"SGP": ["off"]}})
    assert edited.status_code == 200, edited.text
    assert _statuses(edited) == {"SGP": "accepted", "AUS": "accepted"}
    own = await _edit(client, world, asked, world.tokens["AUS"], {"attendees": {"AUS": ["off"]}})
    assert own.status_code == 200, own.text
    assert _statuses(own) == {"SGP": "accepted", "AUS": "accepted"}


FORUM = (
    "INSERT INTO forums (name, time_zone, slot_minutes, days, organiser_token_hash)"
    " VALUES ('Old', 'UTC', 15, '[]', 'hash') RETURNING id"
)


async def test_requests_made_before_0023_take_their_decision_from_the_record(
    databases: Databases, tmp_path: Path
) -> None:
    """Migration 0023's backfill: the organiser's requests decided when made; a delegation's at its
    last audit entry that set the priority, else when its priority is not the one it started with
    (what was asked, a `must` held at `high`), at its last change; else undecided. `updated_at` is
    left alone."""
    connection = await asyncpg.connect(await databases.create())
    try:
        await migrate_below(connection, tmp_path, 23)
        forum: UUID = await connection.fetchval(FORUM)
        await connection.execute(
            "INSERT INTO delegations (forum_id, id, name, country, token_hash) VALUES ($1, 'SGP', 'S', 'SG', 'h')",
            forum,
        )
        made = "2026-03-01 09:00:00+00"
        rows = [  # id, created_by, requester, priority, requested_priority
            ("org", "organiser", None, "must", "must"),
            ("entry", "delegation", "SGP", "normal", "normal"),
            ("edited", "delegation", "SGP", "low", "normal"),
            ("titled", "delegation", "SGP", "normal", "normal"),
            ("held", "delegation", "SGP", "high", "must"),
            ("raised", "delegation", "SGP", "must", "must"),
            ("differs", "delegation", "SGP", "low", "high"),
        ]
        for request_id, created_by, requester, priority, requested in rows:
            await connection.execute(
                "INSERT INTO meeting_requests (forum_id, id, duration_minutes, priority, requested_priority,"
                " created_by, requester_id, created_at, updated_at)"
                " VALUES ($1, $2, 30, $3, $4, $5, $6, $7::timestamptz, $7::timestamptz + interval '1 hour')",
                forum,
                request_id,
                priority,
                requested,
                created_by,
                requester,
                datetime.fromisoformat(made),
            )
        audit = (
            "INSERT INTO audit_log (forum_id, actor, action, entity, entity_id, before, after, at)"
            " VALUES ($1, 'organiser', $2, 'request', $3, $4::jsonb, $5::jsonb, $6::timestamptz)"
        )
        at = datetime.fromisoformat("2026-03-02 10:00:00+00")
        await connection.execute(audit, forum, "set_priority", "entry", '{"priority": "normal"}', "{}", at)
        await connection.execute(audit, forum, "edit", "edited", '{"priority": "normal"}', '{"priority": "low"}', at)
        await connection.execute(audit, forum, "edit", "titled", '{"priority": "normal"}', '{"priority": "normal"}', at)
        before = dict(await connection.fetch("SELECT id, updated_at FROM meeting_requests"))

        await migrate(connection)
        found = await connection.fetch("SELECT id, priority_decided_at, updated_at FROM meeting_requests")
        decided = {row["id"]: row["priority_decided_at"] for row in found}
        assert {row["id"]: row["updated_at"] for row in found} == before
        created = datetime.fromisoformat(made)
        assert decided == {
            "org": created,
            "entry": at,
            "edited": at,
            "titled": None,  # an edit of something else decided nothing
            "held": None,  # the cap, not the organiser's decision
            "raised": before["raised"],  # a delegation's `must` is stored `high`: the organiser raised it
            "differs": before["differs"],
        }
    finally:
        await connection.close()
