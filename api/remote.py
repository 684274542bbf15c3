"""`sidelines forum ...`: the organiser's daily loop against a forum stored on a server, over
the HTTP API (docs/api.md), instead of curl: status, solve (and follow the run), publish,
export, record a change, review and edit requests, replace a delegation's token, read its agenda.

The server is `--server URL`, else the SIDELINES environment variable; the organiser token is
SIDELINES_TOKEN, else `--token-file PATH` (a token on the command line would show in `ps`).
Every answer that is not a success is said as `sidelines: error: <where>: <what>` lines, one
per faulty field of its problem detail (RFC 9457), and never as a traceback. Exit codes:

- 0: done;
- 1: the run failed, or ended without a grid;
- 2: the caller's input was refused (a 4xx: a bad token, an unknown forum or version, a
  conflict such as a stale version or a closed forum), or a bad option or file;
- 3: try again later: the server could not be reached, answered 503 (its Retry-After is
  said), or failed (5xx).

A read (GET, and only a GET: a POST may have been applied when its answer is lost) that
answers 503 is sent again after the seconds its Retry-After says, while the waits add up to
at most RETRY_SECONDS; each wait is said on stderr. `solve --wait` rides out a lost server
(unreachable, or a 502, 503 or 504 from a proxy in front of it): it reads the run again with
a growing pause for up to RECONNECT_SECONDS, saying so on stderr, and goes on following it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from api.cli import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, CliError, Subparsers, positive_float, read_bytes

if TYPE_CHECKING:
    import httpx

EXIT_RETRY = 3  # the server could not answer now: unreachable, 503 or 5xx
TOKEN_VARIABLE = "SIDELINES_TOKEN"
SERVER_VARIABLE = "SIDELINES"
POLL_SECONDS = 0.5  # how often `solve --wait` reads the run
TIMEOUT_SECONDS = 30.0
FINISHED = {"succeeded", "failed", "cancelled"}
PAGE = 1000  # the API's largest page
RETRY_SECONDS = 30.0  # a GET answered 503 is sent again while the Retry-After waits add up to this
RECONNECT_SECONDS = 60.0  # how long `solve --wait` reads again a run whose server it lost
RECONNECT_PAUSES = (0.5, 1.0, 2.0, 4.0)  # the pauses between its reads, the last repeated
LOST = {502, 503, 504}  # a proxy's answers while the server behind it restarts


class RemoteError(Exception):
    """What to say, and the exit code: each line is (where, what)."""

    def __init__(self, lines: list[tuple[str, str]], code: int, *, lost: bool = False) -> None:
        super().__init__("; ".join(f"{where}: {what}" for where, what in lines))
        self.lines = lines
        self.code = code
        self.lost = lost  # the server was not reached, or a proxy said it is away (502, 503, 504)


@dataclass
class Client:
    server: str
    token: str
    token_source: str  # "SIDELINES_TOKEN" or "--token-file PATH": named when the server refuses it
    http: httpx.Client
    # The server's field paths ("room", "query:k", "path:version") as the command's own arguments.
    arguments: dict[str, str] = field(default_factory=dict)
    # The file the request's body came from (`forum change FILE`): a field refused in it is said under
    # the file, as a user who gave a malformed file must be told which file.
    body_file: str | None = None

    def call(
        self,
        method: str,
        path: str,
        body: object = None,
        params: dict[str, str] | None = None,
        extra: dict[str, str] | None = None,
    ) -> httpx.Response:
        import httpx

        content = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self.token}"} | (extra or {})
        if content is not None:
            headers["Content-Type"] = "application/json"
        waited = 0.0
        while True:
            try:
                response = self.http.request(method, path, content=content, headers=headers, params=params)
            except httpx.TimeoutException:
                lines = [(self.server, "the server did not answer in time; try again")]
                raise RemoteError(lines, EXIT_RETRY, lost=True) from None
            except (httpx.TransportError, httpx.InvalidURL) as error:
                # A request h11 refuses to send is quoted whole in its message, the Authorization header too.
                local = isinstance(error, httpx.LocalProtocolError)
                reason = type(error).__name__ if local else str(error) or type(error).__name__
                lines = [(self.server, f"cannot reach the server ({reason}); try again")]
                raise RemoteError(lines, EXIT_RETRY, lost=True) from None
            if response.is_success:
                return response
            pause = _retry_after(response) if method == "GET" and response.status_code == 503 else None
            if pause is None or waited + pause > RETRY_SECONDS:
                raise self.refused(response)
            where = f"{method} {response.request.url.path}"
            print(f"sidelines: {where}: the server is busy (HTTP 503); reading again in {pause:g} s", file=sys.stderr)
            time.sleep(pause)
            waited += pause

    def json(
        self,
        method: str,
        path: str,
        body: object = None,
        params: dict[str, str] | None = None,
        extra: dict[str, str] | None = None,
    ) -> Any:
        response = self.call(method, path, body, params, extra)
        try:
            return response.json()
        except ValueError:
            raise RemoteError([(path, "the server's answer is not JSON: is --server the API?")], EXIT_RETRY) from None

    def every(self, path: str, after: int = 0) -> list[Any]:
        """Every item of a paged list (after the item keyed `after`), following its `Link: rel="next"` pages."""
        items: list[Any] = []
        params = {"limit": str(PAGE)} | ({"after": str(after)} if after else {})
        response = self.call("GET", path, params=params)
        while True:
            items += response.json()
            following = response.links.get("next", {}).get("url")
            if not following:
                return items
            response = self.call("GET", following)

    def refused(self, response: httpx.Response) -> RemoteError:
        """A problem detail as lines: each faulty field, else the detail under the token or the request."""
        try:
            problem = response.json()
        except ValueError:
            problem = {}
        if not isinstance(problem, dict):
            problem = {}
        status = response.status_code
        detail = str(problem.get("detail") or response.reason_phrase or f"HTTP {status}")
        request = f"{response.request.method} {response.request.url.path}"
        if status == 503 or status >= 500:
            wait = response.headers.get("Retry-After")
            retry = f"; try again in {wait} s" if wait else "; try again"
            return RemoteError([(request, f"{detail} (HTTP {status}){retry}")], EXIT_RETRY, lost=status in LOST)
        if status == 401:
            lines = [(f"token ({self.token_source})", detail)]
            if self.token_source == TOKEN_VARIABLE and _names_a_file(self.token):
                lines.append((f"token ({TOKEN_VARIABLE})", PATH_IN_VARIABLE))
            return RemoteError(lines, EXIT_USAGE)
        if status == 412:  # an If-Match of a read-modify-write: someone changed it between our read and write
            lines = [(request, "changed meanwhile (HTTP 412): run the command again to apply it to what is there now")]
            return RemoteError(lines, EXIT_RETRY)
        errors = problem.get("errors") or []
        lines = [(self.argument(error.get("field"), request), str(error.get("message", ""))) for error in errors]
        if not lines:  # a problem naming no field (a conflict): said under the request
            lines = [(request, detail)]
        return RemoteError(lines, EXIT_USAGE)

    def argument(self, path: object, request: str) -> str:
        """The command's argument a problem's field path names, else the path itself."""
        if not isinstance(path, str) or not path:
            return request
        if path in self.arguments:
            return self.arguments[path]
        if self.body_file is not None and not path.startswith(("path:", "query:", "header:")):
            return self.body_file if path == "$" else f"{self.body_file}: {path.removeprefix('$.')}"
        # an item of a list the command takes whole (`parties[2]` of --parties A,B,C) is said as the list's
        base = path.partition("[")[0]
        return self.arguments.get(base, path) if base != path else path


def _retry_after(response: httpx.Response) -> float | None:
    """The seconds a 503's Retry-After asks for (a number of seconds, or an HTTP date); 1 without one."""
    text = response.headers.get("Retry-After", "").strip()
    if not text:
        return 1.0
    if text.isascii() and text.isdigit():
        return float(text)
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    from datetime import UTC, datetime

    return max(0.0, (when - datetime.now(UTC)).total_seconds()) if when.tzinfo else None


