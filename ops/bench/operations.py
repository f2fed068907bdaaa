"""The four GraphQL operations the benchmark sends, as request bodies.

Every target (the gateway and the baselines) gets the very same bytes, so the
documents are fixed strings with values only in `variables`: the gateway's
parser and validation caches key on the document text. Each operation is named
so the raw-SQL baseline (c) can dispatch on `operationName` without parsing.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from uuid import UUID

ORDER_BY_ID = "order(id)"
ORDERS_PAGE = "orders(first:50)"
CREATE_ORDER = "createOrder"
CANCEL_ORDER = "cancelOrder"
OPERATIONS = (ORDER_BY_ID, ORDERS_PAGE, CREATE_ORDER, CANCEL_ORDER)

PAGE_SIZE = 50
# Where the load client writes each request's own key (the idempotency key, the street).
KEY_PLACEHOLDER = "@KEY@"

DOCUMENTS = {
    ORDER_BY_ID: (
        "OrderById",
        "query OrderById($id: ID!) { order(id: $id) { id number status total "
        "lines { sku quantity } } }",
    ),
    ORDERS_PAGE: (
        "OrdersPage",
        f"query OrdersPage {{ orders(first: {PAGE_SIZE}) {{ edges {{ cursor node {{ id number "
        "status total lines { sku quantity } } } pageInfo { hasNextPage endCursor } } }",
    ),
    CREATE_ORDER: (
        "CreateOrder",
        "mutation CreateOrder($input: CreateOrderInput!, $key: String) { createOrder(input: "
        "$input, idempotencyKey: $key) { order { id number status total } "
        "userErrors { code message } } }",
    ),
    CANCEL_ORDER: (
        "CancelOrder",
        "mutation CancelOrder($input: CancelOrderInput!) { cancelOrder(input: $input) "
        "{ order { id status } userErrors { code message } } }",
    ),
}

ORDER_INPUT: dict[str, Any] = {
    "currency": "EUR",
    "shippingAddress": {"line1": "Hauptstrasse 1", "city": "Berlin", "country": "DE"},
    "lines": [{"sku": "KETTLE-1", "quantity": 2, "unitPrice": "19.90"}],
}


def order_global_id(order_id: UUID) -> str:
    """The gateway's opaque ID (oaas.graphql.ids): base64 of `Order:<uuid>`, unpadded."""
    return base64.urlsafe_b64encode(f"Order:{order_id}".encode()).decode().rstrip("=")


def order_uuid(global_id: str) -> UUID | None:
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        prefix, _, raw = base64.urlsafe_b64decode(padded).decode().partition(":")
        return UUID(raw) if prefix == "Order" else None
    except ValueError:
        return None


def _body(operation: str, variables: dict[str, Any] | None = None) -> str:
    name, query = DOCUMENTS[operation]
    payload: dict[str, Any] = {"operationName": name, "query": query}
    if variables is not None:
        payload["variables"] = variables
    return json.dumps(payload, separators=(",", ":"))


def order_by_id(order_id: UUID) -> str:
    return _body(ORDER_BY_ID, {"id": order_global_id(order_id)})


def orders_page() -> str:
    return _body(ORDERS_PAGE)


def create_order_template() -> str:
    """A createOrder body whose idempotency key the load client fills in per request.

    The key also names the street, so every order has its own customer: with
    one shared address, the risk check's velocity count for it grew with every
    order of the run, which no real shop's traffic does.
    """
    address = {**ORDER_INPUT["shippingAddress"], "line1": f"Hauptstrasse {KEY_PLACEHOLDER}"}
    order = {**ORDER_INPUT, "shippingAddress": address}
    return _body(CREATE_ORDER, {"input": order, "key": KEY_PLACEHOLDER})


def cancel_order(order_id: UUID) -> str:
    return _body(CANCEL_ORDER, {"input": {"orderId": order_global_id(order_id), "reason": "bench"}})
