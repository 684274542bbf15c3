"""The organiser's grid page and the delegation's agenda page, and what only they need.

Plain HTML, CSS and JavaScript under api/static, no build step. Pages carry no
data and no token: the token arrives in the URL fragment (`/grid#token=...`,
never sent to the server), stays in the tab's sessionStorage, and the page calls
the JSON API with it as a Bearer header. `GET /me` tells a page whose token it
holds; `.../agenda/detailed` is the agenda with the names a phone screen shows
(rooms, venues, counterparts, attendees), limited to the delegation's own meetings.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec
from litestar import Response, get
from litestar.params import FromPath
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from api.controllers.common import CallerDep, PoolDep, load_forum, zone_of
from api.controllers.schedules import published_meetings_of
from api.errors import Unauthorized
from api.guards import CallerKind, delegation_reader
from api.http import json_response
from db.problem import build_problem
from db.queries import runs as queries
from solver.model import Delegation, Participant, Problem

STATIC = Path(__file__).resolve().parent.parent / "static"
# Pages load only their own files and talk only to this server; nobody may frame them.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none';"
    " form-action 'self'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


def _page(name: str) -> Response[bytes]:
    # Litestar appends "; charset=utf-8" to text/* media types: naming it here too sent it twice.
    return Response((STATIC / name).read_bytes(), media_type="text/html", headers=PAGE_HEADERS)


@get("/grid", include_in_schema=False)
async def grid_page() -> Response[bytes]:
    return _page("grid.html")


@get("/agenda", include_in_schema=False)
async def agenda_page() -> Response[bytes]:
    return _page("agenda.html")


class Me(msgspec.Struct):
    kind: CallerKind
    forum_id: str | None
    delegation_id: str | None


@get("/me", tags=["pages"], summary="Whose token this is: organiser or delegation, and of which forum")
async def read_me(caller: CallerDep) -> Response[Me]:
    if caller.kind == "anonymous":
        raise Unauthorized("this endpoint needs a bearer token")
    forum_id = str(caller.forum_id) if caller.forum_id else None
    return json_response(Me(caller.kind, forum_id, caller.delegation_id))


class Party(msgspec.Struct):
    id: str
    name: str
    country: str


class Attendee(msgspec.Struct):
    delegation: str
    participant: str
    name: str
    rank: str
    principal: bool


class AgendaMeeting(msgspec.Struct):
    meeting: str
    title: str
    start: datetime  # in the forum's time zone
    end: datetime
    room: str
    room_name: str
    venue: str | None
    counterparts: list[Party]
    attendees: list[Attendee]


class DetailedAgenda(msgspec.Struct):
    forum: str
    time_zone: str
    delegation: Party
    people: list[Attendee]  # the delegation's own participants
    version: int
    published_at: datetime | None
    meetings: list[AgendaMeeting]


@get(
    "/forums/{forum_id:str}/delegations/{delegation_id:str}/agenda/detailed",
    tags=["schedules"],
    summary="The published agenda with room, venue, counterpart and attendee names (the delegation, or the organiser)",
)
async def read_detailed_agenda(
    pool: PoolDep, caller: CallerDep, forum_id: FromPath[str], delegation_id: FromPath[str]
) -> Response[DetailedAgenda]:
    parsed = delegation_reader(caller, forum_id, delegation_id)
    async with pool.acquire() as connection:
        forum = (await load_forum(connection, parsed)).item
        row, placements = await published_meetings_of(connection, parsed, delegation_id)
        problem = await build_problem(connection, parsed, datetime.now(UTC))
        assert problem is not None
    return json_response(_detailed(problem, forum.time_zone, delegation_id, row, placements, zone_of(forum)))


def _detailed(
    problem: Problem,
    time_zone: str,
    delegation_id: str,
    row: queries.VersionRow,
    placements: list[queries.GridPlacement],
    zone: ZoneInfo,
) -> DetailedAgenda:
    delegations = {d.id: d for d in problem.delegations}
    people = {p.id: _attendee(d.id, p) for d in problem.delegations for p in d.participants}
    rooms = {room.id: room for room in problem.rooms}
    venues = {venue.id: venue.name for venue in problem.venues}
    titles = {meeting.id: meeting.title for meeting in problem.meetings}
    meetings = []
    for placement in placements:
        room = rooms.get(placement.room)
        attendees = [people[a] for a in placement.attendees if a in people]
        parties = sorted({a.delegation for a in attendees} - {delegation_id})
        meetings.append(
            AgendaMeeting(
                meeting=placement.meeting,
                title=titles.get(placement.meeting, ""),
                start=placement.start.astimezone(zone),
                end=placement.end.astimezone(zone),
                room=placement.room,
                room_name=room.name if room else placement.room,
                venue=venues.get(room.venue, room.venue) if room and room.venue else None,
                counterparts=[_party(delegations[d]) for d in parties if d in delegations],
                attendees=attendees,
            )
        )
    own = delegations[delegation_id]
    return DetailedAgenda(
        forum=problem.forum.name,
        time_zone=time_zone,
        delegation=_party(own),
        people=[people[p.id] for p in own.participants],
        version=row.number,
        published_at=row.published_at,
        meetings=meetings,
    )


def _party(delegation: Delegation) -> Party:
    return Party(delegation.id, delegation.name, delegation.country)


def _attendee(delegation_id: str, person: Participant) -> Attendee:
    participant = person.id.split("/", 1)[-1]  # the problem names people "delegation/participant"
    return Attendee(delegation_id, participant, person.name, person.rank, person.principal)


ROUTES: list[ControllerRouterHandler] = [
    grid_page,
    agenda_page,
    read_me,
    read_detailed_agenda,
    create_static_files_router(path="/static", directories=[STATIC], include_in_schema=False),
]
