"""Where the gateway's time goes: one worker profiled under order(id), then createOrder.

Seeds a fresh database as the load benchmark does, starts the gateway's
uvicorn worker under a profiler (ops.bench.profiled_server) and drives it
from the load client, twice per operation:

- sampled (ops.bench.sampler): the share of the loop thread's busy time each
  function was on the stack (inclusive) or on top (own), in ms per request;
- under cProfile: exact counts per request of calls that are not coroutines
  (SQL statements, aiosqlite thread hops, token signature checks, compiles).

Both print the garbage collector's pauses. Not a test.

    python -m ops.bench.profile [--postgres URL] [--seconds 15] [--tracing] [--top 30]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import pstats
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

from ops.bench import database as bench_db
from ops.bench import servers
from ops.bench.gateway import dataset
from ops.bench.measure import Bench, Settings, line
from ops.bench.operations import CREATE_ORDER, ORDER_BY_ID

_PREFIXES = sorted(
    {f"{p}/" for p in (*sys.path, str(Path(__file__).resolve().parents[2] / "platform")) if p},
    key=len,
    reverse=True,
)
# Sampled: (label, substrings of "file:line(function)" that must all match).
SAMPLED = (
    ("the whole request (uvicorn run_asgi)", "httptools_impl.py", "(run_asgi)"),
    ("/graphql route: bearer check, then strawberry", "http/graphql.py", "(__call__)"),
    ("  token verification (TokenVerifier.claims)", "auth/tokens.py", "(claims)"),
    ("    signing key file check (Path.stat)", "pathlib.py", "(stat)"),
    ("  client lookup (load_client)", "auth/clients.py", "(load_client)"),
    ("strawberry view (StrictGraphQL)", "http/strict.py", "(__call__)"),
    ("  GraphQL execution (Schema.execute)", "strawberry/schema/schema.py", "(execute)"),
    ("  GraphQL validation (validate)", "graphql/validation/validate.py", "(validate)"),
    ("  JSON encoding (json.dumps)", "json/__init__.py", "(dumps)"),
    ("  policy decisions (oaas.policy.is_allowed)", "oaas/policy/__init__.py", "(is_allowed)"),
    ("  new request ids (uuid4)", "uuid.py", "(uuid4)"),
    ("SQLAlchemy AsyncSession.execute", "ext/asyncio/session.py", "(execute)"),
    ("SQLAlchemy statement compile", "sql/compiler.py", "(__init__)"),
    ("unit of work / session open+close (Database.session)", "db/engine.py", "(session)"),
    ("tracing middleware", "http/tracing.py", "(__call__)"),
    ("request id + body limit middleware", "http/middleware.py", "(__call__)"),
)
# The frames every sample has, around the request: left out of the top lists.
_OUTER = (
    "runpy",
    "profiled_server.py",
    "asyncio/runners.py",
    "uvicorn/main.py",
    "uvicorn/server.py",
    "uvicorn/_compat.py",
)
# Counted exactly by cProfile: calls that are not coroutines.
COUNTED = (
    ("SQL statements (SQLAlchemy do_execute*)", "(do_execute"),
    ("aiosqlite thread hops (SimpleQueue.put_nowait)", "SimpleQueue"),
    # asyncpg's own protocol is Cython, out of cProfile's sight: SQLAlchemy's adapter is not.
    ("PostgreSQL pre-pings on pool checkout (ping)", "postgresql/asyncpg.py", "(ping)"),
    ("PostgreSQL commits (commit)", "postgresql/asyncpg.py", "(commit)"),
    ("PostgreSQL rollbacks (rollback)", "postgresql/asyncpg.py", "(rollback)"),
    ("policy decisions (oaas.policy.is_allowed)", "oaas/policy/__init__.py", "(is_allowed)"),
    ("RSA signature checks", "RSAPublicKey"),
    ("SQL compiles, cache misses (ClauseElement._compiler)", "sql/elements.py", "(_compiler)"),
    ("GraphQL validations (validate)", "validation/validate.py", "(validate)"),
    ("json.dumps", "json/__init__.py", "(dumps)"),
)


def _short(key: str) -> str:
    for prefix in _PREFIXES:  # paths from the package on
        key = key.replace(prefix, "")
    return key


def _gc(profile: Path, requests: int) -> str:
    figures = json.loads(profile.with_suffix(".gc.json").read_text())
    return (
        f"garbage collections (gen 0/1/2): {figures['collections']}, pauses "
        f"{[round(s * 1000, 1) for s in figures['seconds']]} ms in all, longest "
        f"{figures['max'] * 1000:.1f} ms: {sum(figures['seconds']) * 1000 / requests:.3f} ms "
        "per request"
    )


def sampled_report(path: Path, requests: int, top: int) -> str:
    data: dict[str, Any] = json.loads(path.read_text())
    busy = sum(data["own"].values())  # seconds the loop thread was not waiting for I/O

    def ms(seconds: float) -> float:
        return seconds * 1000 / requests

    lines = [
        f"{requests:,} requests in {data['elapsed']:.1f} s ({data['samples']:,} samples); the "
        f"loop thread busy {busy / data['elapsed']:.0%} of the time: {ms(busy):.2f} ms per request",
        _gc(path, requests),
        "CPU per request by thread (/proc): "
        + ", ".join(f"{name} {ms(s):.2f} ms" for name, s in sorted(data["thread_cpu"].items())),
    ]
    lines += ["", "| what | ms per request | share of busy |", "| --- | --- | --- |"]
    for label, *needles in SAMPLED:
        found = [v for k, v in data["inclusive"].items() if all(n in k for n in needles)]
        if found:
            lines.append(f"| {label} | {ms(max(found)):.2f} | {max(found) / busy:.0%} |")
    for title in ("inclusive", "own"):
        lines += [
            "",
            f"Top {top} by {title} time:",
            "| function | ms per request | share of busy |",
            "| --- | --- | --- |",
        ]
        ranked = sorted(data[title].items(), key=lambda kv: -kv[1])
        for key, seconds in [kv for kv in ranked if not any(o in kv[0] for o in _OUTER)][:top]:
            lines.append(f"| {_short(key)} | {ms(seconds):.2f} | {seconds / busy:.0%} |")
    return "\n".join(lines)


def counted_report(path: Path, requests: int) -> str:
    stats = pstats.Stats(str(path))
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    entries = {f"{f}:{line}({fn})": v[1] for (f, line, fn), v in raw.items()}
    lines = [_gc(path, requests), "", "| call | per request |", "| --- | --- |"]
    for label, *needles in COUNTED:
        calls = sum(v for k, v in entries.items() if all(n in k for n in needles))
        if calls:  # an SQLite row on PostgreSQL and the other way round: left out
            lines.append(f"| {label} | {calls / requests:.1f} |")
    stream = io.StringIO()
    stats.stream = stream  # type: ignore[attr-defined]
    stats.sort_stats("tottime").print_stats(15)
    text = _short(stream.getvalue())
    lines += ["", "Top 15 by own time under cProfile:", text[text.find("   ncalls") :].rstrip()]
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> None:
    settings = Settings(seconds=args.seconds, warmup=1.0, connections=args.connections, rounds=1)
    with tempfile.TemporaryDirectory(prefix="oaas-profile-") as tmp:
        workdir = Path(tmp)
        database = await bench_db.create(workdir, args.postgres)
        try:
            bench = Bench(settings, database, await dataset(database, args.orders))
            for op in (ORDER_BY_ID, CREATE_ORDER):
                print(f"\n## {op}, {database.kind}, tracing {'on' if args.tracing else 'off'}")
                for mode in ("sample", "cprofile"):
                    out = workdir / f"{op.strip(')').replace('(', '-')}.{mode}"

                    def argv(port: int, out: Path = out, mode: str = mode) -> list[str]:
                        return [
                            sys.executable,
                            "-m",
                            "ops.bench.profiled_server",
                            str(out),
                            str(port),
                            mode,
                        ]

                    with servers.gateway(database, tracing=args.tracing, argv=argv) as server:
                        tokens = servers.tokens(server, bench.data.merchants)
                        os.kill(server.process.pid, signal.SIGUSR1)  # from here on
                        result = bench.run(server, bench.lanes(op, tokens), seconds=args.seconds)
                    print(f"  {mode}: {line(result)}")
                    if args.keep:
                        (args.keep / out.name).write_bytes(out.read_bytes())
                    requests = max(1, result["completed_with_warmup"])
                    print(f"\n### {'sampled' if mode == 'sample' else 'cProfile'}\n")
                    if mode == "sample":
                        print(sampled_report(out, requests, args.top))
                    else:
                        print(counted_report(out, requests))
        finally:
            await bench_db.drop(database)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", default=None, help="profile on PostgreSQL, not SQLite")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--tracing", action="store_true", help="with tracing on (default off)")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--keep", type=Path, help="a folder to keep the raw profiles in")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
