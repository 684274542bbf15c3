"""The browser pages at UNGA scale: the grid, agenda and requests pages timed in headless Chromium.

    python bench/pages.py                        # writes its section of docs/benchmarks.md
    python bench/pages.py --runs 3 --out /tmp/x.md
    python bench/pages.py --old-grid e0d6222     # the grid page's first draw against another commit's
    python bench/pages.py --only requests --old-requests main --out /tmp/x.md   # the requests page alone, A/B

examples/unga-week.json (190 delegations, 1,100 meetings, 20 booths, 5 days) is stored through
`POST /forums/import` in a throwaway database of DATABASE_URL's server (dropped at the end), solved
by the live server's worker (`--time-limit` s) and published; one meeting is then moved (version 2,
not published), so the grid page has a version to compare. The real app is served by uvicorn on a
free localhost port (tests/live_server.py) and driven by Playwright in headless Chromium (Debian's,
launched as the browser tests launch it), on a 1600 x 1000 window.

Each figure is the median of `--runs`. A first draw is a fresh browser context (cold cache) from
navigation to the frame after the page's first content is in the document (a MutationObserver,
then requestAnimationFrame and a task: style, layout and paint of that frame done); *after the last
answer* is that time less the end of the last answer the page read before it (the page's own work:
parsing, building the DOM, style and layout). An action is timed in the page from the event
dispatched to the frame after its effect; a poll from the `focus` event (the page checks at once)
to the frame after its last conditional GET answered 304. *Script*, *style* and *layout* are
Chrome's own counters (CDP `Performance.getMetrics`: ScriptDuration, RecalcStyleDuration,
LayoutDuration), and *main thread busy* its TaskDuration (every task, paint included), over the
same span, read from the renderer's main thread.

The grid page's first draw is also measured with the grid page of `--old-grid` (by default the first
parent of the grid-scale merge d9dc930: a div grid with two listeners per cell), its grid.html,
grid.js and grid.css served in place of this tree's by Playwright's `page.route` (the server's
headers kept), old and new alternately in one run so that both see the same load. `--old-requests`
does the same for the requests page (requests.html, .js, .css of a commit, or of a directory). The
requests page's first draw also waits for every row (its rows may be drawn in chunks): its counters
run to the frame after the last row, and *every row* is that frame's time from navigation.
`--only` measures some pages alone (and writes to `--out` only when it is given).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import api_scale  # bench/ is the script's directory
import asyncpg
import httpx
from run_all import machine, write_marked

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(1, str(REPO))  # tests.live_server, as the browser tests serve the app
START, END = "<!-- bench/pages.py: start -->", "<!-- bench/pages.py: end -->"
EXAMPLE = REPO / "examples" / "unga-week.json"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT = {"width": 1600, "height": 1000}
OLD_GRID = "d9dc930^1"  # before the grid-scale merge: a div grid, two listeners per cell
GRID_FILES = ("grid.html", "grid.js", "grid.css")
REQUESTS_FILES = ("requests.html", "requests.js", "requests.css")
KINDS = ("grid", "agenda", "requests")
WAIT_MS = 120_000
COUNTERS = {
    "busy": "TaskDuration",
    "script": "ScriptDuration",
    "style": "RecalcStyleDuration",
    "layout": "LayoutDuration",
}

# Before the page's own scripts: window.__bench.drawn resolves with performance.now() at the frame
# after `window.__benchReady()` (a test set by the bench) first holds; helpers for the actions.
HARNESS = """
(() => {
  const frame = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  const until = (test) => new Promise((resolve) => {
    if (test()) return resolve();
    const watcher = new MutationObserver(() => {
      if (test()) { watcher.disconnect(); resolve(); }
    });
    const what = { subtree: true, childList: true, attributes: true, attributeFilter: ["hidden", "class"] };
    watcher.observe(document, what);
  });
  const ready = () => { try { return Boolean(window.__benchReady && window.__benchReady()); } catch { return false; } };
  const drawn = until(ready).then(frame).then(() => performance.now());
  // Resource entries (answers) that start after `since` and whose address holds `part`, once `count` have ended.
  const answers = (since, part, count) => new Promise((resolve) => {
    const found = () =>
      performance.getEntriesByType("resource").filter((e) => e.startTime >= since && e.name.includes(part));
    if (found().length >= count) return resolve(found());
    const watcher = new PerformanceObserver(() => {
      if (found().length >= count) { watcher.disconnect(); resolve(found()); }
    });
    watcher.observe({ type: "resource", buffered: false });
  });
  window.__bench = { frame, until, drawn, answers };
})();
"""

READY = {
    "grid": "() => document.querySelector('.sheet.current .meeting')",
    "agenda": "() => !document.getElementById('app').hidden && document.querySelector('.meeting-card')",
    "requests": "() => !document.getElementById('app').hidden && document.querySelector('#requests-body tr')",
}

# The first draw as the page measured it: the frame's time, the last answer read before it, how many elements.
DRAWN = """async () => {
  const at = await window.__bench.drawn;
  const ends = performance.getEntriesByType("resource").filter((e) => e.responseEnd <= at).map((e) => e.responseEnd);
  return { at, lastAnswer: Math.max(0, ...ends), elements: document.getElementsByTagName("*").length };
}"""

# The frame after `count` rows are in the requests table (drawn in chunks, perhaps), from navigation.
EVERY_ROW = """async (count) => {
  await window.__bench.until(() => document.querySelectorAll('#requests-body tr').length >= count);
  await window.__bench.frame();
  return performance.now();
}"""

# An action: `act` run in the page, then the frame after `done()` holds.
ACT = """async ([act, done]) => {
  const started = performance.now();
  (0, eval)(act)();
  await window.__bench.until((0, eval)(done));
  await window.__bench.frame();
  return performance.now() - started;
}"""

# A poll: the page checks at once on focus; to the frame after `count` answers to addresses holding `part`.
POLL = """async ([part, count]) => {
  performance.clearResourceTimings();
  const started = performance.now();
  window.dispatchEvent(new Event("focus"));
  const entries = await window.__bench.answers(started, part, count);
  await window.__bench.frame();
  return { ms: performance.now() - started, statuses: entries.map((e) => e.responseStatus) };
}"""


# ---- the forum


@contextmanager
def served(server: str, time_limit: float, log: Callable[[str], None]) -> Iterator[dict[str, Any]]:
    """A live server on a throwaway database with UNGA stored, solved, published and moved once."""
    from tests.live_server import live_server

    name = f"sidelines_pages_bench_{secrets.token_hex(4)}"
    url = f"{server.rsplit('/', 1)[0]}/{name}"
    postgres = asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
    try:
        with live_server(url, api_scale.ADMIN) as live, httpx.Client(base_url=live.url, timeout=600) as client:
            forum = _forum(client, time_limit, log)
            yield {**forum, "url": live.url, "postgres": postgres}
    finally:
        asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(server: str, statement: str) -> str:
    connection = await asyncpg.connect(server)
    try:
        await connection.execute(statement)
        return str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()


def _forum(client: httpx.Client, time_limit: float, log: Callable[[str], None]) -> dict[str, Any]:
    clock = time.perf_counter()
    imported = client.post("/forums/import", content=EXAMPLE.read_bytes(), headers=_auth(api_scale.ADMIN))
    if imported.status_code != 201:
        raise SystemExit(f"import: {imported.status_code} {imported.text[:500]}")
    body = imported.json()
    base, organiser = f"/forums/{body['forum']['id']}", body["organiser_token"]
    run = client.post(f"{base}/runs", json={"time_limit": time_limit, "workers": 2}, headers=_auth(organiser))
    if run.status_code != 202:
        raise SystemExit(f"run: {run.status_code} {run.text[:500]}")
    while (status := client.get(f"{base}/runs/{run.json()['id']}", headers=_auth(organiser)).json())["status"] not in (
        "succeeded",
        "failed",
        "cancelled",
    ):
        time.sleep(0.5)
    if status["status"] != "succeeded":
        raise SystemExit(f"solve: {status}")
    published = client.post(f"{base}/schedules/1/publish", headers=_auth(organiser))
    if published.status_code != 200:
        raise SystemExit(f"publish: {published.status_code} {published.text[:500]}")
    grid = client.get(f"{base}/schedules/1", headers=_auth(organiser)).json()
    moved = client.post(
        f"{base}/schedules/1/moves", json=_a_move(client, base, organiser, grid), headers=_auth(organiser)
    )
    if moved.status_code != 201:
        raise SystemExit(f"move: {moved.status_code} {moved.text[:500]}")
    delegation = api_scale.busiest(grid)
    problem = client.get(f"{base}/problem", headers=_auth(organiser)).json()["problem"]
    name = next(d["name"] for d in problem["delegations"] if d["id"] == delegation)
    requests = 0
    url: str | None = f"{base}/requests?limit=1000"  # every page, as the requests page reads them
    while url is not None:
        page = client.get(url, headers=_auth(organiser))
        requests += len(page.json())
        url = page.links.get("next", {}).get("url")
    log(f"stored, solved, published and moved in {time.perf_counter() - clock:.1f} s; busiest {delegation}")
    return {
        "organiser": organiser,
        "delegation": delegation,
        "delegation_name": name,
        "delegation_token": body["delegation_tokens"][delegation],
        "placed": len(grid["placements"]),
        "unplaced": len(grid["unplaced"]),
        "agenda": sum(1 for p in grid["placements"] if any(a.startswith(f"{delegation}/") for a in p["attendees"])),
        "requests": requests,
    }


def _a_move(client: httpx.Client, base: str, organiser: str, grid: dict[str, Any]) -> dict[str, str]:
    """A meeting of version 1 to a free booth at its time that the server allows."""
    rooms = sorted({p["room"] for p in grid["placements"]})
    for placement in grid["placements"]:
        busy = {
            p["room"] for p in grid["placements"] if p["start"] < placement["end"] and placement["start"] < p["end"]
        }
        for room in (r for r in rooms if r not in busy):
            there = {"meeting": placement["meeting"], "start": placement["start"][:19], "room": room}
            check = client.post(f"{base}/schedules/1/moves/check", json=there, headers=_auth(organiser))
            if check.json()["allowed"]:
                return there
    raise SystemExit("no allowed move in version 1")


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# ---- measuring


class Browser:
    def __init__(self, browser: Any, base: str) -> None:
        self.browser, self.base = browser, base

    @contextmanager
    def page(self, kind: str, token: str, old: dict[str, bytes] | None = None) -> Iterator[tuple[Any, Any]]:
        """A fresh context's page with the harness (and `old` files served for /KIND and /static/KIND.*)."""
        context = self.browser.new_context(viewport=VIEWPORT)
        try:
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.add_init_script(HARNESS + f"\nwindow.__benchReady = {READY[kind]};")
            if old is not None:
                page.route(f"{self.base}/{kind}", _fulfil(old[f"{kind}.html"]))
                for name in (f"{kind}.js", f"{kind}.css"):
                    page.route(f"{self.base}/static/{name}", _fulfil(old[name]))
            cdp = context.new_cdp_session(page)
            cdp.send("Performance.enable")
            yield page, cdp
            if errors:
                raise SystemExit(f"{kind} page: {errors}")
        finally:
            context.close()

    def first_draw(self, kind: str, token: str, old: dict[str, bytes] | None = None, rows: int = 0) -> dict[str, float]:
        """The first draw; with `rows`, to the frame after that many rows of the requests table too."""
        with self.page(kind, token, old) as (page, cdp):
            before = counters(cdp)
            page.goto(f"{self.base}/{kind}#token={token}")
            drawn = page.evaluate(DRAWN, None)
            every = {"every": page.evaluate(EVERY_ROW, rows)} if rows else {}
            return {
                "wall": drawn["at"],
                "after": drawn["at"] - drawn["lastAnswer"],
                "elements": drawn["elements"],
                **every,
                **spent(before, counters(cdp)),
            }


