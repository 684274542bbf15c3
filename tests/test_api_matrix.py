"""The authorization matrix over every route of the app.

Each route is called by the organiser, by delegation A on its own things, by A on B's
things, with no token, and with the tokens of another forum; the status of each is
stated here. A guard test enumerates the app's routes and fails when one is neither in
MATRIX nor in PUBLIC, so a new route cannot skip this file. A's answers never contain
anything of B's (tests/authz_scene.py lists B's secrets). The OpenAPI document's
`security` of each operation is held to what the routes answer each kind of token
(`test_the_document_lists_exactly_the_tokens_each_route_accepts`).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import anyio
import asyncpg
import httpx
import pytest
from litestar import Litestar

from api.app import create_app
from api.guards import OWN_ONLY
from tests.authz_scene import B_HOOK, B_SECRET_PERSON, A, B, C, Scene, make_scene, published_scene, tidy
from tests.conftest import ADMIN_TOKEN, FORUM_BODY, Message, asgi, bearer, make_world

pytestmark = pytest.mark.anyio

F = "/forums/{forum_id}"
D = F + "/delegations/{delegation_id}"
V = F + "/schedules/{version}"

FAMILIES = ("sessions", "venues", "travel", "rooms", "resources")  # the organiser's setup collections

# "METHOD path" -> (organiser, delegation A on its own things). A on B's things is always 404,
# no token 401, another forum's organiser or delegation 404 (403 on the admin's routes).
MATRIX: dict[str, tuple[int, int]] = {
    "POST /forums": (403, 403),  # the admin's
    "POST /forums/import": (403, 403),  # the admin's
    f"GET {F}": (200, 200),  # name, days and deadline are every member's
    f"PATCH {F}": (200, 403),
    f"GET {F}/organiser-tokens": (200, 403),
    f"POST {F}/organiser-tokens": (201, 403),
    f"GET {F}/problem": (200, 403),
    f"GET {F}/audit": (200, 403),
    **{f"GET {F}/{family}": (200, 403) for family in FAMILIES},
    **{f"POST {F}/{family}": (201, 403) for family in FAMILIES},
    **{f"GET {F}/{family}/{{item_id}}": (200, 403) for family in FAMILIES},
    **{f"PUT {F}/{family}/{{item_id}}": (200, 403) for family in FAMILIES},
    f"GET {F}/delegations": (200, 403),
    f"POST {F}/delegations": (201, 403),
    f"GET {F}/directory": (200, 200),  # every delegation's id, name and country: whom to ask
    f"GET {D}": (200, 200),
    f"PUT {D}": (200, 403),
    f"POST {D}/token": (201, 403),
    f"GET {D}/participants": (200, 200),
    f"POST {D}/participants": (201, 201),  # the delegation manages its own people; the organiser corrects them
    f"GET {D}/participants/{{participant_id}}": (200, 200),
    f"PUT {D}/participants/{{participant_id}}": (200, 200),
    f"GET {D}/agenda": (200, 200),  # published by then: the delegation's own meetings
    f"GET {D}/calendar": (200, 200),
    f"GET {D}/calendar-link": (403, 200),  # derived from the delegation's own token
    f"POST {D}/calendar-link/rotate": (403, 200),
    f"GET {D}/webhooks": (403, 200),
    f"POST {D}/webhooks": (403, 201),
    f"GET {D}/webhooks/{{webhook_id}}/deliveries": (403, 200),
    f"GET {D}/events": (200, 200),  # the organiser may follow any delegation's notices
    f"GET {F}/requests": (200, 200),  # A: only those it is party to (checked below)
    f"POST {F}/requests": (201, 201),
    f"GET {F}/requests/{{request_id}}": (200, 200),
    f"PATCH {F}/requests/{{request_id}}": (200, 403),  # an invitee edits only its attendees, not the title
    f"POST {F}/requests/{{request_id}}/accept": (403, 200),  # only an invited party answers
    f"POST {F}/requests/{{request_id}}/decline": (403, 200),
    f"POST {F}/requests/{{request_id}}/withdraw": (200, 403),  # the requester or the organiser
    f"POST {F}/runs": (202, 403),
    f"GET {F}/runs": (200, 403),
    f"GET {F}/runs/{{run_id}}": (200, 403),
    f"GET {F}/runs/{{run_id}}/events": (200, 403),
    f"POST {F}/runs/{{run_id}}/cancel": (202, 403),
    # After the cancel: closing cancels the scene's queued run. Reopened at once, as every later
    # change would answer 409.
    f"POST {F}/close": (200, 403),
    f"POST {F}/reopen": (200, 403),
    f"GET {F}/schedules": (200, 403),
    f"GET {V}": (200, 404),  # a whole grid is hidden from every delegation
    f"GET {V}/diff/{{other}}": (200, 404),
    f"GET {V}/grid.csv": (200, 404),
    f"GET {V}/grid.xlsx": (200, 404),
    f"POST {V}/publish": (200, 403),
    f"GET {F}/publications": (200, 403),
    f"POST {F}/import/{{kind}}": (200, 403),
    f"GET {V}/spots": (200, 404),
    f"POST {V}/moves/check": (200, 404),
    f"POST {V}/moves": (201, 404),
    f"GET {D}/agenda/detailed": (200, 200),
    f"GET {D}/inbox": (200, 200),  # the requests it is party to: waiting for its answer, and its own
    "GET /me": (200, 200),  # whose token it is: the caller's own identity
    f"GET {F}/revision": (200, 404),  # counts the organiser's setup edits: hidden, as whole grids are
    f"GET {F}/changes": (200, 403),
    f"POST {F}/changes": (201, 403),
    f"GET {F}/fit": (200, 403),
    f"POST {F}/fit/apply": (409, 403),  # reached: the forged option no longer fits
    **{f"DELETE {F}/{family}/{{item_id}}": (204, 403) for family in ("sessions", "travel", "venues", "resources")},
    f"DELETE {F}/rooms/{{item_id}}": (409, 403),  # reached: the stored grids place meetings in it
    f"DELETE {D}/webhooks/{{webhook_id}}": (403, 204),
    f"DELETE {D}/participants/{{participant_id}}": (204, 409),  # reached: "min" attends placed meetings
    f"DELETE {D}": (409, 403),  # reached: its meetings are in stored grids
    f"DELETE {F}/organiser-tokens/{{token_number}}": (204, 403),  # token 2, issued above
}

# Routes anyone may call, and why.
PUBLIC: dict[str, str] = {
    "GET /health": "liveness probe for the orchestrator; answers nothing about any forum",
    "GET /health/ready": "readiness probe; database and migration state only",
    "GET /calendar/{feed}": "calendar apps send no header: the unguessable key in the path is the credential",
    "GET /schema": "API documentation (OpenAPI), the same for everyone",
    "GET /schema/openapi.json": "API documentation",
    "GET /schema/{path}": "API documentation in other renderings (yaml, redoc...)",
    "GET /schema/scalar": "API documentation",
    "GET /schema/swagger": "API documentation",
    "GET /schema/oauth2-redirect.html": "Swagger UI's OAuth helper page, static",
    "GET /grid": "the organiser's grid page: a static shell; its data comes from the API with the token",
    "GET /agenda": "a delegation's agenda page: a static shell, as /grid",
    "GET /requests": "the organiser's requests page: a static shell, as /grid",
    "GET /static/{file_path}": "the pages' CSS and JavaScript",
}
# Another forum's tokens get 404 on forum routes, 403 on the admin's; these answer otherwise.
OTHER_FORUM = {"GET /me": 200}

NOBODY = "ZZZ"  # a delegation that does not exist
STREAMS = {f"GET {F}/runs/{{run_id}}/events", f"GET {D}/events"}
ITEMS = {"sessions": "P1", "venues": "V2", "travel": "V1~V2", "rooms": "R1", "resources": "interp"}
ITEM_BODIES: dict[str, dict[str, Any]] = {
    "sessions": {"id": "P9", "name": "Closing", "start": "2023-06-03T12:00:00", "end": "2023-06-03T13:00:00"},
    "venues": {"id": "V9", "name": "Tent"},
    "travel": {"between": ["V2", "V3"], "minutes": 5},
    "rooms": {"id": "R9", "name": "Room 9", "seats": 4},
    "resources": {"id": "av", "name": "Screens", "capacity": 1},
}
NEW_CSV = "id,name,country\nNZL,New Zealand,NZ\n"


def route_keys(app: Litestar) -> set[str]:
    """Every "METHOD path" the app serves, path parameters without their types."""
    keys = set()
    for route in app.routes:
        for method in set(getattr(route, "methods", ())) - {"OPTIONS", "HEAD"}:
            keys.add(f"{method} {re.sub(r':[a-z]+}', '}', route.path)}")
    return keys


def test_every_route_is_in_the_matrix_or_deliberately_public() -> None:
    served = route_keys(create_app(None, admin_token=ADMIN_TOKEN))
    assert not set(MATRIX) & set(PUBLIC)
    assert served - set(MATRIX) - set(PUBLIC) == set(), "add these routes to MATRIX (or PUBLIC, with the reason)"
    assert set(MATRIX) | set(PUBLIC) <= served, "the matrix names routes the app no longer has"


def test_the_openapi_document_gives_each_route_the_success_status_it_answers() -> None:
    # Litestar documents a POST as 201 unless told otherwise, and publish, accept,
    # decline, withdraw, rotate and moves/check answer 200: a client generated from
    # the document would have treated their answers as unexpected.
    app = create_app(None, admin_token=ADMIN_TOKEN)
    paths = app.openapi_schema.to_schema()["paths"]
    wrong = {}
    for key, statuses in MATRIX.items():
        method, path = key.split(" ", 1)
        documented = set(paths[path][method.lower()]["responses"])
        answered = {str(status) for status in statuses if 200 <= status < 300}
        if answered - documented:
            wrong[key] = (sorted(answered), sorted(documented))
    assert wrong == {}


def values(scene: Scene, delegation: str) -> dict[str, str]:
    """Path values for `delegation`'s things: A's own (A), or B's (what the others are asked about)."""
    own = delegation == A
    if delegation == NOBODY:
        return {
            **values(scene, B),
            "delegation_id": NOBODY,
            "participant_id": "nobody",
            "request_id": "m-0123456789",
            "webhook_id": "987654321",
        }
    return {
        "forum_id": scene.world.forum_id,
        "delegation_id": delegation,
        "participant_id": "min" if own else B_SECRET_PERSON,
        "request_id": scene.request_a if own else scene.request_b,
        "webhook_id": str(scene.hooks[delegation]),
        "run_id": str(scene.run_id),
        "version": str(scene.versions[0]),
        "other": str(scene.versions[1]),
        "kind": "delegations",
        "feed": scene.feed_key,
        "token_number": "2",
    }


