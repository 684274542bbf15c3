"""The API reference at /schema: the app's own OpenAPI document as one plain HTML page.

Scalar and Swagger UI load their code from a CDN, so on a closed network (which the
venues and ministries of defence forums often run) they are blank pages. This page is
written here, on the server, from the document the app serves at /schema/openapi.json:
each operation by tag with its parameters, body, answers (the problem details too) and
token, then each schema with its fields. It asks for /static/pages.css and
/static/reference.css and nothing else, has no script, and its Content-Security-Policy
allows nothing more. The two viewers stay at /schema/scalar and /schema/swagger for
those online, each headed by a notice that it needs the internet.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

from litestar.datastructures import ResponseHeader
from litestar.enums import MediaType
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.plugins import OpenAPIRenderPlugin, ScalarRenderPlugin, SwaggerRenderPlugin

if TYPE_CHECKING:
    from litestar.connection import Request
    from litestar.router import Router

Json = dict[str, Any]
SCHEMA_REF = "#/components/schemas/"
METHODS = ("get", "put", "post", "patch", "delete", "head", "options", "trace")
QUICK_START = "docs/api.md"
USED_BY_LINKS = 24  # more than this many users are counted, not listed
# No script, no frame, no form; styles and the (empty) icon only from here.
REFERENCE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none';"
    " form-action 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


def documentation_plugins(base: str) -> list[OpenAPIRenderPlugin]:
    """The pages under `base` (/schema): the reference at its root, then the two online viewers."""
    reference = ReferencePlugin(
        json_path=f"{base}/openapi.json",
        viewers=[("Scalar", f"{base}/scalar"), ("Swagger UI", f"{base}/swagger")],
    )
    online = {"reference": base, "document": f"{base}/openapi.json"}
    return [reference, OnlineScalar(path="/scalar", **online), OnlineSwagger(path="/swagger", **online)]


class ReferencePlugin(OpenAPIRenderPlugin):
    """Serves `render_reference` at the schema path's root (which makes it Litestar's default page)."""

    def __init__(self, *, json_path: str, viewers: Sequence[tuple[str, str]]) -> None:
        super().__init__(path="/", media_type=MediaType.HTML, favicon="", style="")
        self.json_path = json_path
        self.viewers = list(viewers)
        self._rendered: tuple[Json, bytes] | None = None

    def render(self, request: Request[Any, Any, Any], openapi_schema: Json) -> bytes:
        # Litestar builds the document once and hands the same dict on every request.
        if self._rendered is None or self._rendered[0] is not openapi_schema:
            page = render_reference(openapi_schema, self.json_path, self.viewers)
            self._rendered = (openapi_schema, page.encode())
        return self._rendered[1]

    def receive_router(self, router: Router) -> None:
        """Give the page its headers: Litestar builds the handler itself, from the plugin's paths."""
        handlers = [
            handler
            for route in router.routes
            for handler in getattr(route, "route_handlers", ())
            if isinstance(handler, HTTPRouteHandler) and set(handler.paths) == set(self.paths)
        ]
        if len(handlers) != 1:  # a Litestar that builds these routes otherwise: say so at start
            raise RuntimeError(f"the API reference's route was not found once in the schema router: {handlers}")
        handlers[0].response_headers = [ResponseHeader(name=k, value=v) for k, v in REFERENCE_HEADERS.items()]


def _needs_the_internet(page: bytes, viewer: str, reference: str, document: str) -> bytes:
    """A viewer's page headed by a notice, readable while its CDN code is not (or never) there."""
    notice = (
        '<p role="note" style="margin:0;padding:0.6rem 1rem;background:#fff1d6;color:#111;'
        'border-bottom:2px solid #7a4a00;font:16px/1.4 system-ui,sans-serif">'
        f"<strong>Needs the internet.</strong> {viewer} loads its code from cdn.jsdelivr.net; on a closed "
        f'network this page stays blank. The <a href="{reference}" style="color:#0b4f8a">API reference at '
        f'{reference}</a> and the document at <a href="{document}" style="color:#0b4f8a">{document}</a> '
        "need nothing outside this server.</p>"
    ).encode()
    label = f" · {viewer} (needs the internet)</title>".encode()
    page = page.replace(b"</title>", label, 1)
    for tag in (b"<body>", b"</head>"):
        if tag in page:
            head, rest = page.split(tag, 1)
            return head + tag + (b"" if tag == b"<body>" else b"<body>") + notice + rest
    raise RuntimeError(f"{viewer}'s page has neither <body> nor </head>: the notice has no place")


