"""The organiser's grid and requests pages and the delegation's agenda page, and what only they need.

Plain HTML, CSS and JavaScript under api/static, no build step. Pages carry no
data and no token: the token arrives in the URL fragment (`/grid#token=...`,
never sent to the server), stays in the tab's sessionStorage, and the page calls
the JSON API with it as a Bearer header. `GET /me` tells a page whose token it
holds; `.../agenda/detailed` is the agenda with the names a phone screen shows
(rooms, venues, counterparts, attendees), limited to the delegation's own meetings.
`.../revision` is what an open grid page polls to learn that a colleague's edit has
made the version it shows out of date (or that a version was added or published).
An open agenda page polls its detailed agenda with If-None-Match instead: its ETag is a
digest of the answer, so a 304 or a 200 tells the delegation nothing the answer does not.
`.../inbox` is the page's other half, polled the same way: the requests waiting for the
delegation's answer and those it made, with their parties' names.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, cast
from zoneinfo import ZoneInfo

import asyncpg
import msgspec
from litestar import Response, get
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from api.controllers.common import CallerDep, IfNoneMatch, PoolDep, load_forum, zone_of
from api.controllers.paths import DelegationPath, ForumPath
from api.controllers.schedules import PublicationNumber, published_meetings_of
from api.errors import NotFound
from api.guards import CallerKind, any_token, delegation_reader, organiser_hidden
from api.http import JSON, json_response, none_match
from db.queries import publications, revisions
from db.queries import requests as request_queries
from db.queries import runs as queries
from db.queries.publications import RoomLabel
from db.records import ForumRecord, PartyRole, PartyStatus, Priority, RequestRecord, RequestStatus
from solver.model import Window

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


@get("/requests", include_in_schema=False)
async def requests_page() -> Response[bytes]:
    """The organiser's requests board: every request (GET .../requests, all pages), filtered in the page."""
    return _page("requests.html")


class Me(msgspec.Struct):
    kind: CallerKind
    forum_id: str | None
    delegation_id: str | None


@get("/me", tags=["pages"], summary="Whose token this is: organiser or delegation, and of which forum")
async def read_me(caller: CallerDep) -> Response[Me]:
    any_token(caller)
    forum_id = str(caller.forum_id) if caller.forum_id else None
    return json_response(Me(caller.kind, forum_id, caller.delegation_id))


@get(
    "/forums/{forum_id:str}/revision",
    tags=["pages"],
    summary="The forum's setup revision and its latest and published version numbers, for a page to poll (organiser)",
)
async def read_revision(pool: PoolDep, caller: CallerDep, forum_id: ForumPath) -> Response[revisions.Pulse]:
    """Polled rather than streamed: an open grid page asks every few seconds, and one small
    statement per ask costs less than a stream held open (and polling the database) for the
    hours a page stays open; the page reads the version again only when a number has moved."""
    # Setup edits and unpublished versions are the organiser's: to a delegation, as if absent.
    parsed = organiser_hidden(caller, forum_id, "forum revision")
    async with pool.acquire() as connection:
        return json_response(await revisions.pulse(connection, parsed))


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
    publication: PublicationNumber
    published_at: datetime | None
    meetings: list[AgendaMeeting]


# What the detailed agenda reads besides the published version's own (immutable) grid: names of the
# forum, delegations, participants, rooms and venues, and which requests are accepted. Every edit of
# those is a setup edit, counted in the forum's revision at commit (migrations 0011 and 0014, as
# db/forum_state.py relies on), and a publication moves the published version or the count.
# Drafts (`latest_version`) are left out: a new version changes no delegation's agenda.
AgendaKey = tuple[int, int | None, int]
# Per process, the ETag each delegation's agenda last answered, under the key read before the
# answer was: an edit committed in between moves the key, so the tag is read afresh next time.
_tags: OrderedDict[tuple[str, str], tuple[AgendaKey, str]] = OrderedDict()
MAX_TAGS = 4096  # (forum, delegation) pairs: a key and a tag each, about 200 bytes


def _remember_tag(name: tuple[str, str], key: AgendaKey, tag: str) -> None:
    _tags[name] = (key, tag)
    _tags.move_to_end(name)
    while len(_tags) > MAX_TAGS:
        _tags.popitem(last=False)


AGENDA_CACHE = {"Cache-Control": "private, no-cache"}


