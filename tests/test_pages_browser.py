"""The grid and agenda pages in a real browser: headless Chromium (Debian's package, driven
by Playwright) against the real app served by uvicorn on a free localhost port, with the
Shangri-La example loaded into PostgreSQL, solved by the real worker and published.

The tests also write docs/screenshots/*.png, so the pictures in the docs are what the
pages show. They share one forum (module fixture) and each reads the version the page
shows rather than assuming one, since moves and solves add versions.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import defaultdict
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import msgspec
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Dialog, FloatRect, Locator, Page, Route, ViewportSize, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from db.load import LoadedForum, load_problem
from solver.model import Problem
from tests.conftest import ADMIN_TOKEN, Databases
from tests.live_server import LiveServer, live_server

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SOLVE_SECONDS = 8
WAIT_MS = 30_000
PHONE: ViewportSize = {"width": 390, "height": 844}
DESK: ViewportSize = {"width": 1600, "height": 2300}  # a whole 12-hour day: a drag never scrolls
SHOT: FloatRect = {"x": 0, "y": 0, "width": 1600, "height": 1000}
PHONE_SHOT: ViewportSize = {"width": 390, "height": 1400}  # the top of the agenda: header, inbox, the first day


def aside(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion on a private loop in another thread (the test thread has none)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, work()).result()


class Site(msgspec.Struct):
    server: LiveServer
    forum: LoadedForum
    api: httpx.Client
    problem: Problem

    @property
    def base(self) -> str:
        return f"/forums/{self.forum.forum_id}"

    def organiser(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.forum.organiser_token}"}

    def get(self, path: str) -> Any:
        answer = self.api.get(f"{self.base}{path}", headers=self.organiser())
        assert answer.status_code == 200, answer.text
        return answer.json()

    def every(self, path: str) -> list[Any]:
        """Every item of a paged list (`/requests`, `/schedules`), page after page by their Link."""
        items: list[Any] = []
        url: str | None = f"{self.base}{path}"
        while url is not None:
            answer = self.api.get(url, headers=self.organiser())
            assert answer.status_code == 200, answer.text
            items.extend(answer.json())
            url = answer.links.get("next", {}).get("url")
        return items


@pytest.fixture(scope="module")
def site(server_url: str) -> Iterator[Site]:
    problem = msgspec.json.decode((ROOT / "examples" / "shangri-la.json").read_bytes(), type=Problem)
    databases = Databases(server_url)
    url = aside(databases.create)
    try:
        with live_server(url, ADMIN_TOKEN) as server:

            async def load(pool: asyncpg.Pool) -> LoadedForum:
                async with pool.acquire() as connection:
                    return await load_problem(connection, problem)

            forum = server.call(load)
            with httpx.Client(base_url=server.url, timeout=60) as client:
                built = Site(server, forum, client, problem)
                _solve_and_publish(built)
                _ask(built, "NZ", ["NZ", "AU"], "Defence industry dialogue")
                yield built
    finally:
        aside(databases.drop_all)


def _solve_and_publish(site: Site) -> None:
    version = _solve(site, SOLVE_SECONDS)
    published = site.api.post(f"{site.base}/schedules/{version}/publish", headers=site.organiser())
    assert published.status_code == 200, published.text


def _solve(site: Site, seconds: int) -> int:
    """A solve through the API and the live server's worker; the version it made."""
    run = site.api.post(f"{site.base}/runs", json={"time_limit": seconds}, headers=site.organiser())
    assert run.status_code == 202, run.text
    deadline = time.monotonic() + 180
    while (status := site.get(f"/runs/{run.json()['id']}"))["status"] not in ("succeeded", "failed", "cancelled"):
        assert time.monotonic() < deadline, status
        time.sleep(0.3)
    assert status["status"] == "succeeded", status
    return int(status["version"])


def _another_forum(site: Site, name: str) -> Site:
    """Another forum (an example problem) on the same server and database, not solved."""
    problem = msgspec.json.decode((ROOT / "examples" / f"{name}.json").read_bytes(), type=Problem)

    async def load(pool: asyncpg.Pool) -> LoadedForum:
        async with pool.acquire() as connection:
            return await load_problem(connection, problem)

    return Site(site.server, site.server.call(load), site.api, problem)


@pytest.fixture(scope="module")
def unga(site: Site) -> Site:
    """The UNGA week (1,100 meetings, 20 booths, 5 days of 20-minute slots), solved for 2 s."""
    built = _another_forum(site, "unga-week")
    _solve(built, 2)
    return built


def _ask(site: Site, requester: str, parties: list[str], title: str) -> str:
    token = {"Authorization": f"Bearer {site.forum.delegation_tokens[requester]}"}
    body = {"parties": parties, "duration_minutes": 30, "title": title}
    made = site.api.post(f"{site.base}/requests", json=body, headers=token)
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def grid_page(browser: Browser, site: Site) -> Iterator[Page]:
    page = browser.new_page(viewport=DESK)
    errors = _watch(page)
    page.goto(f"{site.server.url}/grid#token={site.forum.organiser_token}")
    page.locator(".sheet.current .meeting").first.wait_for(timeout=WAIT_MS)
    yield page
    assert errors == [], errors
    page.close()


def _open_grid(browser: Browser, site: Site) -> tuple[Page, list[str]]:
    page = browser.new_page(viewport=DESK)
    errors = _watch(page)
    page.goto(f"{site.server.url}/grid#token={site.forum.organiser_token}")
    page.locator(".sheet.current .meeting").first.wait_for(timeout=WAIT_MS)
    return page, errors


@pytest.fixture
def still_page(browser: Browser, site: Site) -> Iterator[Page]:
    """The grid page with its clock stopped once loaded: it asks the server whether a colleague
    has edited the forum only when the test moves its time on (or the window takes focus)."""
    page = browser.new_page(viewport=DESK)
    errors = _watch(page)
    page.clock.install()
    page.goto(f"{site.server.url}/grid#token={site.forum.organiser_token}")
    page.locator(".sheet.current .meeting").first.wait_for(timeout=WAIT_MS)
    _stop_clock(page)
    yield page
    assert errors == [], errors
    page.close()


def _stop_clock(page: Page) -> None:
    """Stops the page's clock (installed, running) a second ahead of where it stands, firing no timer.
    Playwright has no "pause now": the moment is read from the page, and under load more than a
    second may pass before the pause reaches it, which refuses a moment gone by ("Cannot fast-forward
    to the past") having already stopped the clock; read again then, where it stopped."""
    for _ in range(3):
        ahead = page.evaluate("Date.now()") / 1000 + 1
        try:
            page.clock.pause_at(ahead)
            return
        except PlaywrightError as error:
            if "to the past" not in error.message:
                raise
    raise AssertionError("the page's clock never stopped")


CHECK = "00:16"  # past the page's next check for a colleague's work (grid.js CHECK_MS)


def _watch(page: Page) -> list[str]:
    """Uncaught script errors on the page: a page test fails on any."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


class AxCell(msgspec.Struct, frozen=True):
    role: str
    name: str


class AxTable(msgspec.Struct):
    name: str
    rows: list[list[AxCell]]  # each row's cells and headers, in order


def _ax_tables(page: Page) -> list[AxTable]:
    """The tables in Chrome's own accessibility tree (CDP Accessibility.getFullAXTree), as a screen
    reader is given them: Playwright's role queries read the DOM, and would not see Chrome drop a
    `display: contents` row or cell. Ignored and generic nodes are looked through (a row group,
    a div that only places), so a row is found under its table and a cell under its row."""
    cdp = page.context.new_cdp_session(page)
    try:
        nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
    finally:
        cdp.detach()
    by_id = {node["nodeId"]: node for node in nodes}

    def role(node: dict[str, Any]) -> str:
        return str(node.get("role", {}).get("value", ""))

    def below(node: dict[str, Any], through: tuple[str, ...]) -> Iterator[dict[str, Any]]:
        for child_id in node.get("childIds", []):
            child = by_id.get(child_id)
            if child is None:
                continue
            if child.get("ignored") or role(child) in through:
                yield from below(child, through)
            else:
                yield child

    def name(node: dict[str, Any]) -> str:
        return str(node.get("name", {}).get("value", ""))

    tables = []
    for node in nodes:
        if node.get("ignored") or role(node) != "table":
            continue
        rows = [row for row in below(node, ("generic", "none", "rowgroup")) if role(row) == "row"]
        cells = [[AxCell(role(cell), name(cell)) for cell in below(row, ("generic", "none"))] for row in rows]
        tables.append(AxTable(name(node), cells))
    return tables


def _shown_version(page: Page) -> int:
    return int(page.locator("#version-select").input_value())


def _blocks_by_day(page: Page) -> dict[str, list[str]]:
    days: dict[str, list[str]] = {}
    for index in range(page.locator(".day-tab").count()):
        page.locator(".day-tab").nth(index).click()
        sheet = page.locator(".sheet.current")
        days[sheet.get_attribute("data-day") or ""] = sheet.locator(".meeting").evaluate_all(
            "nodes => nodes.map(n => n.dataset.meeting)"
        )
    page.locator(".day-tab").first.click()
    return days


# ---------------------------------------------------------------- the organiser's grid


def test_the_grid_shows_every_placed_meeting(grid_page: Page, site: Site) -> None:
    version = _shown_version(grid_page)
    grid = site.get(f"/schedules/{version}")
    expected: dict[str, list[str]] = defaultdict(list)
    for placement in grid["placements"]:
        expected[placement["start"][:10]].append(placement["meeting"])
    assert len(grid["placements"]) >= 100  # the Shangri-La example, solved
    shown = _blocks_by_day(grid_page)
    assert {day: sorted(ids) for day, ids in shown.items() if ids} == {d: sorted(i) for d, i in expected.items()}
    assert set(shown) == {day.date.isoformat() for day in site.problem.forum.days}

    unplaced = grid_page.locator("#unplaced-list .unplaced-item").evaluate_all("ns => ns.map(n => n.dataset.meeting)")
    assert sorted(unplaced) == sorted(u["meeting"] for u in grid["unplaced"])
    first = grid["placements"][0]
    block = grid_page.locator(f'.meeting[data-meeting="{first["meeting"]}"]')
    meeting = next(m for m in site.problem.meetings if m.id == first["meeting"])
    countries = {d.id: d.country for d in site.problem.delegations}
    codes = block.locator(".codes").inner_text().split(" · ")
    assert sorted(codes) == sorted(countries[d] for d in meeting.delegations)
    expect(block.locator(".kind")).to_contain_text(meeting.priority)
    expect(grid_page.locator(".sheet.current .session").first).to_be_visible()  # programme sessions shaded

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    sheet = grid_page.locator(".sheet.current").bounding_box()
    assert sheet is not None
    grid_page.screenshot(path=str(SCREENSHOTS / "grid.png"), clip={**SHOT, "height": sheet["y"] + sheet["height"] + 8})
    # The print stylesheet: one A3 landscape page per forum day, controls and panels left out.
    pdf = grid_page.pdf(prefer_css_page_size=True, print_background=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == len(site.problem.forum.days)
    grid_page.emulate_media(media="print")
    expect(grid_page.locator(".controls")).to_be_hidden()
    expect(grid_page.locator(".sheet").nth(1)).to_be_visible()  # every day prints, not only the one shown
    grid_page.locator(".sheet").nth(1).screenshot(path=str(SCREENSHOTS / "grid-print.png"))
    grid_page.emulate_media(media="screen")

    # "Print this day": the day shown alone, for its stewards, while the print dialog (held here)
    # is open. (Not through page.pdf, which fires the page's afterprint itself.)
    grid_page.locator(".day-tab").nth(1).click()
    grid_page.evaluate("window.print = () => { window.printed = true; }")
    grid_page.locator("#print-day").click()
    assert grid_page.evaluate("window.printed") is True
    grid_page.emulate_media(media="print")
    expect(grid_page.locator(".sheet").nth(1)).to_be_visible()
    expect(grid_page.locator(".sheet:visible")).to_have_count(1)
    grid_page.evaluate("window.dispatchEvent(new Event('afterprint'))")  # the dialog closed: every day again
    expect(grid_page.locator(".sheet:visible")).to_have_count(len(site.problem.forum.days))
    grid_page.emulate_media(media="screen")


def test_the_grid_reads_every_page_of_the_requests(grid_page: Page, site: Site) -> None:
    """The forum has more requests than a list's first page holds by default (100): every
    meeting still shows its request's status, and the pages' reader follows pages of any size."""
    requests = site.every("/requests")
    assert len(requests) > 100
    statuses = grid_page.locator(".sheet .meeting .status").evaluate_all("nodes => nodes.map(n => n.textContent)")
    assert len(statuses) >= 100 and [status for status in statuses if "unknown" in status] == []
    token, path = site.forum.organiser_token, f"{site.base}/requests?limit=7"
    read = grid_page.evaluate("([token, path]) => Sidelines.every(token, path)", [token, path])
    assert [request["id"] for request in read] == [request["id"] for request in requests]


# Each time down the side against the row it names: the top of the cells that start then.
TIMES_MISPLACED = """
() => [...document.querySelectorAll(".sheet.current .time")].flatMap(label => {
  const sheet = label.closest(".sheet");
  const cell = sheet.querySelector(`.cell[data-start="${sheet.dataset.day}T${label.textContent}:00"]`);
  if (!cell) return [`${label.textContent}: no such row`];
  const off = Math.abs(label.getBoundingClientRect().top - cell.getBoundingClientRect().top);
  return off > 1 ? [`${label.textContent}: ${off.toFixed(1)} px off`] : [];
})
"""


def test_the_times_down_the_side_name_their_rows_at_any_slot_length(
    grid_page: Page, browser: Browser, unga: Site
) -> None:
    """Shangri-La's 10-minute rows get a time every half hour; UNGA's 20-minute rows (where a half
    hour can fall inside a row) get one each. Each stands beside the row it names, on screen and
    on the A3 sheet the stewards are given."""
    assert grid_page.locator(".sheet.current .time").count() >= 10
    assert grid_page.evaluate(TIMES_MISPLACED) == []
    page, errors = _open_grid(browser, unga)
    forum = unga.problem.forum
    assert forum.slot_minutes == 20
    for index, day in enumerate(forum.days):
        page.locator(".day-tab").nth(index).click()
        rows = (day.end.hour * 60 + day.end.minute - day.start.hour * 60 - day.start.minute) // forum.slot_minutes
        expect(page.locator(".sheet.current .time")).to_have_count(rows)
        assert page.evaluate(TIMES_MISPLACED) == [], day.date
    page.emulate_media(media="print")
    assert page.evaluate(TIMES_MISPLACED) == []
    assert errors == [], errors
    page.close()


FOUND = "() => [...document.querySelectorAll('.sheet .meeting.found')].map(node => node.dataset.meeting)"
# A node of the grid kept, and every change of a meeting's classes counted from here on.
WATCH_GRID = """() => {
  window.keptCell = document.querySelector(".sheet .cell");
  window.touched = 0;
  new MutationObserver(records => { touched += records.filter(r => r.target.classList.contains("meeting")).length; })
    .observe(document.getElementById("sheets"), { attributes: true, attributeFilter: ["class"], subtree: true });
}"""


def test_a_found_delegation_links_to_its_agenda_as_it_sees_it(grid_page: Page, site: Site) -> None:
    """One delegation found: a link opens the agenda page's preview of it in a new tab, the token
    in the fragment only; several or none found: no link."""
    page = grid_page
    link = page.locator("#find-preview")
    expect(link).to_be_hidden()
    page.locator("#find-input").fill("SG")
    name = next(d.name for d in site.problem.delegations if d.id == "SG")
    expect(link).to_have_text(f"What {name} (SG) sees (its agenda, in a new tab)")
    href = link.get_attribute("href") or ""
    assert href.startswith("/agenda#") and "?" not in href, href
    with page.context.expect_page() as opened:
        link.click()
    preview = opened.value
    expect(preview.locator("#preview-banner")).to_have_text(f"Preview: what {name} sees", timeout=WAIT_MS)
    assert preview.url.endswith("/agenda#delegation=SG"), preview.url  # the token left the address
    preview.close()
    page.locator("#find-input").fill("zz")
    expect(link).to_be_hidden()


def test_finding_a_delegation_marks_its_meetings_cheaply_at_unga_scale(browser: Browser, unga: Site) -> None:
    """The organiser types a delegation's code or part of its name: its meetings are marked where
    they stand (the others fade), each day's tab counts them, its unplaced meetings are marked too;
    the grid is not drawn again and only the found meetings are touched. Enter goes to the first,
    Escape clears."""
    page, errors = _open_grid(browser, unga)
    grid = unga.get(f"/schedules/{_shown_version(page)}")
    assert len(grid["placements"]) > 1000 and grid["unplaced"]
    parties = {m.id: set(m.delegations) for m in unga.problem.meetings}
    # a delegation one of whose meetings could not be placed
    code = sorted(parties[grid["unplaced"][0]["meeting"]])[0]
    name = next(d.name for d in unga.problem.delegations if d.id == code)
    placed = [p for p in grid["placements"] if code in parties[p["meeting"]]]
    unplaced = [u["meeting"] for u in grid["unplaced"] if code in parties[u["meeting"]]]
    page.evaluate(WATCH_GRID)

    box = page.locator("#find-input")
    box.focus()
    page.keyboard.type(code.lower())
    expect(page.locator(".sheet .meeting.found")).to_have_count(len(placed))
    assert sorted(page.evaluate(FOUND)) == sorted(p["meeting"] for p in placed)
    found_unplaced = page.locator("#unplaced-list .found").evaluate_all("nodes => nodes.map(n => n.dataset.meeting)")
    assert sorted(found_unplaced) == sorted(unplaced)
    expect(page.locator("#sheets")).to_have_class(re.compile(r"\bfinding\b"))
    said = f"{name} ({code}): {len(placed)} meeting{'s' if len(placed) != 1 else ''} placed, {len(unplaced)} unplaced."
    expect(page.locator("#find-result")).to_have_text(said)
    expect(page.locator("#find-said")).to_have_text(said)  # said once the typing pauses
    assert page.locator("#find-said").get_attribute("role") == "status"
    per_day: dict[str, int] = defaultdict(int)
    for placement in placed:
        per_day[placement["start"][:10]] += 1
    for index, day in enumerate(unga.problem.forum.days):
        count = per_day[day.date.isoformat()]
        tab = page.locator(".day-tab").nth(index)
        expect(tab.locator(".found-count")).to_have_text(f" · {count} found" if count else "")
    # cheap at this size: nothing drawn again, and no meeting but the found ones touched
    assert page.evaluate("window.keptCell.isConnected") is True
    assert page.evaluate("window.touched") == len(placed)

    # part of a name: every delegation whose name holds it
    box.fill("guinea")
    guineas = {d.id for d in unga.problem.delegations if "guinea" in d.name.lower()}
    assert len(guineas) > 1
    expected = sorted(p["meeting"] for p in grid["placements"] if parties[p["meeting"]] & guineas)
    expect(page.locator(".sheet .meeting.found")).to_have_count(len(expected))
    assert sorted(page.evaluate(FOUND)) == expected
    expect(page.locator("#find-result")).to_contain_text(f"{len(guineas)} delegations (")
    assert page.evaluate("window.touched") == 2 * len(placed) + len(expected)  # the last ones unmarked, these marked
    box.fill("zz")
    expect(page.locator("#find-result")).to_have_text("No delegation matches “zz”.")
    expect(page.locator(".meeting.found")).to_have_count(0)

    # Enter: the first of its meetings (the earliest day, then time, then room); Enter again moves
    # it, Escape comes back to it; Escape in the box clears
    box.fill(code)
    box.press("Enter")
    rooms = [room.id for room in unga.problem.rooms]
    first = min(placed, key=lambda p: (p["start"], rooms.index(p["room"])))
    focused = page.locator(".meeting:focus")
    expect(focused).to_have_attribute("data-meeting", first["meeting"])
    expect(page.locator(".sheet.current")).to_have_attribute("data-day", first["start"][:10])
    page.keyboard.press("Enter")
    expect(page.locator("#move-form")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#move-panel")).to_be_hidden()
    expect(focused).to_have_attribute("data-meeting", first["meeting"])
    # drawn again (another comparison chosen), the marks are put back
    page.locator("#compare-select").select_option(str(_shown_version(page)))
    expect(page.locator(".sheet .meeting.found")).to_have_count(len(placed))
    box.focus()
    page.keyboard.press("Escape")
    expect(box).to_have_value("")
    expect(page.locator(".meeting.found")).to_have_count(0)
    expect(page.locator("#sheets")).not_to_have_class(re.compile(r"\bfinding\b"))
    expect(page.locator(".day-tab .found-count").first).to_have_text("")
    assert errors == [], errors
    page.close()


def _cell_at(page: Page, room: str, time: str) -> Locator:
    """The table cell a screen reader reaches by the room's column header and the time's row
    header, found by role alone (no class or data attribute): the row the time heads, at the
    column the room heads."""
    table = page.get_by_role("table")
    names = table.get_by_role("columnheader").all_inner_texts()
    column = next(index for index, name in enumerate(names) if name.split("\n")[0] == room)
    row = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name=time, exact=True))
    expect(row).to_have_count(1)
    return row.get_by_role("cell").nth(column - 1)  # the first column header is the times'


def test_a_screen_reader_reaches_a_meeting_by_its_room_and_time(grid_page: Page, site: Site) -> None:
    """Each sheet is a table (rows, column headers naming the rooms, row headers naming the
    times, cells): a meeting is in the cell of its room and its start, every row (10-minute
    rows too, whose time is not printed beside each) has a header, and the drop still lands."""
    page = grid_page
    version = _shown_version(page)
    placements = site.get(f"/schedules/{version}")["placements"]
    rooms = {room.id: room.name for room in site.problem.rooms}
    for placement in [placements[0], placements[-1]]:
        _show_day_of(page, placement["start"])
        table = page.get_by_role("table")
        expect(table).to_have_accessible_name(f"Meetings on {_day_label(page, placement['start'][:10])}")
        cell = _cell_at(page, rooms[placement["room"]], placement["start"][11:16])
        expect(cell.get_by_role("button")).to_have_attribute("data-meeting", placement["meeting"])
    day = site.problem.forum.days[0]
    minutes = day.end.hour * 60 + day.end.minute - day.start.hour * 60 - day.start.minute
    rows = minutes // site.problem.forum.slot_minutes
    page.locator(".day-tab").first.click()
    expect(page.get_by_role("table").get_by_role("rowheader")).to_have_count(rows)
    expect(page.get_by_role("table").get_by_role("row")).to_have_count(rows + 1)


def test_chromes_accessibility_tree_keeps_the_sheets_rows_and_cells(grid_page: Page, site: Site) -> None:
    """The rows and cells are `display: contents` (the CSS grid places what they hold), which
    Chrome has dropped from its accessibility tree before: read that tree itself, not the DOM.
    The day's sheet is one table named for its day; its first row the column headers (Time,
    then each room by name); every other row a row header (its time) and one cell a room, and
    the cell where a meeting starts is named for the meeting."""
    page = grid_page
    placement = site.get(f"/schedules/{_shown_version(page)}")["placements"][0]
    _show_day_of(page, placement["start"])
    # The rooms in the sheet's order (the columns), by the DOM; their names as the tree gives them.
    order = page.locator(".sheet.current .room-head").evaluate_all("heads => heads.map(h => h.dataset.room)")
    rooms = {room.id: room for room in site.problem.rooms}
    assert sorted(order) == sorted(rooms)
    tables = _ax_tables(page)
    assert [table.name for table in tables] == [f"Meetings on {_day_label(page, placement['start'][:10])}"]
    header, *rows = tables[0].rows
    assert [(cell.role, cell.name) for cell in header] == [("columnheader", "Time")] + [
        ("columnheader", f"{rooms[room].name} {rooms[room].seats} seats") for room in order
    ]
    assert rows and all([cell.role for cell in row] == ["rowheader"] + ["cell"] * len(order) for row in rows)
    row = next(row for row in rows if row[0].name == placement["start"][11:16])
    label = page.locator(f'.sheet.current .meeting[data-meeting="{placement["meeting"]}"]').get_attribute("aria-label")
    assert label and placement["start"][11:16] in label  # "TL-US: Bilateral: ..., 13:00–13:20, ..."
    assert row[1 + order.index(placement["room"])].name == label


def test_a_session_of_listed_people_reads_as_some_busy_not_as_a_closed_afternoon(
    grid_page: Page, browser: Browser, unga: Site
) -> None:
    """Shangri-La's plenaries block every principal: a heavy band, no count. UNGA's general debate
    blocks only its speakers: a light band (class `listed`) that names the session and how many it
    keeps busy, and whom in its title."""
    plenary = grid_page.locator(".sheet .session", has_text="First plenary session")
    expect(plenary).to_have_count(1)
    expect(plenary).not_to_have_class(re.compile(r"\blisted\b"))
    expect(plenary).not_to_contain_text("busy")
    expect(grid_page.locator(".sheet .session.listed")).to_have_count(0)

    page, errors = _open_grid(browser, unga)
    listed = [s for s in unga.problem.sessions if s.scope == "listed"]
    assert listed
    expect(page.locator(".sheet .session.listed")).to_have_count(len(listed))
    expect(page.locator(".sheet .session:not(.listed)")).to_have_count(0)
    session = listed[0]
    band = page.locator(".sheet.current .session.listed", has_text=session.name)
    count = len(session.participants)
    expect(band).to_contain_text(f"{count} {'person' if count == 1 else 'people'} busy")
    names = {p.id: p.name for d in unga.problem.delegations for p in d.participants}
    title = band.get_attribute("title") or ""
    assert all(names[p] in title for p in session.participants), title
    assert errors == [], errors
    page.close()


def test_twenty_booths_fit_a_1600_px_screen(browser: Browser, unga: Site) -> None:
    """Past a dozen rooms the columns are narrow (codes alone in a block, the names in its
    title): UNGA's last booth is on screen at 1600 px. The toggle gives the wide columns back."""
    page, errors = _open_grid(browser, unga)
    assert len(unga.problem.rooms) == 20
    last = page.locator(".sheet.current .room-head").last
    expect(last).to_contain_text(unga.problem.rooms[-1].name)
    expect(last).to_be_in_viewport(ratio=1)
    density = page.locator("#density")
    expect(density).to_have_attribute("aria-pressed", "true")
    page.screenshot(path=str(SCREENSHOTS / "grid-unga.png"), clip=SHOT)
    block = page.locator(".sheet.current .meeting").first
    meeting = next(m for m in unga.problem.meetings if m.id == block.get_attribute("data-meeting"))
    names = {d.id: d.name for d in unga.problem.delegations}
    title = block.get_attribute("title") or ""
    assert all(names[d] in title for d in meeting.delegations), title
    density.click()
    expect(density).to_have_attribute("aria-pressed", "false")
    expect(last).not_to_be_in_viewport()
    density.click()
    expect(last).to_be_in_viewport(ratio=1)
    assert errors == [], errors
    page.close()


