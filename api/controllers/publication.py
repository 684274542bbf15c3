"""What leaves the system once grids exist: version diffs, the publication history,
grid exports (CSV, XLSX) for the organiser, and each delegation's calendar feed.

A delegation never reads a whole grid or a diff: those answer it 404. Its feed
holds only the meetings it attends, with only its own people as attendees.
Calendar apps cannot send a Bearer header, so the feed is also served at a
secret URL (`/calendar/<key>.ics`) whose key the delegation reads and rotates.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import asyncpg
import msgspec
from litestar import Request, Response, get, post
from litestar.params import HeaderParameter, QueryParameter

from api.calendar import FeedEvent, FeedLabels, build_calendar, event_fingerprint, feed_events, feed_key
from api.controllers.common import CallerDep, PoolDep, load_forum, zone_of
from api.controllers.paths import DelegationPath, FeedPath, ForumPath, OtherVersionPath, VersionPath
from api.controllers.schedules import VERSION_PATH, organiser_only
from api.errors import Gone, NotFound, Unauthorized, missing
from api.exports import GridContext, grid_csv, grid_xlsx, list_csv
from api.guards import delegation_itself, delegation_reader, forum_organiser, hash_token
from api.http import Reply, json_response, none_match, run_change
from api.openapi import MORE_ERRORS
from api.paging import DEFAULT_LIMIT, LINK_HEADER, AfterNumber, Limit, fetched, page
from api.publishing import as_placements, in_zone
from db.queries import publications
from db.queries import runs as versions
from db.queries.audit import record_change
from db.queries.runs import GridPlacement
from db.transient import retrying
from solver.diff import Move, ScheduleDiff, diff_schedules
from solver.result import Placement

DELEGATION_PATH = "/forums/{forum_id:str}/delegations/{delegation_id:str}"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Litestar appends "; charset=utf-8" to every text/* media type: naming it here too sent it twice.
CALENDAR = "text/calendar"
CSV = "text/csv"
IfNoneMatch = Annotated[
    str | None, HeaderParameter(name="If-None-Match", required=False, description="the ETag of the feed you hold")
]


class VersionDiff(msgspec.Struct):
    from_version: int = msgspec.field(name="from")
    to_version: int = msgspec.field(name="to")
    moved: list[Move] = []  # before and after in the forum's time zone; kind: time | room | time_and_room
    added: list[Placement] = []
    removed: list[Placement] = []
    unchanged: list[str] = []


class Publication(msgspec.Struct):
    """One publication as the organiser lists it; `number` is the `publication` of its notices."""

    number: int  # 1, 2, 3 ... in this forum
    version: int
    previous_version: int | None
    published_at: datetime
    diff: ScheduleDiff  # against the previous publication


class CalendarLink(msgspec.Struct):
    url: str  # serves the feed without any header; keep it secret


async def _version_grid(
    connection: asyncpg.Connection, forum_id: Any, number: int, field: str = "path:version"
) -> list[GridPlacement]:
    row = await versions.get_version(connection, forum_id, number)
    if row is None:
        raise missing(field, f"no schedule version {number}")
    return await versions.grid_placements(connection, row.id)


@get(
    f"{VERSION_PATH}/diff/{{other:int}}",
    tags=["schedules"],
    summary="What changed from this version to another: moved, added, removed meetings (organiser)",
)
async def diff_versions(
    pool: PoolDep, caller: CallerDep, forum_id: ForumPath, version: VersionPath, other: OtherVersionPath
) -> Response[VersionDiff]:
    parsed = organiser_only(caller, forum_id, version)
    async with pool.acquire() as connection:
        zone = zone_of((await load_forum(connection, parsed)).item)
        before = await _version_grid(connection, parsed, version)
        after = await _version_grid(connection, parsed, other, "path:other")
    diff = diff_schedules(as_placements(before, zone), as_placements(after, zone))
    return json_response(VersionDiff(version, other, diff.moved, diff.added, diff.removed, diff.unchanged))


@get(
    "/forums/{forum_id:str}/publications",
    tags=["schedules"],
    summary="Every publication and its diff, oldest first, by pages (organiser)",
    response_headers=[LINK_HEADER],
)
async def list_publications(
    request: Request[Any, Any, Any],
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    after: AfterNumber = 0,
    limit: Limit = DEFAULT_LIMIT,
) -> Response[list[Publication]]:
    parsed = forum_organiser(caller, forum_id)
    async with pool.acquire() as connection:
        rows = await publications.list_publications(connection, parsed, after=after, limit=fetched(limit))
    shown = [Publication(r.number, r.version, r.previous_version, r.published_at, r.diff) for r in rows]
    return page(request, shown, limit, lambda publication: publication.number)


# ---- grid exports


async def _grid_context(connection: asyncpg.Connection, forum_id: Any, number: int) -> GridContext:
    forum = (await load_forum(connection, forum_id)).item
    zone = zone_of(forum)
    grid = await _version_grid(connection, forum_id, number)
    return GridContext(
        forum=forum,
        rooms=await publications.room_labels(connection, forum_id),
        placements=in_zone(grid, zone),
        countries=await publications.delegation_countries(connection, forum_id),
        titles=await publications.meeting_titles(connection, forum_id),
    )


def _download(content: bytes, media_type: str, filename: str) -> Response[bytes]:
    return Response(
        content=content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@get(
    f"{VERSION_PATH}/grid.csv",
    tags=["schedules"],
    summary="The grid as CSV: rooms by time, or ?layout=list",
    media_type=CSV,
)
async def export_csv(
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    version: VersionPath,
    layout: Annotated[
        Literal["grid", "list"],
        QueryParameter(name="layout", description="grid: rooms by time, a row per slot; list: a row per meeting"),
    ] = "grid",
) -> Response[bytes]:
    parsed = organiser_only(caller, forum_id, version)
    async with pool.acquire() as connection:
        context = await _grid_context(connection, parsed, version)
    content = grid_csv(context) if layout == "grid" else list_csv(context)
    return _download(content, CSV, f"grid-v{version}-{layout}.csv")


@get(
    f"{VERSION_PATH}/grid.xlsx",
    tags=["schedules"],
    summary="The grid as XLSX: a sheet per day and a Meetings sheet",
    media_type=XLSX,
)
async def export_xlsx(pool: PoolDep, caller: CallerDep, forum_id: ForumPath, version: VersionPath) -> Response[bytes]:
    parsed = organiser_only(caller, forum_id, version)
    async with pool.acquire() as connection:
        context = await _grid_context(connection, parsed, version)
    return _download(grid_xlsx(context), XLSX, f"grid-v{version}.xlsx")


# ---- calendar feeds


async def _calendar(
    connection: asyncpg.Connection, forum_id: Any, delegation_id: str, if_none_match: str | None
) -> Response[bytes]:
    """The feed, or 304 when the client's copy is current (calendar apps poll it)."""
    forum = (await load_forum(connection, forum_id)).item
    countries = await publications.delegation_countries(connection, forum_id)
    if delegation_id not in countries:
        raise NotFound(f"no delegation {delegation_id}")
    history = await publications.list_publications(connection, forum_id)
    grids = await versions.grids_placements(connection, [p.version_id for p in history], delegation_id)
    labels = FeedLabels(
        forum_name=forum.name,
        rooms={room.id: room for room in await publications.room_labels(connection, forum_id)},
        countries=countries,
        participants=await publications.participant_names(connection, forum_id, delegation_id),
        titles=await publications.meeting_titles(connection, forum_id),
    )
    events = await _served(connection, forum_id, delegation_id, labels, history, grids, zone_of(forum))
    stamp = history[-1].published_at if history else datetime.now(UTC)
    content = build_calendar(str(forum_id), delegation_id, events, labels, stamp)
    tag = f'"{hashlib.sha256(content).hexdigest()[:32]}"'
    headers = {"ETag": tag, "Cache-Control": "private, no-cache"}
    if none_match(if_none_match, tag):
        return Response(content=b"", status_code=304, headers=headers)
    headers["Content-Disposition"] = f'inline; filename="{delegation_id}.ics"'
    return Response(content=content, media_type=CALENDAR, headers=headers)


