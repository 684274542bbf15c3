"""Response compression on real answers at UNGA scale: sizes and CPU time by codec and level.

    python bench/compression.py                   # writes its section of docs/benchmarks.md
    python bench/compression.py --repeats 5 --out /tmp/x.md

examples/unga-week.json is stored, solved (the worker's code path, `--time-limit` s) and published as
bench/api_scale.py does, in a throwaway database of DATABASE_URL's server. The answers the pages and
integrators read (the grid, the problem, the requests, the agenda, the calendar feed, the exports and
the API reference at /schema) are read uncompressed, then each is compressed `--repeats` times by
Litestar's own gzip facade at levels 1, 4, 6 and 9 (what the middleware runs: write, sync flush,
close) and, when the `brotli` package can be imported, by its brotli facade at qualities 4, 5
(Litestar's default) and 11: the size and the median CPU time of one compression (this thread's).
Then each answer is read through the app as served (api/compression.py) with and without
`Accept-Encoding: gzip`: the bytes on the wire and the client's median time in process.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import io
import logging
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import api_scale  # bench/ is the script's directory
import httpx
from run_all import machine, write_marked

REPO = Path(__file__).resolve().parents[1]
START, END = "<!-- bench/compression.py: start -->", "<!-- bench/compression.py: end -->"
GZIP_LEVELS = (1, 4, 6, 9)
BROTLI_QUALITIES = (4, 5, 11)

Compress = Callable[[bytes], bytes]


def _through(facade_class: Any, encoding: str, config: Any) -> Compress:
    """`body` compressed as Litestar's middleware does it, through its facade for `encoding`."""

    def compress(body: bytes) -> bytes:
        buffer = io.BytesIO()
        facade = facade_class(buffer=buffer, compression_encoding=encoding, config=config)
        facade.write(body)
        facade.close()
        return buffer.getvalue()

    return compress


def gzip_facade(level: int) -> Compress:
    from litestar.config.compression import CompressionConfig
    from litestar.middleware.compression.gzip_facade import GzipCompression

    return _through(GzipCompression, "gzip", CompressionConfig(backend="gzip", gzip_compress_level=level))


def brotli_facade(quality: int) -> Compress | None:
    """Litestar's brotli facade at `quality`, or None without the `brotli` package."""
    try:
        importlib.import_module("brotli")
    except ImportError:
        return None
    from litestar.config.compression import CompressionConfig
    from litestar.middleware.compression.brotli_facade import BrotliCompression

    return _through(BrotliCompression, "br", CompressionConfig(backend="brotli", brotli_quality=quality))


def codecs() -> list[tuple[str, Compress]]:
    found: list[tuple[str, Compress]] = [(f"gzip {level}", gzip_facade(level)) for level in GZIP_LEVELS]
    for quality in BROTLI_QUALITIES:
        compress = brotli_facade(quality)
        if compress is not None:
            found.append((f"brotli {quality}", compress))
    return found


def cpu_ms(compress: Compress, body: bytes, repeats: int) -> tuple[int, float]:
    """The compressed size and the median CPU time of one compression, in ms."""
    times = []
    size = 0
    for _ in range(repeats):
        clock = time.thread_time()
        size = len(compress(body))
        times.append((time.thread_time() - clock) * 1000)
    return size, statistics.median(times)


def answers(base: str, published: int, delegation: str) -> list[tuple[str, str, str]]:
    """(name, path, who) of the answers measured."""
    mine = f"{base}/delegations/{delegation}"
    return [
        ("GET schedule (the grid)", f"{base}/schedules/{published}", "organiser"),
        ("GET problem (grid page)", f"{base}/problem", "organiser"),
        ("GET requests, first page of 100", f"{base}/requests", "organiser"),
        ("GET requests?limit=1000 (a page of the grid page's walk)", f"{base}/requests?limit=1000", "organiser"),
        ("GET publications", f"{base}/publications", "organiser"),
        ("GET agenda/detailed (agenda page)", f"{mine}/agenda/detailed", "delegation"),
        ("GET calendar (.ics)", f"{mine}/calendar", "delegation"),
        ("GET grid.csv?layout=list", f"{base}/schedules/{published}/grid.csv?layout=list", "organiser"),
        ("GET grid.xlsx (zip: not compressed again)", f"{base}/schedules/{published}/grid.xlsx", "organiser"),
        ("GET /schema (the API reference)", "/schema", "anyone"),
        ("GET /static/grid.js", "/static/grid.js", "anyone"),
    ]


