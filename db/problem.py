"""The solver's view of a forum: a `solver.model.Problem` built from stored data.

Only accepted requests become meetings (meeting id = request id). A party's
attendees are those it named when asking or accepting, or its principals when
it named none. Participant ids are unique per delegation only, so the problem
names each participant "delegation/participant" ('/' is not allowed in ids).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from db.queries import delegations as delegation_queries
from db.queries import forums, items
from db.queries import requests as request_queries
from db.queries.setup import RESOURCES, ROOMS, SESSIONS, TRAVEL, VENUES
from db.records import ParticipantRecord, RequestRecord
from solver.model import Delegation, Forum, KeepApart, Meeting, Participant, Problem, Travel


def problem_participant_id(delegation_id: str, participant_id: str) -> str:
    return f"{delegation_id}/{participant_id}"


async def build_problem(connection: asyncpg.Connection, forum_id: Any, now: datetime) -> Problem | None:
    """The forum's problem as the solver will see it; None when there is no such forum."""
    stored_forum = await forums.get_forum(connection, forum_id)
    if stored_forum is None:
        return None
    record = stored_forum.item
    scope = (forum_id,)
    people = await delegation_queries.all_participants(connection, forum_id)
    delegations = [
        _delegation(stored.item.id, stored.item.name, stored.item.country, people.get(stored.item.id, []))
        for stored in await items.list_items(connection, delegation_queries.DELEGATIONS, scope)
    ]
    requests = await request_queries.list_requests(connection, forum_id, record.request_deadline, now)
    roster = _Roster.of(people)
    meetings = [_meeting(stored.item, roster) for stored in requests if stored.item.status == "accepted"]
    meetings = _without_dangling_precedences(meetings)
    return Problem(
        forum=Forum(record.name, record.time_zone, record.slot_minutes, record.days),
        rooms=[stored.item for stored in await items.list_items(connection, ROOMS, scope)],
        delegations=delegations,
        meetings=meetings,
        sessions=[stored.item for stored in await items.list_items(connection, SESSIONS, scope)],
        venues=[stored.item for stored in await items.list_items(connection, VENUES, scope)],
        travel=[
            Travel(stored.item.between, stored.item.minutes)
            for stored in await items.list_items(connection, TRAVEL, scope)
        ],
        resources=[stored.item for stored in await items.list_items(connection, RESOURCES, scope)],
        keep_apart=[KeepApart(pair) for pair in await delegation_queries.keep_apart_pairs(connection, forum_id)],
        objective=await forums.get_objective(connection, forum_id),
    )


def _delegation(delegation_id: str, name: str, country: str, people: list[ParticipantRecord]) -> Delegation:
    participants = [
        msgspec.convert(
            {**msgspec.to_builtins(person), "id": problem_participant_id(delegation_id, person.id)},
            Participant,
            strict=False,
        )
        for person in people
    ]
    return Delegation(id=delegation_id, name=name, country=country, participants=participants)


class _Roster(msgspec.Struct, frozen=True):
    """Each delegation's participant ids and principals, gathered once: gathered per party,
    they were a third of building UNGA's problem (4,400 parties)."""

    known: dict[str, set[str]]
    principals: dict[str, list[str]]

    @classmethod
    def of(cls, people: dict[str, list[ParticipantRecord]]) -> _Roster:
        known = {delegation: {person.id for person in persons} for delegation, persons in people.items()}
        principals = {delegation: [p.id for p in persons if p.principal] for delegation, persons in people.items()}
        return cls(known, principals)


def _meeting(request: RequestRecord, roster: _Roster) -> Meeting:
    attendees: list[str] = []
    for party in request.parties:
        known = roster.known.get(party.delegation, set())
        named = [person_id for person_id in party.attendees if person_id in known]  # a deleted one is dropped
        if not named:
            named = roster.principals.get(party.delegation, [])
        attendees.extend(problem_participant_id(party.delegation, person_id) for person_id in named)
    needs = {name: getattr(request.needs, name) for name in request.needs.__struct_fields__}
    return Meeting(
        id=request.id,
        delegations=[party.delegation for party in request.parties],
        duration_minutes=request.duration_minutes,
        participants=attendees,
        title=request.title,
        priority=request.priority,
        preferred=request.preferred,
        **needs,  # MeetingNeeds' fields are Meeting's
    )


def _without_dangling_precedences(meetings: list[Meeting]) -> list[Meeting]:
    """`after` binds only when both meetings are held, so a request that is not
    accepted (pending, declined, withdrawn) drops out of the others' `after`."""
    scheduled = {meeting.id for meeting in meetings}
    return [
        msgspec.structs.replace(meeting, after=[other for other in meeting.after if other in scheduled])
        for meeting in meetings
    ]
