"""Errors as RFC 9457 problem details (application/problem+json).

Handlers raise an ApiError subclass; Litestar's own exceptions (a body that does
not decode, an unknown route) and database errors are mapped here too, so that
every error answer has the same shape and bad input never becomes a 500.
Shape errors (malformed JSON, wrong types, unknown fields) answer 400; input that
is well-formed but wrong for this forum (an unknown delegation, a duration off the
slot grid) answers 422. Either way `errors` names each offending field.

A transient failure of the database answers 503 with Retry-After, never 500: a
deadlock or serialization failure that outlived its retries (db/transient.py), a
database that cannot be reached, a connection lost, or no connection free within
the pool's acquire timeout (db/pool.py). The problem says what kind; what exactly
went wrong is logged, not shown.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Annotated, Any

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.types import ExceptionHandlersMap

from api.parameters import missing_parameter, parameter_field, parameter_message
from db.errors import DatabaseUnavailable
from db.records import id_rule_message
from solver.check import plain_message, validation_finding

PROBLEM_JSON = "application/problem+json"
_log = logging.getLogger("sidelines.api")


class FieldError(msgspec.Struct, frozen=True):
    """One faulty field and what is wrong with it."""

    field: Annotated[
        str,
        msgspec.Meta(
            description='a path into the body ("days[0].end", "$" for the body itself), or "header:If-Match", '
            '"query:limit", "path:version"; a CSV import\'s "row 4, column arrival"'
        ),
    ]
    message: Annotated[str, msgspec.Meta(description="what is wrong, and what the value must be")]


class ProblemDetails(msgspec.Struct, omit_defaults=True):
    """An error answer (RFC 9457, application/problem+json)."""

    type: Annotated[str, msgspec.Meta(description="urn:sidelines:problem:<kind>, e.g. ...:not-found")]
    title: Annotated[str, msgspec.Meta(description="the HTTP status's phrase")]
    status: Annotated[int, msgspec.Meta(description="the HTTP status")]
    detail: Annotated[str, msgspec.Meta(description="what went wrong, in a sentence")] = ""
    instance: Annotated[str, msgspec.Meta(description="the request's path")] = ""
    errors: Annotated[list[FieldError], msgspec.Meta(description="each faulty field, when there are any")] = []


class ApiError(Exception):
    status = 500
    slug = "internal"

    def __init__(self, detail: str, errors: list[FieldError] | None = None, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}


class BadRequest(ApiError):
    status, slug = 400, "bad-request"


class Unauthorized(ApiError):
    status, slug = 401, "unauthorized"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="sidelines"'})


class Forbidden(ApiError):
    status, slug = 403, "forbidden"


class NotFound(ApiError):
    status, slug = 404, "not-found"


class Conflict(ApiError):
    status, slug = 409, "conflict"


class Gone(ApiError):
    status, slug = 410, "gone"


class PreconditionFailed(ApiError):
    status, slug = 412, "precondition-failed"


class Unprocessable(ApiError):
    status, slug = 422, "unprocessable"


class PreconditionRequired(ApiError):
    status, slug = 428, "precondition-required"


class ServiceUnavailable(ApiError):
    """A transient failure: the same request sent again after `retry_after` seconds should succeed."""

    status, slug = 503, "service-unavailable"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


def missing(field: str, detail: str) -> NotFound:
    """A 404 naming the path parameter that names nothing ("path:version"), so that a client
    can say which of its arguments is wrong without parsing `detail`."""
    return NotFound(detail, [FieldError(field, detail)])


_PATH_NOUNS = {"version": "schedule version", "other": "schedule version"}


def missing_path_value(name: str, value: object) -> NotFound:
    """The 404 for a path value that names nothing: `no run 9` as `path:run_id`."""
    return missing(f"path:{name}", f"no {_PATH_NOUNS.get(name, name.removesuffix('_id'))} {value}")


def _unparsed_path_value(request: Request[Any, Any, Any]) -> NotFound | None:
    """The 404 naming the path parameter Litestar's router could not parse into its declared type
    (`/schedules/x` where the version is an int); None when no route's parameter explains it.

    The router says only NotFoundException (from the parser's ValueError): the route is found
    again here, by its fixed segments, to name the value a client got wrong, as every other 404 does."""
    segments = [part for part in request.scope["path"].split("/") if part]
    for route in request.app.routes:
        components = route.path_components
        if len(components) != len(segments) or any(
            isinstance(part, str) and part != segment for part, segment in zip(components, segments, strict=True)
        ):
            continue
        for part, segment in zip(components, segments, strict=True):
            if isinstance(part, str) or part.parser is None:
                continue
            try:
                part.parser(segment)
            except ValueError:
                return missing_path_value(part.name, segment)
    return None


def invalid(field: str, message: str) -> Unprocessable:
    """A 422 naming one field."""
    return Unprocessable(f"{field}: {message}", [FieldError(field, message)])


def problem_response(request: Request[Any, Any, Any], error: ApiError | ProblemDetails) -> Response[bytes]:
    if isinstance(error, ApiError):
        details = ProblemDetails(
            type=f"urn:sidelines:problem:{error.slug}",
            title=HTTPStatus(error.status).phrase,
            status=error.status,
            detail=error.detail,
            errors=error.errors,
        )
        headers = error.headers
    else:
        details, headers = error, {}
    details.instance = request.url.path
    return Response(
        content=msgspec.json.encode(details), status_code=details.status, media_type=PROBLEM_JSON, headers=headers
    )


def _field_error(request: Request[Any, Any, Any], entry: dict[str, Any]) -> FieldError:
    """One Litestar validation message as a field and a message; "data" is the body's root."""
    key = str(entry.get("key", "") or "")
    message = str(entry.get("message", ""))
    source = entry.get("source", "body")
    source = str(getattr(source, "value", source))
    if source != "body" and key:  # a query, path or header value: said from its declaration
        return FieldError(parameter_field(request, key, source), parameter_message(request, key, message))
    key = "" if key == "data" else key
    body = request.route_handler.parsed_fn_signature.parameters.get("data")
    path = key if not key or key.startswith("[") else f".{key}"  # msgspec's, as Litestar cut it
    return body_field_error(message, path, None if body is None else body.annotation)


def body_field_error(message: str, path: str, kind: Any = None) -> FieldError:
    """A msgspec validation message about `path` (msgspec's, after `$`) of a body of `kind`, with
    the field named as the CLI names it in a file (solver/check.py's `validation_finding`)."""
    finding = validation_finding(id_rule_message(message), path, kind)
    return FieldError(finding.path, finding.message)


def readable(message: str, kind: Any = None, path: str = "") -> str:
    """A msgspec validation message about the field at `path` (msgspec's, after `$`) of `kind`,
    in the words of the API's rules where those are plainer, saying what the value must be."""
    return plain_message(id_rule_message(message), kind, path)


def handle_api_error(request: Request[Any, Any, Any], error: ApiError) -> Response[bytes]:
    return problem_response(request, error)


def handle_http_exception(request: Request[Any, Any, Any], error: HTTPException) -> Response[bytes]:
    """Litestar's exceptions: validation (400 with field paths), unknown routes (404), methods (405)..."""
    if isinstance(error, NotFoundException) and isinstance(error.__cause__, ValueError):
        unparsed = _unparsed_path_value(request)
        if unparsed is not None:
            return problem_response(request, unparsed)
    status = error.status_code
    errors: list[FieldError] = []
    if isinstance(error, ValidationException) and isinstance(error.extra, list):
        errors = [_field_error(request, entry) for entry in error.extra]
    elif isinstance(error, ValidationException) and (missing := missing_parameter(str(error.detail))):
        errors = [FieldError(*missing)]
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors) or str(error.detail)
    slug = HTTPStatus(status).phrase.lower().replace(" ", "-")
    details = ProblemDetails(f"urn:sidelines:problem:{slug}", HTTPStatus(status).phrase, status, detail, errors=errors)
    response = problem_response(request, details)
    response.headers.update(error.headers or {})
    return response


