"""The gateway with faulty engines plugged in, and the helpers the intake tests share.

Faults go in through the supported seam, `create_app(settings, router=..., assessor=...)`;
the ASGI transport runs no lifespan, so no background worker drains the queue
behind a test's back: tests drain it themselves with `run_due_jobs`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import func, select, update
from sqlmodel import col

from oaas.app import create_app
from oaas.db import SYSTEM_SCOPE, Database, utcnow
from oaas.graphql.ids import from_global_id
from oaas.http.routes import Components
from oaas.lifecycle import queue
from oaas.lifecycle.engines import Assessor, LocalRouter, Router
from oaas.lifecycle.worker import run_due_jobs
from oaas.risk.facts import RiskAssessment, RiskInputs, RiskPolicy
from oaas.routing.engine import Decision, RoutingRequest
from oaas.settings import Settings
from oaas.tenancy.models import Tenant
from tests.conftest import ISSUER, Api
from tests.routing.documents import put_node, routed_order_input, set_stock

SKU = "KETTLE-01"
NODE = "BERLIN-1"
# Longer than any drain should take, even on a busy machine.
DRAIN_SECONDS = 90

PLACE = """
mutation Place($input: CreateOrderInput!) {
  createOrder(input: $input) {
    order { id status routing { routed } events { type message } }
    userErrors { field message code }
  }
}
"""

ORDER_PAGE = """
query Page($after: String) {
  orders(first: 100, after: $after) {
    edges { node { id status lines { quantity } routingHistory { routed } events { type } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

STOCK = """
query Stock { fulfillmentNodes { code stock { sku onHand reserved available } } }
"""


class FailingRouter:
    """A routing service that is down: every call raises, and is counted."""

    def __init__(self) -> None:
        self.calls = 0

    async def decide(self, request: RoutingRequest) -> Decision:
        self.calls += 1
        raise ConnectionError("routing service unreachable")


class SlowRouter:
    """Answers correctly, but only after `seconds`."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.calls = 0

    async def decide(self, request: RoutingRequest) -> Decision:
        self.calls += 1
        await asyncio.sleep(self.seconds)
        return await LocalRouter().decide(request)


class CountingRouter(LocalRouter):
    """The real router, counting its calls."""

    def __init__(self) -> None:
        self.calls = 0

    async def decide(self, request: RoutingRequest) -> Decision:
        self.calls += 1
        return await super().decide(request)


class FailingAssessor:
    async def assess(self, inputs: RiskInputs, policy: RiskPolicy) -> RiskAssessment:
        raise RuntimeError("risk model crashed")


@dataclass
class Gateway:
    """One running app (one process, as far as the database can tell) and a client."""

    api: Api
    components: Components

    async def drain_once(self, *, limit: int, lease: timedelta) -> int:
        return await run_due_jobs(
            self.components.database, self.components.engines, limit=limit, lease=lease
        )


@asynccontextmanager
async def gateway(
    settings: Settings, *, router: Router | None = None, assessor: Assessor | None = None
) -> AsyncIterator[Gateway]:
    """Starts an app on the settings' database; leaving the block is the process ending.

    Without tracing (SQL spans, SLI recording) and info logs: neither is under test
    here, and together they cost a third of a 200-order burst's time.
    """
    quiet = tuned(settings, tracing=False, log_level="WARNING")
    app = create_app(quiet, router=router, assessor=assessor)
    components: Components = app.state.components
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=ISSUER
        ) as http:
            yield Gateway(Api(http), components)
    finally:
        await components.database.dispose()


def tuned(settings: Settings, **changes: Any) -> Settings:
    return settings.model_copy(update=changes)


def order_uuid(global_id: str) -> UUID:
    value = from_global_id("Order", global_id)
    assert value is not None, global_id
    return value


def address(street: str) -> dict[str, str]:
    return {
        "line1": street,
        "city": "Muenchen",
        "region": "BY",
        "postalCode": "80331",
        "country": "DE",
    }


async def stocked_node(api: Api, units: int = 100) -> None:
    """Acme's one warehouse with `units` of SKU, able to ship far more than a day's burst."""
    await put_node(api, NODE, dailyCapacity=100_000)
    await set_stock(api, [(NODE, SKU, units)])


async def submit_order(
    api: Api, order_input: dict[str, Any], *, document: str = PLACE, as_client: str = "acme-shop"
) -> dict[str, Any]:
    """createOrder, which must succeed; answers the order as `document` selects it."""
    data = await api.data(document, {"input": order_input}, as_client=as_client)
    payload: dict[str, Any] = data["createOrder"]  # type: ignore[assignment]
    assert payload["userErrors"] == [], payload
    order: dict[str, Any] = payload["order"]
    return order


async def customer_order(
    api: Api, n: int, quantity: int = 1, *, as_client: str = "acme-shop"
) -> dict[str, Any]:
    """An order from customer `n`: its own email and street, so no velocity fact fires."""
    order_input = routed_order_input(
        [(SKU, quantity)],
        customerEmail=f"customer{n}@example.com",
        shippingAddress=address(f"Leopoldstrasse {n}"),
    )
    return await submit_order(api, order_input, as_client=as_client)


def types(order: dict[str, Any]) -> list[str]:
    return [event["type"] for event in order["events"]]


def deferral(order: dict[str, Any]) -> str:
    """The message of the order's one ROUTING_DEFERRED event."""
    messages = [e["message"] for e in order["events"] if e["type"] == "ROUTING_DEFERRED"]
    assert len(messages) == 1, order["events"]
    message: str = messages[0]
    return message


def assert_deferred(order: dict[str, Any], reason: str) -> None:
    """Accepted, left PENDING, with CREATED then ROUTING_DEFERRED naming `reason`."""
    assert order["status"] == "PENDING", order
    assert order["routing"] is None, order
    assert types(order) == ["CREATED", "ROUTING_DEFERRED"], order["events"]
    assert reason in deferral(order), order["events"]
    assert "retried" in deferral(order)


async def all_orders(api: Api) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        data = await api.data(ORDER_PAGE, {"after": after}, as_client="acme-backend")
        page: dict[str, Any] = data["orders"]  # type: ignore[assignment]
        found.extend(edge["node"] for edge in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


async def stock_of(api: Api, sku: str = SKU) -> dict[str, int]:
    data = await api.data(STOCK, as_client="acme-backend")
    nodes: list[dict[str, Any]] = data["fulfillmentNodes"]  # type: ignore[assignment]
    levels: dict[str, int] = next(s for n in nodes for s in n["stock"] if s["sku"] == sku)
    return levels


@asynccontextmanager
async def owner_database(settings: Settings) -> AsyncIterator[Database]:
    """The database as its owner sees it (no application role), for what the API cannot do."""
    database = Database(settings.migrations_url)
    try:
        yield database
    finally:
        await database.dispose()


async def pending_jobs(database: Database) -> int:
    async with database.session(write=False, scope=SYSTEM_SCOPE) as session:
        count = select(func.count()).select_from(queue.jobs.model)
        return int((await session.execute(count)).scalar_one())


async def tenant_id(database: Database, handle: str) -> UUID:
    async with database.session(write=False, scope=SYSTEM_SCOPE) as session:
        query = select(col(Tenant.id)).where(col(Tenant.handle) == handle)
        found: UUID = (await session.execute(query)).scalar_one()
        return found


async def drain(
    gateways: Sequence[Gateway], *, until: int = 0, lease: timedelta = timedelta(seconds=30)
) -> None:
    """Runs worker passes (one per gateway, concurrently) until at most `until` jobs remain.

    Deferred jobs come due after a backoff of a second or two (tests/lifecycle/test_queue.py
    checks it): after an idle pass they are made due at once. Leases are left alone.
    """
    database = gateways[0].components.database
    async with asyncio.timeout(DRAIN_SECONDS):
        while await pending_jobs(database) > until:
            passes = (g.drain_once(limit=20, lease=lease) for g in gateways)
            if not sum(await asyncio.gather(*passes)):
                await hurry(database)
                await asyncio.sleep(0.1)


async def hurry(database: Database) -> None:
    """Makes every job waiting out its backoff due now (jobs waiting for stock stay put)."""
    now = utcnow()
    async with database.session(write=True, scope=SYSTEM_SCOPE) as session:
        await session.execute(
            update(queue.jobs.model)
            .where(queue.jobs.c.next_attempt_at > now)
            .values(next_attempt_at=now)
        )
