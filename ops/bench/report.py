"""The figures of one database's run as Markdown tables, and the targets checked."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ops.bench.operations import CREATE_ORDER, OPERATIONS, ORDER_BY_ID


def _q(value: float, base: float) -> float:
    """value / base; NaN where there is no base (a server that answered nothing)."""
    return value / base if base else float("nan")


def _ratio(value: float | None, base: float | None) -> str:
    if not value or not base:
        return "-"
    return f"{_q(value, base):.2f}x"


def _row(label: str, op: str, r: dict[str, Any], ratios: list[str]) -> str:
    note = " (supply used up)" if r.get("exhausted") else ""
    db_cpu = f"{r['db_cpu_ms']:.2f}" if "db_cpu_ms" in r else "-"
    return (
        f"| {label} | {op}{note} | {r['rps']:,.0f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | "
        f"{r['p99_ms']:.1f} | {r['errors']} | {r['server_cpu_ms']:.2f} | {db_cpu} | "
        + " | ".join(ratios)
        + f" | {r['loadavg']:.1f} |"
    )


def throughput_table(results: dict[str, Any]) -> list[str]:
    a, b, c = results["a"], results["b"], results["c"]
    raw = "asyncpg" if results["database"] == "postgres" else "aiosqlite"
    lines = [
        "| server | operation | req/s | p50 ms | p95 ms | p99 ms | errors | server CPU ms/req "
        "| PostgreSQL CPU ms/req | vs (a) | vs (b) | vs (c) | load avg |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        _row("(a) bare Starlette JSON", "fixed answer", a, ["1.00x", "-", "-"]),
    ]
    for op in OPERATIONS:
        lines.append(
            _row(
                "(b) strawberry, in memory",
                op,
                b[op],
                [_ratio(b[op]["rps"], a["rps"]), "1.00x", "-"],
            )
        )
    for op in OPERATIONS:
        lines.append(
            _row(
                f"(c) Starlette + raw {raw}",
                op,
                c[op],
                [_ratio(c[op]["rps"], a["rps"]), _ratio(c[op]["rps"], b[op]["rps"]), "1.00x"],
            )
        )
    for key, label in (
        ("gateway_off", "gateway, tracing off"),
        ("gateway_on", "gateway, tracing on"),
    ):
        for op, r in results.get(key, {}).items():
            lines.append(
                _row(
                    label,
                    op,
                    r,
                    [
                        _ratio(r["rps"], a["rps"]),
                        _ratio(r["rps"], b[op]["rps"]),
                        _ratio(r["rps"], c[op]["rps"]),
                    ],
                )
            )
    return lines


def _tracing(results: dict[str, Any], op: str) -> float | None:
    on, off = results.get("gateway_on", {}).get(op), results.get("gateway_off", {}).get(op)
    return _q(on["rps"], off["rps"]) if on and off else None


def detail_tables(results: dict[str, Any]) -> list[str]:
    lines = ["", "| figure | value |", "| --- | --- |"]
    for op in (ORDER_BY_ID, CREATE_ORDER):
        ratio = _tracing(results, op)
        if ratio is not None:
            lines.append(f"| tracing on / off, {op} req/s | {ratio:.2f}x |")
    for op, r in results.get("half_peak", {}).items():
        busy = ""
        if "worker_busy" in r:  # results before 2026-11-29 lack it
            busy = (
                f"; worker busy {r['worker_busy']:.0%} of a core, CPU {r['server_cpu_ms']:.2f} "
                f"ms/req against {r['peak_server_cpu_ms']:.2f} at peak"
            )
        lines.append(
            f"| {op} at half of peak, open loop | {r['rps']:,.0f} req/s offered {r['rate']:,.0f} "
            f"for {r['seconds']:.0f} s ({r['requests']:,} requests): "
            f"p50 {r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f}, p99 {r['p99_ms']:.1f} "
            f"(p99/p50 {_q(r['p99_ms'], r['p50_ms']):.1f}x), errors {r['errors']}{busy} |"
        )
    soak = results.get("soak")
    if soak:
        lines.append(
            f"| soak, {soak['seconds']:.0f} s at {soak['rate']:,.0f} req/s (80% order(id), 20% "
            f"createOrder) | {soak['requests']:,} requests, {soak['errors']} errors, p50 "
            f"{soak['p50_ms']:.1f} ms, p99 {soak['p99_ms']:.1f}, max {soak['max_ms']:.0f}; "
            f"worker RSS {soak['rss_kib_start'] / 1024:.1f} -> {soak['rss_kib_end'] / 1024:.1f} MiB "
            f"({soak['rss_growth']:+.1%}) |"
        )
    workers = results.get("workers", {})
    one = workers.get("1", {})
    for n, figures in workers.items():
        if n == "1":
            continue
        for op, r in figures.items():
            if op in one:
                ratio = _q(r["rps"], one[op]["rps"])
                lines.append(
                    f"| --workers {n}, {op} | {r['rps']:,.0f} req/s vs {one[op]['rps']:,.0f} with one: "
                    f"{ratio:.2f}x ({ratio / int(n):.2f} of {n}x; target >= {0.8 * int(n):.1f}x) |"
                )
    million = results.get("million")
    if million and million["1000000"].get("steady"):
        small, large = million[min(million, key=int)], million["1000000"]
        lines.append(
            f"| orders(first:50), {int(min(million, key=int)):,} vs 1,000,000 orders, open loop at "
            f"{small['steady']['rate']:,.0f} req/s | p95 {small['steady']['p95_ms']:.1f} ms vs "
            f"{large['steady']['p95_ms']:.1f} ms ({_q(large['steady']['p95_ms'], small['steady']['p95_ms']):.2f}x); "
            f"peak {small['peak']['rps']:,.0f} vs {large['peak']['rps']:,.0f} req/s |"
        )
        lines.append(
            f"| order(id), same sizes, peak | {small['order(id)']['rps']:,.0f} vs "
            f"{large['order(id)']['rps']:,.0f} req/s, p95 {small['order(id)']['p95_ms']:.1f} vs "
            f"{large['order(id)']['p95_ms']:.1f} ms |"
        )
    return lines


def _cpu(r: dict[str, Any]) -> float:
    """CPU ms a request cost the server and, on PostgreSQL, the database's backends."""
    return float(r["server_cpu_ms"] + r.get("db_cpu_ms", 0.0))


