"""Order queries; oaas.db.scoping limits each to the orders the principal may see."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Row, and_, bindparam, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from oaas.db import EntityTable, PreparedQuery, entity_table
from oaas.orders.models import IdempotencyKey, Order, OrderEvent, OrderLine, OrderStatus
from oaas.orders.records import EventRecord, LineRecord, OrderRecord
from oaas.policy import Principal

orders = entity_table(Order)
lines = entity_table(OrderLine)
events = entity_table(OrderEvent)
idempotency_keys = entity_table(IdempotencyKey)

MAX_PAGE_SIZE = 100

# The hot reads, built once: building `select(*orders.c)` coerces 21 columns, a few
# hundred Python calls a statement, and a statement made once keeps its cache key.
_ORDERS = select(*orders.c)
_ORDER_OF_ID = _ORDERS.where(orders.c.id == bindparam("order_id"))
_ORDER_BY_ID = PreparedQuery(_ORDER_OF_ID)
_ORDER_BY_ID_FOR_UPDATE = PreparedQuery(_ORDER_OF_ID.with_for_update())


def _rows_of_orders_query(table: EntityTable, then_by: Any) -> PreparedQuery:
    return PreparedQuery(
        select(*table.c)
        .where(tuple_(table.c.tenant_id, table.c.order_id).in_(bindparam("keys", expanding=True)))
        .order_by(table.c.tenant_id, table.c.order_id, then_by)
    )


_LINES_OF_ORDERS = _rows_of_orders_query(lines, lines.c.position)
_EVENTS_OF_ORDERS = _rows_of_orders_query(events, events.c.id)


@dataclass(frozen=True)
class OrderFilter:
    statuses: tuple[OrderStatus, ...] | None = None
    merchant_ids: tuple[UUID, ...] | None = None  # resolved from handles by the caller
    external_id: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


@dataclass(frozen=True)
class PageCursor:
    created_at: datetime
    id: UUID


def order_record(row: Row[Any]) -> OrderRecord:
    return OrderRecord.from_row(row._mapping)


class OrderRepository:
    """Reads of the orders a principal may see; nothing else can be reached through it."""

    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self.session = session
        self.principal = principal

    async def get(self, order_id: UUID, *, for_update: bool = False) -> OrderRecord | None:
        # FOR UPDATE serialises concurrent changes of one order (PostgreSQL; SQLite
        # writers are serialised by BEGIN IMMEDIATE already).
        query = _ORDER_BY_ID_FOR_UPDATE if for_update else _ORDER_BY_ID
        row = (await query.execute(self.session, {"order_id": order_id})).first()
        return order_record(row) if row is not None else None

    async def page(
        self, *, first: int, after: PageCursor | None, filter: OrderFilter
    ) -> list[OrderRecord]:
        """Newest first by (created_at, id), keyset-paginated: never OFFSET."""
        conditions: list[ColumnElement[bool]] = []
        if filter.statuses is not None:
            conditions.append(orders.c.status.in_([s.value for s in filter.statuses]))
        if filter.merchant_ids is not None:
            conditions.append(orders.c.tenant_id.in_(filter.merchant_ids))
        if filter.external_id is not None:
            conditions.append(orders.c.external_id == filter.external_id)
        if filter.created_after is not None:
            conditions.append(orders.c.created_at > filter.created_after)
        if filter.created_before is not None:
            conditions.append(orders.c.created_at < filter.created_before)
        if after is not None:
            conditions.append(
                or_(
                    orders.c.created_at < after.created_at,
                    and_(orders.c.created_at == after.created_at, orders.c.id < after.id),
                )
            )
        query = (
            _ORDERS.where(*conditions)
            .order_by(orders.c.created_at.desc(), orders.c.id.desc())
            .limit(first)
        )
        return [order_record(row) for row in await self.session.execute(query)]

    async def _rows_of_orders(
        self, query: PreparedQuery, keys: Sequence[tuple[UUID, UUID]]
    ) -> Sequence[Row[Any]]:
        """The rows of `query` (lines, events) belonging to these orders, in one statement."""
        if not keys:
            return []
        return list(await query.execute(self.session, {"keys": list(keys)}))

    async def lines_of(
        self, of_orders: Sequence[OrderRecord]
    ) -> dict[tuple[UUID, UUID], list[LineRecord]]:
        currencies = {order.key: order.currency for order in of_orders}
        found: dict[tuple[UUID, UUID], list[LineRecord]] = defaultdict(list)
        for row in await self._rows_of_orders(_LINES_OF_ORDERS, list(currencies)):
            key = (row.tenant_id, row.order_id)
            found[key].append(LineRecord.from_row(row._mapping, currencies[key]))
        return found

    async def events_of(
        self, keys: Sequence[tuple[UUID, UUID]]
    ) -> dict[tuple[UUID, UUID], list[EventRecord]]:
        found: dict[tuple[UUID, UUID], list[EventRecord]] = defaultdict(list)
        for row in await self._rows_of_orders(_EVENTS_OF_ORDERS, keys):
            found[(row.tenant_id, row.order_id)].append(EventRecord.from_row(row._mapping))
        return found