def body_of(key: str, filled: dict[str, str], scene: Scene) -> Any:
    method, path = key.split(" ", 1)
    family = path.split("/")[3] if path.count("/") >= 3 else ""
    if method == "POST" and family in ITEM_BODIES and path.endswith(family):
        return ITEM_BODIES[family]
    if method == "PUT" and family in ITEM_BODIES:
        return (
            {**ITEM_BODIES[family], "id": ITEMS[family]}
            if family != "travel"
            else ITEM_BODIES["travel"] | {"between": ["V1", "V2"]}
        )
    bodies: dict[str, Callable[[], Any]] = {
        "POST /forums": lambda: FORUM_BODY,
        "POST /forums/import": lambda: {"forum": FORUM_BODY, "delegations": [], "meetings": [], "rooms": []},
        f"PATCH {F}": lambda: {"name": "Renamed"},
        f"POST {F}/organiser-tokens": lambda: {"name": "Duty officer, night shift"},
        f"POST {F}/delegations": lambda: {"id": "NZL", "name": "New Zealand", "country": "NZ"},
        f"PUT {D}": lambda: {"id": filled["delegation_id"], "name": "Renamed", "country": filled["delegation_id"]},
        f"POST {D}/participants": lambda: {"id": "p9", "name": "Adviser"},
        f"PUT {D}/participants/{{participant_id}}": lambda: {"id": filled["participant_id"], "name": "Renamed"},
        f"POST {D}/webhooks": lambda: {"url": "https://elsewhere.example.org/hook"},
        f"POST {F}/requests": lambda: {"parties": [A, "JPN"], "duration_minutes": 30},
        f"PATCH {F}/requests/{{request_id}}": lambda: {"title": "Corrected"},
        f"POST {F}/requests/{{request_id}}/accept": lambda: {},
        f"POST {F}/runs": lambda: {},
        f"POST {F}/import/{{kind}}": lambda: NEW_CSV,
        f"POST {V}/moves/check": lambda: {**MOVE, "meeting": scene.meeting_b},
        f"POST {V}/moves": lambda: {**MOVE, "meeting": scene.meeting_b},
        f"POST {F}/changes": lambda: {
            "kind": "room_unavailable",
            "room": "R2",
            "window": {"start": "2023-06-02T12:00:00+08:00", "end": "2023-06-02T12:30:00+08:00"},
        },
        f"POST {F}/fit/apply": lambda: {"meeting": scene.meeting_b, "option": FORGED_OPTION},
    }
    return bodies[key]() if key in bodies else None


