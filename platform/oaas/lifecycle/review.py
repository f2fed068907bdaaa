"""Risk review: releasing or rejecting an order held by its risk check."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from oaas.db.types import utcnow
from oaas.errors import ErrorCode, OaasError
from oaas.lifecycle.engines import Engines
from oaas.lifecycle.placement import lines_of, locked, reload, route
from oaas.orders.events import EventType
from oaas.orders.models import OrderStatus
from oaas.orders.records import OrderRecord
from oaas.orders.service import change_order
from oaas.policy import Action, Principal, require


async def _decide(
    session: AsyncSession,
    principal: Principal,
    order_id: UUID | None,
    *,
    verb: str,
    values: dict[str, object],
    event: str,
    message: str,
    detail: dict[str, object],
) -> OrderRecord:
    """Moves a held order on (the one change review may make) and records who did."""
    order = await locked(session, principal, order_id)
    if order.status is not OrderStatus.ON_HOLD:
        raise OaasError(
            ErrorCode.INVALID_STATE,
            f"only ON_HOLD orders can be {verb}; this one is {order.status.value}",
            ("input", "orderId"),
        )
    now = utcnow()
    await change_order(
        session,
        principal,
        order,
        {**values, "updated_at": now},
        event,
        at=now,
        message=message,
        detail=detail,
    )
    return await reload(session, principal, order)


async def approve_order(
    session: AsyncSession, principal: Principal, engines: Engines, order_id: UUID | None
) -> OrderRecord:
    """Releases a held order and routes it (or defers it, like a new one)."""
    require(principal, Action.RISK_REVIEW)
    released = await _decide(
        session,
        principal,
        order_id,
        verb="approved",
        values={"status": OrderStatus.PENDING.value},
        event=EventType.APPROVED,
        message="released after risk review",
        detail={},
    )
    order_lines = await lines_of(session, principal, released)
    await route(session, principal, engines, released, order_lines, trigger="APPROVED")
    return await reload(session, principal, released)


async def reject_order(
    session: AsyncSession, principal: Principal, order_id: UUID | None, reason: str
) -> OrderRecord:
    """Cancels a held order with the reviewer's reason."""
    require(principal, Action.RISK_REVIEW)
    if not reason.strip() or len(reason) > 500:
        raise OaasError(
            ErrorCode.INVALID, "reason must be 1 to 500 characters", ("input", "reason")
        )
    return await _decide(
        session,
        principal,
        order_id,
        verb="rejected",
        values={"status": OrderStatus.CANCELLED.value, "cancel_reason": reason},
        event=EventType.REJECTED,
        message=f"rejected after risk review: {reason}",
        detail={"reason": reason},
    )
