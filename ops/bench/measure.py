"""Measuring a server: the load spec for an operation, one run of the client, merged rounds.

A measurement is split into rounds that the orchestrator interleaves with the
other servers' (ops.bench.gateway), so that what else runs on the machine
meanwhile falls on every server alike; `merge` makes one figure of the rounds.
Each run also reads the CPU time the serving processes (and, on PostgreSQL,
the database's backends) spent, which moves far less than req/s when the
cores are shared.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from ops.bench import load, seed, servers
from ops.bench.database import BenchDatabase
from ops.bench.operations import (
    CREATE_ORDER,
    ORDER_BY_ID,
    ORDERS_PAGE,
    cancel_order,
    create_order_template,
    order_by_id,
    orders_page,
)

# order(id) cycles over this many known orders per merchant.
READ_IDS_PER_MERCHANT = 500
# The baselines check no token, but get a header of a real token's size.
DUMMY_TOKEN = "x" * 960


@dataclass
class Dataset:
    merchants: list[seed.Merchant]
    read_ids: dict[UUID, list[UUID]]
    # PENDING orders for cancelOrder, per target that stores them, per merchant.
    cancel_supply: dict[str, dict[UUID, list[UUID]]] = field(default_factory=dict)


@dataclass(frozen=True)
class Settings:
    seconds: float  # per measurement, all rounds together
    warmup: float  # before each round
    connections: int
    rounds: int


class Bench:
    """Load specs and runs against one database's servers."""

    def __init__(self, settings: Settings, database: BenchDatabase, data: Dataset) -> None:
        self.settings = settings
        self.database = database
        self.data = data

    def lanes(
        self,
        operation: str,
        tokens: dict[str, str] | None,
        *,
        supply: str | None = None,
        part: tuple[int, int] = (0, 1),
    ) -> list[dict[str, Any]]:
        """One lane per merchant: its token (or a dummy for the baselines) and its bodies.

        `part` (round, rounds): a cancel supply is shared out so no round sends
        an order another has cancelled already.
        """
        lanes = []
        tag = f"{time.time_ns():x}"  # idempotency keys unique to this run
        index, parts = part
        for merchant in self.data.merchants:
            token = tokens[merchant.handle] if tokens is not None else DUMMY_TOKEN
            lane: dict[str, Any] = {
                "headers": f"Authorization: Bearer {token}\r\n"
                f"X-Bench-Tenant: {merchant.tenant_id}\r\n",
                "mode": "cycle",
            }
            if operation == ORDER_BY_ID:
                ids = self.data.read_ids[merchant.tenant_id][:READ_IDS_PER_MERCHANT]
                lane["bodies"] = [order_by_id(i) for i in ids]
            elif operation == ORDERS_PAGE:
                lane["bodies"] = [orders_page()]
            elif operation == CREATE_ORDER:
                lane.update(
                    mode="unique",
                    bodies=[create_order_template()],
                    key_prefix=f"{tag}-{merchant.handle}",
                )
            elif supply is None:  # cancelOrder where nothing is stored: any ids will do
                ids = self.data.read_ids[merchant.tenant_id][:READ_IDS_PER_MERCHANT]
                lane["bodies"] = [cancel_order(i) for i in ids]
            else:
                ids = self.data.cancel_supply[supply][merchant.tenant_id][index::parts]
                lane.update(mode="once", bodies=[cancel_order(i) for i in ids])
            lanes.append(lane)
        return lanes

    def _backends(self) -> list[int]:
        name = self.database.name
        return servers.postgres_backends(name) if name is not None else []

    def run(
        self,
        server: servers.Server,
        lanes: list[dict[str, Any]],
        *,
        seconds: float,
        rate: float | None = None,
        connections: int | None = None,
        on_wait: Callable[[], None] | None = None,
        keep_intervals: bool = False,
    ) -> dict[str, Any]:
        """One run of the load client, with the CPU the server side spent on it."""
        spec = {
            "host": "127.0.0.1",
            "port": server.port,
            "path": "/graphql",
            "connections": connections or self.settings.connections,
            "seconds": seconds,
            "warmup": self.settings.warmup,
            "rate": rate,
            "interval": 10.0,
            "lanes": lanes,
        }
        watched = server.worker_pids()
        before = servers.cpu_seconds(watched + self._backends())
        result = load.run(spec, on_wait=on_wait, poll=10.0)
        after = servers.cpu_seconds(watched + self._backends())
        # Warm-up included on both sides: the CPU counters cannot tell it apart.
        result["server_cpu_s"] = sum(after.get(p, 0.0) - before.get(p, 0.0) for p in watched)
        if self.database.name is not None:
            result["db_cpu_s"] = sum(
                t - before.get(p, 0.0) for p, t in after.items() if p not in watched
            )
        result["loadavg"] = os.getloadavg()[0]
        if not keep_intervals:
            result.pop("intervals", None)
        return with_figures(result, [result.pop("latencies")])