FORGED_OPTION = {
    "room": "R1",
    "start": "2023-06-02T09:00:00+08:00",
    "end": "2023-06-02T09:30:00+08:00",
    "cost": 0,
    "costs": {},
    "moves": [],
}
MOVE = {"start": "2023-06-02T11:00:00", "room": "R2"}  # B's meeting, to a free slot
QUERIES = {f"GET {F}/fit": "?meeting={meeting}&k=1", f"GET {V}/spots": "?meeting={meeting}&k=1"}


def fill(template: str, filled: dict[str, str]) -> str:
    return re.sub(r"{(\w+)}", lambda match: filled[match[1]], template)


async def stream_status(app: Litestar, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    """The status of a Server-Sent Events route (which never ends by itself) and any error body."""
    answer: dict[str, Any] = {"status": 0, "body": b""}
    done = anyio.Event()
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
            if message["status"] == 200:
                done.set()
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")
            if not message.get("more_body"):
                done.set()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(name.lower().encode(), value.encode()) for name, value in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(asgi(app), scope, receive, send)
        with anyio.fail_after(10):
            await done.wait()
        tasks.cancel_scope.cancel()
    return answer["status"], answer["body"]


class Caller:
    def __init__(self, client: httpx.AsyncClient, app: Litestar, scene: Scene, headers: dict[str, str]) -> None:
        self.client, self.app, self.scene, self.headers = client, app, scene, headers

    async def call(
        self, key: str, whose: str, overrides: Mapping[str, str] | None = None
    ) -> tuple[int, str, httpx.Headers | None]:
        method, template = key.split(" ", 1)
        filled = {**values(self.scene, whose), **(overrides or {})}
        filled["meeting"] = self.scene.meeting_b
        family = template.split("/")[3] if template.count("/") >= 3 else ""
        filled["item_id"] = ITEMS.get(family, "")
        url = fill(template, filled) + fill(QUERIES.get(key, ""), filled)
        headers = {**self.headers, "If-Match": "*"}
        if key in STREAMS:
            status, body = await stream_status(self.app, url, headers)
            return status, body.decode(), None
        body = body_of(key, filled, self.scene)
        if isinstance(body, str):
            answer = await self.client.request(
                method, url, content=body, headers={**headers, "Content-Type": "text/csv"}
            )
        else:
            answer = await self.client.request(method, url, json=body, headers=headers)
        return answer.status_code, answer.text, answer.headers


def in_call_order() -> list[str]:
    """Reads and writes first, deletions last (a deleted delegation takes its things with it)."""
    return sorted(MATRIX, key=lambda key: key.startswith("DELETE"))


def touches_b(key: str) -> bool:
    return any(part in key for part in ("{delegation_id}", "{request_id}"))


@pytest.fixture
async def app(pool: asyncpg.Pool) -> Litestar:
    return create_app(pool, admin_token=ADMIN_TOKEN)


@pytest.fixture
async def scene(client: httpx.AsyncClient, pool: asyncpg.Pool) -> AsyncIterator[Scene]:
    made = await published_scene(client, pool)
    yield made
    await tidy(pool, made.world.forum_id)


@pytest.fixture
async def unpublished(client: httpx.AsyncClient, pool: asyncpg.Pool) -> AsyncIterator[Scene]:
    made = await make_scene(client, pool)
    yield made
    await tidy(pool, made.world.forum_id)


async def statuses(caller: Caller, whose: str, keys: list[str]) -> dict[str, tuple[int, str]]:
    found = {}
    for key in keys:
        status, text, _ = await caller.call(key, whose)
        found[key] = (status, text)
    return found


async def test_the_organiser_reaches_its_forum(client: httpx.AsyncClient, app: Litestar, scene: Scene) -> None:
    found = await statuses(Caller(client, app, scene, scene.world.organiser), B, in_call_order())
    wrong = {key: (status, text[:200]) for key, (status, text) in found.items() if status != MATRIX[key][0]}
    assert wrong == {}


async def test_delegation_a_on_its_own_things(client: httpx.AsyncClient, app: Litestar, scene: Scene) -> None:
    found = await statuses(Caller(client, app, scene, scene.world.tokens[A]), A, in_call_order())
    wrong = {key: (status, text[:200]) for key, (status, text) in found.items() if status != MATRIX[key][1]}
    assert wrong == {}
    leaks = {key: secret for key, (_, text) in found.items() for secret in scene.b_secrets() if secret in text}
    assert leaks == {}


def unnamed(text: str, named: dict[str, str]) -> dict[str, Any]:
    """The problem with the path values the caller sent replaced by their names (echoing them tells nothing)."""
    problem = json.loads(text)
    problem.pop("instance")  # the path asked for
    for name in ("participant_id", "request_id", "webhook_id", "delegation_id"):
        value = rf"\b{re.escape(named[name])}\b"
        problem["detail"] = re.sub(value, f"<{name}>", problem["detail"])
        for error in problem.get("errors", []):  # a 404 names its path parameter, with the value sent
            error["message"] = re.sub(value, f"<{name}>", error["message"])
    return problem


async def test_delegation_a_gets_404_for_b_and_learns_nothing(
    client: httpx.AsyncClient, app: Litestar, scene: Scene
) -> None:
    """A's answer about B's thing is the answer about a thing that does not exist."""
    keys = [key for key in in_call_order() if touches_b(key)]
    caller = Caller(client, app, scene, scene.world.tokens[A])
    for key in keys:
        status, text, _ = await caller.call(key, B)
        assert status == 404, (key, status, text)
        b_named = values(scene, B)
        nothing = await caller.call(key, NOBODY)
        assert nothing[0] == 404, key
        assert unnamed(text, b_named) == unnamed(nothing[1], values(scene, NOBODY)), key
    listed = (await client.get(f"{scene.world.base}/requests", headers=scene.world.tokens[A])).json()
    assert {request["id"] for request in listed} == {scene.request_a, scene.meeting_a}
    # By pages of one: A's own, each page full until the last; a page after B's request is one after nothing.
    pages: list[list[str]] = []
    url: str | None = f"{scene.world.base}/requests?limit=1"
    while url:
        answer = await client.get(url, headers=scene.world.tokens[A])
        pages.append([request["id"] for request in answer.json()])
        url = answer.links.get("next", {}).get("url")
    assert sorted(map(tuple, pages)) == sorted([(scene.request_a,), (scene.meeting_a,)])
    after_b = await client.get(f"{scene.world.base}/requests?after={scene.request_b}", headers=scene.world.tokens[A])
    after_none = await client.get(f"{scene.world.base}/requests?after=m-0123456789", headers=scene.world.tokens[A])
    assert after_b.status_code == after_none.status_code == 422
    assert after_b.text.replace(scene.request_b, "<id>") == after_none.text.replace("m-0123456789", "<id>")


async def test_no_token_is_401_with_a_problem(client: httpx.AsyncClient, app: Litestar, scene: Scene) -> None:
    caller = Caller(client, app, scene, {})
    for key in in_call_order():
        status, text, headers = await caller.call(key, B)
        assert status == 401, (key, status, text)
        if headers is not None:
            assert headers["content-type"] == "application/problem+json", key
            assert headers["www-authenticate"].startswith("Bearer"), key


async def test_another_forum_sees_nothing_of_this_one(client: httpx.AsyncClient, app: Litestar, scene: Scene) -> None:
    other = await make_world(client)
    for headers in (other.organiser, other.tokens[A]):
        found = await statuses(Caller(client, app, scene, headers), B, in_call_order())
        expected = {key: OTHER_FORUM.get(key, 404 if "{forum_id}" in key else 403) for key in MATRIX}
        wrong = {key: (status, text[:120]) for key, (status, text) in found.items() if status != expected[key]}
        assert wrong == {}


async def test_public_routes_answer_without_a_token(client: httpx.AsyncClient, scene: Scene) -> None:
    for path in ("/health", "/health/ready", "/schema/openapi.json", "/schema", "/schema/swagger", "/grid", "/agenda"):
        assert (await client.get(path)).status_code == 200, path
    feed = await client.get(f"/calendar/{scene.feed_key}")
    assert feed.status_code == 200 and feed.text.count("BEGIN:VEVENT") == 1  # A's one published meeting
    assert not [secret for secret in scene.b_secrets() if secret in feed.text]
    assert (await client.get(f"/calendar/x{scene.feed_key}")).status_code == 404
    assert (await client.get("/calendar/nothing")).status_code == 404
    assert (await client.get("/static/grid.css")).status_code == 200


async def test_the_admin_token_creates_forums_and_nothing_else(
    client: httpx.AsyncClient, app: Litestar, scene: Scene
) -> None:
    admin = bearer(ADMIN_TOKEN)
    assert (await client.post("/forums", json=FORUM_BODY, headers=admin)).status_code == 201
    caller = Caller(client, app, scene, admin)
    for key in in_call_order():
        if "{forum_id}" in key:
            status, text, _ = await caller.call(key, B)
            assert status == 404, (key, status, text)


async def test_a_grid_is_confidential_until_published_then_each_sees_its_own(
    client: httpx.AsyncClient, unpublished: Scene
) -> None:
    scene = unpublished  # two stored versions, none published
    world, first = scene.world, scene.versions[0]
    for delegation in (A, B):
        headers = world.tokens[delegation]
        assert (await client.get(f"{world.base}/delegations/{delegation}/agenda", headers=headers)).status_code == 404
        calendar = await client.get(f"{world.base}/delegations/{delegation}/calendar", headers=headers)
        assert calendar.status_code == 200 and "BEGIN:VEVENT" not in calendar.text
        for path in ("", "/grid.csv", "/grid.xlsx", f"/diff/{scene.versions[1]}"):
            assert (await client.get(f"{world.base}/schedules/{first}{path}", headers=headers)).status_code == 404
    assert "BEGIN:VEVENT" not in (await client.get(f"/calendar/{scene.feed_key}")).text
    published = await client.post(f"{world.base}/schedules/{first}/publish", headers=world.organiser)
    assert published.status_code == 200, published.text
    for delegation, own in ((A, scene.meeting_a), (B, scene.meeting_b)):
        headers = world.tokens[delegation]
        agenda = await client.get(f"{world.base}/delegations/{delegation}/agenda", headers=headers)
        assert agenda.status_code == 200, agenda.text
        assert [meeting["meeting"] for meeting in agenda.json()["meetings"]] == [own]
        assert (await client.get(f"{world.base}/schedules/{first}", headers=headers)).status_code == 404
    agenda_a = await client.get(f"{world.base}/delegations/{A}/agenda", headers=world.tokens[A])
    calendar_a = await client.get(f"{world.base}/delegations/{A}/calendar", headers=world.tokens[A])
    assert calendar_a.text.count("BEGIN:VEVENT") == 1
    for text in (agenda_a.text, calendar_a.text):
        assert not [secret for secret in scene.b_secrets() if secret in text]
        assert B not in text  # B's meeting is with C: nothing A attends names B


async def test_b_webhook_under_a_own_path_is_404(client: httpx.AsyncClient, scene: Scene) -> None:
    """A's own delegation path with B's webhook id: the id alone must not reach B's webhook.
    Webhooks are numbered per delegation, so B's number names A's own webhook there, if any."""
    own = f"{scene.world.base}/delegations/{A}/webhooks"
    headers = {**scene.world.tokens[A], "If-Match": "*"}
    assert scene.hooks[B] == scene.hooks[A] == 1  # each delegation's first
    for method, suffix, status in (("GET", "/deliveries", 200), ("DELETE", "", 204)):
        answers = [
            await client.request(method, f"{own}/{hook}{suffix}", headers=headers)
            for hook in (scene.hooks[B], 987654321)
        ]
        assert [answer.status_code for answer in answers] == [status, 404], method
        assert B_HOOK not in answers[0].text
    assert (await client.get(own, headers=scene.world.tokens[A])).json() == []  # A's own went
    listed = await client.get(f"{scene.world.base}/delegations/{B}/webhooks", headers=scene.world.tokens[B])
    assert [hook["url"] for hook in listed.json()] == [B_HOOK]  # still there


# ---- the OpenAPI document's tokens, held to what the routes answer

KINDS = ("admin", "organiser", "delegation")  # the document's security schemes, one per kind of token
# A refusal. Every path value below names something the scene made (each creation is asserted),
# so a 404 is never absence here: it is the route hiding what it names from this token, as it
# hides another forum from the admin, every whole grid from a delegation, or B's things from A.
REFUSED = (401, 403, 404)


def documented_tokens(document: dict[str, Any]) -> dict[str, tuple[set[str], bool]]:
    """Each operation's kinds of token as the document lists them, and whether its description
    limits a delegation to its own resources."""
    found = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "put", "post", "patch", "delete"):
                kinds = {name for requirement in operation["security"] for name in requirement}
                assert all(len(requirement) == 1 for requirement in operation["security"]), (method, path)
                found[f"{method.upper()} {path}"] = (kinds, OWN_ONLY in (operation.get("description") or ""))
    return found


