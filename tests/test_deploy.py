"""docker-compose.yml and the Dockerfile, checked against the app itself.

No Docker engine runs here (nor in CI), so the files are parsed (PyYAML: compose
files are YAML with merge keys, which the standard library cannot read) and every
command in them is parsed by the real `sidelines` argument parser; the health-check
snippets are run for real against a served API and a worker's alive file.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import os
import re
import shlex
import subprocess
import sys
import time
import tomllib
from argparse import Namespace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml

from api.cli import DEFAULT_PORT, build_parser, run_serve, run_worker_command
from api.controllers.health import READINESS_PATH
from api.webhook_policy import ALLOW_VARIABLE
from tests.conftest import ADMIN_TOKEN, bearer
from tests.processes import Isolated, eventually, free_port, serving

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def sidelines_args(command: list[str]) -> Namespace:
    """A command line as the installed `sidelines` script would parse it."""
    assert command[0] == "sidelines" and "sidelines" in PYPROJECT["project"]["scripts"]
    return build_parser().parse_args(command[1:])


def health_snippet(service: str) -> str:
    test = SERVICES[service]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"] and len(test) == 4
    return str(test[3])


def test_services_and_the_two_workers() -> None:
    assert set(SERVICES) == {"postgres", "api", "worker"}
    assert SERVICES["worker"]["deploy"]["replicas"] == 2
    assert SERVICES["api"]["image"] == SERVICES["worker"]["image"]  # one image, built from this repository
    assert SERVICES["api"]["build"] == SERVICES["worker"]["build"] == "."


def test_api_serves_the_published_port_without_in_process_workers() -> None:
    args = sidelines_args(SERVICES["api"]["command"])
    assert args.run is run_serve and args.host == "0.0.0.0" and args.workers == 0
    assert args.port == DEFAULT_PORT
    published = [str(mapping).rsplit(":", 1)[1] for mapping in SERVICES["api"]["ports"]]
    assert published == [str(args.port)]


def test_api_health_check_asks_readiness_on_the_served_port() -> None:
    urls = re.findall(r"'(http://[^']+)'", health_snippet("api"))
    assert len(urls) == 1
    url = urlsplit(urls[0])
    assert url.hostname == "127.0.0.1" and url.port == sidelines_args(SERVICES["api"]["command"]).port
    assert url.path == READINESS_PATH


def test_worker_command_and_its_alive_file_health_check() -> None:
    args = sidelines_args(SERVICES["worker"]["command"])
    assert args.run is run_worker_command and args.alive_file
    assert f"'{args.alive_file}'" in health_snippet("worker")


_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?::(?P<operator>[?-])(?P<argument>[^}]*))?\}")


def interpolated(value: str, environment: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:?message} and ${NAME:-default} substitution (the forms this file uses)."""

    def substitute(match: re.Match[str]) -> str:
        if environment.get(match["name"]):
            return environment[match["name"]]
        if match["operator"] == "-":
            return match["argument"]
        if match["name"] not in environment or match["operator"] == "?":
            raise LookupError(f"{match['name']}: {match['argument'] or 'unset'}")
        return environment[match["name"]]

    return _VARIABLE.sub(substitute, value)


def test_database_url_and_admin_token_reach_the_app() -> None:
    environment = {"POSTGRES_PASSWORD": "pg-secret", "SIDELINES_ADMIN_TOKEN": "admin-secret"}
    postgres = {key: interpolated(value, environment) for key, value in SERVICES["postgres"]["environment"].items()}
    for name in ("api", "worker"):
        url = urlsplit(interpolated(SERVICES[name]["environment"]["DATABASE_URL"], environment))
        assert (url.hostname, url.port, url.path) == ("postgres", 5432, f"/{postgres['POSTGRES_DB']}")
        assert (url.username, url.password) == (postgres["POSTGRES_USER"], "pg-secret")
    assert interpolated(SERVICES["api"]["environment"]["SIDELINES_ADMIN_TOKEN"], environment) == "admin-secret"
    assert "SIDELINES_ADMIN_TOKEN" not in SERVICES["worker"]["environment"]
    # required, never defaulted: compose refuses to start without them
    for secret, setting in (("POSTGRES_PASSWORD", "DATABASE_URL"), ("SIDELINES_ADMIN_TOKEN", "SIDELINES_ADMIN_TOKEN")):
        with pytest.raises(LookupError, match=secret):
            interpolated(SERVICES["api"]["environment"][setting], {})


