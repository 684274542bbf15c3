"""Last-minute changes to the Shangri-La example: the four scenarios of the
re-solve issue, shared by the tests (tests/test_resolve.py) and the benchmark
(bench/resolve.py) so both measure the same thing.

Each scenario is the meetings to add to the forum before its grid is
published (a request already waiting) and the changes that arrive after.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import msgspec

from solver.changes import ArrivalChanged, Change, MeetingCancelled, MeetingRequested, RoomUnavailable
from solver.model import Meeting, Problem, Window

# The US secretary's arrival is moved from the opening to Friday 17:00.
LATE_ARRIVAL = datetime(2024, 5, 31, 17, 0)
# Bilateral Room 5 is lost for Saturday morning.
LOST_MORNING = Window(datetime(2024, 6, 1, 7, 30), datetime(2024, 6, 1, 13, 0))


def follow_up() -> Meeting:
    """A request that only fits Saturday 10:30-11:10, where the pinned US-Singapore bilateral is: it waits."""
    return Meeting(
        id="US-VN",
        delegations=["US", "VN"],
        duration_minutes=30,
        title="Bilateral: United States – Viet Nam",
        earliest=datetime(2024, 6, 1, 10, 30),
        latest=datetime(2024, 6, 1, 11, 10),
    )


def urgent_request() -> Meeting:
    """A must meeting in the US secretary's Friday afternoon, which is full."""
    return Meeting(
        id="US-CA",
        delegations=["US", "CA"],
        duration_minutes=30,
        title="Bilateral: United States – Canada",
        priority="must",
        earliest=datetime(2024, 5, 31, 13, 0),
        latest=datetime(2024, 5, 31, 16, 0),
    )


@dataclass(frozen=True)
class LateChange:
    name: str
    description: str
    changes: list[Change]
    waiting: list[Meeting] = field(default_factory=list)  # requests in the forum before publication

    def forum(self, problem: Problem) -> Problem:
        """The forum as published: the example plus the requests already waiting."""
        return msgspec.structs.replace(problem, meetings=[*problem.meetings, *self.waiting])


SCENARIOS: tuple[LateChange, ...] = (
    LateChange(
        "late-arrival",
        "the US secretary arrives Friday 17:00 instead of at the opening",
        [ArrivalChanged("us-min", LATE_ARRIVAL)],
    ),
    LateChange(
        "room-lost",
        "Bilateral Room 5 is unavailable Saturday 07:30-13:00",
        [RoomUnavailable("sl-5", LOST_MORNING)],
    ),
    LateChange(
        "cancelled",
        "US-Singapore is cancelled; a waiting US-Viet Nam request can take its slot",
        [MeetingCancelled("US-SG")],
        [follow_up()],
    ),
    LateChange(
        "urgent",
        "an urgent US-Canada must meeting on Friday afternoon",
        [MeetingRequested(urgent_request(), urgent=True)],
    ),
)
