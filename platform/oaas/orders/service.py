"""Creating, cancelling and fulfilling orders: validation, idempotency, state, events.

Functions take the session and the principal, check the policy, write, flush
and never commit; the request's unit of work commits once at the edge. A
domain error leaves nothing behind: the caller runs each mutation in a savepoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cache
from uuid import UUID

from sqlalchemy import Insert, bindparam, delete, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from oaas.db import PreparedQuery, entity_table, run_insert
from oaas.db.types import new_id, utcnow
from oaas.db.upsert import upsert_in
from oaas.errors import ErrorCode, NotFound, OaasError, Problems
from oaas.orders.events import EventType, append_event
from oaas.orders.models import OrderNumberCounter, OrderStatus
from oaas.orders.money import from_minor, minor_unit_exponent, to_minor
from oaas.orders.records import LineRecord, OrderRecord
from oaas.orders.repository import OrderRepository, idempotency_keys, lines, orders
from oaas.orders.state import fulfilment_transition, transition
from oaas.orders.validation import OrderInput, ValidOrder, check_idempotency_key, validate_order
from oaas.policy import Action, Principal, TenantKind, grant_allows, require
from oaas.sharing.service import partner_access
from oaas.tenancy.models import Tenant
from oaas.text import quote, text_problem

IDEMPOTENCY_TTL = timedelta(hours=24)
FIRST_ORDER_NUMBER = 1001
counters = entity_table(OrderNumberCounter)
_INSERT_ORDER = insert(orders.table)
_INSERT_LINES = insert(lines.table)
# An accepted order's number until `number_order` gives it one, in the same
# transaction: unique, and never seen outside it.
UNNUMBERED = "~"
_SET_NUMBER = PreparedQuery(
    update(orders.model)
    .where(
        orders.c.tenant_id == bindparam("of_tenant"),
        orders.c.id == bindparam("of_order"),
    )
    .values(number=bindparam("numbered"))
)


@dataclass(frozen=True)
class _KeyRow:
    request_hash: str
    order_id: UUID
    expires_at: datetime


@dataclass(frozen=True)
class CreatedOrder:
    order: OrderRecord
    replayed: bool
    lines: tuple[LineRecord, ...] | None = None  # as written, for a new order


async def accept_order(
    session: AsyncSession,
    principal: Principal,
    order_input: OrderInput,
    idempotency_key: str | None = None,
) -> CreatedOrder:
    """Validates and writes a new order, its lines and its CREATED event, or answers the
    order its idempotency key already made.

    A new order is not numbered yet: the caller does what else the order's
    transaction holds (its risk check and routing), then `number_order`, last.
    The merchant's number counter is a row every create of the merchant updates;
    its lock is held until commit, so taking it first would queue the merchant's
    concurrent creates for the whole of each other's transactions.
    """
    require(principal, Action.ORDER_CREATE)
    if principal.tenant_kind is not TenantKind.MERCHANT:
        raise OaasError(ErrorCode.FORBIDDEN, "only merchants create orders", ("input",))
    check_idempotency_key(idempotency_key)
    valid = validate_order(order_input)
    repository = OrderRepository(session, principal)
    order_id = new_id()
    if idempotency_key is not None:
        replay = await _claim_key(session, principal, repository, idempotency_key, valid, order_id)
        if replay is not None:
            return CreatedOrder(order=replay, replayed=True)
    created, created_lines = await _insert_order(session, principal, valid, order_id)
    return CreatedOrder(order=created, replayed=False, lines=created_lines)


async def number_order(
    session: AsyncSession, principal: Principal, order: OrderRecord
) -> OrderRecord:
    """Gives an accepted order the merchant's next number: the last write of its
    transaction, so the counter's lock is held for that write and the commit alone."""
    number = f"{principal.tenant_handle.upper()}-{await _next_number(session, order.tenant_id)}"
    await _SET_NUMBER.execute(
        session, {"of_tenant": order.tenant_id, "of_order": order.id, "numbered": number}
    )
    return replace(order, number=number)


