"""ETags and If-Match, idempotent POSTs, problem details for bad input, OpenAPI, audit."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, FORUM_BODY, World, bearer, make_world

pytestmark = pytest.mark.anyio

ROOM = {"id": "R2", "name": "Room 2", "seats": 6, "features": ["interpretation"]}


async def test_stale_if_match_is_412_and_missing_is_428(client: httpx.AsyncClient, world: World) -> None:
    url = f"{world.base}/rooms/R1"
    first = await client.get(url, headers=world.organiser)
    etag = first.headers["etag"]
    body = {"id": "R1", "name": "Room 1", "seats": 9}
    missing = await client.put(url, json=body, headers=world.organiser)
    assert missing.status_code == 428 and missing.json()["errors"][0]["field"] == "header:If-Match"
    updated = await client.put(url, json=body, headers={**world.organiser, "If-Match": etag})
    assert updated.status_code == 200 and updated.headers["etag"] != etag
    stale = await client.put(url, json={**body, "seats": 2}, headers={**world.organiser, "If-Match": etag})
    assert stale.status_code == 412 and stale.headers["content-type"] == "application/problem+json"
    assert (await client.get(url, headers=world.organiser)).json()["seats"] == 9  # the lost update did not happen


async def test_participant_availability_put_with_etag(client: httpx.AsyncClient, world: World) -> None:
    url = f"{world.base}/delegations/SGP/participants/min"
    read = await client.get(url, headers=world.tokens["SGP"])
    body = {
        **read.json(),
        "arrival": "2023-06-02T10:00:00+08:00",
        "blocked": [{"start": "2023-06-02T11:00:00", "end": "2023-06-02T11:30:00"}],
        "max_meetings_per_day": 4,
    }
    put = await client.put(url, json=body, headers={**world.tokens["SGP"], "If-Match": read.headers["etag"]})
    assert put.status_code == 200, put.text
    assert put.json()["arrival"] == "2023-06-02T10:00:00"  # stored as forum-local time
    assert put.json()["max_meetings_per_day"] == 4
    backwards = {**body, "departure": "2023-06-02T09:00:00"}
    bad = await client.put(url, json=backwards, headers={**world.tokens["SGP"], "If-Match": put.headers["etag"]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "departure"
    organiser_reads = await client.get(f"{world.base}/delegations/SGP/participants", headers=world.organiser)
    assert [p["id"] for p in organiser_reads.json()] == ["aide", "min"]


async def test_idempotency_key_replays_and_rejects_other_body(client: httpx.AsyncClient, world: World) -> None:
    url = f"{world.base}/rooms"
    headers = {**world.organiser, "Idempotency-Key": "room-r2"}
    first, second = await asyncio.gather(
        client.post(url, json=ROOM, headers=headers), client.post(url, json=ROOM, headers=headers)
    )
    assert sorted([first.status_code, second.status_code]) == [201, 201]
    assert first.content == second.content
    assert {first.headers.get("idempotency-replayed"), second.headers.get("idempotency-replayed")} == {None, "true"}
    rooms = await client.get(url, headers=world.organiser)
    assert [room["id"] for room in rooms.json()] == ["R1", "R2"]  # created once
    other = await client.post(url, json={**ROOM, "seats": 7}, headers=headers)
    assert other.status_code == 422 and other.json()["errors"][0]["field"] == "header:Idempotency-Key"
    without_key = await client.post(url, json=ROOM, headers=world.organiser)
    assert without_key.status_code == 409 and without_key.json()["errors"][0]["field"] == "id"


async def test_replayed_token_answers_hide_the_token(client: httpx.AsyncClient, world: World) -> None:
    headers = {**world.organiser, "Idempotency-Key": "nz"}
    body = {"id": "NZL", "name": "New Zealand", "country": "NZ"}
    first = await client.post(f"{world.base}/delegations", json=body, headers=headers)
    again = await client.post(f"{world.base}/delegations", json=body, headers=headers)
    assert first.json()["token"] and again.json()["token"] is None
    assert again.json()["delegation"] == first.json()["delegation"]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({**FORUM_BODY, "slot_minutes": "fifteen"}, 400, "slot_minutes"),
        ({**FORUM_BODY, "slot_minutes": "15"}, 400, "slot_minutes"),  # was read as 15 (lax decoding)
        ({**FORUM_BODY, "slot_minutes": 15.0}, 400, "slot_minutes"),
        ({**FORUM_BODY, "colour": "blue"}, 400, "colour"),
        ({**FORUM_BODY, "days": [{"date": "2023-06-02", "start": "9am", "end": "13:00:00"}]}, 400, "days[0].start"),
        ({**FORUM_BODY, "time_zone": "Mars/Olympus"}, 422, "time_zone"),
        # loaded by ZoneInfo from the system's files, but the machine's own zone or no place's
        ({**FORUM_BODY, "time_zone": "localtime"}, 422, "time_zone"),
        ({**FORUM_BODY, "time_zone": "posixrules"}, 422, "time_zone"),
        ({**FORUM_BODY, "time_zone": "Factory"}, 422, "time_zone"),
        ({**FORUM_BODY, "time_zone": "right/Asia/Singapore"}, 422, "time_zone"),
        ({**FORUM_BODY, "time_zone": "posix/Asia/Singapore"}, 422, "time_zone"),
        ({**FORUM_BODY, "days": [{"date": "2023-06-02", "start": "13:00:00", "end": "09:00:00"}]}, 422, "days[0].end"),
    ],
)
async def test_bad_forum_bodies_name_the_field(
    client: httpx.AsyncClient, body: dict[str, Any], status: int, field: str
) -> None:
    answer = await client.post("/forums", json=body, headers=bearer(ADMIN_TOKEN))
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["status"] == status and problem["instance"] == "/forums" and problem["type"].startswith("urn:")
    assert field in [error["field"] for error in problem["errors"]]


async def test_a_forum_cannot_be_moved_to_the_servers_own_zone(client: httpx.AsyncClient, world: World) -> None:
    answer = await client.patch(
        world.base, json={"time_zone": "localtime"}, headers={**world.organiser, "If-Match": "*"}
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == "time_zone" and "server's own clock" in answer.text
    answer = await client.patch(
        world.base, json={"time_zone": "Asia/Tokyo"}, headers={**world.organiser, "If-Match": "*"}
    )
    assert answer.status_code == 200 and answer.json()["time_zone"] == "Asia/Tokyo", answer.text


async def test_times_to_the_minute_are_read_only_where_a_time_is_due(client: httpx.AsyncClient) -> None:
    days = [{"date": "2023-06-02", "start": "09:00", "end": "13:00"}]
    body = {**FORUM_BODY, "days": days, "request_deadline": "2023-05-30T18:00"}
    answer = await client.post("/forums", json=body, headers=bearer(ADMIN_TOKEN))
    assert answer.status_code == 201, answer.text
    forum = answer.json()["forum"]
    assert forum["days"] == [{"date": "2023-06-02", "start": "09:00:00", "end": "13:00:00"}]
    assert forum["request_deadline"] == "2023-05-30T18:00:00+08:00"  # in the forum's time, as written
    world = await make_world(client)
    request = {"parties": ["SGP", "AUS"], "duration_minutes": 30, "title": "09:00"}
    made = await client.post(f"{world.base}/requests", json=request, headers=world.tokens["SGP"])
    assert made.status_code == 201 and made.json()["title"] == "09:00", made.text  # text stays as written
    change = {"kind": "arrival_changed", "participant": "SGP/min", "arrival": "2023-06-02T10:00"}  # a tagged union
    recorded = await client.post(f"{world.base}/changes", json=change, headers=world.organiser)
    assert recorded.status_code == 201, recorded.text


async def test_the_request_deadline_answers_in_the_forums_time_whatever_offset_it_was_sent_with(
    client: httpx.AsyncClient, world: World
) -> None:
    """Every other time the API answers is forum-local with its offset; the deadline was UTC (`...Z`)."""
    write = {**world.organiser, "If-Match": "*"}
    for sent in ("2023-05-30T10:00:00Z", "2023-05-30T05:00:00-05:00", "2023-05-30T18:00", "2023-05-30T18:00+08:00"):
        patched = await client.patch(world.base, json={"request_deadline": sent}, headers=write)
        assert patched.status_code == 200, patched.text
        assert patched.json()["request_deadline"] == "2023-05-30T18:00:00+08:00", sent
        read = await client.get(world.base, headers=world.organiser)
        assert read.json()["request_deadline"] == "2023-05-30T18:00:00+08:00", sent
    moved = await client.patch(world.base, json={"time_zone": "Asia/Tokyo"}, headers=write)
    assert moved.status_code == 200, moved.text
    assert moved.json()["request_deadline"] == "2023-05-30T19:00:00+09:00"  # the same instant, in the new zone
    delegation = await client.get(world.base, headers=world.tokens["SGP"])
    assert delegation.json()["request_deadline"] == "2023-05-30T19:00:00+09:00"


async def test_a_forum_setting_that_would_break_stored_requests_is_refused(
    client: httpx.AsyncClient, world: World
) -> None:
    """A 7-minute slot under a 30-minute request was stored, and every solve then failed on it."""
    made = await client.post(
        f"{world.base}/requests", json={"parties": ["SGP", "AUS"], "duration_minutes": 30}, headers=world.organiser
    )
    assert made.status_code == 201, made.text
    request_id = made.json()["id"]
    if_match = {**world.organiser, "If-Match": "*"}
    refused = await client.patch(world.base, json={"slot_minutes": 7}, headers=if_match)
    assert refused.status_code == 409, refused.text
    message = f"30 is not a positive multiple of the 7-minute slot (request {request_id})"
    assert refused.json()["errors"] == [{"field": "meetings[0].duration_minutes", "message": message}]
    assert (await client.get(world.base, headers=world.organiser)).json()["slot_minutes"] == 15
    for change in ({"slot_minutes": 10}, {"name": "Renamed"}):
        answer = await client.patch(world.base, json=change, headers=if_match)
        assert answer.status_code == 200, answer.text


async def test_a_session_naming_nobody_is_refused(client: httpx.AsyncClient, world: World) -> None:
    """Both were stored, and every solve of the forum then failed on the session."""
    times = {"start": "2023-06-02T10:00:00", "end": "2023-06-02T11:00:00"}
    cases: list[tuple[dict[str, object], str, str]] = [
        ({"participants": ["SGP/min", "nobody"]}, "participants[1]", "no participant 'nobody'"),
        ({"scope": "listed", "participants": []}, "participants", "scope 'listed' needs participants"),
    ]
    for index, (fields, field, message) in enumerate(cases):
        body: dict[str, object] = {"id": f"S{index}", "name": "Plenary", **times, **fields}
        answer = await client.post(f"{world.base}/sessions", json=body, headers=world.organiser)
        assert answer.status_code == 422, answer.text
        assert [(e["field"], e["message"].startswith(message)) for e in answer.json()["errors"]] == [(field, True)]
    assert (await client.get(f"{world.base}/sessions", headers=world.organiser)).json() == []
    body = {"id": "S9", "name": "Plenary", **times, "scope": "listed", "participants": ["SGP/min", "AUS/aide"]}
    assert (await client.post(f"{world.base}/sessions", json=body, headers=world.organiser)).status_code == 201


async def test_people_a_session_lists_cannot_be_deleted_from_under_it(client: httpx.AsyncClient, world: World) -> None:
    """The participant was deleted, and every solve then failed: 'unknown participant SGP/aide'."""
    times = {"start": "2023-06-02T10:00:00", "end": "2023-06-02T11:00:00"}
    body = {"id": "S1", "name": "Plenary", **times, "scope": "listed", "participants": ["SGP/aide"]}
    assert (await client.post(f"{world.base}/sessions", json=body, headers=world.organiser)).status_code == 201
    aide = f"{world.base}/delegations/SGP/participants/aide"
    refused = await client.delete(aide, headers={**world.tokens["SGP"], "If-Match": "*"})
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"].startswith("participant SGP/aide is listed by programme session S1")
    refused = await client.delete(f"{world.base}/delegations/SGP", headers={**world.organiser, "If-Match": "*"})
    assert refused.status_code == 409 and refused.json()["errors"][0]["field"] == "path:delegation_id", refused.text
    assert (await client.get(aide, headers=world.tokens["SGP"])).status_code == 200
    minister = f"{world.base}/delegations/SGP/participants/min"  # listed by no session
    assert (await client.delete(minister, headers={**world.tokens["SGP"], "If-Match": "*"})).status_code == 204
    assert (
        await client.delete(f"{world.base}/sessions/S1", headers={**world.organiser, "If-Match": "*"})
    ).status_code == 204
    assert (await client.delete(aide, headers={**world.tokens["SGP"], "If-Match": "*"})).status_code == 204


async def test_malformed_json_and_unknown_routes_are_problems(client: httpx.AsyncClient, world: World) -> None:
    broken = await client.post(
        f"{world.base}/venues", content=b"{not json", headers={**world.organiser, "content-type": "application/json"}
    )
    assert broken.status_code == 400 and broken.headers["content-type"] == "application/problem+json"
    missing = await client.get("/nowhere")
    assert missing.status_code == 404 and missing.json()["title"] == "Not Found"


async def test_a_404_names_the_path_parameter_that_names_nothing(client: httpx.AsyncClient, world: World) -> None:
    """`errors[].field` says which part of the path is wrong, so a client need not read `detail`
    (`sidelines forum` names its own argument from it); a delegation's hidden 404 names the same."""
    unknown = "00000000-0000-0000-0000-000000000000"
    for path, field, token in [
        (f"/forums/{unknown}", "path:forum_id", world.organiser),
        (f"{world.base}/schedules/9", "path:version", world.organiser),
        (f"{world.base}/schedules/9", "path:version", world.tokens["SGP"]),
        (f"{world.base}/runs/9", "path:run_id", world.organiser),
        (f"{world.base}/delegations/ZZZ", "path:delegation_id", world.organiser),
        (f"{world.base}/delegations/SGP/participants/nobody", "path:participant_id", world.organiser),
        (f"{world.base}/rooms/nowhere", "path:item_id", world.organiser),
        (f"{world.base}/schedules/99999999999", "path:version", world.organiser),
    ]:
        answer = await client.get(path, headers=token)
        problem = answer.json()
        assert answer.status_code == 404, (path, answer.text)
        assert problem["errors"] == [{"field": field, "message": problem["detail"]}], path


