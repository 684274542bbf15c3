"""`sidelines db migrate` against a throwaway database, twice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Databases

MIGRATIONS = Path(__file__).resolve().parents[1] / "db" / "migrations"

pytestmark = pytest.mark.anyio


async def test_db_migrate_command_applies_then_reports_up_to_date(databases: Databases) -> None:
    url = await databases.create()
    environment = {**os.environ, "DATABASE_URL": url}
    command = [sys.executable, "-m", "api", "db", "migrate"]
    first = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    assert first.returncode == 0, first.stderr
    every_migration = ", ".join(sorted(path.stem for path in MIGRATIONS.glob("*.sql")))
    assert first.stdout.strip() == f"applied: {every_migration}"
    second = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    assert (second.returncode, second.stdout.strip()) == (0, "database is up to date")
