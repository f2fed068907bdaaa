"""Degraded mode: risk and routing fail, time out or are paused, and orders still go in.

Faults are injected through `create_app(settings, router=..., assessor=...)`. A
failed order is accepted PENDING with a ROUTING_DEFERRED event and a job in the
intake queue; recovery is a new app on the same database (a restart) whose worker
passes drain the queue.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from oaas.db import SYSTEM_SCOPE
from oaas.lifecycle import queue
from oaas.settings import Settings
from tests.lifecycle.conftest import (
    CountingRouter,
    FailingAssessor,
    FailingRouter,
    Gateway,
    SlowRouter,
    all_orders,
    assert_deferred,
    customer_order,
    drain,
    gateway,
    hurry,
    order_uuid,
    pending_jobs,
    stock_of,
    stocked_node,
    tuned,
    types,
)

BURST = 200
BATCH = 20


async def queued_reason(gw: Gateway, order_id: str) -> str | None:
    """The reason of the order's intake job, None without one."""
    async with gw.components.database.session(write=False, scope=SYSTEM_SCOPE) as session:
        found = await session.execute(
            select(queue.jobs.c.reason).where(queue.jobs.c.order_id == order_uuid(order_id))
        )
        reason: str | None = found.scalar_one_or_none()
        return reason


async def test_a_failing_router_defers_every_order_and_opens_the_breaker(
    settings: Settings,
) -> None:
    router = FailingRouter()
    async with gateway(tuned(settings, breaker_failures=3), router=router) as down:
        await stocked_node(down.api)
        for n in range(3):
            order = await customer_order(down.api, n)
            assert_deferred(order, "routing failed (ConnectionError)")
            assert await queued_reason(down, order["id"]) == queue.DEFERRED
        assert router.calls == 3
        assert (await stock_of(down.api))["reserved"] == 0
        assert down.components.engines.routing_guard.is_open


async def test_a_router_past_its_time_limit_defers_the_order(settings: Settings) -> None:
    router = SlowRouter(seconds=5.0)
    loop = asyncio.get_running_loop()
    async with gateway(tuned(settings, routing_timeout_ms=50), router=router) as down:
        await stocked_node(down.api)
        started = loop.time()
        order = await customer_order(down.api, 1)
        assert loop.time() - started < router.seconds
    assert_deferred(order, "routing took longer than 50 ms")
    assert router.calls == 1


async def test_an_open_breaker_defers_without_calling_the_router(settings: Settings) -> None:
    router = FailingRouter()
    settings = tuned(settings, breaker_failures=3, breaker_recovery_seconds=60)
    async with gateway(settings, router=router) as down:
        await stocked_node(down.api)
        for n in range(3):
            await customer_order(down.api, n)  # the failures that open the breaker
        paused = [await customer_order(down.api, n) for n in range(3, 5)]
    for order in paused:
        assert_deferred(order, "routing is paused after repeated failures")
    assert router.calls == 3


async def test_a_failing_risk_check_defers_and_is_assessed_on_retry(settings: Settings) -> None:
    router = CountingRouter()
    async with gateway(settings, router=router, assessor=FailingAssessor()) as down:
        await stocked_node(down.api)
        order = await customer_order(down.api, 1)
    assert_deferred(order, "risk check failed (RuntimeError)")
    assert router.calls == 0  # no routing before the risk check
    async with gateway(settings) as up:
        await drain([up])
        data = await up.api.data(
            "query($id: ID!) { order(id: $id) { status risk { score level } } }",
            {"id": order["id"]},
            as_client="acme-backend",
        )
    assert data["order"] == {"status": "ROUTED", "risk": {"score": 0, "level": "LOW"}}


async def burst(gw: Gateway, count: int) -> list[dict[str, Any]]:
    """`count` orders, `BATCH` at a time concurrently; order n asks for 1 + n % 3 units."""
    created: list[dict[str, Any]] = []
    for start in range(0, count, BATCH):
        created += await asyncio.gather(
            *(customer_order(gw.api, n, 1 + n % 3) for n in range(start, start + BATCH))
        )
    return created


async def failed_burst(settings: Settings) -> int:
    """The burst while routing is down: every createOrder succeeds, every order is
    deferred. Answers the units the orders ask for."""
    async with gateway(settings, router=FailingRouter()) as down:
        await stocked_node(down.api, units=10 * BURST)
        created = await burst(down, BURST)
    assert len({o["id"] for o in created}) == BURST
    for order in created:
        assert_deferred(order, "routing")
    return sum(1 + n % 3 for n in range(BURST))


async def assert_routed_once(gw: Gateway, units: int) -> None:
    """Every order ROUTED by exactly one decision and one ROUTED event; stock reserved once."""
    orders = await all_orders(gw.api)
    assert len(orders) == BURST
    for order in orders:
        assert order["status"] == "ROUTED", order
        assert [d["routed"] for d in order["routingHistory"]] == [True], order
        assert types(order) == ["CREATED", "ROUTING_DEFERRED", "ROUTED"], order
    assert sum(o["lines"][0]["quantity"] for o in orders) == units
    assert (await stock_of(gw.api))["reserved"] == units
    assert await pending_jobs(gw.components.database) == 0


async def test_a_burst_while_routing_is_down_is_routed_once_across_restarts(
    settings: Settings,
) -> None:
    units = await failed_burst(settings)
    lease = timedelta(seconds=1)
    # Routing is back, in a new process: the queue outlived the one that filled it.
    async with gateway(settings) as first:
        assert await pending_jobs(first.components.database) == BURST
        await drain([first], until=BURST // 2)
        # This process takes a batch and dies before handling it: its claims outlive it.
        await hurry(first.components.database)
        async with first.components.database.session(write=True, scope=SYSTEM_SCOPE) as s:
            abandoned = await queue.claim(s, limit=10, lease=lease)
        assert len(abandoned) == 10
    # Two more processes finish side by side; the abandoned batch is taken again
    # once its lease has run out. Leases this short also run out under the workers'
    # own feet now and then, so a job is sometimes claimed while another worker is
    # still routing its order: the order must be routed once all the same.
    async with gateway(settings) as second, gateway(settings) as third:
        await drain([second, third], lease=lease)
        await assert_routed_once(second, units)
