"""Recording a routing decision with its reservation, and giving reservations back.

A decision that routes reserves its units and its capacity with conditional
UPDATEs (`on_hand - reserved >= quantity`, `assigned < capacity`) in the same
transaction as the decision row and the order's status, so two orders never
reserve the same unit: the loser's UPDATE touches no row and it raises
`ReservationConflict`, and the caller decides again on fresh stock.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from oaas.db import entity_table
from oaas.db.types import new_id, utcnow
from oaas.routing.engine import Decision
from oaas.routing.models import (
    FulfilmentNode,
    InventoryLevel,
    NodeDailyLoad,
    RoutingDecisionRow,
)
from oaas.routing.planning import today

stock = entity_table(InventoryLevel)
loads = entity_table(NodeDailyLoad)
nodes = entity_table(FulfilmentNode)
decisions = entity_table(RoutingDecisionRow)


class ReservationConflict(Exception):
    """Another order took the stock or capacity this decision counted on."""


def _candidates_json(decision: Decision, currency: str) -> list[dict[str, Any]]:
    found = []
    for candidate in decision.candidates:
        data = asdict(candidate)
        data["node_id"] = str(candidate.node_id)
        data["currency"] = currency  # of transport_cost_minor: the nodes' currency
        if candidate.components is not None:
            data["components"]["total"] = candidate.components.total
        found.append(data)
    return found


def _assignments_json(decision: Decision) -> list[dict[str, Any]]:
    return [
        {
            "node_id": str(a.node_id),
            "code": a.code,
            "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in a.lines],
        }
        for a in decision.assignments
    ]


async def _reserve(session: AsyncSession, merchant_id: UUID, decision: Decision) -> None:
    day = today()
    for assignment in decision.assignments:
        for sku, quantity in assignment.lines:
            result = await session.execute(
                update(stock.model)
                .where(
                    stock.c.tenant_id == merchant_id,
                    stock.c.node_id == assignment.node_id,
                    stock.c.sku == sku,
                    stock.c.on_hand - stock.c.reserved >= quantity,
                )
                .values(reserved=stock.c.reserved + quantity)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise ReservationConflict(f"{sku} at {assignment.code}")
        capacity = select(nodes.c.daily_capacity).where(
            nodes.c.tenant_id == merchant_id, nodes.c.id == assignment.node_id
        )
        result = await session.execute(
            update(loads.model)
            .where(
                loads.c.tenant_id == merchant_id,
                loads.c.node_id == assignment.node_id,
                loads.c.day == day,
                loads.c.assigned < capacity.scalar_subquery(),
            )
            .values(assigned=loads.c.assigned + 1)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            continue
        try:
            async with session.begin_nested():
                await session.execute(
                    insert(loads.table).values(
                        tenant_id=merchant_id, node_id=assignment.node_id, day=day, assigned=1
                    )
                )
        except IntegrityError as error:
            # The day's row exists, so the conditional UPDATE failed on capacity.
            raise ReservationConflict(f"capacity of {assignment.code}") from error


async def _next_sequence(session: AsyncSession, merchant_id: UUID, order_id: UUID) -> int:
    current = await session.execute(
        select(func.max(decisions.c.sequence)).where(
            decisions.c.tenant_id == merchant_id, decisions.c.order_id == order_id
        )
    )
    return int(current.scalar() or 0) + 1


async def record_decision(
    session: AsyncSession,
    merchant_id: UUID,
    order_id: UUID,
    decision: Decision,
    *,
    trigger: str,
    destination_region: str,
    currency: str,
    at: datetime | None = None,
) -> RoutingDecisionRow:
    """Reserves what a routed decision assigns, then stores the decision (both or neither:
    run it inside a savepoint)."""
    if decision.routed:
        await _reserve(session, merchant_id, decision)
    row = RoutingDecisionRow(
        tenant_id=merchant_id,
        id=new_id(),
        order_id=order_id,
        sequence=await _next_sequence(session, merchant_id, order_id),
        trigger=trigger,
        decided_at=at or utcnow(),
        routed=decision.routed,
        reason_code=decision.reason_code,
        explanation=decision.explanation,
        destination_region=destination_region,
        profile_version=decision.profile_version,
        candidates=_candidates_json(decision, currency),
        assignments=_assignments_json(decision),
    )
    session.add(row)
    await session.flush()
    return row


async def latest_decision(
    session: AsyncSession, merchant_id: UUID, order_id: UUID
) -> RoutingDecisionRow | None:
    query = (
        select(RoutingDecisionRow)
        .where(decisions.c.tenant_id == merchant_id, decisions.c.order_id == order_id)
        .order_by(decisions.c.sequence.desc())
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def decisions_of(
    session: AsyncSession, keys: Sequence[tuple[UUID, UUID]]
) -> dict[tuple[UUID, UUID], list[RoutingDecisionRow]]:
    """Every decision of these orders ((merchant, order) keys), oldest first; an order
    without one is not in the answer."""
    found: dict[tuple[UUID, UUID], list[RoutingDecisionRow]] = defaultdict(list)
    if not keys:
        return found
    rows = await session.execute(
        select(RoutingDecisionRow)
        .where(tuple_(decisions.c.tenant_id, decisions.c.order_id).in_(list(keys)))
        .order_by(decisions.c.sequence)
    )
    for row in rows.scalars():
        found[(row.tenant_id, row.order_id)].append(row)
    return found


async def _release_capacity(
    session: AsyncSession, merchant_id: UUID, node_id: UUID, decided_at: datetime
) -> None:
    """Gives back the shipment a node was booked for on the day of the decision."""
    await session.execute(
        update(loads.model)
        .where(
            loads.c.tenant_id == merchant_id,
            loads.c.node_id == node_id,
            loads.c.day == decided_at.date(),
            loads.c.assigned > 0,
        )
        .values(assigned=loads.c.assigned - 1)
    )


async def settle(
    session: AsyncSession,
    merchant_id: UUID,
    order_id: UUID,
    how: str,
    *,
    only: dict[str, int] | None = None,
) -> None:
    """Gives back (`released`) or takes out of stock (`shipped`) what the order's routed
    decision reserved. `only`: release just these quantities per SKU (a partial cancel).
    A released node also gets its day's capacity back. A decision is settled once;
    settling again does nothing."""
    row = await latest_decision(session, merchant_id, order_id)
    if row is None or not row.routed or row.settled_at is not None:
        return
    remaining = dict(only) if only is not None else None
    # A new list, not an edit in place: the JSON column only saves a changed value.
    assignments = copy.deepcopy(row.assignments)
    for assignment in assignments:
        node_id = UUID(assignment["node_id"])
        for line in assignment["lines"]:
            quantity = int(line["quantity"])
            if remaining is not None:
                quantity = min(quantity, remaining.get(line["sku"], 0))
                if quantity <= 0:
                    continue
                remaining[line["sku"]] -= quantity
                line["quantity"] = int(line["quantity"]) - quantity
            values: dict[str, Any] = {"reserved": stock.c.reserved - quantity}
            if how == "shipped":
                values["on_hand"] = stock.c.on_hand - quantity
            await session.execute(
                update(stock.model)
                .where(
                    stock.c.tenant_id == merchant_id,
                    stock.c.node_id == node_id,
                    stock.c.sku == line["sku"],
                )
                .values(**values)
            )
        emptied = all(int(line["quantity"]) == 0 for line in assignment["lines"])
        if how == "released" and (only is None or emptied):
            await _release_capacity(session, merchant_id, node_id, row.decided_at)
    if only is None:
        row.settled_at = utcnow()
        row.settlement = how
    else:
        # A partial release keeps the decision open with what is still reserved.
        row.assignments = [
            {**a, "lines": [x for x in a["lines"] if int(x["quantity"]) > 0]}
            for a in assignments
            if any(int(x["quantity"]) > 0 for x in a["lines"])
        ]
    session.add(row)
    await session.flush()
