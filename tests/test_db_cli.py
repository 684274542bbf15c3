"""`sidelines db migrate` against a throwaway database, twice."""

from __future__ import annotations

import os
import socket
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


def _closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("command", [["db", "migrate"], ["worker"], ["load", "examples/halifax.json"]])
def test_an_unreachable_database_is_one_line_without_the_password(command: list[str]) -> None:
    # These printed asyncpg's traceback and exited 1; the password in the URL went unprinted only by luck.
    url = f"postgresql://postgres:hunter2@127.0.0.1:{_closed_port()}/sidelines"
    environment = {**os.environ, "DATABASE_URL": url}
    done = subprocess.run(
        [sys.executable, "-m", "api", *command], env=environment, capture_output=True, text=True, check=False,
        cwd=Path(__file__).resolve().parents[1], timeout=60,
    )  # fmt: skip
    shown = url.replace("hunter2", "***")
    assert done.returncode == 2
    assert done.stderr.startswith(f"sidelines: error: cannot connect to the database at {shown}: ")
    assert "Traceback" not in done.stderr and "hunter2" not in done.stderr
