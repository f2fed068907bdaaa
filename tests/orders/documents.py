"""GraphQL documents and inputs the order tests share."""

from __future__ import annotations

import copy
from typing import Any

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