@get(
    "/forums/{forum_id:str}/delegations/{delegation_id:str}/agenda/detailed",
    tags=["schedules"],
    summary="The published agenda with room, venue, counterpart and attendee names (the delegation, or the organiser);"
    " 304 to If-None-Match while unchanged",
)
async def read_detailed_agenda(
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    delegation_id: DelegationPath,
    if_none_match: IfNoneMatch = None,
) -> Response[DetailedAgenda]:
    """The ETag is a digest of the answer itself, so it moves when, and only when, what the caller
    would read moves: a setup edit or a draft that leaves this agenda as it was answers 304 still
    (a room it does not use, another pair's request), while every publication answers 200 (its
    `version` is in the answer). The digest is kept under the forum's numbers (`AgendaKey`): an
    open page's poll costs two statements (the token's and these numbers), not the agenda's ten
    (bench/api_scale.py)."""
    parsed = delegation_reader(caller, forum_id, delegation_id)
    name = (str(parsed), delegation_id)
    async with pool.acquire() as connection:
        pulse = await revisions.pulse(connection, parsed)  # before the agenda: an edit after it moves it
        key = (pulse.revision, pulse.published_version, pulse.publications)
        known = _tags.get(name)
        if known is not None and known[0] == key and none_match(if_none_match, known[1]):
            _tags.move_to_end(name)
            return _not_modified(known[1])
        forum = (await load_forum(connection, parsed)).item
        row, placements = await published_meetings_of(connection, parsed, delegation_id)
        names = await _names(connection, parsed, delegation_id, placements)
        publication = await publications.publication_of(connection, parsed, row.id)
    content = msgspec.json.encode(_detailed(forum, names, delegation_id, row, publication, placements))
    tag = f'"{hashlib.sha256(content).hexdigest()[:32]}"'
    _remember_tag(name, key, tag)
    if none_match(if_none_match, tag):
        return _not_modified(tag)
    # The bytes digested are the bytes sent: typed as the record they encode, as json_response does.
    answer = Response(content=content, media_type=JSON, headers={"ETag": tag, **AGENDA_CACHE})
    return cast("Response[DetailedAgenda]", answer)


def _not_modified(tag: str) -> Response[Any]:
    return Response(content=b"", status_code=304, headers={"ETag": tag, **AGENDA_CACHE})


class AgendaNames(msgspec.Struct, frozen=True):
    """The names one delegation's agenda prints: only what its own meetings mention."""

    delegations: dict[str, Party]  # the delegation and those it meets
    people: dict[str, Attendee]  # "delegation/participant" -> their participants
    rooms: dict[str, RoomLabel]
    titles: dict[str, str]  # of the meetings still accepted (a withdrawn one's is "")


async def _names(
    connection: asyncpg.Connection, forum_id: Any, delegation_id: str, placements: list[queries.GridPlacement]
) -> AgendaNames:
    # The forum's whole solver problem (every request, participant and room) took 65-105 ms at
    # UNGA scale for these few names (bench/api_scale.py, docs/benchmarks.md).
    involved = sorted({delegation_id} | {a.split("/", 1)[0] for p in placements for a in p.attendees})
    meeting_ids = [placement.meeting for placement in placements]
    delegations = await publications.delegation_labels(connection, forum_id, involved)
    people = await publications.people_labels(connection, forum_id, involved)
    return AgendaNames(
        delegations={d.id: Party(d.id, d.name, d.country) for d in delegations},
        people={f"{p.delegation}/{p.id}": Attendee(p.delegation, p.id, p.name, p.rank, p.principal) for p in people},
        rooms={room.id: room for room in await publications.room_labels(connection, forum_id)},
        titles=await publications.accepted_titles(connection, forum_id, meeting_ids),
    )


def _detailed(
    forum: ForumRecord,
    names: AgendaNames,
    delegation_id: str,
    row: queries.VersionRow,
    publication: int | None,
    placements: list[queries.GridPlacement],
) -> DetailedAgenda:
    zone = zone_of(forum)
    meetings = []
    for placement in placements:
        room = names.rooms.get(placement.room)
        attendees = [names.people[a] for a in placement.attendees if a in names.people]
        parties = sorted({a.delegation for a in attendees} - {delegation_id})
        meetings.append(
            AgendaMeeting(
                meeting=placement.meeting,
                title=names.titles.get(placement.meeting, ""),
                start=placement.start.astimezone(zone),
                end=placement.end.astimezone(zone),
                room=placement.room,
                room_name=room.name if room else placement.room,
                venue=room.venue if room else None,
                counterparts=[names.delegations[d] for d in parties if d in names.delegations],
                attendees=attendees,
            )
        )
    return DetailedAgenda(
        forum=forum.name,
        time_zone=forum.time_zone,
        delegation=names.delegations[delegation_id],
        people=[person for person in names.people.values() if person.delegation == delegation_id],
        version=row.number,
        publication=publication,
        published_at=row.published_at,
        meetings=meetings,
    )


# ---- the inbox


