"""Japan-Australia defence staff talks, Tokyo: two ministries, eight officials
each, three rounds of working groups over three days. Each working group's
round follows its previous round, every group follows the opening plenary and
the closing plenary follows every last round; intelligence, cyber and space
groups need a secure room."""

from __future__ import annotations

from datetime import date

from solver.model import Participant, Problem, Rank, ResourceUse
from solver.scenarios.common import ScenarioBuilder

SIDES = ("JP", "AU")
TOPICS = ("capability", "logistics", "cyber", "space", "exercises", "industry", "intelligence", "legal")
SECURE_TOPICS = ("cyber", "space", "intelligence")
ROUNDS = 3
OFFICIALS_PER_SIDE = 7  # plus the head of delegation
TOPICS_PER_OFFICIAL = 3


def build(seed: int) -> Problem:
    forum = ScenarioBuilder(seed, "Japan-Australia Defence Staff Talks", "Asia/Tokyo", 15, date(2024, 3, 12))
    _programme(forum)
    _places(forum)
    members = _delegations(forum)
    _meetings(forum, members)
    return forum.problem()


def _programme(forum: ScenarioBuilder) -> None:
    for _ in range(3):
        forum.add_day("09:00", "17:30")
    for day in range(3):
        forum.add_session(f"lunch-{day + 1}", "Working lunch", day, "12:00", "13:00")
    forum.add_session("reception", "Reception hosted by the Administrative Vice-Minister", 1, "17:00", "19:00")


def _places(forum: ScenarioBuilder) -> None:
    forum.add_venue("mod", "Ministry of Defense, Ichigaya")
    forum.add_room("mod-main", "Main conference room", 24, venue="mod", features=["interpretation", "secure"])
    forum.add_room("mod-a", "Secure meeting room A", 10, venue="mod", features=["interpretation", "secure"])
    forum.add_room("mod-b", "Meeting room B", 10, venue="mod", features=["interpretation"])
    forum.add_room("mod-c", "Meeting room C", 8, venue="mod", features=["interpretation"])
    forum.add_resource("interp-ja", "Japanese-English interpreter team", 3)


def _delegations(forum: ScenarioBuilder) -> dict[str, dict[str, list[str]]]:
    """Both delegations, and for each side the officials assigned to each topic."""
    members: dict[str, dict[str, list[str]]] = {}
    for code in SIDES:
        delegation = forum.add_delegation(code, "senior_official", officials=0)
        people = [_official(code, index) for index in range(OFFICIALS_PER_SIDE)]
        delegation.participants.extend(people)
        members[code] = {topic: [] for topic in TOPICS}
        for person in people:
            for topic in forum.rng.sample(TOPICS, TOPICS_PER_OFFICIAL):
                members[code][topic].append(person.id)
        for assigned in members[code].values():
            if not assigned:  # every group needs someone from each side
                assigned.append(forum.rng.choice(people).id)
    away = forum.rng.choice(forum.delegations["AU"].participants[1:])
    away.blocked = [forum.window(1, "14:00", "17:30")]  # called back to the embassy
    return members


def _official(code: str, index: int) -> Participant:
    rank: Rank = "senior_official" if index < 2 else "official"
    return Participant(
        id=f"{code.lower()}-so{index + 1}", name=f"Staff officer {index + 1}, {code} delegation", rank=rank
    )


def _meetings(forum: ScenarioBuilder, members: dict[str, dict[str, list[str]]]) -> None:
    interpreters = [ResourceUse(resource="interp-ja")]
    everyone = [person.id for code in SIDES for person in forum.delegations[code].participants]
    opening = forum.add_meeting(
        SIDES,
        90,
        meeting_id="opening-plenary",
        participants=everyone,
        title="Opening plenary",
        priority="must",
        features=["interpretation"],
        resources=interpreters,
        pinned_start=forum.at(0, "09:00"),
        pinned_room="mod-main",
    )
    last_rounds: list[str] = []
    for topic in TOPICS:
        previous = opening.id
        for round_number in range(1, ROUNDS + 1):
            people = [pid for code in SIDES for pid in _attending(forum, members[code][topic])]
            meeting = forum.add_meeting(
                SIDES,
                forum.minutes(60, 90) if round_number < ROUNDS else 60,
                meeting_id=f"{topic}-r{round_number}",
                participants=people,
                title=f"Working group on {topic}, round {round_number}",
                priority="high" if round_number == 1 else "normal",
                features=sorted({"interpretation", *(["secure"] if topic in SECURE_TOPICS else [])}),
                resources=interpreters,
                after=[previous],
            )
            previous = meeting.id
        last_rounds.append(previous)
    heads = [forum.principal(code).id for code in SIDES]
    forum.add_meeting(
        SIDES,
        45,
        meeting_id="heads-review",
        participants=heads,
        title="Heads of delegation: review of progress",
        features=["interpretation"],
        resources=interpreters,
        after=[f"{topic}-r1" for topic in TOPICS],
        preferred=[forum.window(1, "09:00", "12:00")],
    )
    forum.add_meeting(
        SIDES,
        60,
        meeting_id="closing-plenary",
        participants=everyone,
        title="Closing plenary and record of discussion",
        priority="must",
        features=["interpretation"],
        resources=interpreters,
        after=last_rounds,
        earliest=forum.at(2, "15:00"),  # the record of discussion is drafted during the last day
    )


def _attending(forum: ScenarioBuilder, assigned: list[str]) -> list[str]:
    """Two of a side's officials on a topic attend a round (one when only one is assigned)."""
    return sorted(forum.rng.sample(assigned, min(2, len(assigned))))