def test_an_unplaced_meeting_opens_at_the_servers_cheapest_spot(browser: Browser, unga: Site) -> None:
    """Enter on an unplaced meeting opens the move form at the cheapest spot the server lists for
    the version (GET .../spots, one call, no guessing from checks), not at the first room and slot
    (taken, at UNGA). One whose attendees are never there together says the server found none.

    A UNGA solve leaves only such meetings out, so the page is given the version with one placed
    meeting listed as unplaced instead (its answer rewritten on the way; the spots are the
    server's, on the stored version, where that meeting's own place is among them)."""
    version = unga.every("/schedules")[-1]["number"]
    grid = unga.get(f"/schedules/{version}")
    first_room = unga.problem.rooms[0].id
    day = unga.problem.forum.days[0]
    first_start = f"{day.date}T{day.start.isoformat()[:5]}:00"
    path = f"{unga.base}/schedules/{version}/moves/check"

    def refused_at_first_spot(meeting: str) -> bool:
        # Taken, or its attendees not yet there: which meetings depends on the short solve's grid.
        first = {"meeting": meeting, "start": first_start, "room": first_room}
        answer = unga.api.post(path, json=first, headers=unga.organiser())
        assert answer.status_code == 200, answer.text
        return not answer.json()["allowed"]

    meeting = next(p["meeting"] for p in grid["placements"] if refused_at_first_spot(p["meeting"]))
    nowhere = next(u["meeting"] for u in grid["unplaced"] if u["reason"] == "no_common_availability")
    left_out = {"meeting": meeting, "reason": "costs_more", "message": "left out for its cost"}
    doctored = {
        **grid,
        "placements": [p for p in grid["placements"] if p["meeting"] != meeting],
        "unplaced": [*grid["unplaced"], left_out],
    }
    page = browser.new_page(viewport=DESK)
    errors = _watch(page)
    page.route(f"**/schedules/{version}", lambda route: route.fulfill(json=doctored))
    asked: list[str] = []
    page.on("request", lambda request: asked.append(f"{request.method} {request.url}"))
    page.goto(f"{unga.server.url}/grid#token={unga.forum.organiser_token}")
    page.locator(".sheet.current .meeting").first.wait_for(timeout=WAIT_MS)
    assert _shown_version(page) == version
    first = {"meeting": meeting, "start": first_start, "room": first_room}

    page.locator(f'.unplaced-item[data-meeting="{nowhere}"]').focus()
    page.keyboard.press("Enter")
    expect(page.locator("#move-verdict")).to_have_attribute("data-opened", "none", timeout=WAIT_MS)
    expect(page.locator("#move-verdict")).to_contain_text("The server found no spot")
    page.keyboard.press("Escape")

    asked.clear()
    page.locator(f'.unplaced-item[data-meeting="{meeting}"]').focus()
    page.keyboard.press("Enter")
    expect(page.locator("#move-verdict")).to_have_attribute("data-opened", "allowed", timeout=WAIT_MS)
    expect(page.locator("#move-verdict")).to_have_text("Opened at the cheapest spot the server allows.")
    assert [url for url in asked if "/spots?" in url] == [
        f"GET {unga.server.url}{unga.base}/schedules/{version}/spots?meeting={meeting}&k=1"
    ], asked
    assert not [url for url in asked if "/moves/check" in url], asked  # the server's answer, not guesses
    start = f"{page.locator('#move-day').input_value()}T{page.locator('#move-time').input_value()}:00"
    spot = {"meeting": meeting, "start": start, "room": page.locator("#move-room").input_value()}
    assert spot != first
    best = unga.api.get(f"{unga.base}/schedules/{version}/spots?meeting={meeting}&k=1", headers=unga.organiser())
    assert best.status_code == 200, best.text
    [listed] = best.json()
    assert (listed["start"][:19], listed["room"]) == (spot["start"], spot["room"])
    answer = unga.api.post(path, json=spot, headers=unga.organiser())
    assert answer.status_code == 200 and answer.json()["allowed"], (spot, answer.text)
    page.locator("#move-form button[type=submit]").click()
    expect(page.locator("#move-verdict")).to_contain_text("Allowed", timeout=WAIT_MS)
    expect(page.locator("#move-confirm")).to_be_enabled()
    page.keyboard.press("Escape")
    assert errors == [], errors
    page.close()


def test_one_room_prints_alone_on_every_day(grid_page: Page, site: Site) -> None:
    """The stewards' sheet: one room's column, every day, the room named beside the day."""
    page = grid_page
    room = site.problem.rooms[1]
    page.locator("#print-room-select").select_option(room.id)
    page.evaluate("window.print = () => { window.printed = true; }")
    page.locator("#print-room").click()
    assert page.evaluate("window.printed") is True
    page.emulate_media(media="print")
    days = len(site.problem.forum.days)
    expect(page.locator(".sheet:visible")).to_have_count(days)
    heads = page.locator(".sheet .room-head:visible")
    expect(heads).to_have_count(days)
    assert set(heads.all_inner_texts()) == {f"{room.name}\n{room.seats} seats"}
    shown = page.locator(".sheet .meeting:visible").evaluate_all("nodes => nodes.map(n => n.dataset.room)")
    assert shown and set(shown) == {room.id}
    version = _shown_version(page)
    placed = [p for p in site.get(f"/schedules/{version}")["placements"] if p["room"] == room.id]
    assert len(shown) == len(placed)
    after = "nodes => nodes.map(n => getComputedStyle(n, '::after').content)"
    assert set(page.locator(".sheet .sheet-title").evaluate_all(after)) == {f'" · {room.name}"'}
    page.evaluate("window.dispatchEvent(new Event('afterprint'))")
    expect(page.locator(".sheet .room-head:visible")).to_have_count(days * len(site.problem.rooms))
    page.emulate_media(media="screen")


def test_a_solves_figures_are_not_read_out_as_they_tick_and_a_lost_stream_is_said(grid_page: Page, site: Site) -> None:
    """Only the solve's title is a live region (it changes when a solve starts, ends or fails):
    the elapsed time beside it changes four times a second. A stream lost mid-solve is said there
    rather than left at "Solving…"."""
    live = "node => Boolean(node.closest('[aria-live], [role=status], [role=log], [role=alert], [role=timer]'))"
    for figure in ("objective", "bound", "gap", "elapsed"):
        assert grid_page.locator(f"#progress-{figure}").evaluate(live) is False, figure
    title = grid_page.locator("#progress .progress-title")
    assert title.get_attribute("role") == "status"

    grid_page.route("**/events", lambda route: route.abort())
    grid_page.locator("#time-limit").fill("2")
    _full_solve(grid_page)
    expect(title).to_have_text(
        re.compile(r"^Solve \d+: progress lost \(.+\); its version joins the list when it ends$"), timeout=WAIT_MS
    )
    expect(grid_page.locator("#solve-button")).to_be_enabled()
    run = int(re.findall(r"\d+", title.inner_text())[0])
    deadline = time.monotonic() + 120  # the run goes on on the server: let it end before the next test
    while site.get(f"/runs/{run}")["status"] not in ("succeeded", "failed", "cancelled"):
        assert time.monotonic() < deadline
        time.sleep(0.3)


def test_a_forum_without_a_version_says_so_and_offers_nothing_to_publish(browser: Browser, site: Site) -> None:
    fresh = _another_forum(site, "shangri-la")
    page = browser.new_page(viewport=DESK)
    errors = _watch(page)
    page.goto(f"{site.server.url}/grid#token={fresh.forum.organiser_token}")
    summary = page.locator("#summary")
    expect(summary).to_have_text("No version yet: start a solve to make the first one.", timeout=WAIT_MS)
    expect(page.locator("#publish-button")).to_be_disabled()
    expect(page.locator("#version-select")).to_be_disabled()
    expect(page.locator("#compare-select")).to_be_disabled()
    expect(page.locator("#undo-button")).to_be_hidden()
    expect(page.locator(".sheet.current .cell").first).to_be_visible()  # the empty day, rooms and times
    expect(page.locator(".meeting")).to_have_count(0)
    expect(page.locator("#message")).to_be_hidden()
    solved = _solve_on_page(page, 2)  # the first version: shown, and publishable
    expect(summary).to_contain_text(f"Version {solved} (")
    expect(page.locator("#publish-button")).to_be_enabled()
    expect(page.locator("#version-select")).to_be_enabled()
    assert errors == [], errors
    page.close()


def _placement(site: Site, version: int, meeting: str) -> dict[str, Any]:
    return next(p for p in site.get(f"/schedules/{version}")["placements"] if p["meeting"] == meeting)


def _cell(page: Page, room: str, start: str) -> Locator:
    """The grid cell at `start` ("2024-06-01T10:30", forum-local) in `room`."""
    return page.locator(f'.sheet.current .cell[data-room="{room}"][data-start="{start[:16]}:00"]')


def _drag(page: Page, meeting: str, room: str, start: str) -> None:
    block = page.locator(f'.sheet.current .meeting[data-meeting="{meeting}"]')
    # force: the target cell may lie under another meeting's block (a clash is dropped onto it);
    # once a drag has started the page lets the drop through to the cell, as a person sees it.
    block.drag_to(_cell(page, room, start), source_position={"x": 6, "y": 4}, force=True)


def _show_day_of(page: Page, start: str) -> None:
    page.locator(f'.day-tab:text-is("{_day_label(page, start[:10])}")').click()


def _day_label(page: Page, date: str) -> str:
    return str(page.evaluate("date => Sidelines.dayName(date)", date))


