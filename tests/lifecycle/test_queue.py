"""The durable intake queue (oaas.lifecycle.queue) against the real databases.

Jobs reference real orders (a foreign key), placed through the API for merchants
without fulfilment nodes, which queues nothing by itself. Times are passed to
`claim` explicitly, so nothing here waits for a backoff or a lease to run out.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from oaas.db import SYSTEM_SCOPE, Database, utcnow
from oaas.lifecycle import queue
from oaas.settings import Settings
from tests.lifecycle.conftest import (
    customer_order,
    gateway,
    order_uuid,
    owner_database,
    pending_jobs,
    tenant_id,
)

LEASE = timedelta(seconds=60)
# Past any first backoff (1 s plus up to 1 s of jitter).
DUE = timedelta(seconds=3)
SECOND = timedelta(seconds=1)


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    async with owner_database(settings) as opened:
        yield opened


@asynccontextmanager
async def transaction(database: Database) -> AsyncIterator[AsyncSession]:
    async with database.session(write=True, scope=SYSTEM_SCOPE) as session:
        yield session


async def place(settings: Settings, count: int, client: str = "acme-shop") -> list[UUID]:
    """`count` orders of the client's merchant, through the API; none of them queued."""
    async with gateway(settings) as gw:
        created = [await customer_order(gw.api, n, as_client=client) for n in range(count)]
    return [order_uuid(order["id"]) for order in created]


async def put_all(
    database: Database, merchant: UUID, orders: list[UUID], reason: str = queue.DEFERRED
) -> None:
    async with transaction(database) as session:
        for order in orders:
            await queue.put(session, merchant, order, reason)


async def job(database: Database, order: UUID) -> Any:
    """The order's job row (reason, attempts, next_attempt_at, claimed_until, last_error)."""
    async with transaction(database) as session:
        found = await session.execute(
            select(queue.jobs.table).where(queue.jobs.c.order_id == order)
        )
        return found.one()


async def claim(
    database: Database, *, now: datetime, limit: int = 10, hold: asyncio.Barrier | None = None
) -> set[UUID]:
    """The orders of the jobs one claim takes. With `hold`, its transaction (and with it
    its row locks) stays open until every other holder has claimed as well."""
    async with transaction(database) as session:
        jobs = await queue.claim(session, limit=limit, lease=LEASE, now=now)
        if hold is not None:
            async with asyncio.timeout(10):
                await hold.wait()
    return {j.order_id for j in jobs}


async def delay_of_put(database: Database, merchant: UUID, order: UUID) -> float:
    """Defers the order once more; answers its wait in seconds."""
    before = utcnow()
    await put_all(database, merchant, [order])
    due: datetime = (await job(database, order)).next_attempt_at
    return (due - before).total_seconds()


async def test_put_keeps_one_job_per_order_and_done_removes_it(
    settings: Settings, database: Database
) -> None:
    acme = await tenant_id(database, "acme")
    [order] = await place(settings, 1)
    before = utcnow()
    async with transaction(database) as session:
        await queue.put(session, acme, order, queue.DEFERRED, error="routing failed")
    async with transaction(database) as session:
        assert await queue.exists(session, acme, order, queue.DEFERRED)
        assert not await queue.exists(session, acme, order, queue.AWAITING_STOCK)
    deferred = await job(database, order)
    assert (deferred.attempts, deferred.last_error, deferred.claimed_until) == (
        0,
        "routing failed",
        None,
    )
    assert before + SECOND <= deferred.next_attempt_at <= utcnow() + 2 * SECOND

    await put_all(database, acme, [order], queue.AWAITING_STOCK)
    waiting = await job(database, order)
    assert (waiting.reason, waiting.attempts, waiting.next_attempt_at) == (
        queue.AWAITING_STOCK,
        1,
        None,
    )
    assert await pending_jobs(database) == 1

    async with transaction(database) as session:
        await queue.done(session, acme, order)
        assert not await queue.exists(session, acme, order, queue.AWAITING_STOCK)
    assert await pending_jobs(database) == 0