@cache
def _claim_statement(dialect: str) -> Insert:
    """The idempotency claim, built once per dialect: takes a key or an expired one."""
    statement = upsert_in(dialect, idempotency_keys.table)
    taken = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=["tenant_id", "key"],
        set_={
            "request_hash": taken.request_hash,
            "order_id": taken.order_id,
            "created_at": taken.created_at,
            "expires_at": taken.expires_at,
        },
        where=idempotency_keys.table.c.expires_at <= bindparam("now"),
    ).returning(idempotency_keys.table.c.order_id)


@cache
def _bump_statement(dialect: str) -> Insert:
    """The order number counter's bump, built once per dialect."""
    return (
        upsert_in(dialect, counters.table)
        .on_conflict_do_update(
            index_elements=["tenant_id"],
            set_={"last_value": counters.table.c.last_value + 1},
        )
        .returning(counters.table.c.last_value)
    )


async def _claim_key(
    session: AsyncSession,
    principal: Principal,
    repository: OrderRepository,
    key: str,
    valid: ValidOrder,
    order_id: UUID,
) -> OrderRecord | None:
    """Claims the key for a new order, or answers the order it already made.

    The claim is one INSERT against the (tenant_id, key) primary key that takes
    over an expired key in place. A concurrent request with the same key blocks
    on it until the first commits, then finds the first's live key and its
    order: exactly one order, and every retry gets it back.
    """
    fingerprint = valid.fingerprint()
    now = utcnow()
    claim = _claim_statement(session.get_bind().dialect.name)
    values = {
        "tenant_id": principal.tenant_id,
        "key": key,
        "request_hash": fingerprint,
        "order_id": order_id,
        "created_at": now,
        "expires_at": now + IDEMPOTENCY_TTL,
        "now": now,
    }
    for _attempt in range(3):
        if (await run_insert(session, claim, values)).first() is not None:
            return None  # a new key, or an expired one taken over
        existing = await _find_key(session, principal.tenant_id, key)
        if existing is None:
            continue  # purged between the two statements: claim again
        if existing.request_hash != fingerprint:
            raise OaasError(
                ErrorCode.IDEMPOTENCY_CONFLICT,
                "this idempotencyKey was used with a different input in the last 24 hours",
                ("idempotencyKey",),
            )
        order = await repository.get(existing.order_id)
        if order is None:  # pragma: no cover - the key and its order are written together
            raise NotFound("the order of this idempotencyKey is gone", ("idempotencyKey",))
        return order
    raise OaasError(  # pragma: no cover - needs three lost races in a row
        ErrorCode.IDEMPOTENCY_CONFLICT, "this idempotencyKey is in use; retry", ("idempotencyKey",)
    )


async def _find_key(session: AsyncSession, tenant_id: UUID, key: str) -> _KeyRow | None:
    row = (
        await session.execute(
            select(
                idempotency_keys.c.request_hash,
                idempotency_keys.c.order_id,
                idempotency_keys.c.expires_at,
            ).where(idempotency_keys.c.tenant_id == tenant_id, idempotency_keys.c.key == key)
        )
    ).first()
    if row is None:
        return None
    return _KeyRow(request_hash=row.request_hash, order_id=row.order_id, expires_at=row.expires_at)


async def _next_number(session: AsyncSession, tenant_id: UUID) -> int:
    """The merchant's next order number, in one statement that also makes the counter
    of a first order; the counter row's lock orders concurrent creates."""
    bumped = await run_insert(
        session,
        _bump_statement(session.get_bind().dialect.name),
        {"tenant_id": tenant_id, "last_value": FIRST_ORDER_NUMBER},
    )
    return int(bumped.scalar_one())


