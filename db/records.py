"""What the database stores and the API exchanges: msgspec structs.

The forum's own data reuse the solver model's structs (subclassed to constrain
ids, which appear in URLs), so a stored room is already a `solver.model.Room`.
Responses include every field, defaults too (`omit_defaults=False`).
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Annotated, Any, Generic, Literal, TypeVar

import msgspec
from msgspec import Meta

from solver.model import (
    Day,
    Participant,
    Priority,
    ProgrammeSession,
    Resource,
    ResourceUse,
    Room,
    Venue,
    Window,
)

# Ids are path segments: "." and ".." would be read as the current and the parent path by
# every URL client (RFC 3986, section 5.2.4), so a room "..", once stored, could not be reached.
ID_PATTERN = r"^(?!\.\.?$)[A-Za-z0-9_.-]{1,64}$"
ID_RULE = "must be 1 to 64 letters, digits, '_', '.' or '-', other than '.' and '..'"
_ID_MISMATCH = f"Expected `str` matching regex {ID_PATTERN!r}"  # msgspec's words for a bad id


def id_rule_message(message: str) -> str:
    """A msgspec validation message, in the rule's words where it is about an id."""
    return ID_RULE if message == _ID_MISMATCH else message


NUL = "\x00"  # PostgreSQL text cannot hold it


