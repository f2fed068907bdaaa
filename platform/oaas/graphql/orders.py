"""Orders over GraphQL (contract.graphql): thin resolvers over oaas.orders.service."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import strawberry

from oaas.graphql.context import Info
from oaas.graphql.decisions import (
    RiskAssessment,
    RoutingDecision,
    decisions_by_order_loader,
    risk_by_order_loader,
)
from oaas.graphql.errors import UserError, mutate
from oaas.graphql.ids import decode_keyset_cursor, encode_keyset_cursor, to_global_id
from oaas.graphql.inputs import as_utc, order_uuid
from oaas.graphql.loaders import events_by_order_loader, lines_by_order_loader, tenant_by_id_loader
from oaas.graphql.node import Node
from oaas.graphql.permissions import allowed
from oaas.graphql.shared_fields import load_partner_access, require_shared, viewer_for
from oaas.graphql.tenancy import Tenant
from oaas.lifecycle import changes, placement
from oaas.lifecycle.event_views import events_seen_by
from oaas.orders import service
from oaas.orders.models import OrderStatus
from oaas.orders.records import AddressRecord, OrderRecord
from oaas.orders.repository import MAX_PAGE_SIZE, OrderFilter, OrderRepository, PageCursor
from oaas.orders.validation import AddressInput as DomainAddress
from oaas.orders.validation import LineInput, OrderInput
from oaas.policy import Action
from oaas.policy.shares import SharedField
from oaas.routing.views import decision_seen_by

OrderStatusType = strawberry.enum(OrderStatus, name="OrderStatus")


@strawberry.type
class Address:
    name: str | None
    line1: str
    line2: str | None
    city: str
    region: str | None
    postal_code: str | None
    country: str


@strawberry.type
class OrderLine:
    sku: str
    quantity: int
    cancelled_quantity: int
    price: strawberry.Private[Decimal]
    merchant_id: strawberry.Private[UUID]

    @strawberry.field(description="Hidden by the LOGISTICS share profile.")
    def unit_price(self, info: Info) -> Decimal | None:
        require_shared(info, self.merchant_id, SharedField.LINE_UNIT_PRICE)
        return self.price


@strawberry.type
class OrderEvent:
    type: str
    at: datetime
    actor: str
    message: str | None


@strawberry.type
class Order(Node):
    number: str
    external_id: str | None
    status: OrderStatusType  # type: ignore[valid-type]
    channel: str | None
    currency: str
    shipping_address: Address
    tracking_number: str | None
    carrier: str | None
    cancel_reason: str | None
    created_at: datetime
    updated_at: datetime
    record: strawberry.Private[OrderRecord]

    @classmethod
    def of(cls, record: OrderRecord) -> Order:
        address = record.shipping_address
        return cls(
            id=strawberry.ID(to_global_id("Order", record.id)),
            number=record.number,
            external_id=record.external_id,
            status=record.status,
            channel=record.channel,
            currency=record.currency,
            shipping_address=Address(**_address_fields(address)),
            tracking_number=record.tracking_number,
            carrier=record.carrier,
            cancel_reason=record.cancel_reason,
            created_at=record.created_at,
            updated_at=record.updated_at,
            record=record,
        )

    @strawberry.field(description="Hidden by the LOGISTICS share profile.")
    def total(self, info: Info) -> Decimal | None:
        require_shared(info, self.record.tenant_id, SharedField.ORDER_TOTAL)
        return self.record.total

    @strawberry.field(description="Hidden by the LOGISTICS share profile.")
    def customer_email(self, info: Info) -> str | None:
        require_shared(info, self.record.tenant_id, SharedField.ORDER_CUSTOMER_EMAIL)
        return self.record.customer_email

    @strawberry.field
    async def merchant(self, info: Info) -> Tenant:
        return Tenant.of(await tenant_by_id_loader(info.context).load(self.record.tenant_id))

    @strawberry.field
    async def lines(self, info: Info) -> list[OrderLine]:
        return [
            OrderLine(
                sku=line.sku,
                quantity=line.quantity,
                cancelled_quantity=line.cancelled_quantity,
                price=line.unit_price,
                merchant_id=self.record.tenant_id,
            )
            for line in await lines_by_order_loader(info.context).load(self.record)
        ]

    @strawberry.field(
        description="The latest routing decision, with every candidate node and why; "
        "null until the order is routed or found unroutable. A partner sees what its "
        "share profile shows of it."
    )
    async def routing(self, info: Info) -> RoutingDecision | None:
        history = await decisions_by_order_loader(info.context).load(self.record)
        if not history:
            return None
        viewer = await viewer_for(info, self.record.tenant_id)
        return RoutingDecision.of(
            decision_seen_by(history[-1], viewer), self.record.currency, self.record.tenant_id
        )

    @strawberry.field(
        description="Every routing decision of this order, oldest first, as `routing` "
        "shows each (a partner: what its share profile shows)."
    )
    async def routing_history(self, info: Info) -> list[RoutingDecision]:
        history = await decisions_by_order_loader(info.context).load(self.record)
        if not history:
            return []
        viewer = await viewer_for(info, self.record.tenant_id)
        return [
            RoutingDecision.of(
                decision_seen_by(row, viewer), self.record.currency, self.record.tenant_id
            )
            for row in history
        ]

    @strawberry.field(
        description="The risk check at intake: score, level and the facts behind it. "
        "Hidden by the LOGISTICS share profile."
    )
    async def risk(self, info: Info) -> RiskAssessment | None:
        require_shared(info, self.record.tenant_id, SharedField.ORDER_RISK)
        found = await risk_by_order_loader(info.context).load(self.record)
        return RiskAssessment.of(found) if found is not None else None

    @strawberry.field(
        description="Oldest first. A partner sees the events its share profile shows, "
        "some with a message written for partners."
    )
    async def events(self, info: Info) -> list[OrderEvent]:
        found = await events_by_order_loader(info.context).load(self.record)
        viewer = await viewer_for(info, self.record.tenant_id)
        return [
            OrderEvent(type=e.type, at=e.at, actor=e.actor, message=e.message)
            for e in events_seen_by(found, viewer)
        ]


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class OrderEdge:
    cursor: str
    node: Order


@strawberry.type
class OrderConnection:
    edges: list[OrderEdge]
    page_info: PageInfo


@strawberry.input(name="OrderFilter")
class OrderFilterInput:
    status: list[OrderStatusType] | None = None  # type: ignore[valid-type]
    merchant: str | None = None
    external_id: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


@strawberry.input
class AddressInput:
    line1: str
    city: str
    country: str
    name: str | None = None
    line2: str | None = None
    region: str | None = None
    postal_code: str | None = None


@strawberry.input
class OrderLineInput:
    sku: str
    quantity: int
    unit_price: Decimal


@strawberry.input
class CreateOrderInput:
    currency: str
    shipping_address: AddressInput
    lines: list[OrderLineInput]
    external_id: str | None = None
    channel: str | None = None
    customer_email: str | None = None


@strawberry.type
class CreateOrderPayload:
    order: Order | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class CancelLineInput:
    sku: str
    quantity: int


@strawberry.input
class CancelOrderInput:
    order_id: strawberry.ID
    reason: str | None = None
    lines: list[CancelLineInput] | None = None


@strawberry.type
class CancelOrderPayload:
    order: Order | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class UpdateFulfillmentInput:
    order_id: strawberry.ID
    status: OrderStatusType  # type: ignore[valid-type]
    tracking_number: str | None = None
    carrier: str | None = None


@strawberry.type
class UpdateFulfillmentPayload:
    order: Order | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _cursor(record: OrderRecord) -> str:
    return encode_keyset_cursor(record.created_at, record.id)


def _parse_cursor(cursor: str) -> PageCursor | None:
    decoded = decode_keyset_cursor(cursor)
    return PageCursor(created_at=decoded[0], id=decoded[1]) if decoded is not None else None


@strawberry.type
class OrdersQuery:
    @strawberry.field(permission_classes=[allowed(Action.ORDER_READ)])
    async def order(self, info: Info, id: strawberry.ID) -> Order | None:
        order_id = order_uuid(id)
        if order_id is None:
            return None
        record = await OrderRepository(info.context.session, info.context.principal).get(order_id)
        await load_partner_access(info)
        return Order.of(record) if record is not None else None

    @strawberry.field(
        permission_classes=[allowed(Action.ORDER_READ)],
        description="Merchants: their own orders. Partners: the orders shared with them. "
        "Platform admins: all orders. Newest first. first is capped at 100.",
    )
    async def orders(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        filter: OrderFilterInput | None = None,
    ) -> OrderConnection:
        first = max(0, min(20 if first is None else first, MAX_PAGE_SIZE))
        cursor = _parse_cursor(after) if after is not None else None
        if after is not None and cursor is None:
            return OrderConnection(
                edges=[],
                page_info=PageInfo(
                    has_next_page=False, has_previous_page=True, start_cursor=None, end_cursor=None
                ),
            )
        domain_filter = OrderFilter()
        if filter is not None:
            merchant_ids = None
            if filter.merchant is not None:
                merchant_ids = await service.merchant_ids(info.context.session, [filter.merchant])
            domain_filter = OrderFilter(
                statuses=tuple(OrderStatus(s) for s in filter.status)
                if filter.status is not None
                else None,
                merchant_ids=merchant_ids,
                external_id=filter.external_id,
                created_after=as_utc(filter.created_after),
                created_before=as_utc(filter.created_before),
            )
        repository = OrderRepository(info.context.session, info.context.principal)
        records = await repository.page(first=first + 1, after=cursor, filter=domain_filter)
        await load_partner_access(info)
        edges = [OrderEdge(cursor=_cursor(r), node=Order.of(r)) for r in records[:first]]
        return OrderConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(records) > first,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )


def _address_fields(address: AddressRecord | AddressInput) -> dict[str, Any]:
    """The address's fields by name: the API's Address types spell them as the record does."""
    return {field.name: getattr(address, field.name) for field in fields(AddressRecord)}


def _order_input(data: CreateOrderInput) -> OrderInput:
    address = data.shipping_address
    return OrderInput(
        currency=data.currency,
        external_id=data.external_id,
        channel=data.channel,
        customer_email=data.customer_email,
        shipping_address=DomainAddress(**_address_fields(address)),
        lines=tuple(
            LineInput(sku=line.sku, quantity=line.quantity, unit_price=line.unit_price)
            for line in data.lines
        ),
    )


@strawberry.type
class OrdersMutation:
    @strawberry.mutation(
        permission_classes=[allowed(Action.ORDER_CREATE)],
        description="Same idempotencyKey from the same tenant within 24 h: the first result is "
        "returned again and no second order is made; the same key with a different input is "
        "userError IDEMPOTENCY_CONFLICT. Safe under concurrent retries.",
    )
    async def create_order(
        self, info: Info, input: CreateOrderInput, idempotency_key: str | None = None
    ) -> CreateOrderPayload:
        async def work() -> OrderRecord:
            created = await placement.place_order(
                info.context.session,
                info.context.principal,
                info.context.engines,
                _order_input(input),
                idempotency_key,
            )
            return created.order

        return await mutate(
            info, CreateOrderPayload, work, lambda order: CreateOrderPayload(order=Order.of(order))
        )

    @strawberry.mutation(permission_classes=[allowed(Action.ORDER_CANCEL)])
    async def cancel_order(self, info: Info, input: CancelOrderInput) -> CancelOrderPayload:
        return await mutate(
            info,
            CancelOrderPayload,
            lambda: changes.cancel(
                info.context.session,
                info.context.principal,
                order_uuid(input.order_id),
                reason=input.reason,
                cancel_lines=[
                    service.CancelLine(sku=x.sku, quantity=x.quantity) for x in input.lines
                ]
                if input.lines is not None
                else None,
            ),
            lambda order: CancelOrderPayload(order=Order.of(order)),
        )

    @strawberry.mutation(
        permission_classes=[allowed(Action.FULFILLMENT_UPDATE)],
        description="Partners with UPDATE_FULFILLMENT on the order, and the merchant itself.",
    )
    async def update_fulfillment(
        self, info: Info, input: UpdateFulfillmentInput
    ) -> UpdateFulfillmentPayload:
        async def work() -> OrderRecord:
            order = await changes.fulfil(
                info.context.session,
                info.context.principal,
                order_uuid(input.order_id),
                status=OrderStatus(input.status),
                tracking_number=input.tracking_number,
                carrier=input.carrier,
            )
            # The caller may be a partner: what it is shown of the order depends on its grant.
            await load_partner_access(info)
            return order

        return await mutate(
            info,
            UpdateFulfillmentPayload,
            work,
            lambda order: UpdateFulfillmentPayload(order=Order.of(order)),
        )
