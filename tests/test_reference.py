"""The API reference at /schema is written on the server from the app's own OpenAPI document
(api/reference.py) and needs nothing from outside: these tests read the page the app serves
and hold it against the document it serves at /schema/openapi.json, so a route, parameter,
answer or field added later shows on the page or fails here."""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator, Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import msgspec
import pytest

from api.app import create_app
from api.errors import PROBLEM_JSON
from api.openapi import ERROR_DESCRIPTIONS
from tests.conftest import asgi_client

pytestmark = pytest.mark.anyio

OPERATIONS = ("get", "put", "post", "patch", "delete")
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})


class Node:
    def __init__(self, tag: str, attrs: dict[str, str], parent: Node | None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node | str] = []

    def text(self) -> str:
        """The text a reader sees, spaces collapsed."""
        parts = [child if isinstance(child, str) else child.text() for child in self.children]
        return " ".join("".join(parts).split())

    def walk(self) -> Iterator[Node]:
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.walk()

    def all(self, tag: str, **attrs: str) -> list[Node]:
        return [n for n in self.walk() if n.tag == tag and all(n.attrs.get(k) == v for k, v in attrs.items())]

    def one(self, tag: str, **attrs: str) -> Node:
        found = self.all(tag, **attrs)
        assert len(found) == 1, (tag, attrs, len(found))
        return found[0]

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())


class Tree(HTMLParser):
    """The page as a tree; an end tag that closes anything but the innermost open element fails."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.open = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs}, self.open)
        self.open.children.append(node)
        if tag not in VOID:
            self.open = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.open.children.append(Node(tag, {k: v or "" for k, v in attrs}, self.open))

    def handle_endtag(self, tag: str) -> None:
        assert self.open.tag == tag, f"</{tag}> closes <{self.open.tag}>"
        assert self.open.parent is not None
        self.open = self.open.parent

    def handle_data(self, data: str) -> None:
        self.open.children.append(data)


def parse(page: str) -> Node:
    tree = Tree()
    tree.feed(page)
    tree.close()
    assert tree.open is tree.root, f"<{tree.open.tag}> is never closed"
    return tree.root


def plain(description: str) -> str:
    """A description as the page shows it: `code` spans lose their backticks."""
    return " ".join(description.replace("`", "").split())


class Served(msgspec.Struct):
    page: str
    headers: dict[str, str]
    document: dict[str, Any]
    tree: Node
    fetch: dict[str, int]  # each same-server address the page names -> its status


@pytest.fixture(scope="module")
async def served() -> AsyncIterator[Served]:
    async with asgi_client(create_app(None)) as client:
        answer = await client.get("/schema")
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
        document = (await client.get("/schema/openapi.json")).json()
        tree = parse(answer.text)
        named = {a for n in tree.walk() for k, a in n.attrs.items() if k in ("href", "src") and a.startswith("/")}
        fetch = {address: (await client.get(address)).status_code for address in sorted(named)}
        yield Served(answer.text, dict(answer.headers), document, tree, fetch)


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in OPERATIONS:
            if method in item:
                yield method.upper(), path, item[method]


def articles(tree: Node, kind: str) -> dict[str, Node]:
    """The page's operation articles by their heading ("GET /path") or schema articles by name."""
    found: dict[str, Node] = {}
    for article in tree.all("article"):
        if kind in article.classes():
            heading = article.one("h3").text()
            assert heading not in found, f"{heading} twice"
            found[heading] = article
    return found


def rows(table: Node) -> dict[str, Node]:
    """A table's body rows by the text of their row header."""
    return {row.one("th").text(): row for row in table.one("tbody").all("tr")}


def cell(row: Node, label: str) -> Node:
    return next(td for td in row.all("td") if td.attrs.get("data-label") == label)


def table_after(article: Node, heading: str) -> Node | None:
    """The table that follows the article's <h4> of that name, None when the article has none."""
    children = [c for c in article.children if isinstance(c, Node)]
    for index, child in enumerate(children):
        if child.tag == "h4" and child.text().startswith(heading):
            following = children[index + 1]
            return following if following.tag == "table" else None
    return None


def links(node: Node) -> set[str]:
    return {a.attrs["href"] for a in node.all("a")}


async def test_the_page_lists_every_operation_of_the_document(served: Served) -> None:
    documented = {f"{method} {path}": spec for method, path, spec in operations(served.document)}
    assert len(documented) > 80  # the whole API, not an empty document
    shown = articles(served.tree, "operation")
    assert set(shown) == set(documented)
    for label, article in shown.items():
        section = article.parent
        assert section is not None and section.tag == "section"
        assert section.one("h2").text() == documented[label]["tags"][0], label  # grouped by tag
        assert article.one("p", **{"class": "summary"}).text() == plain(documented[label]["summary"]), label
        assert f"#{article.attrs['id']}" in links(section.one("ul", **{"class": "index"}))  # the tag's own list


