"""Input PostgreSQL cannot hold, or Litestar cannot decode, refused before any handler runs.

Text columns cannot store U+0000, and an integer path value beyond PostgreSQL's
integer names nothing that can exist; both used to reach asyncpg and end as 500s.
The JSON body is only decoded here when its bytes contain an escaped NUL, so the
common request pays one substring search.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import SerializationException

from api.errors import BadRequest, FieldError, NotFound
from db.records import INT4_MAX

NUL = "\x00"
_NOUNS = {"version": "schedule version", "other": "schedule version"}


def _nul_field(value: Any, path: str) -> str | None:
    """The path of the first string (or key) holding U+0000 in a decoded JSON value."""
    if isinstance(value, str):
        return path or "$" if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            found = inner if NUL in str(key) else _nul_field(item, inner)
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_field(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


async def _refuse_undecodable_json(request: Request[Any, Any, Any]) -> None:
    """Litestar decodes a JSON body (`data`) untyped first, and lets two faults escape its
    error handling as 500s: invalid UTF-8 inside a string, and nesting past the recursion limit."""
    if "data" not in request.route_handler.parsed_fn_signature.parameters:
        return  # no JSON body: a CSV file
    try:
        await request.json()  # kept on the request: the handler's own decoding reuses it
    except UnicodeDecodeError as error:
        raise BadRequest(f"$: not UTF-8 text: {error.reason}", [FieldError("$", "not UTF-8 text")]) from None
    except RecursionError:
        raise BadRequest("$: nested too deeply", [FieldError("$", "nested too deeply")]) from None
    except SerializationException:
        return  # malformed JSON: the handler's own decoding names the fault


def _refuse_nul(field: str) -> BadRequest:
    return BadRequest(f"{field}: may not contain the NUL character (U+0000)", [FieldError(field, "contains U+0000")])


async def refuse_unstorable_input(request: Request[Any, Any, Any]) -> None:
    for name, value in request.path_params.items():
        if isinstance(value, str) and NUL in value:
            raise _refuse_nul(f"path:{name}")
        if isinstance(value, int) and abs(value) > INT4_MAX:
            raise NotFound(f"no {_NOUNS.get(name, name.removesuffix('_id'))} {value}")
    for name, value in request.query_params.items():
        if NUL in name or NUL in str(value):
            raise _refuse_nul(f"query:{name}")
    if request.method not in {"POST", "PUT", "PATCH"}:
        return
    body = await request.body()
    if b"\x00" in body:  # raw: a CSV file (in JSON text a raw NUL is malformed anyway)
        raise _refuse_nul("$")
    await _refuse_undecodable_json(request)
    if b"\\u0000" in body:
        try:
            decoded = msgspec.json.decode(body)
        except msgspec.DecodeError:
            return  # the handler's own decoding names the fault
        field = _nul_field(decoded, "")
        if field is not None:
            raise _refuse_nul(field)
