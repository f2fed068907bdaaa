"""Seeding orders fast: rows written straight with SQL, as the tables' owner.

Going through createOrder would take minutes for 10,000 orders; here the rows
are made in Python and written in one transaction (sqlite3 executemany, or
PostgreSQL COPY), the way the gateway would have stored them (oaas.orders.models,
migration 0002): an order, one to three lines, its CREATED event, and the
merchant's number counter moved past the numbers used. A million orders are
made on the PostgreSQL server itself with generate_series.
"""

from __future__ import annotations

import json
import random
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg  # type: ignore[import-untyped]  # ships no type hints
from uuid_utils.compat import uuid7

from ops.bench.database import BenchDatabase

BENCH_HANDLES = "bench-m%"
SPREAD = timedelta(days=365)  # created_at is spread over the last year
_STATUSES = ("PENDING",) * 6 + ("ROUTED", "FULFILLING", "SHIPPED", "DELIVERED")
_SKUS = ("KETTLE-1", "TOASTER-2", "MIXER-3", "BLENDER-4", "GRILL-5")

ORDER_COLUMNS = (
    "tenant_id",
    "id",
    "number",
    "external_id",
    "status",
    "channel",
    "currency",
    "total_minor",
    "customer_email",
    "ship_name",
    "ship_line1",
    "ship_line2",
    "ship_city",
    "ship_region",
    "ship_postal_code",
    "ship_country",
    "tracking_number",
    "carrier",
    "cancel_reason",
    "created_at",
    "updated_at",
)
LINE_COLUMNS = (
    "tenant_id",
    "order_id",
    "position",
    "sku",
    "quantity",
    "cancelled_quantity",
    "unit_price_minor",
)
EVENT_COLUMNS = ("tenant_id", "id", "order_id", "type", "actor", "at", "message", "detail")


@dataclass(frozen=True)
class Merchant:
    handle: str
    tenant_id: UUID

    @property
    def client_id(self) -> str:
        return f"{self.handle}-shop"  # as in ops/bench/tenants.yaml


@dataclass
class Rows:
    orders: list[tuple[Any, ...]]
    lines: list[tuple[Any, ...]]
    events: list[tuple[Any, ...]]
    counters: dict[UUID, int]
    ids: dict[UUID, list[UUID]]  # order ids per merchant


def _rows(
    merchants: list[Merchant],
    count: int,
    counters: dict[UUID, int],
    *,
    pending_only: bool,
    rng: random.Random,
) -> Rows:
    now = datetime.now(UTC)
    rows = Rows([], [], [], dict(counters), {m.tenant_id: [] for m in merchants})
    for index in range(count):
        merchant = merchants[index % len(merchants)]
        tenant = merchant.tenant_id
        order_id: UUID = uuid7()
        number = rows.counters.get(tenant, 1000) + 1
        rows.counters[tenant] = number
        at = now - SPREAD * rng.random()
        lines = [
            (
                tenant,
                order_id,
                position,
                rng.choice(_SKUS),
                rng.randint(1, 4),
                0,
                990 * (1 + position),
            )
            for position in range(1 + index % 3)
        ]
        total = sum(line[4] * line[6] for line in lines)
        status = "PENDING" if pending_only else rng.choice(_STATUSES)
        rows.orders.append(
            (
                tenant,
                order_id,
                f"{merchant.handle.upper()}-{number}",
                f"ext-{index}",
                status,
                "web",
                "EUR",
                total,
                f"customer{index}@example.com",
                "Jane Doe",
                "Hauptstrasse 1",
                None,
                "Berlin",
                None,
                "10115",
                "DE",
                None,
                None,
                None,
                at,
                at,
            )
        )
        rows.lines.extend(lines)
        detail = {"lines": len(lines), "total_minor": total}
        rows.events.append(
            (tenant, uuid7(), order_id, "CREATED", f"{merchant.handle}/seed", at, None, detail)
        )
        rows.ids[tenant].append(order_id)
    return rows


def _sqlite_value(value: Any) -> Any:
    """As SQLAlchemy stores it on SQLite: UUIDs as hex, UTC times as naive text, JSON as text."""
    if isinstance(value, UUID):
        return value.hex
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dict):
        return json.dumps(value)
    return value


def _insert_sql(table: str, columns: tuple[str, ...], mark: str = "?") -> str:
    # Table and column names are this module's constants; values go in as parameters.
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"  # noqa: S608


def _sqlite_path(database: BenchDatabase) -> str:
    return database.raw_url.split(":///", 1)[1]


async def merchants(database: BenchDatabase) -> list[Merchant]:
    query = "SELECT handle, id FROM tenants WHERE handle LIKE ? ORDER BY handle"
    if database.kind == "sqlite":
        with closing(sqlite3.connect(_sqlite_path(database))) as conn:
            found = conn.execute(query, (BENCH_HANDLES,)).fetchall()
        return [Merchant(handle=h, tenant_id=UUID(hex=i)) for h, i in found]
    conn = await asyncpg.connect(database.raw_url)
    try:
        records = await conn.fetch(query.replace("?", "$1"), BENCH_HANDLES)
    finally:
        await conn.close()
    return [Merchant(handle=r["handle"], tenant_id=r["id"]) for r in records]