class InboxParty(msgspec.Struct):
    delegation: str
    name: str
    country: str
    role: PartyRole
    status: PartyStatus  # its answer
    # Who attends for it, as named so far (empty: its principals): a colleague or the organiser may
    # edit a pending request's (PATCH), and the page's "who attends" boxes follow them.
    attendees: list[str]


class InboxRequest(msgspec.Struct):
    id: str
    title: str
    duration_minutes: int
    priority: Priority
    preferred: list[Window]  # in the forum's time zone
    status: RequestStatus  # the request's: pending until every party has answered
    requester: str | None
    parties: list[InboxParty]  # the requester first
    created_at: datetime


class Inbox(msgspec.Struct):
    forum: str
    time_zone: str
    request_deadline: Annotated[
        datetime | None, msgspec.Meta(description="after this, pending requests expire (the forum's time zone)")
    ]
    delegation: Party
    waiting: Annotated[
        list[InboxRequest],
        msgspec.Meta(description="requests other delegations made that wait for this one's answer, oldest first"),
    ]
    sent: Annotated[
        list[InboxRequest],
        msgspec.Meta(description="requests this delegation made, whatever their status, oldest first"),
    ]


@get(
    "/forums/{forum_id:str}/delegations/{delegation_id:str}/inbox",
    tags=["requests"],
    summary="The requests waiting for the delegation's answer and those it made, with names (the delegation,"
    " or the organiser); 304 to If-None-Match while unchanged",
)
async def read_inbox(
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    delegation_id: DelegationPath,
    if_none_match: IfNoneMatch = None,
) -> Response[Inbox]:
    """What an open agenda page polls beside its agenda. Read whole each time (two statements on
    the delegation's own request rows, bench/api_scale.py): unlike the agenda's, what it shows is
    not all counted in the forum's revision (a new request, a decline of a pending one) and a
    pending request expires with the clock, so no tag is kept under numbers. The ETag is a digest
    of the answer: a 304 says nothing but "as you have it", and another delegation's inbox is 404."""
    parsed = delegation_reader(caller, forum_id, delegation_id)
    async with pool.acquire() as connection:
        owner = await request_queries.inbox_owner(connection, parsed, delegation_id)
        if owner is None:  # the organiser asking of no one (a delegation's token names its own)
            raise NotFound(f"no delegation {delegation_id}")
        rows = await request_queries.inbox_requests(
            connection, parsed, delegation_id, owner.request_deadline, datetime.now(UTC)
        )
    content = msgspec.json.encode(_inbox(owner, delegation_id, rows))
    tag = f'"{hashlib.sha256(content).hexdigest()[:32]}"'
    if none_match(if_none_match, tag):
        return _not_modified(tag)
    answer = Response(content=content, media_type=JSON, headers={"ETag": tag, **AGENDA_CACHE})
    return cast("Response[Inbox]", answer)


def _inbox(owner: request_queries.InboxOwner, delegation_id: str, rows: request_queries.InboxRows) -> Inbox:
    zone = ZoneInfo(owner.time_zone)
    waiting, sent = [], []
    for record in rows.requests:
        mine = next(party for party in record.parties if party.delegation == delegation_id)
        if mine.role == "requester":
            sent.append(_inbox_request(record, rows.names, zone))
        elif record.status == "pending" and mine.status == "pending":
            waiting.append(_inbox_request(record, rows.names, zone))
    deadline = owner.request_deadline.astimezone(zone) if owner.request_deadline else None
    delegation = Party(delegation_id, owner.name, owner.country)
    return Inbox(owner.forum, owner.time_zone, deadline, delegation, waiting, sent)


def _inbox_request(record: RequestRecord, names: dict[str, request_queries.PartyName], zone: ZoneInfo) -> InboxRequest:
    parties = [
        InboxParty(p.delegation, names[p.delegation].name, names[p.delegation].country, p.role, p.status, p.attendees)
        for p in record.parties
    ]
    preferred = [Window(_local(window.start, zone), _local(window.end, zone)) for window in record.preferred]
    return InboxRequest(
        id=record.id,
        title=record.title,
        duration_minutes=record.duration_minutes,
        priority=record.priority,
        preferred=preferred,
        status=record.status,
        requester=record.requester,
        parties=parties,
        created_at=record.created_at.astimezone(zone),
    )


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    """A stored forum-local (naive) time with the zone's offset."""
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)


ROUTES: list[ControllerRouterHandler] = [
    grid_page,
    agenda_page,
    requests_page,
    read_me,
    read_revision,
    read_detailed_agenda,
    read_inbox,
    create_static_files_router(path="/static", directories=[STATIC], include_in_schema=False),
]