def _fulfil(body: bytes) -> Callable[[Any], None]:
    """A route handler answering with the server's own answer (its headers: the page's CSP) but `body`."""

    def handle(route: Any) -> None:
        route.fulfill(response=route.fetch(), body=body)

    return handle


def counters(cdp: Any) -> dict[str, float]:
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return {key: metrics.get(name, 0.0) * 1000 for key, name in COUNTERS.items()}


def spent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {key: after[key] - before[key] for key in COUNTERS}


def act(page: Any, cdp: Any, action: str, done: str) -> dict[str, float]:
    before = counters(cdp)
    wall = page.evaluate(ACT, [action, done])
    return {"wall": wall, **spent(before, counters(cdp))}


def poll(page: Any, cdp: Any, part: str, count: int) -> dict[str, float]:
    before = counters(cdp)
    answer = page.evaluate(POLL, [part, count])
    if any(status != 304 for status in answer["statuses"]):
        raise SystemExit(f"poll of {part}: {answer['statuses']}, not 304")
    return {"wall": answer["ms"], **spent(before, counters(cdp))}


Samples = dict[str, list[dict[str, float]]]

GRID_DRAW = "grid: first draw (5 sheets)"
GRID_DAY = "grid: switch day"
GRID_FIND = "grid: find a delegation (to its meetings marked)"
GRID_DIFF = "grid: compare with version 1 (diff highlighted)"
AGENDA_DRAW = "agenda: first draw"
AGENDA_POLL = "agenda: poll (3 conditional GETs, 304)"
BOARD_DRAW = "requests: first draw"
BOARD_FILTER = "requests: filter by delegation"
BOARD_POLL = "requests: poll (304)"


