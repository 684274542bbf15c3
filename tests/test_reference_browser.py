"""The API reference at /schema in a real browser (Debian's Chromium via Playwright, as
tests/test_pages_browser.py), served by uvicorn on 127.0.0.1, with every request the page
makes recorded and any to another host refused: a closed network, as at a forum's venue."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright

from tests.conftest import ADMIN_TOKEN, Databases
from tests.live_server import LiveServer, live_server
from tests.test_pages_browser import CHROMIUM, CHROMIUM_ARGS, CONTRAST_SCRIPT, DESK, PHONE, WAIT_MS, aside

HERE = "127.0.0.1"


@pytest.fixture(scope="module")
def server(server_url: str) -> Iterator[LiveServer]:
    databases = Databases(server_url)
    url = aside(databases.create)
    try:
        with live_server(url, ADMIN_TOKEN) as served:
            yield served
    finally:
        aside(databases.drop_all)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class ClosedNetwork:
    """A page whose requests to any host but this one are recorded and refused."""

    def __init__(self, page: Page) -> None:
        self.asked: list[str] = []  # every address the page asked for, in order
        self.refused: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda request: self.asked.append(request.url))
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.route("**/*", self._route)

    def _route(self, route: Route) -> None:
        if urlsplit(route.request.url).hostname == HERE:
            route.continue_()
        else:
            self.refused.append(route.request.url)
            route.abort("internetdisconnected")

    def outside(self) -> list[str]:
        return [url for url in self.asked if urlsplit(url).hostname != HERE and not url.startswith("data:")]


def test_the_reference_shows_everything_with_no_request_leaving_this_server(
    browser: Browser, server: LiveServer
) -> None:
    page = browser.new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    network = ClosedNetwork(page)
    page.goto(f"{server.url}/schema")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sidelines API reference", timeout=WAIT_MS)
    expect(page.get_by_role("navigation", name="Contents")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("docs/api.md")

    # An operation, its answers (a problem detail among them), and a link to the schema of its body.
    accept = page.locator('article.operation[data-method="POST"][data-path$="/accept"]')
    expect(accept.locator("h3")).to_have_text("POST /forums/{forum_id}/requests/{request_id}/accept")
    expect(accept.locator('tr[data-status="412"]')).to_contain_text("If-Match is not the item's current ETag")
    expect(accept.locator('tr[data-status="412"]')).to_contain_text("application/problem+json")
    accept.get_by_role("link", name="AcceptIn", exact=True).click()
    assert page.url.endswith("#schema-AcceptIn")
    expect(page.locator("#schema-AcceptIn")).to_be_in_viewport()
    expect(page.locator("#schema-AcceptIn tbody tr").first).to_be_visible()

    # Styled by its own stylesheets (a method badge is white on a colour), readable at phone width.
    colours = page.locator(".method.post").first.evaluate(
        "e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]"
    )
    assert colours == ["rgb(255, 255, 255)", "rgb(29, 94, 42)"]
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    contrast = page.evaluate(CONTRAST_SCRIPT)
    assert contrast["measured"] > 1000 and contrast["failures"] == [], contrast["failures"][:10]

    assert network.outside() == [] and network.refused == [], network.outside()
    local = {urlsplit(url).path for url in network.asked}
    assert {"/schema", "/static/pages.css", "/static/reference.css"} <= local  # the recorder saw the page's own
    assert network.errors == []
    page.close()


def test_on_a_desk_the_contents_stay_beside_the_text(browser: Browser, server: LiveServer) -> None:
    page = browser.new_page(viewport=DESK)
    network = ClosedNetwork(page)
    page.goto(f"{server.url}/schema#schemas")
    expect(page.get_by_role("heading", name="Schemas", exact=True)).to_be_in_viewport(timeout=WAIT_MS)
    nav, main = page.get_by_role("navigation", name="Contents"), page.get_by_role("main")
    expect(nav).to_be_in_viewport()  # sticky: still there far down the page
    nav_box, main_box = nav.bounding_box(), main.bounding_box()
    assert nav_box is not None and main_box is not None and nav_box["x"] + nav_box["width"] <= main_box["x"]
    nav.get_by_role("link", name="runs").click()
    expect(page.get_by_role("heading", name="runs", exact=True)).to_be_in_viewport()
    assert network.outside() == [] and network.errors == []
    page.close()
