"""Meeting requests: a delegation asks others (or the organiser arranges a call);
each invited delegation accepts, naming its attendees, or declines; the requester
may withdraw. Only accepted requests are scheduled.

A delegation sees only the requests it is party to; any other answers 404.
Requests the organiser creates (host-nation calls) start accepted by every party,
with the attendees the organiser names (else principals); a party may still decline.

Priorities are the organiser's: a delegation asks for at most `high` (its `must` is kept as
the request's `requested_priority` and used as `high`), and only the organiser sets a
request's priority afterwards.

A request is corrected in place (PATCH, If-Match), keeping its id, answers and history: the
organiser edits any field of any request not withdrawn, at any time the forum is open; the
requesting delegation edits its own request (all but the priority) and an invited one its own
attendees, while the request is pending or accepted and before the request deadline. When a
delegation changes the duration, the preferred windows, earliest or latest, or the requester
changes its own attendees so that its most senior one is of lower rank, the counterparts that had
accepted are asked again (pending); the organiser's edits keep every answer. The organiser's PATCH
of `priority` records its decision (`priority_decided_at`), even at the value it had. Only the
organiser changes the parties (`parties`): an added one is asked (pending), a removed one's answer
goes with it and it no longer sees the request. Each edit writes an audit entry, which counts as a
setup edit when the request was or is accepted.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, tzinfo
from typing import Annotated, Any, get_args
from zoneinfo import ZoneInfo

import asyncpg
import msgspec
from litestar import Request, Response, get, patch, post
from litestar.params import Body, QueryParameter

from api import request_notices
from api.controllers.common import (
    CallerDep,
    IdempotencyKey,
    IfMatch,
    IfNoneMatch,
    PoolDep,
    load_forum,
    order_errors,
    raise_if,
    window_errors,
    zone_of,
)
from api.controllers.paths import ForumPath, RequestPath
from api.errors import Conflict, FieldError, Forbidden, invalid, missing
from api.guards import OWN_ONLY, Caller, admits, forum_member
from api.http import Reply, check_version, etag, expected_version, json_response, none_match, run_change
from api.paging import DEFAULT_LIMIT, LINK_HEADER, Limit, fetched, page
from db.queries import requests as queries
from db.queries.audit import record_change
from db.queries.delegations import participant_ids
from db.records import (
    AcceptIn,
    ForumRecord,
    PartyRecord,
    PartyRole,
    PartyStatus,
    Priority,
    RequestIn,
    RequestPatch,
    RequestRecord,
    Stored,
    to_forum_time,
)
from solver.model import PRIORITIES, Rank

REQUESTS_PATH = "/forums/{forum_id:str}/requests"
REQUEST_PATH = f"{REQUESTS_PATH}/{{request_id:str}}"


def _now() -> datetime:
    return datetime.now(UTC)


def _party_filter(caller: Caller) -> str | None:
    return caller.delegation_id if caller.kind == "delegation" else None


def _check_request(context: queries.RequestContext, caller: Caller, body: RequestIn) -> list[FieldError]:
    forum = context.forum.item
    errors = window_errors("preferred", body.preferred)
    if body.duration_minutes % forum.slot_minutes:
        errors.append(FieldError("duration_minutes", f"must be a multiple of the {forum.slot_minutes}-minute slot"))
    errors.extend(_party_errors(context, body.parties))
    if caller.kind == "delegation" and body.id is not None:
        # Its own choice could meet another delegation's request, and the conflict would tell it exists.
        errors.append(FieldError("id", "only the organiser names a request's id"))
    if caller.kind == "delegation" and caller.delegation_id not in body.parties:
        errors.append(FieldError("parties", "must include your own delegation"))
    for party, attendees in body.attendees.items():
        if party not in body.parties:
            errors.append(FieldError(f"attendees.{party}", "is not a party to this request"))
        elif caller.kind == "delegation" and party != caller.delegation_id:
            errors.append(FieldError(f"attendees.{party}", "a delegation names only its own attendees"))
        else:
            errors.extend(_attendee_errors(context.participants[party], party, attendees, f"attendees.{party}"))
    return errors


def _party_errors(context: queries.RequestContext, parties: list[str]) -> list[FieldError]:
    """Each party a delegation of the forum, named once."""
    errors, seen = [], set()
    for index, party in enumerate(parties):
        if party not in context.delegations:
            errors.append(FieldError(f"parties[{index}]", f"no delegation {party}"))
        elif party in seen:
            errors.append(FieldError(f"parties[{index}]", f"{party} is listed twice"))
        seen.add(party)
    return errors


async def _request_context(connection: asyncpg.Connection, forum_id: Any, body: RequestIn) -> queries.RequestContext:
    context = await queries.request_context(connection, forum_id, list(body.attendees))
    if context is None:  # a token outlived its forum
        raise missing("path:forum_id", f"no forum {forum_id}")
    return context


async def check_request(
    connection: asyncpg.Connection, forum_id: Any, caller: Caller, body: RequestIn
) -> list[FieldError]:
    """The API's rules for a new request, for its other writers (the CSV import); `body` in forum time."""
    return _check_request(await _request_context(connection, forum_id, body), caller, body)


