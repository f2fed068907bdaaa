"""Flushing SLI aggregates from memory to the database, off the request path.

Every `FLUSH_INTERVAL_SECONDS` the aggregator is drained and its minutes are
inserted in one batch. A crash loses at most the last interval; a failed
write puts the aggregates back to be tried again with the next flush.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import insert

from oaas.db import SYSTEM_SCOPE, Database, entity_table
from oaas.db.types import new_id
from oaas.sla.models import SliMinute
from oaas.telemetry import get_logger
from oaas.telemetry.sli import SliAggregator

FLUSH_INTERVAL_SECONDS = 5.0
sli_minutes = entity_table(SliMinute)
log = get_logger("oaas.sla")


async def flush(database: Database, aggregator: SliAggregator) -> int:
    """Writes what was recorded since the last flush; answers the number of rows."""
    drained = aggregator.drain()
    if not drained:
        return 0
    rows = [
        {
            "tenant_id": UUID(tenant_id),
            "id": new_id(),
            "minute": datetime.fromtimestamp(minute, UTC),
            "operation": operation,
            "count": aggregate.count,
            "bad": aggregate.bad,
            "histogram": aggregate.histogram.to_json(),
            "exemplars": aggregate.exemplars(),
        }
        for (minute, tenant_id, operation), aggregate in drained.items()
    ]
    try:
        async with database.session(write=True, scope=SYSTEM_SCOPE) as session:
            await session.execute(insert(sli_minutes.table), rows)
    except Exception:
        aggregator.restore(drained)
        raise
    return len(rows)


async def flush_forever(database: Database, aggregator: SliAggregator) -> None:
    while True:
        await asyncio.sleep(FLUSH_INTERVAL_SECONDS)
        try:
            await flush(database, aggregator)
        except Exception:
            log.exception("flushing SLI aggregates failed; keeping them for the next try")