def nul_field(value: Any, path: str = "") -> str | None:
    """The path of the first string (or key) holding U+0000 in a JSON-like value."""
    if isinstance(value, str):
        return path or "$" if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            found = inner if NUL in str(key) else nul_field(item, inner)
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = nul_field(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


Id = Annotated[str, Meta(pattern=ID_PATTERN, description="letters, digits, '_', '.', '-'; 1-64; not '.' or '..'")]
Name = Annotated[str, Meta(min_length=1, max_length=200)]
INT8_MAX = 2**63 - 1  # a bigint id (audit entries, notices)
INT4_MAX = 2**31 - 1  # the stored columns are PostgreSQL integers: a larger value is bad input, not a crash
Positive = Annotated[int, Meta(ge=1, le=INT4_MAX)]
NonNegative = Annotated[int, Meta(ge=0, le=INT4_MAX)]

T = TypeVar("T")
PartyRole = Literal["requester", "invitee"]
PartyStatus = Literal["pending", "accepted", "declined"]
RequestStatus = Literal["pending", "accepted", "declined", "withdrawn", "expired"]
# Who reads the forum's directory (GET /forums/{id}/directory): every member, or the organiser only.
DirectoryReaders = Literal["members", "organiser"]
_DIRECTORY = (
    'who reads the directory of delegations (GET .../directory): "members", the organiser and every delegation;'
    ' "organiser", the organiser only (a delegation is answered 403: a forum keeping its list private)'
)
CreatedBy = Literal["organiser", "delegation"]


class Record(msgspec.Struct, forbid_unknown_fields=True):
    """Unknown fields are rejected so that a typo is an error, not a silent default."""


class Stored(msgspec.Struct, Generic[T]):
    """A stored item with its row version (the ETag)."""

    item: T
    version: int


# ---- forums


class ForumSettings(Record):
    name: Annotated[Name, msgspec.Meta(description="shown on the pages, exports and calendars")]
    time_zone: Annotated[str, msgspec.Meta(description="the IANA zone of a place (Asia/Singapore, or UTC)")]
    slot_minutes: Annotated[Positive, msgspec.Meta(description="the grid's step in minutes, 1 to 240")]
    days: Annotated[list[Day], msgspec.Meta(description="the forum's days, each with its hours")]
    # After this instant pending requests read as expired; a naive value is forum-local time.
    request_deadline: Annotated[
        datetime | None,
        msgspec.Meta(
            description="after this, pending requests read as expired (without a UTC offset: forum-local time)"
        ),
    ] = None
    directory: Annotated[DirectoryReaders, msgspec.Meta(description=_DIRECTORY)] = "members"


class ForumPatch(Record):
    name: Annotated[Name | msgspec.UnsetType, msgspec.Meta(description="left out: unchanged")] = msgspec.UNSET
    time_zone: Annotated[str | msgspec.UnsetType, msgspec.Meta(description="left out: unchanged")] = msgspec.UNSET
    slot_minutes: Annotated[Positive | msgspec.UnsetType, msgspec.Meta(description="left out: unchanged")] = (
        msgspec.UNSET
    )
    days: Annotated[list[Day] | msgspec.UnsetType, msgspec.Meta(description="left out: unchanged")] = msgspec.UNSET
    request_deadline: Annotated[
        datetime | msgspec.UnsetType | None, msgspec.Meta(description="null: none; left out: unchanged")
    ] = msgspec.UNSET
    directory: Annotated[DirectoryReaders | msgspec.UnsetType, msgspec.Meta(description="left out: unchanged")] = (
        msgspec.UNSET
    )


class ForumRecord(Record):
    id: str
    name: str
    time_zone: str
    slot_minutes: int
    days: list[Day]
    request_deadline: Annotated[
        datetime | None, msgspec.Meta(description="in the forum's time, with its offset (db/queries/forums.py)")
    ] = None
    directory: Annotated[DirectoryReaders, msgspec.Meta(description=_DIRECTORY)] = "members"
    closed_at: Annotated[
        datetime | None,
        msgspec.Meta(description="since when the forum is closed (POST .../close), in its time; null while open"),
    ] = None


class ForumCreated(Record):
    forum: ForumRecord
    # Shown once; null when the answer is an idempotent replay (tokens are never stored).
    organiser_token: str | None


# ---- what organisers set up


class SessionRecord(ProgrammeSession, omit_defaults=False):
    id: Id
    name: Annotated[Name, msgspec.Meta(description="e.g. Plenary 1")]


class VenueRecord(Venue, omit_defaults=False):
    id: Id
    name: Annotated[Name, msgspec.Meta(description="e.g. Shangri-La Hotel")]


class RoomRecord(Room, omit_defaults=False):
    id: Id
    name: Annotated[Name, msgspec.Meta(description="e.g. Bilateral Room 1")]
    seats: Annotated[Positive, msgspec.Meta(description="seats at its table")]
    venue: Id | None = None


class ResourceRecord(Resource, omit_defaults=False):
    id: Id
    name: Annotated[Name, msgspec.Meta(description="e.g. Japanese-English interpreters")]
    capacity: Annotated[Positive, msgspec.Meta(description="how much the meetings in progress may use in any slot")]


class TravelIn(Record):
    between: Annotated[tuple[Id, Id], msgspec.Meta(description="two venue ids")]
    minutes: Annotated[NonNegative, msgspec.Meta(description="minutes from one to the other, either way")]


class TravelRecord(Record):
    id: str  # "a~b", the two venue ids in order
    between: tuple[str, str]
    minutes: int


# ---- delegations


class DelegationRecord(Record):
    id: Id
    name: Annotated[Name, msgspec.Meta(description="e.g. Delegation of Singapore")]
    country: Annotated[
        str, Meta(min_length=1, max_length=100), msgspec.Meta(description="the code shown in grids and calendars (SG)")
    ]


class DelegationCreated(Record):
    delegation: DelegationRecord
    # Shown once; null when the answer is an idempotent replay (tokens are never stored).
    token: str | None


class ParticipantRecord(Participant, omit_defaults=False):
    id: Id
    name: Annotated[Name, msgspec.Meta(description="as shown to the organiser and in messages")]
    max_meetings_per_day: Annotated[
        Positive | None, msgspec.Meta(description="at most this many meetings starting on one day (null: no limit)")
    ] = None
    buffer_minutes: Annotated[
        NonNegative, msgspec.Meta(description="minutes kept free between two of the participant's meetings")
    ] = 0


# ---- meeting requests


class RequestIn(Record):
    parties: Annotated[
        list[Id],
        Meta(min_length=2, max_length=4),
        msgspec.Meta(description="2 to 4 delegation ids, the requester's among them"),
    ]
    duration_minutes: Annotated[Positive, msgspec.Meta(description="a multiple of the forum's slot")]
    title: Annotated[str, Meta(max_length=200), msgspec.Meta(description="shown in grids and calendars")] = ""
    priority: Annotated[
        Priority,
        msgspec.Meta(
            description="must, high, normal or low: the cost of leaving it out; a delegation's `must` is used as"
            " `high` until the organiser decides (kept as `requested_priority`)"
        ),
    ] = "normal"
    preferred: Annotated[list[Window], msgspec.Meta(description="windows it should lie inside")] = []
    # Attendees by delegation id; a delegation names only its own. Empty: its principals.
    attendees: Annotated[
        dict[str, list[Id]],
        msgspec.Meta(
            description="participant ids by delegation id; a delegation names only its own; left out: its principals"
        ),
    ] = {}
    id: Annotated[
        Id | None,
        msgspec.Meta(
            description="the organiser's own id for it, as a CSV import names it (a delegation may not);"
            " left out: `m-` and ten hex digits"
        ),
    ] = None


_UNCHANGED = "left out: unchanged"


class RequestPatch(Record):
    """An edit of a request (PATCH): the fields sent are changed, those left out are kept.

    Who may send which field is the route's (api/controllers/requests.py): the organiser any;
    the requesting delegation all but `priority` and `parties`, and only its own `attendees`; an
    invited delegation its own `attendees` only."""

    title: Annotated[Annotated[str, Meta(max_length=200)] | msgspec.UnsetType, msgspec.Meta(description=_UNCHANGED)] = (
        msgspec.UNSET
    )
    duration_minutes: Annotated[
        Positive | msgspec.UnsetType, msgspec.Meta(description="a multiple of the forum's slot; " + _UNCHANGED)
    ] = msgspec.UNSET
    priority: Annotated[
        Priority | msgspec.UnsetType,
        msgspec.Meta(description="must, high, normal or low: the cost of leaving it out (the organiser's only)"),
    ] = msgspec.UNSET
    preferred: Annotated[
        list[Window] | msgspec.UnsetType, msgspec.Meta(description="windows it should lie inside; " + _UNCHANGED)
    ] = msgspec.UNSET
    parties: Annotated[
        Annotated[list[Id], Meta(min_length=2, max_length=4)] | msgspec.UnsetType,
        msgspec.Meta(
            description="2 to 4 delegation ids, the requester's among them (the organiser's only): an added"
            " party is asked (pending, its principals unless `attendees` names them), a removed one's answer"
            " and attendees go; " + _UNCHANGED
        ),
    ] = msgspec.UNSET
    attendees: Annotated[
        dict[str, list[Id]] | msgspec.UnsetType,
        msgspec.Meta(
            description="participant ids by party (each party named is replaced; empty: its principals);"
            " a delegation names only its own"
        ),
    ] = msgspec.UNSET
    features: Annotated[
        list[str] | msgspec.UnsetType, msgspec.Meta(description="what its room must offer; " + _UNCHANGED)
    ] = msgspec.UNSET
    seats: Annotated[
        Positive | msgspec.UnsetType | None, msgspec.Meta(description="seats its room must have; null: any")
    ] = msgspec.UNSET
    earliest: Annotated[
        datetime | msgspec.UnsetType | None, msgspec.Meta(description="no start before it; null: none")
    ] = msgspec.UNSET
    latest: Annotated[datetime | msgspec.UnsetType | None, msgspec.Meta(description="no end after it; null: none")] = (
        msgspec.UNSET
    )


class AcceptIn(Record):
    attendees: Annotated[
        list[Id], msgspec.Meta(description="the accepting delegation's participant ids; empty: its principals")
    ] = []


class PartyRecord(Record):
    delegation: str
    role: PartyRole
    status: PartyStatus
    attendees: list[str] = []


class MeetingNeeds(Record):
    """A request's room and time needs, as `solver.model.Meeting` has them (empty: none).

    Stored as one jsonb document (migration 0003); datetimes are forum-local.
    """

    features: list[str] = []
    seats: Positive | None = None
    venues: list[Id] = []
    earliest: datetime | None = None
    latest: datetime | None = None
    pinned_start: datetime | None = None
    pinned_room: Id | None = None
    after: list[Id] = []  # request ids that, when both are held, end before this one starts
    resources: list[ResourceUse] = []


class RequestRecord(Record):
    id: str
    title: str
    duration_minutes: int
    priority: Annotated[
        Priority, msgspec.Meta(description="the priority the solver uses: the organiser's to set (PATCH)")
    ]
    requested_priority: Annotated[
        Priority,
        msgspec.Meta(
            description="what the asker chose; a delegation's `must` is used as `high` until the organiser decides"
        ),
    ]
    preferred: list[Window]
    created_by: CreatedBy
    requester: str | None
    status: RequestStatus
    parties: list[PartyRecord]
    created_at: datetime
    updated_at: Annotated[
        datetime,
        msgspec.Meta(description="the last change of the request or of a party's answer (its creation until then)"),
    ]
    needs: MeetingNeeds = msgspec.field(default_factory=MeetingNeeds)
    # The organiser's working state, shown to it only: a delegation's copy leaves it out (a
    # confirmation changes nothing it sees or could act on; its `priority` says what was decided).
    priority_decided_at: Annotated[
        datetime | msgspec.UnsetType | None,
        msgspec.Meta(
            description="when the organiser last set the priority (PATCH `priority`, even at the value it had);"
            " null: never, the priority is as asked; the organiser's view only"
        ),
    ] = msgspec.UNSET


# ---- audit


class AuditEntry(Record):
    # Its number in its forum (1, 2, 3 ..., in commit order; migration 0014): the table's id is one
    # counter for the whole server, whose gaps told an organiser how much other forums had changed.
    id: int
    actor: str
    action: str
    entity: str
    entity_id: str
    before: Any
    after: Any
    at: datetime


def to_forum_time(value: T, zone: tzinfo) -> T:
    """`value` with every datetime that has an offset turned into naive forum-local time.

    The database stores forum data as the solver reads it: wall-clock times in the
    forum's zone. Structs, lists and tuples are rebuilt; other values pass through.
    """
    converted: Any = value
    if isinstance(value, datetime):
        converted = value if value.tzinfo is None else value.astimezone(zone).replace(tzinfo=None)
    elif isinstance(value, msgspec.Struct):
        changes = {name: to_forum_time(getattr(value, name), zone) for name in value.__struct_fields__}
        converted = msgspec.structs.replace(value, **changes)
    elif isinstance(value, list | tuple):
        converted = type(value)(to_forum_time(item, zone) for item in value)
    elif isinstance(value, dict):
        converted = {key: to_forum_time(item, zone) for key, item in value.items()}
    return converted