@dataclass
class Options:
    runs: int
    kinds: tuple[str, ...] = KINDS
    old: dict[str, bytes] | None = None  # the grid page's files of another commit
    old_requests: dict[str, bytes] | None = None  # the requests page's


def measure(
    browser: Browser, forum: dict[str, Any], options: Options, log: Callable[[str], None]
) -> tuple[Samples, Samples, Samples]:
    samples: Samples = {}
    compared: Samples = {"old": [], "new": []}
    compared_requests: Samples = {"old": [], "new": []}

    def keep(name: str, sample: dict[str, float]) -> None:
        samples.setdefault(name, []).append(sample)

    organiser, delegate, rows = forum["organiser"], forum["delegation_token"], forum["requests"]
    for index in range(options.runs):
        for kind, files, into in (
            ("grid", options.old, compared),
            ("requests", options.old_requests, compared_requests),
        ):
            if files is None:
                continue
            # alternately, the old first in even runs
            order = [("old", files), ("new", None)] if index % 2 == 0 else [("new", None), ("old", files)]
            for label, served in order:
                into[label].append(browser.first_draw(kind, organiser, served, rows if kind == "requests" else 0))
        if "grid" in options.kinds:
            keep(GRID_DRAW, browser.first_draw("grid", organiser))
        if "agenda" in options.kinds:
            keep(AGENDA_DRAW, browser.first_draw("agenda", delegate))
        if "requests" in options.kinds:
            keep(BOARD_DRAW, browser.first_draw("requests", organiser, rows=rows))
        log(f"first draws, run {index + 1}")
    if "grid" in options.kinds:
        grid_actions(browser, forum, options.runs, keep)
        log("grid actions")
    if "agenda" in options.kinds:
        with browser.page("agenda", delegate) as (page, cdp):
            page.goto(f"{browser.base}/agenda#token={delegate}")
            page.evaluate(DRAWN, None)
            for _ in range(options.runs):
                keep(AGENDA_POLL, poll(page, cdp, "/delegations/", 3))
        log("agenda polls")
    if "requests" in options.kinds:
        requests_actions(browser, forum, options.runs, keep)
        log("requests page actions")
    return samples, compared, compared_requests


