"""CSV import (docs/csv.md): good files, each kind of bad row, all or nothing, re-import, authorization."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import World, bearer, make_world
from tests.test_request_edits import _ask, _edit

pytestmark = pytest.mark.anyio

CSV = {"Content-Type": "text/csv"}


async def post_csv(client: httpx.AsyncClient, world: World, kind: str, text: str) -> httpx.Response:
    return await client.post(f"{world.base}/import/{kind}", content=text.encode(), headers={**world.organiser, **CSV})


def faults(answer: httpx.Response) -> list[str]:
    return [f"{error['field']}: {error['message']}" for error in answer.json()["errors"]]


async def participants_of(client: httpx.AsyncClient, world: World, delegation: str) -> list[str]:
    answer = await client.get(f"{world.base}/delegations/{delegation}/participants", headers=world.organiser)
    return [person["id"] for person in answer.json()]


# ---- delegations


async def test_delegations_are_created_with_tokens_and_a_reimport_changes_nothing(
    client: httpx.AsyncClient, world: World
) -> None:
    text = "id,name,country\nNZL,New Zealand,NZ\r\nIDN,Indonesia,ID\n\n"
    first = await post_csv(client, world, "delegations", text)
    assert first.status_code == 200, first.text
    assert first.json()["created"] == ["NZL", "IDN"] and first.json()["unchanged"] == []
    token = first.json()["tokens"]["NZL"]
    own = await client.get(f"{world.base}/delegations/NZL", headers=bearer(token))
    assert own.status_code == 200 and own.json()["name"] == "New Zealand"

    again = await post_csv(client, world, "delegations", text)
    assert again.status_code == 200
    assert again.json() == {"kind": "delegations", "created": [], "unchanged": ["NZL", "IDN"], "tokens": {}}
    assert (await client.get(f"{world.base}/delegations/NZL", headers=bearer(token))).status_code == 200


async def test_a_clash_with_a_stored_delegation_refuses_the_whole_file(client: httpx.AsyncClient, world: World) -> None:
    answer = await post_csv(client, world, "delegations", "id,name,country\nNZL,New Zealand,NZ\nSGP,Singapur,SG\n")
    assert answer.status_code == 409
    assert answer.headers["content-type"] == "application/problem+json"
    assert faults(answer) == [
        "row 3, column id: delegation SGP already exists with other values; change it with PUT (If-Match)"
    ]
    listed = await client.get(f"{world.base}/delegations", headers=world.organiser)
    assert "NZL" not in {delegation["id"] for delegation in listed.json()}  # all or nothing


async def test_semicolon_separated_files_with_a_byte_order_mark_are_read(
    client: httpx.AsyncClient, world: World
) -> None:
    answer = await post_csv(client, world, "delegations", '\ufeffid;name;country\nKOR;"Korea; Republic of";KR\n')
    assert answer.status_code == 200, answer.text
    stored = await client.get(f"{world.base}/delegations/KOR", headers=world.organiser)
    assert stored.json()["name"] == "Korea; Republic of"


# ---- participants

PARTICIPANTS = (
    "delegation,id,name,rank,principal,arrival,departure,blocked,max_meetings_per_day,buffer_minutes\n"
    "SGP,cdf,Chief of Defence Force,chief_of_defence,no,2023-06-02 10:00,,"
    "2023-06-02T11:00/2023-06-02T11:30; 2023-06-03 09:00/2023-06-03 09:45,3,15\n"
    "AUS,dep,Deputy Secretary,senior_official,,,2023-06-03T12:00+08:00,,,\n"
)


async def test_participants_are_created_in_forum_time_and_a_reimport_changes_nothing(
    client: httpx.AsyncClient, world: World
) -> None:
    first = await post_csv(client, world, "participants", PARTICIPANTS)
    assert first.status_code == 200, first.text
    assert first.json()["created"] == ["SGP/cdf", "AUS/dep"] and first.json()["tokens"] is None
    stored = await client.get(f"{world.base}/delegations/SGP/participants/cdf", headers=world.organiser)
    person = stored.json()
    assert person["arrival"] == "2023-06-02T10:00:00" and person["max_meetings_per_day"] == 3
    assert person["blocked"][1] == {"start": "2023-06-03T09:00:00", "end": "2023-06-03T09:45:00"}
    assert person["principal"] is False and person["buffer_minutes"] == 15
    aus = await client.get(f"{world.base}/delegations/AUS/participants/dep", headers=world.organiser)
    assert aus.json()["departure"] == "2023-06-03T12:00:00"  # +08:00 is Singapore time already

    again = await post_csv(client, world, "participants", PARTICIPANTS)
    assert again.json()["created"] == [] and again.json()["unchanged"] == ["SGP/cdf", "AUS/dep"]


BAD_PARTICIPANT_ROWS = [
    ("ATL,p1,Someone,official,,,,,,", "row 3, column delegation: no delegation ATL"),
    (
        "SGP,p2,Someone,official,,tomorrow,,,,",
        "row 4, column arrival: must be a date and time such as 2024-06-01 14:30, not 'tomorrow'",
    ),
    ("SGP,p3,Someone,official,,2023-06-03 10:00,2023-06-02 10:00,,,", "row 5, column departure: must be after arrival"),
    ("SGP,p4,Someone,official,maybe,,,,,", "row 6, column principal: must be yes or no, not 'maybe'"),
    ("SGP,p5,Someone,official,,,,,many,", "row 7, column max_meetings_per_day: must be a whole number, not 'many'"),
    (
        "SGP,p 6,Someone,official,,,,,,",
        "row 8, column id: must be 1 to 64 letters, digits, '_', '.' or '-', other than '.' and '..'",
    ),
    ("SGP,ok,Someone,official,,,,,,", None),
    ("SGP,ok,Someone else,official,,,,,,", "row 10, column id: repeats row 9"),
    (
        "SGP,p7,Someone,official,,,,2023-06-02 12:00/2023-06-02 11:00,,",
        "row 11, column blocked: must be after its start",
    ),
    (
        "SGP,p8,Someone,official,,,,2023-06-02 12:00,,",
        "row 12, column blocked: must be windows start/end separated by ';', not '2023-06-02 12:00'",
    ),
    ("SGP,p9,,official,,,,,,", "row 13, column name: is empty"),
    (
        "SGP,p10,Someone,general,,,,,,",
        "row 14, column rank: must be one of: head_of_state, minister, deputy_minister, chief_of_defence,"
        " senior_official, official (not 'general')",
    ),
    ("SGP,p11,Someone,official,,,,,0,", "row 15, column max_meetings_per_day: Expected `int` >= 1"),
]


async def test_each_bad_participant_row_is_named_and_nothing_is_stored(client: httpx.AsyncClient, world: World) -> None:
    header = "delegation,id,name,rank,principal,arrival,departure,blocked,max_meetings_per_day,buffer_minutes"
    good = "SGP,first,A good row,official,,,,,,"
    text = "\n".join([header, good, *(row for row, _ in BAD_PARTICIPANT_ROWS)]) + "\n"
    answer = await post_csv(client, world, "participants", text)
    assert answer.status_code == 422, answer.text
    expected = [fault for _, fault in BAD_PARTICIPANT_ROWS if fault is not None]
    found = faults(answer)
    assert len(found) == len(expected), found
    for fault, wanted in zip(found, expected, strict=True):
        assert fault.startswith(wanted), (fault, wanted)
    assert answer.json()["detail"].startswith("row 3, column delegation: no delegation ATL; row 4, column arrival")
    assert await participants_of(client, world, "SGP") == ["aide", "min"]  # not even the good rows


async def test_header_faults_are_named_by_column(client: httpx.AsyncClient, world: World) -> None:
    answer = await post_csv(client, world, "participants", "delegation,name,arival\nSGP,x,2023-06-02 10:00\n")
    assert answer.status_code == 422
    assert faults(answer) == [
        "row 1, column id: is missing",
        "row 1, column arival: unknown column; known: delegation, id, name, rank, principal, arrival, departure, "
        "blocked, max_meetings_per_day, buffer_minutes",
    ]
    empty = await post_csv(client, world, "delegations", "id,name,country\n")
    assert faults(empty) == ["file: has no data rows"]
    extra = await post_csv(client, world, "delegations", "id,name,country\nNZL,New Zealand,NZ,oops\n")
    assert faults(extra) == ["row 2: has 4 cells, the header 3"]


async def test_a_file_that_is_not_utf8_is_a_bad_request(client: httpx.AsyncClient, world: World) -> None:
    answer = await client.post(
        f"{world.base}/import/delegations",
        content="id,name,country\nCIV,Côte d'Ivoire,CI\n".encode("latin-1"),
        headers={**world.organiser, **CSV},
    )
    assert answer.status_code == 400 and "UTF-8" in answer.json()["detail"]


# ---- requests


REQUESTS = (
    "id,parties,duration_minutes,title,priority,attendees,preferred,features,seats\n"
    "SGP-AUS,SGP AUS,30,Maritime security,high,SGP/aide AUS/min,2023-06-02 09:00/2023-06-02 11:00,interpreters,6\n"
    "AUS-JPN-SGP,AUS;JPN;SGP,45,,,,,,\n"
)


async def add_room_for_requests(client: httpx.AsyncClient, world: World) -> None:
    """A room that offers what REQUESTS' first row needs (the world's only room has no features)."""
    room = {"id": "R2", "name": "Room 2", "seats": 6, "features": ["interpreters"]}
    added = await client.post(f"{world.base}/rooms", json=room, headers=world.organiser)
    assert added.status_code == 201, added.text


async def test_requests_are_created_accepted_with_their_needs_and_a_reimport_changes_nothing(
    client: httpx.AsyncClient, world: World
) -> None:
    await add_room_for_requests(client, world)
    first = await post_csv(client, world, "requests", REQUESTS)
    assert first.status_code == 200, first.text
    assert first.json()["created"] == ["SGP-AUS", "AUS-JPN-SGP"]
    stored = await client.get(f"{world.base}/requests/SGP-AUS", headers=world.organiser)
    request = stored.json()
    assert request["status"] == "accepted" and request["priority"] == "high"
    assert {p["delegation"]: p["attendees"] for p in request["parties"]} == {"SGP": ["aide"], "AUS": ["min"]}
    assert request["needs"]["features"] == ["interpreters"] and request["needs"]["seats"] == 6
    problem = (await client.get(f"{world.base}/problem", headers=world.organiser)).json()
    meeting = next(m for m in problem["problem"]["meetings"] if m["id"] == "SGP-AUS")
    assert meeting["features"] == ["interpreters"] and sorted(meeting["participants"]) == ["AUS/min", "SGP/aide"]
    japan = await client.get(f"{world.base}/requests/AUS-JPN-SGP", headers=world.tokens["JPN"])
    assert japan.status_code == 200  # a party sees it

    again = await post_csv(client, world, "requests", REQUESTS)
    assert again.json()["created"] == [] and again.json()["unchanged"] == ["SGP-AUS", "AUS-JPN-SGP"]
    changed = await post_csv(client, world, "requests", REQUESTS.replace(",30,", ",45,"))
    assert changed.status_code == 409
    assert faults(changed) == [
        "row 2, column id: request SGP-AUS already exists with other values; change it with PUT (If-Match)"
    ]


BAD_REQUEST_ROWS = [
    ("r1,SGP AUS,20,,,,", "row 2, column duration_minutes: must be a multiple of the 15-minute slot"),
    ("r2,SGP ATL,30,,,,", "row 3, column parties: no delegation ATL"),
    ("r3,SGP AUS,30,,,JPN/min,", "row 4, column attendees: is not a party to this request"),
    ("r4,SGP AUS,30,,,SGP/ghost,", "row 5, column attendees: no participant ghost in delegation SGP"),
    ("r5,SGP AUS,30,,urgent,,", "row 6, column priority: must be one of: must, high, normal, low (not 'urgent')"),
    ("r6,SGP,30,,,,", "row 7, column parties: Expected `array` of length >= 2"),
    ("r7,SGP AUS,30,,,,atlantis", "row 8, column venues: no venue atlantis"),
    ("r8,SGP AUS,30,,,sgp-min,", "row 9, column attendees: 'sgp-min' is not delegation/participant"),
    ("r9,SGP SGP,30,,,,", "row 10, column parties: SGP is listed twice"),
    # a required cell that cannot be read is that one fault, not also "is empty"
    ("r10,SGP AUS,half an hour,,,,", "row 11, column duration_minutes: must be a whole number, not 'half an hour'"),
]


async def test_each_bad_request_row_is_named_and_nothing_is_stored(client: httpx.AsyncClient, world: World) -> None:
    header = "id,parties,duration_minutes,title,priority,attendees,venues"
    text = "\n".join([header, *(row for row, _ in BAD_REQUEST_ROWS), "fine,SGP JPN,30,,,,"]) + "\n"
    answer = await post_csv(client, world, "requests", text)
    assert answer.status_code == 422, answer.text
    found = faults(answer)
    assert len(found) == len(BAD_REQUEST_ROWS), found
    for fault, (_, wanted) in zip(found, BAD_REQUEST_ROWS, strict=True):
        assert fault.startswith(wanted), (fault, wanted)
    listed = await client.get(f"{world.base}/requests", headers=world.organiser)
    assert listed.json() == []


async def test_the_csv_import_refuses_what_no_room_could_hold_as_patch_does(
    client: httpx.AsyncClient, world: World
) -> None:
    text = (
        "id,parties,duration_minutes,features,seats\n"
        "fine,SGP AUS,30,,8\n"
        "r1,SGP AUS,30,interpretation,\n"
        "r2,SGP AUS,30,,50\n"
    )
    answer = await post_csv(client, world, "requests", text)
    assert answer.status_code == 422, answer.text
    assert faults(answer) == [
        "row 3, column features: no room of the forum offers 'interpretation'",
        "row 4, column seats: no room of the forum has 50 seats (most: 8)",
    ]
    assert (await client.get(f"{world.base}/requests", headers=world.organiser)).json() == []
    # PATCH's words for the same faults
    asked = await _ask(client, world, "SGP", ["SGP", "AUS"])
    patched = await _edit(client, world, asked, world.organiser, {"features": ["interpretation"], "seats": 50})
    assert [f"{e['field']}: {e['message']}" for e in patched.json()["errors"]] == [
        "features[0]: no room of the forum offers 'interpretation'",
        "seats: no room of the forum has 50 seats (most: 8)",
    ]
    # POST takes neither field (room needs are set by PATCH or the CSV): refused as unknown, never stored.
    made = await client.post(
        f"{world.base}/requests",
        json={"parties": ["SGP", "AUS"], "duration_minutes": 30, "features": ["interpretation"]},
        headers=world.organiser,
    )
    assert made.status_code in (400, 422) and "features" in made.text, made.text


# ---- who may import


async def test_only_the_forums_organiser_imports(client: httpx.AsyncClient, world: World) -> None:
    text = b"id,name,country\nNZL,New Zealand,NZ\n"
    path = f"{world.base}/import/delegations"
    as_delegation = await client.post(path, content=text, headers={**world.tokens["SGP"], **CSV})
    assert as_delegation.status_code == 403
    other = await make_world(client)
    as_other_organiser = await client.post(path, content=text, headers={**other.organiser, **CSV})
    assert as_other_organiser.status_code == 404
    assert (await client.post(path, content=text, headers=CSV)).status_code == 401
    unknown = await client.post(f"{world.base}/import/rooms", content=text, headers={**world.organiser, **CSV})
    assert unknown.status_code == 404
    listed = await client.get(f"{world.base}/delegations", headers=world.organiser)
    assert "NZL" not in {delegation["id"] for delegation in listed.json()}


async def test_replayed_import_shows_no_tokens(client: httpx.AsyncClient, world: World) -> None:
    headers = {**world.organiser, **CSV, "Idempotency-Key": "delegations-1"}
    text = b"id,name,country\nNZL,New Zealand,NZ\n"
    first = await client.post(f"{world.base}/import/delegations", content=text, headers=headers)
    again = await client.post(f"{world.base}/import/delegations", content=text, headers=headers)
    assert first.json()["tokens"]["NZL"] and again.json()["tokens"] is None
    assert again.headers["Idempotency-Replayed"] == "true"


# ---- the command line


async def test_csv_command_imports_and_names_bad_rows(
    client: httpx.AsyncClient, world: World, database_url: str, tmp_path: Path
) -> None:
    environment = {**os.environ, "DATABASE_URL": database_url}
    good = tmp_path / "people.csv"
    good.write_text(PARTICIPANTS)
    command = [sys.executable, "-m", "api", "csv", "participants", world.forum_id]
    done = subprocess.run([*command, str(good)], env=environment, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("participants: 2 created, 0 already stored unchanged")
    assert await participants_of(client, world, "SGP") == ["aide", "cdf", "min"]

    bad = tmp_path / "bad.csv"
    bad.write_text("delegation,id,name,arrival\nSGP,late,Late arrival,soon\n")
    refused = subprocess.run([*command, str(bad)], env=environment, capture_output=True, text=True, check=False)
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        f"sidelines: error: {bad}: row 2, column arrival: must be a date and time such as 2024-06-01 14:30, not 'soon'"
    )

    nul = tmp_path / "nul.csv"
    nul.write_text("delegation,id,name\nSGP,late,Late\x00comer\n")  # PostgreSQL text cannot hold U+0000
    refused = subprocess.run([*command, str(nul)], env=environment, capture_output=True, text=True, check=False)
    assert (refused.returncode, refused.stderr.strip()) == (
        2,
        f"sidelines: error: {nul}: row 2, column name: may not contain the NUL character (U+0000)",
    )

    # a closed forum takes no file: it is read and exported only, until reopened
    closed = await client.post(f"{world.base}/close", headers=world.organiser)
    assert closed.status_code == 200, closed.text
    more = tmp_path / "more.csv"
    more.write_text("delegation,id,name\nSGP,late,Late arrival\n")
    refused = subprocess.run([*command, str(more)], env=environment, capture_output=True, text=True, check=False)
    assert (refused.returncode, refused.stderr.strip()) == (
        2,
        f"sidelines: error: FORUM_ID: the forum is closed: reopen it (POST /forums/{world.forum_id}/reopen)"
        " to import into it",
    )
    assert await participants_of(client, world, "SGP") == ["aide", "cdf", "min"]
    reopened = await client.post(f"{world.base}/reopen", headers=world.organiser)
    assert reopened.status_code == 200, reopened.text

    nowhere = "00000000-0000-0000-0000-000000000000"  # a well-formed id of no forum: the id is at fault, not the file
    command[-1] = nowhere
    unknown = subprocess.run([*command, str(good)], env=environment, capture_output=True, text=True, check=False)
    assert (unknown.returncode, unknown.stderr.strip()) == (2, f"sidelines: error: FORUM_ID: no forum {nowhere}")


async def test_the_examples_in_docs_csv_md_import(client: httpx.AsyncClient, world: World) -> None:
    guide = (Path(__file__).parent.parent / "docs" / "csv.md").read_text()
    examples = re.findall(r"```csv\n(.*?)```", guide, flags=re.DOTALL)
    assert len(examples) == 3
    for kind, text in zip(("delegations", "participants", "requests"), examples, strict=True):
        answer = await post_csv(client, world, kind, text)
        assert answer.status_code == 200, answer.text
        assert len(answer.json()["created"]) == text.count("\n") - 1
