"""Baseline (c) on PostgreSQL: raw asyncpg, a pool of 10 like the gateway's engine.

asyncpg prepares each statement once per connection and caches it, as
SQLAlchemy's asyncpg dialect does for the gateway.
"""

from __future__ import annotations

import json
from datetime import datetime
from uuid import UUID, uuid4

import asyncpg  # type: ignore[import-untyped]  # ships no type hints

from ops.bench.baselines.raw_sql import (
    CANCELLABLE,
    FIRST_ORDER_NUMBER,
    IDEMPOTENCY_TTL,
    NewOrder,
    OrderRow,
)

_ORDER = (
    "SELECT id, number, status, total_minor, created_at FROM orders "
    "WHERE tenant_id = $1 AND id = $2"
)
_LINES = (
    "SELECT sku, quantity FROM order_lines WHERE tenant_id = $1 AND order_id = $2 ORDER BY position"
)
_PAGE = (
    "SELECT id, number, status, total_minor, created_at FROM orders WHERE tenant_id = $1 "
    "ORDER BY created_at DESC, id DESC LIMIT $2"
)
_PAGE_LINES = (
    "SELECT order_id, sku, quantity FROM order_lines "
    "WHERE tenant_id = $1 AND order_id = ANY($2::uuid[]) ORDER BY order_id, position"
)
_CLAIM_KEY = (
    "INSERT INTO idempotency_keys (tenant_id, key, request_hash, order_id, created_at, expires_at) "
    "VALUES ($1, $2, $3, $4, $5, $6)"
)
_BUMP_NUMBER = (
    "UPDATE order_number_counters SET last_value = last_value + 1 "
    "WHERE tenant_id = $1 RETURNING last_value"
)
_FIRST_NUMBER = "INSERT INTO order_number_counters (tenant_id, last_value) VALUES ($1, $2)"
_INSERT_ORDER = (
    "INSERT INTO orders (tenant_id, id, number, status, currency, total_minor, ship_name, "
    "ship_line1, ship_line2, ship_city, ship_region, ship_postal_code, ship_country, "
    "created_at, updated_at) VALUES ($1, $2, $3, 'PENDING', $4, $5, $6, $7, $8, $9, $10, $11, "
    "$12, $13, $13)"
)
_INSERT_LINE = (
    "INSERT INTO order_lines (tenant_id, order_id, position, sku, quantity, cancelled_quantity, "
    "unit_price_minor) VALUES ($1, $2, $3, $4, $5, 0, $6)"
)
_INSERT_EVENT = (
    "INSERT INTO order_events (tenant_id, id, order_id, type, actor, at, message, detail) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
)
_CANCEL = (
    "UPDATE orders SET status = 'CANCELLED', cancel_reason = $3, updated_at = $4 "
    "WHERE tenant_id = $1 AND id = $2 AND status = ANY($5::text[]) RETURNING status"
)


class AsyncpgStore:
    def __init__(self, pool: asyncpg.Pool, handles: dict[UUID, str]) -> None:
        self.pool = pool
        self.handles = handles

    @classmethod
    async def open(cls, url: str) -> AsyncpgStore:
        pool = await asyncpg.create_pool(url, min_size=10, max_size=10)
        rows = await pool.fetch("SELECT id, handle FROM tenants")
        return cls(pool, {row["id"]: row["handle"] for row in rows})

    async def close(self) -> None:
        await self.pool.close()

    async def order(self, tenant: UUID, order_id: UUID) -> OrderRow | None:
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(_ORDER, tenant, order_id)
            if row is None:
                return None
            lines = await conn.fetch(_LINES, tenant, order_id)
        return OrderRow(
            id=row["id"],
            number=row["number"],
            status=row["status"],
            total_minor=row["total_minor"],
            created_at=row["created_at"],
            lines=tuple((line["sku"], line["quantity"]) for line in lines),
        )

    async def page(self, tenant: UUID, limit: int) -> list[OrderRow]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(_PAGE, tenant, limit)
            lines = await conn.fetch(_PAGE_LINES, tenant, [row["id"] for row in rows])
        by_order: dict[UUID, list[tuple[str, int]]] = {}
        for line in lines:
            by_order.setdefault(line["order_id"], []).append((line["sku"], line["quantity"]))
        return [
            OrderRow(
                id=row["id"],
                number=row["number"],
                status=row["status"],
                total_minor=row["total_minor"],
                created_at=row["created_at"],
                lines=tuple(by_order.get(row["id"], ())),
            )
            for row in rows
        ]

    async def _number(self, conn: asyncpg.Connection, tenant: UUID) -> int:
        value = await conn.fetchval(_BUMP_NUMBER, tenant)
        if value is None:
            await conn.execute(_FIRST_NUMBER, tenant, FIRST_ORDER_NUMBER)
            return FIRST_ORDER_NUMBER
        return int(value)

    async def create(self, tenant: UUID, order: NewOrder) -> OrderRow:
        at = order.at
        handle = self.handles.get(tenant, "bench").upper()
        address = order.address
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                _CLAIM_KEY, tenant, order.key, order.fingerprint, order.id, at, at + IDEMPOTENCY_TTL
            )
            number = f"{handle}-{await self._number(conn, tenant)}"
            await conn.execute(
                _INSERT_ORDER,
                tenant,
                order.id,
                number,
                order.currency,
                order.total_minor,
                address["ship_name"],
                address["ship_line1"],
                address["ship_line2"],
                address["ship_city"],
                address["ship_region"],
                address["ship_postal_code"],
                address["ship_country"],
                at,
            )
            await conn.executemany(
                _INSERT_LINE,
                [
                    (tenant, order.id, position, sku, quantity, price)
                    for position, (sku, quantity, price) in enumerate(order.lines)
                ],
            )
            detail = json.dumps({"lines": len(order.lines), "total_minor": order.total_minor})
            await conn.execute(
                _INSERT_EVENT, tenant, uuid4(), order.id, "CREATED", "bench/raw", at, None, detail
            )
        return OrderRow(
            id=order.id,
            number=number,
            status="PENDING",
            total_minor=order.total_minor,
            created_at=at,
        )

    async def cancel(self, tenant: UUID, order_id: UUID, reason: str | None) -> str | None:
        at = datetime.now().astimezone()
        async with self.pool.acquire() as conn, conn.transaction():
            status = await conn.fetchval(_CANCEL, tenant, order_id, reason, at, list(CANCELLABLE))
            if status is None:
                return None
            await conn.execute(
                _INSERT_EVENT, tenant, uuid4(), order_id, "CANCELLED", "bench/raw", at, reason, "{}"
            )
        return str(status)