# ---- the commands


def add_forum(commands: Subparsers) -> None:
    command = commands.add_parser(
        "forum",
        help="work on a forum stored on a server: status, solve, publish, export, record a change",
        description="The HTTP API's organiser calls as commands. Server: --server or SIDELINES; token: "
        "SIDELINES_TOKEN or --token-file. Exit 0 done, 1 a run failed or ended without a grid, 2 the "
        "server refused the input (the problem detail is printed), 3 try again later (server unreachable, "
        "503 or 5xx).",
    )
    actions = command.add_subparsers(dest="action", metavar="ACTION", required=True)

    status = _command(actions, "status", help="the forum, its latest run, its versions and the published one")
    _common(status)
    status.set_defaults(run=_guarded(run_status))

    runs = _command(actions, "runs", help="every run of the forum, oldest first: status, version, times")
    _common(runs)
    runs.set_defaults(run=_guarded(run_runs))

    solve = _command(
        actions,
        "solve",
        help="queue a solve run; with --wait follow it to its end (Ctrl-C cancels it, keeping its best grid)",
    )
    _common(solve)
    solve.add_argument("--resolve", action="store_true", help="re-solve from the published version and the changes")
    solve.add_argument(
        "--time-limit", type=positive_float, metavar="S", help="seconds (server default 10; 0.5 re-solve)"
    )
    solve.add_argument("--wait", action="store_true", help="follow the run to its end and print its result")
    solve.set_defaults(run=_guarded(run_solve))

    publish = _command(actions, "publish", help="publish a version: delegations see it")
    _common(publish, version=True)
    publish.set_defaults(run=_guarded(run_publish))

    export = _command(actions, "export", help="download a version's grid as CSV or a workbook")
    _common(export, version=True)
    export.add_argument("--format", choices=("csv", "xlsx"), help="default: from --out's suffix (.csv or .xlsx)")
    export.add_argument(
        "--layout", choices=("grid", "list"), default="grid", help="CSV: rooms by time, or a row per meeting"
    )
    export.add_argument("--out", required=True, metavar="FILE", help="written only when the download succeeds")
    export.set_defaults(run=_guarded(run_export))

    change = _command(actions, "change", help="record a last-minute change (docs/resolve.md) from a JSON file")
    _common(change)
    change.add_argument("file", metavar="CHANGE.json", help="the change's JSON body; - reads it from stdin")
    change.set_defaults(run=_guarded(run_change))

    diff = _command(actions, "diff", help="what moved, was added or removed from version A to version B")
    _common(diff, version=True, version_name="A", version_help="the version to compare from")
    diff.add_argument("other", type=_version, metavar="B", help="the version to compare with")
    diff.set_defaults(run=_guarded(run_diff, {"path:version": "A", "path:other": "B"}))

    audit = _command(actions, "audit", help="the audit log: every change to the forum, oldest first")
    _common(audit)
    audit.add_argument(
        "--after", type=_after, default=0, metavar="N", help="only the entries after entry N (the last you have)"
    )
    audit.set_defaults(run=_guarded(run_audit))

    _add_moves(actions)
    _add_setup(actions)
    _add_tokens(actions)
    _add_requests(actions)

    for action, says in (
        ("close", "close (archive) the forum: delegation tokens and calendar feeds stop, nothing changes"),
        ("reopen", "reopen a closed forum: its tokens, feeds and changes work again"),
    ):
        closing = _command(actions, action, help=says)
        _common(closing)
        closing.set_defaults(run=_guarded(run_close if action == "close" else run_reopen))


def _command(actions: Subparsers, name: str, *, help: str, description: str | None = None) -> argparse.ArgumentParser:
    """A subcommand whose --help says what it does: its description, else its one-line help as a sentence."""
    return actions.add_parser(name, help=help, description=description or f"{help[0].upper()}{help[1:]}.")


def _common(
    command: argparse.ArgumentParser,
    *,
    version: bool = False,
    version_name: str = "VERSION",
    version_help: str = "the schedule version's number (forum status lists them)",
) -> None:
    command.add_argument("forum", metavar="FORUM_ID", help="the forum's id (as its import or sidelines load answered)")
    if version:
        command.add_argument("version", type=_version, metavar=version_name, help=version_help)
    command.add_argument("--server", metavar="URL", help=f"the server's address (default: ${SERVER_VARIABLE})")
    command.add_argument(
        "--token-file",
        metavar="PATH",
        help=f"a file holding the organiser token (without it: the token itself from ${TOKEN_VARIABLE})",
    )
    command.add_argument("--json", action="store_true", help="print the server's answer as JSON")


