"""The durable intake queue: orders whose risk check or routing is still to do.

A job is a row keyed by its order, written in the same transaction that
accepts or defers the order, so work survives restarts and an order never has
two jobs. Workers claim due jobs with a lease: on PostgreSQL the claim skips
rows another worker has locked (`FOR UPDATE SKIP LOCKED`); on SQLite the single
writer serialises claims. A job is deleted in the transaction that routes (or
holds, or finds cancelled) its order, so nothing is routed twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from tenacity import RetryCallState, wait_exponential_jitter

from oaas.db import entity_table
from oaas.db.types import utcnow
from oaas.lifecycle.models import IntakeJob

jobs = entity_table(IntakeJob)

DEFERRED = "DEFERRED"  # risk or routing failed: retry with backoff
AWAITING_STOCK = "AWAITING_STOCK"  # routed nowhere: retry when the merchant's stock changes
MAX_BACKOFF_SECONDS = 300.0
# tenacity's backoff, so retries spread out the same way as every other retry here.
_backoff = wait_exponential_jitter(initial=1, max=MAX_BACKOFF_SECONDS, jitter=1)


def backoff(attempts: int) -> timedelta:
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
    state.attempt_number = max(1, attempts)
    return timedelta(seconds=_backoff(state))


@dataclass(frozen=True)
class Job:
    tenant_id: UUID
    order_id: UUID
    reason: str
    attempts: int


async def put(
    session: AsyncSession,
    tenant_id: UUID,
    order_id: UUID,
    reason: str,
    *,
    error: str | None = None,
) -> None:
    """Queues the order (or updates its job): due after a backoff when DEFERRED, on the
    next stock change when AWAITING_STOCK. The claim is released either way."""
    now = utcnow()
    current = (
        await session.execute(
            select(jobs.c.attempts).where(
                jobs.c.tenant_id == tenant_id, jobs.c.order_id == order_id
            )
        )
    ).scalar_one_or_none()
    attempts = 0 if current is None else current + 1
    # The first retry waits about a second, each later one about twice as long.
    due = now + backoff(attempts + 1) if reason == DEFERRED else None
    if current is None:
        await session.execute(
            insert(jobs.table).values(
                tenant_id=tenant_id,
                order_id=order_id,
                reason=reason,
                attempts=0,
                next_attempt_at=due,
                claimed_until=None,
                last_error=error,
                created_at=now,
            )
        )
    else:
        await session.execute(
            update(jobs.model)
            .where(jobs.c.tenant_id == tenant_id, jobs.c.order_id == order_id)
            .values(
                reason=reason,
                attempts=attempts,
                next_attempt_at=due,
                claimed_until=None,
                last_error=error,
            )
        )


async def exists(session: AsyncSession, tenant_id: UUID, order_id: UUID, reason: str) -> bool:
    query = select(jobs.c.order_id).where(
        jobs.c.tenant_id == tenant_id, jobs.c.order_id == order_id, jobs.c.reason == reason
    )
    return (await session.execute(query)).first() is not None


async def done(session: AsyncSession, tenant_id: UUID, order_id: UUID) -> None:
    await session.execute(
        delete(jobs.model).where(jobs.c.tenant_id == tenant_id, jobs.c.order_id == order_id)
    )


async def wake_for_stock(session: AsyncSession, tenant_id: UUID) -> int:
    """Makes the merchant's orders waiting for stock due now; answers how many."""
    result = await session.execute(
        update(jobs.model)
        .where(
            jobs.c.tenant_id == tenant_id,
            jobs.c.reason == AWAITING_STOCK,
            jobs.c.next_attempt_at.is_(None),
        )
        .values(next_attempt_at=utcnow())
    )
    woken: int = result.rowcount  # type: ignore[attr-defined]
    return woken


async def claim(
    session: AsyncSession, *, limit: int, lease: timedelta, now: datetime | None = None
) -> list[Job]:
    """Takes up to `limit` due jobs no live lease holds, and leases them. Commit right after."""
    now = now or utcnow()
    query = (
        select(jobs.c.tenant_id, jobs.c.order_id, jobs.c.reason, jobs.c.attempts)
        .where(
            jobs.c.next_attempt_at <= now,
            or_(jobs.c.claimed_until.is_(None), jobs.c.claimed_until < now),
        )
        .order_by(jobs.c.next_attempt_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    found = [Job(*row) for row in await session.execute(query)]
    for job in found:
        await session.execute(
            update(jobs.model)
            .where(jobs.c.tenant_id == job.tenant_id, jobs.c.order_id == job.order_id)
            .values(claimed_until=now + lease)
        )
    return found
