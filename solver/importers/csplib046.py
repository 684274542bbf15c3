"""Import CSPLib prob046, Meeting Scheduling (Shapen, Zivan, Meisels).

The source file `instances.md` holds 27 instances in loosely formatted
markdown (tabs, irregular spacing, two header styles), so it is read with
regular expressions, block by block. Ids keep the source's 0-based numbering
(meeting m0 is the source's meeting 0, agent a0 its agent 0) so that a
schedule can be compared with the published solutions in results.md.

Every meeting gets its own venue with one room; the distance matrix becomes
`travel` between the venues, in slots times the slot length, so that for two
meetings i, j of one agent |t_i - t_j| >= d_ij + 1 exactly as the source's
arrival-time constraint. See docs/importers.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from pathlib import Path

from solver.importers.common import one_day_forum, read_source, solo
from solver.model import Delegation, Forum, Meeting, ObjectiveSettings, Problem, Room, Travel, Venue, Weights

DAY_START = time(8, 0)
SLOT_MINUTES = 60
PARTIES_PER_MEETING = 2  # the model's minimum (see _stand_ins)

_HEADER = re.compile(r"^(?:\*\*|__)Instance #(\d+)(?:\*\*|__)\s*$", re.MULTILINE)
_SETTING = re.compile(r"^\s*(\w+)\s*=\s*(\d+)\s*$", re.MULTILINE)
_AGENT = re.compile(r"^\s*Agents \((\d+)\):([\d\s]*)$", re.MULTILINE)
_DISTANCE_ROW = re.compile(r"^\s*(\d+)\s*:([\d\s]*)$", re.MULTILINE)
_DISTANCE_TITLE = "Between Meetings Distance:"


@dataclass(frozen=True)
class Prob046Instance:
    """One instance of instances.md, 0-based as in the source."""

    number: int
    meetings: int
    meetings_per_agent: int
    min_distance: int
    max_distance: int
    domain_size: int  # number of time slots
    agent_meetings: list[list[int]]  # per agent: the meetings it attends
    distance: list[list[int]]  # travel time in slots between the meetings' locations

    def agents_of(self, meeting: int) -> list[int]:
        return [agent for agent, meetings in enumerate(self.agent_meetings) if meeting in meetings]


def parse_csplib046(path: Path) -> dict[int, Prob046Instance]:
    """All instances of instances.md by their number; raise ValueError naming a malformed one."""
    text = read_source(path, "the prob046 instances")
    parts = _HEADER.split(text)  # [preamble, number, body, number, body, ...]
    if len(parts) < 3:
        raise ValueError(f"{path}: no `**Instance #k**` block found")
    instances: dict[int, Prob046Instance] = {}
    for number_text, body in zip(parts[1::2], parts[2::2], strict=True):
        number = int(number_text)
        if number in instances:
            raise ValueError(f"{path}: instance #{number} appears twice")
        instances[number] = _instance(f"{path}: instance #{number}", number, body)
    return instances


def _instance(where: str, number: int, body: str) -> Prob046Instance:
    settings = {name: int(value) for name, value in _SETTING.findall(body)}
    missing = [name for name in _SETTINGS if name not in settings]
    if missing:
        raise ValueError(f"{where}: missing {', '.join(missing)}")
    meetings = settings["NumberOfMeetings"]
    instance = Prob046Instance(
        number=number,
        meetings=meetings,
        meetings_per_agent=settings["NumberOfMeetingPerAgent"],
        min_distance=settings["MinDisTimeBetweenMeetings"],
        max_distance=settings["MaxDisTimeBetweenMeetings"],
        domain_size=settings["DomainSize"],
        agent_meetings=_agent_meetings(where, body, settings["NumberOfAgents"]),
        distance=_distance_matrix(where, body, meetings),
    )
    _check_instance(where, instance)
    return instance


_SETTINGS = (
    "NumberOfMeetings",
    "NumberOfAgents",
    "NumberOfMeetingPerAgent",
    "MinDisTimeBetweenMeetings",
    "MaxDisTimeBetweenMeetings",
    "DomainSize",
)


def _agent_meetings(where: str, body: str, agents: int) -> list[list[int]]:
    found = _AGENT.findall(body)
    if [int(agent) for agent, _ in found] != list(range(agents)):
        raise ValueError(f"{where}: expected agent lines `Agents (0)` .. `Agents ({agents - 1})`")
    return [[int(meeting) for meeting in meetings.split()] for _, meetings in found]


def _distance_matrix(where: str, body: str, meetings: int) -> list[list[int]]:
    _, title, table = body.partition(_DISTANCE_TITLE)
    if not title:
        raise ValueError(f"{where}: missing {_DISTANCE_TITLE!r}")
    found = _DISTANCE_ROW.findall(table)
    if [int(row) for row, _ in found] != list(range(meetings)):
        raise ValueError(f"{where}: the distance matrix needs rows 0..{meetings - 1}")
    matrix = [[int(cell) for cell in cells.split()] for _, cells in found]
    if any(len(row) != meetings for row in matrix):
        raise ValueError(f"{where}: every distance row needs {meetings} entries")
    return matrix


def _check_instance(where: str, instance: Prob046Instance) -> None:
    size = range(instance.meetings)
    if instance.domain_size < 1:
        raise ValueError(f"{where}: DomainSize must be at least 1")
    for agent, meetings in enumerate(instance.agent_meetings):
        if not set(meetings) <= set(size) or len(set(meetings)) != len(meetings):
            raise ValueError(f"{where}: agent {agent} lists unknown or repeated meetings")
    for i in size:
        if instance.distance[i][i] != 0:
            raise ValueError(f"{where}: distance[{i}][{i}] must be 0")
        for j in size:
            if instance.distance[i][j] != instance.distance[j][i] or instance.distance[i][j] < 0:
                raise ValueError(f"{where}: distance[{i}][{j}] must be non-negative and symmetric")


def load_csplib046(path: Path, instance: int) -> Problem:
    """Instance number `instance` (1-based, as in the source) of instances.md as a forum problem."""
    instances = parse_csplib046(path)
    if instance not in instances:
        raise ValueError(f"{path}: no instance #{instance} (the file has #{min(instances)}..#{max(instances)})")
    return problem_of(instances[instance])


def problem_of(instance: Prob046Instance) -> Problem:
    meetings = range(instance.meetings)
    parties = {meeting: _parties(instance, meeting) for meeting in meetings}
    return Problem(
        forum=_forum(instance),
        venues=[Venue(id=f"v{meeting}", name=f"Location of meeting {meeting}") for meeting in meetings],
        rooms=[_room(meeting, len(parties[meeting])) for meeting in meetings],
        travel=_travel(instance),
        delegations=[*_agents(instance), *_stand_ins(instance)],
        meetings=[_meeting(meeting, parties[meeting]) for meeting in meetings],
        # A pure CSP: only unplaced meetings cost anything.
        objective=ObjectiveSettings(weights=Weights(breaks=0, fairness=0), must_is_hard=True),
    )


def _forum(instance: Prob046Instance) -> Forum:
    return one_day_forum(f"CSPLib prob046 instance #{instance.number}", DAY_START, SLOT_MINUTES, instance.domain_size)


def _room(meeting: int, seats: int) -> Room:
    return Room(id=f"r{meeting}", name=f"Room of meeting {meeting}", seats=seats, venue=f"v{meeting}")


def _travel(instance: Prob046Instance) -> list[Travel]:
    # Every pair of locations, so the matrix can be read back from the problem.
    return [
        Travel(between=(f"v{i}", f"v{j}"), minutes=instance.distance[i][j] * SLOT_MINUTES)
        for i in range(instance.meetings)
        for j in range(i + 1, instance.meetings)
    ]


def _agents(instance: Prob046Instance) -> list[Delegation]:
    return [solo(f"a{agent}", f"Agent {agent}") for agent in range(len(instance.agent_meetings))]


def stand_in_ids(instance: Prob046Instance, meeting: int) -> list[str]:
    """Stand-in parties that bring a meeting of fewer than two agents up to the model's two delegations.

    The source has meetings attended by one agent and by none; the model needs
    two delegations with an attendee each. A stand-in attends only this one
    meeting, so it adds no overlap, travel or break constraint: feasibility is
    exactly the source's. docs/importers.md names the model change that would
    make them unnecessary.
    """
    missing = max(0, PARTIES_PER_MEETING - len(instance.agents_of(meeting)))
    return [f"m{meeting}-standin{index}" for index in range(1, missing + 1)]


def _stand_ins(instance: Prob046Instance) -> list[Delegation]:
    return [
        solo(stand_in, f"Stand-in party of meeting {meeting}")
        for meeting in range(instance.meetings)
        for stand_in in stand_in_ids(instance, meeting)
    ]


def _parties(instance: Prob046Instance, meeting: int) -> list[str]:
    return [f"a{agent}" for agent in instance.agents_of(meeting)] + stand_in_ids(instance, meeting)


def _meeting(meeting: int, parties: list[str]) -> Meeting:
    return Meeting(
        id=f"m{meeting}",
        delegations=parties,
        duration_minutes=SLOT_MINUTES,
        title=f"Meeting {meeting}",
        priority="must",
        venues=[f"v{meeting}"],
    )
