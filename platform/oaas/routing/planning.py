"""What the routing engine needs for one order, read in a handful of statements.

Every node of the merchant is a candidate, partner-operated ones included; a
partner's node is unavailable while the partner holds no grant with
UPDATE_FULFILLMENT from the merchant, and an inactive node is unavailable.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from uuid import UUID

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from oaas.db import PreparedQuery, entity_table
from oaas.db.types import utcnow
from oaas.orders.money import minor_unit_exponent
from oaas.orders.records import LineRecord, OrderRecord
from oaas.routing.engine import Destination, Node, Profile, RoutingRequest, Weights
from oaas.routing.models import (
    DeliveryEstimate,
    FulfilmentNode,
    InventoryLevel,
    NodeDailyLoad,
    RoutingProfileRow,
)
from oaas.routing.regions import country_of, destination_region
from oaas.sharing.models import OrderAccessGrant, ShareAction
from oaas.tenancy.models import Tenant

nodes = entity_table(FulfilmentNode)
stock = entity_table(InventoryLevel)
loads = entity_table(NodeDailyLoad)
estimates = entity_table(DeliveryEstimate)
grants = entity_table(OrderAccessGrant)


def today() -> date:
    return utcnow().date()


async def load_profile(
    session: AsyncSession, merchant_id: UUID
) -> tuple[Profile, dict[str, list[float]]]:
    """The merchant's routing profile (the defaults until it sets one) and region centroids."""
    row = await session.get(RoutingProfileRow, merchant_id)
    if row is None:
        return Profile(), {}
    weights = Weights(**{k: float(v) for k, v in row.weights.items()})
    profile = Profile(
        weights=weights, allow_split=row.allow_split, max_split=row.max_split, version=row.version
    )
    return profile, row.region_centroids


async def _fulfilling_partners(session: AsyncSession, merchant_id: UUID) -> set[UUID]:
    now = utcnow()
    rows = await session.execute(
        select(OrderAccessGrant).where(
            grants.c.tenant_id == merchant_id, grants.c.revoked_at.is_(None)
        )
    )
    return {
        grant.partner_tenant_id
        for grant in rows.scalars()
        if grant.is_active(now) and ShareAction.UPDATE_FULFILLMENT in grant.actions
    }


async def _partner_handles(session: AsyncSession, ids: set[UUID]) -> dict[UUID, str]:
    if not ids:
        return {}
    rows = await session.execute(select(Tenant).where(col(Tenant.id).in_(ids)))
    return {tenant.id: tenant.handle for tenant in rows.scalars()}


# Every createOrder runs it.
_A_NODE_OF_MERCHANT = PreparedQuery(
    select(nodes.c.id).where(nodes.c.tenant_id == bindparam("merchant_id")).limit(1)
)


async def has_nodes(session: AsyncSession, merchant_id: UUID) -> bool:
    """Whether the merchant routes at all: one indexed lookup before any routing work."""
    found = await _A_NODE_OF_MERCHANT.execute(session, {"merchant_id": merchant_id})
    return found.first() is not None


def demand_of(lines: Sequence[LineRecord]) -> tuple[tuple[str, int], ...]:
    """What is still to ship: each line's remaining quantity."""
    return tuple((line.sku, line.remaining) for line in lines if line.remaining > 0)


async def build_request(
    session: AsyncSession, order: OrderRecord, lines: Sequence[LineRecord]
) -> RoutingRequest:
    merchant_id = order.tenant_id
    profile, centroids = await load_profile(session, merchant_id)
    address = order.shipping_address
    region = destination_region(address.country, address.region)
    point = centroids.get(region) or centroids.get(country_of(region))
    destination = Destination(
        country=address.country,
        region=region if region != address.country else None,
        latitude=point[0] if point else None,
        longitude=point[1] if point else None,
    )
    demand = demand_of(lines)
    skus = sorted({sku for sku, _ in demand})
    node_rows = list(
        (
            await session.execute(
                select(FulfilmentNode)
                .where(nodes.c.tenant_id == merchant_id)
                .order_by(nodes.c.code)
            )
        ).scalars()
    )
    node_ids = [node.id for node in node_rows]
    available: dict[UUID, dict[str, int]] = {node_id: {} for node_id in node_ids}
    used: dict[UUID, int] = {}
    learned: dict[UUID, tuple[float, int]] = {}
    if node_ids:
        for level in (
            await session.execute(
                select(InventoryLevel).where(
                    stock.c.tenant_id == merchant_id,
                    stock.c.node_id.in_(node_ids),
                    stock.c.sku.in_(skus),
                )
            )
        ).scalars():
            available[level.node_id][level.sku] = level.on_hand - level.reserved
        for load in (
            await session.execute(
                select(NodeDailyLoad).where(
                    loads.c.tenant_id == merchant_id, loads.c.day == today()
                )
            )
        ).scalars():
            used[load.node_id] = load.assigned
        for row in (
            await session.execute(
                select(DeliveryEstimate).where(
                    estimates.c.tenant_id == merchant_id, estimates.c.region == region
                )
            )
        ).scalars():
            learned[row.node_id] = (row.hours, row.version)
    operated = {node.partner_tenant_id for node in node_rows if node.partner_tenant_id}
    fulfilling = await _fulfilling_partners(session, merchant_id) if operated else set()
    handles = await _partner_handles(session, operated - fulfilling)
    candidates = []
    for node_row in node_rows:
        unavailable = None
        if not node_row.active:
            unavailable = "inactive"
        elif (
            node_row.partner_tenant_id is not None and node_row.partner_tenant_id not in fulfilling
        ):
            partner = handles.get(node_row.partner_tenant_id, "its partner")
            unavailable = f"{partner} holds no fulfilment grant"
        estimate = learned.get(node_row.id)
        candidates.append(
            Node(
                id=node_row.id,
                code=node_row.code,
                region=node_row.region,
                latitude=node_row.latitude,
                longitude=node_row.longitude,
                regions_served=frozenset(node_row.regions_served),
                regions_excluded=frozenset(node_row.regions_excluded),
                daily_capacity=node_row.daily_capacity,
                used_today=used.get(node_row.id, 0),
                base_cost_minor=node_row.base_cost_minor,
                cost_per_km_minor=node_row.cost_per_km_minor,
                region_rates_minor=dict(node_row.region_rates_minor),
                promise_hours=dict(node_row.promise_hours),
                default_promise_hours=node_row.default_promise_hours,
                estimated_hours=estimate[0] if estimate else None,
                estimate_version=estimate[1] if estimate else 0,
                stock=available.get(node_row.id, {}),
                unavailable_reason=unavailable,
            )
        )
    # Transport costs are compared in the merchant's node currency: putting a node
    # keeps one currency across the merchant's nodes (oaas.routing.nodes).
    currency = node_rows[0].currency if node_rows else order.currency
    return RoutingRequest(
        lines=demand,
        destination=destination,
        nodes=tuple(candidates),
        profile=profile,
        currency_exponent=minor_unit_exponent(currency),
        currency=currency,
    )
