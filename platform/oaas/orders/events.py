"""Appending to an order's audit trail, always in the transaction of the change.

Every event also goes to the outbox (oaas.outbox) under the same id: what the
event feed, the relay to NATS and webhooks read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from oaas.db import run_insert
from oaas.db.types import new_id
from oaas.orders.repository import events
from oaas.outbox import append as append_to_outbox
from oaas.policy import Principal


class EventType:
    CREATED = "CREATED"
    CANCELLED = "CANCELLED"
    LINES_CANCELLED = "LINES_CANCELLED"
    FULFILLMENT_UPDATED = "FULFILLMENT_UPDATED"
    ROUTED = "ROUTED"
    REROUTED = "REROUTED"
    # Routed nowhere for now (no stock, no node serves the region): retried when stock changes.
    ROUTING_PENDING = "ROUTING_PENDING"
    # Risk or routing was unavailable: the order is accepted and retried by the intake queue.
    ROUTING_DEFERRED = "ROUTING_DEFERRED"
    HELD = "HELD"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


async def append_event(
    session: AsyncSession,
    principal: Principal,
    *,
    tenant_id: UUID,
    order_id: UUID,
    type: str,
    at: datetime,
    message: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    event_id = new_id()
    await run_insert(
        session,
        insert(events.table).values(
            tenant_id=tenant_id,
            id=event_id,
            order_id=order_id,
            type=type,
            actor=principal.actor,
            at=at,
            message=message,
            detail=detail or {},
        ),
    )
    await append_to_outbox(
        session,
        id=event_id,
        tenant_id=tenant_id,
        order_id=order_id,
        type=type,
        at=at,
        actor=principal.actor,
    )
