"""Numbering committed events in commit order: after each mutation, and every second.

The GraphQL unit of work numbers a mutation's events itself before answering,
so a caller reads its own events at once. Each process also runs the loop
below every second, so nothing written elsewhere (the intake worker, the CLI,
another process) stays without a position for longer.
"""

from __future__ import annotations

import asyncio

from oaas.db import SYSTEM_SCOPE, Database
from oaas.outbox import assign_positions
from oaas.outbox.store import SEQUENCE_BATCH
from oaas.telemetry import get_logger

log = get_logger("oaas.events")
POLL_SECONDS = 1.0


async def sequence(database: Database) -> int:
    """Numbers every committed event without a position; answers how many."""
    total = 0
    while True:
        async with database.session(write=True, scope=SYSTEM_SCOPE) as session:
            numbered = await assign_positions(session)
        total += numbered
        if numbered < SEQUENCE_BATCH:
            return total


async def sequence_forever(database: Database, poll_seconds: float = POLL_SECONDS) -> None:
    while True:
        await asyncio.sleep(poll_seconds)
        try:
            await sequence(database)
        except Exception:
            log.exception("numbering events failed; will retry")