def _version(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a version number of at least 1, not {text!r}")
    return int(text)


def _after(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise argparse.ArgumentTypeError(f"must be an entry number, 0 or more, not {text!r}")
    return int(text)


def _guarded(
    command: Callable[[argparse.Namespace, Client], int], arguments: dict[str, str] | None = None
) -> Callable[[argparse.Namespace], int]:
    """The command with its client, and every refusal said and turned into its exit code; a
    refused field is said as the command's argument `arguments` maps it to (`PATHS` too)."""

    def run(args: argparse.Namespace) -> int:
        import httpx

        server, token, source = _server(args), *_token(args)
        try:
            with httpx.Client(base_url=server, timeout=TIMEOUT_SECONDS) as http:
                return command(args, Client(server, token, source, http, PATHS | (arguments or {})))
        except RemoteError as error:
            for where, what in error.lines:
                print(f"sidelines: error: {where}: {what}", file=sys.stderr)
            return error.code

    return run


def _server(args: argparse.Namespace) -> str:
    import httpx

    given = (args.server or os.environ.get(SERVER_VARIABLE, "")).strip()
    if not given:
        raise CliError([("--server", f"no server: pass --server URL or set {SERVER_VARIABLE}")])
    try:
        url = httpx.URL(given)
    except httpx.InvalidURL as error:
        raise CliError([("--server", f"{given!r} is not an address: {error}")]) from None
    if url.scheme not in {"http", "https"} or not url.host:
        raise CliError([("--server", f"must be an http:// or https:// address, not {given!r}")])
    return given.rstrip("/")


def _token(args: argparse.Namespace) -> tuple[str, str]:
    """The token and where it came from. A token file may be the one `sidelines load --json` wrote."""
    if args.token_file is not None:
        source = f"--token-file {args.token_file}"
        text = read_bytes(args.token_file).decode("utf-8", errors="replace").strip()
        if text.startswith("{"):
            try:
                text = str(json.loads(text).get("organiser_token") or "")
            except (ValueError, AttributeError):
                raise CliError([(args.token_file, "not a token, nor JSON with an organiser_token")]) from None
        if not text:
            raise CliError([(args.token_file, "holds no token")])
        return _sendable(text, source), source
    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    if not token:
        raise CliError([("token", f"no organiser token: set {TOKEN_VARIABLE}, or pass --token-file PATH")])
    return _sendable(token, TOKEN_VARIABLE), TOKEN_VARIABLE


# Said when SIDELINES_TOKEN names a file (the old help read as if it held a path); never the value itself.
PATH_IN_VARIABLE = f"it names an existing file: {TOKEN_VARIABLE} holds the token itself; for a file use --token-file"


def _names_a_file(token: str) -> bool:
    """Whether the variable's value is a path to an existing file (a token is never one)."""
    try:
        return Path(token).expanduser().is_file()
    except (OSError, ValueError):  # a name too long, or a NUL
        return False


def _sendable(token: str, source: str) -> str:
    """The token, if a header can carry it (tokens are visible ASCII: `secrets.token_urlsafe`).
    Else refused here, never shown: sent anyway, h11's refusal quoted the whole header (a file
    of two lines printed both tokens as why the server could not be reached)."""
    if not all("!" <= character <= "~" for character in token):
        what = "a space, a line break, a control or a non-ASCII character"
        lines = [(f"token ({source})", f"not a token: it holds {what} (one token, on one line)")]
        if source == TOKEN_VARIABLE and _names_a_file(token):
            lines.append((f"token ({source})", PATH_IN_VARIABLE))
        raise CliError(lines)
    return token


def _forum(args: argparse.Namespace) -> str:
    return f"/forums/{_segment(args.forum)}"


def _print_json(value: object) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


# ---- status


def run_status(args: argparse.Namespace, client: Client) -> int:
    base = _forum(args)
    forum = client.json("GET", base)
    versions = client.every(f"{base}/schedules")
    latest = _latest_run(client, base)
    if args.json:
        _print_json({"forum": forum, "latest_run": latest, "versions": versions})
        return EXIT_OK
    print(f"forum {forum.get('id', args.forum)}: {forum.get('name', '')}")
    if forum.get("closed_at"):
        print(f"closed at {forum['closed_at']}")
    if latest is None:
        print("latest run: none")
    else:
        print(f"latest run: {_run_line(latest)}")
    published = [version for version in versions if version.get("published")]
    print(f"published version: {published[-1]['number'] if published else 'none'}")
    print(f"versions ({len(versions)}):")
    for version in versions:
        marks = [mark for mark, on in (("published", version.get("published")),) if on]
        if version.get("out_of_date") is not None:
            marks.append("out of date")
        origin = f"run {version['run_id']}" if version.get("run_id") else f"from {version.get('derived_from')}"
        print(
            f"  {version['number']:>3}  {version.get('status') or '-':<10} placed {version.get('placed')}, "
            f"unplaced {version.get('unplaced')}, objective {_number(version.get('objective'))}, {origin}"
            + (f"  [{', '.join(marks)}]" if marks else "")
        )
    return EXIT_OK


def _latest_run(client: Client, base: str) -> Any:
    """The forum's last run: the last of its list of runs (numbered 1, 2, 3 ..., oldest first)."""
    runs = client.every(f"{base}/runs")
    return runs[-1] if runs else None


def _run_line(run: dict[str, Any]) -> str:
    version = f", version {run['version']}" if run.get("version") is not None else ""
    error = f": {run['error']}" if run.get("error") else ""
    return f"run {run['id']} {run['status']}{version}{error}"


def _number(value: object) -> str:
    return "-" if value is None else f"{value:,}" if isinstance(value, int) else str(value)


# ---- solve


def run_solve(args: argparse.Namespace, client: Client) -> int:
    base = _forum(args)
    body: dict[str, Any] = {}
    if args.time_limit is not None:
        body["time_limit"] = args.time_limit
    if args.resolve:
        body["resolve"] = {}
    run = client.json("POST", f"{base}/runs", body)
    if not args.wait:
        if args.json:
            _print_json(run)
        else:
            print(f"run {run['id']} queued; follow it with: sidelines forum status {args.forum}")
        return EXIT_OK
    print(f"run {run['id']} queued", file=sys.stderr)
    try:
        run = _follow(client, base, run)
    except RemoteError as error:
        if error.code == EXIT_RETRY:  # the run goes on without us
            error.lines.append((f"run {run['id']}", f"goes on on the server: sidelines forum status {args.forum}"))
        raise
    if args.json:
        _print_json(run)
    else:
        _print_result(client, base, run)
    if run.get("version") is not None:
        return EXIT_OK
    return EXIT_FAILED


def _follow(client: Client, base: str, run: dict[str, Any]) -> Any:
    """Read the run until it ends, saying its progress on stderr. A first Ctrl-C cancels the run
    (a running one keeps its best grid) and goes on following it to its end; a second stops
    following, leaving the run to end on the server."""
    path = f"{base}/runs/{run['id']}"
    said = None
    cancelled = False
    while run["status"] not in FINISHED:
        try:  # the whole step: a Ctrl-C lands anywhere in it, the printing of a line included
            time.sleep(POLL_SECONDS)
            run = _read_again(client, path, run)
            line = _progress_line(run)
            if line != said:
                print(line, file=sys.stderr, flush=True)
                said = line
        except KeyboardInterrupt:
            if cancelled:
                print(f"\nstopped following run {run['id']}; it ends on the server", file=sys.stderr)
                raise SystemExit(EXIT_INTERRUPTED) from None
            cancelled = True
            print(
                f"\ncancelling run {run['id']} (its best grid so far is kept); Ctrl-C again to stop waiting",
                file=sys.stderr,
            )
            try:
                run = client.json("POST", f"{path}/cancel")
            except RemoteError as error:
                if error.code != EXIT_USAGE:  # a 409: it ended meanwhile; read it as it ended
                    raise
    return run


def _read_again(client: Client, path: str, run: dict[str, Any]) -> Any:
    """The run as the server now has it. A lost server is read again with growing pauses for up
    to RECONNECT_SECONDS (the run goes on without us meanwhile), said on stderr."""
    lost_at: float | None = None
    tries = 0
    while True:
        try:
            found = client.json("GET", path)
        except RemoteError as error:
            if not error.lost:
                raise
            now = time.monotonic()
            if lost_at is None:
                lost_at = now
                print(
                    f"run {run['id']}: lost the server ({error.lines[0][1]}); reconnecting for up to "
                    f"{RECONNECT_SECONDS:g} s",
                    file=sys.stderr,
                    flush=True,
                )
            pause = RECONNECT_PAUSES[min(tries, len(RECONNECT_PAUSES) - 1)]
            if now - lost_at + pause > RECONNECT_SECONDS:
                raise
            time.sleep(pause)
            tries += 1
            continue
        if lost_at is not None:
            print(f"run {run['id']}: reconnected after {time.monotonic() - lost_at:.1f} s", file=sys.stderr, flush=True)
        return found


def _progress_line(run: dict[str, Any]) -> str:
    """The run's progress as a protocol officer reads it: grids found, the best one's cost, and
    how far it may be from the best possible in words. The raw figures (objective, bound, gap)
    are the --json output's: "bound -1,200 gap 236.36%" told a walkthrough's user nothing."""
    progress = run.get("progress")
    if run["status"] != "running" or not progress:
        return f"run {run['id']} {run['status']}"
    head = f"run {run['id']} running {progress.get('elapsed', 0):.0f} s"
    objective = progress.get("objective")
    if objective is None:
        return f"{head}: no grid yet"
    found = progress.get("solutions") or 1
    grids = f"{found} grid{'s' if found != 1 else ''} found"
    return f"{head}: {grids}, the best costs {_number(objective)}; {_proof(objective, progress.get('best_bound'))}"


def _proof(objective: int, bound: int | None) -> str:
    """How far the grid may be from the best possible, from the solver's bound (no grid costs less).
    A bound of 0 or below, as CP-SAT's first ones often are, proves nothing a person can use."""
    if bound is not None and objective <= bound:
        return "proven best"
    if bound is None or bound <= 0 or objective <= 0:
        return "searching; how far from the best possible is not known yet"
    # At most this share of the grid's cost could still be saved; rounded up, as it is a limit.
    share = math.ceil(100 * (objective - bound) / objective)
    return f"searching; at most {share}% from the best possible"


def _print_result(client: Client, base: str, run: dict[str, Any]) -> None:
    print(_run_line(run))
    if run.get("version") is None:
        return
    grid = client.json("GET", f"{base}/schedules/{run['version']}")
    placed, unplaced = grid.get("placements", []), grid.get("unplaced", [])
    print(f"version {grid['number']}: {grid.get('status')}, objective {_number(grid.get('objective'))}")
    print(f"placed {len(placed)}, unplaced {len(unplaced)}")
    for entry in unplaced:
        print(f"  {entry['meeting']}  {entry['reason']}  {entry.get('message', '')}")
    for move in run.get("moves") or []:
        cause = move.get("cause") or {}
        print(f"  moved {move.get('meeting')} ({move.get('kind')}): {cause.get('message', cause.get('kind', ''))}")
    if grid.get("out_of_date") is not None:
        print("out of date: the forum was edited during the run; solve again before publishing")


# ---- publish, export, change


def run_publish(args: argparse.Namespace, client: Client) -> int:
    answer = client.json("POST", f"{_forum(args)}/schedules/{args.version}/publish")
    if args.json:
        _print_json(answer)
    else:
        print(f"version {answer.get('number', args.version)} published")
    return EXIT_OK


def run_export(args: argparse.Namespace, client: Client) -> int:
    out = Path(args.out)
    if not out.resolve().parent.is_dir():
        raise CliError([("--out", f"{args.out}: its directory does not exist")])
    form = args.format or out.suffix.lower().removeprefix(".")
    if form not in {"csv", "xlsx"}:
        raise CliError([("--format", f"csv or xlsx: {args.out!r} ends in neither .csv nor .xlsx")])
    path = f"{_forum(args)}/schedules/{args.version}/grid.{form}"
    params = {"layout": args.layout} if form == "csv" else None
    if form == "xlsx" and args.layout != "grid":
        raise CliError([("--layout", "only a CSV export has a layout")])
    content = client.call("GET", path, params=params).content
    partial = out.with_name(f".{out.name}.partial")
    try:
        partial.write_bytes(content)
        partial.replace(out)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise CliError([(args.out, error.strerror or str(error))]) from None
    if args.json:
        _print_json({"file": str(out), "bytes": len(content)})
    else:
        print(f"version {args.version}: {len(content):,} bytes written to {args.out}")
    return EXIT_OK


def run_change(args: argparse.Namespace, client: Client) -> int:
    data = sys.stdin.buffer.read() if args.file == "-" else read_bytes(args.file)
    where = "stdin" if args.file == "-" else args.file
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise CliError([(where, f"not JSON: {error}")]) from None
    if not isinstance(body, dict):  # the server's "$: Expected `object`" named neither the file nor what to give
        shape = "an array; record one change at a time" if isinstance(body, list) else _json_kind(body)
        raise CliError([(where, f"not a change: a JSON object with its kind (docs/resolve.md), not {shape}")])
    client.body_file = where
    answer = client.json("POST", f"{_forum(args)}/changes", body)
    if args.json:
        _print_json(answer)
        return EXIT_OK
    print(f"change {answer.get('number')}: {answer.get('summary', '')}")
    for key in ("breaks", "removes", "adds"):
        if answer.get(key):
            print(f"  {key}: {' '.join(answer[key])}")
    return EXIT_OK


def _json_kind(value: object) -> str:
    """What a JSON value that is neither an object nor an array is, in JSON's words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    return "a string" if isinstance(value, str) else "a number"


# ---- runs, diff, audit, close and reopen


def run_runs(args: argparse.Namespace, client: Client) -> int:
    runs = client.every(f"{_forum(args)}/runs")
    if args.json:
        _print_json(runs)
        return EXIT_OK
    if not runs:
        print("no runs yet")
        return EXIT_OK
    print(f"{'run':>4}  {'status':<10} {'version':>7}  {'kind':<8} {'limit':>6}  created              ended")
    for run in runs:
        options = run.get("options") or {}
        kind = "re-solve" if options.get("resolve") is not None else "solve"
        version = "-" if run.get("version") is None else str(run["version"])
        ended = _moment(run.get("finished_at"))
        error = f"  {run['error']}" if run.get("error") else ""
        print(
            f"{run['id']:>4}  {run['status']:<10} {version:>7}  {kind:<8} {options.get('time_limit', 0):>5g}s"
            f"  {_moment(run.get('created_at')):<20} {ended}{error}"
        )
    return EXIT_OK


def _moment(value: object) -> str:
    """An instant to the second, as `2025-05-30 14:00:05Z` (its offset as given); '-' when there is none."""
    from datetime import datetime

    if not isinstance(value, str):
        return "-"
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return value
    offset = when.strftime("%z")
    zone = "" if not offset else "Z" if offset == "+0000" else f"{offset[:3]}:{offset[3:]}"
    return when.strftime("%Y-%m-%d %H:%M:%S") + zone


def run_diff(args: argparse.Namespace, client: Client) -> int:
    diff = client.json("GET", f"{_forum(args)}/schedules/{args.version}/diff/{args.other}")
    if args.json:
        _print_json(diff)
        return EXIT_OK
    moved, added, removed = diff.get("moved", []), diff.get("added", []), diff.get("removed", [])
    rooms = _room_labels(client, _forum(args)) if moved or added or removed else {}
    print(
        f"version {diff.get('from', args.version)} to {diff.get('to', args.other)}: {len(moved)} moved, "
        f"{len(added)} added, {len(removed)} removed, {len(diff.get('unchanged', []))} unchanged"
    )
    rows = [
        (move["meeting"], move.get("kind", ""), _spot(move["before"], rooms), _spot(move["after"], rooms))
        for move in moved
    ]
    rows += [(entry["meeting"], "added", "-", _spot(entry, rooms)) for entry in added]
    rows += [(entry["meeting"], "removed", _spot(entry, rooms), "-") for entry in removed]
    if rows:
        head = ("meeting", "change", f"in {diff.get('from', args.version)}", f"in {diff.get('to', args.other)}")
        widths = [max(len(row[column]) for row in [head, *rows]) for column in range(3)]
        for row in [head, *rows]:
            print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[3])
    return EXIT_OK


def _spot(placement: dict[str, Any], rooms: dict[str, str] | None = None) -> str:
    """Where and when a placement is: `2025-05-30 14:00-14:30 S1` (forum-local times), the room
    said by its label in `rooms` where given (`Main conference room`), else by its id."""
    start, end = str(placement.get("start", "")), str(placement.get("end", ""))
    room = str(placement.get("room", ""))
    return f"{start[:10]} {start[11:16]}-{end[11:16]} {(rooms or {}).get(room, room)}"


def _room_labels(client: Client, base: str) -> dict[str, str]:
    """Each room's id to what a person calls it: its name, as `forum change` says it (the change's
    summary names rooms), with the id after a name two rooms share (`Room 1 (sl-5)`)."""
    rooms = client.every(f"{base}/rooms")
    names = [str(room.get("name") or "") for room in rooms]
    shared = {name for name in names if names.count(name) > 1}
    return {
        str(room["id"]): name if name and name not in shared else f"{name} ({room['id']})".lstrip()
        for room, name in zip(rooms, names, strict=True)
    }


def run_audit(args: argparse.Namespace, client: Client) -> int:
    entries = client.every(f"{_forum(args)}/audit", after=args.after)
    if args.json:
        _print_json(entries)
        return EXIT_OK
    for entry in entries:
        print(
            f"{entry['id']:>6}  {_moment(entry.get('at'))}  {entry.get('actor', '')}  {entry.get('action', '')} "
            f"{entry.get('entity', '')} {entry.get('entity_id', '')}".rstrip()
        )
    if not entries:
        print("no entries" + (f" after {args.after}" if args.after else ""))
    return EXIT_OK


def run_close(args: argparse.Namespace, client: Client) -> int:
    return _set_closed(args, client, "close")


def run_reopen(args: argparse.Namespace, client: Client) -> int:
    return _set_closed(args, client, "reopen")


def _set_closed(args: argparse.Namespace, client: Client, action: str) -> int:
    forum = client.json("POST", f"{_forum(args)}/{action}")
    if args.json:
        _print_json(forum)
    elif forum.get("closed_at"):
        print(f"forum {forum.get('id', args.forum)} closed at {forum['closed_at']}")
    else:
        print(f"forum {forum.get('id', args.forum)} open")
    return EXIT_OK


# ---- moves and fit

# The path parameters every command names alike (a 404 or a bad value of one says which).
PATHS = {
    "path:forum_id": "FORUM_ID",
    "path:version": "VERSION",
    "path:run_id": "RUN",
    "path:delegation_id": "DELEGATION",
    "path:request_id": "REQUEST",
}


def _add_moves(actions: Subparsers) -> None:
    move = _command(
        actions,
        "move",
        help="move one meeting of a version: a new version; with --check only say what it would break",
        description="Without --check the moved grid is stored as a new version (the one given stays as it "
        "is) and its number printed; a move that breaks a hard rule is refused (exit 2), each rule named. "
        "With --check nothing is stored: it prints what the move would break (exit 0 either way).",
    )
    _common(move, version=True, version_help="the version the meeting is moved in (it stays as it is)")
    move.add_argument("meeting", metavar="MEETING", help="the meeting's id")
    move.add_argument("--start", required=True, metavar="YYYY-MM-DDTHH:MM", help="the new start, forum-local")
    move.add_argument("--room", required=True, metavar="ROOM", help="the new room's id")
    move.add_argument("--check", action="store_true", help="only say what the move would break; store nothing")
    move.set_defaults(run=_guarded(run_move, {"meeting": "MEETING", "start": "--start", "room": "--room"}))

    fit = _command(
        actions, "fit", help="the best spots for one meeting in the published grid, cheapest first (GET .../fit)"
    )
    _common(fit)
    fit.add_argument("meeting", metavar="MEETING", help="the meeting (request id) to place")
    fit.add_argument("-k", type=_count, default=5, metavar="N", help="how many options (1-50, default 5)")
    fit.set_defaults(run=_guarded(run_fit, {"query:meeting": "MEETING", "query:k": "-k"}))


def _count(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return int(text)


def run_move(args: argparse.Namespace, client: Client) -> int:
    body = {"meeting": args.meeting, "start": args.start, "room": args.room}
    path = f"{_forum(args)}/schedules/{args.version}/moves"
    if args.check:
        check = client.json("POST", f"{path}/check", body)
        if args.json:
            _print_json(check)
        else:
            _print_check(check)
        return EXIT_OK
    stored = client.json("POST", path, body)
    if args.json:
        _print_json(stored)
        return EXIT_OK
    print(f"version {stored['version']} stored (from version {stored.get('derived_from', args.version)})")
    _print_check(stored.get("check") or {})
    return EXIT_OK


def _print_check(check: dict[str, Any]) -> None:
    """What a move does: where the meeting goes, the hard rules it breaks, what it makes worse."""
    before = check.get("before")
    where = f"{_spot(before)} -> " if before else "unplaced -> "
    allowed = "allowed" if check.get("allowed") else "blocked"
    print(f"{check.get('meeting', '')}: {where}{_spot(check.get('after') or {})}: {allowed}")
    print(f"objective {_number(check.get('objective_before'))} -> {_number(check.get('objective_after'))}")
    for violation in check.get("blocking") or []:
        print(f"  breaks {violation.get('rule')}: {violation.get('message', '')}")
    for warning in check.get("warnings") or []:
        print(f"  worse {warning.get('term')} (+{_number(warning.get('cost'))}): {warning.get('message', '')}")


def run_fit(args: argparse.Namespace, client: Client) -> int:
    params = {"meeting": args.meeting, "k": str(args.k)}
    options = client.json("GET", f"{_forum(args)}/fit", params=params)
    if args.json:
        _print_json(options)
        return EXIT_OK
    if not options:
        print(f"{args.meeting}: no spot in the published grid")
        return EXIT_OK
    head = ("option", "where", "cost", "moves")
    rows = [
        (str(number), _spot(option), _number(option.get("cost")), _moves_of(option))
        for number, option in enumerate(options, 1)
    ]
    widths = [max(len(row[column]) for row in [head, *rows]) for column in range(3)]
    for row in [head, *rows]:
        cells = [row[0].rjust(widths[0]), row[1].ljust(widths[1]), row[2].rjust(widths[2]), row[3]]
        print("  ".join(cells).rstrip())
    return EXIT_OK


def _moves_of(option: dict[str, Any]) -> str:
    moves = option.get("moves") or []
    return "; ".join(f"{move['meeting']} to {_spot(move['after'])}" for move in moves) or "-"


# ---- setup edits: read, change, write back with If-Match


def _add_setup(actions: Subparsers) -> None:
    person = _command(
        actions,
        "participant",
        help="change a participant's arrival or departure (read, change, write back with If-Match)",
        description="Reads the participant with its ETag, changes the times given and writes it back with "
        "If-Match: a colleague's edit in between is refused (exit 3: run the command again).",
    )
    _common(person)
    person.add_argument("delegation", metavar="DELEGATION", help="the participant's delegation's id")
    person.add_argument("participant", metavar="PARTICIPANT", help="the participant's id")
    for option in ("arrival", "departure"):
        person.add_argument(
            f"--{option}", type=_moment_or_none, metavar="YYYY-MM-DDTHH:MM|none", help="forum-local; none: no limit"
        )
    names = {"arrival": "--arrival", "departure": "--departure", "path:delegation_id": "DELEGATION"}
    person.set_defaults(run=_guarded(run_participant, names | {"path:participant_id": "PARTICIPANT"}))

    deadline = _command(
        actions,
        "deadline",
        help="set the forum's request deadline (or none), with If-Match against the forum as read",
    )
    _common(deadline)
    deadline.add_argument("when", type=_moment_or_none, metavar="YYYY-MM-DDTHH:MM|none", help="forum-local")
    deadline.set_defaults(run=_guarded(run_deadline, {"request_deadline": "WHEN"}))


NONE = "none"


def _moment_or_none(text: str) -> str:
    """A time as given (the server checks it and names the field), or `none`; never empty."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must be a time (YYYY-MM-DDTHH:MM, forum-local) or none")
    return text.strip()


