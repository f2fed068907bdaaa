"""Baseline (b): bare strawberry with ParserCache and ValidationCache, data from memory.

The types carry the names and fields the benchmark's documents select
(ops.bench.operations), so the same request bytes validate here and at the
gateway. No authentication, no database, no other extension: what is left is
the cost of GraphQL itself (parse and validate cached, execute, serialise).
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from enum import Enum
from uuid import uuid4

import strawberry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache

from ops.bench.operations import PAGE_SIZE, order_global_id


@strawberry.enum
class OrderStatus(Enum):
    PENDING = "PENDING"
    ON_HOLD = "ON_HOLD"
    ROUTED = "ROUTED"
    FULFILLING = "FULFILLING"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"


@strawberry.type
class OrderLine:
    sku: str
    quantity: int


@strawberry.type
class Order:
    id: strawberry.ID
    number: str
    status: OrderStatus
    total: Decimal | None
    lines: list[OrderLine]


@strawberry.type
class OrderEdge:
    cursor: str
    node: Order


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class OrderConnection:
    edges: list[OrderEdge]
    page_info: PageInfo


@strawberry.type
class UserError:
    code: str
    message: str


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


@strawberry.input
class CancelOrderInput:
    order_id: strawberry.ID
    reason: str | None = None


@strawberry.type
class CreateOrderPayload:
    order: Order | None
    user_errors: list[UserError]


@strawberry.type
class CancelOrderPayload:
    order: Order | None
    user_errors: list[UserError]


def _order(global_id: str, number: int, lines: int = 2) -> Order:
    return Order(
        id=strawberry.ID(global_id),
        number=f"BENCH-{number}",
        status=OrderStatus.PENDING,
        total=Decimal("39.80"),
        lines=[OrderLine(sku=f"SKU-{i}", quantity=i + 1) for i in range(lines)],
    )


# A page's worth of orders made once: the memory this baseline "reads".
PAGE = [_order(order_global_id(uuid4()), 1001 + i, lines=1 + i % 3) for i in range(PAGE_SIZE + 1)]
_numbers = itertools.count(100_000)
# createOrder keeps what an idempotency key made, as the real one does (bounded).
_made: dict[str, Order] = {}


@strawberry.type
class Query:
    @strawberry.field
    def order(self, id: strawberry.ID) -> Order | None:
        return _order(id, 1001)

    @strawberry.field
    def orders(self, first: int = 20) -> OrderConnection:
        edges = [OrderEdge(cursor=o.id, node=o) for o in PAGE[:first]]
        return OrderConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(PAGE) > first, end_cursor=edges[-1].cursor if edges else None
            ),
        )


@strawberry.type
class Mutation:
    @strawberry.mutation
    def create_order(
        self, input: CreateOrderInput, idempotency_key: str | None = None
    ) -> CreateOrderPayload:
        if idempotency_key is not None and idempotency_key in _made:
            return CreateOrderPayload(order=_made[idempotency_key], user_errors=[])
        order = Order(
            id=strawberry.ID(order_global_id(uuid4())),
            number=f"BENCH-{next(_numbers)}",
            status=OrderStatus.PENDING,
            total=sum((line.unit_price * line.quantity for line in input.lines), Decimal(0)),
            lines=[OrderLine(sku=line.sku, quantity=line.quantity) for line in input.lines],
        )
        if idempotency_key is not None:
            if len(_made) > 100_000:
                _made.clear()
            _made[idempotency_key] = order
        return CreateOrderPayload(order=order, user_errors=[])

    @strawberry.mutation
    def cancel_order(self, input: CancelOrderInput) -> CancelOrderPayload:
        order = _order(input.order_id, 1001)
        order.status = OrderStatus.CANCELLED
        return CancelOrderPayload(order=order, user_errors=[])


schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    extensions=[lambda: ParserCache(maxsize=1024), lambda: ValidationCache(maxsize=1024)],
)


async def healthz(_request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


app = Starlette(
    routes=[Route("/graphql", GraphQL(schema, graphql_ide=None)), Route("/healthz", healthz)]
)
