"""The event feed over GraphQL: a thin resolver over oaas.events.feed."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from oaas.events.feed import MAX_PAGE_SIZE, FeedEvent, audience_of, events_after
from oaas.graphql.context import Info
from oaas.graphql.ids import to_global_id
from oaas.graphql.orders import PageInfo
from oaas.graphql.permissions import allowed
from oaas.policy import Action


@strawberry.type(description="One event of the outbox, as the caller may see it.")
class Event:
    id: strawberry.ID
    position: int = strawberry.field(
        description="Grows with every event, in commit order; page with `after`."
    )
    order_sequence: int | None = strawberry.field(
        description="The order's own count of its events (1, 2, 3, ...); null for grant events."
    )
    type: str = strawberry.field(
        description="An order event type (CREATED, ROUTED, ...) or GRANT_CREATED, "
        "GRANT_UPDATED, GRANT_REVOKED."
    )
    at: datetime
    actor: str
    merchant: str = strawberry.field(description="The handle of the merchant it belongs to.")
    order_id: strawberry.ID | None
    message: str | None
    payload: JSON = strawberry.field(
        description="The order (or grant) as the API showed it once the change committed; "
        "a partner's leaves out the Order fields its grant hides (total, customerEmail, "
        "lines' unitPrice under LOGISTICS)."
    )

    @classmethod
    def of(cls, event: FeedEvent) -> Event:
        return cls(
            id=strawberry.ID(to_global_id("Event", event.id)),
            position=event.position,
            order_sequence=event.order_sequence,
            type=event.type,
            at=event.at,
            actor=event.actor,
            merchant=event.tenant_handle,
            order_id=strawberry.ID(to_global_id("Order", event.order_id))
            if event.order_id is not None
            else None,
            message=event.message,
            payload=event.payload,  # type: ignore[arg-type]
        )


@strawberry.type
class EventEdge:
    cursor: str
    node: Event


@strawberry.type
class EventConnection:
    edges: list[EventEdge]
    page_info: PageInfo


def _position(cursor: str | None) -> int | None:
    if cursor is None:
        return 0
    return int(cursor) if cursor.isdigit() and len(cursor) < 19 else None


@strawberry.type
class EventsQuery:
    @strawberry.field(
        permission_classes=[allowed(Action.ORDER_READ)],
        description="Events after a position, oldest first. Merchants: their own. Partners: "
        "those of orders shared with them by an active grant, and the grants naming them. "
        "Platform admins: all. `after`: an endCursor (a position); `first` is capped at 100.",
    )
    async def events(
        self,
        info: Info,
        after: str | None = None,
        first: int | None = 50,
        types: list[str] | None = None,
    ) -> EventConnection:
        first = max(0, min(50 if first is None else first, MAX_PAGE_SIZE))
        position = _position(after)
        if position is None:
            return EventConnection(
                edges=[],
                page_info=PageInfo(
                    has_next_page=False, has_previous_page=True, start_cursor=None, end_cursor=None
                ),
            )
        context = info.context
        page = await events_after(
            context.session,
            audience_of(context.principal),
            after=position,
            first=first,
            types=types,
        )
        edges = [EventEdge(cursor=str(e.position), node=Event.of(e)) for e in page.events]
        return EventConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.more,
                has_previous_page=position > 0,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=str(page.end) if page.end > position else after,
            ),
        )