def _attendee_errors(known: set[str], delegation_id: str, attendees: list[str], path: str) -> list[FieldError]:
    return [
        FieldError(f"{path}[{index}]", f"no participant {person} in delegation {delegation_id}")
        for index, person in enumerate(attendees)
        if person not in known
    ]


def _parties(caller: Caller, body: RequestIn) -> list[PartyRecord]:
    """The requester has agreed by asking; an organiser's request is agreed by every party."""
    parties = []
    for party in body.parties:
        agreed = caller.kind == "organiser" or party == caller.delegation_id
        role: PartyRole = "requester" if party == caller.delegation_id else "invitee"
        parties.append(PartyRecord(party, role, "accepted" if agreed else "pending", body.attendees.get(party, [])))
    return queries.ordered_parties(parties)


# The highest priority a delegation's own request is used with: `must` outweighs ten `high`
# meetings, which is the organiser's call (the host's bilaterals, the ministers' must-meets).
DELEGATION_PRIORITY_CAP: Priority = "high"


def used_priority(caller: Caller, asked: Priority) -> Priority:
    """The priority a new request is used with: the organiser's as asked, a delegation's at most the cap."""
    # PRIORITIES runs from the highest: a smaller index is a higher priority.
    if caller.kind == "delegation" and PRIORITIES.index(asked) < PRIORITIES.index(DELEGATION_PRIORITY_CAP):
        return DELEGATION_PRIORITY_CAP
    return asked


def _before_the_deadline(caller: Caller, deadline: datetime | None, now: datetime) -> None:
    """A delegation asks before the deadline: a request made after it would be expired at birth,
    which no counterpart could answer. The organiser's requests start agreed, so it may still add."""
    if caller.kind == "delegation" and deadline is not None and now >= deadline:
        raise Conflict(
            f"the request deadline ({deadline.isoformat()}) has passed: ask the organiser, who may still add"
            " the meeting or move the deadline"
        )


def _new_request(caller: Caller, body: RequestIn, forum: ForumRecord, now: datetime) -> RequestRecord:
    """The request as a read of it will show it once inserted."""
    parties = _parties(caller, body)
    return RequestRecord(
        id=body.id or f"m-{secrets.token_hex(5)}",
        title=body.title,
        duration_minutes=body.duration_minutes,
        priority=used_priority(caller, body.priority),
        requested_priority=body.priority,
        preferred=body.preferred,
        created_by="organiser" if caller.kind == "organiser" else "delegation",
        requester=caller.delegation_id,
        status=queries.effective_status(False, parties, forum.request_deadline, now),
        parties=parties,
        created_at=now,
        updated_at=now,
        # the organiser chose the priority of its own request; a delegation's waits for its decision
        priority_decided_at=now if caller.kind == "organiser" else None,
    )