def _percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(len(ordered) * q / 100))]


def with_figures(result: dict[str, Any], latencies: list[list[float]]) -> dict[str, Any]:
    """Fills in the figures that come from the raw latencies and CPU seconds."""
    ordered = sorted(x for part in latencies for x in part)
    done = max(1, result["completed_with_warmup"])
    result.update(
        requests=len(ordered),
        p50_ms=_percentile(ordered, 50),
        p90_ms=_percentile(ordered, 90),
        p95_ms=_percentile(ordered, 95),
        p99_ms=_percentile(ordered, 99),
        max_ms=ordered[-1] if ordered else float("nan"),
        mean_ms=sum(ordered) / len(ordered) if ordered else float("nan"),
        server_cpu_ms=result["server_cpu_s"] * 1000 / done,
    )
    if "db_cpu_s" in result:
        result["db_cpu_ms"] = result["db_cpu_s"] * 1000 / done
    result["_latencies"] = ordered  # for merging; dropped before results are written
    return result


def merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One figure of several rounds: counts and seconds summed, percentiles over all."""
    if len(parts) == 1:
        merged = dict(parts[0])
    else:
        merged = {
            "rounds": len(parts),
            "errors": sum(p["errors"] for p in parts),
            "error_samples": [s for p in parts for s in p["error_samples"]][:5],
            "seconds": sum(p["seconds"] for p in parts),
            "answered": sum(p["answered"] for p in parts),
            "completed_with_warmup": sum(p["completed_with_warmup"] for p in parts),
            "rate": parts[0]["rate"],
            "connections": parts[0]["connections"],
            "exhausted": any(p["exhausted"] for p in parts),
            "stale_reconnects": sum(p.get("stale_reconnects", 0) for p in parts),
            "server_cpu_s": sum(p["server_cpu_s"] for p in parts),
            "loadavg": sum(p["loadavg"] for p in parts) / len(parts),
        }
        if "db_cpu_s" in parts[0]:
            merged["db_cpu_s"] = sum(p["db_cpu_s"] for p in parts)
        merged["rps"] = merged["answered"] / merged["seconds"]
        merged = with_figures(merged, [p["_latencies"] for p in parts])
    merged.pop("_latencies", None)
    return merged


def line(result: dict[str, Any]) -> str:
    """A measurement in one line, for the progress output."""
    text = (
        f"{result['rps']:.0f} req/s, p50 {result['p50_ms']:.1f} ms, p95 {result['p95_ms']:.1f}, "
        f"p99 {result['p99_ms']:.1f}, errors {result['errors']}, "
        f"server CPU {result['server_cpu_ms']:.2f} ms/req, load {result['loadavg']:.1f}"
    )
    if result.get("exhausted"):
        text += " (supply used up)"
    if result["error_samples"]:
        text += f"; first error: {result['error_samples'][0][:200]}"
    return text
