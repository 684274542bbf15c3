"""Input PostgreSQL cannot hold, or Litestar cannot decode, refused before any handler runs.

Text columns cannot store U+0000, and an integer path value beyond PostgreSQL's
integer names nothing that can exist; both used to reach asyncpg and end as 500s.
The JSON body is decoded here, once, and converted strictly to the handler's `data` type:
Litestar's own decoding of `data` reuses it (and its lax mode never sees a body).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import SerializationException
from litestar.serialization import decode_json
from litestar.types import Empty
from litestar.typing import FieldDefinition
from litestar.utils.scope.state import ScopeState

from api.errors import BadRequest, FieldError, Unprocessable, body_field_error, missing_path_value
from db.records import INT4_MAX, NUL, nul_field
from solver.check import BOM, json_fault, out_of_calendar, split_validation, utf8_fault
from solver.times import MAYBE_MINUTES, with_seconds


async def _decode_json_body(request: Request[Any, Any, Any], body: bytes, parameter: FieldDefinition) -> Any:
    """The JSON body (`data`) decoded untyped, as Litestar would, kept where its own decoding
    finds it; Empty for an optional body left out.

    Litestar let two faults escape its error handling as 500s (invalid UTF-8 inside a
    string, nesting past the recursion limit), named an empty body `$: 'data'`, and a
    malformed one without a field. A leading byte-order mark is ignored, as RFC 8259
    allows and as the CLI does for files; times written to the minute get their seconds.
    """
    state = ScopeState.from_scope(request.scope)  # its `json` is what `request.json()` answers
    if (reason := utf8_fault(body)) is not None:
        raise BadRequest(f"$: not UTF-8 text: {reason}", [FieldError("$", "not UTF-8 text")])
    text = body.removeprefix(BOM.encode())
    if not text.strip():
        if parameter.is_optional or parameter.has_default:
            # Left out, as an empty body is: a body of only a BOM or white space holds no value either.
            state.json = None
            return Empty
        raise BadRequest("$: the body is empty: send a JSON object", [FieldError("$", "empty: send a JSON object")])
    try:
        decoded = decode_json(text)
    except RecursionError:
        raise BadRequest("$: nested too deeply", [FieldError("$", "nested too deeply")]) from None
    except SerializationException as error:
        fault = json_fault(body, error)
        raise BadRequest(f"$: {fault}", [FieldError("$", fault)]) from None
    if MAYBE_MINUTES.search(text):  # "14:30" where a time is due: msgspec needs "14:30:00"
        decoded = with_seconds(decoded, parameter.annotation)
    state.json = decoded
    return decoded


def _refuse_nul(field: str) -> BadRequest:
    return BadRequest(f"{field}: may not contain the NUL character (U+0000)", [FieldError(field, "contains U+0000")])


async def refuse_unstorable_input(request: Request[Any, Any, Any]) -> None:
    for name, value in request.path_params.items():
        if isinstance(value, str) and NUL in value:
            raise _refuse_nul(f"path:{name}")
        if isinstance(value, int) and abs(value) > INT4_MAX:
            raise missing_path_value(name, value)
    for name, value in request.query_params.items():
        if NUL in name or NUL in str(value):
            raise _refuse_nul(f"query:{name}")
    if request.method not in {"POST", "PUT", "PATCH"}:
        return
    body = await request.body()
    if b"\x00" in body:  # raw: a CSV file (in JSON text a raw NUL is malformed anyway)
        raise _refuse_nul("$")
    parameter = request.route_handler.parsed_fn_signature.parameters.get("data")
    if parameter is None:  # no JSON body on this route (a CSV file is taken raw)
        return
    decoded = await _decode_json_body(request, body, parameter)
    if decoded is Empty:
        return
    if b"\\u0000" in body:
        field = nul_field(decoded)
        if field is not None:
            raise _refuse_nul(field)
    typed = _strictly_typed(decoded, parameter.annotation)
    # Litestar's own decoding of `data` takes this value as it is (msgspec passes an instance
    # of the type through): the body is converted once.
    ScopeState.from_scope(request.scope).json = typed
    if _EDGE_YEAR.search(body):
        _refuse_out_of_calendar(typed)


def _strictly_typed(decoded: Any, kind: Any) -> Any:
    """The body as the handler's `data` type, converted strictly, as the CLI decodes files.

    Litestar converts `data` from the decoded JSON in msgspec's lax mode (strict=False, meant for
    query strings and forms), which took "10" for the number 10, "true" or 1 for true, 30.0 for
    the whole number 30 and 1700000000 for a date: a JSON body has numbers and booleans of its own,
    and a string where one is due is a client's bug to be told of. A 400 names the field."""
    try:
        return msgspec.convert(decoded, kind, strict=True, str_keys=True)
    except msgspec.ValidationError as error:
        message, path = split_validation(str(error))
        fault = body_field_error(message, path, kind)
        raise BadRequest(f"{fault.field}: {fault.message}", [fault]) from None


# A date in year 1 or 9999: RFC 3339 years have four digits, and msgspec refuses year 0.
_EDGE_YEAR = re.compile(rb'"(?:0001|9999)-\d\d-\d\d')


def _refuse_out_of_calendar(typed: Any) -> None:
    """Dates too near the calendar's ends for a change of zone to stay within it. PostgreSQL
    could not store a forum deadline in year 1 or 9999 (a 500), and a session or window
    there was stored, to fail every solve (solver/check.py refuses them in problems)."""
    findings = out_of_calendar(typed)
    if findings:
        errors = [FieldError(finding.path, finding.message) for finding in findings]
        raise Unprocessable("; ".join(str(finding) for finding in findings), errors)