async def _insert_order(
    session: AsyncSession, principal: Principal, valid: ValidOrder, order_id: UUID
) -> tuple[OrderRecord, tuple[LineRecord, ...]]:
    """Writes the order, its lines and its CREATED event; answers them as written, so
    nothing is read back."""
    src = valid.source
    now = utcnow()
    order = OrderRecord(
        tenant_id=principal.tenant_id,
        id=order_id,
        number=f"{UNNUMBERED}{order_id.hex}",
        external_id=src.external_id,
        status=OrderStatus.PENDING,
        channel=src.channel,
        currency=src.currency,
        total=from_minor(valid.total_minor, valid.exponent),
        customer_email=valid.customer_email,
        shipping_address=src.shipping_address,
        tracking_number=None,
        carrier=None,
        cancel_reason=None,
        created_at=now,
        updated_at=now,
    )
    order_lines = tuple(
        LineRecord(
            position=position,
            sku=line.sku,
            quantity=line.quantity,
            cancelled_quantity=0,
            unit_price=from_minor(line.unit_price_minor, valid.exponent),
        )
        for position, line in enumerate(valid.lines)
    )
    await run_insert(session, _INSERT_ORDER, order.to_row())
    await run_insert(session, _INSERT_LINES, [line.to_row(order) for line in order_lines])
    await append_event(
        session,
        principal,
        tenant_id=order.tenant_id,
        order_id=order.id,
        type=EventType.CREATED,
        at=now,
        detail={"lines": len(valid.lines), "total_minor": valid.total_minor},
    )
    return order, order_lines


async def change_order(
    session: AsyncSession,
    principal: Principal,
    order: OrderRecord,
    values: dict[str, object],
    event_type: str,
    *,
    at: datetime,
    message: str | None,
    detail: dict[str, object],
) -> None:
    """Updates the order row and appends its event: every change of an order, in one place.

    Callers check the move with `transition` first and hold the order's row lock
    (`OrderRepository.get(..., for_update=True)`).
    """
    await session.execute(
        update(orders.model)
        .where(orders.c.tenant_id == order.tenant_id, orders.c.id == order.id)
        .values(**values)
    )
    await append_event(
        session,
        principal,
        tenant_id=order.tenant_id,
        order_id=order.id,
        type=event_type,
        at=at,
        message=message,
        detail=detail,
    )


@dataclass(frozen=True)
class CancelLine:
    sku: str
    quantity: int


async def _locked_order(
    repository: OrderRepository, order_id: UUID | None, field: tuple[str, ...]
) -> OrderRecord:
    order = await repository.get(order_id, for_update=True) if order_id is not None else None
    if order is None:
        raise NotFound("no such order", field)
    return order


