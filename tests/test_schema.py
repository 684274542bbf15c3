"""The committed JSON Schemas in docs/schema are exactly what the models generate,
so the documented wire format never drifts from the code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.cli import SCHEMA_FILES, main, schema_documents

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "docs" / "schema"
REGENERATE = "regenerate with: sidelines schema --out-dir docs/schema"


@pytest.mark.parametrize("name", sorted(SCHEMA_FILES))
def test_committed_schema_matches_the_model(name: str) -> None:
    committed = (SCHEMA_DIR / name).read_bytes()
    assert committed == schema_documents()[name], f"docs/schema/{name} is stale; {REGENERATE}"


def test_schema_command_writes_the_committed_files(tmp_path: Path) -> None:
    assert main(["schema", "--out-dir", str(tmp_path)]) == 0
    written = sorted(path.name for path in tmp_path.iterdir())
    assert written == sorted(SCHEMA_FILES)
    for name in written:
        assert (tmp_path / name).read_bytes() == (SCHEMA_DIR / name).read_bytes()


def test_problem_schema_rejects_unknown_fields_and_requires_the_core() -> None:
    schema = json.loads((SCHEMA_DIR / "problem.schema.json").read_bytes())
    problem = schema["$defs"]["Problem"]
    assert problem["required"] == ["forum", "rooms", "delegations", "meetings"]
    # Typos must be errors, as in load_problem, for every object of the document.
    assert all(definition.get("additionalProperties") is False for definition in schema["$defs"].values())


def test_schedule_schema_lists_every_status() -> None:
    schema = json.loads((SCHEMA_DIR / "schedule.schema.json").read_bytes())
    status = schema["$defs"]["Schedule"]["properties"]["status"]
    assert status["enum"] == ["FEASIBLE", "INFEASIBLE", "OPTIMAL", "UNKNOWN"]


@pytest.mark.parametrize("name", sorted(SCHEMA_FILES))
def test_every_field_of_the_documents_says_what_it_is(name: str) -> None:
    schema = json.loads((SCHEMA_DIR / name).read_bytes())
    missing = [
        f"{definition}.{field}"
        for definition, body in schema["$defs"].items()
        for field, property_schema in body.get("properties", {}).items()
        if not property_schema.get("description")
    ]
    assert missing == []