def grid_actions(
    browser: Browser, forum: dict[str, Any], runs: int, keep: Callable[[str, dict[str, float]], None]
) -> None:
    organiser = forum["organiser"]
    with browser.page("grid", organiser) as (page, cdp):
        page.goto(f"{browser.base}/grid#token={organiser}")
        page.evaluate(DRAWN, None)
        days = page.locator("#day-tabs .day-tab").count()
        for index in range(runs):
            day = 1 + index % (days - 1)
            keep(
                GRID_DAY,
                act(
                    page,
                    cdp,
                    f"() => document.querySelectorAll('#day-tabs .day-tab')[{day}].click()",
                    f"() => document.querySelectorAll('#sheets .sheet')[{day}].classList.contains('current')",
                ),
            )
            page.evaluate("document.querySelectorAll('#day-tabs .day-tab')[0].click()")
        find = f"""() => {{ const box = document.getElementById('find-input'); box.value = {forum["delegation_name"]!r};
                   box.dispatchEvent(new Event('input', {{ bubbles: true }})); }}"""
        clear = """() => { const box = document.getElementById('find-input'); box.value = '';
                   box.dispatchEvent(new Event('input', { bubbles: true })); }"""
        for _ in range(runs):
            keep(GRID_FIND, act(page, cdp, find, "() => document.querySelector('#sheets .meeting.found')"))
            page.evaluate(f"({clear})()")
        compare = """(v) => () => { const s = document.getElementById('compare-select'); s.value = v;
                      s.dispatchEvent(new Event('change', { bubbles: true })); }"""
        for _ in range(runs):
            keep(
                GRID_DIFF,
                act(page, cdp, f"({compare})('1')", "() => document.querySelector('#sheets .meeting.changed')"),
            )
            page.evaluate(ACT, [f"({compare})('')", "() => !document.querySelector('#sheets .meeting.changed')"])