class OnlineScalar(ScalarRenderPlugin):
    """Scalar, as Litestar serves it, under a notice that it needs the internet."""

    def __init__(self, *, path: str, reference: str, document: str) -> None:
        super().__init__(path=path)
        self.reference, self.document = reference, document

    def render(self, request: Request[Any, Any, Any], openapi_schema: Json) -> bytes:
        return _needs_the_internet(super().render(request, openapi_schema), "Scalar", self.reference, self.document)


class OnlineSwagger(SwaggerRenderPlugin):
    """Swagger UI, as Litestar serves it, under a notice that it needs the internet."""

    def __init__(self, *, path: str, reference: str, document: str) -> None:
        super().__init__(path=path)
        self.reference, self.document = reference, document

    def render(self, request: Request[Any, Any, Any], openapi_schema: Json) -> bytes:
        page = super().render(request, openapi_schema)
        return _needs_the_internet(page, "Swagger UI", self.reference, self.document)


# ---------------------------------------------------------------- the page


def _text(value: object) -> str:
    """Escaped text, with `code` spans as <code> (the document's descriptions use them)."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(str(value), quote=False))


def _value(value: object) -> str:
    """A literal from the document (enum member, default, bound) as code."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"<code>{escape(json.dumps(value) if not isinstance(value, int | float) else str(value))}</code>"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "x"


def _refs(node: object) -> Iterator[str]:
    """Every schema name a part of the document refers to, nested or not."""
    if isinstance(node, dict):
        reference = node.get("$ref")
        if isinstance(reference, str) and reference.startswith(SCHEMA_REF):
            yield reference[len(SCHEMA_REF) :]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


class Operation:
    def __init__(self, path: str, method: str, spec: Json, shared: list[Json], anchor: str) -> None:
        self.path, self.method, self.spec, self.anchor = path, method, spec, anchor
        own = {(p.get("name"), p.get("in")) for p in spec.get("parameters", [])}
        self.parameters: list[Json] = [p for p in shared if (p.get("name"), p.get("in")) not in own]
        self.parameters += spec.get("parameters", [])
        self.tag: str = (spec.get("tags") or ["other"])[0]

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.path}"