async def test_setup_crud_and_references(client: httpx.AsyncClient, world: World) -> None:
    org = world.organiser
    assert (await client.post(f"{world.base}/venues", json={"id": "V1", "name": "Hotel"}, headers=org)).is_success
    assert (await client.post(f"{world.base}/venues", json={"id": "V2", "name": "Annex"}, headers=org)).is_success
    travel = await client.post(f"{world.base}/travel", json={"between": ["V2", "V1"], "minutes": 10}, headers=org)
    assert travel.status_code == 201 and travel.json()["id"] == "V1~V2"
    unknown = await client.post(f"{world.base}/travel", json={"between": ["V1", "V9"], "minutes": 5}, headers=org)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "between[1]"
    bad_room = await client.post(f"{world.base}/rooms", json={"id": "R3", "name": "R", "seats": 0}, headers=org)
    assert bad_room.status_code == 400 and bad_room.json()["errors"][0]["field"] == "seats"
    room = {"id": "R3", "name": "R", "seats": 4, "venue": "V9"}
    assert (await client.post(f"{world.base}/rooms", json=room, headers=org)).json()["errors"][0]["field"] == "venue"
    session = {"id": "P1", "name": "Plenary", "start": "2023-06-02T09:00:00", "end": "2023-06-02T10:00:00"}
    assert (await client.post(f"{world.base}/sessions", json=session, headers=org)).status_code == 201
    resource = {"id": "interp", "name": "Interpreters", "capacity": 2}
    assert (await client.post(f"{world.base}/resources", json=resource, headers=org)).status_code == 201
    venue = await client.get(f"{world.base}/venues/V1", headers=org)
    removed = await client.delete(f"{world.base}/venues/V1", headers={**org, "If-Match": venue.headers["etag"]})
    assert removed.status_code == 204
    assert (await client.get(f"{world.base}/venues/V1", headers=org)).status_code == 404
    problem = (await client.get(f"{world.base}/problem", headers=org)).json()
    assert [s["id"] for s in problem["problem"]["sessions"]] == ["P1"]
    assert problem["problem"]["resources"][0]["capacity"] == 2


