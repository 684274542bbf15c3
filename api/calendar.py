"""A delegation's iCalendar feed (RFC 5545), rebuilt from the publication history.

Calendar apps update an event in place when it keeps its UID and its SEQUENCE
rises; they duplicate it when the UID changes, and ignore a change whose SEQUENCE
did not rise. So every meeting keeps one UID across versions, and a meeting the
delegation no longer attends stays in the feed as STATUS:CANCELLED (with a raised
SEQUENCE) rather than vanishing, which most clients would ignore.

SEQUENCE: `feed_events` counts the publications that changed the event as the
delegation sees it (its time, its room, which of its own people attend, which
delegations it meets); the feed serves that count the first time, and from then on
raises it by one whenever the event as served (every property but DTSTAMP and
SEQUENCE: `event_fingerprint`) differs from the last read, so that what changes
without a publication (a room, a delegation, the forum renamed) raises it too,
and an event shown unchanged keeps its number (db.queries.publications.served_sequences).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo

import msgspec
from icalendar import Calendar, Event, vCalAddress, vText

from api.publishing import as_placements, attends, in_zone, own_attendees
from db.queries.publications import RoomLabel
from db.queries.runs import GridPlacement
from solver.diff import diff_schedules
from solver.result import Placement

PRODID = "-//Sidelines//Meeting grid//EN"


class FeedEvent(msgspec.Struct, frozen=True):
    meeting: str
    placement: GridPlacement  # its latest published placement, in forum-local time
    sequence: int
    cancelled: bool


class FeedLabels(msgspec.Struct, frozen=True):
    """What the feed prints instead of ids."""

    forum_name: str
    rooms: dict[str, RoomLabel]
    countries: dict[str, str]  # delegation id -> country
    participants: dict[str, str]  # the delegation's participant id -> name
    titles: dict[str, str]  # meeting id -> request title


def feed_key(token: str, forum_id: str, delegation_id: str, generation: int) -> str:
    """The subscription key: derived from the delegation's own token, so the same link reads
    back every time while the database keeps only its hash; a new generation is a new key."""
    message = f"sidelines-calendar:{forum_id}:{delegation_id}:{generation}".encode()
    digest = hmac.new(token.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def feed_events(history: Sequence[list[GridPlacement]], delegation_id: str, zone: tzinfo) -> list[FeedEvent]:
    """The delegation's events after each published grid in `history` (oldest first)."""
    events: dict[str, FeedEvent] = {}
    previous: list[Placement] = []
    for grid in history:
        own = {p.meeting: p for p in in_zone([p for p in grid if attends(p, delegation_id)], zone)}
        current = as_placements(list(own.values()), zone)
        diff = diff_schedules(previous, current)
        changed = diff.changed_meetings
        for meeting in changed | set(diff.unchanged):
            events[meeting] = _after(meeting, events.get(meeting), own.get(meeting), meeting in changed, delegation_id)
        previous = current
    return sorted(events.values(), key=lambda event: (event.placement.start, event.meeting))


def _after(
    meeting: str, known: FeedEvent | None, placement: GridPlacement | None, moved: bool, delegation_id: str
) -> FeedEvent:
    """The meeting's event after one more publication (`placement` None: the delegation no longer attends it)."""
    if known is None:
        assert placement is not None  # a removed meeting was known before
        return FeedEvent(meeting, placement, 0, cancelled=False)
    revised = moved or (
        placement is not None
        and (
            own_attendees(known.placement, delegation_id) != own_attendees(placement, delegation_id)
            or counterparts(known.placement, delegation_id) != counterparts(placement, delegation_id)
        )
    )
    current = placement if placement is not None else known.placement
    return FeedEvent(meeting, current, known.sequence + revised, cancelled=placement is None)


def counterparts(placement: GridPlacement, delegation_id: str) -> set[str]:
    """The other delegations attending: the event's SUMMARY names their countries."""
    return {attendee.split("/", 1)[0] for attendee in placement.attendees} - {delegation_id}


_NO_STAMP = datetime(2000, 1, 1, tzinfo=UTC)


def event_fingerprint(forum_id: str, delegation_id: str, event: FeedEvent, labels: FeedLabels) -> str:
    """A hash of what the event shows a calendar app, but for DTSTAMP and SEQUENCE."""
    entry = _event(forum_id, delegation_id, msgspec.structs.replace(event, sequence=0), labels, _NO_STAMP)
    return hashlib.sha256(entry.to_ical()).hexdigest()


def build_calendar(
    forum_id: str, delegation_id: str, events: Sequence[FeedEvent], labels: FeedLabels, stamp: datetime
) -> bytes:
    """The feed; each event's `sequence` as it is to be served."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"{labels.forum_name}: {delegation_id}")
    for event in events:
        calendar.add_component(_event(forum_id, delegation_id, event, labels, stamp))
    calendar.add_missing_timezones()  # a VTIMEZONE for the forum's zone, so DTSTART keeps its TZID
    return calendar.to_ical()


def _event(forum_id: str, delegation_id: str, event: FeedEvent, labels: FeedLabels, stamp: datetime) -> Event:
    placement = event.placement
    entry = Event()
    entry.add("uid", f"{event.meeting}.{forum_id}@sidelines")
    entry.add("dtstamp", stamp)
    entry.add("sequence", event.sequence)
    entry.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    entry.add("dtstart", placement.start)
    entry.add("dtend", placement.end)
    entry.add("summary", _summary(event, delegation_id, labels))
    entry.add("location", _location(labels.rooms.get(placement.room), placement.room))
    entry.add("description", f"Meeting {event.meeting} at {labels.forum_name}")
    for attendee in placement.attendees:
        owner, _, participant = attendee.partition("/")
        if owner == delegation_id:  # the other delegations' people are theirs to publish
            address = vCalAddress(f"urn:sidelines:participant:{delegation_id}:{participant}")
            address.params["cn"] = vText(labels.participants.get(participant, participant))
            address.params["role"] = vText("REQ-PARTICIPANT")
            entry.add("attendee", address, encode=False)
    return entry


def _summary(event: FeedEvent, delegation_id: str, labels: FeedLabels) -> str:
    others = sorted({labels.countries.get(other, other) for other in counterparts(event.placement, delegation_id)})
    summary = f"Meeting with {', '.join(others)}" if others else "Meeting"
    title = labels.titles.get(event.meeting, "")
    return f"{summary}: {title}" if title else summary


def _location(room: RoomLabel | None, room_id: str) -> str:
    if room is None:
        return room_id
    return f"{room.name}, {room.venue}" if room.venue else room.name
