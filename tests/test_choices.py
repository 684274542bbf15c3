"""A value outside a fixed set is answered with the set: msgspec says only "Invalid enum value
'urgent'" (and "Invalid value 'x'" for an unknown tag), so every place that turns its errors
into field errors reads the values from the type it decoded (solver/choices.py). The CLI's
problem files and the CSV import are tested beside their other faults (test_cli.py,
test_load.py, test_csv_import.py)."""

from __future__ import annotations

import enum
from typing import Annotated, Any, Literal

import httpx
import msgspec
import pytest

from solver.choices import choices_at
from tests.conftest import ADMIN_TOKEN, World, bearer
from tests.test_load import EXAMPLES

pytestmark = pytest.mark.anyio

PRIORITIES = "must be one of: must, high, normal, low"


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Square(msgspec.Struct, tag="square", rename="camel"):
    line_colour: Literal["black", "grey"] = "black"


class Circle(msgspec.Struct, tag="circle"):
    fill: Colour | None = None


class Left(msgspec.Struct, tag=True):
    side: Literal["port"] = "port"
    size: Literal["s", "m"] = "s"


class Right(msgspec.Struct, tag=True):
    side: Literal["starboard"] = "starboard"
    size: Literal["s", "m"] = "s"


class Drawing(msgspec.Struct):
    shapes: list[Square | Circle] = []
    hand: Left | Right | None = None
    palette: dict[str, list[Annotated[Colour, msgspec.Meta(description="a colour")]]] = {}
    corner: tuple[int, Literal["top", "bottom"]] | None = None
    either: Literal["a", "b"] | Literal["c"] | None = None
    name: str = ""


@pytest.mark.parametrize(
    ("path", "choices"),
    [
        (".shapes[0].lineColour", ["black", "grey"]),  # by the field's name in JSON
        (".shapes[2].type", ["square", "circle"]),  # a tag: every member's
        (".shapes[1].fill", ["red", "blue"]),  # an Enum's values, in declared order
        (".palette[...][3]", ["red", "blue"]),  # a dict's value, through Annotated
        (".corner[1]", ["top", "bottom"]),
        (".either", ["a", "b", "c"]),
        (".hand.size", ["s", "m"]),  # past a member's field: the members agree
        (".hand.side", None),  # they differ: which applies depends on the member
        (".hand.type", ["Left", "Right"]),
        (".name", None),
        (".corner[0]", None),
        (".shapes[0].nothing", None),
        ("", None),
        ("key in `$", None),  # a dict's key: msgspec's words, not a path
    ],
)
def test_the_choices_are_read_from_the_type_at_the_path(path: str, choices: list[str] | None) -> None:
    assert choices_at(Drawing, path) == choices


async def _post(client: httpx.AsyncClient, url: str, body: Any, headers: dict[str, str]) -> list[dict[str, str]]:
    answer = await client.post(url, json=body, headers=headers)
    assert answer.status_code in (400, 422) and answer.headers["content-type"] == "application/problem+json"
    return list(answer.json()["errors"])


async def test_the_api_names_the_values_a_field_may_take(client: httpx.AsyncClient, world: World) -> None:
    request = {"title": "x", "parties": ["SGP", "AUS"], "duration_minutes": 30, "priority": "urgent"}
    assert await _post(client, f"{world.base}/requests", request, world.tokens["SGP"]) == [
        {"field": "priority", "message": f"{PRIORITIES} (not 'urgent')"}
    ]
    person = {"id": "p9", "name": "N", "rank": "general"}
    [error] = await _post(client, f"{world.base}/delegations/SGP/participants", person, world.tokens["SGP"])
    assert error == {
        "field": "rank",
        "message": "must be one of: head_of_state, minister, deputy_minister, chief_of_defence, senior_official,"
        " official (not 'general')",
    }
    [error] = await _post(client, f"{world.base}/changes", {"kind": "storm"}, world.organiser)
    assert error["field"] == "kind"
    assert error["message"].startswith("must be one of: arrival_changed, departure_changed, participant_blocked,")
    assert error["message"].endswith(" (not 'storm')")
    meeting = {"id": "m", "delegations": ["SGP", "AUS"], "duration_minutes": 30, "priority": "soon"}
    change = {"kind": "meeting_requested", "meeting": meeting}
    assert await _post(client, f"{world.base}/changes", change, world.organiser) == [
        {"field": "meeting.priority", "message": f"{PRIORITIES} (not 'soon')"}
    ]


async def test_an_imported_problem_names_the_values_deep_inside(client: httpx.AsyncClient) -> None:
    document = msgspec.json.decode((EXAMPLES / "cis-council.json").read_bytes())
    document["meetings"][4]["priority"] = "urgent"
    assert await _post(client, "/forums/import", document, bearer(ADMIN_TOKEN)) == [
        {"field": "meetings[4].priority", "message": f"{PRIORITIES} (not 'urgent')"}
    ]
