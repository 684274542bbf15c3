"""`sidelines demo` as a newcomer runs it: the printed curl commands work as printed,
and Ctrl-C or SIGTERM stops it cleanly."""

from __future__ import annotations

import os
import queue
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest

from api.demo import LAST_LINE
from tests.conftest import Databases

pytestmark = pytest.mark.anyio

STARTUP_SECONDS = 180  # migrate, load, spawn the solver, solve for --time-limit, publish, bind


class Demo:
    """A `sidelines demo` subprocess whose stdout is read line by line on a thread."""

    def __init__(self, database_url: str, time_limit: int) -> None:
        environment = {**os.environ, "DATABASE_URL": database_url}
        command = [sys.executable, "-m", "api", "demo", "--port", "0", "--time-limit", str(time_limit)]
        self.process = subprocess.Popen(
            command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def stop(self, stop_signal: signal.Signals) -> tuple[int, str]:
        """Send `stop_signal`; the exit code and stderr once it has ended (killed after 60 s)."""
        self.process.send_signal(stop_signal)
        try:
            self.process.wait(timeout=60)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        self.reader.join(timeout=10)
        assert self.process.stdout is not None and self.process.stderr is not None
        errors = self.process.stderr.read()
        self.process.stdout.close()
        self.process.stderr.close()
        return self.process.returncode, errors


def _block(lines: queue.Queue[str | None]) -> Iterator[str]:
    """The printed lines up to the demo's last line; fails if the demo ends or stalls first."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        line = lines.get(timeout=max(deadline - time.monotonic(), 0.1))
        assert line is not None, "the demo ended before printing its block"
        yield line
        if line == LAST_LINE:
            return


def _run_curl(command: str) -> tuple[int, dict[str, Any]]:
    """Run a printed curl line as a shell would split it; its answer's status and JSON body."""
    done = subprocess.run(shlex.split(command), capture_output=True, text=True, check=True, timeout=30)
    body, _, status_line = done.stdout.rstrip("\n").rpartition("\n")
    assert status_line.startswith("HTTP "), done.stdout
    return int(status_line.removeprefix("HTTP ")), msgspec.json.decode(body, type=dict[str, Any])


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
async def test_demo_prints_curl_commands_that_work_and_stops_cleanly(
    databases: Databases, stop_signal: signal.Signals
) -> None:
    assert shutil.which("curl"), "curl is needed to run the printed commands (.ci/run installs it)"
    demo = Demo(await databases.create(), time_limit=2)
    try:
        printed = list(_block(demo.lines))
        curls = [line.strip() for line in printed if line.strip().startswith("curl ")]
        assert len(curls) == 3, printed
        answers = [_run_curl(line) for line in curls]
    finally:
        code, errors = demo.stop(stop_signal)
    assert [status for status, _ in answers] == [200, 200, 404]
    grid, agenda, hidden = (body for _, body in answers)
    assert grid["published"] and len(grid["placements"]) >= 100
    meetings = agenda["meetings"]
    assert meetings and all(any(a.startswith("SG/") for a in m["attendees"]) for m in meetings)
    assert len(meetings) < len(grid["placements"])
    assert hidden["type"] == "urn:sidelines:problem:not-found"
    assert any(line.startswith("  API docs") and line.endswith("/schema") for line in printed)
    assert code == 0, errors
    assert "Traceback" not in errors


async def test_ctrl_c_during_the_solve_stops_the_demo(databases: Databases) -> None:
    demo = Demo(await databases.create(), time_limit=60)
    while not (demo.lines.get(timeout=STARTUP_SECONDS) or "").startswith("solving through a solve run"):
        pass
    time.sleep(1)  # the solver child is running
    started = time.monotonic()
    code, errors = demo.stop(signal.SIGINT)
    assert time.monotonic() - started < 30  # far below the 60 s limit: the solve was stopped, not waited for
    assert code == 130, errors
    assert "Traceback" not in errors and "demo interrupted" in errors
