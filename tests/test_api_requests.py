"""Meeting requests end to end: ask, accept, decline, withdraw, expire; the problem the solver sees."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from solver.check import load_problem
from solver.engine import SolveOptions, solve
from tests.conftest import World

pytestmark = pytest.mark.anyio


async def ask(client: httpx.AsyncClient, world: World, by: str, parties: list[str], **fields: object) -> dict[str, Any]:
    body = {"parties": parties, "duration_minutes": 30, "title": f"{by} asks", **fields}
    answer = await client.post(f"{world.base}/requests", json=body, headers=world.tokens[by])
    assert answer.status_code == 201, answer.text
    return answer.json()


async def test_accepted_requests_become_meetings_that_solve(client: httpx.AsyncClient, world: World) -> None:
    bilateral = await ask(client, world, "SGP", ["SGP", "AUS"], attendees={"SGP": ["min", "aide"]}, priority="high")
    declined = await ask(client, world, "SGP", ["SGP", "JPN"])
    pending = await ask(client, world, "AUS", ["AUS", "JPN"])
    assert bilateral["status"] == "pending" and bilateral["parties"][0]["role"] == "requester"

    accepted = await client.post(
        f"{world.base}/requests/{bilateral['id']}/accept", json={"attendees": ["min"]}, headers=world.tokens["AUS"]
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted"
    refused = await client.post(f"{world.base}/requests/{declined['id']}/decline", headers=world.tokens["JPN"])
    assert refused.json()["status"] == "declined"

    view = await client.get(f"{world.base}/problem", headers=world.organiser)
    assert view.status_code == 200, view.text
    assert view.json()["findings"] == []
    problem = load_problem(view.content.split(b'"problem":', 1)[1].rsplit(b',"findings"', 1)[0])
    assert [meeting.id for meeting in problem.meetings] == [bilateral["id"]]  # not declined nor pending
    meeting = problem.meetings[0]
    assert meeting.participants == ["SGP/min", "SGP/aide", "AUS/min"]
    assert meeting.priority == "high" and pending["id"] not in {m.id for m in problem.meetings}
    schedule = solve(problem, SolveOptions(method="greedy"))
    assert [placed.meeting for placed in schedule.placed] == [bilateral["id"]]


async def test_organiser_request_is_agreed_and_delegation_may_decline(client: httpx.AsyncClient, world: World) -> None:
    body = {"parties": ["SGP", "AUS", "JPN"], "duration_minutes": 45, "attendees": {"JPN": ["aide"]}}
    made = await client.post(f"{world.base}/requests", json=body, headers=world.organiser)
    assert made.status_code == 201, made.text
    assert made.json()["created_by"] == "organiser" and made.json()["status"] == "accepted"
    declined = await client.post(f"{world.base}/requests/{made.json()['id']}/decline", headers=world.tokens["JPN"])
    assert declined.json()["status"] == "declined"


async def test_withdraw_only_by_requester(client: httpx.AsyncClient, world: World) -> None:
    asked = await ask(client, world, "SGP", ["SGP", "AUS"])
    url = f"{world.base}/requests/{asked['id']}"
    by_invitee = await client.post(f"{url}/withdraw", headers=world.tokens["AUS"])
    assert by_invitee.status_code == 403
    withdrawn = await client.post(f"{url}/withdraw", headers=world.tokens["SGP"])
    assert withdrawn.json()["status"] == "withdrawn"
    late = await client.post(f"{url}/accept", json={}, headers=world.tokens["AUS"])
    assert late.status_code == 409 and late.headers["content-type"] == "application/problem+json"


async def test_pending_requests_expire_at_the_deadline(client: httpx.AsyncClient, world: World) -> None:
    asked = await ask(client, world, "SGP", ["SGP", "AUS"])
    forum = await client.get(world.base, headers=world.organiser)
    moved = await client.patch(
        world.base,
        json={"request_deadline": "2020-01-01T00:00:00Z"},
        headers={**world.organiser, "If-Match": forum.headers["etag"]},
    )
    assert moved.status_code == 200, moved.text
    read = await client.get(f"{world.base}/requests/{asked['id']}", headers=world.tokens["AUS"])
    assert read.json()["status"] == "expired"
    accept = await client.post(f"{world.base}/requests/{asked['id']}/accept", json={}, headers=world.tokens["AUS"])
    assert accept.status_code == 409


async def test_request_bad_input_names_fields(client: httpx.AsyncClient, world: World) -> None:
    body = {
        "parties": ["AUS", "XXX"],
        "duration_minutes": 20,
        "attendees": {"AUS": ["min"]},
        "preferred": [{"start": "2023-06-02T10:00:00", "end": "2023-06-02T09:00:00"}],
    }
    answer = await client.post(f"{world.base}/requests", json=body, headers=world.tokens["SGP"])
    assert answer.status_code == 422
    fields = {error["field"] for error in answer.json()["errors"]}
    assert fields == {"parties[1]", "parties", "duration_minutes", "attendees.AUS", "preferred[0].end"}
    unknown = await ask(client, world, "SGP", ["SGP", "AUS"])
    wrong_attendee = await client.post(
        f"{world.base}/requests/{unknown['id']}/accept", json={"attendees": ["ghost"]}, headers=world.tokens["AUS"]
    )
    assert wrong_attendee.status_code == 422
    assert wrong_attendee.json()["errors"][0]["field"] == "attendees[0]"


async def test_delegation_lists_only_its_requests(client: httpx.AsyncClient, world: World) -> None:
    mine = await ask(client, world, "SGP", ["SGP", "AUS"])
    theirs = await ask(client, world, "AUS", ["AUS", "JPN"])
    listed = await client.get(f"{world.base}/requests", headers=world.tokens["SGP"])
    assert [r["id"] for r in listed.json()] == [mine["id"]]
    hidden = await client.get(f"{world.base}/requests/{theirs['id']}", headers=world.tokens["SGP"])
    assert hidden.status_code == 404
    everything = await client.get(f"{world.base}/requests", headers=world.organiser)
    assert {r["id"] for r in everything.json()} == {mine["id"], theirs["id"]}


async def test_a_slot_size_that_open_requests_do_not_fill_is_refused(client: httpx.AsyncClient, world: World) -> None:
    """A 30-minute request and 20-minute slots: the forum took the change, then every solve,
    change and fit failed on the request's duration. Refused naming it, unless it is withdrawn."""
    asked = await ask(client, world, "SGP", ["SGP", "AUS"])

    async def slots(minutes: int) -> httpx.Response:
        forum = await client.get(world.base, headers=world.organiser)
        return await client.patch(
            world.base,
            json={"slot_minutes": minutes},
            headers={**world.organiser, "If-Match": forum.headers["etag"]},
        )

    refused = await slots(20)
    assert refused.status_code == 409, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["slot_minutes"] and asked["id"] in refused.text
    assert (await client.get(world.base, headers=world.organiser)).json()["slot_minutes"] == 15
    assert (await slots(10)).status_code == 200  # 30 minutes are three of them
    withdrawn = await client.post(f"{world.base}/requests/{asked['id']}/withdraw", headers=world.tokens["SGP"])
    assert withdrawn.status_code == 200
    assert (await slots(20)).status_code == 200


