"""Bad input on every route that takes a body, a path value or a query: a 4xx problem naming
the field, never a 500, and nothing stored changes.

The routes and valid bodies come from the authorization matrix (tests/test_api_matrix.py),
so a new route with a body is swept here as soon as the matrix names it. Besides the fixed
sweeps, hypothesis replaces the fields of each valid body with arbitrary JSON values for a
bounded number of examples: what it finds accepted is fine, anything else must be a 4xx
problem that stored nothing.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.app import create_app
from tests.authz_scene import A, B, Scene, published_scene, tidy
from tests.conftest import ADMIN_TOKEN, FORUM_BODY, bearer
from tests.test_api_matrix import ITEMS, MATRIX, QUERIES, STREAMS, body_of, fill, in_call_order, stream_status, values

pytestmark = pytest.mark.anyio

PROBLEM = "application/problem+json"


@pytest.fixture
async def scene(client: httpx.AsyncClient, pool: asyncpg.Pool) -> AsyncIterator[Scene]:
    made = await published_scene(client, pool)
    yield made
    await tidy(pool, made.world.forum_id)


async def snapshot(pool: asyncpg.Pool, forum_id: str) -> dict[str, str]:
    """A digest of every row of the forum, per table (one round trip)."""
    async with pool.acquire() as connection:
        tables = await connection.fetch(
            "SELECT table_name FROM information_schema.columns"
            " WHERE table_schema = 'public' AND column_name = 'forum_id' ORDER BY table_name"
        )
        parts = [
            f"SELECT '{row['table_name']}' AS name, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
            f' AS digest FROM "{row["table_name"]}" t WHERE forum_id = $1'
            for row in tables
        ]
        parts.append("SELECT 'forums', md5(t::text) FROM forums t WHERE id = $1")
        rows = await connection.fetch(" UNION ALL ".join(parts), UUID(forum_id))
    return {row["name"]: row["digest"] for row in rows}


class Target:
    """One route as its rightful caller (the organiser on B's things, or A on its own) calls it."""

    def __init__(self, scene: Scene, key: str) -> None:
        self.key = key
        self.method, template = key.split(" ", 1)
        organiser_may = MATRIX[key][0] < 400 or MATRIX[key][0] == 409
        whose = B if organiser_may else A
        self.headers = {
            **(scene.world.organiser if organiser_may else scene.world.tokens[A]),
            "If-Match": "*",
        }
        self.values = values(scene, whose)
        self.values["meeting"] = scene.meeting_b
        family = template.split("/")[3] if template.count("/") >= 3 else ""
        self.values["item_id"] = ITEMS.get(family, "")
        self.template = template
        self.body = body_of(key, self.values, scene)

    def url(self, **changed: str) -> str:
        filled = {**self.values, **changed}
        return fill(self.template, filled) + fill(QUERIES.get(self.key, ""), filled)


def json_targets(scene: Scene) -> list[Target]:
    """Every forum route with a JSON object body (the admin's routes are tested in test_api_http)."""
    found = [Target(scene, key) for key in in_call_order() if "{forum_id}" in key]
    return [target for target in found if isinstance(target.body, dict)]


class Checked:
    """Sends bad input and checks each answer; `stored` fails unless nothing stored changed."""

    def __init__(self, client: httpx.AsyncClient, pool: asyncpg.Pool, scene: Scene) -> None:
        self.client, self.pool, self.forum_id = client, pool, scene.world.forum_id
        self.faults: list[tuple[str, str, int, str]] = []

    async def send(self, target: Target, label: str, url: str | None = None, **request: Any) -> httpx.Response:
        """The answer; when it refuses, it must be a 4xx problem that stored nothing."""
        before = await snapshot(self.pool, self.forum_id)
        answer = await self.client.request(
            target.method, url or target.url(), headers={**target.headers, **request.pop("headers", {})}, **request
        )
        if answer.status_code >= 400:
            if not (answer.status_code < 500 and answer.headers.get("content-type") == PROBLEM):
                self.faults.append((target.key, label, answer.status_code, answer.text[:160]))
            if await snapshot(self.pool, self.forum_id) != before:
                self.faults.append((target.key, label, answer.status_code, "refused, yet stored something"))
        return answer

    async def refused(self, target: Target, label: str, url: str | None = None, **request: Any) -> httpx.Response:
        answer = await self.send(target, label, url, **request)
        if answer.status_code < 400:
            self.faults.append((target.key, label, answer.status_code, "accepted"))
        return answer

    def names(self, target: Target, label: str, answer: httpx.Response, field: str) -> None:
        """The problem names `field` (in an `errors` entry or its detail)."""
        problem = answer.json() if answer.headers.get("content-type") == PROBLEM else {}
        fields = [error["field"] for error in problem.get("errors", [])]
        if not any(field in named for named in fields) and field not in problem.get("detail", ""):
            self.faults.append((target.key, f"{label}: {field} not named", answer.status_code, answer.text[:160]))


async def test_malformed_and_misshapen_bodies(client: httpx.AsyncClient, pool: asyncpg.Pool, scene: Scene) -> None:
    check = Checked(client, pool, scene)
    as_json = {"Content-Type": "application/json"}
    for target in json_targets(scene):
        await check.refused(target, "malformed", content=b'{"name": ', headers=as_json)
        await check.refused(target, "not JSON", content=b"\xff\xfe", headers=as_json)
        await check.refused(target, "not UTF-8", content=b'{"name": "\xff"}', headers=as_json)
        await check.refused(target, "too deep", content=b"[" * 100_000 + b"]" * 100_000, headers=as_json)
        shapes: tuple[object, ...] = ([], "text", 7, None)
        for shape in shapes:
            if target.body or shape is not None:  # a body of only optional fields takes null as {}
                await check.refused(target, f"body {shape!r}", content=repr(shape).encode(), headers=as_json)
        unknown = await check.refused(target, "unknown field", json={**target.body, "zz_unknown": 1})
        check.names(target, "unknown field", unknown, "zz_unknown")
        for field, value in target.body.items():
            if field == "id":  # an id is matched against the path: missing, it is the path's
                continue
            missing = {name: kept for name, kept in target.body.items() if name != field}
            answer = await check.send(target, f"missing {field}", json=missing)
            if answer.status_code >= 400:  # optional fields may go
                check.names(target, f"missing {field}", answer, field)
            wrong = {**target.body, field: {"not": ["a", value]}}
            check.names(target, f"{field} wrong type", await check.refused(target, f"{field} type", json=wrong), field)
    assert check.faults == []


async def test_empty_and_byte_order_marked_bodies(client: httpx.AsyncClient, pool: asyncpg.Pool, scene: Scene) -> None:
    """An empty body was `$: 'data'` and a malformed one named no field; a leading BOM (Windows
    tools write one; RFC 8259 lets a parser ignore it) was refused as malformed JSON."""
    check = Checked(client, pool, scene)
    as_json = {"Content-Type": "application/json"}
    for target in json_targets(scene):
        for label, content in (("empty", b""), ("blank", b" \r\n"), ("only a BOM", b"\xef\xbb\xbf")):
            if target.key == "POST /forums/{forum_id}/runs":
                continue  # its body is optional: none means the defaults (tests/test_api_runs.py)
            answer = await check.refused(target, label, content=content, headers=as_json)
            problem = answer.json()
            if (problem.get("errors"), problem.get("detail")) != (
                [{"field": "$", "message": "empty: send a JSON object"}],
                "$: the body is empty: send a JSON object",
            ):
                check.faults.append((target.key, label, answer.status_code, answer.text[:160]))
        malformed = await check.refused(target, "malformed", content=b'{"name": ', headers=as_json)
        if [error["field"] for error in malformed.json().get("errors", [])] != ["$"]:
            check.faults.append((target.key, "malformed", malformed.status_code, malformed.text[:160]))
    assert check.faults == []
    world, org = scene.world, scene.world.organiser
    body = b"\xef\xbb\xbf" + json.dumps({"id": "V8", "name": "Tent \u00e9"}).encode()
    answer = await client.post(f"{world.base}/venues", content=body, headers={**org, **as_json})
    assert answer.status_code == 201, answer.text
    assert answer.json()["name"] == "Tent \u00e9"
    nul = b"\xef\xbb\xbf" + json.dumps({"id": "V9", "name": "Tent\u0000"}).encode()
    answer = await client.post(f"{world.base}/venues", content=nul, headers={**org, **as_json})
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "name"


async def test_a_lone_surrogate_escape_is_named_not_called_truncated(
    client: httpx.AsyncClient, pool: asyncpg.Pool, scene: Scene
) -> None:
    """msgspec called a \\ud800 escape without its low half "Input data was truncated"."""
    check = Checked(client, pool, scene)
    as_json = {"Content-Type": "application/json"}
    fault = "invalid text: \\ud800 (byte 10) is half of a UTF-16 surrogate pair, not a character"
    for target in json_targets(scene):
        answer = await check.refused(target, "lone surrogate", content=rb'{"name": "\ud800"}', headers=as_json)
        problem = answer.json()
        if (problem.get("errors"), problem.get("detail")) != ([{"field": "$", "message": fault}], f"$: {fault}"):
            check.faults.append((target.key, "lone surrogate", answer.status_code, answer.text[:160]))
    assert check.faults == []
    world, org = scene.world, scene.world.organiser
    for venue, name, stored in (("V8", rb"\ud83d\ude00", "\U0001f600"), ("V9", rb"\\ud800", "\\ud800")):
        body = b'{"id": "%s", "name": "%s"}' % (venue.encode(), name)
        answer = await client.post(f"{world.base}/venues", content=body, headers={**org, **as_json})
        assert answer.status_code == 201 and answer.json()["name"] == stored, answer.text


async def test_dates_at_the_calendars_ends_are_refused_naming_the_field(
    client: httpx.AsyncClient, pool: asyncpg.Pool, scene: Scene
) -> None:
    """A forum deadline in year 1 or 9999 was a 500 (PostgreSQL cannot store it once moved to UTC);
    a session, window or arrival there was stored, and every solve then failed on it."""
    world, org = scene.world, scene.world.organiser
    before = await snapshot(pool, world.forum_id)
    first, last = "0001-01-01T00:00:00", "9999-12-31T23:59:59"
    cases = [
        ("PATCH", world.base, {**org, "If-Match": "*"}, {"request_deadline": first}, "request_deadline"),
        ("PATCH", world.base, {**org, "If-Match": "*"}, {"request_deadline": last + "-05:00"}, "request_deadline"),
        ("POST", f"{world.base}/sessions", org, {"id": "S9", "name": "x", "start": first, "end": last}, "start"),
        (
            "POST",
            f"{world.base}/requests",
            world.tokens[A],
            {"parties": [A, B], "duration_minutes": 30, "preferred": [{"start": first, "end": last}]},
            "preferred[0].start",
        ),
        (
            "POST",
            f"{world.base}/delegations/{A}/participants",
            world.tokens[A],
            {"id": "p9", "name": "x", "arrival": last},
            "arrival",
        ),
    ]
    for method, url, headers, body, field in cases:
        answer = await client.request(method, url, json=body, headers=headers)
        assert answer.status_code == 422, (url, answer.text)
        assert {"field": field, "message": "must be between the years 2 and 9998"} in answer.json()["errors"]
    assert await snapshot(pool, world.forum_id) == before
    created = await client.post("/forums", json={**FORUM_BODY, "request_deadline": first}, headers=bearer(ADMIN_TOKEN))
    assert created.status_code == 422 and created.json()["errors"][0]["field"] == "request_deadline", created.text


async def test_dot_segments_are_no_ids(client: httpx.AsyncClient, pool: asyncpg.Pool, scene: Scene) -> None:
    """A room ".." was stored, and `/rooms/..` then meant the forum itself to every URL client."""
    world, org = scene.world, scene.world.organiser
    before = await snapshot(pool, world.forum_id)
    rule = "must be 1 to 64 letters, digits, '_', '.' or '-', other than '.' and '..'"
    for room in (".", ".."):
        answer = await client.post(f"{world.base}/rooms", json={"id": room, "name": "x", "seats": 4}, headers=org)
        assert answer.status_code == 400 and answer.json()["errors"] == [{"field": "id", "message": rule}], answer.text
    csv = "id,name,country\n..,Dots,NZ\n"
    answer = await client.post(
        f"{world.base}/import/delegations", content=csv, headers={**org, "Content-Type": "text/csv"}
    )
    assert answer.status_code == 422 and answer.json()["errors"][0]["message"] == rule, answer.text
    assert await snapshot(pool, world.forum_id) == before
    kept = await client.post(f"{world.base}/rooms", json={"id": "...", "name": "x", "seats": 4}, headers=org)
    assert kept.status_code == 201, kept.text  # three dots are a name like any other


OUT_OF_RANGE = [-1, 0, 2**31, 2**63, 10**30, 1e300, "", "x" * 100_000, "\x00"]


async def test_out_of_range_values_are_refused_by_field(
    client: httpx.AsyncClient, pool: asyncpg.Pool, scene: Scene
) -> None:
    """Each field set to values no field accepts in full: what is refused names the field."""
    check = Checked(client, pool, scene)
    for target in json_targets(scene):
        for field, valid in target.body.items():
            for value in OUT_OF_RANGE:
                if isinstance(valid, str) != isinstance(value, str) or (field == "id" and value == ""):
                    continue
                label = f"{field}={str(value)[:12]!r}"
                answer = await check.send(target, label, json={**target.body, field: value})
                if answer.status_code >= 400:  # a long name may be fine: then it is stored, by design
                    check.names(target, label, answer, field)
    assert check.faults == []


def _lax_readings(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(field path, stand-in) for each number and boolean of a valid body: values msgspec's lax
    mode read as the number or boolean meant (text, a whole float, 1 for true, text for true)."""
    if isinstance(value, bool):
        yield from ((path, stand_in) for stand_in in (str(value).lower(), int(value)))
    elif isinstance(value, int):
        yield from ((path, stand_in) for stand_in in (str(value), float(value)))
    elif isinstance(value, float):
        yield path, repr(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _lax_readings(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _lax_readings(item, f"{path}[{index}]")


def _replaced(value: Any, path: str, stand_in: Any) -> Any:
    """`value` (a JSON body) with the value at `path` (as `_lax_readings` names it) replaced."""
    if isinstance(value, dict):
        key, dot, rest = path.partition(".")
        key, bracket, index = key.partition("[")
        inner = f"[{index}{dot}{rest}" if bracket else rest
        return {k: (_replaced(v, inner, stand_in) if k == key else v) for k, v in value.items()}
    if isinstance(value, list) and path.startswith("["):
        index, _, rest = path[1:].partition("]")
        rest = rest.removeprefix(".")
        return [_replaced(v, rest, stand_in) if i == int(index) else v for i, v in enumerate(value)]
    return stand_in


async def test_numbers_and_booleans_are_not_read_from_text(
    client: httpx.AsyncClient, pool: asyncpg.Pool, scene: Scene
) -> None:
    """Litestar converts bodies in msgspec's lax mode: {"time_limit": "10"} started a run of 10 s,
    "true" or 1 was true, 30.0 the whole number 30. Each number and boolean of each route's valid
    body, replaced so: a 400 naming that field, and nothing stored."""
    check = Checked(client, pool, scene)
    swept = 0
    for target in json_targets(scene):
        for path, stand_in in _lax_readings(target.body):
            label = f"{path}={stand_in!r}"
            answer = await check.refused(target, label, json=_replaced(target.body, path, stand_in))
            swept += 1
            fields = [error["field"] for error in answer.json().get("errors", [])] if answer.content else []
            if answer.status_code != 400 or fields != [path]:
                check.faults.append((target.key, label, answer.status_code, answer.text[:160]))
    assert check.faults == []
    assert swept >= 10  # the bodies hold numbers and booleans to sweep (run options, seats, durations ...)


async def test_oversized_body_is_413(client: httpx.AsyncClient, pool: asyncpg.Pool, scene: Scene) -> None:
    check = Checked(client, pool, scene)
    before = await snapshot(pool, scene.world.forum_id)
    target = Target(scene, "POST /forums/{forum_id}/delegations")
    answer = await check.refused(target, "11 MB", json={**target.body, "name": "x" * 11_000_000})
    assert answer.status_code == 413
    csv = Target(scene, "POST /forums/{forum_id}/import/{kind}")
    one_huge_cell = "id,name,country\nNZL," + "x" * 200_000 + ",NZ\n"
    answer = await check.refused(csv, "huge cell", content=one_huge_cell, headers={"Content-Type": "text/csv"})
    assert answer.status_code == 422 and "row 2" in answer.text  # was a 500: the csv module's field limit
    assert check.faults == []
    assert await snapshot(pool, scene.world.forum_id) == before


PATH_VALUES = {
    "int": ["abc", "-1", "0", "2147483648", "99999999999999999999", "1.5"],
    "str": ["%00", "x" * 3000, "%C3%28", "nobody"],
}


async def test_invalid_path_values(client: httpx.AsyncClient, pool: asyncpg.Pool, scene: Scene) -> None:
    """Each path value of each route, replaced by ids that name nothing: 4xx, never 500."""
    check = Checked(client, pool, scene)
    before = await snapshot(pool, scene.world.forum_id)
    int_values = {"version", "other", "run_id", "webhook_id"}
    for key in in_call_order():
        if key in STREAMS or "{forum_id}" not in key:
            continue
        target = Target(scene, key)
        content = target.body if isinstance(target.body, str) else None
        body = None if content is not None else target.body
        for name in [name for name in target.values if f"{{{name}}}" in target.template and name != "forum_id"]:
            for value in PATH_VALUES["int" if name in int_values else "str"]:
                await check.refused(target, f"{name}={value[:12]}", url=target.url(**{name: value}), json=body)
    assert check.faults == []
    assert await snapshot(pool, scene.world.forum_id) == before


async def test_nul_and_overflow_regressions(client: httpx.AsyncClient, pool: asyncpg.Pool, scene: Scene) -> None:
    """Each was a 500 from PostgreSQL or asyncpg before api/input_checks.py and the bounded ints."""
    world, org = scene.world, scene.world.organiser
    nul_name = await client.post(f"{world.base}/venues", json={"id": "V7", "name": "Tent\x00"}, headers=org)
    assert nul_name.status_code == 400 and nul_name.json()["errors"][0]["field"] == "name"
    nested = {"parties": [A, "JPN"], "duration_minutes": 30, "title": "x\x00"}
    answer = await client.post(f"{world.base}/requests", json=nested, headers=world.tokens[A])
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "title"
    in_path = await client.get(f"{world.base}/rooms/R%001", headers=org)
    assert in_path.status_code == 400 and in_path.json()["errors"][0]["field"] == "path:item_id"
    csv = "id,name,country\nNZL,New\x00Zealand,NZ\n"
    raw = await client.post(
        f"{world.base}/import/delegations", content=csv, headers={**org, "Content-Type": "text/csv"}
    )
    assert raw.status_code == 400
    seats = await client.post(f"{world.base}/rooms", json={"id": "R7", "name": "R", "seats": 2**40}, headers=org)
    assert seats.status_code == 400 and seats.json()["errors"][0]["field"] == "seats"
    huge = await client.get(f"{world.base}/schedules/99999999999", headers=org)
    assert huge.status_code == 404 and huge.json()["detail"] == "no schedule version 99999999999"
    after = await client.get(f"{world.base}/audit?after={10**30}", headers=org)
    assert after.status_code == 400 and after.json()["errors"][0]["field"] == "query:after"
    events = f"{world.base}/delegations/{A}/events"
    app = create_app(pool, admin_token=ADMIN_TOKEN)
    status, body = await stream_status(app, events, {**world.tokens[A], "Last-Event-ID": str(10**30)})
    assert status == 422 and b"Last-Event-ID" in body


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def fuzzed_bodies(valid: dict[str, Any], count: int) -> list[dict[str, Any]]:
    """`count` variants of `valid` with some fields replaced by arbitrary JSON, the same every run.

    Hypothesis only generates here (derandomized, no shrinking): the requests are sent by the
    async test, on the event loop the pool lives on.
    """
    found: list[dict[str, Any]] = []

    @settings(max_examples=count, deadline=None, derandomize=True, database=None)
    @given(data=st.data())
    def collect(data: st.DataObject) -> None:
        chosen = data.draw(st.lists(st.sampled_from(sorted(valid)), min_size=1, max_size=len(valid), unique=True))
        found.append({**valid, **{field: data.draw(JSON_VALUES, label=field) for field in chosen}})

    collect()
    return found


async def test_fuzzed_bodies_never_crash_nor_half_store(
    client: httpx.AsyncClient, pool: asyncpg.Pool, scene: Scene
) -> None:
    check = Checked(client, pool, scene)
    for target in [target for target in json_targets(scene) if target.body]:
        for body in fuzzed_bodies(target.body, 12):
            await check.send(target, repr(body)[:120], json=body)
    assert check.faults == []


async def test_bad_queries_name_the_parameter(client: httpx.AsyncClient, pool: asyncpg.Pool, scene: Scene) -> None:
    """Each names the parameter and says what it must be: a query value is always text, so
    msgspec's "Expected `int`, got `str`" said neither, and a missing one named no field."""
    world, org = scene.world, scene.world.organiser
    after, limit = "must be an integer from 0 to 9223372036854775807", "must be an integer from 1 to 1000"
    fit, k = f"/fit?meeting={scene.meeting_b}", "must be an integer from 1 to 50"
    cases = {
        "/audit?after=-1": ("query:after", after),
        "/audit?after=abc": ("query:after", after),
        f"/audit?after={10**30}": ("query:after", after),
        "/audit?limit=0": ("query:limit", limit),
        "/audit?limit=abc": ("query:limit", limit),
        "/audit?limit=1.5": ("query:limit", limit),
        "/audit?limit=1001": ("query:limit", limit),
        "/fit": ("query:meeting", "required"),
        "/fit?meeting=nope": ("query:meeting", "unknown meeting 'nope'"),
        f"{fit}&k=0": ("query:k", k),
        f"{fit}&k={10**20}": ("query:k", k),
        f"{fit}&k=x": ("query:k", k),
        f"{fit}&moves=maybe": ("query:moves", "must be true or false"),
        "/problem?changes=maybe": ("query:changes", "must be true or false"),
        f"/schedules/{scene.versions[0]}/grid.csv?layout=pdf": ("query:layout", "must be one of grid, list"),
        "/rooms?x=%00": ("query:x", "contains U+0000"),
    }
    before = await snapshot(pool, world.forum_id)
    for query, (field, message) in cases.items():
        answer = await client.get(world.base + query, headers=org)
        assert 400 <= answer.status_code < 500 and answer.headers["content-type"] == PROBLEM, (query, answer.text)
        problem = answer.json()
        assert problem["errors"] == [{"field": field, "message": message}], (query, answer.text)
        assert problem["detail"].startswith(f"{field}: "), (query, answer.text)
    assert await snapshot(pool, world.forum_id) == before


async def test_bad_page_values_name_the_parameter(client: httpx.AsyncClient, pool: asyncpg.Pool, scene: Scene) -> None:
    """Every paged list (api/paging.py) says which of `after` and `limit` is wrong, and what it must be."""
    world = scene.world
    after, limit = "must be an integer from 0 to 9223372036854775807", "must be an integer from 1 to 1000"
    request_after = "must be text from 1 to 64 characters"
    hook = f"/delegations/{A}/webhooks/{scene.hooks[A]}/deliveries"
    numbered = ["/audit", "/changes", "/schedules", "/publications", hook]
    cases: dict[str, tuple[int, str, str]] = {}
    for path in [*numbered, "/requests"]:
        for value in ("0", "1001", "abc", "1.5", "-1", str(10**30), ""):
            cases[f"{path}?limit={value}"] = (400, "query:limit", limit)
    for path in numbered:
        for value in ("-1", "abc", "1.5", str(10**30), ""):
            cases[f"{path}?after={value}"] = (400, "query:after", after)
    for value in ("", "m" * 65):
        cases[f"/requests?after={value}"] = (400, "query:after", request_after)
    cases["/requests?after=nope"] = (422, "query:after", "no request nope")
    cases[f"/requests?after={scene.request_b}"] = (422, "query:after", f"no request {scene.request_b}")
    before = await snapshot(pool, world.forum_id)
    for query, (status, field, message) in cases.items():
        headers = world.tokens[A] if query.startswith(("/delegations", "/requests?after=")) else world.organiser
        answer = await client.get(world.base + query, headers=headers)
        assert answer.status_code == status and answer.headers["content-type"] == PROBLEM, (query, answer.text)
        assert answer.json()["errors"] == [{"field": field, "message": message}], (query, answer.text)
        assert answer.json()["detail"] == f"{field}: {message}", (query, answer.text)
    assert await snapshot(pool, world.forum_id) == before


async def test_a_header_too_long_is_named_as_sent(client: httpx.AsyncClient, pool: asyncpg.Pool, scene: Scene) -> None:
    """It was named by the handler's argument (`header:idempotency_key`), in msgspec's words."""
    world, org = scene.world, scene.world.organiser
    before = await snapshot(pool, world.forum_id)
    key = {"Idempotency-Key": "k" * 201}
    answer = await client.post(f"{world.base}/venues", json={"id": "V9", "name": "x"}, headers={**org, **key})
    assert answer.status_code == 400, answer.text
    message = "must be text of at most 200 characters"
    assert answer.json()["errors"] == [{"field": "header:Idempotency-Key", "message": message}]
    assert answer.json()["detail"] == f"header:Idempotency-Key: {message}"
    assert await snapshot(pool, world.forum_id) == before


async def test_bad_headers(client: httpx.AsyncClient, pool: asyncpg.Pool, scene: Scene) -> None:
    world, org = scene.world, scene.world.organiser
    before = await snapshot(pool, world.forum_id)
    for tag in ("abc", '"99999999999999999999999"', 'W/"x"', '""', ",,,"):
        answer = await client.patch(world.base, json={"name": "X"}, headers={**org, "If-Match": tag})
        assert answer.status_code == 412 and answer.headers["content-type"] == PROBLEM, (tag, answer.text)
    long_key = {**org, "Idempotency-Key": "k" * 201}
    answer = await client.post(f"{world.base}/venues", json={"id": "V7", "name": "V"}, headers=long_key)
    assert answer.status_code == 400 and "idempotency" in answer.json()["errors"][0]["field"].lower()
    for value in ("Bearer", "Basic abc", "Bearer " + "x" * 10_000, "Bearer a b"):
        answer = await client.get(world.base, headers={"Authorization": value})
        assert answer.status_code == 401 and answer.headers["www-authenticate"].startswith("Bearer"), value
    assert await snapshot(pool, world.forum_id) == before
