"""Stored schedule versions: the organiser lists, reads and publishes them; a
delegation reads only its own meetings of the published version (its agenda).

Before anything is published a delegation's agenda answers 404, and a delegation
never reads a whole grid: each version answers it 404, as if it did not exist.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import asyncpg
import msgspec
from litestar import Request, Response, get, post

from api import publishing
from api.controllers.common import CallerDep, IdempotencyKey, PoolDep, load_forum, zone_of
from api.controllers.paths import DelegationPath, ForumPath, VersionPath
from api.errors import Conflict, NotFound, missing
from api.guards import Caller, delegation_reader, forum_organiser, organiser_hidden
from api.http import Reply, json_response, run_change
from api.paging import DEFAULT_LIMIT, LINK_HEADER, AfterNumber, Limit, fetched, page
from api.publishing import in_zone
from db.queries import publications
from db.queries import runs as queries
from db.queries.audit import record_change
from db.queries.delegations import delegation_ids
from db.queries.revisions import OutOfDate, out_of_date
from solver.result import Unplaced

SCHEDULES_PATH = "/forums/{forum_id:str}/schedules"
VERSION_PATH = f"{SCHEDULES_PATH}/{{version:int}}"


class Grid(msgspec.Struct):
    number: int
    published: bool
    published_at: datetime | None
    created_at: datetime
    run_id: int | None
    derived_from: int | None  # the version this one was made from (a move, a fit option, a re-solve)
    status: str | None
    objective: int | None
    # When it was last published, kept after another replaced it (`published_at` is then null):
    # the grid page tells a version once published, which delegations saw, from a draft.
    last_published_at: datetime | None
    placements: list[queries.GridPlacement]  # start and end in the forum's time zone
    unplaced: list[Unplaced]
    forum_revision: int  # the forum's setup edits it was built with
    out_of_date: OutOfDate | None  # the setup edits since, which it was built without


# What a delegation is told of its agenda's origin: the version number counts the organiser's drafts
# too (kept: integrators read it, and change notices carry it); the publication counts only what
# delegations were shown, so the agenda page names that.
PublicationNumber = Annotated[
    int | None,
    msgspec.Meta(
        description="the publication this agenda is from: 1, 2, 3 ... in the forum, the `publication` of its change"
        " notices (`version` counts unpublished versions too); null for a version published before publications"
        " were recorded"
    ),
]


class Agenda(msgspec.Struct):
    delegation: str
    version: int
    publication: PublicationNumber
    published_at: datetime | None
    meetings: list[queries.GridPlacement]


@get(
    SCHEDULES_PATH,
    tags=["schedules"],
    summary="Every stored version, oldest first, by pages (organiser)",
    response_headers=[LINK_HEADER],
)
async def list_schedules(
    request: Request[Any, Any, Any],
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    after: AfterNumber = 0,
    limit: Limit = DEFAULT_LIMIT,
) -> Response[list[queries.VersionSummary]]:
    parsed = forum_organiser(caller, forum_id)
    async with pool.acquire() as connection:
        versions = await queries.list_versions(connection, parsed, after, fetched(limit))
    return page(request, versions, limit, lambda version: version.number)


def organiser_only(caller: Caller, forum_id: str, version: int) -> Any:
    """The organiser's forum id; to a delegation every whole grid is hidden (404)."""
    return organiser_hidden(caller, forum_id, f"schedule version {version}", "path:version")


@get(VERSION_PATH, tags=["schedules"], summary="One version's grid: placements and unplaced meetings (organiser)")
async def read_schedule(pool: PoolDep, caller: CallerDep, forum_id: ForumPath, version: VersionPath) -> Response[Grid]:
    parsed = organiser_only(caller, forum_id, version)
    async with pool.acquire() as connection:
        zone = zone_of((await load_forum(connection, parsed)).item)
        row = await queries.get_version(connection, parsed, version)
        if row is None:
            raise missing("path:version", f"no schedule version {version}")
        placements = await queries.grid_placements(connection, row.id, zone=zone)
        stale = await out_of_date(connection, parsed, [row.forum_revision])
        last_published = await publications.last_published(connection, parsed, row.id)
    schedule = row.schedule
    return json_response(
        Grid(
            number=row.number,
            published=row.published,
            published_at=row.published_at,
            created_at=row.created_at,
            run_id=row.run_id,
            derived_from=row.derived_from,
            status=schedule.get("status"),
            objective=schedule.get("objective"),
            last_published_at=last_published,
            placements=placements,
            unplaced=msgspec.convert(schedule.get("unplaced", []), list[Unplaced]),
            forum_revision=row.forum_revision,
            out_of_date=stale.get(row.forum_revision),
        )
    )


@post(
    f"{VERSION_PATH}/publish",
    tags=["schedules"],
    summary="Publish this version, withdrawing any other (organiser)",
    status_code=200,
)
async def publish_schedule(
    request: Request[Any, Any, Any],
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    version: VersionPath,
    idempotency_key: IdempotencyKey = None,
) -> Response[queries.VersionSummary]:
    parsed = forum_organiser(caller, forum_id)

    async def work(connection: asyncpg.Connection) -> Reply[queries.VersionSummary]:
        # The publication, its diff and the change notices commit with the publish itself.
        try:
            outcome = await publishing.publish(connection, parsed, version)
        except (publishing.Superseded, publishing.OutOfDate) as error:
            raise Conflict(str(error)) from None
        if not outcome.found:
            raise missing("path:version", f"no schedule version {version}")
        (summary,) = await queries.list_versions(connection, parsed, after=version - 1, limit=1)
        await record_change(connection, parsed, caller.actor, "publish", "schedule", str(version), None, summary)
        return Reply(summary)

    return await run_change(pool, request, caller, idempotency_key, work)


@get(
    "/forums/{forum_id:str}/delegations/{delegation_id:str}/agenda",
    tags=["schedules"],
    summary="The delegation's meetings in the published version (the delegation, or the organiser)",
)
async def read_agenda(
    pool: PoolDep, caller: CallerDep, forum_id: ForumPath, delegation_id: DelegationPath
) -> Response[Agenda]:
    parsed = delegation_reader(caller, forum_id, delegation_id)
    async with pool.acquire() as connection:
        zone = zone_of((await load_forum(connection, parsed)).item)
        row, meetings = await published_meetings_of(connection, parsed, delegation_id)
        publication = await publications.publication_of(connection, parsed, row.id)
    return json_response(Agenda(delegation_id, row.number, publication, row.published_at, in_zone(meetings, zone)))


async def published_meetings_of(
    connection: asyncpg.Connection, forum_id: Any, delegation_id: str
) -> tuple[queries.VersionRow, list[queries.GridPlacement]]:
    """The published version and the delegation's meetings in it; 404 for an unknown
    delegation (the organiser asking of no one) or before anything is published."""
    if delegation_id not in await delegation_ids(connection, forum_id):
        raise missing("path:delegation_id", f"no delegation {delegation_id}")  # as every 404 names its parameter
    row = await queries.get_version(connection, forum_id, None, published_only=True)
    if row is None:
        raise NotFound("no schedule has been published yet")
    return row, await queries.grid_placements(connection, row.id, delegation_id)


ROUTES = [list_schedules, read_schedule, publish_schedule, read_agenda]