class Reference:
    """One document, written out; `page()` is the whole HTML."""

    def __init__(self, document: Json, json_path: str, viewers: Sequence[tuple[str, str]]) -> None:
        self.document = document
        self.json_path = json_path
        self.viewers = viewers
        components = document.get("components") or {}
        self.schemas: Json = components.get("schemas") or {}
        self.security_schemes: Json = components.get("securitySchemes") or {}
        self.operations = list(self._operations())
        self.tags: dict[str, list[Operation]] = {}
        for tag in document.get("tags") or []:  # the document's own order first, when it gives one
            self.tags[tag["name"]] = []
        for operation in self.operations:
            self.tags.setdefault(operation.tag, []).append(operation)
        self.tags = {tag: operations for tag, operations in self.tags.items() if operations}
        self.tag_descriptions = {t["name"]: t.get("description", "") for t in document.get("tags") or []}
        self.used_by: dict[str, dict[str, str]] = {name: {} for name in self.schemas}  # anchor -> label
        for operation in self.operations:
            for name in _refs(operation.spec):
                self.used_by.setdefault(name, {})[operation.anchor] = operation.label
        for owner, schema in self.schemas.items():
            for name in _refs(schema):
                if name != owner:
                    self.used_by.setdefault(name, {})[self.schema_anchor(owner)] = owner

    def _operations(self) -> Iterator[Operation]:
        taken: set[str] = set()
        for path, item in (self.document.get("paths") or {}).items():
            for method in METHODS:
                if method in item:
                    spec = item[method]
                    anchor = base = "op-" + _slug(spec.get("operationId") or f"{method}-{path}")
                    number = 1
                    while anchor in taken:
                        number += 1
                        anchor = f"{base}-{number}"
                    taken.add(anchor)
                    yield Operation(path, method, spec, item.get("parameters", []), anchor)

    @staticmethod
    def schema_anchor(name: str) -> str:
        return f"schema-{_slug(name)}"

    def tag_anchor(self, tag: str) -> str:
        return f"tag-{_slug(tag)}"

    # ------------------------------------------------------------ types and their notes

    def type_of(self, schema: object) -> str:
        """A schema as a short phrase: `string (date-time)`, `array of <a>Day</a>`, `Run or null`."""
        if not isinstance(schema, dict) or not schema:
            return "any"
        if isinstance(schema.get("$ref"), str):
            reference: str = schema["$ref"]
            if reference.startswith(SCHEMA_REF):
                name = reference[len(SCHEMA_REF) :]
                return f'<a href="#{self.schema_anchor(name)}">{escape(name)}</a>'
            return f"<code>{escape(reference)}</code>"
        for key, joint in (("oneOf", " or "), ("anyOf", " or "), ("allOf", " and ")):
            if key in schema:
                parts = list(dict.fromkeys(self.type_of(part) for part in schema[key]))
                return joint.join(parts)
        kind = schema.get("type")
        if isinstance(kind, list):
            return " or ".join(self.type_of({**schema, "type": one}) for one in kind)
        if kind == "array":
            if "prefixItems" in schema:
                return "array [" + ", ".join(self.type_of(item) for item in schema["prefixItems"]) + "]"
            return f"array of {self.type_of(schema['items'])}" if "items" in schema else "array"
        if kind == "object" and schema.get("additionalProperties"):  # {} (any value) says no more than "object"
            return f"object of {self.type_of(schema['additionalProperties'])} by key"
        if kind is None:
            return "const" if "const" in schema else "any"
        return escape(f"{kind} ({schema['format']})" if schema.get("format") else str(kind))

    def notes_of(self, schema: object) -> list[str]:
        """What else a schema says about its values: the set they come from, bounds, default."""
        if not isinstance(schema, dict):
            return []
        notes: list[str] = []
        for key in ("oneOf", "anyOf", "allOf"):
            for part in schema.get(key, []):
                if "$ref" not in part:
                    notes += self.notes_of(part)
        if "enum" in schema:
            notes.append("one of " + ", ".join(_value(v) for v in schema["enum"]))
        if "const" in schema:
            notes.append(f"always {_value(schema['const'])}")
        for low, high, unit in (
            ("minimum", "maximum", ""),
            ("minLength", "maxLength", " characters"),
            ("minItems", "maxItems", " items"),
        ):
            if low in schema and high in schema:
                notes.append(f"{_value(schema[low])} to {_value(schema[high])}{unit}")
            elif low in schema:
                notes.append(f"at least {_value(schema[low])}{unit}")
            elif high in schema:
                notes.append(f"at most {_value(schema[high])}{unit}")
        for key, word in (("exclusiveMinimum", "above"), ("exclusiveMaximum", "below")):
            if key in schema:
                notes.append(f"{word} {_value(schema[key])}")
        if "pattern" in schema:
            notes.append(f"matches <code>{escape(schema['pattern'])}</code>")
        if "items" in schema and isinstance(schema["items"], dict) and "$ref" not in schema["items"]:
            notes += [f"each: {note}" for note in self.notes_of(schema["items"])]
        if "default" in schema:
            notes.append(f"default {_value(schema['default'])}")
        if schema.get("deprecated"):
            notes.append("deprecated")
        return list(dict.fromkeys(notes))

    def described(self, description: object, schema: object) -> str:
        text = _text(description) if description else ""
        notes = self.notes_of(schema)
        if notes:
            text += f' <span class="notes">{"; ".join(notes)}</span>'
        return text

    # ------------------------------------------------------------ the parts

    def page(self) -> str:
        info = self.document.get("info") or {}
        title = str(info.get("title") or "API")
        counts = f"{len(self.operations)} operations, {len(self.schemas)} schemas"
        version = " · ".join(
            part
            for part in (
                f"version {escape(str(info['version']))}" if info.get("version") else "",
                f"OpenAPI {escape(str(self.document.get('openapi', '')))}",
                counts,
            )
            if part
        )
        return "\n".join(
            [
                "<!doctype html>",
                '<html lang="en">',
                "<head>",
                '<meta charset="utf-8">',
                '<meta name="viewport" content="width=device-width, initial-scale=1">',
                f"<title>API reference · {escape(title)}</title>",
                '<link rel="icon" href="data:,">',
                '<link rel="stylesheet" href="/static/pages.css">',
                '<link rel="stylesheet" href="/static/reference.css">',
                "</head>",
                '<body class="reference-page">',
                '<a class="skip-link" href="#main">Skip to the reference</a>',
                '<header class="bar">',
                f"<h1>{escape(title)} API reference</h1>",
                f'<p class="subtitle">{version}</p>',
                "</header>",
                '<div class="layout">',
                self.contents(),
                '<main id="main">',
                self.intro(info),
                *(self.tag_section(tag, operations) for tag, operations in self.tags.items()),
                self.schema_section(),
                "</main>",
                "</div>",
                "</body>",
                "</html>",
                "",
            ]
        )

    def contents(self) -> str:
        """The sections only: each one opens with the list of what it holds."""
        items = ['<li><a href="#start">Start here</a></li>']
        items += [
            f'<li><a href="#{self.tag_anchor(tag)}">{escape(tag)}</a> <span class="count">({len(ops)})</span></li>'
            for tag, ops in self.tags.items()
        ]
        items.append(f'<li><a href="#schemas">Schemas</a> <span class="count">({len(self.schemas)})</span></li>')
        return (
            '<nav class="toc" aria-labelledby="contents-title">'
            f'<h2 id="contents-title">Contents</h2><ul>{"".join(items)}</ul></nav>'
        )

    def intro(self, info: Json) -> str:
        viewers = ", ".join(f'<a href="{escape(path)}">{escape(name)}</a>' for name, path in self.viewers)
        problem = "ProblemDetails"
        problem_link = f'<a href="#{self.schema_anchor(problem)}">{problem}</a>' if problem in self.schemas else problem
        parts = [
            '<section id="start" aria-labelledby="start-title">',
            '<h2 id="start-title">Start here</h2>',
            f"<p>{_text(info['description'])}</p>" if info.get("description") else "",
            f"<p>A first forum, call by call, from <code>POST /forums</code> to a delegation's agenda: the quick "
            f"start in <code>{QUICK_START}</code> (in the source tree), as curl commands that work as written.</p>",
            "<ul>",
            self.tokens(),
            "<li><strong>Errors.</strong> Every error answer is an RFC 9457 problem detail "
            f"(<code>application/problem+json</code>, {problem_link}); each operation lists the statuses "
            "it can answer and why.</li>",
            f'<li><strong>The document.</strong> <a href="{escape(self.json_path)}">{escape(self.json_path)}</a> '
            "is this reference as OpenAPI JSON, for client generators.</li>",
            f"<li><strong>Interactive viewers</strong> ({viewers}) need the internet: they load their code "
            "from a CDN. This page needs nothing outside this server.</li>"
            if self.viewers
            else "",
            "</ul>",
            "</section>",
        ]
        return "\n".join(part for part in parts if part)

    def tokens(self) -> str:
        """The document's security schemes, each with its anchor: the operations link to them."""
        kinds = "".join(
            f'<li id="{self.token_anchor(name)}"><code>{escape(name)}</code> ({self.credential(scheme)})'
            + (f": {_text(scheme['description'])}" if scheme.get("description") else "")
            + "</li>"
            for name, scheme in self.security_schemes.items()
        )
        return (
            "<li><strong>Tokens.</strong> Every operation says which kinds of token it accepts; a few need none."
            + (f"<ul>{kinds}</ul>" if kinds else "")
            + "</li>"
        )

    @staticmethod
    def token_anchor(name: str) -> str:
        return f"token-{_slug(name)}"

    @staticmethod
    def credential(scheme: Json) -> str:
        """How a scheme's token is sent."""
        if scheme.get("type") == "http":
            return f"<code>Authorization: {escape(str(scheme.get('scheme', '')).title())} &lt;token&gt;</code>"
        if scheme.get("type") == "apiKey":
            return f"API key in the {escape(str(scheme.get('in')))} <code>{escape(str(scheme.get('name')))}</code>"
        return escape(str(scheme.get("type", "")))

    def tag_section(self, tag: str, operations: list[Operation]) -> str:
        anchor = self.tag_anchor(tag)
        description = self.tag_descriptions.get(tag)
        return "\n".join(
            [
                f'<section id="{anchor}" class="tag" aria-labelledby="{anchor}-title">',
                f'<h2 id="{anchor}-title">{escape(tag)}</h2>',
                f"<p>{_text(description)}</p>" if description else "",
                '<ul class="index">'
                + "".join(
                    f'<li><a href="#{o.anchor}"><span class="verb">{o.method.upper()}</span> '
                    f"<code>{escape(o.path)}</code></a></li>"
                    for o in operations
                )
                + "</ul>",
                *(self.operation(operation) for operation in operations),
                "</section>",
            ]
        )

    def operation(self, operation: Operation) -> str:
        spec = operation.spec
        method = operation.method
        parts = [
            f'<article id="{operation.anchor}" class="operation" aria-labelledby="{operation.anchor}-title"'
            f' data-method="{method.upper()}" data-path="{escape(operation.path)}">',
            f'<h3 id="{operation.anchor}-title"><span class="method {method}">{method.upper()}</span> '
            f'<code class="path">{escape(operation.path)}</code></h3>',
            f'<p class="summary">{_text(spec["summary"])}</p>' if spec.get("summary") else "",
            f"<p>{_text(spec['description'])}</p>" if spec.get("description") else "",
            f'<p class="auth"><strong>Token:</strong> {self.security(spec)}</p>',
            '<p class="deprecated"><strong>Deprecated.</strong></p>' if spec.get("deprecated") else "",
            self.parameters(operation),
            self.request_body(spec.get("requestBody")),
            self.responses(spec.get("responses") or {}),
            "</article>",
        ]
        return "\n".join(part for part in parts if part)

    def security(self, spec: Json) -> str:
        """The kinds of token an operation accepts, each linked to its scheme, and how they are sent."""
        requirements = spec["security"] if "security" in spec else self.document.get("security") or []
        alternatives = [requirement for requirement in requirements if requirement]
        if not alternatives:
            return "none (public)"
        named = [
            " and ".join(
                f'<a href="#{self.token_anchor(name)}">{escape(name)}</a>'
                if name in self.security_schemes
                else escape(name)
                for name in requirement
            )
            for requirement in alternatives
        ]
        sent = {
            self.credential(self.security_schemes[name])
            for r in alternatives
            for name in r
            if name in self.security_schemes
        }
        return " or ".join(named) + (f" ({sent.pop()})" if len(sent) == 1 else "")

    def parameters(self, operation: Operation) -> str:
        if not operation.parameters:
            return ""
        rows = []
        for parameter in operation.parameters:
            schema = parameter.get("schema") or {}
            description = parameter.get("description") or schema.get("description")
            required = "required" if parameter.get("required") else "optional"
            rows.append(
                f'<tr data-name="{escape(parameter["name"])}" data-in="{escape(parameter["in"])}">'
                f'<th scope="row"><code>{escape(parameter["name"])}</code></th>'
                f'<td data-label="In">{escape(parameter["in"])}</td>'
                f'<td data-label="Type">{self.type_of(schema)}</td>'
                f'<td data-label="Required">{required}</td>'
                f'<td data-label="Description">{self.described(description, schema)}</td></tr>'
            )
        return (
            "<h4>Parameters</h4>"
            '<table class="parameters"><thead><tr><th scope="col">Name</th><th scope="col">In</th>'
            '<th scope="col">Type</th><th scope="col">Required</th><th scope="col">Description</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>"
        )

    def request_body(self, body: object) -> str:
        if not isinstance(body, dict):
            return ""
        required = "required" if body.get("required") else "optional"
        lines = [
            f"<li><code>{escape(media)}</code>: {self.type_of(content.get('schema'))}"
            + (
                f" — {self.described(content['schema'].get('description'), None)}"
                if isinstance(content.get("schema"), dict) and content["schema"].get("description")
                else ""
            )
            + "</li>"
            for media, content in (body.get("content") or {}).items()
        ]
        description = f"<p>{_text(body['description'])}</p>" if body.get("description") else ""
        heading = f'<h4>Request body <span class="required">({required})</span></h4>'
        return f'{heading}{description}<ul class="body">{"".join(lines)}</ul>'

    def responses(self, responses: Json) -> str:
        rows = []
        for status, answer in responses.items():
            content = answer.get("content") or {}
            bodies = [
                f"<code>{escape(media)}</code>" + (f": {self.type_of(body['schema'])}" if body.get("schema") else "")
                for media, body in content.items()
            ]
            headers = [
                f"header <code>{escape(name)}</code>" + (f": {_text(h['description'])}" if h.get("description") else "")
                for name, h in (answer.get("headers") or {}).items()
            ]
            kind = "error" if str(status).startswith(("4", "5")) else "success"
            rows.append(
                f'<tr class="{kind}" data-status="{escape(str(status))}">'
                f'<th scope="row">{escape(str(status))}</th>'
                f'<td data-label="Meaning">{_text(answer.get("description", ""))}</td>'
                f'<td data-label="Body">{"<br>".join(bodies + headers) or "none"}</td></tr>'
            )
        return (
            "<h4>Responses</h4>"
            '<table class="responses"><thead><tr><th scope="col">Status</th><th scope="col">Meaning</th>'
            f'<th scope="col">Body</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
        )

    def schema_section(self) -> str:
        return "\n".join(
            [
                '<section id="schemas" aria-labelledby="schemas-title">',
                '<h2 id="schemas-title">Schemas</h2>',
                "<p>The bodies the operations take and answer, by name. A field marked required is always "
                "there in an answer and must be sent in a body; <q>or null</q> means it may be null.</p>",
                '<ul class="index schemas">'
                + "".join(f'<li><a href="#{self.schema_anchor(name)}">{escape(name)}</a></li>' for name in self.schemas)
                + "</ul>",
                *(self.schema(name, schema) for name, schema in self.schemas.items()),
                "</section>",
            ]
        )

    def schema(self, name: str, schema: Json) -> str:
        anchor = self.schema_anchor(name)
        parts = [
            f'<article id="{anchor}" class="schema" aria-labelledby="{anchor}-title" data-schema="{escape(name)}">',
            f'<h3 id="{anchor}-title">{escape(name)}</h3>',
            f"<p>{_text(schema['description'])}</p>" if schema.get("description") else "",
        ]
        properties: Json = schema.get("properties") or {}
        required = set(schema.get("required") or [])
        if properties:
            rows = []
            for field, spec in properties.items():
                description = spec.get("description") if isinstance(spec, dict) else None
                rows.append(
                    f'<tr id="{anchor}.{_slug(field)}" data-field="{escape(field)}">'
                    f'<th scope="row"><code>{escape(field)}</code></th>'
                    f'<td data-label="Type">{self.type_of(spec)}</td>'
                    f'<td data-label="Required">{"required" if field in required else "optional"}</td>'
                    f'<td data-label="Description">{self.described(description, spec)}</td></tr>'
                )
            parts.append(
                '<table class="fields"><thead><tr><th scope="col">Field</th><th scope="col">Type</th>'
                '<th scope="col">Required</th><th scope="col">Description</th></tr></thead>'
                f"<tbody>{''.join(rows)}</tbody></table>"
            )
            extra = schema.get("additionalProperties")
            if extra is False:
                parts.append('<p class="notes">No other fields.</p>')
        else:
            notes = self.notes_of(schema)
            parts.append(
                f"<p><strong>Type:</strong> {self.type_of(schema)}"
                + (f' <span class="notes">{"; ".join(notes)}</span>' if notes else "")
                + "</p>"
            )
        users = self.used_by.get(name) or {}
        if len(users) > USED_BY_LINKS:  # ProblemDetails: every operation's error answers
            parts.append(f'<p class="used-by"><strong>Used by:</strong> {len(users)} operations and schemas</p>')
        elif users:
            links = ", ".join(f'<a href="#{target}">{escape(label)}</a>' for target, label in users.items())
            parts.append(f'<p class="used-by"><strong>Used by:</strong> {links}</p>')
        parts.append("</article>")
        return "\n".join(part for part in parts if part)


def render_reference(
    document: Json, json_path: str = "/schema/openapi.json", viewers: Sequence[tuple[str, str]] = ()
) -> str:
    """The whole reference page for an OpenAPI document (a dict, as `OpenAPI.to_schema()` gives it)."""
    return Reference(document, json_path, viewers).page()