async def test_audit_log_records_changes_with_before_and_after(client: httpx.AsyncClient, world: World) -> None:
    read = await client.get(f"{world.base}/rooms/R1", headers=world.organiser)
    body = {"id": "R1", "name": "Renamed", "seats": 8}
    await client.put(f"{world.base}/rooms/R1", json=body, headers={**world.organiser, "If-Match": read.headers["etag"]})
    audit = (await client.get(f"{world.base}/audit?limit=1000", headers=world.organiser)).json()
    assert audit[0]["action"] == "create" and audit[0]["entity"] == "forum" and audit[0]["actor"] == "admin"
    change = audit[-1]
    assert (change["action"], change["entity"], change["entity_id"]) == ("update", "room", "R1")
    assert change["before"]["name"] == "Room 1" and change["after"]["name"] == "Renamed"
    participant = next(entry for entry in audit if entry["entity"] == "participant")
    assert participant["entity_id"] == "SGP/min" and participant["actor"].startswith("delegation:")
    bad_limit = await client.get(f"{world.base}/audit?limit=0", headers=world.organiser)
    assert bad_limit.status_code == 400 and bad_limit.json()["errors"][0]["field"] == "query:limit"


async def test_openapi_document_and_docs(client: httpx.AsyncClient) -> None:
    schema = await client.get("/schema/openapi.json")
    assert schema.status_code == 200
    document = schema.json()
    assert document["openapi"].startswith("3.1")
    assert "/forums/{forum_id}/requests/{request_id}/accept" in document["paths"]
    assert (await client.get("/schema")).status_code == 200