def test_the_webhook_network_setting_reaches_api_and_workers_empty_by_default() -> None:
    for name in ("api", "worker"):
        setting = SERVICES[name]["environment"][ALLOW_VARIABLE]
        assert interpolated(setting, {}) == ""  # public addresses only
        assert interpolated(setting, {ALLOW_VARIABLE: "10.20.0.0/16"}) == "10.20.0.0/16"


def test_start_order_waits_on_health_checks() -> None:
    assert SERVICES["api"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert SERVICES["worker"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "api": {"condition": "service_healthy"},
    }
    for name, service in SERVICES.items():
        assert {"test", "interval", "timeout", "retries"} <= set(service["healthcheck"]), name
    assert SERVICES["postgres"]["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]


def _dockerfile() -> list[tuple[str, str]]:
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(line for line in lines if line and not line.startswith("#")))
    return [(line.split(None, 1)[0], line.split(None, 1)[1]) for line in joined.splitlines()]


def test_dockerfile_copies_what_exists_and_runs_a_real_command() -> None:
    instructions = _dockerfile()
    base = next(value for op, value in instructions if op == "FROM")
    assert base.startswith("python:3.11")
    assert PYPROJECT["project"]["requires-python"] == ">=3.11"
    for op, value in instructions:
        if op == "COPY":
            *sources, _ = shlex.split(value)
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: no such path"
    assert ("EXPOSE", str(DEFAULT_PORT)) in instructions
    command = json.loads(next(value for op, value in instructions if op == "CMD"))
    args = sidelines_args(command)
    assert args.run is run_serve and args.port == DEFAULT_PORT and args.host == "0.0.0.0"
    assert "pip install ." in next(value for op, value in instructions if op == "RUN")
    copied = {source for op, value in instructions if op == "COPY" for source in shlex.split(value)[:-1]}
    assert "setup.py" in copied  # without it the image's search would run as Python, uncompiled


def test_a_non_editable_install_ships_every_data_file() -> None:
    """The image installs the package (`pip install .`), which carries only .py files unless
    package-data names the rest: migrations, and any templates or static files to come."""
    package_data = PYPROJECT["tool"]["setuptools"].get("package-data", {})
    for package in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]:
        root = ROOT / package.rstrip("*")
        for path in root.rglob("*"):
            if path.is_dir() or path.suffix in (".py", ".pyc") or "__pycache__" in path.parts:
                continue
            if path.suffix == ".so" or path.name == "native.json":  # the compiled search (setup.py)
                continue
            relative = path.relative_to(root).as_posix()
            patterns = package_data.get(root.name, [])
            assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns), f"{root.name}/{relative}"


def _run_snippet(snippet: str) -> int:
    return subprocess.run([sys.executable, "-c", snippet], capture_output=True, timeout=30).returncode


def test_worker_health_check_snippet_follows_the_alive_file(tmp_path: Path) -> None:
    path = sidelines_args(SERVICES["worker"]["command"]).alive_file
    alive = tmp_path / "alive"
    snippet = health_snippet("worker").replace(path, str(alive))
    assert _run_snippet(snippet) != 0  # not started yet
    alive.touch()
    assert _run_snippet(snippet) == 0
    os.utime(alive, (time.time() - 60, time.time() - 60))  # a loop stuck for a minute
    assert _run_snippet(snippet) != 0