async def test_each_operation_shows_its_parameters_body_answers_and_token(served: Served) -> None:
    shown = articles(served.tree, "operation")
    for method, path, spec in operations(served.document):
        article = shown[f"{method} {path}"]
        where = f"{method} {path}"
        parameters = table_after(article, "Parameters")
        expected = {p["name"]: p for p in spec.get("parameters", [])}
        shown_parameters = rows(parameters) if parameters else {}
        assert set(shown_parameters) == set(expected), where
        for name, parameter in expected.items():
            row = shown_parameters[name]
            assert cell(row, "In").text() == parameter["in"], (where, name)
            assert cell(row, "Required").text() == ("required" if parameter["required"] else "optional"), (where, name)
            assert cell(row, "Type").text(), (where, name)
            assert cell(row, "Description").text().startswith(plain(parameter["description"])), (where, name)

        body = spec.get("requestBody")
        if body is None:
            assert not any(h.text().startswith("Request body") for h in article.all("h4")), where
        else:
            heading = next(h for h in article.all("h4") if h.text().startswith("Request body"))
            assert ("(required)" in heading.text()) == bool(body.get("required")), where
            listed = article.one("ul", **{"class": "body"}).text()
            for media, content in body["content"].items():
                assert media in listed, where
                for name in re.findall(r"#/components/schemas/(\w+)", str(content)):
                    assert f"#schema-{name}" in links(article.one("ul", **{"class": "body"})), (where, name)

        answers = table_after(article, "Responses")
        assert answers is not None, where
        shown_answers = rows(answers)
        assert list(shown_answers) == list(spec["responses"]), where
        for status, answer in spec["responses"].items():
            row = shown_answers[status]
            assert cell(row, "Meaning").text() == plain(answer["description"]), (where, status)
            for media in answer.get("content", {}):
                assert media in cell(row, "Body").text(), (where, status, media)
            if status.startswith("4"):
                assert PROBLEM_JSON in cell(row, "Body").text(), (where, status)
                assert links(cell(row, "Body")) == {"#schema-ProblemDetails"}, (where, status)

        token = article.one("p", **{"class": "auth"})
        kinds = [name for requirement in spec["security"] for name in requirement]  # each operation says
        if not kinds:
            assert token.text() == "Token: none (public)", where
        else:  # one kind per requirement (any of them will do), each linked to its scheme
            assert all(len(requirement) == 1 for requirement in spec["security"]), where
            assert token.text() == f"Token: {' or '.join(kinds)} (Authorization: Bearer <token>)", where
            assert links(token) == {f"#token-{kind}" for kind in kinds}, where


async def test_the_start_names_each_kind_of_token(served: Served) -> None:
    schemes = served.document["components"]["securitySchemes"]
    assert set(schemes) == {"admin", "organiser", "delegation"} and "security" not in served.document
    start = served.tree.one("section", id="start")
    for name, scheme in schemes.items():
        item = start.one("li", id=f"token-{name}")
        assert item.text() == f"{name} (Authorization: Bearer <token>): {plain(scheme['description'])}", name


async def test_a_problem_details_answer_and_its_schema_are_shown(served: Served) -> None:
    patch = articles(served.tree, "operation")["PATCH /forums/{forum_id}"]
    answers = table_after(patch, "Responses")
    assert answers is not None
    stale = rows(answers)["412"]
    assert cell(stale, "Meaning").text() == ERROR_DESCRIPTIONS[412]
    assert cell(stale, "Body").text() == f"{PROBLEM_JSON}: ProblemDetails"
    problem = served.tree.one("article", id="schema-ProblemDetails")
    fields = rows(problem.one("table"))
    assert list(fields) == ["type", "title", "status", "detail", "instance", "errors"]
    assert cell(fields["status"], "Required").text() == "required"
    assert cell(fields["errors"], "Type").text() == "array of FieldError"
    assert links(cell(fields["errors"], "Type")) == {"#schema-FieldError"}
    assert cell(fields["detail"], "Description").text() == 'what went wrong, in a sentence default ""'
    assert served.tree.one("article", id="schema-FieldError")


