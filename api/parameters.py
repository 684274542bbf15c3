"""What a query, path or header value must be, said from the route's own declaration.

Such a value is always text, so msgspec's "Expected `int`, got `str`" says nothing the
client can act on, and its field is the handler's Python name ("idempotency_key"). Here
the field is the name the client sent ("header:Idempotency-Key") and the message says
what is expected: its type, with the bounds or the choices the route declares.
"""

from __future__ import annotations

import re
from types import NoneType
from typing import Any, Literal, get_args, get_origin

from litestar import Request
from litestar.params import ParameterKwarg
from litestar.typing import FieldDefinition

_NOUNS: dict[Any, str] = {int: "an integer", float: "a number", bool: "true or false", str: "text"}
_MISSING = re.compile(r"^Missing required (?P<source>\w+) parameter '(?P<name>[^']+)'")


def _declared(request: Request[Any, Any, Any], key: str) -> FieldDefinition | None:
    definition = request.route_handler.parsed_fn_signature.parameters.get(key)
    if definition is None or not isinstance(definition.kwarg_definition, ParameterKwarg):
        return None
    return definition


def parameter_field(request: Request[Any, Any, Any], key: str, source: str) -> str:
    """`source:name`, with the name the client sends (a header's, not the handler's argument's)."""
    definition = _declared(request, key)
    kwarg = definition.kwarg_definition if definition is not None else None
    name = kwarg.name if isinstance(kwarg, ParameterKwarg) and kwarg.name else key
    return f"{source}:{name}"


def parameter_message(request: Request[Any, Any, Any], key: str, message: str) -> str:
    """What a declared value must be ("must be an integer from 1 to 1000"), whatever its fault
    was; msgspec's words for a value the route does not declare."""
    definition = _declared(request, key)
    expected = _expected(definition) if definition is not None else None
    return f"must be {expected}" if expected is not None else message


def _expected(definition: FieldDefinition) -> str | None:
    kinds = [kind for kind in get_args(definition.annotation) or (definition.annotation,) if kind is not NoneType]
    kind = kinds[0] if len(kinds) == 1 else definition.annotation
    if get_origin(kind) is Literal:
        return "one of " + ", ".join(str(choice) for choice in get_args(kind))
    noun = _NOUNS.get(kind)
    kwarg = definition.kwarg_definition
    if noun is None or not isinstance(kwarg, ParameterKwarg):
        return None
    if kind is str:
        return _ranged(noun, kwarg.min_length, kwarg.max_length, " characters")
    return _ranged(noun, kwarg.ge, kwarg.le, "")


def _ranged(noun: str, low: object, high: object, unit: str) -> str:
    if low is not None and high is not None:
        return f"{noun} from {low} to {high}{unit}"
    if low is not None:
        return f"{noun} of at least {low}{unit}"
    if high is not None:
        return f"{noun} of at most {high}{unit}"
    return noun


def missing_parameter(message: str) -> tuple[str, str] | None:
    """(field, message) of Litestar's "Missing required query parameter 'meeting' for path ..."."""
    match = _MISSING.match(message)
    return None if match is None else (f"{match['source']}:{match['name']}", "required")
