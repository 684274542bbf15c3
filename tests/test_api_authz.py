"""Who may call what. Delegation A must learn nothing of B: B's resources answer 404 to A,
exactly like resources that do not exist; other forums answer 404 to everyone."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, World, bearer, make_world

pytestmark = pytest.mark.anyio

# (method, path under the forum, body) with {B} = delegation B's id, {rq} = a request between B and C only
ENDPOINTS: list[tuple[str, str, Any]] = [
    ("GET", "", None),
    ("PATCH", "", {"name": "x"}),
    ("GET", "/problem", None),
    ("GET", "/audit", None),
    *[("GET", f"/{family}", None) for family in ("sessions", "venues", "travel", "rooms", "resources")],
    ("POST", "/venues", {"id": "V9", "name": "V"}),
    ("GET", "/rooms/R1", None),
    ("PUT", "/rooms/R1", {"id": "R1", "name": "R", "seats": 3}),
    ("DELETE", "/rooms/R1", None),
    ("GET", "/delegations", None),
    ("POST", "/delegations", {"id": "NEW", "name": "N", "country": "NZ"}),
    ("GET", "/delegations/{B}", None),
    ("PUT", "/delegations/{B}", {"id": "{B}", "name": "B", "country": "B"}),
    ("DELETE", "/delegations/{B}", None),
    ("POST", "/delegations/{B}/token", None),
    ("GET", "/delegations/{B}/participants", None),
    ("POST", "/delegations/{B}/participants", {"id": "p9", "name": "P"}),
    ("GET", "/delegations/{B}/participants/min", None),
    ("PUT", "/delegations/{B}/participants/min", {"id": "min", "name": "M"}),
    ("DELETE", "/delegations/{B}/participants/min", None),
    ("GET", "/requests", None),
    ("GET", "/requests/{rq}", None),
    ("POST", "/requests/{rq}/accept", {}),
    ("POST", "/requests/{rq}/decline", None),
    ("POST", "/requests/{rq}/withdraw", None),
]

# What delegation A ("SGP") gets for B's ("AUS") things, per endpoint index; the rest is 403 (organiser-only).
A_SEES = {
    "GET ": 200,  # the forum itself: name, days, deadline
    "GET /requests": 200,  # but only its own (checked below)
    "POST /delegations/{B}/participants": 404,
}


def _fill(text: str, request_id: str) -> str:
    return text.replace("{B}", "AUS").replace("{rq}", request_id)


async def _call(client: httpx.AsyncClient, method: str, url: str, body: Any, headers: dict[str, str]) -> httpx.Response:
    if isinstance(body, dict):
        body = {key: _fill(value, "") if isinstance(value, str) else value for key, value in body.items()}
    headers = {**headers, "If-Match": "*"}
    return await client.request(method, url, json=body, headers=headers)


@pytest.fixture
async def request_b_c(client: httpx.AsyncClient, world: World) -> str:
    body = {"parties": ["AUS", "JPN"], "duration_minutes": 30}
    made = await client.post(f"{world.base}/requests", json=body, headers=world.tokens["AUS"])
    assert made.status_code == 201
    return str(made.json()["id"])


async def test_no_token_is_401_everywhere(client: httpx.AsyncClient, world: World, request_b_c: str) -> None:
    for method, path, body in ENDPOINTS:
        answer = await _call(client, method, world.base + _fill(path, request_b_c), body, {})
        assert answer.status_code == 401, (method, path)
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.headers["www-authenticate"].startswith("Bearer")


async def test_delegation_a_never_reaches_b(client: httpx.AsyncClient, world: World, request_b_c: str) -> None:
    for method, path, body in ENDPOINTS:
        answer = await _call(client, method, world.base + _fill(path, request_b_c), body, world.tokens["SGP"])
        if "{B}" in path or "{rq}" in path:
            assert answer.status_code == 404, (method, path, answer.text)
            assert "AUS" not in answer.text or "no delegation AUS" in answer.text  # nothing but "not found"
        else:
            expected = A_SEES.get(f"{method} {path}", 403)
            assert answer.status_code == expected, (method, path, answer.text)
    listed = await client.get(f"{world.base}/requests", headers=world.tokens["SGP"])
    assert listed.json() == []


async def test_organiser_reaches_everything_but_answers(
    client: httpx.AsyncClient, world: World, request_b_c: str
) -> None:
    # Deletions last, the delegation's after its participant's (it takes its people with it).
    deletes_last = sorted(ENDPOINTS, key=lambda endpoint: (endpoint[0] == "DELETE", endpoint[1] == "/delegations/{B}"))
    for method, path, body in deletes_last:
        answer = await _call(client, method, world.base + _fill(path, request_b_c), body, world.organiser)
        if path.startswith("/requests/{rq}/") and not path.endswith("withdraw"):
            assert answer.status_code == 403, (method, path)  # only parties answer
        else:  # participants too: the organiser corrects any delegation's people
            assert answer.status_code < 400, (method, path, answer.text)


async def test_other_forum_is_404_for_its_organiser_and_delegations(client: httpx.AsyncClient, world: World) -> None:
    other = await make_world(client)
    for headers in (other.organiser, other.tokens["SGP"]):
        for method, path, body in ENDPOINTS:
            answer = await _call(client, method, world.base + _fill(path, "m-0"), body, headers)
            assert answer.status_code == 404, (method, path)
    assert (await client.get("/forums/not-a-uuid", headers=world.organiser)).status_code == 404


async def test_only_the_admin_token_creates_forums(client: httpx.AsyncClient, world: World) -> None:
    from tests.conftest import FORUM_BODY

    assert (await client.post("/forums", json=FORUM_BODY)).status_code == 401
    assert (await client.post("/forums", json=FORUM_BODY, headers=world.organiser)).status_code == 403
    assert (await client.post("/forums", json=FORUM_BODY, headers=bearer("made-up"))).status_code == 401
    assert (await client.post("/forums", json=FORUM_BODY, headers=bearer(ADMIN_TOKEN))).status_code == 201


async def test_rotated_token_replaces_the_old_one(client: httpx.AsyncClient, world: World) -> None:
    own = f"{world.base}/delegations/SGP"
    assert (await client.get(own, headers=world.tokens["SGP"])).status_code == 200
    rotated = await client.post(f"{own}/token", headers=world.organiser)
    assert rotated.status_code == 201
    assert (await client.get(own, headers=world.tokens["SGP"])).status_code == 401
    assert (await client.get(own, headers=bearer(rotated.json()["token"]))).status_code == 200


def _ordered_problem() -> dict[str, Any]:
    """SGP meets JPN after a prep meeting of its own and after AUS-JPN, which it is no party to."""
    from tests.conftest import FORUM_BODY

    delegations = [
        {"id": d, "name": d, "country": d, "participants": [{"id": f"{d}-min", "name": "Minister", "principal": True}]}
        for d in ("SGP", "AUS", "JPN")
    ]
    meetings = [
        {"id": "AUS-JPN-talks", "delegations": ["AUS", "JPN"], "duration_minutes": 30},
        {"id": "SGP-JPN-prep", "delegations": ["SGP", "JPN"], "duration_minutes": 30},
        {
            "id": "SGP-JPN",
            "delegations": ["SGP", "JPN"],
            "duration_minutes": 30,
            "after": ["SGP-JPN-prep", "AUS-JPN-talks"],
        },
    ]
    rooms = [{"id": "R1", "name": "Room 1", "seats": 8}]
    return {"forum": FORUM_BODY, "rooms": rooms, "delegations": delegations, "meetings": meetings}


async def test_a_request_ordered_after_b_s_meeting_does_not_name_it_to_a(client: httpx.AsyncClient) -> None:
    # A loaded problem may order A's meeting after one A is no party to: A's copy of its own
    # request must not name that one (it would tell A that AUS meets JPN).
    made = await client.post("/forums/import", json=_ordered_problem(), headers=bearer(ADMIN_TOKEN))
    assert made.status_code == 201, made.text
    base, tokens = f"/forums/{made.json()['forum']['id']}/requests", made.json()["delegation_tokens"]
    a, c = bearer(tokens["SGP"]), bearer(tokens["JPN"])
    answers = [
        await client.get(base, headers=a),
        await client.get(f"{base}/SGP-JPN", headers=a),
        await client.post(f"{base}/SGP-JPN/decline", headers=a),
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert "AUS-JPN-talks" not in answer.text
    assert answers[1].json()["needs"]["after"] == ["SGP-JPN-prep"]  # its own request stays named
    both = (await client.get(f"{base}/SGP-JPN", headers=c)).json()["needs"]["after"]
    assert both == ["SGP-JPN-prep", "AUS-JPN-talks"]  # JPN is party to both
