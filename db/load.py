"""Store a whole solver problem as a forum, in one transaction.

Used by `sidelines load`, `POST /forums/import` and `sidelines demo`. The forum
gets everything the problem holds: programme sessions, venues, travel, rooms,
resources, delegations with their participants and availability, keep-apart
pairs, objective settings, and one meeting request per meeting. Requests are
created as the organiser creates them (every party accepted, with the
meeting's listed participants as attendees, else the principals), because the
solver only schedules accepted requests. `previous` placements are not stored:
a stored forum's previous grid is its published version.

Participant ids are unique per delegation in the database and appear in
`db.problem.build_problem` as "delegation/participant"; a problem id already of
that form (a problem read back from a forum) loses its prefix here, so loading
and reading back are inverse up to that renaming (`participant_ids`).

Tokens are returned once and stored only as hashes, as the API does.
"""

from __future__ import annotations

from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

from db.queries import forums, items
from db.queries import requests as request_queries
from db.queries.audit import record_change
from db.queries.delegations import DELEGATIONS, PARTICIPANTS, insert_keep_apart
from db.queries.setup import RESOURCES, ROOMS, SESSIONS, TRAVEL, VENUES, travel_id
from db.records import (
    DelegationRecord,
    ForumSettings,
    Id,
    MeetingNeeds,
    ParticipantRecord,
    RequestIn,
    ResourceRecord,
    RoomRecord,
    SessionRecord,
    TravelIn,
    TravelRecord,
    VenueRecord,
    id_rule_message,
    nul_field,
    to_forum_time,
)
from db.tokens import hash_token, new_token
from solver.check import Finding, ProblemError, check_problem, plain_message, split_validation
from solver.model import ObjectiveSettings, Problem

T = TypeVar("T")
R = TypeVar("R", bound=msgspec.Struct)


class LoadedForum(msgspec.Struct, frozen=True):
    """The stored forum and its tokens, shown once (only their hashes are stored)."""

    forum_id: str
    organiser_token: str
    delegation_tokens: dict[str, str]  # delegation id -> token


class _Delegation(msgspec.Struct):
    record: DelegationRecord
    participants: list[ParticipantRecord]


class _Request(msgspec.Struct):
    id: str
    body: RequestIn
    needs: MeetingNeeds


class _Records(msgspec.Struct):
    """The problem as the records the database stores, checked before anything is written."""

    settings: ForumSettings
    sessions: list[SessionRecord]
    venues: list[VenueRecord]
    travel: list[TravelRecord]
    rooms: list[RoomRecord]
    resources: list[ResourceRecord]
    delegations: list[_Delegation]
    requests: list[_Request]


def participant_ids(problem: Problem) -> dict[str, tuple[str, str]]:
    """Each problem participant id -> (delegation id, participant id as stored)."""
    return {
        person.id: (delegation.id, person.id.removeprefix(f"{delegation.id}/"))
        for delegation in problem.delegations
        for person in delegation.participants
    }


async def load_problem(connection: asyncpg.Connection, problem: Problem, *, actor: str = "load") -> LoadedForum:
    """Store `problem` as a new forum and issue its tokens; all or nothing.

    Raises ProblemError (findings with field paths into the problem) when the
    problem is not one the solver accepts or an id is not allowed in a URL.
    """
    findings = check_problem(problem)
    if findings:
        raise ProblemError(findings)
    if (field := nul_field(msgspec.to_builtins(problem))) is not None:  # the API refuses it before; the CLI reads files
        raise ProblemError([Finding(field, "may not contain the NUL character (U+0000)")])
    records = _records(problem)
    async with connection.transaction():
        organiser_token = new_token()
        forum = await forums.insert_forum(connection, records.settings, hash_token(organiser_token))
        forum_id = forum.item.id
        await _store_setup(connection, forum_id, records)
        tokens = await _store_delegations(connection, forum_id, records.delegations)
        for first, second in (pair.delegations for pair in problem.keep_apart):
            await insert_keep_apart(connection, forum_id, first, second)
        if problem.objective != ObjectiveSettings():
            await forums.set_objective(connection, forum_id, problem.objective)
        for request in records.requests:
            parties = request_queries.organiser_parties(request.body)
            await request_queries.insert_request(
                connection, forum_id, request.id, request.body, "organiser", None, parties, request.needs
            )
        summary = {"delegations": len(records.delegations), "requests": len(records.requests)}
        await record_change(connection, forum_id, actor, "load", "forum", forum_id, None, summary)
    return LoadedForum(forum_id, organiser_token, tokens)


async def _store_setup(connection: asyncpg.Connection, forum_id: str, records: _Records) -> None:
    scope = (forum_id,)
    # venues before rooms and travel, which refer to them
    await _insert_all(connection, VENUES, scope, records.venues)
    await _insert_all(connection, SESSIONS, scope, records.sessions)
    await _insert_all(connection, TRAVEL, scope, records.travel)
    await _insert_all(connection, ROOMS, scope, records.rooms)
    await _insert_all(connection, RESOURCES, scope, records.resources)


