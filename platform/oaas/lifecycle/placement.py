"""From accepted to routed: the risk check, holds, routing and deferral of an order.

`place_order` accepts the order first (oaas.orders), then in the same
transaction checks its risk and routes it. Each of those runs in a savepoint
behind its guard; when one fails, times out or its breaker is open, the
savepoint is rolled back and the order stays PENDING with a ROUTING_DEFERRED
event and a job in the intake queue. Accepting the order never depends on them.
Last, whatever the outcome, the order takes its number (`number_order`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal
from uuid import UUID

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from oaas.db.types import utcnow
from oaas.errors import ErrorCode, NotFound, OaasError
from oaas.lifecycle import queue
from oaas.lifecycle.engines import Engines
from oaas.lifecycle.guard import Unavailable
from oaas.orders.events import EventType, append_event
from oaas.orders.models import OrderStatus
from oaas.orders.records import LineRecord, OrderRecord
from oaas.orders.repository import OrderRepository
from oaas.orders.service import CreatedOrder, accept_order, change_order, number_order
from oaas.orders.state import transition
from oaas.orders.validation import OrderInput
from oaas.policy import Action, Principal, require
from oaas.risk.facts import RiskAssessment
from oaas.risk.service import assessments_of, gather_inputs, load_policy, store_assessment
from oaas.routing.decisions import ReservationConflict, latest_decision, record_decision, settle
from oaas.routing.planning import build_request, has_nodes
from oaas.telemetry import get_logger

Outcome = Literal["ROUTED", "PENDING", "HELD", "DEFERRED", "UNCONFIGURED", "SKIPPED"]
# The outcomes that change the order's row (status, updated_at) of a new order; after
# the others (events and queue jobs at most) the order as created is still current.
CHANGES_THE_ORDER: frozenset[Outcome] = frozenset({"ROUTED", "HELD"})
# A lost race for the last units: decide again on fresh stock this many times.
RESERVATION_ATTEMPTS = 3
log = get_logger("oaas.lifecycle")


async def place_order(
    session: AsyncSession,
    principal: Principal,
    engines: Engines,
    order_input: OrderInput,
    idempotency_key: str | None = None,
) -> CreatedOrder:
    accepted = await accept_order(session, principal, order_input, idempotency_key)
    if accepted.replayed:
        return accepted
    outcome = await process(
        session, principal, engines, accepted.order, trigger="CREATED", order_lines=accepted.lines
    )
    numbered = await number_order(session, principal, accepted.order)
    if outcome in CHANGES_THE_ORDER:
        numbered = await reload(session, principal, numbered)
    return CreatedOrder(order=numbered, replayed=False, lines=accepted.lines)


async def reload(session: AsyncSession, principal: Principal, order: OrderRecord) -> OrderRecord:
    fresh = await OrderRepository(session, principal).get(order.id)
    assert fresh is not None
    return fresh


async def lines_of(
    session: AsyncSession, principal: Principal, order: OrderRecord
) -> list[LineRecord]:
    found = await OrderRepository(session, principal).lines_of([order])
    return found[order.key]


async def process(
    session: AsyncSession,
    principal: Principal,
    engines: Engines,
    order: OrderRecord,
    *,
    trigger: str,
    order_lines: Sequence[LineRecord] | None = None,
) -> Outcome:
    """Checks the risk of a PENDING order (once), then holds or routes it.

    `order_lines`: the order's lines when the caller has them (it just wrote them)."""
    if order.status is not OrderStatus.PENDING:
        await queue.done(session, order.tenant_id, order.id)
        return "SKIPPED"
    if order_lines is None:
        order_lines = await lines_of(session, principal, order)
    # A new order has no assessment yet; a retried one may (risk passed, routing failed).
    assessed = trigger != "CREATED" and order.key in await assessments_of(session, [order.key])
    if not assessed:
        try:
            assessment = await _assess(session, engines, order, order_lines)
        except Unavailable as unavailable:
            await defer(session, principal, order, unavailable.reason)
            return "DEFERRED"
        if holds(assessment):
            await _hold(session, principal, order, assessment)
            return "HELD"
    return await route(session, principal, engines, order, order_lines, trigger=trigger)