async def test_the_document_lists_exactly_the_tokens_each_route_accepts(
    client: httpx.AsyncClient, app: Litestar, scene: Scene
) -> None:
    """Every route, called with each kind of token on what that kind may reach if anything: the admin
    and the organiser on B's things (any delegation's, to the organiser), delegation A on its own.
    The kinds the document lists are exactly those not refused. Where it lists delegations and its
    description says "Own resources only", A on B's things must answer 404; where it does not, they
    must not (routes whose path names no delegation's thing have nothing to tell apart)."""
    documented = documented_tokens(app.openapi_schema.to_schema())
    assert set(app.openapi_schema.to_schema()["components"]["securitySchemes"]) == set(KINDS)
    in_document = set(PUBLIC) & set(documented)
    assert set(documented) == set(MATRIX) | in_document  # every route the app documents is called here
    # Public routes need no token and say so: `security: []`.
    assert in_document == {"GET /health", "GET /health/ready", "GET /calendar/{feed}"}
    for key in sorted(in_document):
        assert documented[key] == (set(), False), key
        answer = await client.get(fill(key.split(" ", 1)[1], {"feed": scene.feed_key}))
        assert answer.status_code == 200, (key, answer.text)
    # A's own request to withdraw and edit: request_a is C's and A's meeting arranged by the organiser.
    made = await client.post(
        f"{scene.world.base}/requests", json={"parties": [A, C], "duration_minutes": 30}, headers=scene.world.tokens[A]
    )
    assert made.status_code == 201, made.text
    own_values = {
        f"{method} {F}/requests/{{request_id}}{tail}": {"request_id": made.json()["id"]}
        for method, tail in (("POST", "/withdraw"), ("PATCH", ""))
    }
    admin = Caller(client, app, scene, bearer(ADMIN_TOKEN))
    organiser = Caller(client, app, scene, scene.world.organiser)
    delegation = Caller(client, app, scene, scene.world.tokens[A])
    wrong = {}
    for key in in_call_order():  # refused calls change nothing, so they go first on each route
        kinds, own_only = documented[key]
        assert kinds, f"{key}: a route that needs a token lists none"
        answers = {"admin": (await admin.call(key, A))[0]}
        on_b = (await delegation.call(key, B))[0] if touches_b(key) else None
        answers["delegation"] = (await delegation.call(key, A, own_values.get(key)))[0]
        answers["organiser"] = (await organiser.call(key, B))[0]
        accepted = {kind for kind, status in answers.items() if status not in REFUSED}
        limited = "delegation" in accepted and on_b == 404
        if accepted != kinds or own_only != limited:
            wrong[key] = {"documented": (sorted(kinds), own_only), "answers": answers, "A on B's": on_b}
    assert wrong == {}
