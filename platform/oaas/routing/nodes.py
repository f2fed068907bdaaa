"""Managing fulfilment nodes and their stock.

A merchant admin manages the merchant's own nodes. A partner admin manages the
nodes it operates for a merchant, and only while it holds an active grant from
that merchant; the node belongs to the merchant (`tenant_id`) and names the
partner (`partner_tenant_id`), so each sees it and neither sees the other's
nodes for other merchants. Operators of either side may set stock levels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from oaas.audit import log as audit
from oaas.db import RowScope, acting_for, entity_table
from oaas.db.types import new_id, utcnow
from oaas.errors import ErrorCode, NotFound, OaasError, Problems
from oaas.policy import Action, Principal, TenantKind, grant_allows, is_allowed, require
from oaas.routing.models import FulfilmentNode, InventoryLevel
from oaas.routing.validation import (
    NodeInput,
    StockInput,
    code_key,
    validate_node,
    validate_stock,
)
from oaas.sharing.service import partner_access
from oaas.tenancy.models import Tenant
from oaas.tenancy.service import find_tenant
from oaas.text import quote

nodes = entity_table(FulfilmentNode)
stock = entity_table(InventoryLevel)

# A stock take sets thousands of levels at once: its audit entry lists this many of
# them and counts the rest, so the log stays a log of acts, not a copy of the stock.
AUDITED_LEVELS = 20


@dataclass(frozen=True)
class Operation:
    """Whose nodes a call works on: the merchant, and the partner operating them (if any)."""

    merchant: Tenant
    partner_id: UUID | None


async def operation_for(
    session: AsyncSession,
    principal: Principal,
    merchant_handle: str | None,
    action: Action,
    field: Sequence[str] = ("input", "merchant"),
) -> Operation:
    """Checks the caller may take `action` on the nodes of the named merchant.

    Merchants act on their own nodes (naming another merchant is NOT_FOUND);
    partners must name a merchant that granted them access; platform admins may
    read any merchant's nodes. A tenant the caller may not act for gets the answer
    of a made-up handle, word for word (the handle is not repeated): no error tells
    which handles exist or what kind of tenant they name.
    """
    if principal.tenant_kind is TenantKind.PARTNER:
        require(principal, action)
        if merchant_handle is None:
            raise OaasError(ErrorCode.INVALID, "partners name the merchant they act for", field)
        merchant = await find_tenant(session, merchant_handle)
        grants = await partner_access(session, principal.tenant_id)
        grant = grants.get(merchant.id) if merchant is not None else None
        if merchant is None or grant is None or not grant_allows(grant.actions, action):
            raise NotFound("no such merchant shares orders with you", field)
        return Operation(merchant, principal.tenant_id)
    if merchant_handle is None:
        require(principal, action)
        merchant = await session.get_one(Tenant, principal.tenant_id)
    else:
        merchant_or_none = await find_tenant(session, merchant_handle)
        if merchant_or_none is None or not is_allowed(principal, action, merchant_or_none.id):
            raise NotFound("no such merchant", field)
        merchant = merchant_or_none
    if merchant.kind != TenantKind.MERCHANT:
        raise OaasError(ErrorCode.INVALID, f"{merchant.handle!r} is not a merchant", field)
    return Operation(merchant, None)


async def operated_by(session: AsyncSession, partner_id: UUID) -> dict[UUID, dict[UUID, str]]:
    """The nodes a partner operates, by merchant: node id -> code."""
    rows = await session.execute(
        select(nodes.c.tenant_id, nodes.c.id, nodes.c.code).where(
            nodes.c.partner_tenant_id == partner_id
        )
    )
    found: dict[UUID, dict[UUID, str]] = {}
    for merchant_id, node_id, code in rows:
        found.setdefault(merchant_id, {})[node_id] = code
    return found


async def find_node(session: AsyncSession, merchant_id: UUID, code: str) -> FulfilmentNode | None:
    """The merchant's node with this code, in any case (served by the unique index on
    lower(code))."""
    query = select(FulfilmentNode).where(
        nodes.c.tenant_id == merchant_id, func.lower(nodes.c.code) == code_key(code)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def _check_one_currency(
    session: AsyncSession, merchant_id: UUID, code: str, currency: str
) -> None:
    """Routing compares transport costs across a merchant's nodes: one currency for all.

    Read under the merchant's scope: a partner cannot see the merchant's own nodes."""
    async with acting_for(session, RowScope("tenant", merchant_id)):
        others = await session.execute(
            select(nodes.c.currency)
            .where(nodes.c.tenant_id == merchant_id, func.lower(nodes.c.code) != code_key(code))
            .distinct()
        )
        found = [other for (other,) in others if other != currency]
    if found:
        raise OaasError(
            ErrorCode.INVALID,
            f"this merchant's other nodes count costs in {found[0]}; use one currency for all",
            ("input", "currency"),
        )


def _check_operator(node: FulfilmentNode, operation: Operation, field: Sequence[str]) -> None:
    """A partner changes only the nodes it operates; a merchant only its own (not a partner's)."""
    if node.partner_tenant_id != operation.partner_id:
        raise OaasError(
            ErrorCode.FORBIDDEN,
            f"node {node.code} is operated by "
            + ("another partner" if node.partner_tenant_id else "the merchant"),
            field,
        )


async def put_node(
    session: AsyncSession, principal: Principal, operation: Operation, node_input: NodeInput
) -> tuple[FulfilmentNode, bool]:
    """Creates the node or replaces it (by code); answers it and whether it is new."""
    valid = validate_node(node_input)
    merchant_id = operation.merchant.id
    await _check_one_currency(session, merchant_id, valid.code, valid.currency)
    existing = await find_node(session, merchant_id, valid.code)
    now = utcnow()
    if existing is None:
        node = FulfilmentNode(
            tenant_id=merchant_id,
            id=new_id(),
            partner_tenant_id=operation.partner_id,
            created_at=now,
            updated_at=now,
            **valid.columns(),
        )
        try:
            async with session.begin_nested():
                session.add(node)
                await session.flush()
        except IntegrityError as error:
            # The code belongs to a node the caller cannot see (the merchant's own, or
            # another partner's): the unique key refuses it.
            raise OaasError(
                ErrorCode.FORBIDDEN,
                f"node {valid.code} is operated by someone else",
                ("input", "code"),
            ) from error
    else:
        _check_operator(existing, operation, ("input", "code"))
        for name, value in valid.columns().items():
            setattr(existing, name, value)
        existing.updated_at = now
        node = existing
    await session.flush()
    await audit.record(
        session,
        principal,
        tenant_id=merchant_id,
        act="node.created" if existing is None else "node.updated",
        object_type="FulfilmentNode",
        object_id=valid.code,
        detail={"active": valid.active, "dailyCapacity": valid.daily_capacity},
    )
    return node, existing is None


async def list_nodes(
    session: AsyncSession, principal: Principal, operation: Operation
) -> list[FulfilmentNode]:
    query = (
        select(FulfilmentNode)
        .where(nodes.c.tenant_id == operation.merchant.id)
        .order_by(nodes.c.code)
    )
    if operation.partner_id is not None:
        query = query.where(nodes.c.partner_tenant_id == operation.partner_id)
    return list((await session.execute(query)).scalars())


@dataclass(frozen=True)
class StockChange:
    node: str
    sku: str
    before: int | None  # None: the node had no level for the SKU
    after: int


def stock_audit_detail(changes: Sequence[StockChange], source: str | None) -> dict[str, object]:
    """One entry for a whole call: how many levels changed, at which nodes, the first
    AUDITED_LEVELS of them (from -> to) and how many more there were."""
    codes = sorted({change.node for change in changes})
    detail: dict[str, object] = {
        "changed": len(changes),
        "nodes": codes[:AUDITED_LEVELS],
        "levels": [
            {"node": c.node, "sku": c.sku, "from": c.before, "to": c.after}
            for c in changes[:AUDITED_LEVELS]
        ],
    }
    if len(codes) > AUDITED_LEVELS:
        detail["moreNodes"] = len(codes) - AUDITED_LEVELS
    if len(changes) > AUDITED_LEVELS:
        detail["moreLevels"] = len(changes) - AUDITED_LEVELS
    if source is not None:
        detail["source"] = source[:200]
    return detail


async def set_stock(
    session: AsyncSession,
    principal: Principal,
    operation: Operation,
    rows: list[StockInput],
    prefix: tuple[str, ...] = ("input", "levels"),
    *,
    source: str | None = None,
) -> int:
    """Sets on-hand quantities (absolute counts, as a stock take reports them).

    A level may not drop below what is reserved for routed orders: that would
    promise units twice. Answers how many levels changed. All or nothing, and
    audited as one act in the merchant's log (`source`: where the counts came from).
    """
    validate_stock(rows, prefix)
    merchant_id = operation.merchant.id
    by_code: dict[str, FulfilmentNode] = {}
    problems = Problems(*prefix)
    for index, row in enumerate(rows):
        if row.node not in by_code:
            node = await find_node(session, merchant_id, row.node)
            where = (index, "node")
            if node is None:
                problems.add(where, f"no node {quote(row.node)} of yours", ErrorCode.NOT_FOUND)
                continue
            if node.partner_tenant_id != operation.partner_id:
                # Visible (a merchant sees the nodes partners run for it), not its to count.
                problems.add(
                    where,
                    f"node {row.node} is operated by "
                    + ("a partner" if node.partner_tenant_id else "the merchant")
                    + "; its operator sets its stock",
                    ErrorCode.FORBIDDEN,
                )
                continue
            by_code[row.node] = node
    problems.raise_if_any()
    existing = {
        (level.node_id, level.sku): level
        for level in (
            await session.execute(
                select(InventoryLevel).where(
                    stock.c.tenant_id == merchant_id,
                    stock.c.node_id.in_([n.id for n in by_code.values()]),
                    stock.c.sku.in_(sorted({r.sku for r in rows})),
                )
            )
        ).scalars()
    }
    for index, row in enumerate(rows):
        level = existing.get((by_code[row.node].id, row.sku))
        if level is not None and row.on_hand < level.reserved:
            problems.add(
                (index, "onHand"),
                f"{row.sku} at {row.node}: {row.on_hand} on hand is below the "
                f"{level.reserved} units reserved for routed orders",
            )
    problems.raise_if_any()
    now = utcnow()
    changes: list[StockChange] = []
    for row in rows:
        node = by_code[row.node]
        level = existing.get((node.id, row.sku))
        if level is None:
            await session.execute(
                insert(stock.table).values(
                    tenant_id=merchant_id,
                    node_id=node.id,
                    sku=row.sku,
                    partner_tenant_id=node.partner_tenant_id,
                    on_hand=row.on_hand,
                    reserved=0,
                    updated_at=now,
                )
            )
            changes.append(StockChange(row.node, row.sku, None, row.on_hand))
        elif level.on_hand != row.on_hand:
            # Conditional on what is reserved now, not when it was read.
            result = await session.execute(
                update(stock.model)
                .where(
                    stock.c.tenant_id == merchant_id,
                    stock.c.node_id == node.id,
                    stock.c.sku == row.sku,
                    stock.c.reserved <= row.on_hand,
                )
                .values(on_hand=row.on_hand, updated_at=now)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise OaasError(
                    ErrorCode.INVALID_STATE,
                    f"{row.sku} at {row.node}: reservations changed meanwhile; retry",
                    prefix,
                )
            changes.append(StockChange(row.node, row.sku, level.on_hand, row.on_hand))
    await session.flush()
    if changes:
        # The merchant's log, written in its scope: a partner's own scope may not add to it.
        async with acting_for(session, RowScope("tenant", merchant_id)):
            await audit.record(
                session,
                principal,
                tenant_id=merchant_id,
                act="stock.set",
                object_type="Stock",
                object_id=operation.merchant.handle,
                detail=stock_audit_detail(changes, source),
            )
            await session.flush()
    return len(changes)


async def stock_of(
    session: AsyncSession, operation: Operation, node_ids: Sequence[UUID] | None = None
) -> list[InventoryLevel]:
    query = select(InventoryLevel).where(stock.c.tenant_id == operation.merchant.id)
    if node_ids is not None:
        query = query.where(stock.c.node_id.in_(list(node_ids)))
    if operation.partner_id is not None:
        query = query.where(stock.c.partner_tenant_id == operation.partner_id)
    return list((await session.execute(query.order_by(stock.c.node_id, stock.c.sku))).scalars())
