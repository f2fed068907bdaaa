"""What cancelling, shipping and delivering do to stock, estimates and the queue.

The order changes go through oaas.orders as before; here, in the same
transaction, a cancel gives the reserved units back, shipping takes them out
of stock, delivery teaches the delivery-time estimates, and a stock change wakes
orders waiting for stock. That bookkeeping is the merchant's data, so it runs
under the merchant's scope even when a partner ships (oaas.db.acting_for).
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from oaas.db import RowScope, acting_for
from oaas.lifecycle import queue
from oaas.orders.models import OrderStatus
from oaas.orders.records import OrderRecord
from oaas.orders.service import CancelLine, cancel_order, update_fulfilment
from oaas.policy import Principal
from oaas.routing.decisions import latest_decision, settle
from oaas.routing.learning import learn_delivery
from oaas.routing.nodes import Operation, set_stock
from oaas.routing.validation import StockInput

SHIPPED_OR_LATER = frozenset({OrderStatus.SHIPPED, OrderStatus.DELIVERED})


async def cancel(
    session: AsyncSession,
    principal: Principal,
    order_id: UUID | None,
    *,
    reason: str | None = None,
    cancel_lines: Sequence[CancelLine] | None = None,
) -> OrderRecord:
    order = await cancel_order(
        session, principal, order_id, reason=reason, cancel_lines=cancel_lines
    )
    if cancel_lines is None or order.status is OrderStatus.CANCELLED:
        await settle(session, order.tenant_id, order.id, "released")
        await queue.done(session, order.tenant_id, order.id)
    else:
        released: dict[str, int] = {}
        for line in cancel_lines:
            released[line.sku] = released.get(line.sku, 0) + line.quantity
        await settle(session, order.tenant_id, order.id, "released", only=released)
    return order


async def fulfil(
    session: AsyncSession,
    principal: Principal,
    order_id: UUID | None,
    *,
    status: OrderStatus,
    tracking_number: str | None = None,
    carrier: str | None = None,
) -> OrderRecord:
    order = await update_fulfilment(
        session,
        principal,
        order_id,
        status=status,
        tracking_number=tracking_number,
        carrier=carrier,
    )
    if order.status in SHIPPED_OR_LATER:
        async with acting_for(session, RowScope("tenant", order.tenant_id)):
            # Settling twice does nothing, so DELIVERED after SHIPPED takes stock once.
            await settle(session, order.tenant_id, order.id, "shipped")
            if order.status is OrderStatus.DELIVERED:
                decision = await latest_decision(session, order.tenant_id, order.id)
                if decision is not None and decision.routed:
                    await learn_delivery(session, decision, order.created_at, order.updated_at)
    return order


async def change_stock(
    session: AsyncSession,
    principal: Principal,
    operation: Operation,
    rows: list[StockInput],
    prefix: tuple[str, ...] = ("input", "levels"),
    *,
    source: str | None = None,
) -> tuple[int, int]:
    """Sets stock levels and wakes the merchant's orders waiting for stock.

    Answers (levels changed, orders woken); the intake worker routes the woken ones.
    """
    changed = await set_stock(session, principal, operation, rows, prefix, source=source)
    woken = 0
    if changed:
        async with acting_for(session, RowScope("tenant", operation.merchant.id)):
            woken = await queue.wake_for_stock(session, operation.merchant.id)
    return changed, woken
