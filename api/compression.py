"""gzip for the answers that gain from it, and never for those it would break.

Litestar's CompressionMiddleware compresses every answer of `minimum_size` bytes or more to a client
whose Accept-Encoding holds the substring "gzip". `Compression` narrows that:

- It reads Accept-Encoding as RFC 9110 12.5.3 does: `gzip;q=0` refuses gzip, `*` accepts it.
- Event streams (`text/event-stream`: run progress, notices) pass untouched. Through Litestar's
  wrapper a notice stream sent not even its headers until its first event (the wrapper holds the
  start of an answer until its first body), and proxies buffer compressed streams: an event would
  arrive late or never. They are told by their type, so a new stream is covered too.
- Answers compressed already (a Content-Encoding, or a zip such as grid.xlsx), partial answers
  (206, Content-Range) and bodiless ones (204) pass untouched.
- An answer that could be compressed says `Vary: Accept-Encoding` whether or not it is, and so does
  a 304: a shared cache must not hand a gzip body to a client that did not ask for one (or keep a
  plain one as the only copy).
- A strong ETag is made weak (`W/"..."`) on a compressed answer, as nginx does: RFC 9110 8.8.3 ties
  a strong validator to the bytes, and the gzip bytes are not the identity bytes. A 304 must name
  the ETag its 200 would have (RFC 9110 15.4.5), and whether that 200 would be compressed is not
  known without making it: the 304 to a client that accepts gzip names the tag in the form the
  client sent (`W/"x"` for `W/"x"`, got from a compressed answer; `"x"` for `"x"`, from an answer
  too small to compress). If-None-Match compares weakly (`none_match` in api/http.py), so `W/"x"`
  sent back still gets its 304; If-Match already reads the version through a `W/`.
- A HEAD answer says what the GET would: Content-Encoding, no Content-Length, the weak ETag.

BREACH (a secret in a compressed body beside text an attacker chose, read by its size) needs
requests the attacker can make a victim's browser send with its credentials: tokens travel in the
Authorization header, which no other site can make a browser send (there are no cookies).

GZIP_LEVEL and MINIMUM_SIZE are measured on real answers (bench/compression.py, docs/benchmarks.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar.config.compression import CompressionConfig
from litestar.datastructures import Headers, MutableScopeHeaders
from litestar.enums import CompressionEncoding
from litestar.middleware.compression import CompressionMiddleware

if TYPE_CHECKING:
    from litestar.types import HTTPResponseStartEvent, Message, Receive, Scope, Send

# zlib's level 6, measured (docs/benchmarks.md, "Response compression"): the UNGA grid 162 kB to 17.2 kB
# in 1.1 ms of CPU, the reference page 482 kB to 28.0 kB in 2.7 ms. Level 9 took 4.9 and 4.1 ms
# for 16.4 and 27.4 kB, on a server of 2 cores beside a solver; level 1 left 20.9 and 42.9 kB.
GZIP_LEVEL = 6
# Smaller answers fit one TCP segment with their headers either way: compressing them saves no
# round trip, and gzip's 20 bytes of framing eat most of what it saves on a few hundred bytes.
MINIMUM_SIZE = 1024

# Bodies compressed by their format: gzip would spend CPU to make them a little larger.
PACKED_TYPES = frozenset(
    {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/zip",
        "application/gzip",
        "application/pdf",
        "image/png",
        "image/jpeg",
        "image/webp",
        "font/woff2",
    }
)
STREAM_TYPES = frozenset({"text/event-stream"})
GZIP = CompressionEncoding.GZIP


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding value accepts gzip (RFC 9110 12.5.3: `x-gzip` is gzip, `*` any
    coding not named, and a q of 0 refuses)."""
    named: dict[str, float] = {}
    for item in accept_encoding.split(","):
        coding, *parameters = (part.strip() for part in item.split(";"))
        if not coding:
            continue
        weight = 1.0
        for parameter in parameters:
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value.strip())
                except ValueError:
                    weight = 0.0
        coding = coding.lower()
        named["gzip" if coding == "x-gzip" else coding] = weight
    if "gzip" in named:
        return named["gzip"] > 0
    return named.get("*", 0.0) > 0


def _media_type(headers: MutableScopeHeaders) -> str | None:
    value = headers.get("content-type")
    return None if value is None else value.split(";", 1)[0].strip().lower()


def _weaken(headers: MutableScopeHeaders) -> None:
    tag = headers.get("etag")
    if tag is not None and not tag.startswith("W/"):
        headers["ETag"] = f"W/{tag}"


def _held_weak(if_none_match: str, tag: str | None) -> bool:
    """Whether the client sent `tag` in its weak form only: it holds a compressed answer."""
    if tag is None:
        return False
    sent = {candidate.strip() for candidate in if_none_match.split(",")}
    strong = tag.removeprefix("W/")
    return f"W/{strong}" in sent and strong not in sent


def _vary(headers: MutableScopeHeaders) -> None:
    """`Vary` holding Accept-Encoding once (Litestar's wrapper adds it to what it compresses)."""
    named = [v.strip() for line in headers.getall("vary", []) for v in line.split(",") if v.strip()]
    if "*" in named:
        return
    kept: dict[str, str] = {}  # by lower case: the first spelling of each field
    for field in [*named, "Accept-Encoding"]:
        kept.setdefault(field.lower(), field)
    headers["Vary"] = ", ".join(kept.values())


class Compression(CompressionMiddleware):
    """Litestar's gzip middleware behind the rules of the module's docstring."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        asked = Headers.from_scope(scope)
        accepted = accepts_gzip(asked.get("accept-encoding", ""))
        held = asked.get("if-none-match", "")
        head = scope.get("method") == "HEAD"
        chosen: Send | None = None

        async def choose(message: Message) -> None:
            nonlocal chosen
            if chosen is None and message["type"] == "http.response.start":
                chosen = self._route(message, accepted, head, held, send, scope)
            await (chosen or send)(message)

        await self.app(scope, receive, choose)

    def _route(
        self, start: HTTPResponseStartEvent, accepted: bool, head: bool, held: str, send: Send, scope: Scope
    ) -> Send:
        """Where the answer that `start` begins goes: as it is, or through Litestar's gzip wrapper."""
        headers = MutableScopeHeaders(start)
        status = start["status"]
        media_type = _media_type(headers)
        if (
            status in (204, 206)
            or "content-range" in headers
            or "content-encoding" in headers
            or media_type in STREAM_TYPES
            or media_type in PACKED_TYPES
        ):
            return send
        if status == 304 or head or not accepted:
            _vary(headers)
            if accepted and status == 304 and _held_weak(held, headers.get("etag")):
                _weaken(headers)
            if accepted and head:
                length = headers.get("content-length")
                if length is None or int(length) >= self.config.minimum_size:
                    headers["Content-Encoding"] = GZIP
                    del headers["Content-Length"]
                    _weaken(headers)
            return send
        # Litestar's wrapper compresses the body (or leaves one under minimum_size as it is).
        return self.create_compression_send_wrapper(send=_finished(send), compression_encoding=GZIP, scope=scope)


def _finished(send: Send) -> Send:
    """`send` behind Litestar's wrapper: Vary on every answer, a weak ETag on a compressed one."""

    async def finish(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableScopeHeaders(message)
            _vary(headers)
            if headers.get("content-encoding") == GZIP:
                _weaken(headers)
        await send(message)

    return finish


def compression_config() -> CompressionConfig:
    return CompressionConfig(
        backend="gzip", gzip_compress_level=GZIP_LEVEL, minimum_size=MINIMUM_SIZE, middleware_class=Compression
    )
