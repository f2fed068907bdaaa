"""Baseline (c): Starlette with the raw database driver, making the gateway's rows.

It answers the benchmark's four operations (dispatched on `operationName`,
ops.bench.operations) with the statements an order service cannot do without:

- order(id): select the order, select its lines;
- orders(first: 50): select 50 orders (newest first, the gateway's keyset
  order), select their lines in one statement;
- createOrder: in one transaction insert the idempotency record, bump the
  merchant's order number counter (the gateway's numbers are unique per
  merchant), insert the order, its lines and its CREATED event;
- cancelOrder: in one transaction update the status and append the event.

No token check, no GraphQL, no ORM, no row-level security (it connects as the
tables' owner): the floor of the database work. The merchant comes from the
`X-Bench-Tenant` header the load client sends to every target alike.
`OAAS_BENCH_DATABASE_URL` names the database (postgresql:// or sqlite:///).

    uvicorn --factory ops.bench.baselines.raw_sql:create_app
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from uuid_utils.compat import uuid7  # the gateway's ids: time-ordered UUIDv7

from ops.bench.operations import order_global_id, order_uuid

IDEMPOTENCY_TTL = timedelta(hours=24)
FIRST_ORDER_NUMBER = 1001
CANCELLABLE = ("PENDING", "ON_HOLD", "ROUTED", "FULFILLING")


@dataclass(frozen=True, slots=True)
class OrderRow:
    id: UUID
    number: str
    status: str
    total_minor: int
    created_at: datetime
    lines: tuple[tuple[str, int], ...] = ()  # (sku, quantity), by position


@dataclass(frozen=True, slots=True)
class NewOrder:
    """A createOrder input, checked and priced: what gets written."""

    id: UUID
    key: str
    fingerprint: str
    currency: str
    total_minor: int
    address: dict[str, str | None]
    lines: tuple[tuple[str, int, int], ...]  # (sku, quantity, unit price in minor units)
    at: datetime


class Store(Protocol):
    async def order(self, tenant: UUID, order_id: UUID) -> OrderRow | None: ...

    async def page(self, tenant: UUID, limit: int) -> list[OrderRow]: ...

    async def create(self, tenant: UUID, order: NewOrder) -> OrderRow: ...

    async def cancel(self, tenant: UUID, order_id: UUID, reason: str | None) -> str | None: ...

    async def close(self) -> None: ...


async def open_store(url: str) -> Store:
    if url.startswith("sqlite"):
        from ops.bench.baselines.store_aiosqlite import AiosqliteStore

        return await AiosqliteStore.open(url.split(":///", 1)[1])
    from ops.bench.baselines.store_asyncpg import AsyncpgStore

    return await AsyncpgStore.open(url)


def _total(minor: int) -> str:
    return str(Decimal(minor).scaleb(-2))


def _order_json(row: OrderRow, *, lines: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": order_global_id(row.id),
        "number": row.number,
        "status": row.status,
        "total": _total(row.total_minor),
    }
    if lines:
        data["lines"] = [{"sku": sku, "quantity": quantity} for sku, quantity in row.lines]
    return data


def _cursor(row: OrderRow) -> str:
    raw = f"{row.created_at.isoformat()}\x1f{row.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _new_order(variables: dict[str, Any]) -> NewOrder:
    data = variables["input"]
    lines = tuple(
        (line["sku"], int(line["quantity"]), int(Decimal(line["unitPrice"]).scaleb(2)))
        for line in data["lines"]
    )
    address = data["shippingAddress"]
    return NewOrder(
        id=uuid7(),
        key=variables["key"],
        fingerprint=hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest(),
        currency=data["currency"],
        total_minor=sum(quantity * price for _sku, quantity, price in lines),
        address={
            name: address.get(key)
            for name, key in (
                ("ship_name", "name"),
                ("ship_line1", "line1"),
                ("ship_line2", "line2"),
                ("ship_city", "city"),
                ("ship_region", "region"),
                ("ship_postal_code", "postalCode"),
                ("ship_country", "country"),
            )
        },
        lines=lines,
        at=datetime.now(UTC),
    )


async def _answer(store: Store, tenant: UUID, name: str, variables: dict[str, Any]) -> Any:
    if name == "OrderById":
        order_id = order_uuid(variables["id"])
        row = await store.order(tenant, order_id) if order_id is not None else None
        return {"order": _order_json(row, lines=True) if row is not None else None}
    if name == "OrdersPage":
        rows = await store.page(tenant, 51)
        edges = [{"cursor": _cursor(r), "node": _order_json(r, lines=True)} for r in rows[:50]]
        return {
            "orders": {
                "edges": edges,
                "pageInfo": {
                    "hasNextPage": len(rows) > 50,
                    "endCursor": edges[-1]["cursor"] if edges else None,
                },
            }
        }
    if name == "CreateOrder":
        created = await store.create(tenant, _new_order(variables))
        return {"createOrder": {"order": _order_json(created, lines=False), "userErrors": []}}
    if name == "CancelOrder":
        data = variables["input"]
        order_id = order_uuid(data["orderId"])
        status = await store.cancel(tenant, order_id, data.get("reason")) if order_id else None
        if status is None:
            error = {"code": "NOT_FOUND", "message": "no such cancellable order"}
            return {"cancelOrder": {"order": None, "userErrors": [error]}}
        order = {"id": data["orderId"], "status": status}
        return {"cancelOrder": {"order": order, "userErrors": []}}
    raise ValueError(f"unknown operation {name!r}")


async def graphql(request: Request) -> Response:
    payload = json.loads(await request.body())
    tenant = UUID(request.headers["x-bench-tenant"])
    data = await _answer(
        request.app.state.store, tenant, payload["operationName"], payload.get("variables") or {}
    )
    return Response(
        json.dumps({"data": data}, separators=(",", ":")), media_type="application/json"
    )


async def healthz(_request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def create_app() -> Starlette:
    url = os.environ["OAAS_BENCH_DATABASE_URL"]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.store = await open_store(url)
        try:
            yield
        finally:
            await app.state.store.close()

    return Starlette(
        routes=[Route("/graphql", graphql, methods=["POST"]), Route("/healthz", healthz)],
        lifespan=lifespan,
    )