def requests_actions(
    browser: Browser, forum: dict[str, Any], runs: int, keep: Callable[[str, dict[str, float]], None]
) -> None:
    organiser = forum["organiser"]
    with browser.page("requests", organiser) as (page, cdp):
        page.goto(f"{browser.base}/requests#token={organiser}")
        page.evaluate(DRAWN, None)
        page.evaluate(EVERY_ROW, forum["requests"])
        delegation = forum["delegation"]
        select = """(v) => () => { const s = document.getElementById('delegation-filter'); s.value = v;
                     s.dispatchEvent(new Event('change', { bubbles: true })); }"""
        shown = "() => document.getElementById('shown-count').textContent !== window.__shownBefore"
        for _ in range(runs):
            page.evaluate("window.__shownBefore = document.getElementById('shown-count').textContent")
            keep(BOARD_FILTER, act(page, cdp, f"({select})({delegation!r})", shown))
            page.evaluate("window.__shownBefore = document.getElementById('shown-count').textContent")
            page.evaluate(ACT, [f"({select})('')", shown])
        for _ in range(runs):
            keep(BOARD_POLL, poll(page, cdp, "/requests?", 1))


def old_files(commit: str, names: tuple[str, ...]) -> dict[str, bytes]:
    """The page's files at `commit`, or in the directory `commit` names."""
    if Path(commit).is_dir():
        return {name: (Path(commit) / name).read_bytes() for name in names}
    return {
        name: subprocess.run(
            ["git", "show", f"{commit}:api/static/{name}"], cwd=REPO, capture_output=True, check=True
        ).stdout
        for name in names
    }


def resolved(commit: str) -> str:
    return subprocess.run(
        ["git", "rev-parse", "--short", commit], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()


# ---- reporting


def table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + " --- |" * len(headers)]
    return "\n".join([*lines, *("| " + " | ".join(r) + " |" for r in rows)])


def median(samples: list[dict[str, float]], key: str) -> float:
    return statistics.median(sample[key] for sample in samples)


def timings(samples: Samples) -> str:
    rows = []
    for name, entries in samples.items():
        after = f"{median(entries, 'after'):.0f}" if "after" in entries[0] else ""
        every = f"{median(entries, 'every'):.0f}" if "every" in entries[0] else ""
        rows.append(
            [
                name,
                f"{median(entries, 'wall'):.0f}",
                f"{max(e['wall'] for e in entries):.0f}",
                after,
                every,
                f"{median(entries, 'busy'):.0f}",
                f"{median(entries, 'script'):.0f}",
                f"{median(entries, 'style'):.0f}",
                f"{median(entries, 'layout'):.0f}",
            ]
        )
    headers = [
        "what",
        "median (ms)",
        "worst (ms)",
        "after the last answer (ms)",
        "every row (ms)",
        "main thread busy (ms)",
        "script (ms)",
        "style (ms)",
        "layout (ms)",
    ]
    return table(headers, rows)


