"""GraphQL documents and helpers the routing, risk and intake tests share."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api

NODE_FIELDS = """
  id code name kind latitude longitude region regionsServed regionsExcluded dailyCapacity
  currency baseCost costPerKm regionRates { region amount } promiseHours { region hours }
  defaultPromiseHours active operatedByPartner stock { sku onHand reserved available }
"""

PUT_NODE = f"""
mutation PutNode($input: FulfillmentNodeInput!) {{
  putFulfillmentNode(input: $input) {{
    node {{ {NODE_FIELDS} }}
    created
    userErrors {{ field message code }}
  }}
}}
"""

SET_STOCK = """
mutation SetStock($input: SetStockLevelsInput!) {
  setStockLevels(input: $input) { changed ordersWoken userErrors { field message code } }
}
"""

NODES = f"""
query Nodes($merchant: String) {{ fulfillmentNodes(merchant: $merchant) {{ {NODE_FIELDS} }} }}
"""

DECISION_FIELDS = """
  sequence trigger decidedAt routed reasonCode explanation destinationRegion profileVersion
  settlement
  assignments { nodeCode lines { sku quantity } }
  candidates {
    nodeCode eligible partial reasons transportCost transportCurrency distanceKm expectedHours
    promisedHours
    estimateVersion score components { transport load lateness split total }
  }
"""

ROUTED_ORDER_FIELDS = f"""
  id number status
  routing {{ {DECISION_FIELDS} }}
  routingHistory {{ sequence routed explanation settlement }}
  risk {{ score level holdThreshold held policyVersion facts {{ signal observed weight sentence }} }}
  events {{ type actor message }}
"""

CREATE = f"""
mutation Create($input: CreateOrderInput!, $key: String) {{
  createOrder(input: $input, idempotencyKey: $key) {{
    order {{ {ROUTED_ORDER_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}
"""

ORDER = f"""
query Order($id: ID!) {{ order(id: $id) {{ {ROUTED_ORDER_FIELDS} }} }}
"""

REROUTE = f"""
mutation Reroute($id: ID!) {{
  rerouteOrder(orderId: $id) {{ order {{ {ROUTED_ORDER_FIELDS} }} userErrors {{ field message code }} }}
}}
"""

APPROVE = f"""
mutation Approve($id: ID!) {{
  approveOrder(orderId: $id) {{ order {{ {ROUTED_ORDER_FIELDS} }} userErrors {{ field message code }} }}
}}
"""

REJECT = f"""
mutation Reject($input: RejectOrderInput!) {{
  rejectOrder(input: $input) {{ order {{ {ROUTED_ORDER_FIELDS} cancelReason }} userErrors {{ field message code }} }}
}}
"""

SET_RISK_PROFILE = """
mutation SetRisk($input: RiskProfileInput!) {
  setRiskProfile(input: $input) {
    profile { version holdThreshold mediumThreshold velocityWindowHours velocityLimits }
    userErrors { field message code }
  }
}
"""

SET_ROUTING_PROFILE = """
mutation SetProfile($input: RoutingProfileInput!) {
  setRoutingProfile(input: $input) {
    profile { version costWeight loadWeight latenessWeight splitWeight allowSplit maxSplit
              regionCentroids { region latitude longitude } }
    userErrors { field message code }
  }
}
"""

FAIRNESS = """
query Fairness($since: DateTime!, $until: DateTime!, $merchant: String) {
  routingFairnessReport(since: $since, until: $until, merchant: $merchant) {
    since until
    regions { region routed delivered promiseKept promiseKeptRate predictedHoursMean
              actualHoursMean splitShipments splitRate }
  }
}
"""


def node_input(code: str, **changes: Any) -> dict[str, Any]:
    """A warehouse in Berlin serving Germany, 5.00 EUR a shipment plus 0.02 EUR a km."""
    data: dict[str, Any] = {
        "code": code,
        "name": f"Warehouse {code}",
        "latitude": 52.52,
        "longitude": 13.40,
        "region": "DE-BE",
        "regionsServed": ["DE"],
        "dailyCapacity": 100,
        "currency": "EUR",
        "baseCost": "5.00",
        "costPerKm": "0.02",
        "defaultPromiseHours": 48,
    }
    data.update(changes)
    return data


def routed_order_input(lines: list[tuple[str, int]], **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "currency": "EUR",
        "customerEmail": "jane@example.com",
        "shippingAddress": {
            "line1": "Marienplatz 1",
            "city": "Muenchen",
            "region": "BY",
            "postalCode": "80331",
            "country": "DE",
        },
        "lines": [{"sku": sku, "quantity": q, "unitPrice": "10.00"} for sku, q in lines],
    }
    data.update(changes)
    return data


async def put_node(
    api: Api, code: str, *, as_client: str = "acme-backend", **changes: Any
) -> dict[str, Any]:
    data = await api.data(PUT_NODE, {"input": node_input(code, **changes)}, as_client=as_client)
    payload: dict[str, Any] = data["putFulfillmentNode"]  # type: ignore[assignment]
    assert payload["userErrors"] == [], payload
    return payload


async def set_stock(
    api: Api,
    levels: list[tuple[str, str, int]],
    *,
    as_client: str = "acme-backend",
    merchant: str | None = None,
) -> dict[str, Any]:
    variables: dict[str, Any] = {
        "input": {
            "merchant": merchant,
            "levels": [{"node": n, "sku": s, "onHand": q} for n, s, q in levels],
        }
    }
    data = await api.data(SET_STOCK, variables, as_client=as_client)
    payload: dict[str, Any] = data["setStockLevels"]  # type: ignore[assignment]
    assert payload["userErrors"] == [], payload
    return payload


async def create(
    api: Api, lines: list[tuple[str, int]], *, as_client: str = "acme-shop", **changes: Any
) -> dict[str, Any]:
    data = await api.data(
        CREATE, {"input": routed_order_input(lines, **changes)}, as_client=as_client
    )
    payload: dict[str, Any] = data["createOrder"]  # type: ignore[assignment]
    assert payload["userErrors"] == [], payload
    order: dict[str, Any] = payload["order"]
    return order
