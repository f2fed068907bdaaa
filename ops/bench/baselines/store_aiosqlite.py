"""Baseline (c) on SQLite: raw aiosqlite, set up like the gateway's engines.

Four reader connections and one writer whose transactions start with
`BEGIN IMMEDIATE` (oaas.db.engine explains why one writer); WAL, foreign
keys, the busy timeout and synchronous=NORMAL as there. Rows are stored the
way SQLAlchemy stores them on SQLite: UUIDs as 32 hex digits, times as naive
UTC text. Each statement is one hop to the connection's thread, as for the
gateway; `execute_fetchall` saves the second hop a cursor would take.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from uuid import UUID, uuid4

import aiosqlite

from ops.bench.baselines.raw_sql import (
    CANCELLABLE,
    FIRST_ORDER_NUMBER,
    IDEMPOTENCY_TTL,
    NewOrder,
    OrderRow,
)

READERS = 4
_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
    "PRAGMA synchronous=NORMAL",
)
_ORDER = (
    "SELECT id, number, status, total_minor, created_at FROM orders WHERE tenant_id = ? AND id = ?"
)
_LINES = (
    "SELECT sku, quantity FROM order_lines WHERE tenant_id = ? AND order_id = ? ORDER BY position"
)
_PAGE = (
    "SELECT id, number, status, total_minor, created_at FROM orders WHERE tenant_id = ? "
    "ORDER BY created_at DESC, id DESC LIMIT ?"
)
_CLAIM_KEY = (
    "INSERT INTO idempotency_keys (tenant_id, key, request_hash, order_id, created_at, expires_at) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
_BUMP_NUMBER = (
    "UPDATE order_number_counters SET last_value = last_value + 1 "
    "WHERE tenant_id = ? RETURNING last_value"
)
_FIRST_NUMBER = "INSERT INTO order_number_counters (tenant_id, last_value) VALUES (?, ?)"
_INSERT_ORDER = (
    "INSERT INTO orders (tenant_id, id, number, status, currency, total_minor, ship_name, "
    "ship_line1, ship_line2, ship_city, ship_region, ship_postal_code, ship_country, "
    "created_at, updated_at) VALUES (?, ?, ?, 'PENDING', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_LINE = (
    "INSERT INTO order_lines (tenant_id, order_id, position, sku, quantity, cancelled_quantity, "
    "unit_price_minor) VALUES (?, ?, ?, ?, ?, 0, ?)"
)
_INSERT_EVENT = (
    "INSERT INTO order_events (tenant_id, id, order_id, type, actor, at, message, detail) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_CANCEL = (
    "UPDATE orders SET status = 'CANCELLED', cancel_reason = ?, updated_at = ? "
    "WHERE tenant_id = ? AND id = ? AND status IN (?, ?, ?, ?) "
    "RETURNING status"
)


def _time(value: datetime) -> str:
    """SQLAlchemy's SQLite text for a UTC time (oaas.db.types.UTCDateTime stores it naive)."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


async def _connect(path: str) -> aiosqlite.Connection:
    # isolation_level None: no implicit transactions; writes say BEGIN IMMEDIATE themselves.
    conn = await aiosqlite.connect(path, isolation_level=None)
    for pragma in _PRAGMAS:
        await conn.execute(pragma)
    return conn


