"""What the organiser decides: it corrects any delegation's people (as the delegation itself
may: If-Match, an audit entry, a setup edit that puts built versions out of date), and it
sets a request's priority, which the next solve uses; a delegation asks for at most `high`."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import World, make_world
from tests.test_api_runs import RUN, work_one

pytestmark = pytest.mark.anyio

PERSON = "/delegations/AUS/participants/min"


async def _solve(client: httpx.AsyncClient, world: World, pool: asyncpg.Pool) -> dict[str, Any]:
    """A real solve of the forum as stored; the version it made, as the list of versions shows it."""
    started = await client.post(f"{world.base}/runs", json=RUN, headers=world.organiser)
    assert started.status_code == 202, started.text
    assert await work_one(pool, world.forum_id) == "succeeded"
    run = (await client.get(f"{world.base}/runs/{started.json()['id']}", headers=world.organiser)).json()
    listed = (await client.get(f"{world.base}/schedules", headers=world.organiser)).json()
    return next(version for version in listed if version["number"] == run["version"])


async def _version(client: httpx.AsyncClient, world: World, number: int) -> dict[str, Any]:
    listed = (await client.get(f"{world.base}/schedules", headers=world.organiser)).json()
    return next(version for version in listed if version["number"] == number)


async def _unplaced(client: httpx.AsyncClient, world: World, number: int) -> set[str]:
    grid = (await client.get(f"{world.base}/schedules/{number}", headers=world.organiser)).json()
    return {meeting["meeting"] for meeting in grid["unplaced"]}


async def _last_audit(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    entries = (await client.get(f"{world.base}/audit?limit=1000", headers=world.organiser)).json()
    return dict(entries[-1])


async def _arrange(client: httpx.AsyncClient, world: World, parties: list[str], priority: str) -> str:
    body = {"parties": parties, "duration_minutes": 30, "priority": priority}
    made = await client.post(f"{world.base}/requests", json=body, headers=world.organiser)
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


async def test_the_organiser_corrects_a_delegations_participant(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    await _arrange(client, world, ["SGP", "AUS"], "normal")
    built = await _solve(client, world, pool)
    assert built["out_of_date"] is None

    url = f"{world.base}{PERSON}"
    current = await client.get(url, headers=world.organiser)
    corrected = {**current.json(), "name": "Deputy Prime Minister", "arrival": "2023-06-02T11:00:00"}
    unguarded = await client.put(url, json=corrected, headers=world.organiser)
    assert unguarded.status_code == 428, unguarded.text  # the same If-Match rule as the delegation's
    stale = await client.put(url, json=corrected, headers={**world.organiser, "If-Match": '"999"'})
    assert stale.status_code == 412, stale.text

    answer = await client.put(url, json=corrected, headers={**world.organiser, "If-Match": current.headers["ETag"]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["name"] == "Deputy Prime Minister"
    assert answer.json()["arrival"].startswith("2023-06-02T11:00:00")
    assert answer.headers["ETag"] != current.headers["ETag"]
    entry = await _last_audit(client, world)
    assert (entry["actor"], entry["action"], entry["entity"], entry["entity_id"]) == (
        f"organiser:{world.forum_id}/1",  # its first organiser token
        "update",
        "participant",
        "AUS/min",
    )
    assert entry["before"]["name"] == "AUS min" and entry["after"]["name"] == "Deputy Prime Minister"
    # A setup edit: the version built before it is out of date, and names it.
    gone = (await _version(client, world, built["number"]))["out_of_date"]
    assert gone is not None and gone["edits"] == 1, gone
    assert gone["first"][0]["entity_id"] == "AUS/min"
    problem = (await client.get(f"{world.base}/problem", headers=world.organiser)).json()["problem"]
    (australia,) = [delegation for delegation in problem["delegations"] if delegation["id"] == "AUS"]
    (minister,) = [person for person in australia["participants"] if person["id"] == "AUS/min"]
    assert minister["arrival"].startswith("2023-06-02T11:00")

    aide = f"{world.base}/delegations/AUS/participants/aide"
    read = await client.get(aide, headers=world.organiser)
    deleted = await client.delete(aide, headers={**world.organiser, "If-Match": read.headers["ETag"]})
    assert deleted.status_code == 204, deleted.text
    assert (await _last_audit(client, world))["action"] == "delete"
    added = await client.post(
        f"{world.base}/delegations/AUS/participants", json={"id": "aide2", "name": "Aide"}, headers=world.organiser
    )
    assert added.status_code == 201, added.text


async def test_other_forums_and_other_delegations_still_cannot(client: httpx.AsyncClient, world: World) -> None:
    url = f"{world.base}{PERSON}"
    current = await client.get(url, headers=world.organiser)
    body = {**current.json(), "name": "Renamed"}
    headers = {"If-Match": current.headers["ETag"]}

    other = await make_world(client)  # another forum, whose organiser has its own delegation AUS
    elsewhere = await client.put(url, json=body, headers={**other.organiser, **headers})
    assert elsewhere.status_code == 404, elsewhere.text
    gone = await client.delete(url, headers={**other.organiser, **headers})
    assert gone.status_code == 404, gone.text

    # A delegation reaches its own people only: another's answer 404, as if they did not exist.
    singapore = await client.put(url, json=body, headers={**world.tokens["SGP"], **headers})
    assert singapore.status_code == 404, singapore.text
    removed = await client.delete(url, headers={**world.tokens["SGP"], **headers})
    assert removed.status_code == 404, removed.text
    assert (await client.get(url, headers=world.organiser)).json()["name"] == "AUS min"

    own = await client.put(url, json=body, headers={**world.tokens["AUS"], **headers})
    assert own.status_code == 200, own.text
    assert (await _last_audit(client, world))["actor"] == f"delegation:{world.forum_id}/AUS"


async def test_the_organiser_sets_a_priority_and_the_next_solve_uses_it(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    # Singapore's minister has one half hour free: only one of its two meetings can be held.
    url = f"{world.base}/delegations/SGP/participants/min"
    current = await client.get(url, headers=world.organiser)
    blocked = [
        {"start": "2023-06-02T09:30:00", "end": "2023-06-02T13:00:00"},
        {"start": "2023-06-03T09:00:00", "end": "2023-06-03T13:00:00"},
    ]
    body = {**current.json(), "blocked": blocked}
    edited = await client.put(url, json=body, headers={**world.organiser, "If-Match": current.headers["ETag"]})
    assert edited.status_code == 200, edited.text
    australia = await _arrange(client, world, ["SGP", "AUS"], "low")
    japan = await _arrange(client, world, ["SGP", "JPN"], "normal")

    first = await _solve(client, world, pool)
    assert await _unplaced(client, world, first["number"]) == {australia}

    request_url = f"{world.base}/requests/{australia}"
    read = await client.get(request_url, headers=world.organiser)
    must = {"priority": "must"}
    refused = await client.patch(request_url, json=must, headers={**world.tokens["SGP"], "If-Match": "*"})
    assert refused.status_code == 403, refused.text  # a party to it, not the one who decides
    unguarded = await client.patch(request_url, json=must, headers=world.organiser)
    assert unguarded.status_code == 428, unguarded.text
    bad = await client.patch(request_url, json={"priority": "urgent"}, headers={**world.organiser, "If-Match": "*"})
    assert bad.status_code == 400 or bad.status_code == 422, bad.text
    assert "priority" in bad.text

    answer = await client.patch(request_url, json=must, headers={**world.organiser, "If-Match": read.headers["ETag"]})
    assert answer.status_code == 200, answer.text
    assert (answer.json()["priority"], answer.json()["requested_priority"]) == ("must", "low")
    assert answer.headers["ETag"] != read.headers["ETag"]
    again = await client.patch(request_url, json=must, headers={**world.organiser, "If-Match": read.headers["ETag"]})
    assert again.status_code == 412, again.text
    assert (await client.get(request_url, headers=world.tokens["AUS"])).json()["priority"] == "must"
    entry = await _last_audit(client, world)
    assert (entry["actor"], entry["action"], entry["entity"], entry["entity_id"]) == (
        f"organiser:{world.forum_id}/1",  # its first organiser token
        "set_priority",
        "request",
        australia,
    )
    assert (entry["before"]["priority"], entry["after"]["priority"]) == ("low", "must")
    stale = (await _version(client, world, first["number"]))["out_of_date"]
    assert stale is not None and stale["first"][0]["entity_id"] == australia, stale

    second = await _solve(client, world, pool)
    assert second["out_of_date"] is None
    assert await _unplaced(client, world, second["number"]) == {japan}


async def test_a_delegation_asks_for_at_most_high(client: httpx.AsyncClient, world: World) -> None:
    async def ask(priority: str) -> dict[str, Any]:
        body = {"parties": ["SGP", "JPN"], "duration_minutes": 30, "priority": priority}
        made = await client.post(f"{world.base}/requests", json=body, headers=world.tokens["SGP"])
        assert made.status_code == 201, made.text  # an integrator's must is still accepted, as asked
        accepted = await client.post(
            f"{world.base}/requests/{made.json()['id']}/accept", json={}, headers=world.tokens["JPN"]
        )
        assert accepted.status_code == 200, accepted.text
        return dict(made.json())

    must = await ask("must")
    assert (must["priority"], must["requested_priority"]) == ("high", "must")
    low = await ask("low")
    assert (low["priority"], low["requested_priority"]) == ("low", "low")
    stored = (await client.get(f"{world.base}/requests/{must['id']}", headers=world.organiser)).json()
    assert (stored["priority"], stored["requested_priority"]) == ("high", "must")
    entries = (await client.get(f"{world.base}/audit?limit=1000", headers=world.organiser)).json()
    (created,) = [entry for entry in entries if entry["entity_id"] == must["id"] and entry["action"] == "create"]
    assert (created["after"]["priority"], created["after"]["requested_priority"]) == ("high", "must")
    problem = (await client.get(f"{world.base}/problem", headers=world.organiser)).json()["problem"]
    priorities = {meeting["id"]: meeting["priority"] for meeting in problem["meetings"]}
    assert priorities == {must["id"]: "high", low["id"]: "low"}

    arranged = await _arrange(client, world, ["SGP", "AUS"], "must")  # the organiser's word is final
    shown = (await client.get(f"{world.base}/requests/{arranged}", headers=world.tokens["SGP"])).json()
    assert (shown["priority"], shown["requested_priority"]) == ("must", "must")