def test_a_drag_onto_a_clash_shows_what_breaks_and_changes_nothing(grid_page: Page, site: Site) -> None:
    version = _shown_version(grid_page)
    before = site.get(f"/schedules/{version}")["placements"]
    versions_before = len(site.every("/schedules"))
    # two meetings of one day in different rooms: drop the second onto the first's room and time
    target = before[0]
    moving = next(p for p in before if p["start"][:10] == target["start"][:10] and p["room"] != target["room"])
    _show_day_of(grid_page, target["start"])
    _drag(grid_page, moving["meeting"], target["room"], target["start"])

    verdict = grid_page.locator("#move-verdict")
    expect(verdict).to_have_class(re.compile(r"\bbad\b"), timeout=WAIT_MS)
    expect(verdict).to_contain_text("Blocked")
    # The room clash is certain; whether an attendee clashes too depends on the solved grid
    # (a timed solve), and the list may then start with that.
    expect(grid_page.locator("#move-blocking li", has_text="room overlap").first).to_be_visible()
    expect(grid_page.locator(f'.meeting.conflict[data-meeting="{target["meeting"]}"]')).to_be_visible()
    expect(grid_page.locator("#move-confirm")).to_be_disabled()
    expect(grid_page.locator(".ghost.bad")).to_be_visible()
    grid_page.screenshot(path=str(SCREENSHOTS / "grid-clash.png"), clip=SHOT)

    grid_page.locator("#move-cancel").click()
    expect(grid_page.locator("#move-panel")).to_be_hidden()
    assert len(site.every("/schedules")) == versions_before
    assert site.get(f"/schedules/{version}")["placements"] == before


def _spot(
    site: Site, version: int, meeting: dict[str, Any], wanted: Callable[[dict[str, Any]], bool]
) -> tuple[str, str] | None:
    """A room and start on the meeting's own day (a drag stays on the sheet shown) whose
    check answer (asked of the server) is `wanted`; None when there is none.

    Only starts where the room is free are asked about: the rest would clash anyway.
    """
    path = f"{site.base}/schedules/{version}/moves/check"
    placements = site.get(f"/schedules/{version}")["placements"]
    length = datetime.fromisoformat(meeting["end"]) - datetime.fromisoformat(meeting["start"])
    busy = [(p["room"], datetime.fromisoformat(p["start"]), datetime.fromisoformat(p["end"])) for p in placements]
    offset = meeting["start"][19:]
    for day in [meeting["start"][:10]]:
        for hour in range(7, 20):
            for minute in (0, 30):
                start = f"{day}T{hour:02d}:{minute:02d}:00"
                begin = datetime.fromisoformat(start + offset)
                for room in (room.id for room in site.problem.rooms):
                    if start[:16] == meeting["start"][:16] or any(
                        r == room and s < begin + length and begin < e for r, s, e in busy
                    ):
                        continue
                    body = {"meeting": meeting["meeting"], "start": start, "room": room}
                    answer = site.api.post(path, json=body, headers=site.organiser())
                    if answer.status_code == 200 and wanted(answer.json()):
                        return room, start
    return None


def _movable(
    site: Site, version: int, candidates: list[dict[str, Any]], wanted: Callable[[dict[str, Any]], bool]
) -> tuple[dict[str, Any], str, str]:
    """The first candidate meeting with a `wanted` spot on its own day, and that spot."""
    for meeting in candidates:
        spot = _spot(site, version, meeting, wanted)
        if spot is not None:
            return meeting, *spot
    raise AssertionError("no candidate meeting has such a spot on its own day")


def _clean(check: dict[str, Any]) -> bool:
    return bool(check["allowed"])


def _only_warns(check: dict[str, Any]) -> bool:
    return bool(check["allowed"] and check["warnings"])


def test_a_move_that_only_worsens_the_grid_is_shown_in_amber(grid_page: Page, site: Site) -> None:
    version = _shown_version(grid_page)
    versions_before = len(site.every("/schedules"))
    # a meeting held in its preferred window: most allowed moves away from it only warn
    preferred = {m.id: m.preferred for m in site.problem.meetings if m.preferred}
    candidates = [
        p
        for p in site.get(f"/schedules/{version}")["placements"]
        if any(
            w.start.isoformat() <= p["start"][:19] and p["end"][:19] <= w.end.isoformat()
            for w in preferred.get(p["meeting"], [])
        )
    ]
    moving, room, start = _movable(site, version, candidates, _only_warns)
    _show_day_of(grid_page, start)
    _drag(grid_page, moving["meeting"], room, start)

    verdict = grid_page.locator("#move-verdict")
    expect(verdict).to_have_class(re.compile(r"\bwarn\b"), timeout=WAIT_MS)
    expect(verdict).to_contain_text("Allowed, but")
    expect(grid_page.locator("#move-blocking li")).to_have_count(0)
    expect(grid_page.locator("#move-warnings li").first).to_be_visible()
    expect(grid_page.locator(".ghost.warn")).to_be_visible()
    expect(grid_page.locator("#move-confirm")).to_be_enabled()
    grid_page.locator("#move-cancel").click()
    assert len(site.every("/schedules")) == versions_before


def test_a_valid_move_is_saved_as_a_new_version(grid_page: Page, site: Site) -> None:
    version = _shown_version(grid_page)
    placements = site.get(f"/schedules/{version}")["placements"]
    middle = len(placements) // 2
    moving, room, start = _movable(site, version, placements[middle:] + placements[:middle], _clean)
    _show_day_of(grid_page, start)
    _drag(grid_page, moving["meeting"], room, start)

    expect(grid_page.locator("#move-verdict")).to_contain_text("Allowed", timeout=WAIT_MS)
    expect(grid_page.locator("#move-blocking li")).to_have_count(0)
    grid_page.locator("#move-confirm").click()
    expect(grid_page.locator("#version-select")).not_to_have_value(str(version), timeout=WAIT_MS)

    new_version = _shown_version(grid_page)
    assert new_version > version
    # the focus goes where the meeting now stands (the panel that had it is gone)
    expect(grid_page.locator(f'.sheet.current .meeting[data-meeting="{moving["meeting"]}"]')).to_be_focused()
    moved = _placement(site, new_version, moving["meeting"])
    assert (moved["room"], moved["start"][:16]) == (room, start[:16])
    assert _placement(site, version, moving["meeting"]) == moving  # the old version is untouched
    block = grid_page.locator(f'.sheet.current .meeting[data-meeting="{moving["meeting"]}"]')
    expect(block).to_have_attribute("data-room", room)
    # the new version opens compared with the one it came from: the moved meeting stands out
    expect(grid_page.locator("#compare-select")).to_have_value(str(version))
    expect(block).to_have_class(re.compile(r"\bchanged\b"))
    expect(block.locator(".status")).to_contain_text("moved")
    assert grid_page.locator(".meeting.changed").count() == 1
    expect(grid_page.locator("#summary")).to_contain_text(f"Since version {version}: 1 moved, 0 new.")
    grid_page.screenshot(path=str(SCREENSHOTS / "grid-moved.png"), clip=SHOT)

    # undo: the version it came from again, compared with the version left (which stays stored)
    undo = grid_page.locator("#undo-button")
    expect(undo).to_have_text(f"Undo: back to version {version}")
    undo.click()
    expect(grid_page.locator("#version-select")).to_have_value(str(version), timeout=WAIT_MS)
    expect(grid_page.locator("#compare-select")).to_have_value(str(new_version))
    expect(undo).to_be_hidden()  # the solved version came from no other
    assert new_version in [v["number"] for v in site.every("/schedules")]

    # two versions chosen in quick succession, the first one's answer the slower (held back
    # here): the page ends on the version chosen last, the one still drawn (nothing to compare)
    def slowly(route: Route) -> None:
        time.sleep(0.5)
        route.continue_()

    slow_url = f"**/schedules/{new_version}"
    grid_page.route(slow_url, slowly)
    grid_page.locator("#version-select").select_option(str(new_version))
    grid_page.locator("#version-select").select_option(str(version))
    grid_page.wait_for_timeout(1500)  # the held-back answer is in
    grid_page.unroute(slow_url)
    expect(grid_page.locator("#version-select")).to_have_value(str(version))
    expect(grid_page.locator("#summary")).to_contain_text(f"Version {version} ")

    # switching back to the old version highlights the same meeting, compared with the version left
    grid_page.locator("#version-select").select_option(str(new_version))
    expect(grid_page.locator("#summary")).to_contain_text(f"Version {new_version} ", timeout=WAIT_MS)
    grid_page.locator("#version-select").select_option(str(version))
    expect(grid_page.locator("#compare-select")).to_have_value(str(new_version), timeout=WAIT_MS)
    _show_day_of(grid_page, moving["start"])
    old_block = grid_page.locator(f'.sheet.current .meeting[data-meeting="{moving["meeting"]}"]')
    expect(old_block).to_have_attribute("data-room", moving["room"])
    expect(old_block).to_have_class(re.compile(r"\bchanged\b"))

    # publishing from the page; while a version chosen is still being read (held back here), the
    # button can't publish the version still drawn
    publish = grid_page.locator("#publish-button")
    grid_page.locator("#version-select").select_option(str(new_version))
    expect(grid_page.locator("#summary")).to_contain_text(f"Version {new_version} ", timeout=WAIT_MS)
    expect(publish).to_be_enabled()  # a draft, drawn: publishable
    held: list[Route] = []
    grid_page.route(f"**/schedules/{version}", _hold_first(held))
    grid_page.locator("#version-select").select_option(str(version))
    expect(publish).to_be_disabled()
    _until_held(grid_page, held)
    expect(grid_page.locator("#summary")).to_contain_text(f"Version {new_version} ")  # still drawn
    held[0].continue_()
    grid_page.unroute(f"**/schedules/{version}")
    expect(grid_page.locator("#summary")).to_contain_text(f"Version {version} ", timeout=WAIT_MS)
    grid_page.locator("#version-select").select_option(str(new_version))
    expect(publish).to_be_enabled()
    grid_page.locator("#publish-button").click()
    expect(grid_page.locator("#publish-button")).to_have_text("Published", timeout=WAIT_MS)
    expect(grid_page.locator("#publish-button")).to_be_disabled()
    assert [v["number"] for v in site.every("/schedules") if v["published"]] == [new_version]


