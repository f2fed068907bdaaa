"""What tracing costs, by how much of it is exported: one database, interleaved rounds.

    python -m ops.bench.tracing [--postgres URL] [--seconds 24] [--rounds 4] [--ratios 0 0.1 1]

Gateways with tracing off, and on with each export ratio (OAAS_TRACE_EXPORT_RATIO;
exemplars and bad requests are exported at every ratio), answer `order(id)` and
`createOrder` under the same closed-loop load, round after round, forwards then
backwards. It prints req/s and CPU per request of each, and each as a ratio to
tracing off, plus the spans each sink received. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from ops.bench import database as bench_db
from ops.bench import servers
from ops.bench.gateway import Slot, dataset, interleaved
from ops.bench.measure import Bench, Settings
from ops.bench.operations import CREATE_ORDER, ORDER_BY_ID

OPERATIONS = (ORDER_BY_ID, CREATE_ORDER)


def _measure(bench: Bench, ratios: list[float]) -> None:
    database, data = bench.database, bench.data
    with ExitStack() as stack:
        gateways: dict[str, servers.Server] = {
            "off": stack.enter_context(servers.gateway(database, tracing=False))
        }
        for ratio in ratios:
            gateways[f"on, export {ratio:g}"] = stack.enter_context(
                servers.gateway(database, tracing=True, export_ratio=ratio)
            )
        slots = [
            Slot(key, server, operation, servers.tokens(server, data.merchants))
            for key, server in gateways.items()
            for operation in OPERATIONS
        ]
        results = interleaved(bench, slots)
        print("\n| tracing | operation | req/s | CPU ms/req | req/s vs off | CPU vs off |")
        print("| --- | --- | --- | --- | --- | --- |")
        for operation in OPERATIONS:
            off: dict[str, Any] = results["off"][operation]
            for key in gateways:
                found = results[key][operation]
                print(
                    f"| {key} | {operation} | {found['rps']:,.0f} | {found['server_cpu_ms']:.2f} "
                    f"| {found['rps'] / off['rps']:.2f}x | {found['server_cpu_ms'] / off['server_cpu_ms']:.2f}x |"
                )
        for key, server in gateways.items():
            spans = servers.exported_spans(server)
            if spans is not None:
                print(f"  {key}: the sink received {spans:,} spans")


async def _run(options: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="oaas-bench-") as tmp:
        database = await bench_db.create(Path(tmp), options.postgres)
        try:
            data = await dataset(database, options.orders)
            settings = Settings(
                seconds=options.seconds,
                warmup=1.0,
                connections=options.connections,
                rounds=options.rounds,
            )
            _measure(Bench(settings, database, data), options.ratios)
        finally:
            await bench_db.drop(database)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", help="a PostgreSQL server URL; default: SQLite")
    parser.add_argument("--seconds", type=float, default=24.0, help="per measurement, all rounds")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--ratios", type=float, nargs="+", default=[0.0, 0.1, 1.0])
    asyncio.run(_run(parser.parse_args()))


if __name__ == "__main__":
    main()