def test_backoff_grows_with_attempts_and_is_capped() -> None:
    for attempts in range(1, 9):
        floor = 2 ** (attempts - 1)
        assert floor <= queue.backoff(attempts).total_seconds() <= floor + 1, attempts
    assert 1 <= queue.backoff(0).total_seconds() <= 2
    cap = timedelta(seconds=queue.MAX_BACKOFF_SECONDS)
    assert queue.backoff(10) == cap
    assert queue.backoff(10_000) == cap


async def test_each_deferral_of_an_order_waits_twice_as_long(
    settings: Settings, database: Database
) -> None:
    acme = await tenant_id(database, "acme")
    [order] = await place(settings, 1)
    delays = [await delay_of_put(database, acme, order) for _ in range(3)]
    for number, delay in enumerate(delays):
        assert delay >= 2**number, delays


async def test_claim_takes_due_jobs_no_live_lease_holds(
    settings: Settings, database: Database
) -> None:
    acme = await tenant_id(database, "acme")
    first, second, waiting = await place(settings, 3)
    await put_all(database, acme, [first, second])
    await put_all(database, acme, [waiting], queue.AWAITING_STOCK)
    now = utcnow()
    assert await claim(database, now=now) == set()  # still backing off

    later = now + DUE
    rows = {order: await job(database, order) for order in (first, second)}
    earliest = min(rows, key=lambda order: rows[order].next_attempt_at)
    assert await claim(database, now=later, limit=1) == {earliest}
    assert (await job(database, earliest)).claimed_until == later + LEASE
    assert await claim(database, now=later) == {first, second} - {earliest}
    # Every lease is live, and a job waiting for stock is never due by time alone.
    assert await claim(database, now=later + LEASE / 2) == set()
    # The workers died holding them: once the leases run out, the jobs are taken again.
    assert await claim(database, now=later + LEASE + SECOND) == {first, second}

    # Deferring again releases the claim.
    await put_all(database, acme, [first])
    assert (await job(database, first)).claimed_until is None


async def test_wake_for_stock_wakes_only_that_merchants_waiting_jobs(
    settings: Settings, database: Database
) -> None:
    acme, globex = await tenant_id(database, "acme"), await tenant_id(database, "globex")
    waiting, deferred = await place(settings, 2)
    [elsewhere] = await place(settings, 1, client="globex-shop")
    await put_all(database, acme, [waiting], queue.AWAITING_STOCK)
    await put_all(database, acme, [deferred])
    await put_all(database, globex, [elsewhere], queue.AWAITING_STOCK)
    backoff_due = (await job(database, deferred)).next_attempt_at

    before = utcnow()
    async with transaction(database) as session:
        assert await queue.wake_for_stock(session, acme) == 1
    assert before <= (await job(database, waiting)).next_attempt_at <= utcnow()
    assert (await job(database, deferred)).next_attempt_at == backoff_due
    assert (await job(database, elsewhere)).next_attempt_at is None
    async with transaction(database) as session:
        assert await queue.wake_for_stock(session, acme) == 0  # already due


async def test_concurrent_claims_never_take_the_same_job(
    settings: Settings, database: Database
) -> None:
    acme = await tenant_id(database, "acme")
    orders = await place(settings, 12)
    await put_all(database, acme, orders)
    later = utcnow() + DUE
    # PostgreSQL: both claims hold their row locks at the same time, so the second
    # must skip the first one's rows (SKIP LOCKED) rather than wait for them. SQLite
    # has one writer: the claims run one after the other.
    hold = asyncio.Barrier(2) if database.dialect == "postgresql" else None
    one, other = await asyncio.gather(
        claim(database, now=later, limit=8, hold=hold),
        claim(database, now=later, limit=8, hold=hold),
    )
    assert not one & other
    assert one | other == set(orders)
    assert sorted([len(one), len(other)]) == [4, 8]