def _value(text: str) -> str | None:
    return None if text.lower() == NONE else text


def _read_tagged(client: Client, path: str) -> tuple[Any, str]:
    """A resource and its ETag, for writing it back with If-Match."""
    response = client.call("GET", path)
    tag = response.headers.get("ETag")
    if not tag:
        raise RemoteError([(f"GET {path}", "the answer has no ETag: is --server the API?")], EXIT_RETRY)
    return response.json(), tag


def run_participant(args: argparse.Namespace, client: Client) -> int:
    if args.arrival is None and args.departure is None:
        raise CliError([("--arrival", "give --arrival, --departure or both")])
    path = f"{_forum(args)}/delegations/{_segment(args.delegation)}/participants/{_segment(args.participant)}"
    person, tag = _read_tagged(client, path)
    before = {name: person.get(name) for name in ("arrival", "departure")}
    for name in ("arrival", "departure"):
        if getattr(args, name) is not None:
            person[name] = _value(getattr(args, name))
    stored = client.json("PUT", path, person, extra={"If-Match": tag})
    if args.json:
        _print_json(stored)
        return EXIT_OK
    for name in ("arrival", "departure"):
        print(f"{name}: {before[name] or NONE} -> {stored.get(name) or NONE}")
    return EXIT_OK


def run_deadline(args: argparse.Namespace, client: Client) -> int:
    path = _forum(args)
    forum, tag = _read_tagged(client, path)
    body = {"request_deadline": _value(args.when)}
    stored = client.json("PATCH", path, body, extra={"If-Match": tag})
    if args.json:
        _print_json(stored)
    else:
        print(f"request deadline: {forum.get('request_deadline') or NONE} -> {stored.get('request_deadline') or NONE}")
    return EXIT_OK


