"""CSV import of delegations, participants and meeting requests (docs/csv.md).

Organisers keep these lists in spreadsheets. A file is imported all or nothing:
every row is checked first (the same rules as the JSON API), every fault is
reported as "row N, column C: message" (rows numbered as a spreadsheet shows
them, the header being row 1), and only a file without faults is stored, in
the caller's transaction. A row whose id already exists with the same values is
left alone, so importing the same file twice changes nothing; with other values
it is refused (changes go through PUT, with If-Match).

Used by `POST /forums/{id}/import/{kind}` and `sidelines csv`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

from api import request_notices
from api.controllers.common import order_errors, window_errors
from api.controllers.requests import (  # the API's own request rules and times
    check_request,
    in_forum_time,
    room_errors,
)
from api.errors import FieldError, readable
from api.guards import Caller
from db.queries import items
from db.queries import requests as request_queries
from db.queries.audit import record_change
from db.queries.delegations import DELEGATIONS, PARTICIPANTS
from db.queries.forums import get_forum
from db.queries.items import Family
from db.queries.setup import VENUES
from db.records import (
    NUL,
    DelegationRecord,
    ForumRecord,
    Id,
    MeetingNeeds,
    ParticipantRecord,
    RequestIn,
    RequestRecord,
    Stored,
    to_forum_time,
)
from db.tokens import hash_token, new_token
from solver.check import split_validation

Kind = Literal["delegations", "participants", "requests"]
KINDS: tuple[Kind, ...] = ("delegations", "participants", "requests")
T = TypeVar("T")
R = TypeVar("R", bound=msgspec.Struct)
_FIELD = re.compile(r"[A-Za-z_]+")
_LIST = re.compile(r"[\s;,]+")
TRUE, FALSE = {"true", "yes", "y", "1", "x"}, {"false", "no", "n", "0", ""}


class RowError(msgspec.Struct, frozen=True):
    row: int | None  # None: the whole file
    column: str | None
    message: str

    @property
    def where(self) -> str:
        parts = ([f"row {self.row}"] if self.row is not None else []) + (
            [f"column {self.column}"] if self.column else []
        )
        return ", ".join(parts) or "file"

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class CsvError(Exception):
    """The file is refused; `conflict` when its rows are valid but clash with what is stored."""

    def __init__(self, errors: list[RowError], *, conflict: bool = False) -> None:
        self.errors = errors
        self.conflict = conflict
        super().__init__("; ".join(str(error) for error in errors))


class UnknownForum(CsvError):
    """No forum has this id: the command line's fault, not the file's (the API's guards answer 404 first)."""


class ClosedForum(CsvError):
    """The forum is closed (POST /forums/{id}/close): the command line's fault, as UnknownForum is;
    over HTTP run_change answers 409 before the file is read, and this is a conflict there too."""


class CsvImported(msgspec.Struct):
    kind: str
    created: list[str]  # ids; participants as "delegation/participant"
    unchanged: list[str]  # already stored with the same values
    # delegations only: each created delegation's token, shown once (null on an idempotent replay)
    tokens: dict[str, str] | None = None


# ---- columns


class Columns(msgspec.Struct, frozen=True):
    required: tuple[str, ...]
    optional: tuple[str, ...]
    lists: tuple[str, ...] = ()  # values separated by spaces, ';' or ','
    times: tuple[str, ...] = ()  # "2024-06-01 14:30" forum-local, or with an offset
    windows: tuple[str, ...] = ()  # "start/end" pairs separated by ';'
    flags: tuple[str, ...] = ()  # yes/no
    numbers: tuple[str, ...] = ()  # whole numbers

    @property
    def names(self) -> tuple[str, ...]:
        return self.required + self.optional


COLUMNS: dict[Kind, Columns] = {
    "delegations": Columns(required=("id", "name", "country"), optional=()),
    "participants": Columns(
        required=("delegation", "id", "name"),
        optional=("rank", "principal", "arrival", "departure", "blocked", "max_meetings_per_day", "buffer_minutes"),
        times=("arrival", "departure"),
        windows=("blocked",),
        flags=("principal",),
        numbers=("max_meetings_per_day", "buffer_minutes"),
    ),
    "requests": Columns(
        required=("id", "parties", "duration_minutes"),
        optional=(
            "title",
            "priority",
            "attendees",
            "preferred",
            "features",
            "seats",
            "venues",
            "earliest",
            "latest",
        ),
        lists=("parties", "attendees", "features", "venues"),
        times=("earliest", "latest"),
        windows=("preferred",),
        numbers=("duration_minutes", "seats"),
    ),
}


class Row(msgspec.Struct):
    number: int
    values: dict[str, Any]  # the non-empty cells, parsed by column shape


def _readable(reader: Any) -> Iterator[list[str]]:
    """The reader's rows; one the csv module cannot parse (a cell over its size limit) refuses the file."""
    try:
        yield from reader
    except csv.Error as error:
        raise CsvError([RowError(reader.line_num, None, f"cannot be read as CSV: {error}")]) from None


def read_rows(text: str, kind: Kind) -> tuple[list[Row], list[RowError]]:
    """The data rows whose cells all parse, and the faults of the others.

    CsvError at once when the header is wrong or there are no data rows; a row with
    a bad cell is left out so that the later checks report only the rows they can read.
    """
    columns = COLUMNS[kind]
    dialect = csv.excel if _delimiter(text) == "," else _Semicolon
    reader = _readable(csv.reader(io.StringIO(text.removeprefix("\ufeff")), dialect))
    header = [name.strip() for name in next(reader, [])]
    header_errors = _header_errors(header, columns)
    if header_errors:
        raise CsvError(header_errors)
    rows: list[Row] = []
    errors: list[RowError] = []
    for number, cells in enumerate(reader, start=2):  # a spreadsheet's row numbers: the header is row 1
        if not any(cell.strip() for cell in cells):
            continue  # spreadsheets leave blank lines
        row, faults = _read_row(columns, header, number, cells)
        errors.extend(faults)
        if not faults:
            rows.append(row)
    if not rows and not errors:
        raise CsvError([RowError(None, None, "has no data rows")])
    return rows, errors


def _read_row(columns: Columns, header: list[str], number: int, cells: list[str]) -> tuple[Row, list[RowError]]:
    if len(cells) > len(header):
        return Row(number, {}), [RowError(number, None, f"has {len(cells)} cells, the header {len(header)}")]
    row = Row(number, {})
    faults: list[RowError] = []
    for name, cell in zip(header, cells, strict=False):
        try:
            value = _parse_cell(columns, name, cell.strip())
        except ValueError as error:
            faults.append(RowError(number, name, str(error)))
            continue
        if value is not None:
            row.values[name] = value
    unreadable = {fault.column for fault in faults}  # a cell that could not be read is not also "empty"
    faults.extend(
        RowError(number, name, "is empty")
        for name in columns.required
        if name not in row.values and name not in unreadable
    )
    return row, faults


class _Semicolon(csv.excel):
    delimiter = ";"


def _delimiter(text: str) -> str:
    """',' unless the header line is separated by ';' (spreadsheets in many locales export that)."""
    first = text.removeprefix("\ufeff").split("\n", 1)[0]
    return ";" if first.count(";") > first.count(",") else ","


def _header_errors(header: list[str], columns: Columns) -> list[RowError]:
    if not any(header):
        return [RowError(1, None, f"the header row is missing; columns: {', '.join(columns.names)}")]
    errors = [RowError(1, name, "is missing") for name in columns.required if name not in header]
    seen: set[str] = set()
    for name in header:
        if name not in columns.names:
            errors.append(RowError(1, name or "(empty)", f"unknown column; known: {', '.join(columns.names)}"))
        elif name in seen:
            errors.append(RowError(1, name, "appears twice"))
        seen.add(name)
    return errors


def _parse_cell(columns: Columns, name: str, cell: str) -> Any:
    """The cell's value by its column's shape; None for an empty cell (the default)."""
    if NUL in cell:  # PostgreSQL text cannot hold it; the API refuses the file before, the CLI reads it here
        raise ValueError("may not contain the NUL character (U+0000)")
    if name in columns.flags:
        return _flag(cell)
    if not cell:
        return None
    if name in columns.lists:
        return [part for part in _LIST.split(cell) if part]
    if name in columns.times:
        return _time(cell)
    if name in columns.windows:
        return [_window(part) for part in cell.split(";") if part.strip()]
    if name in columns.numbers:
        return _number(cell)
    return cell


def _number(cell: str) -> int:
    if not re.fullmatch(r"[+-]?\d+", cell):
        raise ValueError(f"must be a whole number, not {cell!r}")
    return int(cell)


def _flag(cell: str) -> bool:
    if cell.lower() in TRUE:
        return True
    if cell.lower() in FALSE:
        return False
    raise ValueError(f"must be yes or no, not {cell!r}")


def _time(cell: str) -> datetime:
    try:
        return datetime.fromisoformat(cell)
    except ValueError:
        raise ValueError(f"must be a date and time such as 2024-06-01 14:30, not {cell!r}") from None


def _window(part: str) -> dict[str, datetime]:
    start, slash, end = part.partition("/")
    if not slash:
        raise ValueError(f"must be windows start/end separated by ';', not {part.strip()!r}")
    return {"start": _time(start.strip()), "end": _time(end.strip())}


# ---- rows into records


class _Context(msgspec.Struct):
    forum_id: UUID
    forum: ForumRecord
    zone: ZoneInfo
    errors: list[RowError] = []


def _convert(context: _Context, row: Row, values: dict[str, Any], record_type: type[T]) -> T | None:
    """`values` as `record_type` in forum-local time; a fault names the column the field came from."""
    try:
        return to_forum_time(msgspec.convert(values, record_type, strict=False), context.zone)
    except msgspec.ValidationError as error:
        message, path = split_validation(str(error))
        column = _column(path.removeprefix("."))
        context.errors.append(RowError(row.number, column or None, readable(message, record_type, path)))
        return None


def _column(field: str) -> str:
    """The column a record field path comes from ("blocked[0].end" -> "blocked")."""
    found = _FIELD.match(field)
    return found.group(0) if found else ""


def _add_field_errors(context: _Context, row: Row, errors: list[FieldError]) -> None:
    """The API's field errors ("blocked[0].end") as this row's faults, by column."""
    context.errors.extend(RowError(row.number, _column(error.field), error.message) for error in errors)


def _repeats(context: _Context, rows: list[Row], key: Callable[[Row], object], column: str) -> None:
    first: dict[object, int] = {}
    for row in rows:
        previous = first.setdefault(key(row), row.number)
        if previous != row.number:
            context.errors.append(RowError(row.number, column, f"repeats row {previous}"))


# ---- storing, one function per kind


class _Outcome(msgspec.Struct):
    created: list[str] = []
    unchanged: list[str] = []
    conflicts: list[RowError] = []
    tokens: dict[str, str] = {}


async def import_csv(connection: asyncpg.Connection, forum_id: UUID, kind: Kind, text: str, actor: str) -> CsvImported:
    """Check and store one file in the caller's transaction; CsvError when anything is wrong."""
    rows, errors = read_rows(text, kind)
    forum = await get_forum(connection, forum_id)
    if forum is None:
        raise UnknownForum([RowError(None, None, f"no forum {forum_id}")])
    if forum.item.closed_at is not None:
        message = f"the forum is closed: reopen it (POST /forums/{forum_id}/reopen) to import into it"
        raise ClosedForum([RowError(None, None, message)], conflict=True)
    context = _Context(forum_id, forum.item, ZoneInfo(forum.item.time_zone), errors)
    outcome = await _IMPORTERS[kind](connection, context, rows, actor)
    if context.errors:
        raise CsvError(sorted(context.errors, key=lambda error: error.row or 0))
    if outcome.conflicts:
        raise CsvError(outcome.conflicts, conflict=True)
    return CsvImported(kind, outcome.created, outcome.unchanged, outcome.tokens if kind == "delegations" else None)


def _exists_differently(row: Row, what: str) -> RowError:
    return RowError(row.number, "id", f"{what} already exists with other values; change it with PUT (If-Match)")


async def _delegations(connection: asyncpg.Connection, context: _Context, rows: list[Row], actor: str) -> _Outcome:
    _repeats(context, rows, lambda row: row.values.get("id"), "id")
    records = [(row, _convert(context, row, row.values, DelegationRecord)) for row in rows]
    outcome = _Outcome()
    if context.errors:
        return outcome
    scope = (context.forum_id,)
    for row, record in records:
        assert record is not None
        stored = await items.get_item(connection, DELEGATIONS, scope, record.id)
        if stored is None:
            token = new_token()
            extra = {"token_hash": hash_token(token)}
            if await items.insert_item(connection, DELEGATIONS, scope, record, extra) is not None:
                await record_change(
                    connection, context.forum_id, actor, "import", "delegation", record.id, None, record
                )
                outcome.created.append(record.id)
                outcome.tokens[record.id] = token
                continue
            stored = await _stored_meanwhile(connection, DELEGATIONS, scope, record.id)
        _sort(outcome, row, record.id, stored.item == record, f"delegation {record.id}")
    return outcome


async def _stored_meanwhile(connection: asyncpg.Connection, family: Family[R], scope: Any, item_id: str) -> Stored[R]:
    """The item an insert found stored although it was not when read: another transaction (a
    concurrent import of the same id) stored it meanwhile, and the insert waited for its commit."""
    stored = await items.get_item(connection, family, scope, item_id)
    assert stored is not None  # committed before the insert went on, so seen by this statement
    return stored


def _sort(outcome: _Outcome, row: Row, key: str, same: bool, what: str) -> None:
    """An id that is already stored: unchanged when the values are the same, else a conflict."""
    if same:
        outcome.unchanged.append(key)
    else:
        outcome.conflicts.append(_exists_differently(row, what))


async def _participants(connection: asyncpg.Connection, context: _Context, rows: list[Row], actor: str) -> _Outcome:
    _repeats(context, rows, lambda row: (row.values.get("delegation"), row.values.get("id")), "id")
    known = {stored.item.id for stored in await items.list_items(connection, DELEGATIONS, (context.forum_id,))}
    records: list[tuple[Row, str, ParticipantRecord]] = []
    for row in rows:
        values = dict(row.values)
        delegation = values.pop("delegation")
        if delegation not in known:
            context.errors.append(RowError(row.number, "delegation", f"no delegation {delegation}"))
            continue
        record = _convert(context, row, values, ParticipantRecord)
        if record is None:
            continue
        order = order_errors("departure", record.arrival, record.departure, "arrival")
        _add_field_errors(context, row, [*window_errors("blocked", record.blocked), *order])
        records.append((row, delegation, record))
    outcome = _Outcome()
    if context.errors:
        return outcome
    for row, delegation, record in records:
        scope = (context.forum_id, delegation)
        key = f"{delegation}/{record.id}"
        stored = await items.get_item(connection, PARTICIPANTS, scope, record.id)
        if stored is None:
            if await items.insert_item(connection, PARTICIPANTS, scope, record) is not None:
                await record_change(connection, context.forum_id, actor, "import", "participant", key, None, record)
                outcome.created.append(key)
                continue
            stored = await _stored_meanwhile(connection, PARTICIPANTS, scope, record.id)
        _sort(outcome, row, key, stored.item == record, f"participant {key}")
    return outcome


class _RequestRow(msgspec.Struct):
    row: Row
    id: str
    body: RequestIn
    needs: MeetingNeeds


def _request_row(context: _Context, row: Row) -> _RequestRow | None:
    values = row.values
    attendees: dict[str, list[str]] = {}
    for person in values.get("attendees", []):
        delegation, slash, participant = person.partition("/")
        if not slash:
            context.errors.append(RowError(row.number, "attendees", f"{person!r} is not delegation/participant"))
            return None
        attendees.setdefault(delegation, []).append(participant)
    body_fields = ("parties", "duration_minutes", "title", "priority", "preferred")
    body_values = {name: value for name, value in values.items() if name in body_fields}
    body = _convert(context, row, {**body_values, "attendees": attendees}, RequestIn)
    needs_values = {name: value for name, value in values.items() if name in MeetingNeeds.__struct_fields__}
    needs = _convert(context, row, needs_values, MeetingNeeds)
    request_id = _convert(context, row, {"id": values["id"]}, _IdOnly)
    if body is None or needs is None or request_id is None:
        return None
    _add_field_errors(context, row, order_errors("latest", needs.earliest, needs.latest, "earliest"))
    return _RequestRow(row, request_id.id, body, needs)


class _IdOnly(msgspec.Struct):
    id: Id  # the request id: the organiser's own, so that a re-import finds it


async def _requests(connection: asyncpg.Connection, context: _Context, rows: list[Row], actor: str) -> _Outcome:
    _repeats(context, rows, lambda row: row.values.get("id"), "id")
    organiser = Caller("organiser", context.forum_id)
    venues = {stored.item.id for stored in await items.list_items(connection, VENUES, (context.forum_id,))}
    offer = await request_queries.room_offer(connection, context.forum_id)  # as PATCH checks features and seats
    requests: list[_RequestRow] = []
    for row in rows:
        request = _request_row(context, row)
        if request is None:
            continue
        errors = await check_request(connection, context.forum_id, organiser, request.body)
        _add_field_errors(context, row, errors)
        _add_field_errors(context, row, room_errors(offer, request.needs.features, request.needs.seats))
        for venue in request.needs.venues:
            if venue not in venues:
                context.errors.append(RowError(row.number, "venues", f"no venue {venue}"))
        requests.append(request)
    outcome = _Outcome()
    if context.errors:
        return outcome
    made: list[RequestRecord] = []
    for request in requests:
        stored = await request_queries.get_request(
            connection, context.forum_id, request.id, context.forum.request_deadline, datetime.now(UTC)
        )
        if stored is not None:
            same = _request_key(stored.item) == _request_key(request)
            _sort(outcome, request.row, request.id, same, f"request {request.id}")
            continue
        parties = request_queries.organiser_parties(request.body)
        await request_queries.insert_request(
            connection, context.forum_id, request.id, request.body, "organiser", None, parties, request.needs
        )
        record = await request_queries.get_request(
            connection, context.forum_id, request.id, context.forum.request_deadline, datetime.now(UTC)
        )
        assert record is not None
        shown = in_forum_time(record.item, context.zone)  # as the API shows it, as its other audit entries
        await record_change(connection, context.forum_id, actor, "import", "request", request.id, None, shown)
        outcome.created.append(request.id)
        made.append(shown)
    # Every party of each new request is told (request.received; imported requests start agreed):
    # one statement for all of them, however many rows.
    await request_notices.received(connection, context.forum_id, made, None, datetime.now(UTC))
    return outcome


def _request_key(request: RequestRecord | _RequestRow) -> tuple[object, ...]:
    """What a CSV row says about a request, to compare a row with the stored request."""
    if isinstance(request, RequestRecord):
        attendees = {party.delegation: sorted(party.attendees) for party in request.parties if party.attendees}
        parties = sorted(party.delegation for party in request.parties)
        fields = (request.duration_minutes, request.title, request.priority, request.preferred)
        return (*fields, parties, attendees, request.needs)
    body = request.body
    attendees = {party: sorted(people) for party, people in body.attendees.items() if people}
    fields = (body.duration_minutes, body.title, body.priority, body.preferred)
    return (*fields, sorted(body.parties), attendees, request.needs)


_IMPORTERS = {"delegations": _delegations, "participants": _participants, "requests": _requests}