def test_a_move_can_be_checked_with_the_keyboard_alone(grid_page: Page, site: Site) -> None:
    version = _shown_version(grid_page)
    placements = site.get(f"/schedules/{version}")["placements"]
    moving = placements[len(placements) // 4]
    # the verdict itself is tested with drags; here any other slot of the day will do
    day = next(d for d in site.problem.forum.days if d.date.isoformat() == moving["start"][:10])
    room, start = site.problem.rooms[0].id, f"{day.date}T{day.start:%H:%M}:00"
    _show_day_of(grid_page, moving["start"])
    grid_page.locator(f'.sheet.current .meeting[data-meeting="{moving["meeting"]}"]').focus()
    grid_page.keyboard.press("Enter")
    expect(grid_page.locator("#move-form")).to_be_visible()
    expect(grid_page.locator("#move-day")).to_be_focused()
    grid_page.locator("#move-day").select_option(start[:10])
    grid_page.locator("#move-time").select_option(start[11:16])
    grid_page.locator("#move-room").select_option(room)
    grid_page.locator("#move-form button").focus()
    grid_page.keyboard.press("Enter")
    expect(grid_page.locator("#move-verdict")).to_contain_text(re.compile("Allowed|Blocked"), timeout=WAIT_MS)
    assert grid_page.evaluate("document.activeElement.id") in ("move-confirm", "move-cancel")
    grid_page.locator("#move-cancel").focus()
    grid_page.keyboard.press("Enter")
    expect(grid_page.locator("#move-panel")).to_be_hidden()
    # the focus is back on the meeting the move was for, on its own day, not lost with the panel
    block = grid_page.locator(f'.sheet.current .meeting[data-meeting="{moving["meeting"]}"]')
    expect(block).to_be_focused()
    grid_page.keyboard.press("Enter")
    expect(grid_page.locator("#move-form")).to_be_visible()
    grid_page.keyboard.press("Escape")  # closes it too
    expect(grid_page.locator("#move-panel")).to_be_hidden()
    expect(block).to_be_focused()


def _full_solve(page: Page) -> list[str]:
    """Click the full solve, confirming it when the page asks (once a version is published); what it asked."""
    asked: list[str] = []

    def confirm(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", confirm)
    try:
        with page.expect_request(lambda sent: sent.method == "POST" and sent.url.endswith("/runs")):
            page.locator("#solve-button").click()
    finally:
        page.remove_listener("dialog", confirm)
    return asked


def _solve_on_page(page: Page, seconds: int) -> int:
    """Start a full solve from the page and wait for the version it opens."""
    page.locator("#time-limit").fill(str(seconds))
    _full_solve(page)
    title = page.locator("#progress .progress-title")
    expect(title).to_contain_text("Solved: version", timeout=120_000)
    solved = int(title.inner_text().rsplit(" ", 1)[-1])
    expect(page.locator("#version-select")).to_have_value(str(solved))
    return solved


def _resolve_on_page(page: Page) -> int:
    """Start a re-solve from the page; the run's request body, and wait for the version it opens."""
    with page.expect_request(lambda sent: sent.method == "POST" and sent.url.endswith("/runs")) as sent:
        page.locator("#resolve-button").click()
    assert sent.value.post_data_json == {"resolve": {}}
    title = page.locator("#progress .progress-title")
    expect(title).to_have_text(re.compile(r"^Re-solved: version \d+$"), timeout=120_000)
    solved = int(title.inner_text().rsplit(" ", 1)[-1])
    expect(page.locator("#version-select")).to_have_value(str(solved))
    return solved


def test_a_solve_started_from_the_page_shows_progress_and_opens_its_version(grid_page: Page, site: Site) -> None:
    before = _shown_version(grid_page)
    solved = _solve_on_page(grid_page, 12)
    expect(grid_page.locator("#progress-elapsed")).to_contain_text(" s")
    run = site.get("/runs/" + str(next(v["run_id"] for v in site.every("/schedules") if v["number"] == solved)))
    # The engine reports greedy's grid at once, so every solve has at least one report.
    report = run["progress"]
    assert report is not None
    assert int(grid_page.locator("#progress").get_attribute("data-reports") or 0) >= 1  # live, through SSE
    expect(grid_page.locator("#progress-objective")).to_have_text(str(report["objective"]))
    bound = "–" if report["best_bound"] is None else str(report["best_bound"])
    expect(grid_page.locator("#progress-bound")).to_have_text(bound)
    expect(grid_page.locator("#progress-gap")).to_have_text(re.compile(r"%$" if report["gap"] is not None else "–"))
    # in words: how many meetings the grid holds and whether the engine proved it the best
    grid = site.get(f"/schedules/{solved}")
    requested = len(grid["placements"]) + len(grid["unplaced"])
    expect(grid_page.locator("#progress-placed")).to_have_text(f"{len(grid['placements'])} of {requested} requested")
    proven = "yes, proven best" if grid["status"] == "OPTIMAL" else "not proven: time ran out"
    expect(grid_page.locator("#progress-proven")).to_contain_text(proven)
    assert solved > before and _shown_version(grid_page) == solved
    expect(grid_page.locator("#compare-select")).to_have_value(str(before))
    expect(grid_page.locator("#summary")).to_contain_text(f"Since version {before}:")
    placed = len(site.get(f"/schedules/{solved}")["placements"])
    assert sum(len(ids) for ids in _blocks_by_day(grid_page).values()) == placed


def _option_label(page: Page, version: int) -> str:
    return page.locator(f'#version-select option[value="{version}"]').inner_text()


def test_a_current_version_shows_no_out_of_date_notice(grid_page: Page, site: Site) -> None:
    version = _shown_version(grid_page)
    assert site.get(f"/schedules/{version}")["out_of_date"] is None
    notice = grid_page.locator("#out-of-date")
    expect(notice).to_be_attached()  # the page has the notice, and keeps it hidden
    expect(notice).to_be_hidden()
    publish = grid_page.locator("#publish-button")
    expect(publish).not_to_have_attribute("aria-disabled", "true")
    expect(publish).to_have_text(re.compile(r"^(Publish this version|Published)$"))
    assert "out of date" not in _option_label(grid_page, version)
    expect(grid_page.locator("#print-caption")).to_have_text(re.compile(rf"version {version}\b"))
    expect(grid_page.locator("#print-caption")).not_to_contain_text("out of date")


def _accepted(site: Site, requester: str, invited: str, title: str) -> str:
    """A request between two delegations, accepted by the invited one (an edit of what a solve
    sees); its id, which its meeting has."""
    request_id = _ask(site, requester, [requester, invited], title)
    token = {"Authorization": f"Bearer {site.forum.delegation_tokens[invited]}"}
    answer = site.api.post(f"{site.base}/requests/{request_id}/accept", json={"attendees": []}, headers=token)
    assert answer.status_code == 200 and answer.json()["status"] == "accepted", answer.text
    return request_id


def _published(site: Site) -> list[int]:
    return [v["number"] for v in site.every("/schedules") if v["published"]]


def _room(site: Site, room_id: str, name: str) -> None:
    body = {"id": room_id, "name": name, "seats": 6}
    added = site.api.post(f"{site.base}/rooms", json=body, headers=site.organiser())
    assert added.status_code == 201, added.text


def _draft_advice(them: str) -> str:
    """A draft's advice once a version is published (the site's forum always has one)."""
    return f"This version can't be published. Re-solve from the published grid to make a version that includes {them}."


def test_publishing_a_version_gone_out_of_date_since_the_last_check_says_why(still_page: Page, site: Site) -> None:
    """A colleague's edits land between two checks: the click is refused (409), and the page
    says so, shows the notice naming the edits in plain words and takes the focus there."""
    page = still_page
    notice = page.locator("#out-of-date")
    publish = page.locator("#publish-button")
    version = _solve_on_page(page, 2)  # a version not yet published, whichever test ran before
    assert site.get(f"/schedules/{version}")["out_of_date"] is None
    expect(notice).to_be_hidden()
    expect(publish).to_have_text("Publish this version")
    published = _published(site)

    # Two delegations the example gives no meeting: the re-solve below must be able to place it,
    # which the host's saturated principal (Singapore's, 25 meetings) left to chance.
    meeting = _accepted(site, "PL", "BR", "Maritime security talks")
    _room(site, "annex", "Annex Room")
    assert site.get(f"/schedules/{version}")["out_of_date"]["edits"] == 2
    expect(notice).to_be_hidden()  # no check since: the page does not know yet
    publish.click()
    expect(page.locator("#message")).to_have_text(f"Not published: version {version} is out of date.")
    said = "2 setup edits since this version was built"
    edits = "a request accepted (Maritime security talks), a room added (Annex Room)."
    for text in ("Out of date:", said, edits, _draft_advice("them")):
        expect(notice).to_contain_text(text)
    expect(notice).to_be_focused()
    expect(publish).to_have_text("Can't publish: out of date")
    assert _published(site) == published

    # opened afresh, the page says so at once: the notice, the button and the version list
    page.reload()
    page.locator(".sheet.current .meeting").first.wait_for(timeout=WAIT_MS)
    page.locator("#version-select").select_option(str(version))
    expect(notice).to_contain_text(said, timeout=WAIT_MS)
    expect(notice).to_contain_text(edits)
    assert "out of date" in _option_label(page, version)
    expect(publish).to_have_text("Can't publish: out of date")
    expect(publish).to_have_attribute("aria-disabled", "true")
    expect(publish).to_have_attribute("aria-describedby", "out-of-date")
    # still reached with the keyboard: pressing it leads to the reason, and publishes nothing
    publish.focus()
    page.keyboard.press("Enter")
    expect(notice).to_be_focused()
    assert _published(site) == published
    contrast = _contrast(page)
    assert contrast["failures"] == [], contrast["failures"]

    # on paper, the caption says it in a line and the notice stays off the A3 day pages
    page.emulate_media(media="print")
    expect(notice).to_be_hidden()
    expect(page.locator("#print-caption")).to_contain_text(f"version {version} · out of date: 2 setup edits")
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == len(site.problem.forum.days)
    page.emulate_media(media="screen")

    # a re-solve, as the notice says, includes the edits: its version is current and places the
    # accepted meeting, which the page knows by name; the older version keeps its notice
    solved = _resolve_on_page(page)
    assert site.get(f"/schedules/{solved}")["out_of_date"] is None
    expect(notice).to_be_hidden()
    expect(publish).to_have_text("Publish this version")
    expect(publish).not_to_have_attribute("aria-disabled", "true")
    placed = _placement(site, solved, meeting)
    _show_day_of(page, placed["start"])
    block = page.locator(f'.sheet.current .meeting[data-meeting="{meeting}"]')
    expect(block).to_have_attribute("aria-label", re.compile(r"Maritime security talks.*accepted"))
    page.locator("#version-select").select_option(str(version))
    expect(notice).to_contain_text(said, timeout=WAIT_MS)
    expect(publish).to_have_text("Can't publish: out of date")


def test_a_page_left_open_learns_that_its_version_went_out_of_date(still_page: Page, site: Site) -> None:
    """A colleague accepts a request and adds a room while the page stays open: at its next check
    (or when its window takes the focus again) the notice appears, without a reload, naming them;
    the grid drawn and the move being checked are left as they were."""
    page = still_page
    notice = page.locator("#out-of-date")
    publish = page.locator("#publish-button")
    version = _solve_on_page(page, 2)
    expect(notice).to_be_hidden()
    page.evaluate("window.sameDocument = true")  # gone if the page were loaded again
    page.locator(".sheet.current .meeting").first.focus()
    page.keyboard.press("Enter")  # a move being checked, by keyboard
    expect(page.locator("#move-form")).to_be_visible()
    drawn = page.locator(".sheet.current .meeting").count()

    _accepted(site, "MY", "PH", "Coast guard cooperation")
    page.clock.fast_forward(CHECK)
    expect(notice).to_be_visible(timeout=WAIT_MS)
    expect(notice).to_contain_text("1 setup edit since this version was built")
    expect(notice).to_contain_text("a request accepted (Coast guard cooperation).")
    expect(notice).to_contain_text(_draft_advice("it"))
    expect(publish).to_have_text("Can't publish: out of date")
    expect(publish).to_have_attribute("aria-disabled", "true")
    expect(page.locator(f'#version-select option[value="{version}"]')).to_contain_text("out of date")
    expect(page.locator("#version-select")).to_have_value(str(version))
    # announced where it stands (a live region present before it appeared), and not taken focus
    assert page.locator("#out-of-date-live").get_attribute("role") == "status"
    expect(page.locator("#out-of-date-live #out-of-date")).to_be_visible()
    expect(page.locator("#move-form")).to_be_visible()
    assert page.locator(".sheet.current .meeting").count() == drawn
    page.locator("#move-cancel").click()

    _room(site, "loft", "Loft Room")  # a room the page has never read: named all the same
    page.evaluate("window.dispatchEvent(new Event('focus'))")  # back from another window
    expect(notice).to_contain_text("2 setup edits since this version was built", timeout=WAIT_MS)
    expect(notice).to_contain_text("a request accepted (Coast guard cooperation), a room added (Loft Room).")
    assert page.evaluate("window.sameDocument") is True
    publish.focus()
    page.keyboard.press("Enter")  # refused on the page: nothing sent, the focus goes to the reason
    expect(notice).to_be_focused()
    expect(page.locator("#message")).to_be_hidden()


def test_the_notice_says_what_the_staleness_means_for_each_kind_of_version(still_page: Page, site: Site) -> None:
    """A draft can't be published; the published version is what delegations still see; a
    version published earlier can't go back to them. Each notice is reached with Tab."""
    page = still_page
    notice = page.locator("#out-of-date")
    title = page.locator("#out-of-date-title")
    advice = page.locator("#out-of-date-advice")
    first = _solve_on_page(page, 2)
    page.locator("#publish-button").click()  # the organiser publishes it from the page
    expect(page.locator("#publish-button")).to_have_text("Published", timeout=WAIT_MS)
    _room(site, "terrace", "Terrace Room")
    page.clock.fast_forward(CHECK)
    expect(title).to_have_text("Published, but out of date:", timeout=WAIT_MS)
    expect(advice).to_have_text(
        "Delegations' agendas and calendars still show this version, without it. To bring them up to date,"
        " re-solve from the published grid and publish the version it makes (only what the edits force moves,"
        " and each delegation is told what changed for it)."
    )
    expect(page.locator("#publish-button")).to_be_disabled()
    notice.screenshot(path=str(SCREENSHOTS / "grid-out-of-date.png"))
    # the publish button is disabled: the notice is in the tab order, next after the solve's controls
    # (the last of them the solve's folded "Solver figures")
    page.locator("#progress summary").focus()
    page.keyboard.press("Tab")
    expect(notice).to_be_focused()

    # a colleague solves and publishes the edit in: the page shown the old one learns both
    second = _solve_on_page(page, 2)
    page.locator("#version-select").select_option(str(first))
    expect(title).to_have_text("Published, but out of date:", timeout=WAIT_MS)
    published = site.api.post(f"{site.base}/schedules/{second}/publish", headers=site.organiser())
    assert published.status_code == 200, published.text
    page.clock.fast_forward(CHECK)
    expect(title).to_have_text("Out of date:", timeout=WAIT_MS)
    expect(advice).to_have_text(
        f"This version was published until version {second} replaced it; it can't be published again, as"
        " delegations would get back a grid without it. Re-solve from the published grid to make a version that"
        " includes it."
    )
    expect(page.locator("#publish-button")).to_have_text("Can't publish: out of date")

    _solve_on_page(page, 2)  # a draft, current until the next edit
    expect(notice).to_be_hidden()
    _accepted(site, "ID", "TH", "Counter-terrorism exchange")
    page.clock.fast_forward(CHECK)
    expect(title).to_have_text("Out of date:", timeout=WAIT_MS)
    expect(advice).to_have_text(_draft_advice("it"))


def test_a_version_read_before_a_colleagues_publication_is_read_again(still_page: Page, site: Site) -> None:
    """The version chosen is read while a colleague publishes another, and its answer comes
    back only after the page has caught up with that publication: the page reads it again
    rather than show it as still published."""
    page = still_page
    first = _solve_on_page(page, 2)
    page.locator("#publish-button").click()
    expect(page.locator("#publish-button")).to_have_text("Published", timeout=WAIT_MS)
    second = _solve_on_page(page, 2)  # a draft beside the published first
    held: list[tuple[Route, Any]] = []
    page.route(f"**/schedules/{first}", lambda route: held.append((route, route.fetch())))
    page.locator("#version-select").select_option(str(first))
    deadline = time.monotonic() + WAIT_MS / 1000
    while not held:  # the read of the first version, answered as it stood (published) and held
        assert time.monotonic() < deadline
        page.wait_for_timeout(50)
    published = site.api.post(f"{site.base}/schedules/{second}/publish", headers=site.organiser())
    assert published.status_code == 200, published.text
    page.clock.fast_forward(CHECK)  # the page catches up, the first version's read still out
    expect(page.locator(f'#version-select option[value="{second}"]')).to_contain_text("published", timeout=WAIT_MS)
    route, answer = held[0]
    route.fulfill(response=answer)
    page.unroute(f"**/schedules/{first}")  # a read made from here on goes through
    summary = page.locator("#summary")
    expect(summary).to_have_text(re.compile(rf"^Version {first} \("), timeout=WAIT_MS)
    expect(summary).not_to_contain_text("published")
    assert site.get(f"/schedules/{first}")["published"] is False


def test_a_colleagues_work_caught_up_while_a_version_is_read_leaves_publish_disabled(
    still_page: Page, site: Site
) -> None:
    """A version is chosen and its read held back; meanwhile a colleague's solve adds a version and
    the page's check catches up, drawing again what it says of the version still drawn (a draft):
    the button still can't publish it, since the select names another."""
    page = still_page
    publish = page.locator("#publish-button")
    drawn = _solve_on_page(page, 2)  # a draft, current: publishable once drawn
    expect(publish).to_be_enabled()
    chosen = min(v["number"] for v in site.every("/schedules"))
    held: list[Route] = []
    page.route(f"**/schedules/{chosen}", _hold_first(held))
    page.locator("#version-select").select_option(str(chosen))
    expect(publish).to_be_disabled()
    _until_held(page, held)
    colleagues = _solve(site, 1)
    page.clock.fast_forward(CHECK)  # the page catches up: the colleague's version is listed...
    expect(page.locator(f'#version-select option[value="{colleagues}"]')).to_be_attached(timeout=WAIT_MS)
    # ...and the drawn version's summary written again (in the same task as the list filled)
    expect(page.locator("#summary")).to_contain_text(f"Version {drawn} ")
    expect(publish).to_be_disabled()
    held[0].continue_()
    page.unroute(f"**/schedules/{chosen}")
    expect(page.locator("#summary")).to_contain_text(f"Version {chosen} ", timeout=WAIT_MS)
    expect(page.locator("#version-select")).to_have_value(str(chosen))


def _hold_first(held: list[Route]) -> Callable[[Route], None]:
    """A route handler that holds back the first read (kept in `held`) and lets any later one through:
    a show that finds a check caught up meanwhile reads its version again, perhaps before unroute."""

    def handle(route: Route) -> None:
        if held:
            route.continue_()
        else:
            held.append(route)

    return handle


def _until_held(page: Page, held: list[Route]) -> None:
    """Until the page's read is held back by the route: its handler runs only as Playwright
    dispatches the route's event, which may come after a check of the page that already passed."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while not held:
        assert time.monotonic() < deadline, "the read was never sent"
        page.wait_for_timeout(50)
    assert len(held) == 1


def test_after_publication_the_re_solve_comes_first_and_marks_only_what_the_change_forced(
    browser: Browser, site: Site
) -> None:
    """Once a version is published, the page's first action is the re-solve (it sends `resolve`):
    its version opens compared with the published one, and the meetings marked as moved are those
    the recorded change broke, nothing else. The full solve stays, says it may move any meeting and
    asks before it starts: dismissed, nothing is sent."""
    fresh = _another_forum(site, "shangri-la")
    published = _solve(fresh, 2)
    answer = fresh.api.post(f"{fresh.base}/schedules/{published}/publish", headers=fresh.organiser())
    assert answer.status_code == 200, answer.text
    placements = fresh.get(f"/schedules/{published}")["placements"]
    lost = placements[len(placements) // 2]  # its room is lost for the meeting's time
    window = {"start": lost["start"], "end": lost["end"]}
    body = {"kind": "room_unavailable", "room": lost["room"], "window": window}
    recorded = fresh.api.post(f"{fresh.base}/changes", json=body, headers=fresh.organiser())
    assert recorded.status_code == 201, recorded.text
    forced = set(recorded.json()["breaks"])
    assert lost["meeting"] in forced

    page = browser.new_page(viewport=DESK)
    errors = _watch(page)
    page.goto(f"{site.server.url}/grid#token={fresh.forum.organiser_token}")
    page.locator(".sheet.current .meeting").first.wait_for(timeout=WAIT_MS)
    resolve, full = page.locator("#resolve-button"), page.locator("#solve-button")
    expect(resolve).to_have_text("Re-solve from the published grid")
    expect(page.locator("#resolve-hint")).to_have_text("moves only what changes force")
    expect(resolve).not_to_have_class(re.compile(r"\bsecondary\b"))
    expect(full).to_have_text("Full solve (may move any meeting)")
    expect(full).to_have_class(re.compile(r"\bsecondary\b"))
    first = "([a, b]) => Boolean(a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING)"
    assert page.evaluate(first, [resolve.element_handle(), full.element_handle()]) is True

    solved = _resolve_on_page(page)
    expect(page.locator("#compare-select")).to_have_value(str(published))
    diff = fresh.get(f"/schedules/{published}/diff/{solved}")
    moved = {move["meeting"] for move in diff["moved"]}
    added = {entry["meeting"] for entry in diff["added"]}
    assert moved and moved <= forced, (moved, forced)
    marked = page.locator(".sheet .meeting.changed").evaluate_all("nodes => nodes.map(n => n.dataset.meeting)")
    assert set(marked) == moved | added and len(marked) < len(placements) // 10
    since = f"Since version {published}: {len(moved)} moved, {len(added)} new."
    expect(page.locator("#summary")).to_contain_text(since)

    # the full solve asks first, naming what it may do; dismissed, it starts nothing
    asked: list[str] = []
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url) if request.method == "POST" else None)

    def dismiss(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    full.click()
    page.wait_for_timeout(500)
    assert len(asked) == 1 and "may move any meeting" in asked[0], asked
    assert sent == []
    expect(page.locator("#progress .progress-title")).to_have_text(f"Re-solved: version {solved}")
    page.locator("#time-limit").fill("2")
    with page.expect_request(lambda request: request.method == "POST" and request.url.endswith("/runs")) as full_run:
        assert len(_full_solve(page)) == 1
    assert full_run.value.post_data_json == {"time_limit": 2}
    expect(page.locator("#progress .progress-title")).to_contain_text("Solved: version", timeout=120_000)
    assert errors == [], errors
    page.close()


# ---------------------------------------------------------------- recording a change from the page


def _published_forum(site: Site) -> Site:
    """A fresh Shangri-La forum, solved for 2 s and published: its changes touch no other test."""
    fresh = _another_forum(site, "shangri-la")
    version = _solve(fresh, 2)
    answer = fresh.api.post(f"{fresh.base}/schedules/{version}/publish", headers=fresh.organiser())
    assert answer.status_code == 200, answer.text
    return fresh


def _changes(site: Site) -> list[dict[str, Any]]:
    return [record["change"] for record in site.every("/changes")]


def _record_on_page(page: Page) -> dict[str, Any]:
    """Send the change form; the body it posted, once the page says what was recorded."""
    with page.expect_response(lambda sent: sent.request.method == "POST" and sent.url.endswith("/changes")) as got:
        page.locator("#change-send").click()
    assert got.value.status == 201, got.value.text()
    expect(page.locator("#change-said")).to_contain_text(f"Recorded as change {got.value.json()['number']}:")
    body = got.value.request.post_data_json
    assert isinstance(body, dict), body
    return body


def _kind(page: Page, label: str) -> None:
    page.locator("#change-kind").get_by_label(label).check()


def test_each_kind_of_change_is_recorded_from_the_grid_page(browser: Browser, site: Site) -> None:
    """A room lost for a while, a later arrival, an earlier departure and a meeting cancelled (from
    its block) are each posted from the form and held by the server (GET .../changes) as filled in.
    A send that got no answer is sent again with the same Idempotency-Key (recorded once); a change
    filled in differently gets a new key."""
    fresh = _published_forum(site)
    page, errors = _open_grid(browser, fresh)
    placements = fresh.get(f"/schedules/{_shown_version(page)}")["placements"]
    lost = placements[len(placements) // 2]
    room = next(r for r in fresh.problem.rooms if r.id == lost["room"])

    # a room: the first send's answer is lost on the way back, the second (same key) is answered once
    _kind(page, "A room is unavailable")
    page.locator("#change-room").select_option(label=room.name)
    page.locator("#change-from").fill(lost["start"][:16])
    page.locator("#change-to").fill(lost["end"][:16])
    keys: list[str] = []
    page.on("request", lambda r: keys.append(r.headers["idempotency-key"]) if r.url.endswith("/changes") else None)

    def lose_answer(route: Route) -> None:
        route.fetch()  # the server records it; the page never hears back
        route.abort()

    page.route("**/changes", lose_answer, times=1)
    page.locator("#change-send").click()
    expect(page.locator("#change-said")).to_contain_text("Not recorded")
    sent = _record_on_page(page)
    assert len(keys) == 2 and keys[0] == keys[1], keys
    window = {"start": lost["start"][:19], "end": lost["end"][:19]}
    assert sent == {"kind": "room_unavailable", "room": room.id, "window": window}
    held = _changes(fresh)
    assert len(held) == 1 and held[0]["room"] == room.id, held
    assert [held[0]["window"][end][:16] for end in ("start", "end")] == [lost["start"][:16], lost["end"][:16]]
    broke = f"In the published version {_shown_version(page)}, it breaks 1"
    expect(page.locator("#change-said")).to_contain_text(broke)
    expect(page.locator("#change-resolve")).to_be_visible()

    # a later arrival and an earlier departure: delegation, then participant
    delegation = fresh.problem.delegations[1]
    person = delegation.participants[0]
    arrival = f"{fresh.problem.forum.days[1].date}T10:00"
    _kind(page, "Someone arrives later")
    expect(page.locator("#change-participant")).to_be_disabled()
    page.locator("#change-delegation").select_option(delegation.id)
    page.locator("#change-participant").select_option(label=person.name)
    expect(page.locator("label[for=change-time]")).to_have_text("Now arrives")
    page.locator("#change-time").fill(arrival)
    _record_on_page(page)
    departure = f"{fresh.problem.forum.days[1].date}T17:00"
    _kind(page, "Someone leaves earlier")
    expect(page.locator("label[for=change-time]")).to_have_text("Now leaves")
    page.locator("#change-time").fill(departure)
    _record_on_page(page)
    held = _changes(fresh)
    who = f"{delegation.id}/{person.id}"
    assert held[1]["kind"] == "arrival_changed" and held[1]["participant"] == who, held
    assert held[1]["arrival"][:16] == arrival
    assert held[2]["kind"] == "departure_changed" and held[2]["participant"] == who, held
    assert held[2]["departure"][:16] == departure
    assert len(set(keys)) == 3, keys  # each new change its own key

    # a meeting cancelled, from its block's panel
    cancelled = placements[len(placements) // 3]
    _show_day_of(page, cancelled["start"])
    page.locator(f'.sheet.current .meeting[data-meeting="{cancelled["meeting"]}"]').focus()
    page.keyboard.press("Enter")
    page.locator("#move-cancelled").click()
    expect(page.locator("#change-meeting")).to_be_focused()
    expect(page.locator("#change-meeting")).to_have_value(cancelled["meeting"])
    _record_on_page(page)
    held = _changes(fresh)
    assert held[3] == {"kind": "meeting_cancelled", "meeting": cancelled["meeting"]}, held
    expect(page.locator("#change-said")).to_contain_text("it removes 1 published meeting")
    page.locator("#change-said").evaluate("node => { node.textContent = ''; }")
    _record_on_page(page)  # sent again unchanged: the same key, the same answer, nothing more recorded
    expect(page.locator("#change-said")).to_contain_text("Recorded as change 4:")
    assert len(_changes(fresh)) == 4 and keys[-1] == keys[-2], keys
    assert errors == [], errors
    page.close()


def test_a_change_the_server_refuses_is_said_beside_its_field(browser: Browser, site: Site) -> None:
    """An arrival outside the forum's days: the server's refusal (`errors[].field` "arrival") is
    said beside the time, which is marked invalid and takes the focus; nothing is recorded. Fields
    left empty are said beside themselves before anything is sent."""
    fresh = _published_forum(site)
    page, errors = _open_grid(browser, fresh)
    _kind(page, "Someone arrives later")
    page.locator("#change-send").click()
    expect(page.locator("#change-delegation-error")).to_have_text("choose the delegation")
    expect(page.locator("#change-delegation")).to_have_attribute("aria-invalid", "true")
    delegation = fresh.problem.delegations[0]
    page.locator("#change-delegation").select_option(delegation.id)
    expect(page.locator("#change-delegation")).not_to_have_attribute("aria-invalid", "true")
    page.locator("#change-participant").select_option(f"{delegation.id}/{delegation.participants[0].id}")
    page.locator("#change-time").fill("2030-01-01T10:00")
    with page.expect_response(lambda answer: answer.url.endswith("/changes")) as refused:
        page.locator("#change-send").click()
    assert refused.value.status == 422
    said = page.locator("#change-time-error")
    expect(said).to_contain_text("arrival: outside the forum")
    expect(page.locator("#change-time")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#change-time")).to_be_focused()
    assert "change-time-error" in (page.locator("#change-time").get_attribute("aria-describedby") or "")
    expect(page.locator("#change-said")).to_contain_text("Not recorded")
    expect(page.locator("#change-resolve")).to_be_hidden()
    assert _changes(fresh) == []
    page.locator("#change-section").screenshot(path=str(SCREENSHOTS / "grid-change-refused.png"))
    found = _axe(page, "change form refused")
    assert found == [], "\n".join(found)
    assert errors == [], errors
    page.close()


def test_the_re_solve_after_a_room_lost_on_the_page_moves_its_meetings_out(browser: Browser, site: Site) -> None:
    """A room lost for a whole day, recorded from the form; the re-solve it offers makes a version
    with nothing in that room that day, and says in words how many meetings it placed."""
    fresh = _published_forum(site)
    page, errors = _open_grid(browser, fresh)
    published = _shown_version(page)
    placements = fresh.get(f"/schedules/{published}")["placements"]
    day = fresh.problem.forum.days[1]
    busiest = max(
        {p["room"] for p in placements},
        key=lambda room: sum(p["room"] == room and p["start"].startswith(str(day.date)) for p in placements),
    )
    inside = [p["meeting"] for p in placements if p["room"] == busiest and p["start"].startswith(str(day.date))]
    assert inside
    page.locator("#change-room").select_option(busiest)
    page.locator("#change-from").fill(f"{day.date}T{day.start.strftime('%H:%M')}")
    page.locator("#change-to").fill(f"{day.date}T{day.end.strftime('%H:%M')}")
    _record_on_page(page)
    expect(page.locator("#change-said")).to_contain_text(f"it breaks {len(inside)} published meeting")
    expect(page.locator("#change-said")).to_contain_text("re-solve from the published grid")

    with page.expect_request(lambda sent: sent.method == "POST" and sent.url.endswith("/runs")) as run:
        page.locator("#change-resolve").click()
    assert run.value.post_data_json == {"resolve": {}}
    title = page.locator("#progress .progress-title")
    expect(title).to_have_text(re.compile(r"^Re-solved: version \d+$"), timeout=120_000)
    solved = int(title.inner_text().rsplit(" ", 1)[-1])
    grid = fresh.get(f"/schedules/{solved}")
    still = [p["meeting"] for p in grid["placements"] if p["room"] == busiest and p["start"].startswith(str(day.date))]
    assert still == [], still
    moved = {move["meeting"] for move in fresh.get(f"/schedules/{published}/diff/{solved}")["moved"]}
    assert set(inside) <= moved | {u["meeting"] for u in grid["unplaced"]}
    requested = len(grid["placements"]) + len(grid["unplaced"])
    expect(page.locator("#progress-placed")).to_have_text(f"{len(grid['placements'])} of {requested} requested")
    expect(page.locator("#progress-proven")).not_to_have_text("–")
    assert errors == [], errors
    page.close()


def test_stopping_a_long_solve_opens_the_grid_it_kept(browser: Browser, unga: Site) -> None:
    """A 60 s solve of the UNGA week stopped from the page ends within seconds, and the best grid
    it had found opens as a version, as a finished solve's does."""
    page, errors = _open_grid(browser, unga)
    stop = page.locator("#stop-button")
    expect(stop).to_be_hidden()
    page.locator("#time-limit").fill("60")
    page.locator("#solve-button").click()
    expect(page.locator("#progress-objective")).not_to_have_text("–", timeout=WAIT_MS)  # it has a grid
    expect(stop).to_be_visible()
    started = time.monotonic()
    stop.click()
    title = page.locator("#progress .progress-title")
    expect(title).to_have_text(re.compile(r"^Stopped: version \d+ kept$"), timeout=WAIT_MS)
    assert time.monotonic() - started < 30
    kept = int(re.findall(r"\d+", title.inner_text())[0])
    expect(page.locator("#version-select")).to_have_value(str(kept))
    expect(page.locator("#summary")).to_contain_text(f"Version {kept} (")
    expect(stop).to_be_hidden()
    expect(page.locator("#solve-button")).to_be_enabled()
    run_id = next(v["run_id"] for v in unga.every("/schedules") if v["number"] == kept)
    run = unga.get(f"/runs/{run_id}")
    assert run["status"] == "cancelled" and run["version"] == kept and run["options"]["time_limit"] == 60
    placed = len(unga.get(f"/schedules/{kept}")["placements"])
    assert sum(len(ids) for ids in _blocks_by_day(page).values()) == placed > 0
    assert errors == [], errors
    page.close()


def test_a_page_that_loses_the_server_says_so_quietly_and_clears_it_on_recovery(still_page: Page) -> None:
    """The check for a colleague's work cannot reach the server: a quiet note says since when, once;
    the next check that gets an answer clears it."""
    page = still_page
    note = page.locator("#connection")
    assert note.get_attribute("role") == "status"
    expect(note).to_have_text("")
    page.route("**/*", lambda route: route.abort())
    page.clock.fast_forward(CHECK)
    expect(note).to_have_text(re.compile(r"^Offline since \d{2}:\d{2}, retrying\.$"), timeout=WAIT_MS)
    said = note.inner_text()
    page.clock.fast_forward(CHECK)  # still down: the note stays as it was (said once)
    page.wait_for_timeout(300)
    expect(note).to_have_text(said)
    expect(page.locator("#message")).to_be_hidden()
    page.unroute("**/*")
    page.clock.fast_forward(CHECK)
    expect(note).to_have_text("", timeout=WAIT_MS)
    expect(page.locator(".sheet.current .meeting").first).to_be_visible()


# ---------------------------------------------------------------- the delegation's agenda


def test_the_agenda_shows_only_the_delegations_own_meetings(browser: Browser, site: Site) -> None:
    delegation = "AU"
    page = browser.new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    errors = _watch(page)
    token = site.forum.delegation_tokens[delegation]
    page.goto(f"{site.server.url}/agenda#token={token}")
    page.locator(".meeting-card").first.wait_for(timeout=WAIT_MS)
    assert "token" not in page.url  # the fragment is dropped from the address bar

    published = next(v["number"] for v in site.every("/schedules") if v["published"])
    grid = site.get(f"/schedules/{published}")
    own = {p["meeting"] for p in grid["placements"] if any(a.startswith(f"{delegation}/") for a in p["attendees"])}
    shown = page.locator(".meeting-card").evaluate_all("nodes => nodes.map(n => n.dataset.meeting)")
    assert sorted(shown) == sorted(own) and 0 < len(own) < len(grid["placements"])
    met = {d for m in site.problem.meetings if m.id in own for d in m.delegations}
    others = {d.name for d in site.problem.delegations if d.id not in met}
    text = page.locator("#days").inner_text()
    assert not [name for name in others if name in text]  # no delegation it does not meet appears
    expect(page.locator(".meeting-card").first.locator(".where")).to_contain_text("Room")
    expect(page.locator("#calendar-link")).to_have_attribute("href", re.compile(r"/calendar/"))

    # its inbox: NZ's request, answered with the keyboard
    card = page.locator(".request-card", has_text="Defence industry dialogue")
    expect(card).to_be_visible()
    card.locator("button.accept").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#inbox-status")).to_contain_text("Accepted", timeout=WAIT_MS)
    expect(card).to_have_count(0)
    page.screenshot(path=str(SCREENSHOTS / "agenda.png"), full_page=True, clip={"x": 0, "y": 0, **PHONE_SHOT})
    request_id = next(r["id"] for r in site.every("/requests") if r["title"] == "Defence industry dialogue")
    assert site.get(f"/requests/{request_id}")["status"] == "accepted"
    assert errors == [], errors
    page.close()


AGENDA_POLL = "00:21"  # past an agenda page's next read of its agenda (agenda.js POLL_MS)
# Before the page's own scripts: counts its reads of the agenda, and the most of them in flight at once.
# Its reads of its requests and of its participants are counted alike (inboxReads, peopleReads).
COUNT_READS = """
(() => {
  const fetch = window.fetch;
  window.agendaReads = { now: 0, most: 0, all: 0 };
  window.inboxReads = { now: 0, most: 0, all: 0 };
  window.peopleReads = { now: 0, most: 0, all: 0 };
  const counter = (url) =>
    url.includes("/agenda/detailed") ? agendaReads
      : url.endsWith("/inbox") ? inboxReads
      : url.endsWith("/participants") ? peopleReads
      : null;
  window.fetch = async (...args) => {
    const counted = counter(String(args[0]));
    if (counted) {
      counted.now += 1;
      counted.all += 1;
      counted.most = Math.max(counted.most, counted.now);
    }
    try {
      return await fetch(...args);
    } finally {
      if (counted) counted.now -= 1;
    }
  };
})();
"""


def _reads(page: Page, of: str = "agendaReads") -> dict[str, int]:
    return dict(page.evaluate(f"({{...{of}}})"))


def _after_reads(page: Page, count: int, of: str = "agendaReads") -> None:
    """Until the page has sent `count` reads of its agenda (or `of`) and no read of any kind is in flight
    (a check reads its agenda, requests and participants at once; a clock moved past a read in flight
    gives it up). Asked from here: the page's Content-Security-Policy refuses the script
    wait_for_function would poll with."""
    deadline = time.monotonic() + WAIT_MS / 1000
    idle = "agendaReads.now === 0 && inboxReads.now === 0 && peopleReads.now === 0"
    while not page.evaluate(f"count => {of}.all >= count && {idle}", count):
        assert time.monotonic() < deadline, _reads(page, of)
        time.sleep(0.05)


def test_an_open_agenda_shows_a_publication_without_a_reload(browser: Browser, site: Site) -> None:
    """The organiser moves one of Singapore's meetings and publishes it while its agenda stays open:
    at the page's next read (304 until then) the card moves, a live region says what changed, the
    focus stays where it was. With the network down the page says so quietly, and recovers; the
    reads asked for by the timer, a focus, a shown tab and the network's return never overlap."""
    delegation = "SG"
    page = browser.new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    errors = _watch(page)
    page.add_init_script(COUNT_READS)
    page.clock.install()
    page.goto(f"{site.server.url}/agenda#token={site.forum.delegation_tokens[delegation]}")
    page.locator(".meeting-card").first.wait_for(timeout=WAIT_MS)
    _stop_clock(page)
    page.evaluate("window.sameDocument = true")  # gone if the page were loaded again
    [published] = _published(site)
    publication = site.every("/publications")[-1]["number"]  # versions count drafts: the page names this
    expect(page.locator("#subtitle")).to_contain_text(f"(publication {publication})")
    updates, connection = page.locator("#updates"), page.locator("#connection")
    assert updates.get_attribute("role") == connection.get_attribute("role") == "status"

    page.clock.fast_forward(AGENDA_POLL)  # nothing published since: answered 304, nothing said
    _after_reads(page, 2)
    expect(updates).to_be_empty()

    placements = site.get(f"/schedules/{published}")["placements"]
    mine = [p for p in placements if any(a.startswith(f"{delegation}/") for a in p["attendees"])]
    moving, room, start = _movable(site, published, mine, _clean)
    body = {"meeting": moving["meeting"], "start": start, "room": room}
    stored = site.api.post(f"{site.base}/schedules/{published}/moves", json=body, headers=site.organiser())
    assert stored.status_code == 201, stored.text
    version = stored.json()["version"]
    answer = site.api.post(f"{site.base}/schedules/{version}/publish", headers=site.organiser())
    assert answer.status_code == 200, answer.text
    # the reader has chosen one of its people, who attends the meeting, and has the focus there
    person = next(a.split("/", 1)[1] for a in moving["attendees"] if a.startswith(f"{delegation}/"))
    page.locator("#person-filter").select_option(person)
    page.locator("#person-filter").focus()

    page.clock.fast_forward(AGENDA_POLL)
    parties = sorted({a.split("/", 1)[0] for a in moving["attendees"]} - {delegation})
    names = ", ".join(d.name for d in sorted(site.problem.delegations, key=lambda d: d.id) if d.id in parties)
    room_name = next(r.name for r in site.problem.rooms if r.id == room)
    said = rf"^Updated \d\d:\d\d: meeting with {re.escape(names)} moved to {start[11:16]}, {re.escape(room_name)}"
    expect(updates).to_have_text(re.compile(said + r"( \(.+\))?\.$"), timeout=WAIT_MS)
    card = page.locator(f'.meeting-card[data-meeting="{moving["meeting"]}"]')
    expect(card.locator(".when time")).to_have_attribute("datetime", re.compile(f"^{start[:16]}"))
    expect(card.locator(".where")).to_contain_text(room_name)
    expect(card.locator(".mark")).to_have_text(re.compile(r"^Moved at \d\d:\d\d$"))
    expect(page.locator(".meeting-card .mark")).to_have_count(1)
    expect(page.locator("#subtitle")).to_contain_text(f"(publication {publication + 1})")
    expect(page.locator("#person-filter")).to_be_focused()
    expect(page.locator("#person-filter")).to_have_value(person)  # and the meetings shown are still theirs
    assert page.evaluate("window.sameDocument") is True
    contrast = _contrast(page)
    assert contrast["failures"] == [], contrast["failures"]
    page.screenshot(path=str(SCREENSHOTS / "agenda-updated.png"), clip={"x": 0, "y": 0, **PHONE_SHOT})

    # the network down: said once, quietly, with the last time the page was current; then back
    page.route("**/agenda/detailed", lambda route: route.abort())
    page.clock.fast_forward(AGENDA_POLL)
    expect(connection).to_have_text(re.compile(r"^Offline, last updated \d\d:\d\d\. Trying again\.$"), timeout=WAIT_MS)
    expect(updates).to_contain_text("moved to")  # what changed is still said, the card still marked
    expect(card.locator(".mark")).to_be_visible()
    page.unroute("**/agenda/detailed")
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(connection).to_have_text(re.compile(r"^Back online, up to date at \d\d:\d\d\.$"), timeout=WAIT_MS)
    _after_reads(page, _reads(page)["all"])

    # a focus, a shown tab and the network's return at once: one read at a time, and one more after
    # it (asked for meanwhile); then the timer's (moved on once they are in: a jump past a read
    # still in flight gives that read up, as a device waking from sleep would)
    sent = _reads(page)["all"]
    page.evaluate(
        "for (const name of ['focus', 'online']) window.dispatchEvent(new Event(name));"
        " document.dispatchEvent(new Event('visibilitychange'))"
    )
    _after_reads(page, sent + 2)
    page.clock.fast_forward(AGENDA_POLL)
    _after_reads(page, sent + 3)
    time.sleep(0.3)  # any read still to come is sent
    _after_reads(page, sent + 3)
    reads = _reads(page)
    assert reads["most"] == 1 and reads["all"] == sent + 3, reads
    expect(updates).to_contain_text("moved to")  # 304s: nothing new to say
    expect(connection).to_be_empty()
    assert errors == [], errors
    page.close()


def test_an_open_agenda_shows_requests_as_they_arrive_and_the_answers_to_its_own(browser: Browser, site: Site) -> None:
    """Korea's agenda stays open while the Philippines asks it for a meeting and Viet Nam declines
    Korea's own request: at the page's next read (304s until then) the new request's card appears,
    marked, the sent request shows the refusal, the live region says both, the focus stays. The new
    request is then accepted with the keyboard while a read sent before the answer is held back: it
    comes back listing the request as still waiting, and its card must not come back."""
    delegation = "KR"
    tokens = site.forum.delegation_tokens
    own = _ask(site, delegation, [delegation, "VN"], "Coast guard cooperation")
    page = browser.new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    errors = _watch(page)
    page.add_init_script(COUNT_READS)
    page.clock.install()
    page.goto(f"{site.server.url}/agenda#token={tokens[delegation]}")
    sent = page.locator(f'.sent-card[data-request="{own}"]')
    sent.wait_for(timeout=WAIT_MS)
    _stop_clock(page)
    page.evaluate("window.sameDocument = true")  # gone if the page were loaded again
    updates, count = page.locator("#updates"), page.locator("#inbox-count")
    expect(page.locator("#inbox-note")).to_have_text(re.compile(r"^No requests are waiting for your answer\."))
    expect(sent.locator(".state")).to_have_text("Waiting for Delegation of Viet Nam.")
    page.clock.fast_forward(AGENDA_POLL)  # nothing new: 304s, nothing said
    _after_reads(page, 2, "inboxReads")
    expect(updates).to_be_empty()

    asked = _ask(site, "PH", ["PH", delegation], "Maritime domain awareness")
    declined = site.api.post(f"{site.base}/requests/{own}/decline", headers={"Authorization": f"Bearer {tokens['VN']}"})
    assert declined.status_code == 200, declined.text
    page.locator("#person-filter").focus()  # the reader is choosing whose meetings to see
    page.clock.fast_forward(AGENDA_POLL)
    card = page.locator(f'.request-card[data-request="{asked}"]')
    said = (
        r'^Updated \d\d:\d\d: new request from Delegation of the Philippines: "Maritime domain awareness";'
        r' Delegation of Viet Nam declined your request "Coast guard cooperation"\.$'
    )
    expect(updates).to_have_text(re.compile(said), timeout=WAIT_MS)
    expect(card.locator(".mark")).to_have_text(re.compile(r"^New at \d\d:\d\d$"))
    expect(card.locator(".about")).to_contain_text("From: Delegation of the Philippines")
    expect(sent.locator(".state")).to_have_text("Declined by Delegation of Viet Nam.")
    expect(sent.locator(".mark")).to_have_text(re.compile(r"^Answered at \d\d:\d\d$"))
    expect(count).to_have_text("(1)")
    expect(page.locator("#person-filter")).to_be_focused()
    assert page.evaluate("window.sameDocument") is True
    contrast = _contrast(page)
    assert contrast["failures"] == [], contrast["failures"]
    page.screenshot(path=str(SCREENSHOTS / "agenda-request.png"), clip={"x": 0, "y": 0, **PHONE_SHOT})

    # declining is final, so asked once more; "Keep it" (where the focus goes) takes the reader back
    card.locator("button.decline").focus()
    page.keyboard.press("Enter")
    expect(card.locator(".confirm")).to_be_visible()
    expect(card.locator("button.keep")).to_be_focused()
    page.keyboard.press("Enter")
    expect(card.locator(".confirm")).to_be_hidden()
    expect(card.locator("button.decline")).to_be_focused()

    # a read of the requests is sent, answered in full as they stood (the request waiting: without
    # If-None-Match, as when anything else in them had changed) and held back
    before = _reads(page, "inboxReads")["all"]
    held: list[tuple[Route, Any]] = []

    def hold(route: Route) -> None:
        if held:
            route.continue_()
            return
        unconditional = {k: v for k, v in route.request.headers.items() if k.lower() != "if-none-match"}
        held.append((route, route.fetch(headers=unconditional)))

    page.route("**/inbox", hold)
    page.clock.fast_forward(AGENDA_POLL)
    deadline = time.monotonic() + WAIT_MS / 1000
    while not held:
        assert time.monotonic() < deadline
        page.wait_for_timeout(50)
    # counts the times the request's card is put (back) in the list from here on
    page.evaluate(
        """id => {
          window.cardsAdded = 0;
          new MutationObserver((changes) => {
            for (const change of changes)
              for (const node of change.addedNodes) if (node.dataset && node.dataset.request === id) cardsAdded += 1;
          }).observe(document.getElementById("inbox"), { childList: true });
        }""",
        asked,
    )
    card.locator("button.accept").focus()
    page.keyboard.press("Enter")  # its principal ticked: who attends for Korea
    status = page.locator("#inbox-status")
    expect(status).to_have_text('Accepted: "Maritime domain awareness". No more requests waiting.', timeout=WAIT_MS)
    expect(card).to_have_count(0)
    expect(page.locator("#inbox-title")).to_be_focused()  # the card it was on is gone: the list's heading
    route, answer = held[0]
    route.fulfill(response=answer)  # the stale read comes in, then the one asked for by the answer
    _after_reads(page, before + 2, "inboxReads")
    time.sleep(0.3)  # any read still to come is sent
    _after_reads(page, _reads(page, "inboxReads")["all"], "inboxReads")
    page.unroute("**/inbox")
    assert page.evaluate("window.cardsAdded") == 0
    expect(card).to_have_count(0)
    expect(count).to_have_text("(0)")
    expect(updates).not_to_contain_text("no longer waits")  # answered here: nothing to tell
    expect(page.locator("#inbox-title")).to_be_focused()
    request = site.get(f"/requests/{asked}")
    assert request["status"] == "accepted"
    assert next(p for p in request["parties"] if p["delegation"] == delegation)["attendees"] == ["kr-min"]
    assert _reads(page, "inboxReads")["most"] == 1 and _reads(page)["most"] == 1
    assert errors == [], errors
    page.close()


def test_a_delegation_token_does_not_open_the_grid(browser: Browser, site: Site) -> None:
    page = browser.new_page(viewport=DESK)
    page.goto(f"{site.server.url}/grid#token={site.forum.delegation_tokens['SG']}")
    expect(page.locator("#message")).to_contain_text("organiser", timeout=WAIT_MS)
    expect(page.locator(".meeting")).to_have_count(0)
    page.close()


def test_an_agenda_link_cut_short_says_it_may_be(browser: Browser, site: Site) -> None:
    """A link broken across two lines of an e-mail opened with part of its token, and the page
    said only that the token had been replaced or the delegation removed: neither was true."""
    page = browser.new_page(viewport=PHONE)
    page.goto(f"{site.server.url}/agenda#token={site.forum.delegation_tokens['SG'][:-6]}")
    expect(page.locator("#message")).to_contain_text("it may be cut short", timeout=WAIT_MS)
    expect(page.locator("#message")).to_contain_text("everything after #token=")
    page.close()


# ---------------------------------------------------------------- the organiser's preview of an agenda


def _agenda_of(site: Site, delegation: str, token: str) -> list[str]:
    answer = site.api.get(
        f"{site.base}/delegations/{delegation}/agenda/detailed", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.text
    return sorted(m["meeting"] for m in answer.json()["meetings"])


def _waiting_for(site: Site, delegation: str) -> list[str]:
    token = {"Authorization": f"Bearer {site.forum.delegation_tokens[delegation]}"}
    answer = site.api.get(f"{site.base}/delegations/{delegation}/inbox", headers=token)
    assert answer.status_code == 200, answer.text
    return sorted(r["id"] for r in answer.json()["waiting"])


def _shown(page: Page, selector: str, key: str) -> list[str]:
    return sorted(page.locator(selector).evaluate_all(f"nodes => nodes.map(n => n.dataset.{key})"))


def _pick(page: Page, name: str) -> None:
    """Chooses a delegation in the preview's picker and shows it, from the keyboard."""
    page.locator("#preview-select").focus()
    page.locator("#preview-select").select_option(label=name)
    page.keyboard.press("Tab")  # to "Show what it sees"
    page.keyboard.press("Enter")


def test_the_organiser_previews_exactly_what_a_delegation_sees(browser: Browser, site: Site) -> None:
    """The organiser's token opens /agenda as a preview: a picker of the forum's delegations, then
    the chosen one's published agenda and waiting requests, the same as the delegation's own token
    reads them, under a banner and without answer buttons; the choice is in the address (without
    the token), kept across a reload, and the preview is polled like the delegation's page."""
    tokens = site.forum.delegation_tokens
    names = {d.id: d.name for d in site.problem.delegations}
    asked = _ask(site, "NZ", ["NZ", "SG"], "Port visits")
    page = browser.new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    errors = _watch(page)
    page.add_init_script(COUNT_READS)
    page.clock.install()
    page.goto(f"{site.server.url}/agenda#token={site.forum.organiser_token}")
    picker = page.locator("#preview-select")
    expect(picker).to_be_focused(timeout=WAIT_MS)
    assert "token" not in page.url
    expect(page.locator("#app")).to_be_hidden()
    offered = picker.locator("option").evaluate_all("nodes => nodes.map(n => [n.value, n.textContent])")
    listed = {d["id"]: d["name"] for d in site.every("/delegations")}
    assert offered[0][0] == "" and {value: text for value, text in offered[1:]} == {
        d: f"{name} ({d})" for d, name in listed.items()
    }

    _pick(page, f"{names['SG']} (SG)")
    banner = page.locator("#preview-banner")
    expect(banner).to_have_text(f"Preview: what {names['SG']} sees", timeout=WAIT_MS)
    page.locator(f'.request-card[data-request="{asked}"]').wait_for(timeout=WAIT_MS)
    page.locator(".meeting-card").first.wait_for(timeout=WAIT_MS)
    _stop_clock(page)
    assert page.url.endswith("/agenda#delegation=SG") and "token" not in page.url
    own = _agenda_of(site, "SG", tokens["SG"])
    assert own == _agenda_of(site, "SG", site.forum.organiser_token) and own
    assert _shown(page, ".meeting-card", "meeting") == own
    assert _shown(page, ".request-card", "request") == _waiting_for(site, "SG")
    expect(page.locator("#title")).to_have_text(f"{names['SG']} · agenda")
    # read-only: nothing to answer with, no attendees to tick, no calendar link (the delegation's own)
    expect(page.locator("#inbox button, #inbox input")).to_have_count(0)
    expect(page.locator(f'.request-card[data-request="{asked}"] .preview-note')).to_contain_text("the preview cannot")
    expect(page.locator("#calendar-link")).to_have_count(0)

    # polled as the delegation's page is: a request made to Singapore meanwhile appears, marked
    later = _ask(site, "PH", ["PH", "SG"], "Search and rescue drills")
    page.clock.fast_forward(AGENDA_POLL)
    card = page.locator(f'.request-card[data-request="{later}"]')
    expect(card.locator(".mark")).to_have_text(re.compile(r"^New at \d\d:\d\d$"), timeout=WAIT_MS)
    said = 'new request from Delegation of the Philippines: "Search and rescue drills"'
    expect(page.locator("#updates")).to_contain_text(said)
    expect(card.locator("button")).to_have_count(0)
    contrast = _contrast(page)
    assert contrast["failures"] == [], contrast["failures"]
    page.screenshot(path=str(SCREENSHOTS / "agenda-preview.png"), clip={"x": 0, "y": 0, **PHONE_SHOT})

    # another delegation: its meetings only, nothing left of Singapore's
    _pick(page, f"{names['AU']} (AU)")
    expect(banner).to_have_text(f"Preview: what {names['AU']} sees", timeout=WAIT_MS)
    expect(page.locator(f'.request-card[data-request="{later}"]')).to_have_count(0, timeout=WAIT_MS)
    page.locator(".meeting-card").first.wait_for(timeout=WAIT_MS)
    assert page.url.endswith("/agenda#delegation=AU")
    assert _shown(page, ".meeting-card", "meeting") == _agenda_of(site, "AU", tokens["AU"]) != own
    assert _shown(page, ".request-card", "request") == _waiting_for(site, "AU")
    # back in the history: Singapore again
    page.go_back()
    expect(banner).to_have_text(f"Preview: what {names['SG']} sees", timeout=WAIT_MS)
    expect(page.locator(f'.request-card[data-request="{later}"]')).to_have_count(1, timeout=WAIT_MS)
    assert _shown(page, ".meeting-card", "meeting") == own
    expect(picker).to_have_value("SG")
    assert errors == [], errors
    page.close()

    # the address is a link for organiser staff: it opens the same preview (the token asked for,
    # or this tab's), and never holds the token
    shared = browser.new_page(viewport=PHONE)
    errors = _watch(shared)
    shared.goto(f"{site.server.url}/agenda#delegation=AU")
    shared.locator("#token-input").fill(site.forum.organiser_token)
    shared.locator("#token-input").press("Enter")
    expect(shared.locator("#preview-banner")).to_have_text(f"Preview: what {names['AU']} sees", timeout=WAIT_MS)
    shared.locator(".meeting-card").first.wait_for(timeout=WAIT_MS)
    assert _shown(shared, ".meeting-card", "meeting") == _agenda_of(site, "AU", tokens["AU"])
    shared.reload()
    shared.locator(".meeting-card").first.wait_for(timeout=WAIT_MS)
    expect(shared.locator("#preview-select")).to_have_value("AU")
    assert errors == [], errors
    shared.close()

    # as the grid page would open it, with the token in the fragment too: the token is taken out of
    # the address, the choice stays in it
    opened = browser.new_page(viewport=PHONE)
    errors = _watch(opened)
    opened.goto(f"{site.server.url}/agenda#token={site.forum.organiser_token}&delegation=SG")
    expect(opened.locator("#preview-banner")).to_have_text(f"Preview: what {names['SG']} sees", timeout=WAIT_MS)
    opened.locator(".meeting-card").first.wait_for(timeout=WAIT_MS)
    assert _shown(opened, ".meeting-card", "meeting") == own
    assert opened.url.endswith("/agenda#delegation=SG") and "token" not in opened.url
    assert errors == [], errors
    opened.close()


def test_a_delegation_token_sees_its_own_agenda_and_no_picker(browser: Browser, site: Site) -> None:
    """A delegation's token ignores a #delegation= in its link: its own meetings, no picker, no banner."""
    page = browser.new_page(viewport=PHONE)
    errors = _watch(page)
    page.goto(f"{site.server.url}/agenda#token={site.forum.delegation_tokens['KR']}&delegation=SG")
    page.locator(".meeting-card").first.wait_for(timeout=WAIT_MS)
    assert "token" not in page.url
    assert _shown(page, ".meeting-card", "meeting") == _agenda_of(site, "KR", site.forum.delegation_tokens["KR"])
    expect(page.locator("#preview-form")).to_be_hidden()
    expect(page.locator("#preview-select option")).to_have_count(0)
    expect(page.locator("#preview-banner")).to_be_hidden()
    expect(page.locator("#title")).to_have_text("Delegation of the Republic of Korea · agenda")
    expect(page.locator("#calendar-link")).to_be_visible()
    assert errors == [], errors
    page.close()


# ---------------------------------------------------------------- readable contrast

# WCAG 2.1 contrast of every visible text against the colour behind it. Disabled
# controls are exempt (as in WCAG); text over a background image (the hatched
# programme sessions) is measured against the nearest plain colour under it.
CONTRAST_SCRIPT = """
() => {
  const channel = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
  const parse = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const behind = el => {
    for (let node = el; node; node = node.parentElement) {
      const rgba = parse(getComputedStyle(node).backgroundColor);
      if (rgba.length === 3 || (rgba.length === 4 && rgba[3] > 0.5)) return rgba.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const failures = [];
  let measured = 0;
  for (const el of document.querySelectorAll("body *")) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || el.closest("[disabled], [hidden], script, style")) continue;
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (style.visibility !== "visible" || box.width === 0 || box.height === 0 || +style.opacity < 0.5) continue;
    const [a, b] = [luminance(parse(style.color).slice(0, 3)), luminance(behind(el))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(style.fontSize), bold = +style.fontWeight >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    measured += 1;
    const label = `${el.tagName}.${el.className} "${el.textContent.trim().slice(0, 30)}"`;
    if (ratio < needed) failures.push(`${label} ${ratio.toFixed(2)}`);
  }
  return {measured, failures};
}
"""


def _contrast(page: Page) -> dict[str, Any]:
    return page.evaluate(CONTRAST_SCRIPT)


def test_the_grid_and_the_agenda_have_readable_contrast(grid_page: Page, browser: Browser, site: Site) -> None:
    grid = _contrast(grid_page)
    assert grid["measured"] > 100 and grid["failures"] == [], grid["failures"]
    page = browser.new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page.goto(f"{site.server.url}/agenda#token={site.forum.delegation_tokens['SG']}")
    page.locator(".meeting-card").first.wait_for(timeout=WAIT_MS)
    agenda = _contrast(page)
    assert agenda["measured"] > 20 and agenda["failures"] == [], agenda["failures"]
    page.close()


def _participant(site: Site, delegation: str, participant: str) -> tuple[dict[str, Any], str]:
    """A participant as stored, and its ETag."""
    answer = site.api.get(f"{site.base}/delegations/{delegation}/participants/{participant}", headers=site.organiser())
    assert answer.status_code == 200, answer.text
    return answer.json(), answer.headers["ETag"]


def _edit_participant(site: Site, delegation: str, participant: str, token: str, **changes: Any) -> None:
    """A colleague's (or the organiser's) edit through the API, as the API asks: PUT with If-Match."""
    body, tag = _participant(site, delegation, participant)
    answer = site.api.put(
        f"{site.base}/delegations/{delegation}/participants/{participant}",
        json={**body, **changes},
        headers={"Authorization": f"Bearer {token}", "If-Match": tag},
    )
    assert answer.status_code == 200, answer.text


def _still_agenda(browser: Browser, site: Site, delegation: str) -> tuple[Page, list[str]]:
    """A delegation's agenda on a phone, its clock stopped once loaded: it reads again only when the
    test moves its time on."""
    page = browser.new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    errors = _watch(page)
    page.add_init_script(COUNT_READS)
    page.clock.install()
    page.goto(f"{site.server.url}/agenda#token={site.forum.delegation_tokens[delegation]}")
    page.locator("#app").wait_for(timeout=WAIT_MS)
    _stop_clock(page)
    return page, errors


def test_who_attends_follows_the_participants_as_a_colleague_or_the_organiser_edits_them(
    browser: Browser, site: Site
) -> None:
    """Finland's agenda stays open on Lithuania's request. Meanwhile a colleague adds a participant
    and the organiser makes another the principal: at the page's next read the card offers the new
    participant and ticks the new principal, while the box the reader has unticked (and is on) keeps
    the reader's choice; the answer names the attendees as the page shows them."""
    delegation = "FI"
    asked = _ask(site, "LT", ["LT", delegation], "Baltic air policing")
    page, errors = _still_agenda(browser, site, delegation)
    card = page.locator(f'.request-card[data-request="{asked}"]')
    boxes = card.locator(".attendees input")
    expect(boxes).to_have_count(2)
    expect(card.get_by_label("Chief of Defence of Finland")).to_be_checked()
    expect(card.get_by_label("Director-General for Defence Policy, Finland")).not_to_be_checked()
    chief = card.get_by_label("Chief of Defence of Finland")
    chief.focus()
    page.keyboard.press("Space")  # the reader unticks the chief, and stays on the box
    expect(chief).not_to_be_checked()

    token = site.forum.delegation_tokens[delegation]
    added = site.api.post(
        f"{site.base}/delegations/{delegation}/participants",
        json={"id": "fi-att", "name": "Defence Attaché, Finland"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert added.status_code == 201, added.text
    _edit_participant(site, delegation, "fi-off1", site.forum.organiser_token, principal=True)
    _edit_participant(site, delegation, "fi-chod", site.forum.organiser_token, principal=False)
    sent = _reads(page, "inboxReads")["all"]
    page.clock.fast_forward(AGENDA_POLL)
    _after_reads(page, sent + 1, "inboxReads")
    expect(boxes).to_have_count(3, timeout=WAIT_MS)
    expect(card.get_by_label("Defence Attaché, Finland")).not_to_be_checked()
    expect(card.get_by_label("Director-General for Defence Policy, Finland")).to_be_checked()
    expect(chief).not_to_be_checked()  # the reader's, not the principal flag's
    expect(chief).to_be_focused()
    expect(page.locator("#person-filter option")).to_have_count(4)  # everyone, and the three
    expect(page.locator('.travel-form[data-participant="fi-att"]')).to_have_count(1)

    # the new participant is ticked too, and a box the reader has ticked stays ticked at later reads
    card.get_by_label("Defence Attaché, Finland").check()
    _edit_participant(site, delegation, "fi-chod", site.forum.organiser_token, principal=True)
    sent = _reads(page, "inboxReads")["all"]
    page.clock.fast_forward(AGENDA_POLL)
    _after_reads(page, sent + 1, "inboxReads")
    expect(page.locator("#person-filter option", has_text="Chief of Defence of Finland (principal)")).to_have_count(1)
    expect(chief).not_to_be_checked()
    card.locator("button.accept").click()
    expect(page.locator("#inbox-status")).to_contain_text("Accepted", timeout=WAIT_MS)
    request = site.get(f"/requests/{asked}")
    attendees = next(p for p in request["parties"] if p["delegation"] == delegation)["attendees"]
    assert sorted(attendees) == ["fi-att", "fi-off1"], attendees
    assert errors == [], errors
    page.close()


def test_staff_move_a_principals_arrival_and_departure_from_the_agenda(browser: Browser, site: Site) -> None:
    """A late flight: Estonia's staff change their chief's arrival and departure on the agenda page.
    A good edit is stored (the blocked windows and the rest kept) and makes the published version
    out of date for the organiser; a departure before the arrival is refused with the API's words
    beside the departure field, which takes the focus; times a colleague changed meanwhile are not
    overwritten unseen; the form follows a colleague's edit while nobody is filling it in."""
    delegation, person = "EE", "ee-chod"
    token = site.forum.delegation_tokens[delegation]
    page, errors = _still_agenda(browser, site, delegation)
    form = page.locator(f'.travel-form[data-participant="{person}"]')
    arrival, departure = form.get_by_label("Arrival"), form.get_by_label("Departure")
    status = page.locator("#travel-status")
    assert status.get_attribute("role") == "status"
    expect(arrival).to_have_value("")
    before, _ = _participant(site, delegation, person)
    [published] = _published(site)

    def edits_since_published() -> int:  # what the organiser's grid counts against the published version
        stale = site.get(f"/schedules/{published}")["out_of_date"]
        return 0 if stale is None else int(stale["edits"])

    edits = edits_since_published()

    # a good edit, from the keyboard
    arrival.fill("2024-06-01T10:00")
    departure.fill("2024-06-02T12:00")
    departure.focus()
    page.keyboard.press("Enter")
    saved = r"^Saved: Chief of Defence of Estonia, arrival .+ 10:00, departure"
    expect(status).to_have_text(re.compile(saved), timeout=WAIT_MS)
    stored, _ = _participant(site, delegation, person)
    assert stored["arrival"].startswith("2024-06-01T10:00") and stored["departure"].startswith("2024-06-02T12:00")
    assert {k: v for k, v in stored.items() if k not in ("arrival", "departure")} == {
        k: v for k, v in before.items() if k not in ("arrival", "departure")
    }
    assert edits_since_published() == edits + 1  # the organiser's grid says so at its next check

    # refused: the API's words beside the field it names, the focus there, nothing stored
    departure.fill("2024-06-01T09:00")
    form.locator("button").click()
    error = page.locator(f"#{departure.get_attribute('id')}-error")
    expect(error).to_have_text("departure: must be after arrival", timeout=WAIT_MS)
    expect(departure).to_have_attribute("aria-invalid", "true")
    expect(departure).to_be_focused()
    assert departure.get_attribute("aria-describedby") == error.get_attribute("id")
    expect(status).to_contain_text("Not saved")
    assert _participant(site, delegation, person)[0]["departure"].startswith("2024-06-02T12:00")
    form.scroll_into_view_if_needed()
    page.locator("#travel-section").screenshot(path=str(SCREENSHOTS / "agenda-arrivals.png"))

    # a colleague moves the arrival while the reader types: not overwritten unseen, then on purpose
    _edit_participant(site, delegation, person, token, arrival="2024-06-01T11:00:00")
    departure.fill("2024-06-02T11:00")
    form.locator("button").click()
    expect(status).to_have_text(re.compile(r"^Not saved: .+ changed meanwhile, now arrival .+ 11:00"), timeout=WAIT_MS)
    expect(error).to_be_empty()
    assert _participant(site, delegation, person)[0]["arrival"].startswith("2024-06-01T11:00")
    form.locator("button").click()  # the reader has seen it and saves the form as it is
    expect(status).to_have_text(re.compile(r"^Saved: "), timeout=WAIT_MS)
    assert _participant(site, delegation, person)[0]["arrival"].startswith("2024-06-01T10:00")

    # nobody filling it in: a colleague's edit shows at the next read
    page.locator("#person-filter").focus()
    _edit_participant(site, delegation, person, token, departure="2024-06-02T10:30:00")
    page.clock.fast_forward(AGENDA_POLL)
    expect(departure).to_have_value("2024-06-02T10:30", timeout=WAIT_MS)
    contrast = _contrast(page)
    assert contrast["failures"] == [], contrast["failures"]
    assert errors == [], errors
    page.close()


def test_a_colleagues_answer_is_not_overwritten_by_a_card_drawn_before_it(browser: Browser, site: Site) -> None:
    """Norway's agenda shows Sweden's request while a colleague accepts it in another browser: a
    decline from the card drawn before (declining is allowed after an accept, so the API alone would
    take it) is refused on the page, the request stays accepted, and the card goes at the read that
    follows."""
    delegation = "NO"
    asked = _ask(site, "SE", ["SE", delegation], "Nordic defence cooperation")
    page, errors = _still_agenda(browser, site, delegation)
    card = page.locator(f'.request-card[data-request="{asked}"]')
    expect(card).to_be_visible()
    token = {"Authorization": f"Bearer {site.forum.delegation_tokens[delegation]}"}
    accepted = site.api.post(f"{site.base}/requests/{asked}/accept", json={"attendees": []}, headers=token)
    assert accepted.status_code == 200, accepted.text

    card.locator("button.decline").click()
    card.locator("button.confirm-decline").click()
    expect(page.locator("#inbox-status")).to_have_text(
        'Not declined: your delegation has already accepted "Nordic defence cooperation"'
        " (a colleague answered meanwhile).",
        timeout=WAIT_MS,
    )
    expect(card).to_have_count(0, timeout=WAIT_MS)
    expect(page.locator("#inbox-title")).to_be_focused()
    party = next(p for p in site.get(f"/requests/{asked}")["parties"] if p["delegation"] == delegation)
    assert party["status"] == "accepted", party
    assert errors == [], errors
    page.close()


def _name_attendees(site: Site, request_id: str, token: str, delegation: str, attendees: list[str]) -> None:
    """Who attends for `delegation`, named on the request by PATCH (If-Match), as a colleague or the organiser may."""
    read = site.api.get(f"{site.base}/requests/{request_id}", headers=site.organiser())
    assert read.status_code == 200, read.text
    answer = site.api.patch(
        f"{site.base}/requests/{request_id}",
        json={"attendees": {delegation: attendees}},
        headers={"Authorization": f"Bearer {token}", "If-Match": read.headers["ETag"]},
    )
    assert answer.status_code == 200, answer.text


def test_who_attends_follows_the_attendees_named_on_the_request(browser: Browser, site: Site) -> None:
    """Lithuania's agenda shows Estonia's request while the organiser names who attends for
    Lithuania: at the next read the boxes tick them. A colleague then names someone else just
    before the reader accepts: the accept is refused on the page, saying who is named now (boxes
    ticked so), and the next accept names them."""
    delegation = "LT"
    asked = _ask(site, "EE", ["EE", delegation], "Baltic defence college")
    page, errors = _still_agenda(browser, site, delegation)
    card = page.locator(f'.request-card[data-request="{asked}"]')
    deputy = card.get_by_label("Deputy Minister of Defence of Lithuania")
    official = card.get_by_label("Director-General for Defence Policy, Lithuania")
    attache = card.get_by_label("Defence Attaché, Lithuania")
    expect(deputy).to_be_checked()
    expect(official).not_to_be_checked()

    _name_attendees(site, asked, site.forum.organiser_token, delegation, ["lt-off1"])
    sent = _reads(page, "inboxReads")["all"]
    page.clock.fast_forward(AGENDA_POLL)
    _after_reads(page, sent + 1, "inboxReads")
    expect(official).to_be_checked(timeout=WAIT_MS)
    expect(deputy).not_to_be_checked()

    _name_attendees(site, asked, site.forum.delegation_tokens[delegation], delegation, ["lt-off2"])
    card.locator("button.accept").click()
    expect(page.locator("#inbox-status")).to_have_text(
        'Not accepted: who attends for you in "Baltic defence college" was changed meanwhile,'
        " now Defence Attaché, Lithuania. Check the boxes, then accept again.",
        timeout=WAIT_MS,
    )
    expect(attache).to_be_checked()
    expect(official).not_to_be_checked()
    party = next(p for p in site.get(f"/requests/{asked}")["parties"] if p["delegation"] == delegation)
    assert party["status"] == "pending", party
    card.locator("button.accept").click()
    expect(page.locator("#inbox-status")).to_contain_text('Accepted: "Baltic defence college"', timeout=WAIT_MS)
    party = next(p for p in site.get(f"/requests/{asked}")["parties"] if p["delegation"] == delegation)
    assert party["status"] == "accepted" and party["attendees"] == ["lt-off2"], party
    assert errors == [], errors
    page.close()


def _request_as_stored(site: Site, request_id: str) -> tuple[dict[str, Any], str]:
    answer = site.api.get(f"{site.base}/requests/{request_id}", headers=site.organiser())
    assert answer.status_code == 200, answer.text
    return answer.json(), answer.headers["ETag"]


def test_the_ask_form_offers_the_forums_directory_and_a_name_chosen_from_it_is_asked(
    browser: Browser, site: Site
) -> None:
    """Mongolia's staff, who have met no one in a request yet, are offered every other delegation of
    the forum's directory (its id, its name beside it), not their own; the name of Nepal, chosen from
    it, is sent as Nepal's id, and the request reads back with both parties and its times in the
    forum's zone, with its offset."""
    page, errors = _still_agenda(browser, site, "MN")
    directory = site.api.get(f"{site.base}/directory", headers=site.organiser()).json()
    offered = page.locator("#ask-known option").evaluate_all("nodes => nodes.map(n => [n.value, n.label])")
    assert sorted(offered) == sorted([d["id"], f"{d['name']} ({d['id']})"] for d in directory if d["id"] != "MN")
    assert len(offered) == len(site.problem.delegations) - 1
    party = page.get_by_label("Delegation invited (its id or name)")
    assert party.get_attribute("list") == "ask-known"
    [nepal] = [label for value, label in offered if value == "NP"]
    party.fill(nepal.removesuffix(" (NP)"))  # the name, as the list offers it
    page.locator("#ask-form").get_by_label("Title").fill("Himalayan peacekeeping training")
    page.locator("#ask-send").click()
    expect(page.locator("#updates")).to_have_text(
        re.compile(r'^Sent: your delegation asked Delegation of Nepal for "Himalayan peacekeeping training"'),
        timeout=WAIT_MS,
    )
    [listed] = [r for r in site.every("/requests") if r["title"] == "Himalayan peacekeeping training"]
    stored, _ = _request_as_stored(site, listed["id"])
    assert [(p["delegation"], p["role"]) for p in stored["parties"]] == [("MN", "requester"), ("NP", "invitee")]
    zone = ZoneInfo(site.get("")["time_zone"])
    for field in ("created_at", "updated_at"):
        moment = datetime.fromisoformat(stored[field])
        assert moment.utcoffset() == moment.astimezone(zone).utcoffset() and not stored[field].endswith("Z")
    assert stored == {key: value for key, value in listed.items() if key != "etag"}  # a list shows it as a read
    assert errors == [], errors
    page.close()


def _set_directory(site: Site, readers: str) -> None:
    forum = site.api.get(site.base, headers=site.organiser())
    changed = site.api.patch(
        site.base, json={"directory": readers}, headers={**site.organiser(), "If-Match": forum.headers["ETag"]}
    )
    assert changed.status_code == 200 and changed.json()["directory"] == readers, changed.text


def test_a_private_directory_leaves_the_ask_form_to_typed_ids_with_a_note(browser: Browser, site: Site) -> None:
    """While the organiser keeps the directory private (its 403), New Zealand's ask form offers only
    the delegations met in its requests (Australia, and any an earlier test of the module asked), and
    a note says to type the ids; the directory made public again, the next check offers every other
    delegation and the note goes, from the field's description too."""
    token = {"Authorization": f"Bearer {site.forum.delegation_tokens['NZ']}"}
    inbox = site.api.get(f"{site.base}/delegations/NZ/inbox", headers=token).json()
    met = {p["delegation"] for r in [*inbox["waiting"], *inbox["sent"]] for p in r["parties"]} - {"NZ"}
    assert "AU" in met and len(met) < len(site.problem.delegations) - 1
    _set_directory(site, "organiser")
    try:
        page, errors = _still_agenda(browser, site, "NZ")
        note = page.locator("#ask-parties-note")
        expect(note).to_be_visible()
        expect(note).to_contain_text("The organiser keeps the forum's list of delegations private: type the id")
        options = page.locator("#ask-known option")
        expect(options).to_have_count(len(met))
        assert sorted(options.evaluate_all("nodes => nodes.map(n => n.value)")) == sorted(met)
        party = page.get_by_label("Delegation invited (its id or name)")
        assert "ask-parties-note" in (party.get_attribute("aria-describedby") or "").split()
    finally:
        _set_directory(site, "members")
    page.clock.fast_forward(AGENDA_POLL)
    expect(note).to_be_hidden(timeout=WAIT_MS)
    expect(options).to_have_count(len(site.problem.delegations) - 1)
    assert party.get_attribute("aria-describedby") == "ask-party-1-error"  # a hidden note is not read out
    assert errors == [], errors  # the 403 is the page's to handle
    page.close()


def test_staff_ask_for_a_meeting_edit_and_withdraw_it_from_the_agenda(browser: Browser, site: Site) -> None:
    """Tonga's staff ask Fiji and Vanuatu for a trilateral on the agenda page (no API by hand): a
    refusal of the API shows beside the field it names; the request is stored as filled in; an edit of
    its duration asks Fiji, which had accepted, again (said before saving); an edit over a colleague's
    is refused (412) and the form shows the colleague's; it is withdrawn after a confirmation; the
    organiser's preview shows none of it."""
    page, errors = _still_agenda(browser, site, "TO")
    tokens = site.forum.delegation_tokens
    form = page.locator("#ask-form")
    updates = page.locator("#updates")
    expect(form).to_be_visible()
    # its own people, principals ticked
    boxes = page.locator("#ask-attendees input")
    expect(boxes).to_have_count(3)
    own = page.locator("#ask-attendees")
    expect(own.get_by_label("Deputy Minister of Defence of Tonga")).to_be_checked()
    expect(own.get_by_label("Defence Attaché, Tonga")).not_to_be_checked()
    # durations the forum's slot allows only
    slot = site.get("")["slot_minutes"]
    offered = page.locator("#ask-duration option").evaluate_all("nodes => nodes.map(n => Number(n.value))")
    assert offered and all(minutes % slot == 0 for minutes in offered), offered

    # refused by the API: no such delegation, said beside the field it names, which takes the focus
    party = page.get_by_label("Delegation invited (its id or name)")
    party.fill("XX")
    form.get_by_label("Title").fill("Pacific maritime security")
    page.locator("#ask-send").click()
    error = page.locator("#ask-party-1-error")
    expect(error).to_have_text("parties[1]: no delegation XX", timeout=WAIT_MS)
    expect(party).to_have_attribute("aria-invalid", "true")
    expect(party).to_be_focused()
    assert party.get_attribute("aria-describedby") == "ask-party-1-error"
    expect(updates).to_contain_text("Not sent")
    assert not [r for r in site.every("/requests") if r["title"] == "Pacific maritime security"]

    # a window that ends before it starts: the API's words beside "Until"
    party.fill("FJ")
    page.locator("#ask-from").fill("2024-06-01T10:00")
    page.locator("#ask-to").fill("2024-06-01T09:00")
    page.locator("#ask-send").click()
    expect(page.locator("#ask-to-error")).to_have_text("preferred[0].end: must be after its start", timeout=WAIT_MS)
    expect(error).to_be_empty()

    # a trilateral, 60 minutes, the principal and an attaché, a morning window
    page.locator("#ask-add").click()
    page.get_by_label("Second delegation invited (its id or name)").fill("VU")
    page.locator("#ask-to").fill("2024-06-01T12:00")
    page.locator("#ask-duration").select_option("60")
    page.locator("#ask-priority").select_option("high")
    own.get_by_label("Defence Attaché, Tonga").check()
    expect(page.locator("#ask-priority option[value=must]")).to_have_count(0)
    page.locator("#ask-section").screenshot(path=str(SCREENSHOTS / "agenda-ask.png"))
    page.locator("#ask-send").click()
    sent = r"^Sent: your delegation asked .+ for \"Pacific maritime security\", 60 min"
    expect(updates).to_have_text(re.compile(sent), timeout=WAIT_MS)
    [listed] = [r for r in site.every("/requests") if r["title"] == "Pacific maritime security"]
    asked = listed["id"]
    stored, _ = _request_as_stored(site, asked)
    parties = {p["delegation"]: p for p in stored["parties"]}
    assert set(parties) == {"TO", "FJ", "VU"} and stored["requester"] == "TO"
    assert stored["duration_minutes"] == 60 and stored["priority"] == "high"
    assert sorted(parties["TO"]["attendees"]) == ["to-dep", "to-off2"]
    assert [w["start"][:16] for w in stored["preferred"]] == ["2024-06-01T10:00"]
    card = page.locator(f'.sent-card[data-request="{asked}"]')
    expect(card).to_contain_text("Trilateral", timeout=WAIT_MS)
    expect(form.get_by_label("Title")).to_have_value("")  # ready for the next

    # Fiji accepts; the edit form says Fiji is asked again before saving; the change of duration does so
    fiji = {"Authorization": f"Bearer {tokens['FJ']}"}
    accepted = site.api.post(f"{site.base}/requests/{asked}/accept", json={"attendees": []}, headers=fiji)
    assert accepted.status_code == 200, accepted.text
    page.clock.fast_forward(AGENDA_POLL)
    expect(card.locator(".state")).to_contain_text("Accepted by Delegation of Fiji", timeout=WAIT_MS)
    card.locator("button.edit").click()
    editor = card.locator(".edit-form")
    expect(editor.locator(".asks-again")).to_contain_text("asks Delegation of Fiji again", timeout=WAIT_MS)
    expect(editor.get_by_label("Duration")).to_have_value("60")
    editor.get_by_label("Duration").select_option("30")
    editor.locator("button.save").click()
    saved = r"^Saved: \"Pacific maritime security\"\. Delegation of Fiji is asked again\.$"
    expect(updates).to_have_text(re.compile(saved), timeout=WAIT_MS)
    stored, tag = _request_as_stored(site, asked)
    assert stored["duration_minutes"] == 30
    assert {p["delegation"]: p["status"] for p in stored["parties"]}["FJ"] == "pending"

    # a colleague edits it meanwhile: the save is refused (412) and the form shows the colleague's
    card.locator("button.edit").click()
    expect(editor.get_by_label("Title")).to_have_value("Pacific maritime security", timeout=WAIT_MS)
    colleague = site.api.patch(
        f"{site.base}/requests/{asked}",
        json={"title": "Pacific maritime security (ministers)"},
        headers={"Authorization": f"Bearer {tokens['TO']}", "If-Match": tag},
    )
    assert colleague.status_code == 200, colleague.text
    editor.get_by_label("Title").fill("Maritime security")
    editor.locator("button.save").click()
    expect(updates).to_contain_text("Not saved: a colleague changed", timeout=WAIT_MS)
    expect(editor.get_by_label("Title")).to_have_value("Pacific maritime security (ministers)")
    assert _request_as_stored(site, asked)[0]["title"] == "Pacific maritime security (ministers)"
    editor.locator("button.cancel").click()

    # withdrawn, after a confirmation
    card.locator("button.withdraw").click()
    card.locator("button.keep").click()
    assert _request_as_stored(site, asked)[0]["status"] != "withdrawn"
    card.locator("button.withdraw").click()
    card.locator("button.confirm-withdraw").click()
    expect(updates).to_have_text(re.compile(r"^Withdrawn: "), timeout=WAIT_MS)
    assert _request_as_stored(site, asked)[0]["status"] == "withdrawn"
    expect(card.locator(".state")).to_have_text("Withdrawn.", timeout=WAIT_MS)
    expect(card.locator("button.edit")).to_be_hidden()
    assert errors == [], errors
    page.close()

    # the organiser's preview of Tonga: its requests, nothing to ask, edit or withdraw with
    preview = browser.new_page(viewport=PHONE)
    errors = _watch(preview)
    preview.goto(f"{site.server.url}/agenda#token={site.forum.organiser_token}&delegation=TO")
    preview.locator(f'.sent-card[data-request="{asked}"]').wait_for(timeout=WAIT_MS)
    expect(preview.locator("#ask-section")).to_be_hidden()
    expect(preview.locator("#ask-link")).to_be_hidden()
    expect(preview.locator("#sent button")).to_have_count(0)
    assert errors == [], errors
    preview.close()


# ---------------------------------------------------------------- an automated audit: axe-core

# axe-core (Deque's engine, bundled by axe-playwright-python) with the rules of WCAG 2.0 and 2.1,
# levels A and AA: what WCAG 2.1 AA, Section 508 and EN 301 549 ask of a web page, as far as a
# machine can tell. It runs through page.evaluate (the DevTools protocol), which the pages' CSP
# does not govern: the product's CSP stays as it is. What it cannot judge (whether a label makes
# sense, whether a screen reader's reading is usable) is left to the hand-written tests above.
AXE = Axe()
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}


def _axe(page: Page, state: str) -> list[str]:
    """Every WCAG 2.0/2.1 A and AA violation axe finds on the page as it is, one line a node."""
    found = AXE.run(page, options=AXE_OPTIONS).response["violations"]
    return [
        f"{state}: {violation['id']} ({violation['impact']}) {' '.join(node['target'])}: "
        + (node.get("failureSummary") or violation["help"]).replace("\n", " ")
        for violation in found
        for node in violation["nodes"]
    ]


def test_axe_finds_nothing_on_the_grid(grid_page: Page, site: Site) -> None:
    """The organiser's grid with a version shown, its unplaced list, then its move form open."""
    page = grid_page
    expect(page.locator("#version-select")).not_to_have_value("")
    found = _axe(page, "grid")
    expect(page.locator("#unplaced-list .unplaced-item").first).to_be_visible()
    placements = site.get(f"/schedules/{_shown_version(page)}")["placements"]
    moving = placements[len(placements) // 3]
    _show_day_of(page, moving["start"])
    page.locator(f'.sheet.current .meeting[data-meeting="{moving["meeting"]}"]').focus()
    page.keyboard.press("Enter")
    expect(page.locator("#move-form")).to_be_visible()
    found += _axe(page, "move form")
    page.keyboard.press("Escape")
    assert found == [], "\n".join(found)


def test_axe_finds_nothing_on_the_agenda_its_forms_and_the_preview(browser: Browser, site: Site) -> None:
    """Japan's agenda: its meetings, a request waiting in its inbox, one it sent; the ask form with an
    error the API named, the edit form of its request, the arrivals form with an error; then the
    organiser's preview of it."""
    waiting = _ask(site, "ID", ["ID", "JP"], "Maritime domain awareness")
    sent = _ask(site, "JP", ["JP", "IN"], "Quad logistics")
    # a page whose clock runs: axe waits on timers
    page = browser.new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    errors = _watch(page)
    page.goto(f"{site.server.url}/agenda#token={site.forum.delegation_tokens['JP']}")
    page.locator(f'.request-card[data-request="{waiting}"]').wait_for(timeout=WAIT_MS)
    page.locator(".meeting-card").first.wait_for(timeout=WAIT_MS)
    found = _axe(page, "agenda")

    page.get_by_label("Delegation invited (its id or name)").fill("XX")
    page.locator("#ask-form").get_by_label("Title").fill("Not sent")
    page.locator("#ask-send").click()
    expect(page.locator("#ask-party-1-error")).to_have_text("parties[1]: no delegation XX", timeout=WAIT_MS)
    found += _axe(page, "ask form refused")

    card = page.locator(f'.sent-card[data-request="{sent}"]')
    card.locator("button.edit").click()
    expect(card.locator(".edit-form").get_by_label("Title")).to_have_value("Quad logistics", timeout=WAIT_MS)
    found += _axe(page, "edit form")
    card.locator(".edit-form button.cancel").click()

    form = page.locator(".travel-form").first
    form.get_by_label("Arrival").fill("2024-06-02T10:00")
    form.get_by_label("Departure").fill("2024-06-01T10:00")
    form.locator("button").click()
    expect(page.locator("#travel-status")).to_contain_text("Not saved", timeout=WAIT_MS)
    found += _axe(page, "arrivals form refused")
    assert errors == [], errors
    page.close()

    preview = browser.new_page(viewport=PHONE)
    errors = _watch(preview)
    preview.goto(f"{site.server.url}/agenda#token={site.forum.organiser_token}&delegation=JP")
    preview.locator(f'.request-card[data-request="{waiting}"]').wait_for(timeout=WAIT_MS)
    preview.locator(".meeting-card").first.wait_for(timeout=WAIT_MS)
    found += _axe(preview, "preview")
    assert errors == [], errors
    preview.close()
    assert found == [], "\n".join(found)


# Numbers every visible, enabled control inside `root` in document order (data-tab-probe), for a
# walk with the Tab key to say which it reached.
NUMBER_CONTROLS = """
root => {
  const controls = [...root.querySelectorAll("input, select, textarea, button, a[href]")].filter(
    node => node.getClientRects().length > 0 && !node.disabled
  );
  controls.forEach((node, index) => { node.dataset.tabProbe = String(index); });
  return controls.length;
}
"""
# The control with the focus: its number, and whether its focus can be seen (an outline drawn).
FOCUSED = """
() => {
  const node = document.activeElement;
  const style = getComputedStyle(node);
  const drawn = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
  return {probe: node.dataset.tabProbe ?? null, visible: drawn};
}
"""


def _tab_walk(page: Page, root: Locator, start: Locator) -> tuple[int, list[dict[str, Any]]]:
    """Numbers the controls inside `root`, then presses Tab from `start` (before them) until the focus
    has left them again; the controls' count and what each press focused."""
    count = int(root.evaluate(NUMBER_CONTROLS))
    start.evaluate("node => { if (node.tabIndex < 0) node.tabIndex = -1; node.focus(); }")
    reached: list[dict[str, Any]] = []
    for _ in range(5 * count + 5):
        page.keyboard.press("Tab")
        reached.append(page.evaluate(FOCUSED))
        if reached[-1]["probe"] is None:
            break
    return count, [step for step in reached if step["probe"] is not None]


def _stops(reached: list[dict[str, Any]]) -> list[int]:
    """The controls reached, in order: a date and time field takes one press a part of it (day, month,
    year, hours, minutes), one stop."""
    probes = [int(step["probe"]) for step in reached]
    return [probe for probe, before in zip(probes, [None, *probes], strict=False) if probe != before]


def test_the_keyboard_reaches_every_control_of_the_ask_form_with_its_focus_shown(browser: Browser, site: Site) -> None:
    """Tab from the section's title walks every control of the ask form in order, a second party's
    field included, each with a focus outline drawn."""
    page, errors = _still_agenda(browser, site, "CA")  # no read of the agenda redraws the form meanwhile
    form = page.locator("#ask-form")
    expect(form).to_be_visible(timeout=WAIT_MS)
    page.locator("#ask-add").click()
    count, reached = _tab_walk(page, form, page.locator("#ask-title"))
    assert count > 8 and _stops(reached) == list(range(count)), reached
    assert all(step["visible"] for step in reached), str([(step["probe"], step["visible"]) for step in reached])
    assert errors == [], errors
    page.close()


def test_the_keyboard_walks_the_change_form_and_arrows_choose_its_kind(grid_page: Page) -> None:
    """Tab from the section's title reaches the chosen kind (one stop for the group), then every
    field of that kind and the send button, each with its focus outline; the arrow keys choose
    another kind, whose own fields then follow."""
    page = grid_page
    form = page.locator("#change-form")
    for kind, fields in (("room_unavailable", 3), ("arrival_changed", 2)):  # no participant before a delegation
        expect(form.locator(f'input[value="{kind}"]')).to_be_checked()
        count, reached = _tab_walk(page, form, page.locator("#change-title"))
        assert count == 4 + fields + 1, count  # four kinds, the fields shown, the send button
        checked = int(form.locator("input:checked").get_attribute("data-tab-probe") or -1)
        assert _stops(reached) == [checked, *range(4, count)], reached
        assert all(step["visible"] for step in reached), str([(step["probe"], step["visible"]) for step in reached])
        form.locator("input:checked").focus()
        page.keyboard.press("ArrowDown")
    expect(form.locator('input[value="departure_changed"]')).to_be_checked()
    expect(page.locator("label[for=change-time]")).to_have_text("Now leaves")


def _set_parties(site: Site, request_id: str, parties: list[str]) -> None:
    """The organiser's change of who meets (PATCH `parties`, If-Match)."""
    _, tag = _request_as_stored(site, request_id)
    answer = site.api.patch(
        f"{site.base}/requests/{request_id}",
        json={"parties": parties},
        headers={**site.organiser(), "If-Match": tag},
    )
    assert answer.status_code == 200, answer.text


def test_a_party_the_organiser_adds_is_asked_on_its_open_page_and_one_removed_loses_its_card(
    browser: Browser, site: Site
) -> None:
    """Fiji's and Vanuatu's agendas stay open while the organiser changes Tonga's request from Fiji
    to Vanuatu: at the next read Vanuatu's page shows it waiting, marked new, and its answer is
    taken; Fiji's card goes and the live region says the request no longer waits for it."""
    asked = _ask(site, "TO", ["TO", "FJ"], "Pacific disaster relief")
    fiji, fiji_errors = _still_agenda(browser, site, "FJ")
    vanuatu, vanuatu_errors = _still_agenda(browser, site, "VU")
    gone = fiji.locator(f'.request-card[data-request="{asked}"]')
    card = vanuatu.locator(f'.request-card[data-request="{asked}"]')
    expect(gone).to_be_visible(timeout=WAIT_MS)
    expect(card).to_have_count(0)

    _set_parties(site, asked, ["TO", "VU"])
    for page in (fiji, vanuatu):
        sent = _reads(page, "inboxReads")["all"]
        page.clock.fast_forward(AGENDA_POLL)
        _after_reads(page, sent + 1, "inboxReads")
    expect(gone).to_have_count(0, timeout=WAIT_MS)
    expect(fiji.locator("#updates")).to_contain_text('"Pacific disaster relief" no longer waits for your answer')
    expect(card.locator(".mark")).to_have_text(re.compile(r"^New at \d\d:\d\d$"), timeout=WAIT_MS)
    told = 'new request from Delegation of Tonga: "Pacific disaster relief"'
    expect(vanuatu.locator("#updates")).to_contain_text(told)
    card.locator("button.accept").click()
    expect(vanuatu.locator("#inbox-status")).to_contain_text('Accepted: "Pacific disaster relief"', timeout=WAIT_MS)
    request = site.get(f"/requests/{asked}")
    assert [(p["delegation"], p["status"]) for p in request["parties"]] == [("TO", "accepted"), ("VU", "accepted")]
    assert fiji_errors == [] and vanuatu_errors == [], (fiji_errors, vanuatu_errors)
    fiji.close()
    vanuatu.close()


def test_an_answer_to_a_request_the_party_was_removed_from_says_it_is_no_longer_theirs(
    browser: Browser, site: Site
) -> None:
    """Papua New Guinea's card is still shown when the organiser takes it off the request: its
    accept (its first read answers 404) says the request is no longer the delegation's to answer,
    not the server's bare 404, and the card goes."""
    asked = _ask(site, "TO", ["TO", "PG"], "Fisheries surveillance")
    page, errors = _still_agenda(browser, site, "PG")
    card = page.locator(f'.request-card[data-request="{asked}"]')
    expect(card).to_be_visible(timeout=WAIT_MS)

    _set_parties(site, asked, ["TO", "TL"])
    card.locator("button.accept").click()
    expect(page.locator("#inbox-status")).to_have_text(
        'Not accepted: "Fisheries surveillance" is no longer your delegation\'s to answer'
        " (the organiser changed who meets).",
        timeout=WAIT_MS,
    )
    expect(card).to_have_count(0, timeout=WAIT_MS)
    expect(page.locator("#inbox-title")).to_be_focused()
    assert "PG" not in [p["delegation"] for p in site.get(f"/requests/{asked}")["parties"]]
    assert errors == [], errors
    page.close()


def test_the_requester_is_told_the_organiser_changed_who_meets(browser: Browser, site: Site) -> None:
    """Cambodia's agenda stays open while the organiser adds Timor-Leste to its request to Laos:
    at the next read its sent card names both, marked, and the live region says who changed it."""
    asked = _ask(site, "KH", ["KH", "LA"], "Mekong security")
    page, errors = _still_agenda(browser, site, "KH")
    sent = page.locator(f'.sent-card[data-request="{asked}"]')
    expect(sent.locator(".kind")).not_to_contain_text("Timor", timeout=WAIT_MS)

    _set_parties(site, asked, ["KH", "LA", "TL"])
    before = _reads(page, "inboxReads")["all"]
    page.clock.fast_forward(AGENDA_POLL)
    _after_reads(page, before + 1, "inboxReads")
    expect(sent.locator(".kind")).to_contain_text("Timor", timeout=WAIT_MS)
    expect(sent.locator(".mark")).to_have_text(re.compile(r"^Changed at \d\d:\d\d$"))
    expect(page.locator("#updates")).to_contain_text(
        'the organiser changed who meets in your request "Mekong security": now with '
    )
    expect(page.locator("#updates")).to_contain_text("Timor")
    assert errors == [], errors
    page.close()


def test_a_request_answered_on_the_page_comes_back_when_the_delegation_is_asked_again(
    browser: Browser, site: Site
) -> None:
    """Bangladesh accepts Sri Lanka's request on its open page; the organiser then takes it off the
    request and puts it back (asked afresh): at the next read the card is there again, marked new,
    though this page answered it before."""
    asked = _ask(site, "LK", ["LK", "BD"], "Bay of Bengal patrols")
    page, errors = _still_agenda(browser, site, "BD")
    card = page.locator(f'.request-card[data-request="{asked}"]')
    card.locator("button.accept").click()
    expect(page.locator("#inbox-status")).to_contain_text('Accepted: "Bay of Bengal patrols"', timeout=WAIT_MS)
    expect(card).to_have_count(0)
    before = _reads(page, "inboxReads")["all"]
    _after_reads(page, before, "inboxReads")  # the read the answer asked for

    _set_parties(site, asked, ["LK", "NP"])
    _set_parties(site, asked, ["LK", "NP", "BD"])
    before = _reads(page, "inboxReads")["all"]
    page.clock.fast_forward(AGENDA_POLL)
    _after_reads(page, before + 1, "inboxReads")
    expect(card.locator(".mark")).to_have_text(re.compile(r"^New at \d\d:\d\d$"), timeout=WAIT_MS)
    assert errors == [], errors
    page.close()