# ---- organiser tokens


def _add_tokens(actions: Subparsers) -> None:
    tokens = _command(
        actions,
        "tokens",
        help="the forum's organiser tokens (never the tokens themselves); --issue or --revoke one",
        description="Lists the organiser tokens by number, name, creation, last use and revocation. --issue "
        "NAME makes another and writes it only to --out FILE, a new file readable by you alone (mode 0600); "
        "it is never printed. --revoke N ends one at once (not the last one in use).",
    )
    _common(tokens)
    which = tokens.add_mutually_exclusive_group()
    which.add_argument("--issue", metavar="NAME", help='issue another, named for whose it is ("Night shift")')
    which.add_argument("--revoke", type=_count, metavar="N", help="revoke organiser token N")
    tokens.add_argument("--out", metavar="FILE", help="with --issue: the new file the token is written to")
    names = {"name": "--issue", "path:token_number": "--revoke"}
    tokens.set_defaults(run=_guarded(run_tokens, names))


def run_tokens(args: argparse.Namespace, client: Client) -> int:
    path = f"{_forum(args)}/organiser-tokens"
    if args.out is not None and args.issue is None:
        raise CliError([("--out", "only with --issue")])
    if args.issue is not None:
        return _issue(args, client, path)
    if args.revoke is not None:
        client.call("DELETE", f"{path}/{args.revoke}")
        print(f"organiser token {args.revoke} revoked")
        return EXIT_OK
    listed = client.every(path)
    if args.json:
        _print_json(listed)
        return EXIT_OK
    print(f"{'token':>5}  {'created':<20} {'last used':<20} {'revoked':<20} name")
    for token in listed:
        print(
            f"{token['number']:>5}  {_moment(token.get('created_at')):<20} {_moment(token.get('last_used_at')):<20} "
            f"{_moment(token.get('revoked_at')):<20} {token.get('name', '')}"
        )
    return EXIT_OK