def holds(assessment: RiskAssessment) -> bool:
    """Whether the assessment holds its order. Holding is the merchant's choice: until it
    sets a risk policy (version 0 is the built-in default), orders are scored, never held."""
    return assessment.policy_version > 0 and assessment.held


async def _assess(
    session: AsyncSession, engines: Engines, order: OrderRecord, order_lines: Sequence[LineRecord]
) -> RiskAssessment:
    try:
        async with session.begin_nested():
            policy = await load_policy(session, order.tenant_id)
            inputs = await gather_inputs(session, order, order_lines, policy)
            assessment = await engines.risk_guard.run(engines.assessor.assess, inputs, policy)
            await store_assessment(session, order, assessment)
            return assessment
    except SQLAlchemyError as error:
        log.warning("risk data unavailable", order=str(order.id), error=repr(error))
        raise Unavailable("risk data could not be read") from error


async def _hold(
    session: AsyncSession, principal: Principal, order: OrderRecord, assessment: RiskAssessment
) -> None:
    transition(order.status, OrderStatus.ON_HOLD, ("input",))
    now = utcnow()
    await change_order(
        session,
        principal,
        order,
        {"status": OrderStatus.ON_HOLD.value, "updated_at": now},
        EventType.HELD,
        at=now,
        # The merchant's sentence; a partner whose profile hides risk reads one rendered
        # without the figures (oaas.lifecycle.event_views).
        message=f"held for risk review: score {assessment.score} "
        f"(hold at {assessment.hold_threshold})",
        detail={
            "score": assessment.score,
            "hold_threshold": assessment.hold_threshold,
            "level": assessment.level.value,
            "signals": [fact.signal for fact in assessment.facts if fact.weight > 0],
        },
    )
    await queue.done(session, order.tenant_id, order.id)


async def defer(
    session: AsyncSession, principal: Principal, order: OrderRecord, reason: str
) -> None:
    """Leaves the order PENDING and queues it; the event is written once, not per retry."""
    first = not await queue.exists(session, order.tenant_id, order.id, queue.DEFERRED)
    await queue.put(session, order.tenant_id, order.id, queue.DEFERRED, error=reason)
    if first:
        await append_event(
            session,
            principal,
            tenant_id=order.tenant_id,
            order_id=order.id,
            type=EventType.ROUTING_DEFERRED,
            at=utcnow(),
            message=f"accepted; {reason}; routing will be retried automatically",
            detail={"reason": reason},
        )


async def route(
    session: AsyncSession,
    principal: Principal,
    engines: Engines,
    order: OrderRecord,
    order_lines: Sequence[LineRecord],
    *,
    trigger: str,
) -> Outcome:
    for _attempt in range(RESERVATION_ATTEMPTS):
        try:
            return await _route_once(session, principal, engines, order, order_lines, trigger)
        except ReservationConflict:
            continue  # another order took the units; decide again on what is left
        except Unavailable as unavailable:
            await defer(session, principal, order, unavailable.reason)
            return "DEFERRED"
        except SQLAlchemyError as error:
            log.warning("routing data unavailable", order=str(order.id), error=repr(error))
            await defer(session, principal, order, "routing data could not be read")
            return "DEFERRED"
    await defer(session, principal, order, "stock kept changing while routing")
    return "DEFERRED"


