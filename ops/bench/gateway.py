"""The gateway under load, against three baselines measured in the same run. Not a test.

For each database (SQLite always, PostgreSQL when a URL is given or
OAAS_BENCH_POSTGRES_URL is set) it makes a fresh database with the demo
tenants, ten bench merchants (ops/bench/tenants.yaml) and 10,000 seeded
orders. Every server is one uvicorn worker in its own process, the load comes
from another (ops.bench.load), and the measurements of all servers are taken
in interleaved rounds, so that other work on the machine falls on all alike:

1. baselines (a) bare Starlette JSON, (b) strawberry from memory, (c) Starlette
   + raw asyncpg / aiosqlite (ops.bench.baselines), and the gateway (`oaas
   serve`) with tracing off (order(id), orders(first: 50), createOrder with a
   fresh idempotency key per request, cancelOrder of seeded PENDING orders) and
   on, the default (order(id), createOrder);
2. on the tracing-on gateway: open-loop load at half of its peak (p99/p50),
   then a soak at half of peak, 80% order(id) and 20% createOrder, reading the
   worker's VmRSS as it goes (on the last database only, unless
   --soak-everywhere: PostgreSQL is the one production runs on);
3. `oaas serve --workers N` against one worker, order(id) and createOrder;
4. with --million (PostgreSQL): orders(first: 50) on a database of 10,000
   orders against one of 1,000,000.

It prints a table per database and writes ops/bench/results/<date>-<db>.json
(`-2`, `-3`, ... for later runs of the same date).

    python -m ops.bench.gateway [--seconds 5] [--rounds 2] [--soak-seconds 300]
        [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/test] [--no-sqlite] [--million]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import tempfile
import time
from collections import defaultdict
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # ships no type hints

from ops.bench import database as bench_db
from ops.bench import report, seed, servers
from ops.bench.measure import Bench, Dataset, Settings, line, merge
from ops.bench.operations import CANCEL_ORDER, CREATE_ORDER, OPERATIONS, ORDER_BY_ID, ORDERS_PAGE

RESULTS = Path(__file__).with_name("results")
REPO = Path(__file__).resolve().parents[2]
SEEDED_ORDERS = 10_000
MILLION = 1_000_000
# cancelOrder needs one PENDING order per request: seeded with room to spare at
# these rates (req/s); a run that uses them all up stops early and says so.
CANCEL_SUPPLY_RATE = {"c": 3000, "gateway": 800}
# The soak's mix: of every five requests, four order(id) and one createOrder.
SOAK_MIX = ((ORDER_BY_ID, 4), (CREATE_ORDER, 1))
OPEN_LOOP_CONNECTIONS = 64  # enough that a request never waits for a free one
# Half of peak runs until its p99 rests on a few dozen requests: in 5 s at this
# machine's rates the p99 was the 4th slowest of about 400, and a single 40 ms
# stall of the machine (a few a minute, with or without tracing) decided it.
HALF_PEAK_REQUESTS = 3_000
HALF_PEAK_MAX_SECONDS = 60.0


@dataclass
class Options:
    seconds: float
    warmup: float
    connections: int
    rounds: int
    soak_seconds: float
    workers: list[int]
    orders: int
    postgres: str | None
    sqlite: bool
    million: bool
    soak_everywhere: bool

    @property
    def settings(self) -> Settings:
        return Settings(
            seconds=self.seconds,
            warmup=self.warmup,
            connections=self.connections,
            rounds=self.rounds,
        )


@dataclass(frozen=True)
class Slot:
    """One measurement of an interleaved plan: where results go, the server, what to send."""

    key: str
    server: servers.Server
    operation: str
    tokens: dict[str, str] | None = None
    supply: str | None = None
    connections: int | None = None
    bench: Bench | None = None  # another database's; None: the plan's own


def interleaved(bench: Bench, slots: list[Slot]) -> dict[str, dict[str, Any]]:
    """Measures every slot in rounds, forwards then backwards, and merges each one's rounds.

    Going back and forth puts every slot at the same average time in the run,
    so a change in what else the machine does shifts no ratio.
    """
    rounds = bench.settings.rounds
    parts: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for index in range(rounds):
        for slot in slots if index % 2 == 0 else slots[::-1]:
            own = slot.bench or bench
            lanes = own.lanes(slot.operation, slot.tokens, supply=slot.supply, part=(index, rounds))
            result = own.run(
                slot.server,
                lanes,
                seconds=bench.settings.seconds / rounds,
                connections=slot.connections,
            )
            parts[(slot.key, slot.operation)].append(result)
            print(
                f"  round {index + 1}/{rounds} {slot.server.name}, {slot.operation}: {line(result)}",
                flush=True,
            )
    merged: dict[str, dict[str, Any]] = defaultdict(dict)
    for (key, operation), found in parts.items():
        merged[key][operation] = merge(found)
    return dict(merged)


def _half_peak_and_soak(
    bench: Bench, server: servers.Server, tokens: dict[str, str], peaks: dict[str, Any]
) -> dict[str, Any]:
    found: dict[str, Any] = {"half_peak": {}}
    for op in (ORDER_BY_ID, CREATE_ORDER):
        rate = peaks[op]["rps"] / 2
        if rate <= 0:
            print(f"  {op}: no answers at peak, no half of it to measure", flush=True)
            continue
        seconds = min(HALF_PEAK_MAX_SECONDS, max(bench.settings.seconds, HALF_PEAK_REQUESTS / rate))
        print(
            f"  {op} at half of peak: {rate:.0f} req/s for {seconds:.0f} s, open loop", flush=True
        )
        result = merge(
            [
                bench.run(
                    server,
                    bench.lanes(op, tokens),
                    seconds=seconds,
                    rate=rate,
                    connections=OPEN_LOOP_CONNECTIONS,
                )
            ]
        )
        # How busy the worker was: at half of peak it should idle half the time,
        # unless a request costs it more CPU arriving alone than at peak.
        result["worker_busy"] = result["server_cpu_s"] / (seconds + bench.settings.warmup)
        result["peak_server_cpu_ms"] = peaks[op]["server_cpu_ms"]
        print(f"    {line(result)}, worker busy {result['worker_busy']:.0%}", flush=True)
        found["half_peak"][op] = result
    return found


def soak(
    bench: Bench,
    server: servers.Server,
    tokens: dict[str, str],
    peaks: dict[str, Any],
    seconds: float,
) -> dict[str, Any]:
    """Open loop at half of the mix's peak for `seconds`, with the worker's RSS every 10 s."""
    weight = sum(n for _op, n in SOAK_MIX)
    # The mix's peak if each request costs what it cost alone.
    peak = 1 / sum(n / weight / peaks[op]["rps"] for op, n in SOAK_MIX)
    rate = peak / 2
    per_op = {op: bench.lanes(op, tokens) for op, _n in SOAK_MIX}
    # Open loop takes lanes in turn: interleave them so the mix holds in every second.
    lanes = [
        lane
        for index in range(len(bench.data.merchants))
        for op, n in SOAK_MIX
        for lane in [per_op[op][index]] * n
    ]
    rss: list[tuple[float, int]] = [(0.0, server.rss_kib())]
    began = time.monotonic()

    def sample() -> None:
        rss.append((time.monotonic() - began, server.rss_kib()))

    print(
        f"  soak: {seconds:.0f} s at {rate:.0f} req/s (80% order(id), 20% createOrder, open loop)",
        flush=True,
    )
    result = merge(
        [
            bench.run(
                server,
                lanes,
                seconds=seconds,
                rate=rate,
                connections=OPEN_LOOP_CONNECTIONS,
                on_wait=sample,
                keep_intervals=True,
            )
        ]
    )
    sample()
    print(f"    {line(result)}", flush=True)
    # "Start" is after the load's warm-up: the first sample at or after it.
    start = next((kib for t, kib in rss if t >= bench.settings.warmup), rss[0][1])
    result.update(
        rss_kib_before=rss[0][1],
        rss_kib_start=start,
        rss_kib_end=rss[-1][1],
        rss_growth=rss[-1][1] / start - 1,
        rss_samples=rss,
        mix={op: n / weight for op, n in SOAK_MIX},
    )
    return result


def measure_database(options: Options, bench: Bench, *, soak_here: bool) -> dict[str, Any]:
    database, data = bench.database, bench.data
    results: dict[str, Any] = {}
    raw = "asyncpg" if database.kind == "postgres" else "aiosqlite"
    with servers.gateway(database, tracing=True) as on:
        on_tokens = servers.tokens(on, data.merchants)
        with ExitStack() as stack:
            a = stack.enter_context(
                servers.baseline(
                    database, "(a) bare Starlette", "ops.bench.baselines.starlette_json:app"
                )
            )
            b = stack.enter_context(
                servers.baseline(
                    database,
                    "(b) strawberry in memory",
                    "ops.bench.baselines.strawberry_memory:app",
                )
            )
            c = stack.enter_context(
                servers.baseline(
                    database,
                    f"(c) Starlette + raw {raw}",
                    "ops.bench.baselines.raw_sql:create_app",
                    factory=True,
                )
            )
            off = stack.enter_context(servers.gateway(database, tracing=False))
            off_tokens = servers.tokens(off, data.merchants)
            cancel = {CANCEL_ORDER: "c"}
            slots = [
                Slot("a", a, ORDER_BY_ID),
                *(Slot("b", b, op) for op in OPERATIONS),
                *(Slot("c", c, op, supply=cancel.get(op)) for op in OPERATIONS),
                *(
                    Slot(
                        "gateway_off",
                        off,
                        op,
                        off_tokens,
                        supply="gateway" if op == CANCEL_ORDER else None,
                    )
                    for op in OPERATIONS
                ),
                *(Slot("gateway_on", on, op, on_tokens) for op in (ORDER_BY_ID, CREATE_ORDER)),
            ]
            results.update(interleaved(bench, slots))
            results["a"] = results["a"][ORDER_BY_ID]
        peaks = results["gateway_on"]
        results.update(_half_peak_and_soak(bench, on, on_tokens, peaks))
        if (
            soak_here
            and options.soak_seconds > 0
            and all(peaks[op]["rps"] > 0 for op, _n in SOAK_MIX)
        ):
            results["soak"] = soak(bench, on, on_tokens, peaks, options.soak_seconds)
        for n in options.workers:
            with servers.gateway(database, tracing=True, workers=n) as many:
                many_tokens = servers.tokens(many, data.merchants)
                scaled = interleaved(
                    bench,
                    [
                        slot
                        for op in (ORDER_BY_ID, CREATE_ORDER)
                        for slot in (
                            Slot("1", on, op, on_tokens),
                            Slot(
                                str(n), many, op, many_tokens, connections=n * options.connections
                            ),
                        )
                    ],
                )
            results.setdefault("workers", {}).update(scaled)
        results["exported_spans"] = servers.exported_spans(on)
        print(f"  the tracing-on gateway exported {results['exported_spans']:,} spans", flush=True)
    return results


async def dataset(database: bench_db.BenchDatabase, orders: int) -> Dataset:
    """Migrates, applies the manifests and seeds `orders` orders over the bench merchants."""
    bench_db.prepare(database)
    merchants = await seed.merchants(database)
    started = time.monotonic()
    ids = await seed.seed_orders(database, merchants, orders)
    print(f"  seeded {orders:,} orders in {time.monotonic() - started:.1f} s", flush=True)
    rng = random.Random(7)
    for found in ids.values():
        rng.shuffle(found)
    return Dataset(merchants=merchants, read_ids=ids)


async def _supply(options: Options, database: bench_db.BenchDatabase, data: Dataset) -> None:
    per_run = options.seconds + options.rounds * options.warmup
    for index, (name, rate) in enumerate(CANCEL_SUPPLY_RATE.items()):
        count = int(rate * per_run)
        data.cancel_supply[name] = await seed.seed_orders(
            database, data.merchants, count, pending_only=True, seed=10 + index
        )
        print(f"  seeded {count:,} PENDING orders for cancelOrder on {name}", flush=True)


async def _million(options: Options, workdir: Path) -> dict[str, Any]:
    """orders(first: 50) on 10,000 orders against 1,000,000, two databases, interleaved."""
    assert options.postgres is not None
    small = await bench_db.create(workdir, options.postgres, suffix="_10k")
    large = await bench_db.create(workdir, options.postgres, suffix="_1m")
    try:
        small_data = await dataset(small, options.orders)
        large_data = await dataset(large, options.orders)
        started = time.monotonic()
        made = await seed.seed_million(large, large_data.merchants, MILLION)
        print(f"  seeded {made:,} more orders in {time.monotonic() - started:.0f} s", flush=True)
        # Twice as long as the other measurements (a p95 wants a few hundred
        # requests at these rates), after a longer warm-up: the big seed left
        # the pages the query reads cold.
        settings = replace(
            options.settings, seconds=2 * options.seconds, warmup=max(options.warmup, 3.0)
        )
        # The open-loop p95 compared is at a low rate: enough requests need time.
        steady_seconds = max(30.0, 2 * options.seconds)
        benches = {
            "10000": Bench(settings, small, small_data),
            "1000000": Bench(settings, large, large_data),
        }
        with (
            servers.gateway(small, tracing=True) as small_server,
            servers.gateway(large, tracing=True) as large_server,
        ):
            pairs = {
                "10000": (small_server, servers.tokens(small_server, small_data.merchants)),
                "1000000": (large_server, servers.tokens(large_server, large_data.merchants)),
            }
            figures = interleaved(
                benches["10000"],
                [
                    Slot(size, server, op, tokens, bench=benches[size])
                    for op in (ORDERS_PAGE, ORDER_BY_ID)
                    for size, (server, tokens) in pairs.items()
                ],
            )
            rate = figures["10000"][ORDERS_PAGE]["rps"] / 2  # the same offered load on both
            for size, (server, tokens) in pairs.items() if rate > 0 else ():
                print(
                    f"  {size} orders: orders(first:50) at {rate:.0f} req/s, open loop", flush=True
                )
                figures[size]["steady"] = merge(
                    [
                        benches[size].run(
                            server,
                            benches[size].lanes(ORDERS_PAGE, tokens),
                            seconds=steady_seconds,
                            rate=rate,
                            connections=OPEN_LOOP_CONNECTIONS,
                        )
                    ]
                )
                print(f"    {line(figures[size]['steady'])}", flush=True)
        return {
            size: {"peak": f[ORDERS_PAGE], "steady": f.get("steady"), "order(id)": f[ORDER_BY_ID]}
            for size, f in figures.items()
        }
    finally:
        await bench_db.drop(small)
        await bench_db.drop(large)


async def run_database(options: Options, kind: str, *, soak_here: bool) -> dict[str, Any]:
    postgres = options.postgres if kind == "postgres" else None
    started = time.monotonic()
    print(f"\n== {kind} ==", flush=True)
    with tempfile.TemporaryDirectory(prefix="oaas-bench-") as tmp:
        workdir = Path(tmp)
        database = await bench_db.create(workdir, postgres)
        try:
            data = await dataset(database, options.orders)
            await _supply(options, database, data)
            bench = Bench(options.settings, database, data)
            results = measure_database(options, bench, soak_here=soak_here)
        finally:
            await bench_db.drop(database)
        if options.million and kind == "postgres":
            print("\n== postgres, 10,000 vs 1,000,000 orders ==", flush=True)
            results["million"] = await _million(options, workdir)
    return {
        "date": date.today().isoformat(),
        "database": kind,
        **_checkout(),
        "options": {k: v for k, v in vars(options).items() if k != "postgres"},
        "seeded_orders": options.orders,
        "merchants": len(data.merchants),
        "cancel_supply": {k: sum(map(len, v.values())) for k, v in data.cancel_supply.items()},
        "minutes": (time.monotonic() - started) / 60,
        **results,
    }


def _checkout() -> dict[str, Any]:
    """What was measured: the commit, and whether platform/ had changes not committed."""

    def git(*argv: str) -> str:
        done = subprocess.run(["git", *argv], cwd=REPO, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    if not (REPO / ".git").exists():  # a copy of a commit: whoever made it names it
        return {"commit": os.environ.get("OAAS_BENCH_COMMIT", "unknown"), "platform_changed": False}
    changed = git("status", "--porcelain", "--", "platform")
    return {"commit": git("rev-parse", "--short", "HEAD"), "platform_changed": bool(changed)}


async def _reachable(url: str) -> bool:
    try:
        await bench_db.ping(url)
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"PostgreSQL at {url} not reachable ({exc}): skipped", flush=True)
        return False
    return True


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement, all rounds")
    parser.add_argument("--warmup", type=float, default=1.0, help="before each round")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds per measurement")
    parser.add_argument("--connections", type=int, default=20, help="closed-loop connections")
    parser.add_argument("--soak-seconds", type=float, default=300.0, help="0 skips the soak")
    parser.add_argument(
        "--soak-everywhere",
        action="store_true",
        help="soak on every database (default: only the last, PostgreSQL when it runs)",
    )
    parser.add_argument(
        "--workers", type=int, nargs="*", default=[2], help="worker counts compared with one"
    )
    parser.add_argument("--orders", type=int, default=SEEDED_ORDERS, help="orders to seed")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("OAAS_BENCH_POSTGRES_URL") or None,
        help="a PostgreSQL server URL (postgresql+asyncpg://...); default OAAS_BENCH_POSTGRES_URL",
    )
    parser.add_argument("--no-sqlite", dest="sqlite", action="store_false")
    parser.add_argument(
        "--million", action="store_true", help="orders(first: 50) at 1,000,000 orders (PostgreSQL)"
    )
    return parser


def _results_file(date: str, kind: str) -> Path:
    """`<date>-<db>.json`, or `<date>-<db>-2.json` and on: a later run never overwrites."""
    out = RESULTS / f"{date}-{kind}.json"
    run = 2
    while out.exists():
        out = RESULTS / f"{date}-{kind}-{run}.json"
        run += 1
    return out


def _interrupt(_signum: int, _frame: object) -> None:
    # Stopped from outside: unwind, so servers stop and bench databases are dropped.
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    signal.signal(signal.SIGTERM, _interrupt)
    options = Options(**vars(parser().parse_args(argv)))
    if options.postgres and not asyncio.run(_reachable(options.postgres)):
        options.postgres = None
    kinds = (["sqlite"] if options.sqlite else []) + (["postgres"] if options.postgres else [])
    if not kinds:
        raise SystemExit("nothing to run: --no-sqlite needs --postgres or OAAS_BENCH_POSTGRES_URL")
    RESULTS.mkdir(exist_ok=True)
    for kind in kinds:
        soak_here = options.soak_everywhere or kind == kinds[-1]
        results = asyncio.run(run_database(options, kind, soak_here=soak_here))
        out = _results_file(results["date"], kind)
        out.write_text(json.dumps(results, indent=2) + "\n")
        print()
        print(report.render(results))
        print(f"written to {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