def _issue(args: argparse.Namespace, client: Client, path: str) -> int:
    """Issues a token and writes it to a new file of mode 0600: checked before issuing, as a token
    the server answered and we could not keep is lost (it is shown once, never stored)."""
    if args.out is None:
        raise CliError([("--out", "required with --issue: the token is written to a file, never printed")])
    _new_file(args.out)
    issued = client.json("POST", path, {"name": args.issue})
    made, token = issued.get("organiser_token") or {}, issued.get("token")
    number = made.get("number", "?")
    if not isinstance(token, str) or not token:
        raise RemoteError([(f"POST {path}", f"organiser token {number} issued, but the answer holds no token")], 1)
    _write_secret(args.out, token, f"organiser token {number} was issued; revoke it (--revoke)")
    if args.json:
        _print_json(made)
    else:
        print(f"organiser token {number} ({made.get('name', args.issue)}) issued, written to {args.out}")
    return EXIT_OK


def _new_file(name: str) -> None:
    """Refuses, before anything is issued, a --out the secret could not go to: a secret the server
    answered and we could not keep is lost (it is shown once, never stored)."""
    out = Path(name)
    if out.exists() or out.is_symlink():
        raise CliError([("--out", f"{name} exists: the token goes to a new file only")])
    if not out.resolve().parent.is_dir():
        raise CliError([("--out", f"{name}: its directory does not exist")])


