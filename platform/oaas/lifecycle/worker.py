"""The intake worker: retries deferred orders and routes orders woken by new stock.

Each pass claims due jobs in one short transaction, then handles each job in
its own transaction under the merchant's scope: the order's row is locked and
its status checked first, so a job handled twice (an expired lease, two
workers) routes its order once. Every process runs one worker loop.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from oaas.db import SYSTEM_SCOPE, Database, RowScope
from oaas.lifecycle import queue
from oaas.lifecycle.engines import Engines
from oaas.lifecycle.placement import Outcome, process
from oaas.orders.repository import OrderRepository
from oaas.policy import system_principal
from oaas.settings import Settings
from oaas.telemetry import get_logger

log = get_logger("oaas.lifecycle")
WORKER = system_principal("intake")


async def handle(database: Database, engines: Engines, job: queue.Job) -> Outcome | None:
    async with database.session(write=True, scope=RowScope("tenant", job.tenant_id)) as session:
        order = await OrderRepository(session, WORKER).get(job.order_id, for_update=True)
        if order is None:  # the order is gone (its merchant was deleted)
            await queue.done(session, job.tenant_id, job.order_id)
            return None
        return await process(session, WORKER, engines, order, trigger="RETRY")


async def run_due_jobs(
    database: Database,
    engines: Engines,
    *,
    limit: int = 20,
    lease: timedelta = timedelta(seconds=60),
) -> int:
    """One pass; answers how many jobs it handled."""
    async with database.session(write=True, scope=SYSTEM_SCOPE) as session:
        claimed = await queue.claim(session, limit=limit, lease=lease)
    for job in claimed:
        try:
            outcome = await handle(database, engines, job)
            log.info("intake job", order=str(job.order_id), outcome=outcome, attempts=job.attempts)
        except Exception:
            # The lease runs out and another pass takes the job again.
            log.exception("intake job failed", order=str(job.order_id))
    return len(claimed)


async def work_forever(database: Database, engines: Engines, settings: Settings) -> None:
    lease = timedelta(seconds=settings.intake_lease_seconds)
    while True:
        try:
            handled = await run_due_jobs(
                database, engines, limit=settings.intake_batch, lease=lease
            )
        except Exception:
            log.exception("the intake worker failed a pass; trying again")
            handled = 0
        if handled < settings.intake_batch:
            await asyncio.sleep(settings.intake_poll_seconds)