async def cancel_order(
    session: AsyncSession,
    principal: Principal,
    order_id: UUID | None,
    *,
    reason: str | None = None,
    cancel_lines: Sequence[CancelLine] | None = None,
) -> OrderRecord:
    """Cancels the whole order, or the given quantities of the given lines."""
    require(principal, Action.ORDER_CANCEL)
    if reason is not None and len(reason) > 500:
        raise OaasError(
            ErrorCode.INVALID, "reason must be at most 500 characters", ("input", "reason")
        )
    repository = OrderRepository(session, principal)
    order = await _locked_order(repository, order_id, ("input", "orderId"))
    transition(order.status, OrderStatus.CANCELLED, ("input", "orderId"))
    current = (await repository.lines_of([order]))[order.key]
    by_sku = {line.sku: line for line in current}
    if cancel_lines is None:
        wanted = {line.sku: line.remaining for line in current if line.remaining > 0}
    else:
        wanted = _check_cancel_lines(cancel_lines, by_sku)
    now = utcnow()
    exponent = minor_unit_exponent(order.currency)
    cancelled_minor = 0
    for sku, quantity in wanted.items():
        line = by_sku[sku]
        result = await session.execute(
            update(lines.model)
            .where(
                lines.c.tenant_id == order.tenant_id,
                lines.c.order_id == order.id,
                lines.c.position == line.position,
                lines.c.cancelled_quantity + quantity <= lines.c.quantity,
            )
            .values(cancelled_quantity=lines.c.cancelled_quantity + quantity)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise OaasError(ErrorCode.INVALID, f"{sku}: more than remains", ("input", "lines"))
        cancelled_minor += quantity * to_minor(line.unit_price, exponent)
    fully = all(by_sku[s].remaining - wanted.get(s, 0) == 0 for s in by_sku)
    values: dict[str, object] = {
        "updated_at": now,
        "total_minor": orders.c.total_minor - cancelled_minor,
    }
    if fully:
        values["status"] = OrderStatus.CANCELLED.value
    if reason is not None:
        values["cancel_reason"] = reason
    await change_order(
        session,
        principal,
        order,
        values,
        EventType.CANCELLED if fully else EventType.LINES_CANCELLED,
        at=now,
        message=reason,
        detail={
            "lines": [{"sku": s, "quantity": q} for s, q in wanted.items()],
            "from": order.status.value,
        },
    )
    updated = await repository.get(order.id)
    assert updated is not None
    return updated


def _check_cancel_lines(
    cancel_lines: Sequence[CancelLine], by_sku: dict[str, LineRecord]
) -> dict[str, int]:
    if not cancel_lines:
        raise OaasError(
            ErrorCode.INVALID,
            "give at least one line, or none to cancel the whole order",
            ("input", "lines"),
        )
    problems = Problems("input", "lines")
    wanted: dict[str, int] = {}
    for index, item in enumerate(cancel_lines):
        line = by_sku.get(item.sku)
        if line is None:
            problems.add((index, "sku"), f"the order has no line with sku {quote(item.sku)}")
        elif item.sku in wanted:
            problems.add((index, "sku"), f"sku {quote(item.sku)} is listed twice")
        elif item.quantity < 1:
            problems.add((index, "quantity"), "quantity must be at least 1")
        elif item.quantity > line.remaining:
            problems.add(
                (index, "quantity"),
                f"cannot cancel {item.quantity} of {quote(item.sku)}: {line.remaining} remain",
            )
        else:
            wanted[item.sku] = item.quantity
    problems.raise_if_any()
    return wanted


async def update_fulfilment(
    session: AsyncSession,
    principal: Principal,
    order_id: UUID | None,
    *,
    status: OrderStatus,
    tracking_number: str | None = None,
    carrier: str | None = None,
) -> OrderRecord:
    require(principal, Action.FULFILLMENT_UPDATE)
    for name, value in (("trackingNumber", tracking_number), ("carrier", carrier)):
        if value is not None and (problem := text_problem(value, limit=100)) is not None:
            raise OaasError(ErrorCode.INVALID, f"{name} {problem}", ("input", name))
    repository = OrderRepository(session, principal)
    order = await _locked_order(repository, order_id, ("input", "orderId"))
    if principal.tenant_kind is TenantKind.PARTNER:
        access = (await partner_access(session, principal.tenant_id)).get(order.tenant_id)
        if access is None or not grant_allows(access.actions, Action.FULFILLMENT_UPDATE):
            raise OaasError(
                ErrorCode.FORBIDDEN,
                "the merchant shares this order for reading only, not for fulfilment updates",
                ("input", "orderId"),
            )
    fulfilment_transition(order.status, status, ("input", "status"))
    now = utcnow()
    values: dict[str, object] = {"status": status.value, "updated_at": now}
    if tracking_number is not None:
        values["tracking_number"] = tracking_number
    if carrier is not None:
        values["carrier"] = carrier
    await change_order(
        session,
        principal,
        order,
        values,
        EventType.FULFILLMENT_UPDATED,
        at=now,
        message=f"{order.status.value} -> {status.value}",
        detail={
            "from": order.status.value,
            "to": status.value,
            "trackingNumber": tracking_number,
            "carrier": carrier,
        },
    )
    updated = await repository.get(order.id)
    assert updated is not None
    return updated


async def merchant_ids(session: AsyncSession, handles: Sequence[str]) -> tuple[UUID, ...]:
    rows = await session.execute(
        select(col(Tenant.id)).where(col(Tenant.handle).in_(list(handles)))
    )
    return tuple(rows.scalars())


async def purge_expired_keys(session: AsyncSession, *, batch: int = 5000) -> int:
    """Deletes up to `batch` idempotency keys past their 24 hours; answers how many went."""
    expired = (
        select(idempotency_keys.c.tenant_id, idempotency_keys.c.key)
        .where(idempotency_keys.c.expires_at <= utcnow())
        .limit(batch)
    )
    result = await session.execute(
        delete(idempotency_keys.model).where(
            tuple_(idempotency_keys.c.tenant_id, idempotency_keys.c.key).in_(expired)
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