def _write_secret(name: str, secret: str, lost: str) -> None:
    """The secret in a new file readable by its owner alone (O_EXCL: never over a file made meanwhile)."""
    try:
        descriptor = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secret + "\n")
    except OSError as error:
        raise CliError([(name, f"{error.strerror or error}: {lost}")]) from None


# ---- requests, a delegation's token and agenda

STATUSES = ("pending", "accepted", "declined", "withdrawn", "expired")
PRIORITIES = ("must", "high", "normal", "low")


def _add_requests(actions: Subparsers) -> None:
    listed = _command(
        actions, "requests", help="every meeting request: id, title, each party's answer, priority, status"
    )
    _common(listed)
    listed.add_argument("--status", choices=STATUSES, help="only the requests of this status")
    listed.add_argument("--delegation", metavar="DELEGATION", help="only the requests this delegation is party to")
    listed.set_defaults(run=_guarded(run_requests, {"path:delegation_id": "--delegation"}))

    one = _command(
        actions,
        "request",
        help="show one request; with options, change it (read, change, write back with If-Match)",
        description="Without an option it shows the request. With options it reads the request with its "
        "ETag and sends only the fields given (PATCH, If-Match): a colleague's edit in between is refused "
        "(exit 3: run the command again). A party kept keeps its answer; one added is asked.",
    )
    _common(one)
    one.add_argument("request", metavar="REQUEST", help="the request's id (also the meeting's id in a grid)")
    one.add_argument("--priority", choices=PRIORITIES, help="what leaving it out costs the solver")
    one.add_argument(
        "--parties", type=_parties, metavar="A,B,C", help="2 to 4 delegation ids, the requester's among them"
    )
    one.add_argument("--title", metavar="TITLE", help="the meeting's title")
    one.add_argument("--duration", type=_count, metavar="MIN", help="minutes, a multiple of the forum's slot")
    names = {"priority": "--priority", "parties": "--parties", "title": "--title", "duration_minutes": "--duration"}
    one.set_defaults(run=_guarded(run_request, names))

    token = _command(
        actions,
        "delegation-token",
        help="issue a delegation a new token, written only to a new file (0600); the old one stops",
        description="The delegation's old token stops at once, and with it its calendar link and webhooks. "
        "The new token is written only to --out FILE, a new file readable by you alone (mode 0600; an "
        "existing file is refused before anything is issued); it is never printed.",
    )
    _common(token)
    token.add_argument("delegation", metavar="DELEGATION", help="the delegation's id")
    token.add_argument("--out", required=True, metavar="FILE", help="the new file the token is written to")
    token.set_defaults(run=_guarded(run_delegation_token))

    agenda = _command(
        actions, "agenda", help="a delegation's published agenda as it sees it, day by day (never a draft)"
    )
    _common(agenda)
    agenda.add_argument("delegation", metavar="DELEGATION", help="the delegation's id")
    agenda.set_defaults(run=_guarded(run_agenda))


