"""Paged lists: one convention for every list that grows with a forum's life.

A paged list is in a fixed order of a key that never changes (a number, an id, a
creation time and id). `after` names the key of the last item the client has (the
field the list shows: `number` or `id`), and the answer holds the items after it, at
most `limit` of them. While more follow, the answer carries an RFC 8288 header
`Link: <next URL>; rel="next"`, the same path and query with `after` set to the page's
last item; without it the list is at its end, and a page shorter than `limit` is its
last one too. Keyset paging, never OFFSET: an item added or removed while a client
pages shifts none of the pages it has yet to read, so none is shown twice or passed
over. Numbered lists number their items under the forum's lock (changes, versions,
publications, deliveries) or at commit (audit entries), so numbers are committed in
order. Requests (by creation time) are keyed when written, not committed: one whose
transaction is still open while a page is read may land behind that page.

The next URL is a path with its query, without scheme and host (RFC 8288 resolves it
against the request's URL): behind a proxy that terminates TLS the server does not
know the address its clients use, and a page served over https must not follow http.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qsl, urlencode

from litestar import Request, Response
from litestar.datastructures import ResponseHeader
from litestar.params import QueryParameter

from api.http import json_response
from db.records import INT8_MAX

T = TypeVar("T")

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

Limit = Annotated[
    int,
    QueryParameter(
        name="limit",
        ge=1,
        le=MAX_LIMIT,
        description=f'at most this many items (default {DEFAULT_LIMIT}); a `Link: <...>; rel="next"` header'
        " names the next page while there are more",
    ),
]
# `after` for the lists keyed by a number (or the audit's `id`, a number too): the key of
# the last item the client has, as the list shows it.
AfterNumber = Annotated[
    int, QueryParameter(name="after", ge=0, le=INT8_MAX, description="the `number` of the last item you have")
]
AfterId = Annotated[
    int, QueryParameter(name="after", ge=0, le=INT8_MAX, description="the `id` of the last item you have")
]
LINK_HEADER = ResponseHeader(
    name="Link",
    documentation_only=True,
    description='`<next page>; rel="next"` while more items follow (a path and query; absent on the last page)',
)


def fetched(limit: int) -> int:
    """How many rows to read for a page of `limit`: one more tells whether another page follows."""
    return limit + 1


def next_url(request: Request[Any, Any, Any], after: object, limit: int) -> str:
    """The request's path and query with `after` and `limit` set for the page that follows."""
    pairs = parse_qsl(request.url.query, keep_blank_values=True)
    kept = [(name, value) for name, value in pairs if name not in ("after", "limit")]
    return f"{request.url.path}?{urlencode([*kept, ('after', str(after)), ('limit', str(limit))])}"


def page(
    request: Request[Any, Any, Any], rows: Sequence[T], limit: int, key: Callable[[T], object]
) -> Response[list[T]]:
    """The first `limit` of `rows` (read with `fetched(limit)`), with the next page's Link when more follow."""
    shown = list(rows[:limit])
    headers = {}
    if len(rows) > limit:
        headers["Link"] = f'<{next_url(request, key(shown[-1]), limit)}>; rel="next"'
    return json_response(shown, headers=headers)