@post(REQUESTS_PATH, tags=["requests"], summary="Ask for a meeting (a party to it, or the organiser)")
async def create_request(
    request: Request[Any, Any, Any],
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    data: Annotated[RequestIn, Body()],
    idempotency_key: IdempotencyKey = None,
) -> Response[RequestRecord]:
    parsed = forum_member(caller, forum_id)

    async def work(connection: asyncpg.Connection) -> Reply[RequestRecord]:
        # Three round trips in all: the token (guards), this read, and the insert that also
        # writes the audit row and the notices to the parties asked (a new request names no
        # `needs.after`); the answer is built from what is inserted, not read back.
        context = await _request_context(connection, parsed, data)
        forum = context.forum.item
        body = to_forum_time(data, zone_of(forum))
        raise_if(_check_request(context, caller, body))
        now = _now()
        _before_the_deadline(caller, forum.request_deadline, now)
        record = _new_request(caller, body, forum, now)
        # the audit row holds the request as the answer shows it, times in the forum's zone
        shown = in_forum_time(record, zone_of(forum))
        audit = queries.AuditNote(caller.actor, "create", shown)
        created_by, requester = record.created_by, record.requester
        used = msgspec.structs.replace(body, priority=record.priority)
        try:
            version = await queries.insert_request(
                connection,
                parsed,
                record.id,
                used,
                created_by,
                requester,
                record.parties,
                created_at=now,
                audit=audit,
                requested_priority=body.priority,
                notices=request_notices.received_notices(parsed, [shown], _party_filter(caller), now),
            )
        except asyncpg.UniqueViolationError as error:  # only the organiser names ids: it may know them all
            if error.table_name != "meeting_requests":  # the statement writes notices too: not the id's fault
                raise
            raise Conflict(f"a request {record.id} already exists", [FieldError("id", "is taken")]) from None
        headers = {"Location": f"{request.url.path}/{record.id}", "ETag": etag(version)}
        # the audit row keeps the organiser's view (who reads the audit); the caller gets its own
        answer = shown if caller.kind == "organiser" else request_notices.for_delegation(shown)
        return Reply(answer, 201, headers)

    return await run_change(pool, request, caller, idempotency_key, work, one_statement=True)


class ListedRequest(RequestRecord, kw_only=True):
    """A request as a list shows it: with the ETag a read of it answers, so that a page holding
    the list edits a request (PATCH, If-Match) as it read it, without reading each one again."""

    etag: Annotated[str, msgspec.Meta(description="the request's ETag, as GET answers it: send it as If-Match")]


def _listed(record: RequestRecord, version: int) -> ListedRequest:
    return ListedRequest(**msgspec.structs.asdict(record), etag=etag(version))


