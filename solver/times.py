"""Times written without seconds ("14:30", "2024-05-31T14:30"), read as on the minute.

msgspec reads times and datetimes as RFC 3339, which needs seconds; people, the CSV
import and HTML's time and datetime-local inputs write minutes only. `with_seconds`
walks a decoded JSON value beside the type it is meant for and adds ":00" to such
strings where that type holds a time or a datetime, and nowhere else: a title that
reads "14:30" stays as written. Whatever else is wrong with a value is left for
msgspec to report.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import msgspec
import msgspec.inspect as mi

_MINUTES = re.compile(r"(?P<head>(?:\d{4}-\d{2}-\d{2}[Tt ])?\d{2}:\d{2})(?P<offset>[Zz]|[+-]\d{2}:\d{2})?")
# Somewhere in a JSON text, a string that may be such a time: only then is the value walked.
MAYBE_MINUTES = re.compile(rb'"(?:\d{4}-\d{2}-\d{2}[Tt ])?\d{2}:\d{2}(?:[Zz]|[+-]\d{2}:\d{2})?"')


@functools.cache
def _info(kind: Any) -> mi.Type:
    return mi.type_info(kind)


def with_seconds(value: Any, kind: Any) -> Any:
    """`value` (decoded JSON) with ":00" added to each time or datetime of `kind` written to the minute."""
    return _walk(value, _info(kind))


def _walk(value: Any, info: mi.Type) -> Any:
    if isinstance(info, mi.Metadata):
        return _walk(value, info.type)
    if isinstance(info, (mi.DateTimeType, mi.TimeType)):
        if isinstance(value, str) and (match := _MINUTES.fullmatch(value)):
            return f"{match['head']}:00{match['offset'] or ''}"
        return value
    if isinstance(info, (mi.StructType, mi.TypedDictType, mi.DataclassType)) and isinstance(value, dict):
        fields = {field.encode_name: field.type for field in info.fields}
        return {key: _walk(item, fields[key]) if key in fields else item for key, item in value.items()}
    if isinstance(info, (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)) and isinstance(value, list):
        return [_walk(item, info.item_type) for item in value]
    if isinstance(info, mi.DictType) and isinstance(value, dict):
        return {key: _walk(item, info.value_type) for key, item in value.items()}
    if isinstance(info, mi.UnionType):
        member = _member(value, info)
        return value if member is None else _walk(value, member)
    return value


def _member(value: Any, info: mi.UnionType) -> mi.Type | None:
    """The member of a union that `value` is meant for: a tagged struct by its tag, else the only candidate."""
    members = [member.type if isinstance(member, mi.Metadata) else member for member in info.types]
    candidates: list[mi.Type]
    if isinstance(value, str):
        candidates = [member for member in members if isinstance(member, (mi.DateTimeType, mi.TimeType))]
    elif isinstance(value, dict):
        candidates = [member for member in members if isinstance(member, (mi.StructType, mi.DictType))]
        tagged = [member for member in candidates if isinstance(member, mi.StructType) and member.tag_field]
        if tagged:
            candidates = [member for member in tagged if value.get(member.tag_field) == member.tag]
    elif isinstance(value, list):
        candidates = [member for member in members if isinstance(member, (mi.ListType, mi.SetType, mi.VarTupleType))]
    else:
        return None
    return candidates[0] if len(candidates) == 1 else None


def decode_with_seconds(data: bytes | str, kind: type[Any]) -> Any:
    """`data` decoded as `kind`, its times to the minute read as on the minute."""
    return msgspec.convert(with_seconds(msgspec.json.decode(data), kind), kind)
