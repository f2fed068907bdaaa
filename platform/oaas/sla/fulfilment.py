"""Fulfilment against the SLA, from orders and their FULFILLMENT_UPDATED events.

An order is due once `created_at + fulfilment_hours` has passed within the
window (or when it shipped within the window); it is on time when it reached
SHIPPED (or went straight to DELIVERED) within `fulfilment_hours` of its
creation, late otherwise, including never shipped. Cancelled orders that never
shipped are not due. A partner's fulfilment covers the orders merchants share
with it, per merchant, measured against the partner's own SLA.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import and_, func, or_, outerjoin, select
from sqlalchemy.ext.asyncio import AsyncSession

from oaas.db import entity_table
from oaas.orders.events import EventType
from oaas.orders.models import Order, OrderEvent, OrderStatus
from oaas.policy import Principal, TenantKind
from oaas.sharing.models import OrderAccessGrant
from oaas.sharing.visibility import active_grants_clause
from oaas.sla.definitions import Sla
from oaas.sla.window import Window
from oaas.tenancy.models import Tenant

orders = entity_table(Order)
events = entity_table(OrderEvent)
grants = entity_table(OrderAccessGrant)

SHIPPED_STATUSES = (OrderStatus.SHIPPED.value, OrderStatus.DELIVERED.value)


def nearest_rank(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(len(ordered) * q / 100)) - 1]


@dataclass(frozen=True)
class FulfilmentReport:
    orders_due: int
    shipped_on_time: int
    late: int
    deviation_rate: float  # late / due, 0..1
    max_deviation_rate: float  # 0..1
    met: bool
    order_to_ship_p50_hours: float | None
    order_to_ship_p95_hours: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "ordersDue": self.orders_due,
            "shippedOnTime": self.shipped_on_time,
            "late": self.late,
            "deviationRate": self.deviation_rate,
            "maxDeviationRate": self.max_deviation_rate,
            "met": self.met,
            "orderToShipP50Hours": self.order_to_ship_p50_hours,
            "orderToShipP95Hours": self.order_to_ship_p95_hours,
        }


@dataclass(frozen=True)
class MerchantFulfilment:
    merchant: str
    fulfilment: FulfilmentReport

    def to_json(self) -> dict[str, Any]:
        return {"merchant": self.merchant, "fulfilment": self.fulfilment.to_json()}


async def _merchants_of(
    session: AsyncSession, tenants: list[Tenant]
) -> dict[UUID, list[tuple[UUID, str]]]:
    """Whose orders each tenant's fulfilment covers, as (id, handle): a merchant its own,
    a partner those of the merchants with an active grant to it, a platform none."""
    found: dict[UUID, list[tuple[UUID, str]]] = {
        t.id: [(t.id, t.handle)] if t.kind == TenantKind.MERCHANT else [] for t in tenants
    }
    partners = [t.id for t in tenants if t.kind == TenantKind.PARTNER]
    if partners:
        merchant = Tenant.__table__.alias("merchant")  # type: ignore[attr-defined]
        query = (
            select(grants.c.partner_tenant_id, merchant.c.id, merchant.c.handle)
            .join(merchant, merchant.c.id == grants.c.tenant_id)
            .where(or_(*(active_grants_clause(p) for p in partners)))
            .order_by(merchant.c.handle)
        )
        for partner_id, merchant_id, handle in (await session.execute(query)).all():
            if (merchant_id, handle) not in found[partner_id]:
                found[partner_id].append((merchant_id, handle))
    return found


@dataclass(frozen=True)
class _Order:
    tenant_id: UUID
    created_at: datetime
    shipped_at: datetime | None


async def _due_orders(
    session: AsyncSession,
    principal: Principal,
    merchant_ids: list[UUID],
    hours: timedelta,
    window: Window,
) -> list[_Order]:
    """Orders due within the window, or shipped within it, with when they first shipped."""
    shipped = (
        select(
            events.c.tenant_id,
            events.c.order_id,
            func.min(events.c.at).label("shipped_at"),
        )
        .where(
            events.c.tenant_id.in_(merchant_ids),
            events.c.type == EventType.FULFILLMENT_UPDATED,
            events.c.detail["to"].as_string().in_(SHIPPED_STATUSES),
        )
        .group_by(events.c.tenant_id, events.c.order_id)
        .subquery()
    )
    query = (
        select(orders.c.tenant_id, orders.c.created_at, orders.c.status, shipped.c.shipped_at)
        .select_from(
            outerjoin(
                orders.model,
                shipped,
                and_(shipped.c.tenant_id == orders.c.tenant_id, shipped.c.order_id == orders.c.id),
            )
        )
        .where(
            orders.c.tenant_id.in_(merchant_ids),
            or_(
                and_(
                    orders.c.created_at >= window.since - hours,
                    orders.c.created_at <= window.until - hours,
                ),
                and_(shipped.c.shipped_at >= window.since, shipped.c.shipped_at <= window.until),
            ),
        )
    )
    found: list[_Order] = []
    for row in (await session.execute(query)).mappings():
        if row["shipped_at"] is None and row["status"] == OrderStatus.CANCELLED.value:
            continue
        found.append(_Order(row["tenant_id"], row["created_at"], row["shipped_at"]))
    return found


def fulfilment_report(due: list[_Order], sla: Sla) -> FulfilmentReport:
    hours = timedelta(hours=sla.fulfilment_hours)
    on_time = sum(
        1 for o in due if o.shipped_at is not None and o.shipped_at - o.created_at <= hours
    )
    late = len(due) - on_time
    to_ship = [
        (o.shipped_at - o.created_at).total_seconds() / 3600
        for o in due
        if o.shipped_at is not None
    ]
    rate = late / len(due) if due else 0.0
    limit = sla.max_deviation_rate / 100
    return FulfilmentReport(
        orders_due=len(due),
        shipped_on_time=on_time,
        late=late,
        deviation_rate=rate,
        max_deviation_rate=limit,
        met=rate <= limit,
        order_to_ship_p50_hours=nearest_rank(to_ship, 50),
        order_to_ship_p95_hours=nearest_rank(to_ship, 95),
    )


async def fulfilments(
    session: AsyncSession,
    principal: Principal,
    tenants: list[Tenant],
    slas: dict[UUID, Sla],
    window: Window,
) -> dict[UUID, tuple[FulfilmentReport, list[MerchantFulfilment]]]:
    """Every tenant's fulfilment, in one orders query per distinct `fulfilment_hours`."""
    merchants = await _merchants_of(session, tenants)
    wanted: dict[float, set[UUID]] = {}
    for tenant in tenants:
        hours = slas[tenant.id].fulfilment_hours
        wanted.setdefault(hours, set()).update(m for m, _ in merchants[tenant.id])
    due: dict[tuple[float, UUID], list[_Order]] = {}
    for hours, ids in wanted.items():
        if not ids:
            continue
        found = await _due_orders(session, principal, sorted(ids), timedelta(hours=hours), window)
        for order in found:
            due.setdefault((hours, order.tenant_id), []).append(order)
    answers: dict[UUID, tuple[FulfilmentReport, list[MerchantFulfilment]]] = {}
    for tenant in tenants:
        sla = slas[tenant.id]
        per_merchant = [
            (handle, due.get((sla.fulfilment_hours, merchant_id), []))
            for merchant_id, handle in merchants[tenant.id]
        ]
        overall = fulfilment_report([o for _, orders_ in per_merchant for o in orders_], sla)
        by_merchant = (
            [
                MerchantFulfilment(merchant=handle, fulfilment=fulfilment_report(orders_, sla))
                for handle, orders_ in per_merchant
            ]
            if tenant.kind == TenantKind.PARTNER
            else []
        )
        answers[tenant.id] = (overall, by_merchant)
    return answers
