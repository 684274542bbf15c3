"""The OpenAPI document an integrator reads at /schema/openapi.json says what the API does:
a summary per route, a description per parameter, and each error answer with the body
the API really sends (an RFC 9457 problem detail, not Litestar's own error shape)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import get

from api.app import create_app
from api.controllers.common import CallerDep
from api.controllers.requests import _own_party, _visible_request, accept_request
from api.errors import PROBLEM_JSON
from api.guards import OWN_ONLY, forum_member
from api.openapi import declare_tokens, guards_called

OPERATIONS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app(None).openapi_schema.to_schema()  # no request is served


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in OPERATIONS:
            if method in item:
                yield path, method.upper(), item[method]


def test_every_route_has_a_summary_and_every_parameter_a_description(document: dict[str, Any]) -> None:
    missing = [
        f"{method} {path} {where}"
        for path, method, operation in _operations(document)
        for where in (
            ["summary"] * (not operation.get("summary"))
            + [p["name"] for p in operation.get("parameters", []) if not p.get("description")]
        )
    ]
    assert missing == []


def test_every_path_parameter_is_declared(document: dict[str, Any]) -> None:
    for path, method, operation in _operations(document):
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"\{(\w+)\}", path)), f"{method} {path}"


def test_every_error_answer_is_a_problem_detail(document: dict[str, Any]) -> None:
    wrong = [
        f"{method} {path} {status}"
        for path, method, operation in _operations(document)
        for status, answer in operation["responses"].items()
        if (status.startswith("4") or (status == "503" and path != "/health/ready"))
        and (answer.get("content") or {}).get(PROBLEM_JSON, {}).get("schema")
        != {"$ref": "#/components/schemas/ProblemDetails"}
    ]
    assert wrong == []
    problem = document["components"]["schemas"]["ProblemDetails"]
    assert {"type", "title", "status", "detail", "errors"} <= set(problem["properties"])


def test_errors_are_declared_where_they_can_happen(document: dict[str, Any]) -> None:
    for path, method, operation in _operations(document):
        statuses = set(operation["responses"])
        if operation["security"]:  # a token is needed
            assert {"401", "403"} <= statuses, f"{method} {path}"
        if "{" in path:
            assert "404" in statuses, f"{method} {path}"
        if any(p["name"] == "If-Match" for p in operation.get("parameters", [])):
            assert {"412", "428"} <= statuses, f"{method} {path}"
        if "requestBody" in operation:
            assert {"400", "422"} <= statuses, f"{method} {path}"
        if path != "/health":  # every other route reads the database: a transient failure is a 503
            assert "503" in statuses, f"{method} {path}"
    fit = document["paths"]["/forums/{forum_id}/fit"]["get"]["responses"]
    assert {"409", "422"} <= set(fit)  # nothing published; an unknown meeting


def test_a_time_of_day_is_a_time_not_a_duration(document: dict[str, Any]) -> None:
    day = document["components"]["schemas"]["Day"]["properties"]
    assert day["start"]["format"] == "time" and day["end"]["format"] == "time"


def _body_schemas(document: dict[str, Any]) -> Iterator[str]:
    """Every schema a request body reaches, by name."""
    schemas = document["components"]["schemas"]
    pending = [
        reference
        for _, _, operation in _operations(document)
        for content in operation.get("requestBody", {}).get("content", {}).values()
        for reference in re.findall(r"#/components/schemas/(\w+)", str(content))
    ]
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name not in seen:
            seen.add(name)
            pending.extend(re.findall(r"#/components/schemas/(\w+)", str(schemas[name])))
    return iter(sorted(seen))


def test_every_body_field_has_a_description(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    missing = [
        f"{name}.{field}"
        for name in _body_schemas(document)
        for field, schema in schemas[name].get("properties", {}).items()
        if "description" not in schema and field != "kind"  # a change's tag: its value is the schema's name
    ]
    assert missing == []
    assert "Meeting" in set(_body_schemas(document))  # POST /forums/import's problem is walked too


def test_streams_and_the_csv_import_say_their_media_types(document: dict[str, Any]) -> None:
    paths = document["paths"]
    for stream in ("/forums/{forum_id}/runs/{run_id}/events", "/forums/{forum_id}/delegations/{delegation_id}/events"):
        assert list(paths[stream]["get"]["responses"]["200"]["content"]) == ["text/event-stream"], stream
    body = paths["/forums/{forum_id}/import/{kind}"]["post"]["requestBody"]
    assert list(body["content"]) == ["text/csv"] and body["required"]


def test_a_run_may_be_queued_without_a_body(document: dict[str, Any]) -> None:
    assert document["paths"]["/forums/{forum_id}/runs"]["post"]["requestBody"]["required"] is False


def test_a_route_that_takes_a_token_must_call_a_guard() -> None:
    """The document's `security` is read from the guards a handler calls: one that takes the
    caller and calls none would be documented as nothing, so the app refuses to start."""

    @get("/unguarded", summary="takes a token, checks nothing")
    async def unguarded(caller: CallerDep) -> None:
        return None

    with pytest.raises(TypeError, match="unguarded takes a token but calls no guard"):
        declare_tokens([unguarded])


def test_the_guards_are_found_through_helpers_and_nested_work() -> None:
    # accept_request calls a helper whose transaction (a nested function) reads the request
    # and checks the caller is a party: three guards, two of them out of the handler's sight.
    assert set(guards_called(accept_request.fn)) == {forum_member, _visible_request, _own_party}


def test_a_second_app_does_not_repeat_the_notes() -> None:
    """The handlers are module-level objects shared by every app made (tests make many)."""
    create_app(None)
    again = create_app(None).openapi_schema.to_schema()
    read = again["paths"]["/forums/{forum_id}/delegations/{delegation_id}"]["get"]
    assert read["description"].count(OWN_ONLY) == 1
    assert read["security"] == [{"organiser": []}, {"delegation": []}]
