"""The token before the body, and a path value of the wrong type as a 404 naming it.

An unauthenticated request learns nothing of a route's body rules: no token, or one that
names no one, answers 401 whatever the body holds (it is not even decoded, api/authentication.py),
on every route that takes a body. A right token still gets the body's 400 naming the field.
A path value the router cannot parse (`/schedules/x`, the version an int) answers the 404 every
other path value that names nothing answers: `errors[].field` is `path:<name>`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute

import api.guards
from api.app import create_app
from api.openapi import CALLER
from tests.conftest import ADMIN_TOKEN, FORUM_BODY, World, bearer

pytestmark = pytest.mark.anyio

MALFORMED = b'{"id": "R5", "seats": '  # cut short: not JSON
NO_ONE = [{}, bearer("not-a-token-of-anyone"), {"Authorization": "Basic c2lkZWxpbmVz"}]
WITHOUT = ["no token", "unknown token", "not Bearer"]
_PARAMETER = re.compile(r"\{(\w+):(\w+)\}")


def _routes_with_a_body() -> Iterator[tuple[str, str, HTTPRouteHandler]]:
    """Every (method, path, handler) of the app that takes a token and may carry a body."""
    for route in create_app(None, admin_token=ADMIN_TOKEN).routes:
        if not isinstance(route, HTTPRoute):
            continue
        for method, (handler, _) in route.route_handler_map.items():
            if method in {"POST", "PUT", "PATCH"} and CALLER in handler.parsed_fn_signature.parameters:
                yield method, route.path, handler


BODY_ROUTES = sorted((method, path) for method, path, _ in _routes_with_a_body())
JSON_BODY_ROUTES = {
    (method, path)
    for method, path, handler in _routes_with_a_body()
    if "data" in handler.parsed_fn_signature.parameters
}


def test_the_sweep_covers_the_routes_that_decode_a_body() -> None:
    # a sweep that found nothing would pass on any code
    assert ("POST", "/forums") in JSON_BODY_ROUTES
    assert ("POST", "/forums/{forum_id:str}/rooms") in JSON_BODY_ROUTES
    assert ("POST", "/forums/{forum_id:str}/requests") in JSON_BODY_ROUTES
    assert len(JSON_BODY_ROUTES) > 20


def _url(path: str, forum_id: str) -> str:
    """`path` with its parameters filled: the forum's id, and values of the declared types."""

    def value(match: re.Match[str]) -> str:
        name, kind = match.groups()
        return forum_id if name == "forum_id" else "1" if kind == "int" else "x1"

    return _PARAMETER.sub(value, path)


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES, ids=[f"{m} {p}" for m, p in BODY_ROUTES])
async def test_no_valid_token_answers_401_before_the_body_is_read(
    client: httpx.AsyncClient, world: World, method: str, path: str
) -> None:
    url = _url(path, world.forum_id)
    for headers, what in zip(NO_ONE, WITHOUT, strict=True):
        sent = {**headers, "Content-Type": "application/json"}
        answer = await client.request(method, url, content=MALFORMED, headers=sent)
        assert answer.status_code == 401, (what, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert "errors" not in answer.json(), (what, answer.text)  # nothing about the body


async def _post(client: httpx.AsyncClient, url: str, headers: dict[str, str], body: bytes) -> httpx.Response:
    return await client.post(url, content=body, headers={**headers, "Content-Type": "application/json"})


def _fields(answer: httpx.Response) -> list[str]:
    return [error["field"] for error in answer.json()["errors"]]


async def test_each_kind_of_token_still_gets_the_body_s_400_naming_the_field(
    client: httpx.AsyncClient, world: World
) -> None:
    admin = bearer(ADMIN_TOKEN)
    rooms, requests = f"{world.base}/rooms", f"{world.base}/requests"
    for url, headers in (("/forums", admin), (rooms, world.organiser), (requests, world.tokens["SGP"])):
        answer = await _post(client, url, headers, MALFORMED)
        assert answer.status_code == 400, answer.text
        assert _fields(answer) == ["$"]
    wrong_types: list[tuple[str, dict[str, str], dict[str, Any], str]] = [
        ("/forums", admin, {**FORUM_BODY, "slot_minutes": "15"}, "slot_minutes"),
        (rooms, world.organiser, {"id": "R5", "name": "Room 5", "seats": "many"}, "seats"),
        (requests, world.tokens["SGP"], {"parties": ["SGP", "AUS"], "duration_minutes": "30"}, "duration_minutes"),
    ]
    for url, headers, body, field in wrong_types:
        answer = await client.post(url, json=body, headers=headers)
        assert answer.status_code == 400, answer.text
        assert _fields(answer) == [field]


async def test_a_token_of_the_wrong_kind_or_delegation_is_refused_as_before(
    client: httpx.AsyncClient, world: World
) -> None:
    # authentication moved; what each kind may do did not: 403 for the wrong kind,
    # 404 for another delegation's resource (as if it did not exist), never 401
    person = {"id": "x", "name": "X", "principal": False, "rank": "minister"}
    other = await client.post(f"{world.base}/delegations/AUS/participants", json=person, headers=world.tokens["SGP"])
    assert other.status_code == 404, other.text
    assert _fields(other) == ["path:delegation_id"]
    room = {"id": "R6", "name": "Room 6", "seats": 4}
    wrong_kind = await client.post(f"{world.base}/rooms", json=room, headers=world.tokens["SGP"])
    assert wrong_kind.status_code == 403, wrong_kind.text
    organiser_on_admin = await client.post("/forums", json=FORUM_BODY, headers=world.organiser)
    assert organiser_on_admin.status_code == 403, organiser_on_admin.text


async def test_a_request_looks_its_token_up_once(
    client: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a spy on the real lookup (it still queries PostgreSQL): the guard identifies the
    # caller and the handler's `caller` is that one, not a second lookup
    real = api.guards.find_token_owner
    calls: list[str] = []

    async def counted(connection: asyncpg.Connection, digest: str) -> Any:
        calls.append(digest)
        return await real(connection, digest)

    monkeypatch.setattr(api.guards, "find_token_owner", counted)
    room = {"id": "R7", "name": "Room 7", "seats": 2}
    answer = await client.post(f"{world.base}/rooms", json=room, headers=world.organiser)
    assert answer.status_code == 201, answer.text
    assert len(calls) == 1
    calls.clear()
    anonymous = await client.post(f"{world.base}/rooms", content=MALFORMED)
    assert anonymous.status_code == 401
    assert calls == []


def _int_path_routes() -> list[tuple[str, str]]:
    """Every GET route with an int path parameter, with that parameter's name."""
    found = []
    for route in create_app(None, admin_token=ADMIN_TOKEN).routes:
        if isinstance(route, HTTPRoute) and "GET" in route.methods:
            found += [(route.path, name) for name, kind in _PARAMETER.findall(route.path) if kind == "int"]
    return sorted(found)


INT_PATHS = _int_path_routes()


def test_the_int_path_sweep_is_not_empty() -> None:
    assert ("/forums/{forum_id:str}/schedules/{version:int}", "version") in INT_PATHS


@pytest.mark.parametrize(("path", "name"), INT_PATHS, ids=[f"{p} {n}" for p, n in INT_PATHS])
async def test_a_path_value_of_the_wrong_type_answers_404_naming_it(
    client: httpx.AsyncClient, world: World, path: str, name: str
) -> None:
    url = _url(path.replace(f"{{{name}:int}}", "x"), world.forum_id)
    answer = await client.get(url, headers=world.organiser)
    assert answer.status_code == 404, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert _fields(answer) == [f"path:{name}"], answer.text
    assert answer.json()["detail"].endswith(" x")


async def test_an_unknown_path_still_answers_a_plain_404(client: httpx.AsyncClient, world: World) -> None:
    for url in ("/nowhere", f"{world.base}/schedules/1/nowhere", f"{world.base}/rooms/x/y/z"):
        answer = await client.get(url, headers=world.organiser)
        assert answer.status_code == 404, answer.text
        assert answer.json().get("errors", []) == []