async def _insert_all(
    connection: asyncpg.Connection, family: items.Family[R], scope: tuple[str], stored: list[R]
) -> None:
    for record in stored:
        await items.insert_item(connection, family, scope, record)


async def _store_delegations(
    connection: asyncpg.Connection, forum_id: str, delegations: list[_Delegation]
) -> dict[str, str]:
    tokens: dict[str, str] = {}
    for delegation in delegations:
        token = new_token()
        record = delegation.record
        await items.insert_item(connection, DELEGATIONS, (forum_id,), record, {"token_hash": hash_token(token)})
        for person in delegation.participants:
            await items.insert_item(connection, PARTICIPANTS, (forum_id, record.id), person)
        tokens[record.id] = token
    return tokens


# ---- the problem as records


def _records(problem: Problem) -> _Records:
    """Every part of `problem` as its record type, in forum-local time; ProblemError naming each bad field."""
    zone = ZoneInfo(problem.forum.time_zone)
    people = participant_ids(problem)
    findings: list[Finding] = []

    def convert(value: Any, record_type: type[T], path: str) -> T:
        try:
            converted = msgspec.convert(value, record_type, from_attributes=True)
        except msgspec.ValidationError as error:
            findings.append(_finding(path, str(error), record_type))
            return None  # type: ignore[return-value]  # only read when findings is empty
        return to_forum_time(converted, zone)

    def each(values: list[Any], record_type: type[T], path: str) -> list[T]:
        return [convert(value, record_type, f"{path}[{index}]") for index, value in enumerate(values)]

    forum = problem.forum
    settings = convert(
        {"name": forum.name, "time_zone": forum.time_zone, "slot_minutes": forum.slot_minutes, "days": forum.days},
        ForumSettings,
        "forum",
    )
    sessions = [
        msgspec.structs.replace(session, participants=[_problem_id(people[p]) for p in session.participants])
        for session in each(problem.sessions, SessionRecord, "sessions")
        if session is not None
    ]
    travel = [
        TravelRecord(travel_id(*entry.between), tuple(sorted(entry.between)), entry.minutes)  # type: ignore[arg-type]
        for entry in each(problem.travel, TravelIn, "travel")
        if entry is not None
    ]
    delegations = [
        _Delegation(
            convert(delegation, DelegationRecord, f"delegations[{d_index}]"),
            [
                convert(
                    {**_fields(person), "id": people[person.id][1]},
                    ParticipantRecord,
                    f"delegations[{d_index}].participants[{p_index}]",
                )
                for p_index, person in enumerate(delegation.participants)
            ],
        )
        for d_index, delegation in enumerate(problem.delegations)
    ]
    requests = [
        _Request(
            convert(meeting.id, Id, f"meetings[{index}].id"),
            convert(_request_body(meeting, people), RequestIn, f"meetings[{index}]"),
            convert(meeting, MeetingNeeds, f"meetings[{index}]"),
        )
        for index, meeting in enumerate(problem.meetings)
    ]
    records = _Records(
        settings=settings,
        sessions=sessions,
        venues=each(problem.venues, VenueRecord, "venues"),
        travel=travel,
        rooms=each(problem.rooms, RoomRecord, "rooms"),
        resources=each(problem.resources, ResourceRecord, "resources"),
        delegations=delegations,
        requests=requests,
    )
    if findings:
        raise ProblemError(findings)
    return records


def _fields(struct: msgspec.Struct) -> dict[str, Any]:
    return {name: getattr(struct, name) for name in struct.__struct_fields__}


def _problem_id(stored: tuple[str, str]) -> str:
    """A participant as `build_problem` names it (sessions store these)."""
    return f"{stored[0]}/{stored[1]}"


def _request_body(meeting: Any, people: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """The request the organiser would post for `meeting`; `parties` is the meeting's `delegations`."""
    attendees: dict[str, list[str]] = {}
    for person in meeting.participants:
        delegation_id, stored_id = people[person]
        attendees.setdefault(delegation_id, []).append(stored_id)
    return {
        "parties": meeting.delegations,
        "duration_minutes": meeting.duration_minutes,
        "title": meeting.title,
        "priority": meeting.priority,
        "preferred": meeting.preferred,
        "attendees": attendees,
    }


def _finding(path: str, error: str, record_type: type) -> Finding:
    """A msgspec error ("... - at `$.id`") from converting to `record_type` as a finding under
    `path`; the request's parties are `delegations`."""
    message, inner = split_validation(error)
    shown = inner.replace(".parties", ".delegations", 1) if inner.startswith(".parties") else inner
    return Finding(f"{path}{shown}", plain_message(id_rule_message(message), record_type, inner))