def _versus(gateway: dict[str, Any], baseline: dict[str, Any]) -> tuple[float, str]:
    """The req/s ratio (the target's measure), and the same by CPU per request.

    The second moves less when other work shares the machine: req/s falls with
    the share of the cores a process gets, CPU per request hardly does.
    """
    ratio = _q(gateway["rps"], baseline["rps"])
    return ratio, f"{ratio:.2f}x (by CPU per request {_q(_cpu(baseline), _cpu(gateway)):.2f}x)"


def targets(results: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met): None where this run cannot tell."""
    found: list[tuple[str, str, bool | None]] = []
    on = results.get("gateway_on", {})
    if results["database"] == "postgres" and CREATE_ORDER in on:
        ratio, text = _versus(on[CREATE_ORDER], results["c"][CREATE_ORDER])
        found.append(("createOrder on PostgreSQL >= 0.3x of (c)", text, ratio >= 0.3))
    if ORDER_BY_ID in on:
        ratio, text = _versus(on[ORDER_BY_ID], results["b"][ORDER_BY_ID])
        found.append(("order(id) >= 0.5x of (b)", text, ratio >= 0.5))
    million = results.get("million")
    if million and million["1000000"].get("steady"):
        small, large = million[min(million, key=int)], million["1000000"]
        ratio = _q(large["steady"]["p95_ms"], small["steady"]["p95_ms"])
        found.append(
            ("orders(first:50) p95 at 1M within 1.5x of 10k", f"{ratio:.2f}x", ratio <= 1.5)
        )
    for op in (ORDER_BY_ID, CREATE_ORDER):
        kept = _tracing(results, op)
        if kept is not None:
            on_cpu, off_cpu = _cpu(on[op]), _cpu(results["gateway_off"][op])
            found.append(
                (
                    f"tracing costs <= 10% ({op})",
                    f"{1 - kept:+.0%} of req/s ({kept:.2f}x); CPU per request "
                    f"{_q(on_cpu, off_cpu) - 1:+.0%}",
                    kept >= 0.9,
                )
            )
    for op, r in results.get("half_peak", {}).items():
        ratio = _q(r["p99_ms"], r["p50_ms"])
        found.append((f"p99 <= 5x p50 at half of peak ({op})", f"{ratio:.1f}x", ratio <= 5))
    soak = results.get("soak")
    if soak:
        found.append(
            (
                "soak: RSS growth <= 10%, zero errors",
                f"{soak['rss_growth']:+.1%}, {soak['errors']} errors",
                soak["rss_growth"] <= 0.10 and soak["errors"] == 0,
            )
        )
    workers = results.get("workers", {})
    for n, figures in workers.items():
        if n == "1":
            continue
        for op, r in figures.items():
            ratio = _q(r["rps"], workers["1"][op]["rps"])
            target = 0.8 * int(n)
            cpu = _q(_cpu(r), _cpu(workers["1"][op]))
            found.append(
                (
                    f"--workers {n} >= {target:.1f}x one ({op})",
                    f"{ratio:.2f}x (CPU per request {cpu:.2f}x one worker's)",
                    ratio >= target,
                )
            )
    return found


def render(results: dict[str, Any]) -> str:
    options = results["options"]
    dirty = " with uncommitted changes in platform/" if results.get("platform_changed") else ""
    lines = [
        f"### {results['date']}, {results['database']}, commit {results.get('commit', '?')}{dirty}: "
        f"{results['seeded_orders']:,} orders over "
        f"{results['merchants']} merchants; {options['seconds']:g} s per measurement in "
        f"{options.get('rounds', 1)} interleaved rounds, each after {options['warmup']:g} s "
        f"warm-up; {options['connections']} connections (closed loop)",
        "",
        *throughput_table(results),
        *detail_tables(results),
        "",
        "| target | measured | met |",
        "| --- | --- | --- |",
    ]
    for name, measured, met in targets(results):
        lines.append(f"| {name} | {measured} | {'yes' if met else 'NO' if met is False else '?'} |")
    return "\n".join(lines)


def main() -> None:
    """Re-renders saved results: python -m ops.bench.report ops/bench/results/<file>.json"""
    for name in sys.argv[1:]:
        print(render(json.loads(Path(name).read_text())))
        print()


if __name__ == "__main__":
    main()