@get(
    REQUESTS_PATH,
    tags=["requests"],
    summary="List requests in order of creation, by pages (organiser: all; a delegation: those it is party to)",
    response_headers=[LINK_HEADER],
)
async def list_requests(
    request: Request[Any, Any, Any],
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    after: Annotated[
        str | None,
        QueryParameter(name="after", min_length=1, max_length=64, description="the `id` of the last request you have"),
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    if_none_match: IfNoneMatch = None,
) -> Response[list[ListedRequest]]:
    """ETag and 304 (If-None-Match). The organiser's tag is read before the list, in one statement
    that does not grow with the forum: the forum's count of request changes (migration 0020) and
    whether its deadline has passed (pending requests then read as expired), so an unchanged list
    answers 304 without reading a request, and every page's tag moves together. A delegation's tag
    is a digest of its own page (body and Link): a count of the forum's changes would tell it when
    other delegations' requests change."""
    parsed = forum_member(caller, forum_id)
    party = _party_filter(caller)
    now = _now()
    tag = None
    async with pool.acquire() as connection:
        if party is None:  # the pulse has the deadline: no more statements than before for a 200
            pulse = await queries.list_pulse(connection, parsed)
            if pulse is None:  # a token outlived its forum
                raise missing("path:forum_id", f"no forum {forum_id}")
            tag = _organiser_tag(pulse, now, after, limit)
            if none_match(if_none_match, tag):
                return not_modified(tag)
            deadline, zone = pulse.request_deadline, ZoneInfo(pulse.time_zone)
        else:
            forum = (await load_forum(connection, parsed)).item
            deadline, zone = forum.request_deadline, zone_of(forum)
        found = await queries.list_requests(connection, parsed, deadline, now, party, after=after, limit=fetched(limit))
        # An empty page after a request the caller may not see is not the end: it pages from nothing.
        # Another delegation's request is named as unknown, as one that does not exist.
        if after is not None and not found and not await queries.sees_request(connection, parsed, after, party):
            raise invalid("query:after", f"no request {after}")
        seen = await _as_seen(connection, parsed, caller, [stored.item for stored in found], zone)
    shown = [_listed(record, stored.version) for record, stored in zip(seen, found, strict=True)]
    answer = page(request, shown, limit, lambda record: record.id)
    if tag is None:
        digest = hashlib.sha256(msgspec.json.encode(shown) + answer.headers.get("Link", "").encode())
        tag = f'"{digest.hexdigest()[:32]}"'
        if none_match(if_none_match, tag):
            return not_modified(tag)
    answer.headers.update({"ETag": tag, **LIST_CACHE})
    return answer


# A list is read afresh by a poll: a cache keeps it only to ask again with If-None-Match.
LIST_CACHE = {"Cache-Control": "private, no-cache"}


def not_modified(tag: str) -> Response[Any]:
    return Response(content=b"", status_code=304, headers={"ETag": tag, **LIST_CACHE})


def _organiser_tag(pulse: queries.ListPulse, now: datetime, after: str | None, limit: int) -> str:
    expired = pulse.request_deadline is not None and now >= pulse.request_deadline
    # the page asked for, and the zone its times are shown in (the organiser may change it)
    which = hashlib.sha256(f"{after}|{limit}|{pulse.time_zone}".encode()).hexdigest()[:8]
    return f'"requests-{pulse.changes}-{"expired" if expired else "open"}-{which}"'


@admits(
    "organiser",
    "delegation",
    note=f"{OWN_ONLY}: a delegation's token reaches the requests it is party to;"
    " any other answers 404, as if it did not exist.",
)
async def _visible_request(
    connection: asyncpg.Connection, forum_id: Any, caller: Caller, request_id: str, for_update: bool = False
) -> tuple[Stored[RequestRecord], ZoneInfo]:
    """The request, and the forum's zone (its times are shown in it)."""
    forum = (await load_forum(connection, forum_id)).item
    stored = await queries.get_request(connection, forum_id, request_id, forum.request_deadline, _now(), for_update)
    party = _party_filter(caller)
    if stored is None or (party is not None and all(p.delegation != party for p in stored.item.parties)):
        # named as every 404 names the path parameter that names nothing; a hidden one alike
        raise missing("path:request_id", f"no request {request_id}")
    return stored, zone_of(forum)


def in_forum_time(record: RequestRecord, zone: tzinfo) -> RequestRecord:
    """The request with its instants (`created_at`, `updated_at`, `priority_decided_at`) in the
    forum's zone, with its offset, as the API shows every other time (the deadline, placements);
    stored in UTC."""
    decided = record.priority_decided_at
    return msgspec.structs.replace(
        record,
        created_at=record.created_at.astimezone(zone),
        updated_at=record.updated_at.astimezone(zone),
        priority_decided_at=decided.astimezone(zone) if isinstance(decided, datetime) else decided,
    )


async def _as_seen(
    connection: asyncpg.Connection, forum_id: Any, caller: Caller, records: list[RequestRecord], zone: tzinfo
) -> list[RequestRecord]:
    """The requests as the caller may read them, their times in the forum's zone: a delegation's
    copy names in `needs.after` only requests it is party to (the organiser may order a meeting
    after anyone's, a loaded problem's `after`, and another delegation's request id would tell
    who meets whom) and leaves out `priority_decided_at` (`request_notices.for_delegation`)."""
    party = _party_filter(caller)
    named = {other for record in records for other in record.needs.after}
    shown = [in_forum_time(record, zone) for record in records]
    if party is None:
        return shown
    shown = [request_notices.for_delegation(record) for record in shown]
    if not named:
        return shown
    own = await queries.party_request_ids(connection, forum_id, party, sorted(named))
    return [request_notices.after_only(record, own) for record in shown]


@get(REQUEST_PATH, tags=["requests"], summary="Read a request (ETag)")
async def read_request(
    pool: PoolDep, caller: CallerDep, forum_id: ForumPath, request_id: RequestPath
) -> Response[RequestRecord]:
    parsed = forum_member(caller, forum_id)
    async with pool.acquire() as connection:
        stored, zone = await _visible_request(connection, parsed, caller, request_id)
        (shown,) = await _as_seen(connection, parsed, caller, [stored.item], zone)
    return json_response(shown, headers={"ETag": etag(stored.version)})


@admits("delegation")
def _own_party(caller: Caller, record: RequestRecord) -> PartyRecord:
    if caller.kind != "delegation":
        raise Forbidden("only an invited delegation answers a request")
    party = next(p for p in record.parties if p.delegation == caller.delegation_id)
    if party.role != "invitee":
        raise Conflict("the requester does not answer its own request; it may withdraw it")
    return party


def _must_be_open(record: RequestRecord) -> None:
    if record.status in ("withdrawn", "expired", "declined"):
        raise Conflict(f"the request is {record.status}")


async def _answer(
    request: Request[Any, Any, Any],
    pool: asyncpg.Pool,
    caller: Caller,
    forum_id: str,
    request_id: str,
    if_match: str | None,
    idempotency_key: str | None,
    accept: AcceptIn | None,
) -> Response[RequestRecord]:
    """Accept (with attendees) when `accept` is given, else decline."""
    parsed = forum_member(caller, forum_id)
    expected = expected_version(if_match, required=False)

    async def work(connection: asyncpg.Connection) -> Reply[RequestRecord]:
        current, _ = await _visible_request(connection, parsed, caller, request_id, for_update=True)
        check_version(current.version, expected)
        party = _own_party(caller, current.item)
        _must_be_open(current.item)
        if accept is not None and party.status != "pending":
            raise Conflict(f"your delegation has already {party.status} this request")
        attendees = accept.attendees if accept is not None else []
        known = await participant_ids(connection, parsed, party.delegation)
        raise_if(_attendee_errors(known, party.delegation, attendees, "attendees"))
        status: PartyStatus = "accepted" if accept is not None else "declined"
        await queries.set_party_answer(connection, parsed, request_id, party.delegation, status, attendees)
        return await _changed(connection, parsed, caller, request_id, current.item, status[:-2])

    return await run_change(pool, request, caller, idempotency_key, work)


async def _changed(
    connection: asyncpg.Connection, forum_id: Any, caller: Caller, request_id: str, before: RequestRecord, action: str
) -> Reply[RequestRecord]:
    after, zone = await _visible_request(connection, forum_id, caller, request_id)
    before, now = in_forum_time(before, zone), in_forum_time(after.item, zone)  # as reads show them
    await record_change(connection, forum_id, caller.actor, action, "request", request_id, before, now)
    await request_notices.changed(connection, forum_id, before, now, _party_filter(caller), action, _now())
    (shown,) = await _as_seen(connection, forum_id, caller, [after.item], zone)
    return Reply(shown, headers={"ETag": etag(after.version)})


@post(
    f"{REQUEST_PATH}/accept",
    tags=["requests"],
    summary="Accept, naming attendees (an invited delegation)",
    status_code=200,
)
async def accept_request(
    request: Request[Any, Any, Any],
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    request_id: RequestPath,
    data: Annotated[AcceptIn, Body()],
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> Response[RequestRecord]:
    return await _answer(request, pool, caller, forum_id, request_id, if_match, idempotency_key, data)


@post(f"{REQUEST_PATH}/decline", tags=["requests"], summary="Decline (an invited delegation)", status_code=200)
async def decline_request(
    request: Request[Any, Any, Any],
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    request_id: RequestPath,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> Response[RequestRecord]:
    return await _answer(request, pool, caller, forum_id, request_id, if_match, idempotency_key, None)


@admits("organiser", "delegation", note="A delegation withdraws only the requests it made (403 for the others).")
def _withdrawer(caller: Caller, record: RequestRecord) -> None:
    if caller.kind == "delegation" and record.requester != caller.delegation_id:
        raise Forbidden("only the requesting delegation may withdraw a request")


@post(
    f"{REQUEST_PATH}/withdraw",
    tags=["requests"],
    summary="Withdraw (the requester, or the organiser)",
    status_code=200,
)
async def withdraw_request(
    request: Request[Any, Any, Any],
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    request_id: RequestPath,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> Response[RequestRecord]:
    parsed = forum_member(caller, forum_id)
    expected = expected_version(if_match, required=False)

    async def work(connection: asyncpg.Connection) -> Reply[RequestRecord]:
        current, _ = await _visible_request(connection, parsed, caller, request_id, for_update=True)
        check_version(current.version, expected)
        _withdrawer(caller, current.item)
        if current.item.status == "withdrawn":
            raise Conflict("the request is already withdrawn")
        await queries.withdraw_request(connection, parsed, request_id)
        return await _changed(connection, parsed, caller, request_id, current.item, "withdraw")

    return await run_change(pool, request, caller, idempotency_key, work)


# A delegation's change of the time the meeting takes or of when it may lie asks the counterparts
# that accepted again (`_asked_again`); title, attendees and room needs are the asking side's logistics.
_NEEDS = ("features", "seats", "earliest", "latest")
_OWN = ("title", "duration_minutes", "priority", "preferred")


def _sent(data: RequestPatch) -> set[str]:
    return {name for name in data.__struct_fields__ if getattr(data, name) is not msgspec.UNSET}


@admits(
    "organiser",
    "delegation",
    note="The organiser edits any request; the requesting delegation its own request but its priority and"
    " parties (403), an invited one its own attendees only (403); a delegation only before the request deadline"
    " (409).",
)
def _editor(caller: Caller, record: RequestRecord, sent: set[str], deadline: datetime | None, now: datetime) -> None:
    if caller.kind != "delegation":
        return
    if "priority" in sent:
        raise Forbidden("only the forum's organiser sets a request's priority")
    if "parties" in sent:  # who meets whom is the organiser's to change; a delegation withdraws and asks again
        raise Forbidden("only the forum's organiser changes a request's parties")
    role = next(p.role for p in record.parties if p.delegation == caller.delegation_id)
    if role != "requester" and sent - {"attendees"}:
        named = ", ".join(sorted(sent - {"attendees"}))
        raise Forbidden(f"an invited delegation edits only its own attendees, not {named}")
    if deadline is not None and now >= deadline:
        raise Conflict(
            f"the request deadline ({deadline.isoformat()}) has passed: only the organiser edits requests now"
        )


def _edited(record: RequestRecord, data: RequestPatch, sent: set[str], asked: PartyStatus = "pending") -> RequestRecord:
    """The request with the fields sent replaced (its status as it was: the caller settles it);
    a party added starts `asked`."""
    needs = msgspec.structs.replace(record.needs, **{name: getattr(data, name) for name in _NEEDS if name in sent})
    attendees = data.attendees if isinstance(data.attendees, dict) else {}
    parties = [
        msgspec.structs.replace(party, attendees=attendees[party.delegation])
        if party.delegation in attendees
        else party
        for party in _new_parties(record, data, asked)
    ]
    own = {name: getattr(data, name) for name in _OWN if name in sent}
    return msgspec.structs.replace(record, **own, needs=needs, parties=parties)


def _added_party_status(deadline: datetime | None, now: datetime) -> PartyStatus:
    """A party the organiser adds is asked (pending) until the request deadline; after it, asking
    would expire the request at once (no one answers an expired request), so it starts agreed, as
    the organiser's new requests do then."""
    return "accepted" if deadline is not None and now >= deadline else "pending"


def _new_parties(record: RequestRecord, data: RequestPatch, asked: PartyStatus) -> list[PartyRecord]:
    """The parties once `data.parties` is applied: those kept as they were, answers and all; each
    added one asked, as a new request's invitee is (`asked`, its principals); the removed gone."""
    if not isinstance(data.parties, list):
        return record.parties
    kept = {party.delegation: party for party in record.parties}
    named = dict.fromkeys(data.parties)  # a party listed twice is refused by _party_errors, not added twice
    return queries.ordered_parties(
        [kept.get(delegation) or PartyRecord(delegation, "invitee", asked) for delegation in named]
    )


def _edit_errors(
    context: queries.RequestContext,
    offer: queries.RoomOffer,
    caller: Caller,
    record: RequestRecord,
    data: RequestPatch,
    edited: RequestRecord,
) -> list[FieldError]:
    """POST's rules for the fields sent, and what rooms exist for its needs."""
    forum = context.forum.item
    errors: list[FieldError] = []
    if isinstance(data.duration_minutes, int) and data.duration_minutes % forum.slot_minutes:
        errors.append(FieldError("duration_minutes", f"must be a multiple of the {forum.slot_minutes}-minute slot"))
    if isinstance(data.preferred, list):
        errors.extend(window_errors("preferred", data.preferred))
    if isinstance(data.parties, list):
        errors.extend(_party_errors(context, data.parties))
        if record.requester is not None and record.requester not in data.parties:
            errors.append(FieldError("parties", f"must keep the requester {record.requester}"))
    parties = _party_ids(edited)  # an added party's attendees may be named in the same edit
    for party, attendees in (data.attendees if isinstance(data.attendees, dict) else {}).items():
        if party not in parties:
            errors.append(FieldError(f"attendees.{party}", "is not a party to this request"))
        elif caller.kind == "delegation" and party != caller.delegation_id:
            errors.append(FieldError(f"attendees.{party}", "a delegation names only its own attendees"))
        else:
            errors.extend(_attendee_errors(context.participants[party], party, attendees, f"attendees.{party}"))
    features = data.features if isinstance(data.features, list) else []
    errors.extend(room_errors(offer, features, data.seats if isinstance(data.seats, int) else None))
    if not {"earliest", "latest"}.isdisjoint(_sent(data)):
        errors.extend(order_errors("latest", edited.needs.earliest, edited.needs.latest, "earliest"))
    return errors


def room_errors(offer: queries.RoomOffer, features: list[str], seats: int | None) -> list[FieldError]:
    """What no room of the forum could hold: a feature none offers, more seats than the largest
    has (none when it has no room yet). PATCH's rule, and the CSV import's for a new request."""
    errors = [
        FieldError(f"features[{index}]", f"no room of the forum offers {feature!r}")
        for index, feature in enumerate(features)
        if feature not in offer.features
    ]
    if seats is not None and (offer.seats is None or seats > offer.seats):
        errors.append(FieldError("seats", f"no room of the forum has {seats} seats (most: {offer.seats or 0})"))
    return errors


# Protocol ranks from the highest (solver/model.py `Rank`); a rank not among them counts as none.
RANKS: tuple[str, ...] = get_args(Rank)


def _seniority(context: queries.RequestContext, party: PartyRecord) -> int:
    """The rank (index in RANKS: smaller is more senior) of the party's most senior attendee,
    its principals when it names none; len(RANKS) when no one known attends."""
    ranks = context.ranks.get(party.delegation, {})
    people = party.attendees or sorted(context.principals.get(party.delegation, set()))
    return min((RANKS.index(ranks[p]) for p in people if ranks.get(p) in RANKS), default=len(RANKS))


def _rank_dropped(context: queries.RequestContext, caller: Caller, before: RequestRecord, after: RequestRecord) -> bool:
    """Whether the requesting delegation's own attendee change lowered its most senior attendee's
    rank (a minister replaced by an official): those who accepted a meeting with a minister did not
    accept one with an official. Ranks as they are now, before and after; only when it named its own."""
    requester = before.requester
    if requester is None or caller.delegation_id != requester:  # the requester's own edit (_asked_again)
        return False
    if requester not in context.ranks:  # it did not send its own attendees: the context has no ranks
        return False
    was = next(p for p in before.parties if p.delegation == requester)
    now = next(p for p in after.parties if p.delegation == requester)
    return _seniority(context, now) > _seniority(context, was)


def _asked_again(
    context: queries.RequestContext, caller: Caller, before: RequestRecord, after: RequestRecord
) -> list[str]:
    """The counterparts that accepted and must answer again: a delegation changed when or how long,
    or the requester sends someone of lower rank (`_rank_dropped`). The organiser's edits keep
    every answer (it arranges the grid; its own requests start agreed)."""
    if caller.kind != "delegation":
        return []
    same_time = (before.duration_minutes, before.preferred) == (after.duration_minutes, after.preferred)
    same_window = (before.needs.earliest, before.needs.latest) == (after.needs.earliest, after.needs.latest)
    if same_time and same_window and not _rank_dropped(context, caller, before, after):
        return []
    return [p.delegation for p in after.parties if p.delegation != caller.delegation_id and p.status == "accepted"]


@patch(
    REQUEST_PATH,
    tags=["requests"],
    summary="Edit a request (If-Match): the organiser any field, the requester all but priority before the"
    " deadline, an invitee its own attendees; a delegation's change of time asks the counterparts again",
)
async def edit_request(
    request: Request[Any, Any, Any],
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    request_id: RequestPath,
    data: Annotated[RequestPatch, Body()],
    if_match: IfMatch = None,
) -> Response[RequestRecord]:
    parsed = forum_member(caller, forum_id)
    expected = expected_version(if_match)
    sent = _sent(data)

    async def work(connection: asyncpg.Connection) -> Reply[RequestRecord]:
        # A request the delegation is no party to answers 404 first, as every other request route.
        current, _ = await _visible_request(connection, parsed, caller, request_id, for_update=True)
        before = current.item
        named = sorted(data.attendees) if isinstance(data.attendees, dict) else []
        parties = set(data.parties) if isinstance(data.parties, list) else _party_ids(before)
        context = await queries.request_context(connection, parsed, [p for p in named if p in parties])
        assert context is not None  # _visible_request found the forum
        forum = context.forum.item
        now = _now()
        _editor(caller, before, sent, forum.request_deadline, now)
        check_version(current.version, expected)
        if before.status == "withdrawn" or caller.kind == "delegation":
            _must_be_open(before)  # a delegation edits what is still asked or agreed
        body = to_forum_time(data, zone_of(forum))
        edited = _edited(before, body, sent, _added_party_status(forum.request_deadline, now))
        # The organiser's PATCH of `priority` decides it, even at the value it has: a change (audit
        # entry, list count) that the requests page's "needs a priority" reads; no setup edit (0023).
        if caller.kind == "organiser" and "priority" in sent:
            edited = msgspec.structs.replace(edited, priority_decided_at=now)
        offer = await queries.room_offer(connection, parsed) if {"features", "seats"} & sent else NO_ROOMS
        raise_if(_edit_errors(context, offer, caller, before, body, edited))
        if edited == before:  # nothing to change, nothing to audit or count
            (shown,) = await _as_seen(connection, parsed, caller, [before], zone_of(forum))
            return Reply(shown, headers={"ETag": etag(current.version)})
        again = _asked_again(context, caller, before, edited)
        await queries.update_request(connection, parsed, before, edited, again)
        action = "set_priority" if sent == {"priority"} else "edit"
        return await _changed(connection, parsed, caller, request_id, before, action)

    return await run_change(pool, request, caller, None, work)


NO_ROOMS = queries.RoomOffer(frozenset(), None)


def _party_ids(record: RequestRecord) -> set[str]:
    return {party.delegation for party in record.parties}


ROUTES = [
    create_request,
    edit_request,
    list_requests,
    read_request,
    accept_request,
    decline_request,
    withdraw_request,
]