# Integrity errors that slip past the handlers' own checks are the client's conflict, not a crash.
_CONFLICTS: dict[type[asyncpg.PostgresError], str] = {
    asyncpg.UniqueViolationError: "already exists",
    asyncpg.ForeignKeyViolationError: "is still referenced, or refers to something that does not exist",
    asyncpg.ExclusionViolationError: "would double-book a room or a participant",
    asyncpg.CheckViolationError: "breaks a rule of the stored data",
}


# Values PostgreSQL refuses to store: bad input that slipped past the checks (api/input_checks.py).
_UNSTORABLE: dict[type[asyncpg.PostgresError], str] = {
    asyncpg.CharacterNotInRepertoireError: "text may not contain the NUL character (U+0000)",
    asyncpg.NumericValueOutOfRangeError: "a number is out of the range that can be stored",
}


# Seconds a client is told to wait: a conflict between transactions is over at once; a database
# restarting, unreachable or out of connections takes longer (readiness says 5 s too).
RETRY_CONFLICT_SECONDS = 1
RETRY_UNAVAILABLE_SECONDS = 5

# Transient failures: what the problem says, and how long to wait before sending the request again.
_TRANSIENT: dict[type[asyncpg.PostgresError], tuple[str, int]] = {
    # rolled back whole: nothing of the request was stored (retried in db/transient.py first)
    asyncpg.DeadlockDetectedError: ("a concurrent request deadlocked with this one", RETRY_CONFLICT_SECONDS),
    asyncpg.SerializationError: ("a concurrent change conflicted with this one", RETRY_CONFLICT_SECONDS),
    # the connection went away mid-request: a change may or may not have been stored
    asyncpg.PostgresConnectionError: ("the connection to the database was lost", RETRY_UNAVAILABLE_SECONDS),
    asyncpg.AdminShutdownError: ("the database is shutting down", RETRY_UNAVAILABLE_SECONDS),
    asyncpg.CrashShutdownError: ("the database is restarting", RETRY_UNAVAILABLE_SECONDS),
    asyncpg.CannotConnectNowError: ("the database is starting up", RETRY_UNAVAILABLE_SECONDS),
    asyncpg.TooManyConnectionsError: ("the database has no connection to spare", RETRY_UNAVAILABLE_SECONDS),
}