class AiosqliteStore:
    def __init__(
        self,
        readers: list[aiosqlite.Connection],
        writer: aiosqlite.Connection,
        handles: dict[str, str],
    ) -> None:
        self._all = [*readers, writer]
        self.readers: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        for reader in readers:
            self.readers.put_nowait(reader)
        self.writer = writer
        self.write_lock = asyncio.Lock()
        self.handles = handles

    @classmethod
    async def open(cls, path: str) -> AiosqliteStore:
        readers = [await _connect(path) for _ in range(READERS)]
        writer = await _connect(path)
        rows = await writer.execute_fetchall("SELECT id, handle FROM tenants")
        return cls(readers, writer, {str(row[0]): str(row[1]) for row in rows})

    async def close(self) -> None:
        for conn in self._all:
            await conn.close()

    async def order(self, tenant: UUID, order_id: UUID) -> OrderRow | None:
        conn = await self.readers.get()
        try:
            rows = list(await conn.execute_fetchall(_ORDER, (tenant.hex, order_id.hex)))
            if not rows:
                return None
            lines = await conn.execute_fetchall(_LINES, (tenant.hex, order_id.hex))
        finally:
            self.readers.put_nowait(conn)
        row = rows[0]
        return OrderRow(
            id=UUID(row[0]),
            number=row[1],
            status=row[2],
            total_minor=row[3],
            created_at=_parse_time(row[4]),
            lines=tuple((sku, quantity) for sku, quantity in lines),
        )

    async def page(self, tenant: UUID, limit: int) -> list[OrderRow]:
        conn = await self.readers.get()
        try:
            rows = list(await conn.execute_fetchall(_PAGE, (tenant.hex, limit)))
            ids = [row[0] for row in rows]
            # Only placeholders are formatted in, one per order id.
            marks = ", ".join("?" * len(ids))
            sql = f"SELECT order_id, sku, quantity FROM order_lines WHERE tenant_id = ? AND order_id IN ({marks}) ORDER BY order_id, position"  # noqa: S608
            lines = await conn.execute_fetchall(sql, (tenant.hex, *ids))
        finally:
            self.readers.put_nowait(conn)
        by_order: dict[str, list[tuple[str, int]]] = {}
        for order_id, sku, quantity in lines:
            by_order.setdefault(order_id, []).append((sku, quantity))
        return [
            OrderRow(
                id=UUID(row[0]),
                number=row[1],
                status=row[2],
                total_minor=row[3],
                created_at=_parse_time(row[4]),
                lines=tuple(by_order.get(row[0], ())),
            )
            for row in rows
        ]

    async def create(self, tenant: UUID, order: NewOrder) -> OrderRow:
        at = _time(order.at)
        t, o = tenant.hex, order.id.hex
        handle = self.handles.get(t, "bench").upper()
        address = order.address
        async with self.write_lock:
            conn = self.writer
            await conn.execute("BEGIN IMMEDIATE")
            try:
                await conn.execute(
                    _CLAIM_KEY,
                    (t, order.key, order.fingerprint, o, at, _time(order.at + IDEMPOTENCY_TTL)),
                )
                bumped = list(await conn.execute_fetchall(_BUMP_NUMBER, (t,)))
                value = int(bumped[0][0]) if bumped else FIRST_ORDER_NUMBER
                if not bumped:
                    await conn.execute(_FIRST_NUMBER, (t, value))
                number = f"{handle}-{value}"
                await conn.execute(
                    _INSERT_ORDER,
                    (
                        t,
                        o,
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
                        at,
                    ),
                )
                await conn.executemany(
                    _INSERT_LINE,
                    [
                        (t, o, position, sku, quantity, price)
                        for position, (sku, quantity, price) in enumerate(order.lines)
                    ],
                )
                detail = json.dumps({"lines": len(order.lines), "total_minor": order.total_minor})
                await conn.execute(
                    _INSERT_EVENT, (t, uuid4().hex, o, "CREATED", "bench/raw", at, None, detail)
                )
                await conn.execute("COMMIT")
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
        return OrderRow(
            id=order.id,
            number=number,
            status="PENDING",
            total_minor=order.total_minor,
            created_at=order.at,
        )

    async def cancel(self, tenant: UUID, order_id: UUID, reason: str | None) -> str | None:
        at = _time(datetime.now(UTC))
        t, o = tenant.hex, order_id.hex
        async with self.write_lock:
            conn = self.writer
            await conn.execute("BEGIN IMMEDIATE")
            try:
                rows = list(await conn.execute_fetchall(_CANCEL, (reason, at, t, o, *CANCELLABLE)))
                if rows:
                    await conn.execute(
                        _INSERT_EVENT,
                        (t, uuid4().hex, o, "CANCELLED", "bench/raw", at, reason, "{}"),
                    )
                await conn.execute("COMMIT")
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
        return str(rows[0][0]) if rows else None
