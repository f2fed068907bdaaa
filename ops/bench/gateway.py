"""The gateway under load: one worker on SQLite (or PostgreSQL), driven from a separate process.

Measures `order(id)` and `createOrder` (with idempotency keys) with tracing
and SLI recording on and off, and a bare Starlette JSON endpoint as baseline
(a), all in one run; prints req/s and p50/p95/p99 and the ratios, and writes
ops/bench/results/<date>.json. Not a test.

    python -m ops.bench.gateway [--orders 2000] [--seconds 10] [--connections 16]
        [--postgres postgresql+asyncpg://postgres@127.0.0.1/test]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx

RESULTS = Path(__file__).with_name("results")
SECRET = "demo-only-secret"
ORDER = "query($id: ID!) { order(id: $id) { id number status total lines { sku quantity } } }"
CREATE = (
    "mutation($input: CreateOrderInput!, $key: String) { createOrder(input: $input, "
    "idempotencyKey: $key) { order { id number } userErrors { code } } }"
)
INPUT = {
    "currency": "EUR",
    "shippingAddress": {"line1": "Hauptstrasse 1", "city": "Berlin", "country": "DE"},
    "lines": [{"sku": "KETTLE-1", "quantity": 2, "unitPrice": "19.90"}],
}


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError("server did not start")


def _database_url(workdir: Path, postgres: str | None) -> str:
    """SQLite in the work folder, or a fresh database on the given PostgreSQL server."""
    if postgres is None:
        return f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    from sqlalchemy.engine import make_url

    name = f"oaas_bench_{os.getpid()}"
    admin = make_url(postgres).set(drivername="postgresql").render_as_string(hide_password=False)
    for sql in (f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'):
        subprocess.run(["psql", admin, "-qc", sql], check=True, capture_output=True)
    return make_url(postgres).set(database=name).render_as_string(hide_password=False)


def _prepare(workdir: Path, database_url: str) -> dict[str, str]:
    """A migrated database with the demo tenants on an unmetered plan."""
    env = {
        **os.environ,
        "OAAS_DATABASE_URL": database_url,
        "OAAS_SIGNING_KEY_FILE": str(workdir / "keys.json"),
        "OAAS_LOG_LEVEL": "WARNING",
    }
    plans = workdir / "plans.yaml"
    demo = Path(__file__).resolve().parents[2] / "tenants" / "demo.yaml"
    text = demo.read_text()
    text = text.replace(
        "tenants:\n",
        "plans:\n  - {name: bench, bucket_size: 10000000, restore_rate: 1000000, max_query_cost: 10000}\ntenants:\n",
        1,
    )
    text = text.replace("    kind: merchant\n", "    kind: merchant\n    plan: bench\n")
    plans.write_text(text)
    subprocess.run(
        [sys.executable, "-m", "oaas", "db", "upgrade"], env=env, check=True, capture_output=True
    )
    subprocess.run(
        [sys.executable, "-m", "oaas", "tenants", "apply", str(plans)],
        env=env,
        check=True,
        capture_output=True,
    )
    return env


async def _load(
    base: str,
    seconds: float,
    connections: int,
    call: Callable[[httpx.AsyncClient, int], Awaitable[bool]],
) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    stop = time.monotonic() + seconds
    async with httpx.AsyncClient(
        base_url=base, timeout=30, limits=httpx.Limits(max_connections=connections)
    ) as http:

        async def worker(index: int) -> None:
            nonlocal errors
            n = 0
            while time.monotonic() < stop:
                started = time.perf_counter()
                ok = await call(http, index * 1_000_000 + n)
                latencies.append((time.perf_counter() - started) * 1000)
                errors += 0 if ok else 1
                n += 1

        began = time.monotonic()
        await asyncio.gather(*(worker(i) for i in range(connections)))
        elapsed = time.monotonic() - began
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * q / 100))]

    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / elapsed,
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "mean_ms": statistics.fmean(latencies),
    }


async def _token(base: str) -> str:
    async with httpx.AsyncClient(base_url=base) as http:
        response = await http.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=("acme-shop", SECRET)
        )
        return str(response.json()["access_token"])


async def _gateway_runs(
    env: dict[str, str], tracing: bool, args: argparse.Namespace
) -> dict[str, Any]:
    port = _port()
    base = f"http://127.0.0.1:{port}"
    server_env = {**env, "OAAS_ISSUER": base, "OAAS_TRACING": "true" if tracing else "false"}
    process = subprocess.Popen(
        [sys.executable, "-m", "oaas", "serve", "--port", str(port)],
        env=server_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait(f"{base}/healthz", process)
        headers = {"Authorization": f"Bearer {await _token(base)}"}
        ids: list[str] = []
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            while len(ids) < args.orders:
                batch = await asyncio.gather(
                    *(
                        http.post(
                            "/graphql",
                            json={"query": CREATE, "variables": {"input": INPUT}},
                            headers=headers,
                        )
                        for _ in range(min(50, args.orders - len(ids)))
                    )
                )
                ids.extend(r.json()["data"]["createOrder"]["order"]["id"] for r in batch)
        rng = random.Random(1)

        async def read(http: httpx.AsyncClient, _n: int) -> bool:
            body = {"query": ORDER, "variables": {"id": rng.choice(ids)}}
            response = await http.post("/graphql", json=body, headers=headers)
            return response.status_code == 200 and "errors" not in response.json()

        run_id = f"{tracing}-{time.time_ns()}"

        async def create(http: httpx.AsyncClient, n: int) -> bool:
            body = {"query": CREATE, "variables": {"input": INPUT, "key": f"{run_id}-{n}"}}
            response = await http.post("/graphql", json=body, headers=headers)
            return (
                response.status_code == 200
                and not response.json()["data"]["createOrder"]["userErrors"]
            )

        return {
            "order(id)": await _load(base, args.seconds, args.connections, read),
            "createOrder": await _load(base, args.seconds, args.connections, create),
        }
    finally:
        process.terminate()
        process.wait(timeout=20)


async def _baseline(args: argparse.Namespace) -> dict[str, float]:
    port = _port()
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "ops.bench.baseline_app:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait(f"{base}/graphql", process)

        async def call(http: httpx.AsyncClient, _n: int) -> bool:
            response = await http.post("/graphql", json={"query": ORDER, "variables": {"id": "x"}})
            return response.status_code == 200

        return await _load(base, args.seconds, args.connections, call)
    finally:
        process.terminate()
        process.wait(timeout=20)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        env = _prepare(Path(tmp), _database_url(Path(tmp), args.postgres))
        baseline = await _baseline(args)
        off = await _gateway_runs(env, False, args)
        on = await _gateway_runs(env, True, args)
    return {
        "date": date.today().isoformat(),
        "args": vars(args),
        "baseline_a": baseline,
        "tracing_off": off,
        "tracing_on": on,
    }


def _row(name: str, figures: dict[str, float], baseline: dict[str, float]) -> str:
    return (
        f"| {name} | {figures['rps']:.0f} | {figures['p50_ms']:.1f} | {figures['p95_ms']:.1f} | "
        f"{figures['p99_ms']:.1f} | {figures['rps'] / baseline['rps']:.2f}x | {int(figures['errors'])} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--postgres", help="a PostgreSQL URL (postgresql+asyncpg://...) to run on instead of SQLite"
    )
    args = parser.parse_args()
    results = asyncio.run(main_async(args))
    RESULTS.mkdir(exist_ok=True)
    backend = "postgres" if args.postgres else "sqlite"
    out = RESULTS / f"{results['date']}-{backend}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    baseline = results["baseline_a"]
    print("| run | req/s | p50 ms | p95 ms | p99 ms | vs bare Starlette (a) | errors |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print(_row("bare Starlette JSON (a)", baseline, baseline))
    for label in ("tracing_off", "tracing_on"):
        for operation, figures in results[label].items():
            print(_row(f"{operation}, {label.replace('_', ' ')}", figures, baseline))
    for operation in ("order(id)", "createOrder"):
        ratio = results["tracing_on"][operation]["rps"] / results["tracing_off"][operation]["rps"]
        print(
            f"tracing + SLI recording, {operation}: {ratio:.2f}x of throughput without (target >= 0.90x)"
        )
    print(f"written to {out}")


if __name__ == "__main__":
    main()