async def _served(
    connection: asyncpg.Connection,
    forum_id: Any,
    delegation_id: str,
    labels: FeedLabels,
    history: list[publications.PublicationRow],
    grids: dict[int, list[GridPlacement]],
    zone: Any,
) -> list[FeedEvent]:
    """The feed's events with the SEQUENCE each is served with (api/calendar.py)."""
    events = feed_events([grids[p.version_id] for p in history], delegation_id, zone)
    shown = [(e.meeting, event_fingerprint(str(forum_id), delegation_id, e, labels), e.sequence) for e in events]

    async def serve() -> dict[str, int]:
        async with connection.transaction():
            return await publications.served_sequences(connection, forum_id, delegation_id, shown)

    served = await retrying(serve, f"the calendar feed of {delegation_id}")
    return [msgspec.structs.replace(event, sequence=served[event.meeting]) for event in events]


@get(
    f"{DELEGATION_PATH}/calendar",
    tags=["calendar"],
    summary="The delegation's published meetings as iCalendar (the delegation, or the organiser)",
    media_type=CALENDAR,
)
async def read_calendar(
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    delegation_id: DelegationPath,
    if_none_match: IfNoneMatch = None,
) -> Response[bytes]:
    parsed = delegation_reader(caller, forum_id, delegation_id)
    async with pool.acquire() as connection:
        return await _calendar(connection, parsed, delegation_id, if_none_match)