async def wire(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> tuple[int, str, float]:
    """Bytes on the wire, their Content-Encoding and the call's time in ms (to the decoded body)."""
    clock = time.perf_counter()
    async with client.stream("GET", path, headers=headers) as answer:
        raw = b"".join([chunk async for chunk in answer.aiter_raw()])
        if answer.status_code != 200:
            raise SystemExit(f"GET {path}: {answer.status_code} {raw[:300]!r}")
        encoding = answer.headers.get("content-encoding", "")
        if encoding == "gzip":
            import gzip

            gzip.decompress(raw)
    return len(raw), encoding or "identity", (time.perf_counter() - clock) * 1000


async def measure(server: str, time_limit: float, repeats: int, log: Callable[[str], None]) -> dict[str, Any]:
    from api.app import create_app
    from db.migrate import migrate_url

    async with api_scale.throwaway_database(server) as (url, postgres):
        await migrate_url(url)
        pool = await api_scale.open_pool(url, api_scale.Counter())
        try:
            app = cast("Callable[..., Awaitable[None]]", create_app(pool, admin_token=api_scale.ADMIN))
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=600) as client:
                forum = await api_scale.setup_forum(client, pool, time_limit)
                base, organiser = f"/forums/{forum['forum']}", forum["organiser"]
                grid = await client.get(f"{base}/schedules/1", headers={"Authorization": f"Bearer {organiser}"})
                delegation = api_scale.busiest(grid.json())
                tokens = {"organiser": organiser, "delegation": forum["delegations"][delegation], "anyone": ""}
                log(f"stored, solved and published; busiest delegation {delegation}")
                rows = []
                for name, path, who in answers(base, 1, delegation):
                    auth = {"Authorization": f"Bearer {tokens[who]}"} if tokens[who] else {}
                    plain = await client.get(path, headers={**auth, "Accept-Encoding": "identity"})
                    if plain.status_code != 200 or "content-encoding" in plain.headers:
                        raise SystemExit(f"GET {path}: {plain.status_code} {plain.headers}")
                    body = plain.content
                    sizes = {label: cpu_ms(compress, body, repeats) for label, compress in codecs()}
                    served: dict[str, list[tuple[int, str, float]]] = {"identity": [], "gzip": []}
                    for _ in range(repeats):  # alternately, so that both see the same load
                        for coding in served:
                            served[coding].append(await wire(client, path, {**auth, "Accept-Encoding": coding}))
                    rows.append({"name": name, "bytes": len(body), "codecs": sizes, "served": served})
                    log(f"{name}: {len(body)} B")
        finally:
            await pool.close()
    return {"rows": rows, "postgres": postgres, "delegation": delegation}


# ---- reporting


def _size(count: int) -> str:
    return f"{count / 1000:.1f} kB" if count >= 1000 else f"{count} B"


def table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + " --- |" * len(headers)]
    return "\n".join([*lines, *("| " + " | ".join(r) + " |" for r in rows)])


def codec_table(rows: list[dict[str, Any]]) -> str:
    labels = list(rows[0]["codecs"])
    body = []
    for entry in rows:
        cells = [entry["name"], _size(entry["bytes"])]
        for label in labels:
            size, ms = entry["codecs"][label]
            cells.append(f"{_size(size)} ({size / entry['bytes']:.0%}), {ms:.1f} ms")
        body.append(cells)
    return table(["answer", "uncompressed", *labels], body)


