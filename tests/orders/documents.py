"""GraphQL documents and inputs the order tests share."""

from __future__ import annotations

import copy
from typing import Any

from tests.conftest import Api

ORDER_FIELDS = """
  id number externalId status channel currency total customerEmail
  merchant { handle }
  lines { sku quantity cancelledQuantity unitPrice }
  shippingAddress { name line1 line2 city region postalCode country }
  trackingNumber carrier cancelReason createdAt updatedAt
  events { type at actor message }
"""

CREATE_ORDER = f"""
mutation Create($input: CreateOrderInput!, $key: String) {{
  createOrder(input: $input, idempotencyKey: $key) {{
    order {{ {ORDER_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}
"""

CANCEL_ORDER = f"""
mutation Cancel($input: CancelOrderInput!) {{
  cancelOrder(input: $input) {{
    order {{ {ORDER_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}
"""

UPDATE_FULFILLMENT = f"""
mutation Fulfil($input: UpdateFulfillmentInput!) {{
  updateFulfillment(input: $input) {{
    order {{ {ORDER_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}
"""

ORDER = f"""
query Order($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}
"""

ORDERS = f"""
query Orders($first: Int, $after: String, $filter: OrderFilter) {{
  orders(first: $first, after: $after, filter: $filter) {{
    edges {{ cursor node {{ {ORDER_FIELDS} }} }}
    pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
  }}
}}
"""

BASE_INPUT: dict[str, Any] = {
    "externalId": "web-1",
    "channel": "web",
    "currency": "EUR",
    "customerEmail": "jane@example.com",
    "shippingAddress": {
        "name": "Jane Doe",
        "line1": "Hauptstrasse 1",
        "city": "Berlin",
        "postalCode": "10115",
        "country": "DE",
    },
    "lines": [
        {"sku": "KETTLE-1", "quantity": 2, "unitPrice": "19.90"},
        {"sku": "TOASTER-2", "quantity": 1, "unitPrice": "49.00"},
    ],
}


def order_input(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE_INPUT)
    data.update(changes)
    return data


# A slim listing for pagination and filters: no lines or events.
ORDER_PAGE = """
query OrderPage($first: Int, $after: String, $filter: OrderFilter) {
  orders(first: $first, after: $after, filter: $filter) {
    edges { cursor node { id number createdAt externalId status merchant { handle } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


def line(sku: str, quantity: int, unit_price: str = "1.00") -> dict[str, Any]:
    return {"sku": sku, "quantity": quantity, "unitPrice": unit_price}


async def create_payload(
    api: Api,
    input: dict[str, Any] | None = None,
    *,
    as_client: str = "acme-shop",
    key: str | None = None,
) -> Any:
    """The createOrder payload (order and userErrors) of one call."""
    variables = {"input": order_input() if input is None else input, "key": key}
    data = await api.data(CREATE_ORDER, variables, as_client=as_client)
    return data["createOrder"]


async def create_order(
    api: Api, *, as_client: str = "acme-shop", key: str | None = None, **changes: Any
) -> Any:
    """A new order that must be created without userErrors."""
    payload = await create_payload(api, order_input(**changes), as_client=as_client, key=key)
    assert payload["userErrors"] == [], payload
    assert payload["order"] is not None
    return payload["order"]


async def cancel(
    api: Api,
    order_id: str,
    *,
    as_client: str = "acme-shop",
    reason: str | None = None,
    lines: list[dict[str, Any]] | None = None,
) -> Any:
    """The cancelOrder payload; `lines` None cancels the whole order."""
    input: dict[str, Any] = {"orderId": order_id}
    if reason is not None:
        input["reason"] = reason
    if lines is not None:
        input["lines"] = lines
    data = await api.data(CANCEL_ORDER, {"input": input}, as_client=as_client)
    return data["cancelOrder"]


async def fulfil(
    api: Api,
    order_id: str,
    status: str,
    *,
    as_client: str = "acme-shop",
    tracking_number: str | None = None,
    carrier: str | None = None,
) -> Any:
    """The updateFulfillment payload."""
    input: dict[str, Any] = {"orderId": order_id, "status": status}
    if tracking_number is not None:
        input["trackingNumber"] = tracking_number
    if carrier is not None:
        input["carrier"] = carrier
    data = await api.data(UPDATE_FULFILLMENT, {"input": input}, as_client=as_client)
    return data["updateFulfillment"]


async def get_order(api: Api, order_id: str, *, as_client: str = "acme-shop") -> Any:
    data = await api.data(ORDER, {"id": order_id}, as_client=as_client)
    return data["order"]


async def list_orders(
    api: Api, *, as_client: str = "acme-shop", filter: dict[str, Any] | None = None
) -> list[Any]:
    """Every order the caller sees (nodes of ORDER_PAGE), newest first, in pages of 100."""
    nodes: list[Any] = []
    after: str | None = None
    while True:
        variables: dict[str, object] = {"first": 100, "after": after, "filter": filter}
        data: Any = await api.data(ORDER_PAGE, variables, as_client=as_client)
        connection = data["orders"]
        nodes.extend(edge["node"] for edge in connection["edges"])
        if not connection["pageInfo"]["hasNextPage"]:
            return nodes
        after = connection["pageInfo"]["endCursor"]


def error_codes(payload: Any) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


def forbidden(response: Any) -> bool:
    """A whole field refused: data null and one GraphQL error with code FORBIDDEN."""
    body = response.json()
    return (
        response.status_code == 200
        and body.get("data") is None
        and [e["extensions"]["code"] for e in body.get("errors", [])] == ["FORBIDDEN"]
    )
