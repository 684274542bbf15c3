"""The organiser's requests page (/requests) in a real browser, as tests/test_pages_browser.py
drives the grid and agenda pages: headless Chromium against the real app and PostgreSQL, with
the UNGA week loaded (1,100 requests, more than one page of the list at the page's 1,000, and
190 delegations), a few delegations' own requests added through the API: one waiting for an
answer, one declined, one asked at `must` (used as `high` until the organiser decides).

The tests write docs/screenshots/requests.png, the picture docs/organisers.md shows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from db.load import LoadedForum, load_problem
from solver.model import Problem
from tests.conftest import ADMIN_TOKEN, Databases
from tests.live_server import live_server
from tests.test_pages_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    CONTRAST_SCRIPT,
    DESK,
    ROOT,
    SCREENSHOTS,
    SHOT,
    WAIT_MS,
    Site,
    _ax_tables,
    _axe,
    _stop_clock,
    _stops,
    _tab_walk,
    _watch,
    aside,
)


class Board(msgspec.Struct):
    site: Site
    waiting: str  # AL asks DZ: waiting for DZ's answer
    declined: str  # AD asks AO, at must (used as high); AO declines
    later: str  # AG asks DZ and AL, after `waiting`: DZ's second answer owed
    withdrawn: str  # AO asks AL, then withdraws it


def _token(site: Site, delegation: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {site.forum.delegation_tokens[delegation]}"}


def _ask(site: Site, requester: str, parties: list[str], title: str, priority: str = "normal") -> str:
    body = {"parties": parties, "duration_minutes": 20, "title": title, "priority": priority}
    made = site.api.post(f"{site.base}/requests", json=body, headers=_token(site, requester))
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


@pytest.fixture(scope="module")
def board(server_url: str) -> Iterator[Board]:
    problem = msgspec.json.decode((ROOT / "examples" / "unga-week.json").read_bytes(), type=Problem)
    databases = Databases(server_url)
    url = aside(databases.create)
    try:
        with live_server(url, ADMIN_TOKEN) as server:

            async def load(pool: asyncpg.Pool) -> LoadedForum:
                async with pool.acquire() as connection:
                    return await load_problem(connection, problem)

            forum = server.call(load)
            with httpx.Client(base_url=server.url, timeout=60) as client:
                site = Site(server, forum, client, problem)
                deadline = (datetime.now(UTC) + timedelta(days=3, hours=5)).isoformat()
                headers = {**site.organiser(), "If-Match": "*"}
                moved = client.patch(site.base, json={"request_deadline": deadline}, headers=headers)
                assert moved.status_code == 200, moved.text
                waiting = _ask(site, "AL", ["AL", "DZ"], "Water and energy")
                declined = _ask(site, "AD", ["AD", "AO"], "Tourism corridor", priority="must")
                answer = client.post(f"{site.base}/requests/{declined}/decline", headers=_token(site, "AO"))
                assert answer.status_code == 200, answer.text
                later = _ask(site, "AG", ["AG", "DZ", "AL"], "Small islands caucus")
                withdrawn = _ask(site, "AO", ["AO", "AL"], "Fisheries talks")
                answer = client.post(f"{site.base}/requests/{withdrawn}/withdraw", headers=_token(site, "AO"))
                assert answer.status_code == 200, answer.text
                yield Board(site, waiting, declined, later, withdrawn)
    finally:
        aside(databases.drop_all)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def _open(browser: Browser, site: Site, token: str | None = None) -> tuple[Page, list[str]]:
    page = browser.new_page(viewport=DESK)
    errors = _watch(page)
    page.goto(f"{site.server.url}/requests#token={token or site.forum.organiser_token}")
    page.locator("#requests-body tr").first.wait_for(timeout=WAIT_MS)
    # The first rows are drawn first, the rest a frame later (requests.js FIRST_ROWS).
    expect(page.locator("#requests-table")).not_to_have_attribute("aria-busy", "true")
    return page, errors


def _rows(page: Page, visible_only: bool = False) -> list[str]:
    selector = "#requests-body tr:not([hidden])" if visible_only else "#requests-body tr"
    return page.locator(selector).evaluate_all("rows => rows.map(row => row.dataset.request)")


def _request(site: Site, request_id: str) -> Any:
    return site.get(f"/requests/{request_id}")


def test_the_table_lists_every_request_across_the_lists_pages(browser: Browser, board: Board) -> None:
    site = board.site
    requests = site.every("/requests")
    assert len(requests) > 1000  # more than one page at the page's size (common.js PAGE)
    page, errors = _open(browser, site)
    assert "token" not in page.url
    assert _rows(page) == [request["id"] for request in requests]
    expect(page.locator("#shown-count")).to_have_text(f"Showing {len(requests)} of {len(requests)} requests.")
    counts = page.locator("#counts")
    expect(counts.locator('[data-status="declined"] strong')).to_have_text("1")
    expect(counts.locator('[data-status="withdrawn"] strong')).to_have_text("1")
    expect(counts.locator('[data-status="pending"] strong')).to_have_text("2")
    expect(counts.locator('[data-status="needs-priority"] strong')).to_have_text("2")  # waiting, later
    expect(page.locator("#deadline")).to_contain_text("3 days 4 h left")
    row = page.locator(f'#requests-body tr[data-request="{board.declined}"]')
    expect(row.locator(".priority-cell")).to_contain_text("asked must")
    expect(row.locator(".status")).to_have_text("declined")
    expect(row).to_contain_text("AO")
    expect(row).to_contain_text("declined")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#status-filter").select_option("pending")
    page.screenshot(path=str(SCREENSHOTS / "requests.png"), clip=SHOT)
    contrast = page.evaluate(CONTRAST_SCRIPT)
    assert contrast["measured"] > 20 and contrast["failures"] == [], contrast["failures"]
    assert errors == [], errors
    page.close()


def test_the_filters_narrow_the_table(browser: Browser, board: Board) -> None:
    site = board.site
    page, errors = _open(browser, site)
    page.locator("#status-filter").select_option("pending")
    assert _rows(page, visible_only=True) == [board.waiting, board.later]
    page.locator("#status-filter").select_option("declined")
    assert _rows(page, visible_only=True) == [board.declined]
    page.locator("#status-filter").select_option("")
    page.locator("#delegation-filter").select_option("DZ")
    shown = _rows(page, visible_only=True)
    with_dz = [r["id"] for r in site.every("/requests") if any(p["delegation"] == "DZ" for p in r["parties"])]
    assert shown == with_dz and board.waiting in shown and board.declined not in shown
    expect(page.locator("#shown-count")).to_have_text(f"Showing {len(with_dz)} of {len(_rows(page))} requests.")
    page.locator("#delegation-filter").select_option("")
    page.locator("#priority-filter").check()
    assert _rows(page, visible_only=True) == [board.waiting, board.later]
    assert errors == [], errors
    page.close()


def test_the_chase_list_names_the_delegations_owing_answers_oldest_first(browser: Browser, board: Board) -> None:
    page, errors = _open(browser, board.site)
    owing = page.locator("#chase-waiting li")
    assert owing.evaluate_all("items => items.map(item => item.dataset.delegation)") == ["DZ", "AL"]
    expect(owing.first).to_contain_text("2 requests waiting")
    expect(owing.first).to_contain_text("has answered none yet")
    expect(owing.nth(1)).to_contain_text("1 request waiting")
    silent = page.locator("#chase-silent li").evaluate_all("items => items.map(item => item.dataset.delegation)")
    assert len(silent) == 190 - 4 and {"AL", "AD", "AG", "AO"}.isdisjoint(silent) and "DZ" in silent
    assert errors == [], errors
    page.close()


def test_a_priority_set_on_the_page_is_stored_and_a_stale_one_is_refused(browser: Browser, board: Board) -> None:
    site = board.site
    page, errors = _open(browser, site)
    select = page.locator(f'select.priority[data-request="{board.waiting}"]')
    select.select_option("low")
    expect(page.locator("#said")).to_have_text("Water and energy: priority set to low.", timeout=WAIT_MS)
    assert _request(site, board.waiting)["priority"] == "low"
    expect(select).to_have_value("low")
    expect(select).to_be_enabled()

    # A colleague edits the same request after the page read it: the page's ETag is stale.
    headers = {**site.organiser(), "If-Match": "*"}
    edited = site.api.patch(f"{site.base}/requests/{board.later}", json={"title": "Islands caucus"}, headers=headers)
    assert edited.status_code == 200, edited.text
    row = page.locator(f'#requests-body tr[data-request="{board.later}"]')
    row.locator("select.priority").select_option("must")
    expect(row.locator(".note")).to_contain_text("changed since this page read it (412", timeout=WAIT_MS)
    expect(row.locator(".title")).to_have_text("Islands caucus")  # the row as it is now
    expect(row.locator("select.priority")).to_have_value("normal")
    assert _request(site, board.later)["priority"] == "normal"
    # Set again on the row read afresh, it is stored.
    row.locator("select.priority").select_option("must")
    expect(page.locator("#said")).to_have_text("Islands caucus: priority set to must.", timeout=WAIT_MS)
    assert _request(site, board.later)["priority"] == "must"

    # Any other refusal is shown in the row, in the API's words: a withdrawn request is not edited.
    row = page.locator(f'#requests-body tr[data-request="{board.withdrawn}"]')
    row.locator("select.priority").select_option("high")
    expect(row.locator(".note")).to_have_text(
        "The priority of Fisheries talks was not set: the request is withdrawn (409)", timeout=WAIT_MS
    )
    expect(row.locator("select.priority")).to_have_value("normal")
    assert _request(site, board.withdrawn)["priority"] == "normal"
    assert errors == [], errors
    page.close()


def test_confirm_decides_the_asked_priority_and_a_stale_one_is_refused(browser: Browser, board: Board) -> None:
    """Confirm keeps the priority a delegation asked and records the organiser's decision: the row
    leaves "Needs a priority" and the focus goes on to the next undecided row. One the page holds
    stale (a colleague's edit) is refused (412) and shown as it is now, still to confirm."""
    site = board.site
    first = _ask(site, "BE", ["BE", "BF"], "Demining data")
    second = _ask(site, "BG", ["BG", "BH"], "Coast guard")
    page, errors = _open(browser, site)
    page.locator("#priority-filter").check()
    needing = _count(page, "needs-priority")
    shown = _rows(page, visible_only=True)
    assert shown[-2:] == [first, second]
    row = page.locator(f'#requests-body tr[data-request="{first}"]')
    confirm = row.locator("button.confirm")
    expect(confirm).to_have_accessible_name("Confirm normal for Demining data")
    row.locator("select.priority").focus()
    page.keyboard.press("Tab")
    expect(confirm).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#said")).to_have_text("Demining data: priority confirmed at normal.", timeout=WAIT_MS)
    stored = _request(site, first)
    assert stored["priority"] == "normal" and stored["priority_decided_at"] is not None
    expect(row).to_be_hidden()  # decided: the filter lets it go
    assert _count(page, "needs-priority") == needing - 1
    other = page.locator(f'#requests-body tr[data-request="{second}"]')
    expect(other.locator("button.confirm")).to_be_focused()  # on to the next undecided row

    # A colleague renames the second after the page read it: the page's ETag is stale.
    headers = {**site.organiser(), "If-Match": "*"}
    renamed = site.api.patch(f"{site.base}/requests/{second}", json={"title": "Coast guards"}, headers=headers)
    assert renamed.status_code == 200, renamed.text
    page.keyboard.press("Enter")
    expect(other.locator(".note")).to_contain_text("changed since this page read it (412", timeout=WAIT_MS)
    expect(other.locator(".note")).to_contain_text("Confirm its priority again if it is still wanted.")
    expect(other.locator(".title")).to_have_text("Coast guards")
    assert _request(site, second)["priority_decided_at"] is None
    expect(other.locator("button.confirm")).to_be_focused()  # still undecided: still to confirm
    page.keyboard.press("Enter")
    expect(page.locator("#said")).to_have_text("Coast guards: priority confirmed at normal.", timeout=WAIT_MS)
    assert _request(site, second)["priority_decided_at"] is not None
    # Shown without the filter, a decided row has no Confirm.
    page.locator("#priority-filter").uncheck()
    expect(row).to_be_visible()
    expect(row.locator("button.confirm")).to_have_count(0)
    expect(row).not_to_have_class(re.compile("needs-priority"))
    assert errors == [], errors
    page.close()


def test_refresh_reads_again_and_says_what_changed(browser: Browser, board: Board) -> None:
    site = board.site
    page, errors = _open(browser, site)
    before = len(_rows(page))
    made = _ask(site, "AO", ["AO", "AL"], "Fisheries")
    page.locator("#refresh-button").click()
    expect(page.locator("#said")).to_have_text(re.compile(r"^Updated at \d\d:\d\d: 1 new\.$"), timeout=WAIT_MS)
    assert _rows(page)[-1] == made and len(_rows(page)) == before + 1
    assert errors == [], errors
    page.close()


def _open_still(browser: Browser, site: Site) -> tuple[Page, list[str]]:
    """The page with every row drawn and its clock stopped: its polls fire when a test moves it."""
    page = browser.new_page(viewport=DESK)
    errors = _watch(page)
    page.clock.install()
    page.goto(f"{site.server.url}/requests#token={site.forum.organiser_token}")
    page.locator("#requests-body tr").first.wait_for(timeout=WAIT_MS)
    expect(page.locator("#requests-table")).not_to_have_attribute("aria-busy", "true")  # every row drawn
    _stop_clock(page)
    return page, errors


def test_the_page_shows_what_another_client_did_without_a_click(browser: Browser, board: Board) -> None:
    """The page asks every 20 s (If-None-Match: 304 while nothing changed) and merges what changed:
    the filter, the focus and a priority being chosen stay as they were."""
    site = board.site
    page, errors = _open_still(browser, site)
    page.locator("#status-filter").select_option("pending")
    before = len(_rows(page))
    # The organiser is about to choose the priority of a request DZ answers meanwhile.
    editing = page.locator(f'select.priority[data-request="{board.waiting}"]')
    editing.focus()
    made = _ask(site, "AM", ["AM", "AL"], "Mountain partnership")
    answer = site.api.post(f"{site.base}/requests/{board.waiting}/accept", json={}, headers=_token(site, "DZ"))
    assert answer.status_code == 200, answer.text
    gone = _ask(site, "AD", ["AD", "AL"], "Withdrawn at once")
    answer = site.api.post(f"{site.base}/requests/{gone}/withdraw", headers=_token(site, "AD"))
    assert answer.status_code == 200, answer.text
    page.clock.run_for("00:21")
    said = re.compile(r"^Updated at \d\d:\d\d: 2 new, 1 answered\.$")  # the withdrawn one is new too
    expect(page.locator("#said")).to_have_text(said, timeout=WAIT_MS)
    new_row = page.locator(f'#requests-body tr[data-request="{made}"]')
    expect(new_row).to_be_visible()
    expect(new_row.locator("td.updated")).not_to_be_empty()
    expect(page.locator(f'#requests-body tr[data-request="{gone}"]')).to_be_hidden()  # the filter holds
    expect(page.locator("#status-filter")).to_have_value("pending")
    assert len(_rows(page)) == before + 2
    # The row being edited is left as it was, with the focus, until the organiser leaves it.
    expect(editing).to_be_focused()
    row = page.locator(f'#requests-body tr[data-request="{board.waiting}"]')
    expect(row).to_have_attribute("data-status", "pending")
    page.locator("#status-filter").focus()
    expect(row).to_have_attribute("data-status", "accepted", timeout=WAIT_MS)
    expect(row).to_be_hidden()  # accepted: the pending filter hides it now
    # Nothing more changed: the next poll answers 304 and says nothing new.
    page.locator("#said").evaluate("node => { node.textContent = ''; }")
    page.clock.run_for("00:21")
    page.wait_for_timeout(500)
    expect(page.locator("#said")).to_have_text("")
    assert errors == [], errors
    page.close()


def test_the_grid_links_to_the_requests_page_with_its_token(browser: Browser, board: Board) -> None:
    page = browser.new_page(viewport=DESK)
    page.goto(f"{board.site.server.url}/grid#token={board.site.forum.organiser_token}")
    link = page.locator("#requests-link")
    expect(link).to_have_attribute("href", f"/requests#token={board.site.forum.organiser_token}", timeout=WAIT_MS)
    link.click()
    page.locator("#requests-body tr").first.wait_for(timeout=WAIT_MS)
    page.close()


def test_a_delegation_token_is_refused(browser: Browser, board: Board) -> None:
    page = browser.new_page(viewport=DESK)
    errors = _watch(page)
    page.goto(f"{board.site.server.url}/requests#token={board.site.forum.delegation_tokens['DZ']}")
    expect(page.locator("#message")).to_have_text(
        "This page needs the forum organiser's token. A delegation's token opens /agenda.", timeout=WAIT_MS
    )
    expect(page.locator("#app")).to_be_hidden()
    expect(page.locator("#requests-body tr")).to_have_count(0)
    # A walkthrough's user read "/agenda" as text: it is a link, and carries no token (the one
    # entered here stays in this page's storage; the agenda page asks for its own).
    link = page.locator("#message").get_by_role("link", name="/agenda")
    expect(link).to_have_attribute("href", "/agenda")
    link.click()
    page.wait_for_url(f"{board.site.server.url}/agenda")
    expect(page.locator("#token-form")).to_be_visible(timeout=WAIT_MS)
    assert errors == [], errors
    page.close()


def test_a_hostile_title_is_shown_as_text_and_the_token_never_leaves_the_fragment(
    browser: Browser, board: Board
) -> None:
    """A delegation names its request's title: markup in it is drawn as text, never run. The
    organiser's token stays out of every address the page asks for and out of any Referer."""
    site = board.site
    hostile = '<img src=x onerror="window.__hostile = 1"><b>Bold</b>'
    made = _ask(site, "AL", ["AL", "DZ"], hostile)
    page = browser.new_page(viewport=DESK)
    errors = _watch(page)
    sent: list[tuple[str, str | None]] = []
    page.on("request", lambda request: sent.append((request.url, request.headers.get("referer"))))
    page.goto(f"{site.server.url}/requests#token={site.forum.organiser_token}")
    row = page.locator(f'#requests-body tr[data-request="{made}"]')
    expect(row).to_contain_text(hostile, timeout=WAIT_MS)
    assert row.locator("img, b").count() == 0 and page.evaluate("window.__hostile") is None
    token = site.forum.organiser_token
    assert token not in page.url and page.evaluate("Object.values(sessionStorage)") == [token]
    assert sent and all(token not in url and (referer is None or token not in referer) for url, referer in sent)
    assert errors == [], errors
    page.close()


def test_chromes_accessibility_tree_holds_the_table_row_by_row(browser: Browser, board: Board) -> None:
    """Chrome's own accessibility tree (not the DOM): the table named by its caption, a row of
    column headers, then a row a request shown, each a row header naming the request (title and
    id) and six cells; a filter takes the hidden rows out of it too."""
    site = board.site
    requests = site.every("/requests")
    page, errors = _open(browser, site)
    (table,) = _ax_tables(page)
    assert table.name == "Every request of the forum, in order of creation"
    header, *rows = table.rows
    assert [(cell.role, cell.name) for cell in header] == [
        ("columnheader", name)
        for name in ("Request", "Parties and their answers", "Minutes", "Priority", "Status", "Created", "Updated")
    ]
    assert len(rows) == len(requests)
    assert all([cell.role for cell in row] == ["rowheader"] + ["cell"] * 6 for row in rows)
    for request, row in zip(requests, rows, strict=True):
        assert request["title"] in row[0].name and request["id"] in row[0].name, (request["id"], row[0].name)
    declined = next(row for request, row in zip(requests, rows, strict=True) if request["id"] == board.declined)
    assert declined[4].name == "declined"
    assert "Angola" in declined[1].name  # AO, who declined
    page.locator("#status-filter").select_option("declined")
    expect(page.locator("#shown-count")).to_have_text(f"Showing 1 of {len(requests)} requests.")
    (table,) = _ax_tables(page)
    assert [row[0].name for row in table.rows[1:]] == [declined[0].name]
    assert errors == [], errors
    page.close()


def test_axe_finds_nothing_on_the_requests_page(browser: Browser, board: Board) -> None:
    """The table as loaded (more than 1,000 rows), then narrowed by its filters."""
    page, errors = _open(browser, board.site)
    found = _axe(page, "requests")
    page.locator("#status-filter").select_option("pending")
    page.locator("#delegation-filter").select_option("DZ")
    found += _axe(page, "requests filtered")
    assert found == [], "\n".join(found)
    assert errors == [], errors
    page.close()


def test_the_keyboard_reaches_each_rows_priority_with_its_focus_shown(browser: Browser, board: Board) -> None:
    """Narrowed to the requests of one delegation, Tab from the table's title reaches each row's
    priority select in the rows' order, and after it the row's Confirm where its priority is
    undecided (one at least: a request AL asks now), each with a focus outline drawn."""
    _ask(board.site, "AL", ["AL", "BJ"], "Keyboard walk")
    page, errors = _open(browser, board.site)
    page.locator("#delegation-filter").select_option("AL")
    table = page.locator("#requests-table")
    rows = _rows(page, visible_only=True)
    undecided = set(
        page.locator("#requests-body tr.needs-priority").evaluate_all("rows => rows.map(r => r.dataset.request)")
    )
    assert undecided & set(rows)
    expected = [stop for row in rows for stop in ([row, row] if row in undecided else [row])]
    count, reached = _tab_walk(page, table, page.locator("#table-title"))
    assert count == len(expected) > 1 and _stops(reached) == list(range(count)), reached
    controls = table.locator("[data-tab-probe]")
    numbered = controls.evaluate_all("nodes => nodes.map(n => n.dataset.request)")
    assert numbered == expected  # each row's select, then its Confirm when it has one
    kinds = controls.evaluate_all("nodes => nodes.map(n => n.matches('select.priority, button.confirm'))")
    assert all(kinds)
    assert all(step["visible"] for step in reached), reached
    assert errors == [], errors
    page.close()


def _count(page: Page, status: str) -> int:
    return int(page.locator(f'#counts li[data-status="{status}"] strong').inner_text())


def test_an_open_page_shows_the_parties_the_organiser_changed(browser: Browser, board: Board) -> None:
    """Bosnia's request, accepted by Barbados, is changed by the organiser (another client) to ask
    Bangladesh instead: at the page's next poll the row names Bangladesh as waiting and Barbados no
    more, the counts move it from accepted to waiting, the chase list names Bangladesh, and the
    page says the parties changed (not that someone answered)."""
    site = board.site
    asked = _ask(site, "BA", ["BA", "BB"], "Balkan demining")
    answer = site.api.post(f"{site.base}/requests/{asked}/accept", json={}, headers=_token(site, "BB"))
    assert answer.status_code == 200, answer.text
    page, errors = _open_still(browser, site)
    row = page.locator(f'#requests-body tr[data-request="{asked}"]')
    expect(row).to_have_attribute("data-status", "accepted")
    pending, accepted = _count(page, "pending"), _count(page, "accepted")
    owing = page.locator('#chase-waiting li[data-delegation="BD"]')
    expect(owing).to_have_count(0)

    read = site.api.get(f"{site.base}/requests/{asked}", headers=site.organiser())
    headers = {**site.organiser(), "If-Match": read.headers["ETag"]}
    changed = site.api.patch(f"{site.base}/requests/{asked}", json={"parties": ["BA", "BD"]}, headers=headers)
    assert changed.status_code == 200, changed.text
    page.clock.run_for("00:21")
    expect(page.locator("#said")).to_have_text(
        re.compile(r"^Updated at \d\d:\d\d: 1 with its parties changed\.$"), timeout=WAIT_MS
    )
    expect(row).to_have_attribute("data-status", "pending")
    parties = row.locator("ul.parties li")
    expect(parties).to_have_count(2)
    expect(parties.nth(1)).to_contain_text("BD")
    expect(parties.nth(1).locator("strong")).to_have_text("pending")
    expect(row.locator("ul.parties")).not_to_contain_text("(BB)")
    assert (_count(page, "pending"), _count(page, "accepted")) == (pending + 1, accepted - 1)
    expect(owing).to_contain_text("1 request waiting")
    assert errors == [], errors
    page.close()