def unavailable(
    request: Request[Any, Any, Any], error: BaseException, reason: str, retry_after: int
) -> Response[bytes]:
    """503 with Retry-After; the error itself goes to the log, without a traceback (it is expected)."""
    said = "; ".join(f"{type(each).__name__}: {each}" for each in _chain(error))
    _log.warning("%s %s answered 503: %s", request.method, request.url.path, said)
    detail = f"{reason}: send the request again in {retry_after} s"
    return problem_response(request, ServiceUnavailable(detail, retry_after))


def handle_unavailable(request: Request[Any, Any, Any], error: DatabaseUnavailable) -> Response[bytes]:
    reason = "every database connection is busy" if error.busy else "the database cannot be reached"
    return unavailable(request, error, reason, RETRY_UNAVAILABLE_SECONDS)


def _chain(error: BaseException) -> list[BaseException]:
    """`error`, then what it was raised from or while handling, a few deep."""
    found: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and len(found) < 5:
        found.append(current)
        current = current.__cause__ if current.__suppress_context__ else current.__cause__ or current.__context__
    return found


def _transient(error: BaseException) -> tuple[str, int] | None:
    """The reason and the wait when `error`, or what it was raised while handling, is transient:
    a connection lost mid-transaction surfaces as asyncpg's InterfaceError from the rollback,
    raised while handling the loss itself."""
    for each in _chain(error):
        for kind, found in _TRANSIENT.items():
            if isinstance(each, kind):
                return found
    return None


def handle_database_error(request: Request[Any, Any, Any], error: asyncpg.PostgresError) -> Response[bytes]:
    transient = _transient(error)
    if transient is not None:
        return unavailable(request, error, *transient)
    for kind, message in _UNSTORABLE.items():
        if isinstance(error, kind):
            return problem_response(request, BadRequest(message, [FieldError("$", message)]))
    for kind, message in _CONFLICTS.items():
        if isinstance(error, kind):
            return problem_response(request, Conflict(f"this change {message}"))
    return handle_unexpected(request, error)


def handle_unexpected(request: Request[Any, Any, Any], error: Exception) -> Response[bytes]:
    transient = _transient(error)
    if transient is not None:
        return unavailable(request, error, *transient)
    _log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    return problem_response(request, ApiError("an unexpected error occurred; it has been logged"))


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    ApiError: handle_api_error,
    HTTPException: handle_http_exception,
    asyncpg.PostgresError: handle_database_error,
    DatabaseUnavailable: handle_unavailable,
    Exception: handle_unexpected,
}