def _parties(text: str) -> list[str]:
    parties = [party.strip() for party in text.split(",")]
    if not all(parties):
        raise argparse.ArgumentTypeError(f"delegation ids separated by commas (SG,US,AU), not {text!r}")
    return parties


def _segment(text: str) -> str:
    """The text as one path segment: an id with a / or ? stays one."""
    return quote(text, safe="")


def run_requests(args: argparse.Namespace, client: Client) -> int:
    base = _forum(args)
    if args.delegation is not None:  # a typo would list nothing, as if it were party to nothing: said instead
        client.call("GET", f"{base}/delegations/{_segment(args.delegation)}")
    # The API filters by neither: every page, filtered here.
    found = [
        request
        for request in client.every(f"{base}/requests")
        if (args.status is None or request.get("status") == args.status)
        and (args.delegation is None or any(p.get("delegation") == args.delegation for p in request["parties"]))
    ]
    if args.json:
        _print_json(found)
        return EXIT_OK
    if not found:
        print("no requests" + ("" if args.status is None and args.delegation is None else " of those asked for"))
        return EXIT_OK
    head = ("request", "title", "parties", "priority", "status")
    rows = [(str(r["id"]), str(r.get("title") or "-"), _answers(r), _priority(r), str(r.get("status"))) for r in found]
    _table(head, rows)
    return EXIT_OK


def _answers(request: dict[str, Any]) -> str:
    """Each party with its answer: `SG:accepted US:pending`."""
    return " ".join(f"{party['delegation']}:{party['status']}" for party in request["parties"])


def _priority(request: dict[str, Any]) -> str:
    """The priority the solver uses, and a delegation's ask for more when it differs (`high (asked must)`)."""
    used, asked = request.get("priority", ""), request.get("requested_priority")
    return used if not asked or asked == used else f"{used} (asked {asked})"


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Columns aligned to their widest cell; the last one as it is."""
    widths = [max(len(row[column]) for row in [head, *rows]) for column in range(len(head) - 1)]
    for row in [head, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[-1]]).rstrip())


def run_request(args: argparse.Namespace, client: Client) -> int:
    path = f"{_forum(args)}/requests/{_segment(args.request)}"
    given = {
        "priority": args.priority,
        "parties": args.parties,
        "title": args.title,
        "duration_minutes": args.duration,
    }
    body = {name: value for name, value in given.items() if value is not None}
    if not body:
        request = client.json("GET", path)
        if args.json:
            _print_json(request)
        else:
            _print_request(request)
        return EXIT_OK
    before, tag = _read_tagged(client, path)
    stored = client.json("PATCH", path, body, extra={"If-Match": tag})
    if args.json:
        _print_json(stored)
        return EXIT_OK
    for name in body:
        print(f"{name}: {_field(before, name)} -> {_field(stored, name)}")
    return EXIT_OK


def _field(request: dict[str, Any], name: str) -> str:
    return _answers(request) if name == "parties" else str(request.get(name))


def _print_request(request: dict[str, Any]) -> None:
    print(f"request {request['id']}: {request.get('title') or '(no title)'}")
    print(f"status: {request.get('status')}")
    print(f"priority: {_priority(request)}")
    print(f"duration: {request.get('duration_minutes')} min")
    print(f"requested by: {request.get('requester') or request.get('created_by')}")
    print(f"created: {_moment(request.get('created_at'))}, updated: {_moment(request.get('updated_at'))}")
    for window in request.get("preferred") or []:
        print(f"preferred: {window.get('start')} - {window.get('end')}")
    print("parties:")
    for party in request["parties"]:
        attendees = ", ".join(party.get("attendees") or []) or "its principals"
        print(f"  {party['delegation']:<8} {party.get('role', ''):<9} {party['status']:<9} {attendees}")


def run_delegation_token(args: argparse.Namespace, client: Client) -> int:
    _new_file(args.out)
    path = f"{_forum(args)}/delegations/{_segment(args.delegation)}/token"
    issued = client.json("POST", path)
    delegation, token = issued.get("delegation") or {}, issued.get("token")
    if not isinstance(token, str) or not token:
        raise RemoteError([(f"POST {path}", "a new token was issued, but the answer holds none: issue another")], 1)
    _write_secret(args.out, token, f"{args.delegation}'s token was replaced; issue another")
    if args.json:
        _print_json(delegation)
    else:
        print(
            f"delegation {delegation.get('id', args.delegation)}: new token written to {args.out}; the old one stopped"
        )
    return EXIT_OK


def run_agenda(args: argparse.Namespace, client: Client) -> int:
    agenda = client.json("GET", f"{_forum(args)}/delegations/{_segment(args.delegation)}/agenda/detailed")
    if args.json:
        _print_json(agenda)
        return EXIT_OK
    delegation = agenda.get("delegation") or {}
    number = agenda.get("publication") or "-"
    print(
        f"{delegation.get('name', args.delegation)} ({delegation.get('id', args.delegation)}): publication {number}, "
        f"version {agenda.get('version')}, published {_moment(agenda.get('published_at'))}"
    )
    meetings = sorted(agenda.get("meetings") or [], key=lambda meeting: str(meeting.get("start")))
    if not meetings:
        print("no meetings")
    head = ("time", "meeting", "room", "with", "attending")
    for day in sorted({str(meeting.get("start"))[:10] for meeting in meetings}):
        print(f"\n{_day(day)}")
        rows = [_agenda_row(meeting) for meeting in meetings if str(meeting.get("start"))[:10] == day]
        _table(head, rows)
    return EXIT_OK


def _day(date: str) -> str:
    from datetime import date as day

    try:
        return day.fromisoformat(date).strftime("%A %d %B %Y")
    except ValueError:
        return date


def _agenda_row(meeting: dict[str, Any]) -> tuple[str, str, str, str, str]:
    start, end = str(meeting.get("start")), str(meeting.get("end"))
    title = f"{meeting.get('meeting')} {meeting.get('title') or ''}".strip()
    room = meeting.get("room_name") or meeting.get("room") or ""
    if meeting.get("venue"):
        room = f"{room}, {meeting['venue']}"
    counterparts = ", ".join(str(party.get("id")) for party in meeting.get("counterparts") or [])
    attending = ", ".join(str(person.get("name")) for person in meeting.get("attendees") or [])
    return f"{start[11:16]}-{end[11:16]}", title, str(room), counterparts or "-", attending or "-"
