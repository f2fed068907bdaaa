"""The outbox's cost on createOrder: CPU per request with it on and off, in one run.

The gateway's ASGI app runs in this process on a fresh bench database (as
`ops.bench.calls`), and createOrder is sent `--requests` times with the outbox
on, then off, in alternating rounds, so other work on the machine falls on
both alike. "Off" exists only here: the bench replaces the outbox write of
`oaas.orders.events` with nothing and unhooks the payload and sequencing steps;
the product has no switch for it. The target: at most 10% more CPU with it on.
Not a test.

    python -m ops.bench.outbox [--postgres URL] [--requests 300] [--rounds 4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from ops.bench import database as bench_db
from ops.bench.calls import WARMUP_REQUESTS, _call, merchant_headers
from ops.bench.gateway import dataset
from ops.bench.operations import KEY_PLACEHOLDER, create_order_template


class OutboxSwitch:
    """Turns the outbox's writes off and on again, for this benchmark alone."""

    def __init__(self) -> None:
        from oaas.orders import events

        self._events = events
        self._append = events.append_to_outbox
        self._on = True

    def off(self) -> None:
        if not self._on:
            return
        self._on = False
        from sqlalchemy import event

        from oaas.db.scoping import ScopedSession
        from oaas.events import payloads

        async def nothing(*_args: Any, **_kwargs: Any) -> None:
            return None

        self._events.append_to_outbox = nothing  # type: ignore[assignment]
        event.remove(ScopedSession, "before_commit", payloads._fill)
        event.remove(ScopedSession, "after_commit", payloads._committed)

    def on(self) -> None:
        from oaas.events import payloads

        self._on = True
        self._events.append_to_outbox = self._append  # type: ignore[assignment]
        payloads.install()


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="oaas-outbox-") as tmp:
        database = await bench_db.create(Path(tmp), args.postgres)
        try:
            data = await dataset(database, args.orders)
            os.environ.update(database.env(OAAS_TRACING="false"))
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
    tag = time.time_ns()
    sent = 0

    async def run(count: int) -> float:
        nonlocal sent
        started = time.process_time()
        for _ in range(count):
            body = create_order_template().replace(KEY_PLACEHOLDER, f"{tag}-{sent}")
            await _call(app, body.encode(), headers)
            sent += 1
        return (time.process_time() - started) * 1000 / count

    switch = OutboxSwitch()
    cpu: dict[str, list[float]] = {"on": [], "off": []}
    await run(WARMUP_REQUESTS)
    for round_ in range(args.rounds):
        order = ("on", "off") if round_ % 2 == 0 else ("off", "on")
        for state in order:
            switch.on() if state == "on" else switch.off()
            await run(WARMUP_REQUESTS // 5)
            cpu[state].append(await run(args.requests))
    switch.on()
    best = {state: min(figures) for state, figures in cpu.items()}
    print(f"\ncreateOrder, {args.requests} requests x {args.rounds} rounds per state")
    print("| outbox | CPU ms per request (best round) | rounds |")
    print("| --- | --- | --- |")
    for state in ("off", "on"):
        rounds = ", ".join(f"{figure:.2f}" for figure in cpu[state])
        print(f"| {state} | {best[state]:.2f} | {rounds} |")
    print(f"\noutbox on / off: {best['on'] / best['off']:.3f} (target <= 1.10)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", default=None, help="on PostgreSQL, not SQLite")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--orders", type=int, default=10_000)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
