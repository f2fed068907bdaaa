"""Python calls and CPU per request, one request at a time, straight into the app.

The lever-by-lever figure: the gateway's ASGI app runs in this process, on a
fresh bench database (as the load benchmark seeds it), and each operation is
sent `--requests` times, one after the other, with no HTTP and no load client.
It prints, per operation, the Python function calls per request under
cProfile (a count: it moves with the work done, not with the machine's noise)
and the CPU per request without the profiler (best of `--repeats`). Not a test.

    python -m ops.bench.calls [--postgres URL] [--requests 300] [--tracing [--otlp URL [--export-ratio R]]]
        [--top 40 [--sort cumulative]] [--by-package]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from ops.bench import database as bench_db
from ops.bench.gateway import dataset
from ops.bench.operations import (
    CREATE_ORDER,
    KEY_PLACEHOLDER,
    ORDER_BY_ID,
    ORDERS_PAGE,
    create_order_template,
    order_by_id,
    orders_page,
)

WARMUP_REQUESTS = 50


async def _call(app: Any, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [*headers, (b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client never disconnects
        raise AssertionError("unreachable")

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    payload = b"".join(m.get("body", b"") for m in sent[1:])
    if sent[0]["status"] != 200 or b'"errors"' in payload or b'"code"' in payload:
        raise SystemExit(f"the gateway refused a request: {payload[:300]!r}")


async def merchant_headers(app: Any, client_id: str) -> list[tuple[bytes, bytes]]:
    """The ASGI headers of a GraphQL call as `client_id`, with a token from the app."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
        answer = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, bench_db.BENCH_SECRET),
        )
        token = answer.raise_for_status().json()["access_token"]
    return [
        (b"authorization", f"Bearer {token}".encode()),
        (b"content-type", b"application/json"),
        (b"host", b"bench"),
    ]


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="oaas-calls-") as tmp:
        database = await bench_db.create(Path(tmp), args.postgres)
        try:
            data = await dataset(database, args.orders)
            exporting = {"OAAS_OTLP_ENDPOINT": args.otlp} if args.otlp else {}
            if args.otlp and args.export_ratio is not None:
                exporting["OAAS_TRACE_EXPORT_RATIO"] = str(args.export_ratio)
            os.environ.update(
                database.env(OAAS_TRACING="true" if args.tracing else "false", **exporting)
            )
            os.chdir(database.workdir)
            from oaas.app import create_app  # after the environment names the database
            from oaas.settings import Settings

            app = create_app(Settings(), freeze_gc=True)
            async with app.router.lifespan_context(app):
                await _measure(app, data, args)
        finally:
            await bench_db.drop(database)


async def _measure(app: Any, data: Any, args: argparse.Namespace) -> None:
    merchant = data.merchants[0]
    headers = await merchant_headers(app, merchant.client_id)
    ids = data.read_ids[merchant.tenant_id]
    tag = time.time_ns()
    bodies: dict[str, Callable[[int], str]] = {
        ORDER_BY_ID: lambda i: order_by_id(ids[i % len(ids)]),
        ORDERS_PAGE: lambda _i: orders_page(),
        CREATE_ORDER: lambda i: create_order_template().replace(KEY_PLACEHOLDER, f"{tag}-{i}"),
    }
    sent = 0

    async def run(operation: str, count: int) -> None:
        nonlocal sent
        for _ in range(count):
            await _call(app, bodies[operation](sent).encode(), headers)
            sent += 1

    n = args.requests
    print(f"\n{n} requests per figure, tracing {'on' if args.tracing else 'off'}")
    print("| operation | Python calls per request | CPU ms per request (best of repeats) |")
    print("| --- | --- | --- |")
    for operation in (ORDER_BY_ID, ORDERS_PAGE, CREATE_ORDER):
        await run(operation, WARMUP_REQUESTS)
        profile = cProfile.Profile()
        profile.enable()
        await run(operation, n)
        profile.disable()
        stats = pstats.Stats(profile)
        calls = stats.total_calls / n  # type: ignore[attr-defined]
        if args.top:
            print(f"\n{operation}: where the calls go, {n} requests")
            stats.sort_stats(args.sort).print_stats(args.top)
        if args.by_package:
            _print_by_package(operation, stats, n)
        cpu = []
        for _ in range(args.repeats):
            started = time.process_time()
            await run(operation, n)
            cpu.append((time.process_time() - started) * 1000 / n)
        print(f"| {operation} | {calls:,.0f} | {min(cpu):.2f} |")


def _package_of(filename: str) -> str:
    """The library (or oaas module, or stdlib module) a profiled function lives in."""
    if filename.startswith("<") or filename == "~":
        return "builtins (C)"
    parts = Path(filename).parts
    for marker in ("site-packages", "platform"):
        if marker in parts:
            rest = parts[parts.index(marker) + 1 :]
            if rest and rest[0] == "oaas" and len(rest) > 1:
                return "oaas." + rest[1].removesuffix(".py")
            return rest[0].removesuffix(".py") if rest else marker
    if "ops" in parts:
        return "ops (the bench itself)"
    return "stdlib " + Path(filename).stem


def _print_by_package(operation: str, stats: pstats.Stats, n: int) -> None:
    """Own time and calls per library: which layer the request's work is in."""
    own: dict[str, list[float]] = {}
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for (filename, _line, _name), (_cc, calls, tottime, _ct, _callers) in raw.items():
        entry = own.setdefault(_package_of(filename), [0.0, 0.0])
        entry[0] += tottime
        entry[1] += calls
    total = sum(t for t, _ in own.values())
    print(f"\n{operation}: own time by package, per request")
    print("| package | share of time | calls |")
    print("| --- | --- | --- |")
    for package, (tottime, calls) in sorted(own.items(), key=lambda kv: -kv[1][0]):
        if tottime / total >= 0.005:
            print(f"| {package} | {tottime / total:.1%} | {calls / n:,.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", default=None, help="on PostgreSQL, not SQLite")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--tracing", action="store_true", help="with tracing on (default off)")
    parser.add_argument(
        "--otlp",
        default=None,
        help="with --tracing, export spans to this OTLP/HTTP endpoint (ops.bench.baselines.otlp_sink)",
    )
    parser.add_argument(
        "--export-ratio",
        type=float,
        help="with --otlp, OAAS_TRACE_EXPORT_RATIO (default as shipped)",
    )
    parser.add_argument("--top", type=int, default=0, help="print the N costliest functions")
    parser.add_argument("--by-package", action="store_true", help="own time and calls per library")
    parser.add_argument("--sort", default="tottime", help="pstats order for --top (cumulative)")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