async def test_every_schema_shows_its_fields_types_and_values(served: Served) -> None:
    schemas = served.document["components"]["schemas"]
    shown = articles(served.tree, "schema")
    assert set(shown) == set(schemas) and len(schemas) > 80
    for name, schema in schemas.items():
        article = shown[name]
        assert article.attrs["id"] == f"schema-{name}"
        properties = schema.get("properties", {})
        fields = rows(article.one("table")) if properties else {}
        assert list(fields) == list(properties), name
        for field, spec in properties.items():
            row = fields[field]
            required = "required" if field in schema.get("required", []) else "optional"
            assert cell(row, "Required").text() == required, (name, field)
            assert cell(row, "Type").text(), (name, field)
            described = cell(row, "Description").text()
            if "description" in spec:
                assert described.startswith(plain(spec["description"])), (name, field)
            values = [*spec.get("enum", []), *(v for part in spec.get("oneOf", []) for v in part.get("enum", []))]
            for value in values + ([spec["const"]] if "const" in spec else []):
                assert f'"{value}"' in described, (name, field, value)
            for referred in re.findall(r"#/components/schemas/(\w+)", str(spec)):
                assert f"#schema-{referred}" in links(cell(row, "Type")), (name, field, referred)
    # Known ones, as a reader sees them.
    run = rows(shown["Run"].one("table"))
    assert (
        cell(run["status"], "Description")
        .text()
        .endswith('one of "queued", "running", "succeeded", "failed", "cancelled"')
    )
    assert cell(run["progress"], "Type").text() == "RunProgress or null"
    assert cell(run["created_at"], "Type").text() == "string (date-time)"
    assert cell(rows(shown["Day"].one("table"))["start"], "Type").text() == "string (time)"
    assert cell(rows(shown["Travel"].one("table"))["between"], "Type").text() == "array [string, string]"
    workers = cell(rows(shown["RunIn"].one("table"))["workers"], "Description").text()
    assert workers == "search threads, 1 to 16 default 2"


async def test_the_page_asks_for_nothing_outside_this_server(served: Served) -> None:
    elsewhere = [
        url for url in re.findall(r"(?i)\bhttps?://[^\s\"'<>)]+", served.page) if urlsplit(url).hostname != "testserver"
    ]
    assert elsewhere == []
    assert re.findall(r"(?i)[\"'(]//", served.page) == []  # no protocol-relative address either
    assert served.tree.all("script") == [] and served.tree.all("iframe") == []
    addresses = [(k, v) for n in served.tree.walk() for k, v in n.attrs.items() if k in ("href", "src", "action")]
    ids = [n.attrs["id"] for n in served.tree.walk() if "id" in n.attrs]
    assert len(ids) == len(set(ids))
    for attribute, address in addresses:
        if address.startswith("#"):
            assert address[1:] in ids, address  # every link within the page has its target
        elif address != "data:,":  # the empty icon, so the browser asks for no /favicon.ico
            assert address.startswith("/") and not address.startswith("//"), (attribute, address)
    assert served.fetch and all(status == 200 for status in served.fetch.values()), served.fetch
    assert {"/static/pages.css", "/static/reference.css", "/schema/openapi.json"} <= set(served.fetch)
    # The browser is told so too: the page may load styles from here and nothing else at all.
    policy = served.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "style-src 'self'" in policy and "script" not in policy


async def test_the_page_has_headings_and_landmarks_in_order(served: Served) -> None:
    tree = served.tree
    assert tree.one("html").attrs["lang"] == "en"
    assert tree.one("meta", name="viewport")
    assert tree.one("h1").text() == "Sidelines API reference"
    for landmark in ("header", "nav", "main"):
        assert tree.one(landmark)
    assert tree.one("nav").attrs["aria-labelledby"] == "contents-title"
    levels = [int(n.tag[1]) for n in tree.walk() if re.fullmatch(r"h[1-6]", n.tag)]
    assert levels[0] == 1 and all(b <= a + 1 for a, b in itertools.pairwise(levels))
    sections = [n.one("h2").text() for n in tree.one("main").all("section")]
    tags = list(dict.fromkeys(spec["tags"][0] for _, _, spec in operations(served.document)))
    assert sections == ["Start here", *tags, "Schemas"]
    start = tree.one("section", id="start").text()
    assert "docs/api.md" in start and "/schema/openapi.json" in start
    contents = links(tree.one("nav"))
    assert contents == {"#start", "#schemas", *(f"#tag-{tag}" for tag in tags)}


@pytest.mark.parametrize("viewer", ["scalar", "swagger"])
async def test_the_online_viewers_say_they_need_the_internet(viewer: str) -> None:
    async with asgi_client(create_app(None)) as client:
        answer = await client.get(f"/schema/{viewer}")
        reference = await client.get("/schema")
    assert answer.status_code == 200
    page = answer.text
    notice = page.index("<strong>Needs the internet.</strong>")
    assert notice < page.index("<body>") + len("<body>") + 200  # the body's first words
    assert notice < page.rindex("<script")
    assert re.search(r"<title>[^<]*\(needs the internet\)</title>", page)
    assert 'href="/schema"' in page[notice:] and 'href="/schema/openapi.json"' in page[notice:]
    assert f'href="/schema/{viewer}"' in reference.text  # and the reference names it