async def test_the_organiser_names_a_requests_id_as_its_csv_does(client: httpx.AsyncClient, world: World) -> None:
    """One id style in a forum: the organiser's own (`AU-SG`), by the API as by a CSV import."""
    body = {"id": "SG-AU", "parties": ["SGP", "AUS"], "duration_minutes": 30}
    made = await client.post(f"{world.base}/requests", json=body, headers=world.organiser)
    assert made.status_code == 201, made.text
    assert made.json()["id"] == "SG-AU" and made.headers["location"].endswith("/requests/SG-AU")
    assert (await client.get(f"{world.base}/requests/SG-AU", headers=world.tokens["AUS"])).status_code == 200
    again = await client.post(f"{world.base}/requests", json=body, headers=world.organiser)
    assert again.status_code == 409 and [e["field"] for e in again.json()["errors"]] == ["id"], again.text
    # A delegation may not: its id could meet another delegation's request, and a 409 would tell it exists.
    own = await client.post(f"{world.base}/requests", json={**body, "id": "SG-AU-2"}, headers=world.tokens["SGP"])
    assert own.status_code == 422 and [e["field"] for e in own.json()["errors"]] == ["id"], own.text
    bad = await client.post(f"{world.base}/requests", json={**body, "id": "no/slash"}, headers=world.organiser)
    assert bad.status_code in (400, 422) and "id" in bad.text, bad.text