def served_table(rows: list[dict[str, Any]]) -> str:
    body = []
    for entry in rows:
        plain, packed = entry["served"]["identity"], entry["served"]["gzip"]
        body.append(
            [
                entry["name"],
                _size(plain[-1][0]),
                f"{_size(packed[-1][0])} ({packed[-1][1]})",
                f"{statistics.median(t for _, _, t in plain):.1f}",
                f"{statistics.median(t for _, _, t in packed):.1f}",
                f"{plain[-1][0] * 8 / 2e6 * 1000:.0f} / {packed[-1][0] * 8 / 2e6 * 1000:.0f}",
            ]
        )
    headers = ["answer", "identity", "gzip asked", "identity (ms)", "gzip (ms)", "at 2 Mbit/s (ms)"]
    return table(headers, body)


def section(args: argparse.Namespace, result: dict[str, Any], load: str) -> str:
    from api.compression import GZIP_LEVEL, MINIMUM_SIZE

    setting = ", ".join(f"{what} {value}" for what, value in machine().items() if what != "date")
    versions = ", ".join(f"{name} {api_scale._version(name)}" for name in ("litestar", "httpx"))
    has_brotli = brotli_facade(5) is not None
    brotli = "brotli " + api_scale._version("brotli") if has_brotli else "brotli not installed"
    brotli_note = (
        "The brotli columns were measured with the `brotli` package installed apart (it is not a dependency)."
        if has_brotli
        else "Without the `brotli` package (not a dependency) there are no brotli columns."
    )
    return f"""{START}
## Response compression at UNGA scale (bench/compression.py)

Written by `python bench/compression.py --repeats {args.repeats} --time-limit {args.time_limit:g}`:
`examples/unga-week.json` stored, solved ({args.time_limit:g} s) and published; the busiest delegation,
{result["delegation"]}, reads its agenda and calendar. Each answer as read uncompressed, then
compressed by Litestar's own facades (what its middleware runs): the size (share of the
uncompressed) and the median CPU time of one compression on one core, {args.repeats} repeats.
{brotli_note}

{codec_table(result["rows"])}

What the table decided (api/compression.py): gzip at level 6. Level 9 costs 1.5 to 4.5 times its
CPU for 2-11% fewer bytes; level 1 leaves the reference page half as large again. Brotli at quality
5 is 8-28% smaller than gzip 6 (the grid 17%, the reference 19%) at about its CPU: 3-8 kB per large
answer, where gzip already takes off 140-460 kB. Browsers offer it only over HTTPS and integrators'
HTTP libraries decode it only with an extra package, so it is not a dependency. The zip (grid.xlsx)
gains nothing: it is sent as it is.

As served (api/compression.py: gzip level {GZIP_LEVEL}, answers of {MINIMUM_SIZE} bytes and more, never
event streams or zip files such as grid.xlsx): the bytes on the wire without and with
`Accept-Encoding: gzip`, the client's median time in process (no network: compression's whole cost,
none of its gain), and the transfer time alone at 2 Mbit/s (a roaming phone or a crowded venue Wi-Fi).

{served_table(result["rows"])}

_Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average (1 min) {load}; {setting}; {versions}, {brotli},
zlib {_zlib()}; PostgreSQL {result["postgres"]}._
{END}
"""


def _zlib() -> str:
    import zlib

    return zlib.ZLIB_RUNTIME_VERSION


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("--repeats", type=int, default=15, help="compressions and calls of each answer (medians)")
    parser.add_argument("--time-limit", type=float, default=5.0, help="seconds of the solve (default 5)")
    parser.add_argument("--server", default=os.environ.get("DATABASE_URL") or api_scale.DEFAULT_SERVER)
    args = parser.parse_args(argv)

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    logging.getLogger("httpx").setLevel(logging.WARNING)
    load = f"{os.getloadavg()[0]:.1f}"
    result = asyncio.run(measure(args.server, args.time_limit, args.repeats, log))
    load += f" at the start, {os.getloadavg()[0]:.1f} at the end"
    write_marked(args.out, START, END, section(args, result, load))
    log(f"wrote the compression section of {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
