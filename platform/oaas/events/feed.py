"""The event feed: events after a position, as one audience may see them.

The one reader of the outbox: the GraphQL `events` query, `oaas events tail`
and the NATS relay page through it here. Visibility is decided at read time:

- a merchant reads its own events;
- a partner reads the order events of merchants with an active grant to it,
  each as its grant's share profile shows it (the payload without the hidden
  fields, the message and actor as oaas.lifecycle.event_views renders them),
  and the grant events naming it; a revoked or expired grant hides that
  merchant's events at once, those written before too;
- the platform reads every event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from oaas.events.payloads import payload_seen_by
from oaas.lifecycle.event_views import events_seen_by
from oaas.orders.records import EventRecord
from oaas.orders.repository import events as order_events
from oaas.outbox import outbox
from oaas.policy import Action, Principal, TenantKind, is_allowed
from oaas.routing.nodes import operated_by
from oaas.sharing.service import PartnerAccess, partner_access
from oaas.sharing.views import OWNER, Viewer
from oaas.tenancy.models import Tenant

MAX_PAGE_SIZE = 100
# Stands for "another tenant" when asking the policy about cross-tenant reads.
_OTHER_TENANT = UUID(int=1)


@dataclass(frozen=True, slots=True)
class Audience:
    """Who reads: a tenant (merchant or partner), or the platform (`everything`)."""

    tenant_id: UUID | None
    handle: str
    kind: TenantKind
    everything: bool = False


PLATFORM = Audience(tenant_id=None, handle="", kind=TenantKind.PLATFORM, everything=True)


def audience_of(principal: Principal) -> Audience:
    return Audience(
        tenant_id=principal.tenant_id,
        handle=principal.tenant_handle,
        kind=principal.tenant_kind,
        everything=is_allowed(principal, Action.ORDER_READ, _OTHER_TENANT),
    )


@dataclass(frozen=True, slots=True)
class FeedEvent:
    id: UUID
    position: int
    order_sequence: int | None
    type: str
    at: datetime
    actor: str
    tenant_id: UUID
    tenant_handle: str
    order_id: UUID | None
    message: str | None
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class FeedPage:
    events: list[FeedEvent]
    end: int  # the last position read: where the next page starts
    more: bool  # whether events follow


_FEED = (
    select(
        *outbox.c,
        order_events.c.message,
        order_events.c.detail,
        col(Tenant.handle).label("tenant_handle"),
    )
    .select_from(outbox.model)
    .join(Tenant, col(Tenant.id) == outbox.c.tenant_id)
    .outerjoin(
        order_events.model,
        and_(
            order_events.c.tenant_id == outbox.c.tenant_id,
            order_events.c.id == outbox.c.id,
        ),
    )
    .where(outbox.c.position.is_not(None))
)


def _visible(audience: Audience, merchants: Sequence[UUID]) -> ColumnElement[bool]:
    if audience.everything:
        return outbox.c.tenant_id.is_not(None)
    if audience.tenant_id is None:
        return false()
    if audience.kind is not TenantKind.PARTNER:
        return outbox.c.tenant_id == audience.tenant_id
    return and_(
        outbox.c.tenant_id.in_(list(merchants)),
        or_(
            outbox.c.order_id.is_not(None),
            outbox.c.partner_tenant_id == audience.tenant_id,
        ),
    )


async def _partner_viewers(
    session: AsyncSession, audience: Audience, access: dict[UUID, PartnerAccess]
) -> dict[UUID, Viewer]:
    assert audience.tenant_id is not None
    operated = await operated_by(session, audience.tenant_id)
    rows = await session.execute(
        select(col(Tenant.id), col(Tenant.handle)).where(col(Tenant.id).in_(list(access)))
    )
    handles: dict[UUID, str] = {row.id: row.handle for row in rows}
    viewers = {}
    for merchant_id, grant in access.items():
        nodes = operated.get(merchant_id, {})
        viewers[merchant_id] = Viewer(
            partner=True,
            profile=grant.profile,
            handle=audience.handle,
            merchant_handle=handles.get(merchant_id, ""),
            node_ids=frozenset(nodes),
            node_codes=frozenset(code.casefold() for code in nodes.values()),
        )
    return viewers


async def events_after(
    session: AsyncSession,
    audience: Audience,
    *,
    after: int = 0,
    first: int = MAX_PAGE_SIZE,
    types: Sequence[str] | None = None,
) -> FeedPage:
    """The events with a position after `after`, oldest first, as `audience` sees them,
    from up to `first` read. A page may hold fewer events than it read: those the
    audience's share profile hides; `end` moves past them all the same."""
    viewers: dict[UUID, Viewer] = {}
    if audience.kind is TenantKind.PARTNER and not audience.everything:
        assert audience.tenant_id is not None
        viewers = await _partner_viewers(
            session, audience, await partner_access(session, audience.tenant_id)
        )
    query = _FEED.where(outbox.c.position > after, _visible(audience, list(viewers)))
    if types is not None:
        query = query.where(outbox.c.type.in_(list(types)))
    read = (await session.execute(query.order_by(outbox.c.position).limit(first + 1))).all()
    rows = read[:first]
    found: list[FeedEvent] = []
    for row in rows:
        viewer = viewers.get(row.tenant_id, OWNER)
        seen = _seen(row, viewer)
        if seen is not None:
            found.append(seen)
    return FeedPage(events=found, end=rows[-1].position if rows else after, more=len(read) > first)


def _seen(row: Any, viewer: Viewer) -> FeedEvent | None:
    actor, message = row.actor, row.message
    payload: dict[str, Any] = row.payload or {}
    if row.order_id is not None:
        record = EventRecord(
            type=row.type, at=row.at, actor=row.actor, message=row.message, detail=row.detail or {}
        )
        shown = events_seen_by([record], viewer)
        if not shown:
            return None
        actor, message = shown[0].actor, shown[0].message
        payload = payload_seen_by(payload, viewer)
    return FeedEvent(
        id=row.id,
        position=row.position,
        order_sequence=row.order_seq,
        type=row.type,
        at=row.at,
        actor=actor,
        tenant_id=row.tenant_id,
        tenant_handle=row.tenant_handle,
        order_id=row.order_id,
        message=message,
        payload=payload,
    )


def envelope(event: FeedEvent) -> dict[str, Any]:
    """The event as JSON for systems outside the API (NATS, the CLI): ids as UUIDs."""
    return {
        "id": str(event.id),
        "position": event.position,
        "orderSequence": event.order_sequence,
        "type": event.type,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "merchant": event.tenant_handle,
        "orderId": str(event.order_id) if event.order_id is not None else None,
        "message": event.message,
        "payload": event.payload,
    }