@get(
    "/calendar/{feed:str}",
    tags=["calendar"],
    summary="A delegation's feed at its secret subscribe URL (no header)",
    media_type=CALENDAR,
    opt={MORE_ERRORS: (410,)},  # the forum is closed
)
async def read_subscribed_calendar(pool: PoolDep, feed: FeedPath, if_none_match: IfNoneMatch = None) -> Response[bytes]:
    key = feed.removesuffix(".ics")
    async with pool.acquire() as connection:
        owner = await publications.find_feed(connection, hash_token(key)) if feed.endswith(".ics") else None
        if owner is None:
            raise NotFound("no such calendar feed")
        if owner.closed:
            raise Gone("the forum is closed: its calendar feeds have ended")
        return await _calendar(connection, owner.forum_id, owner.delegation_id, if_none_match)


async def _link(
    connection: asyncpg.Connection, request: Request[Any, Any, Any], forum_id: Any, delegation_id: str, rotate: bool
) -> CalendarLink:
    generation = await publications.feed_generation(connection, forum_id, delegation_id) + (1 if rotate else 0)
    scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():  # a caller known some other way (a future cookie)
        raise Unauthorized("the calendar link is derived from the delegation's token: send it as a Bearer header")
    token = token.strip()
    key = feed_key(token, str(forum_id), delegation_id, generation)
    await publications.store_feed_key(connection, forum_id, delegation_id, generation, hash_token(key))
    return CalendarLink(f"{str(request.base_url).rstrip('/')}/calendar/{key}.ics")


@get(f"{DELEGATION_PATH}/calendar-link", tags=["calendar"], summary="The delegation's secret subscribe URL")
async def read_calendar_link(
    request: Request[Any, Any, Any],
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    delegation_id: DelegationPath,
) -> Response[CalendarLink]:
    parsed = delegation_itself(caller, forum_id, delegation_id, "its calendar link")

    async def attempt() -> Response[CalendarLink]:
        async with pool.acquire() as connection, connection.transaction():
            return json_response(await _link(connection, request, parsed, delegation_id, rotate=False))

    return await retrying(attempt, f"{request.method} {request.url.path}")


@post(
    f"{DELEGATION_PATH}/calendar-link/rotate",
    tags=["calendar"],
    summary="A new subscribe URL; the old one stops working",
    status_code=200,
)
async def rotate_calendar_link(
    request: Request[Any, Any, Any],
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    delegation_id: DelegationPath,
) -> Response[CalendarLink]:
    parsed = delegation_itself(caller, forum_id, delegation_id, "its calendar link")

    async def work(connection: asyncpg.Connection) -> Reply[CalendarLink]:
        link = await _link(connection, request, parsed, delegation_id, rotate=True)
        await record_change(connection, parsed, caller.actor, "rotate_calendar_link", "delegation", delegation_id)
        return Reply(link)

    return await run_change(pool, request, caller, None, work)


ROUTES = [
    diff_versions,
    list_publications,
    export_csv,
    export_xlsx,
    read_calendar,
    read_subscribed_calendar,
    read_calendar_link,
    rotate_calendar_link,
]
