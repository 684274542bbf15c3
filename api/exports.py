"""The organiser's grid as files: rooms by time for each day, and a flat list of meetings.

CSV holds one of the two layouts per file (the grid, or `?layout=list`); XLSX holds
a sheet per day plus a "Meetings" sheet. Titles are typed by delegations, so a
cell that a spreadsheet would run as a formula is written as plain text.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta

import msgspec
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from db.queries.publications import RoomLabel
from db.queries.runs import GridPlacement
from db.records import ForumRecord

LIST_HEADER = ["meeting", "title", "date", "start", "end", "room", "venue", "delegations", "attendees"]
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class GridContext(msgspec.Struct, frozen=True):
    """A version's placements (forum-local times) and what prints them."""

    forum: ForumRecord
    rooms: list[RoomLabel]
    placements: list[GridPlacement]
    countries: dict[str, str]  # delegation id -> country
    titles: dict[str, str]  # meeting id -> request title

    def label(self, placement: GridPlacement) -> str:
        delegations = _delegations(placement)
        parties = " / ".join(self.countries.get(d, d) for d in delegations)
        title = self.titles.get(placement.meeting, "")
        return f"{placement.meeting}: {parties}" + (f" ({title})" if title else "")


def _delegations(placement: GridPlacement) -> list[str]:
    return sorted({attendee.split("/", 1)[0] for attendee in placement.attendees})


def _slots(context: GridContext, day: date) -> Iterator[datetime]:
    settings = next(d for d in context.forum.days if d.date == day)
    moment = datetime.combine(day, settings.start)
    end = datetime.combine(day, settings.end)
    while moment < end:
        yield moment
        moment += timedelta(minutes=context.forum.slot_minutes)


# A placement with its wall-clock start and end, read once rather than at every slot of its room's day.
_Span = tuple[datetime, datetime, GridPlacement]


def _covering(spans: list[_Span], moment: datetime) -> GridPlacement | None:
    for start, end, placement in spans:
        if start <= moment < end:
            return placement
    return None


def grid_rows(context: GridContext, day: date) -> list[list[str]]:
    """One row per slot of the day: its time, then each room's meeting (empty when free)."""
    by_room: dict[str, list[_Span]] = {room.id: [] for room in context.rooms}
    for placement in context.placements:
        if placement.start.date() == day and placement.room in by_room:
            wall = (placement.start.replace(tzinfo=None), placement.end.replace(tzinfo=None))
            by_room[placement.room].append((*wall, placement))
    rows = []
    for moment in _slots(context, day):
        cells = [_covering(by_room[room.id], moment) for room in context.rooms]
        rows.append([moment.strftime("%H:%M"), *("" if p is None else context.label(p) for p in cells)])
    return rows


def list_rows(context: GridContext) -> list[list[str]]:
    rooms = {room.id: room for room in context.rooms}
    rows = []
    for p in context.placements:
        room = rooms.get(p.room)
        rows.append(
            [
                p.meeting,
                context.titles.get(p.meeting, ""),
                p.start.date().isoformat(),
                p.start.strftime("%H:%M"),
                p.end.strftime("%H:%M"),
                room.name if room else p.room,
                (room.venue or "") if room else "",
                " / ".join(_delegations(p)),
                ", ".join(p.attendees),
            ]
        )
    return rows


def _plain(value: str) -> str:
    """A CSV cell that spreadsheets will not evaluate (OWASP's CSV injection advice)."""
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def _csv(header: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([[_plain(cell) for cell in row] for row in rows])
    return buffer.getvalue().encode()


def grid_csv(context: GridContext) -> bytes:
    header = ["date", "time", *(room.name for room in context.rooms)]
    rows = [[day.date.isoformat(), *row] for day in context.forum.days for row in grid_rows(context, day.date)]
    return _csv(header, rows)


def list_csv(context: GridContext) -> bytes:
    return _csv(LIST_HEADER, list_rows(context))


def grid_xlsx(context: GridContext) -> bytes:
    """The workbook of `context`; one made for the same context before is answered again, as
    openpyxl's writer is most of the time (UNGA: 0.2 s for 13,000 cells)."""
    key = hashlib.sha256(msgspec.json.encode(context)).digest()
    if key in _workbooks:
        _workbooks.move_to_end(key)
        return _workbooks[key]
    content = _workbook(context)
    _workbooks[key] = content
    while len(_workbooks) > MAX_WORKBOOKS:
        _workbooks.popitem(last=False)
    return content


# Workbooks made lately, by a digest of everything they are made from (their GridContext):
# bounded, and right in any process, whatever was edited meanwhile.
MAX_WORKBOOKS = 8
_workbooks: OrderedDict[bytes, bytes] = OrderedDict()


def _workbook(context: GridContext) -> bytes:
    book = Workbook()
    assert book.active is not None
    book.remove(book.active)
    for day in context.forum.days:
        _day_sheet(book, context, day.date)
    sheet = book.create_sheet("Meetings")
    _write(sheet, [LIST_HEADER, *list_rows(context)])
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _day_sheet(book: Workbook, context: GridContext, day: date) -> None:
    sheet = book.create_sheet(day.isoformat())
    rows = grid_rows(context, day)
    _write(sheet, [["time", *(room.name for room in context.rooms)], *rows])
    sheet.freeze_panes = "B2"
    for column in range(2, len(context.rooms) + 2):
        sheet.column_dimensions[get_column_letter(column)].width = 28
        _merge_runs(sheet, column, [row[column - 1] for row in rows])


def _merge_runs(sheet: Worksheet, column: int, cells: list[str]) -> None:
    """One merged cell per meeting spanning several slots (rows start at 2, under the header)."""
    start = 0
    for index in range(1, len(cells) + 1):
        if index < len(cells) and cells[index] == cells[start]:
            continue
        if cells[start] and index - start > 1:
            sheet.merge_cells(start_row=start + 2, end_row=index + 1, start_column=column, end_column=column)
            sheet.cell(start + 2, column).alignment = Alignment(vertical="top", wrap_text=True)
        start = index


def _write(sheet: Worksheet, rows: Sequence[Sequence[str]]) -> None:
    for values in rows:
        sheet.append(list(values))
    for heading in sheet[1]:
        heading.font = Font(bold=True)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith(_FORMULA_STARTS):
                cell.data_type = "s"  # text, never a formula
