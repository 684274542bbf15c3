"""What an organiser sets up around the plenaries: sessions, venues, travel, rooms, resources."""

from __future__ import annotations

from db.queries.items import Family
from db.records import ResourceRecord, RoomRecord, SessionRecord, TravelRecord, VenueRecord

SESSIONS = Family("session", "programme_sessions", SessionRecord)
VENUES = Family("venue", "venues", VenueRecord)
TRAVEL = Family("travel", "travel", TravelRecord)
ROOMS = Family("room", "rooms", RoomRecord)
RESOURCES = Family("resource", "resources", ResourceRecord)


def travel_id(first: str, second: str) -> str:
    """The id of the unordered venue pair: both ids in order, joined by '~' (not allowed in ids)."""
    low, high = sorted((first, second))
    return f"{low}~{high}"
