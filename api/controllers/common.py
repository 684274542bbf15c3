"""Parameter types and checks shared by the controllers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import asyncpg
from litestar.di import NamedDependency
from litestar.params import HeaderParameter, SkipValidation

from api.errors import FieldError, Unprocessable, missing
from api.guards import Caller
from db.queries.forums import get_forum
from db.records import ForumRecord, Stored
from solver.model import Window

# Trusted provider output: a pool and a resolved caller need no validation.
PoolDep = NamedDependency[SkipValidation[asyncpg.Pool]]
CallerDep = NamedDependency[SkipValidation[Caller]]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(name="Idempotency-Key", required=False, max_length=200, description="replays the first answer"),
]
IfMatch = Annotated[str | None, HeaderParameter(name="If-Match", required=False, description="the ETag you read")]
IfNoneMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-None-Match", required=False, description="the ETag of the answer you hold: 304 while it is current"
    ),
]


async def load_forum(connection: asyncpg.Connection, forum_id: Any) -> Stored[ForumRecord]:
    forum = await get_forum(connection, forum_id)
    if forum is None:  # a token outlived its forum
        raise missing("path:forum_id", f"no forum {forum_id}")
    return forum


def zone_of(forum: ForumRecord) -> ZoneInfo:
    return ZoneInfo(forum.time_zone)


def window_errors(path: str, windows: Iterable[Window]) -> list[FieldError]:
    return [
        FieldError(f"{path}[{index}].end", "must be after its start")
        for index, window in enumerate(windows)
        if window.end <= window.start
    ]


def order_errors(path: str, first: datetime | None, second: datetime | None, what: str) -> list[FieldError]:
    if first is not None and second is not None and second <= first:
        return [FieldError(path, f"must be after {what}")]
    return []


def raise_if(errors: list[FieldError]) -> None:
    if errors:
        raise Unprocessable("; ".join(f"{error.field}: {error.message}" for error in errors), errors)