async def _route_once(
    session: AsyncSession,
    principal: Principal,
    engines: Engines,
    order: OrderRecord,
    order_lines: Sequence[LineRecord],
    trigger: str,
) -> Outcome:
    if not await has_nodes(session, order.tenant_id):
        # The merchant routes nothing (no nodes): the order waits for its own fulfilment.
        if trigger != "CREATED":  # a new order has no job to drop
            await queue.done(session, order.tenant_id, order.id)
        return "UNCONFIGURED"
    async with session.begin_nested():
        request = await build_request(session, order, order_lines)
        if not request.nodes or not request.lines:
            await queue.done(session, order.tenant_id, order.id)
            return "UNCONFIGURED"
        decision = await engines.routing_guard.run(engines.router.decide, request)
        region = request.destination.region or request.destination.country
        previous = await latest_decision(session, order.tenant_id, order.id)
        if (
            not decision.routed
            and previous is not None
            and not previous.routed
            and previous.explanation == decision.explanation
        ):
            # Still nowhere to route, for the same reason: nothing new to record.
            await queue.put(session, order.tenant_id, order.id, queue.AWAITING_STOCK)
            return "PENDING"
        row = await record_decision(
            session,
            order.tenant_id,
            order.id,
            decision,
            trigger=trigger,
            destination_region=region,
            currency=request.currency or order.currency,
        )
        now = utcnow()
        detail = {"sequence": row.sequence, "trigger": trigger}
        if decision.routed:
            event = EventType.REROUTED if order.status is OrderStatus.ROUTED else EventType.ROUTED
            if order.status is not OrderStatus.ROUTED:
                transition(order.status, OrderStatus.ROUTED, ("input",))
            await change_order(
                session,
                principal,
                order,
                {"status": OrderStatus.ROUTED.value, "updated_at": now},
                event,
                at=now,
                message=decision.explanation,
                detail={**detail, "nodes": [a.code for a in decision.assignments]},
            )
            await queue.done(session, order.tenant_id, order.id)
            return "ROUTED"
        if order.status is OrderStatus.ROUTED:
            transition(order.status, OrderStatus.PENDING, ("input",))
            await change_order(
                session,
                principal,
                order,
                {"status": OrderStatus.PENDING.value, "updated_at": now},
                EventType.ROUTING_PENDING,
                at=now,
                message=decision.explanation,
                detail={**detail, "reason": decision.reason_code},
            )
        else:
            await append_event(
                session,
                principal,
                tenant_id=order.tenant_id,
                order_id=order.id,
                type=EventType.ROUTING_PENDING,
                at=now,
                message=decision.explanation,
                detail={**detail, "reason": decision.reason_code},
            )
        await queue.put(session, order.tenant_id, order.id, queue.AWAITING_STOCK)
        return "PENDING"


async def locked(session: AsyncSession, principal: Principal, order_id: UUID | None) -> OrderRecord:
    order = None
    if order_id is not None:
        order = await OrderRepository(session, principal).get(order_id, for_update=True)
    if order is None:
        raise NotFound("no such order", ("input", "orderId"))
    return order


async def reroute_order(
    session: AsyncSession, principal: Principal, engines: Engines, order_id: UUID | None
) -> OrderRecord:
    """Gives back the order's reservation and routes it again on today's stock and load."""
    require(principal, Action.ROUTING_WRITE)
    order = await locked(session, principal, order_id)
    # A partner may see a shared order, but its routing is the merchant's to change.
    require(principal, Action.ROUTING_WRITE, order.tenant_id)
    if order.status not in (OrderStatus.PENDING, OrderStatus.ROUTED):
        raise OaasError(
            ErrorCode.INVALID_STATE,
            f"only PENDING or ROUTED orders can be re-routed; this one is {order.status.value}",
            ("input", "orderId"),
        )
    order_lines = await lines_of(session, principal, order)
    outcome: Outcome = "DEFERRED"
    for _attempt in range(RESERVATION_ATTEMPTS):
        try:
            # Release and route again together: a failure leaves the old route in place.
            async with session.begin_nested():
                await settle(session, order.tenant_id, order.id, "released")
                outcome = await _route_once(
                    session, principal, engines, order, order_lines, "REROUTE"
                )
            break
        except ReservationConflict:
            continue
        except Unavailable as unavailable:
            raise OaasError(
                ErrorCode.UNAVAILABLE,
                f"cannot re-route now ({unavailable.reason}); the order keeps its route",
                ("input", "orderId"),
            ) from unavailable
    else:
        raise OaasError(
            ErrorCode.UNAVAILABLE,
            "stock kept changing while re-routing; the order keeps its route, try again",
            ("input", "orderId"),
        )
    if outcome == "UNCONFIGURED":
        raise OaasError(
            ErrorCode.INVALID_STATE, "this merchant has no fulfilment nodes", ("input", "orderId")
        )
    return await reload(session, principal, order)