def comparison(compared: Samples, page: str, before: str, after: str) -> str:
    old, new = compared["old"], compared["new"]
    rows = []
    every = [("every", "every row drawn, from navigation (ms)")] if "every" in old[0] else []
    for key, label in (
        ("wall", "first draw, from navigation (ms)"),
        ("after", "after the last answer (ms)"),
        *every,
        ("busy", "main thread busy (ms)"),
        ("script", "script (ms)"),
        ("style", "style (ms)"),
        ("layout", "layout (ms)"),
        ("elements", "elements in the document"),
    ):
        was, now = median(old, key), median(new, key)
        rows.append([label, f"{was:.0f}", f"{now:.0f}", f"{now / was:.2f}" if was else ""])
    return table([page, before, after, "after / before"], rows)


def section(
    args: argparse.Namespace,
    forum: dict[str, Any],
    measured: tuple[Samples, Samples, Samples],
    commits: tuple[str, str],
    load: str,
) -> str:
    samples, compared, compared_requests = measured
    commit, requests_commit = commits
    from importlib.metadata import version

    setting = ", ".join(f"{what} {value}" for what, value in machine().items() if what != "date")
    chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout.strip()
    command = f"python bench/pages.py --runs {args.runs} --time-limit {args.time_limit:g}"
    if args.old_requests:
        command += f" --old-requests {args.old_requests}"
    if tuple(args.only) != KINDS:
        command += f" --only {' '.join(args.only)}"
    before = ""
    if compared["old"]:
        before = f"""
The grid page's first draw before and after the table semantics (grid-scale, merged in d9dc930):
`grid.html`, `grid.js` and `grid.css` of {commit} served in place of this tree's, {args.runs} runs of each,
alternately in the run above (medians).

{comparison(compared, "grid page", f"before ({commit}: div grid)", "after (this tree: table semantics)")}

The table semantics cost no measurable draw time: 43% more elements, but in the six runs made on
2026-11-29 (load 1-10) the page's own part of the first draw was 1.07 to 1.29 times the div grid's,
main thread busy 0.89 to 1.03 times, and the wall time from navigation 0.67 to 1.15 times (the
load, not the page). A trace shows about as much script, style and layout for both: only the
current day's sheet is laid out (the others are `display: none`), and one listener a sheet instead
of two a cell takes away about as much as the extra elements add. Of the pages' own work the
largest is the requests page's first draw: 1,100 rows (23,500 elements) in one table laid out at
once. It made a date formatter for each row's two dates; one a time zone took its part after the
last answer from 872 to 536 ms (median of 9, old and new requests.js alternately). What remains is
mostly the table's style and layout.
"""
    if compared_requests["old"]:
        before += f"""
The requests page's first draw against {requests_commit}'s (requests.html, .js and .css served in place of
this tree's), {args.runs} runs of each, alternately in the run above (medians):

{comparison(compared_requests, "requests page", f"before ({requests_commit})", "after (this tree)")}
Since then (pages-polish) the requests table has `table-layout: fixed` (its widths are the header's)
and the page draws its first 100 rows, then the other 1,000 in a task after that frame (the table is
`aria-busy` meanwhile; measured with the request column at 30% and the priority at 10rem, since
narrowed so that the parties' column is wider). In a requests-only run against bf42106's page (`--only requests --runs 9
--old-requests bf42106`, 2026-11-30, load 13-15 from other work, alternately): the page's own part
of the first draw 586 -> 223 ms (0.38), from navigation 1385 -> 822 ms (0.59), but every row drawn
1452 -> 1621 ms (1.12) and main thread busy over that span 762 -> 1017 ms (1.33: the second step
lays the whole table out again). In the full run above, made while browser tests ran beside it,
main thread busy was 0.84 and every row 1.22: the total's change is within the noise, the first
screen's is not. Drawing in chunks of 100 a frame was measured and dropped: each chunk laid the
table out again (a trace: layout 555 against 308 ms). `FIRST_ROWS = Infinity` in requests.js
draws every row at once again. Fixed layout alone, against the page before it: its own part 0.92,
style 0.92, layout 0.93, main thread busy 1.01 (one run of 7): small, kept for the two-step draw
(columns that do not move when the other rows arrive). The filter's about 50-90 ms of style (every
row's `hidden` set) was not changed. agenda.js now keeps one date formatter a kind and time zone
(it made one a time shown); not compared alternately: its own part of the first draw is 45 ms in
the run above, 41 ms in the run before (other load), for the 40 meetings.
"""
    return f"""{START}
## Pages at UNGA scale (bench/pages.py)

Written by `{command}`. `examples/unga-week.json` stored, solved ({args.time_limit:g} s) and published
({forum["placed"]:,} meetings placed, {forum["unplaced"]} unplaced; one then moved, so version 2 can be compared
with version 1), served by uvicorn on localhost and driven by Playwright in headless Chromium
({VIEWPORT["width"]} x {VIEWPORT["height"]}). The agenda is the busiest delegation's, {forum["delegation"]}
({forum["agenda"]} meetings); the requests page reads {forum["requests"]:,} requests. Medians of {args.runs} runs.
A first draw runs in a fresh context (cold cache), from navigation to the frame after the first
content is in the document; *after the last answer* is the page's own part of it (its scripts,
style and layout once the last answer it read has arrived). An action is timed from the event to
the frame after its effect; a poll from the `focus` event to the frame after its 304s. Main thread
busy, script, style and layout are Chrome's counters over the same span (CDP `Performance.getMetrics`:
TaskDuration, ScriptDuration, RecalcStyleDuration, LayoutDuration). Script is far below what a
Chrome trace of the same draw shows (the grid's: about 30 ms against some 100 ms of microtasks, where
its drawing runs after an await): read main thread busy as the page's cost, script as relative.
The machine is shared and noisy (two cores, the server and the browser on them): compare ratios.

{timings(samples)}
{before}
_Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average (1 min) {load}; {setting}; {chromium},
Playwright {version("playwright")}; PostgreSQL {forum["postgres"]}._
{END}
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="the page to write (default docs/benchmarks.md, none with --only)")
    parser.add_argument("--runs", type=int, default=7, help="runs of each measure (medians)")
    parser.add_argument("--time-limit", type=float, default=5.0, help="seconds of the solve (default 5)")
    parser.add_argument("--server", default=os.environ.get("DATABASE_URL") or api_scale.DEFAULT_SERVER)
    parser.add_argument("--old-grid", default=OLD_GRID, help="the commit whose grid page is compared ('' for none)")
    parser.add_argument("--old-requests", default="", help="a commit or directory whose requests page is compared")
    parser.add_argument("--only", nargs="+", choices=KINDS, default=list(KINDS), help="measure these pages alone")
    args = parser.parse_args(argv)
    whole = tuple(args.only) == KINDS
    if args.out is None and whole:
        args.out = REPO / "docs" / "benchmarks.md"

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    from playwright.sync_api import sync_playwright

    commit = resolved(args.old_grid) if args.old_grid and "grid" in args.only else ""
    requests_commit = ""
    if args.old_requests:
        requests_commit = args.old_requests if Path(args.old_requests).is_dir() else resolved(args.old_requests)
    options = Options(
        runs=args.runs,
        kinds=tuple(args.only),
        old=old_files(commit, GRID_FILES) if commit else None,
        old_requests=old_files(requests_commit, REQUESTS_FILES) if requests_commit else None,
    )
    load = f"{os.getloadavg()[0]:.1f}"
    with served(args.server, args.time_limit, log) as forum, sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            measured = measure(Browser(launched, forum["url"]), forum, options, log)
        finally:
            launched.close()
    load += f" at the start, {os.getloadavg()[0]:.1f} at the end"
    text = section(args, forum, measured, (commit, requests_commit), load)
    print(text)
    if args.out is not None:
        write_marked(args.out, START, END, text)
        log(f"wrote the pages section of {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
