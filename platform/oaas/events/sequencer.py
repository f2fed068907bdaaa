"""Numbering committed events in commit order, right after each commit and every second.

A transaction that wrote events wakes the sequencer of its process once it
committed (oaas.events.payloads); the GraphQL unit of work numbers a
mutation's events itself before answering, so a caller reads its own events
at once. The loop also runs every second, so nothing written elsewhere (another
process, the intake worker) stays without a position.
"""

from __future__ import annotations

import asyncio
import contextlib

from oaas.db import SYSTEM_SCOPE, Database
from oaas.outbox import assign_positions
from oaas.outbox.store import SEQUENCE_BATCH
from oaas.telemetry import get_logger

log = get_logger("oaas.events")
POLL_SECONDS = 1.0
# The sequencer loops of this process, woken after every commit that wrote events.
_waiting: set[asyncio.Event] = set()


def wake() -> None:
    for waiting in _waiting:
        waiting.set()


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
    woken = asyncio.Event()
    _waiting.add(woken)
    try:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), poll_seconds)
            woken.clear()
            try:
                await sequence(database)
            except Exception:
                log.exception("numbering events failed; will retry")
    finally:
        _waiting.discard(woken)
