"""What a field of a fixed set of values may be, found from its type and a msgspec error path.

msgspec says only "Invalid enum value 'urgent'" for a value outside a Literal or an Enum,
and "Invalid value 'x'" for an unknown tag of a tagged union: neither names the values
allowed. Every place that turns a msgspec error into a field's message (the API's bodies,
the CLI's problem files, the CSV import, `sidelines load`) knows the type it decoded and
the path msgspec gave, so the values are read from the type there, by `choices_at`.
"""

from __future__ import annotations

import enum
import re
import types
import typing
from typing import Any

import msgspec

# One step of a msgspec path: `.name` (a field, by its name in JSON), `[3]` (an item), `[...]` (a dict's value).
_STEP = re.compile(r"\.(?P<field>[^.\[]+)|\[(?P<index>\d+|\.\.\.)\]")
_FIXED_VALUE = ("Invalid enum value ", "Invalid value ")
_Steps = list[tuple[str | None, str | None]]


def choices_message(message: str, kind: Any, path: str) -> str | None:
    """`message`, msgspec's for the field at `path` (".meetings[0].priority"; "" for the root) of
    `kind`, said with the values allowed; None when it is not about such a field."""
    if not message.startswith(_FIXED_VALUE):
        return None
    choices = choices_at(kind, path)
    if not choices:
        return None
    given = message.split(" value ", 1)[1]
    return f"must be one of: {', '.join(choices)} (not {given})"


def choices_at(kind: Any, path: str) -> list[str] | None:
    """The values of the Literal, Enum or union tag at `path` of `kind`, in declared order;
    None when the path leads elsewhere, or to choices that differ by a union's member."""
    matches = list(_STEP.finditer(path))
    if "".join(match[0] for match in matches) != path:
        return None  # a path this reader does not follow (a dict's key)
    return _walk(kind, [(match["field"], match["index"]) for match in matches]) or None


def _walk(kind: Any, steps: _Steps) -> list[str]:
    origin, arguments = typing.get_origin(kind), typing.get_args(kind)
    if origin is typing.Annotated:
        return _walk(arguments[0], steps)
    if origin in (typing.Union, types.UnionType):
        return _one_of([_walk(member, steps) for member in arguments], joined=not steps or _tag_step(arguments, steps))
    if not steps:
        return _values(kind, origin, arguments)
    (field, index), rest = steps[0], steps[1:]
    if field is not None:
        return _field(kind, field, rest)
    return _item(origin, arguments, index, rest)


def _field(kind: Any, name: str, rest: _Steps) -> list[str]:
    if not (isinstance(kind, type) and issubclass(kind, msgspec.Struct)):
        return []
    config = kind.__struct_config__
    if config.tag_field == name and not rest:
        return [str(config.tag)]  # a union of tagged structs joins its members' tags
    for member in msgspec.structs.fields(kind):
        if member.encode_name == name:
            return _walk(member.type, rest)
    return []


def _item(origin: Any, arguments: tuple[Any, ...], index: str | None, rest: _Steps) -> list[str]:
    if origin is dict and index == "...":
        return _walk(arguments[1], rest)
    if origin in (list, set, frozenset) or (origin is tuple and arguments[-1:] == (Ellipsis,)):
        return _walk(arguments[0], rest)
    if origin is tuple and index is not None and index.isdigit() and int(index) < len(arguments):
        return _walk(arguments[int(index)], rest)
    return []


def _values(kind: Any, origin: Any, arguments: tuple[Any, ...]) -> list[str]:
    if origin is typing.Literal:
        return [str(value) for value in arguments]
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return [str(member.value) for member in kind]
    return []


def _tag_step(members: tuple[Any, ...], steps: _Steps) -> bool:
    """Whether `steps` is the tag field of a union of tagged structs."""
    field = steps[0][0] if len(steps) == 1 else None
    return field is not None and any(
        isinstance(member, type) and issubclass(member, msgspec.Struct) and member.__struct_config__.tag_field == field
        for member in members
    )


def _one_of(found: list[list[str]], *, joined: bool) -> list[str]:
    """A union's choices: all its members' where the value itself is the union's (a value any
    member takes will do; a tag names its member), else, past a member's field, the one list
    its members agree on (none when they differ: which applies depends on the member)."""
    lists = [values for values in found if values]
    if joined:
        return list(dict.fromkeys(value for values in lists for value in values))
    distinct = {tuple(values) for values in lists}
    return list(distinct.pop()) if len(distinct) == 1 else []