async def seed_orders(
    database: BenchDatabase,
    merchants: list[Merchant],
    count: int,
    *,
    pending_only: bool = False,
    seed: int = 1,
) -> dict[UUID, list[UUID]]:
    """Adds `count` orders spread over the merchants; answers their ids per merchant."""
    rng = random.Random(seed)
    if database.kind == "sqlite":
        return _seed_sqlite(database, merchants, count, pending_only=pending_only, rng=rng)
    conn = await asyncpg.connect(database.raw_url)
    try:
        counters = {
            r["tenant_id"]: int(r["last_value"])
            for r in await conn.fetch("SELECT tenant_id, last_value FROM order_number_counters")
        }
        rows = _rows(merchants, count, counters, pending_only=pending_only, rng=rng)
        events = [(*e[:-1], json.dumps(e[-1])) for e in rows.events]
        async with conn.transaction():
            await conn.copy_records_to_table("orders", records=rows.orders, columns=ORDER_COLUMNS)
            await conn.copy_records_to_table(
                "order_lines", records=rows.lines, columns=LINE_COLUMNS
            )
            await conn.copy_records_to_table("order_events", records=events, columns=EVENT_COLUMNS)
            await conn.executemany(
                "INSERT INTO order_number_counters (tenant_id, last_value) VALUES ($1, $2) "
                "ON CONFLICT (tenant_id) DO UPDATE SET last_value = EXCLUDED.last_value",
                list(rows.counters.items()),
            )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return rows.ids


def _seed_sqlite(
    database: BenchDatabase,
    merchants: list[Merchant],
    count: int,
    *,
    pending_only: bool,
    rng: random.Random,
) -> dict[UUID, list[UUID]]:
    with closing(sqlite3.connect(_sqlite_path(database), timeout=30)) as conn, conn:
        counters = {
            UUID(hex=t): int(v)
            for t, v in conn.execute("SELECT tenant_id, last_value FROM order_number_counters")
        }
        rows = _rows(merchants, count, counters, pending_only=pending_only, rng=rng)
        for table, columns, values in (
            ("orders", ORDER_COLUMNS, rows.orders),
            ("order_lines", LINE_COLUMNS, rows.lines),
            ("order_events", EVENT_COLUMNS, rows.events),
        ):
            conn.executemany(
                _insert_sql(table, columns), ([_sqlite_value(v) for v in row] for row in values)
            )
        conn.executemany(
            "INSERT INTO order_number_counters (tenant_id, last_value) VALUES (?, ?) "
            "ON CONFLICT (tenant_id) DO UPDATE SET last_value = excluded.last_value",
            [(t.hex, v) for t, v in rows.counters.items()],
        )
        conn.execute("ANALYZE")
    return rows.ids


# One statement per chunk: the orders, then their lines and events from what was
# inserted (RETURNING). random() in the inner select list is evaluated per row.
_MILLION = """
WITH merchant(tenant_id, prefix, base) AS (
  SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[])
), made AS (
  INSERT INTO orders (tenant_id, id, number, status, channel, currency, total_minor,
                      ship_name, ship_line1, ship_city, ship_postal_code, ship_country,
                      created_at, updated_at)
  SELECT tenant_id, gen_random_uuid(), prefix || '-' || (base + g), 'PENDING', 'web', 'EUR',
         3960, 'Jane Doe', 'Hauptstrasse 1', 'Berlin', '10115', 'DE', at, at
  FROM (SELECT merchant.*, g, now() - random() * interval '365 days' AS at
        FROM merchant CROSS JOIN generate_series(1, $4::int) AS g) AS spread
  RETURNING tenant_id, id, created_at
), lines AS (
  INSERT INTO order_lines (tenant_id, order_id, position, sku, quantity, cancelled_quantity,
                           unit_price_minor)
  SELECT tenant_id, id, p, 'SKU-' || p, 1 + p, 0, 990 * (1 + p)
  FROM made CROSS JOIN LATERAL generate_series(0, get_byte(uuid_send(id), 15) % 3) AS p
)
INSERT INTO order_events (tenant_id, id, order_id, type, actor, at, message, detail)
SELECT tenant_id, gen_random_uuid(), id, 'CREATED', 'bench/seed', created_at, NULL, '{}'::json
FROM made
"""


async def seed_million(
    database: BenchDatabase, merchants: list[Merchant], total: int, *, chunk: int = 100_000
) -> int:
    """Tops the orders up to `total` on the server (PostgreSQL only); answers how many were made."""
    if database.kind != "postgres":
        raise ValueError("the million-order seed runs on PostgreSQL only")
    conn = await asyncpg.connect(database.raw_url)
    try:
        have = int(await conn.fetchval("SELECT count(*) FROM orders"))
        made = 0
        while have + made < total:
            per_merchant = max(1, min(chunk, total - have - made) // len(merchants))
            counters = {
                r["tenant_id"]: int(r["last_value"])
                for r in await conn.fetch("SELECT tenant_id, last_value FROM order_number_counters")
            }
            bases = [counters.get(m.tenant_id, 1000) for m in merchants]
            async with conn.transaction():
                await conn.execute(
                    _MILLION,
                    [m.tenant_id for m in merchants],
                    [m.handle.upper() for m in merchants],
                    bases,
                    per_merchant,
                )
                await conn.executemany(
                    "INSERT INTO order_number_counters (tenant_id, last_value) VALUES ($1, $2) "
                    "ON CONFLICT (tenant_id) DO UPDATE SET last_value = EXCLUDED.last_value",
                    [
                        (m.tenant_id, b + per_merchant)
                        for m, b in zip(merchants, bases, strict=True)
                    ],
                )
            made += per_merchant * len(merchants)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return made
