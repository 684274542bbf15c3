"""What the OpenAPI document says beyond the handlers' own signatures.

Litestar declares one error answer by itself, a 400 whose body is its own
`{status_code, detail, extra}`, which this API never sends: every error is an RFC
9457 problem detail (api/errors.py). `declare_errors` gives each route the error
answers it can give, with that body, derived from what the route takes: a token
(401, 403), a path (404), a body or a query (400, 422), a change (409), If-Match
(412, 428), the database (503). `declare_tokens` gives each route the kinds of token it
accepts, derived from the guards its handler calls (`route_access`): one security scheme
per kind, and `security: []` where the handler takes no token. `TimeOfDaySchema` writes
a time of day as `format: time`, where Litestar would say `duration`; `event_stream` and
the two Operation classes say what the event streams answer and what the CSV import and
POST runs take, which Litestar cannot tell.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import time
from types import CodeType, FunctionType
from typing import Any

from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody, Schema, SecurityScheme
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType
from litestar.plugins import OpenAPISchemaPlugin
from litestar.typing import FieldDefinition

from api.errors import PROBLEM_JSON, ProblemDetails
from api.guards import ACCESS, OWN_ONLY, TOKEN_KINDS, Access, TokenKind

# Arguments that are not the client's input: dependencies and the request itself.
_NOT_INPUT = frozenset({"pool", "caller", "request", "state"})
_CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_PATH_PARAMETER = re.compile(r"\{(\w+)(?::\w+)?\}")

TIME_OF_DAY = "a time of day, 14:30 or 14:30:00, in the forum's time zone"
# A handler's `opt` key: statuses its signature does not tell (GET fit: a meeting
# in its query that is unknown, 422; nothing published yet, 409).
MORE_ERRORS = "more_errors"

ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "Malformed JSON, a wrong type or an unknown field in the body, or a bad path, query or header value; "
    "`errors` names each field",
    401: "No token, a malformed Authorization header, an unknown or revoked token, or a delegation's token of a "
    "closed forum; checked before the body is read",
    403: "A token of the wrong kind for this route (a delegation's where the organiser's is needed, or the other "
    "way round)",
    404: "No such forum, item or version (a path value of the wrong type too), or one this token may not see "
    "(another delegation's answers 404, as if it did not exist)",
    409: "The request conflicts with what is stored (it already exists, a version that cannot be published, a "
    "change that would make stored data invalid, a delegation's webhooks at their limit, any change to a closed "
    "forum); `detail` says which",
    410: "The forum is closed: its calendar feeds have ended",
    412: "If-Match is not the item's current ETag: it changed since you read it",
    422: "Well-formed, but wrong for this forum (an unknown id, a time off the slot grid, an Idempotency-Key reused "
    "with another request); `errors` names each field",
    428: "If-Match is required: send the ETag you read",
    503: "A transient failure of the database (a deadlock or a serialization failure still there after the "
    "server's own retries, the database unreachable, or no connection free in time): nothing is wrong with the "
    "request; send it again after the seconds `Retry-After` says",
}


def _problem(status: int) -> ResponseSpec:
    return ResponseSpec(
        data_container=ProblemDetails,
        description=ERROR_DESCRIPTIONS[status],
        media_type=PROBLEM_JSON,
        generate_examples=False,
    )


def error_statuses(handler: HTTPRouteHandler) -> list[int]:
    """The problem-detail statuses a route can answer, from what it takes."""
    parameters = inspect.signature(handler.fn).parameters
    inputs = set(parameters) - _NOT_INPUT
    authenticated = "caller" in parameters
    statuses: set[int] = set()
    if inputs:  # Litestar declares a 400 for any route with inputs; this one has the real body
        statuses.add(400)
    if authenticated:
        statuses |= {401, 403}
    if _path_names(handler):
        statuses.add(404)
    if authenticated and handler.http_methods & _CHANGES:
        statuses.add(409)
    if any(_checked_against_the_forum(name, parameter) for name, parameter in parameters.items()):
        statuses.add(422)
    statuses.update(handler.opt.get(MORE_ERRORS, ()))
    if "if_match" in parameters:
        statuses |= {412, 428}
    if "pool" in parameters or authenticated:  # a token is looked up in the database
        statuses.add(503)
    return sorted(statuses)


def _checked_against_the_forum(name: str, parameter: inspect.Parameter) -> bool:
    """A body or an Idempotency-Key: well-formed input that may still be wrong here."""
    return name in ("data", "idempotency_key") or "Body" in str(parameter.annotation)


def _path_names(handler: HTTPRouteHandler) -> set[str]:
    return {match[1] for path in handler.paths for match in _PATH_PARAMETER.finditer(path)}


def declare_errors(handlers: Iterable[object]) -> None:
    """Set each documented route's error answers; the route's own declarations win."""
    for handler in handlers:
        if isinstance(handler, HTTPRouteHandler) and handler.include_in_schema:
            declared = {status: _problem(status) for status in error_statuses(handler)}
            handler.responses = {**declared, **(handler.responses or {})}


# ---- tokens

TOKEN_SCHEMES: dict[TokenKind, SecurityScheme] = {
    "admin": SecurityScheme(
        type="http",
        scheme="bearer",
        description="The server's admin token, set by SIDELINES_ADMIN_TOKEN. It creates and imports forums (and "
        "GET /me says whose it is); a forum's routes answer it 404.",
    ),
    "organiser": SecurityScheme(
        type="http",
        scheme="bearer",
        description="A forum's organiser token, answered once when the forum is created or imported, or issued "
        "(named) by another of its organiser tokens. It reaches everything in its forum; another forum's routes "
        "answer it 404.",
    ),
    "delegation": SecurityScheme(
        type="http",
        scheme="bearer",
        description="A delegation's token, answered once when the organiser adds the delegation or issues it a new "
        "one. It reaches the operations that list it, on its own delegation's resources and the requests it is "
        "party to; another delegation's answer it 404, as if they did not exist.",
    ),
}
CALLER = "caller"  # the handler argument that brings the token's owner (api/guards.py provide_caller)
_BASE_DESCRIPTION = "description_without_tokens"  # a handler's `opt` key: its description before the note


def guards_called(function: Callable[..., Any]) -> list[Callable[..., Any]]:
    """The guards (api/guards.py `admits`) a handler calls: by itself, in the functions it defines
    (a transaction's `work`), and through the api's own functions it calls, in the order named."""
    found: list[Callable[..., Any]] = []
    seen: set[int] = set()

    def visit(value: object) -> None:
        if not isinstance(value, FunctionType) or id(value) in seen:
            return
        seen.add(id(value))
        if value in ACCESS:  # a guard: what it lets through is declared, not read further
            found.append(value)
        elif value.__module__.startswith("api."):
            names = {**value.__globals__, **inspect.getclosurevars(value).nonlocals}
            walk(value.__code__, names)

    def walk(code: CodeType, names: Mapping[str, object]) -> None:
        for name in code.co_names + code.co_freevars:
            visit(names.get(name))
        for constant in code.co_consts:
            if isinstance(constant, CodeType):
                walk(constant, names)

    visit(function)
    return found


def route_access(handler: HTTPRouteHandler) -> Access | None:
    """The kinds of token a route accepts: those every guard its handler calls lets through,
    with the guards' notes; None when the handler takes no token at all (a public route)."""
    if CALLER not in inspect.signature(handler.fn).parameters:
        return None
    guards = guards_called(handler.fn)
    if not guards:
        raise TypeError(f"{handler.handler_name} takes a token but calls no guard (api/guards.py `admits`)")
    kinds = frozenset.intersection(*(ACCESS[guard].kinds for guard in guards))
    if not kinds:
        raise TypeError(f"{handler.handler_name}: its guards together let no token through")
    notes = [
        note
        for note in dict.fromkeys(ACCESS[guard].note for guard in guards)
        if note is not None and ("delegation" in kinds or not note.startswith(OWN_ONLY))
    ]
    return Access(kinds, " ".join(notes) or None)


@dataclass
class _NoToken(Operation):
    """An operation that needs no token says so: `security: []` (Litestar leaves an empty list out)."""

    def __post_init__(self) -> None:
        parent = getattr(super(), "__post_init__", None)
        if parent is not None:
            parent()
        self.security = []


def _without_token(operation_class: type[Operation]) -> type[Operation]:
    if issubclass(operation_class, _NoToken):
        return operation_class
    return type(f"NoToken{operation_class.__name__}", (_NoToken, operation_class), {})


def declare_tokens(handlers: Iterable[object]) -> None:
    """Set each documented route's `security` (the schemes of TOKEN_SCHEMES it accepts) and add
    its guards' note to its description."""
    for handler in handlers:
        if not isinstance(handler, HTTPRouteHandler) or not handler.include_in_schema:
            continue
        access = route_access(handler)
        base = handler.opt.setdefault(_BASE_DESCRIPTION, handler.description)
        if access is None:
            handler.security = None
            handler.operation_class = _without_token(handler.operation_class)
            continue
        handler.security = [{kind: []} for kind in TOKEN_KINDS if kind in access.kinds]
        handler.description = "\n\n".join(part for part in (base, access.note) if part) or None


class TimeOfDaySchema(OpenAPISchemaPlugin):
    """A `datetime.time` as a time of day, which is what every such field here is."""

    @staticmethod
    def is_plugin_supported_type(value: Any) -> bool:
        return value is time

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        own = getattr(field_definition.kwarg_definition, "description", None)
        return Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.TIME, description=own or TIME_OF_DAY)


def event_stream(description: str) -> dict[int, ResponseSpec]:
    """A route's 200 as what it is, `text/event-stream`, not the JSON Litestar would say."""
    return {
        200: ResponseSpec(
            data_container=str, media_type="text/event-stream", description=description, generate_examples=False
        )
    }


@dataclass
class CsvFileOperation(Operation):
    """The CSV import's body is the file itself (the handler reads it raw, so Litestar declares none)."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            content={"text/csv": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))},
            description="the CSV file, UTF-8, a header row of the columns in docs/csv.md",
            required=True,
        )


@dataclass
class OptionalBodyOperation(Operation):
    """A route whose body may be left out (POST runs: none means the defaults); Litestar marks every body required."""

    def __post_init__(self) -> None:
        if isinstance(self.request_body, RequestBody):
            self.request_body.required = False