@pytest.mark.anyio
async def test_api_health_check_snippet_passes_against_a_served_api(isolated: Isolated) -> None:
    async with serving(isolated, "--workers", "0") as (process, client):
        port = urlsplit(str(client.base_url)).port
        snippet = health_snippet("api").replace(f":{DEFAULT_PORT}/", f":{port}/")
        assert _run_snippet(snippet) == 0
        process.terminate()
        assert await process.wait() == 0
    assert _run_snippet(snippet) != 0  # nothing listens any more


@pytest.mark.anyio
async def test_serve_without_an_admin_token_says_so_when_it_starts(isolated: Isolated, tmp_path: Path) -> None:
    """An integrator's server started without SIDELINES_ADMIN_TOKEN answered their POST /forums
    'unknown or revoked token', and its log said nothing of why."""
    port = free_port()
    environment = {name: value for name, value in os.environ.items() if name != "SIDELINES_ADMIN_TOKEN"}
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "api", "serve", "--port", str(port), "--workers", "0",
            env={**environment, "DATABASE_URL": isolated.url}, stdout=output, stderr=output,
        )  # fmt: skip
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:

            async def ready() -> bool:
                try:
                    return (await client.get(READINESS_PATH)).status_code == 200
                except httpx.TransportError:
                    return False

            await eventually(ready)
            refused = await client.post("/forums", json={}, headers=bearer(ADMIN_TOKEN))
            assert refused.status_code in (400, 401)
    finally:
        process.terminate()
        assert await process.wait() == 0
    assert (
        "sidelines: SIDELINES_ADMIN_TOKEN is not set: POST /forums and /forums/import are refused "
        "(`sidelines load` still stores a forum)\n"
    ) in log.read_text()


@pytest.mark.anyio
async def test_serve_on_port_0_says_the_port_the_system_chose(isolated: Isolated) -> None:
    """`sidelines demo --port 0` picked a free port while `sidelines serve --port 0` was refused.
    Now both take it; serve's log line names the port bound, where the API then answers."""
    process = await isolated.start("serve", "--port", "0", "--workers", "0")
    log = max(isolated.logs.iterdir(), key=lambda path: path.stat().st_mtime)
    try:

        async def named() -> bool:
            assert process.returncode is None, log.read_text()
            return re.search(r"running on http://127\.0\.0\.1:(\d+)", log.read_text()) is not None

        await eventually(named)
        found = re.search(r"running on http://127\.0\.0\.1:(\d+)", log.read_text())
        assert found is not None and int(found[1]) != 0
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{found[1]}", timeout=10) as client:
            assert (await client.get(READINESS_PATH)).status_code == 200
        process.terminate()
        assert await process.wait() == 0
    finally:
        if process.returncode is None:  # the test failed before stopping it
            process.kill()
            await process.wait()


@pytest.mark.anyio
async def test_serve_on_the_embedded_postgresql_stops_without_pgservers_chatter(tmp_path: Path) -> None:
    """Ctrl-C on the README's demo printed pgserver's pg_ctl command lines and their stdout and
    stderr sections (its INFO records, which Litestar's logging config lets through)."""
    port = free_port()
    environment = {name: value for name, value in os.environ.items() if name != "DATABASE_URL"}
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), environment.get("PYTHONPATH")]))
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "api", "serve", "--port", str(port), "--workers", "0",
            env=environment, cwd=tmp_path, stdout=output, stderr=output,
        )  # fmt: skip
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:

            async def ready() -> bool:
                assert process.returncode is None, log.read_text()
                try:
                    return (await client.get(READINESS_PATH)).status_code == 200
                except httpx.TransportError:
                    return False

            await eventually(ready)
    finally:
        process.terminate()
        assert await process.wait() == 0
    printed = log.read_text()
    assert "Application shutdown complete" in printed and (tmp_path / ".sidelines" / "pgdata").is_dir()
    assert "pgserver" not in printed, printed
