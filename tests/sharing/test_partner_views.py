"""A LOGISTICS partner sees its own nodes' part of an order's events and routing
decisions, and nothing that names a risk figure, a cost or another partner.

acme shares LOGISTICS with swiftship (tenants/demo.yaml); each test adds what it
needs: acme's own node, one swiftship operates, and one a rival partner operates.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.conftest import Api
from tests.lifecycle.test_holds import hold_at
from tests.routing.documents import create, put_node, set_stock
from tests.sharing.test_partner_access import GRANT

Json = Any
KETTLE = [("KETTLE-01", 1)]
RIVAL, RIVAL_ADMIN, RIVAL_OPERATOR = "roadrun", "roadrun-admin", "roadrun-tms"

DECISION = """routed reasonCode explanation destinationRegion
  assignments { nodeCode lines { sku quantity } }
  candidates { nodeCode eligible partial reasons transportCost transportCurrency
               score components { transport load lateness split total } }"""
ORDER_VIEW = f"""query ($id: ID!) {{ order(id: $id) {{
  id status
  routing {{ {DECISION} }}
  routingHistory {{ {DECISION} }}
  risk {{ score holdThreshold }}
  events {{ type actor message }} }} }}"""
ORDERS_VIEW = f"""{{ orders(first: 20) {{ edges {{ node {{
  id routing {{ {DECISION} }} events {{ type actor message }} }} }} }} }}"""
CREATE_TENANT = """mutation ($input: CreateTenantInput!) {
  createTenant(input: $input) { tenant { handle } userErrors { field message code } } }"""
CREATE_CLIENT = """mutation ($input: CreateApiClientInput!) {
  createApiClient(input: $input) {
    apiClient { clientId } clientSecret userErrors { field message code } } }"""
UPDATE_FULFILLMENT = """mutation ($input: UpdateFulfillmentInput!) {
  updateFulfillment(input: $input) { order { status } userErrors { field message code } } }"""


async def view(api: Api, order_id: str, client: str) -> Json:
    response = await api.graphql(ORDER_VIEW, {"id": order_id}, as_client=client)
    assert response.status_code == 200, response.text
    return response.json()


async def grant(api: Api, partner: str, profile: str, actions: list[str]) -> None:
    spec = {"partner": partner, "profile": profile, "actions": actions}
    data = await api.data(GRANT, {"input": spec}, as_client="acme-backend")
    assert data["grantOrderAccess"]["userErrors"] == [], data  # type: ignore[index]


async def rival_partner(api: Api, actions: list[str]) -> None:
    """roadrun: a second partner of acme with an admin and an operator client."""
    tenant = {"handle": RIVAL, "name": "RoadRun Freight", "kind": "PARTNER"}
    await api.data(CREATE_TENANT, {"input": tenant}, as_client="ops-admin")
    for client, role in ((RIVAL_ADMIN, "partner_admin"), (RIVAL_OPERATOR, "partner_operator")):
        spec = {"tenant": RIVAL, "clientId": client, "roles": [role]}
        made = await api.data(CREATE_CLIENT, {"input": spec}, as_client="ops-admin")
        await api.token(client, secret=made["createApiClient"]["clientSecret"])  # type: ignore[index]
    await grant(api, RIVAL, "LOGISTICS", actions)


async def three_nodes(api: Api) -> None:
    """ACME-1 (acme's own), SWIFT-1 (swiftship's) and ROAD-1 (roadrun's, which may not
    fulfil: acme's decisions give its reason as "roadrun holds no fulfilment grant")."""
    await rival_partner(api, ["READ"])
    await put_node(api, "ACME-1", baseCost="4.10")
    await set_stock(api, [("ACME-1", "KETTLE-01", 5)])
    await put_node(api, "SWIFT-1", as_client="swiftship-admin", merchant="acme", baseCost="6.30")
    await set_stock(api, [("SWIFT-1", "KETTLE-01", 5)], as_client="swiftship-tms", merchant="acme")
    await put_node(api, "ROAD-1", as_client=RIVAL_ADMIN, merchant="acme", baseCost="2.20")


def errors_at(body: Json) -> dict[str, str]:
    return {"/".join(map(str, e["path"])): e["extensions"]["code"] for e in body.get("errors", [])}


def money_of(decision: Json) -> list[str]:
    """The merchant's cost figures in a decision: its candidates' transport costs."""
    return [c["transportCost"] for c in decision["candidates"] if c["transportCost"]]


async def test_a_logistics_partner_sees_only_its_own_nodes_part_of_a_decision(api: Api) -> None:
    await three_nodes(api)
    order = await create(api, KETTLE)
    merchant = await view(api, order["id"], "acme-backend")
    assert "errors" not in merchant
    decision = merchant["data"]["order"]["routing"]
    # The attack: the merchant's record names its costs and the rival partner.
    assert [c["nodeCode"] for c in decision["candidates"]] == ["ACME-1", "ROAD-1", "SWIFT-1"]
    assert any("roadrun holds no fulfilment grant" in c["reasons"] for c in decision["candidates"])
    assert "EUR" in decision["explanation"]

    body = await view(api, order["id"], "swiftship-tms")
    seen = body["data"]["order"]
    for shown in (seen["routing"], *seen["routingHistory"]):
        assert [c["nodeCode"] for c in shown["candidates"]] == ["SWIFT-1"]
        [own] = shown["candidates"]
        assert (own["transportCost"], own["score"], own["components"]) == (None, None, None)
        assert own["eligible"] is True
        assert own["transportCurrency"] == "EUR"
        assert shown["assignments"] == [
            a for a in decision["assignments"] if a["nodeCode"] == "SWIFT-1"
        ]
        assert shown["explanation"] != decision["explanation"]
    hidden = {"transportCost", "score", "components"}
    assert errors_at(body) == {
        **{f"order/routing/candidates/0/{name}": "FIELD_NOT_SHARED" for name in hidden},
        **{f"order/routingHistory/0/candidates/0/{name}": "FIELD_NOT_SHARED" for name in hidden},
        "order/risk": "FIELD_NOT_SHARED",
    }
    text = json.dumps(body)
    for secret in ("roadrun", "ROAD-1", "ACME-1", "%", *money_of(decision)):
        assert secret not in text, secret
    # Routed to acme's own (cheaper) node: the partner learns only that, and that its
    # node was not chosen.
    assert [a["nodeCode"] for a in decision["assignments"]] == ["ACME-1"]
    assert seen["routing"]["explanation"] == "Shipped from another node, not SWIFT-1 (not chosen)."
    assert seen["events"][-1] == {
        "type": "ROUTED",
        "actor": "acme/acme-shop",
        "message": "routed to another node",
    }


async def test_the_same_reads_through_orders_hide_the_same(api: Api) -> None:
    await three_nodes(api)
    order = await create(api, KETTLE)
    decision = (await view(api, order["id"], "acme-backend"))["data"]["order"]["routing"]
    response = await api.graphql(ORDERS_VIEW, as_client="swiftship-tms")
    body = response.json()
    [edge] = body["data"]["orders"]["edges"]
    assert [c["nodeCode"] for c in edge["node"]["routing"]["candidates"]] == ["SWIFT-1"]
    assert set(errors_at(body).values()) == {"FIELD_NOT_SHARED"}
    text = json.dumps(body)
    for secret in ("roadrun", "ROAD-1", "ACME-1", decision["explanation"], *money_of(decision)):
        assert secret not in text, secret


async def test_a_full_partner_sees_the_merchants_decision(api: Api) -> None:
    await three_nodes(api)
    await grant(api, "swiftship", "FULL", ["READ", "UPDATE_FULFILLMENT"])
    order = await create(api, KETTLE)
    merchant = await view(api, order["id"], "acme-backend")
    partner = await view(api, order["id"], "swiftship-tms")
    assert "errors" not in partner
    assert partner["data"] == merchant["data"]


async def test_a_held_order_tells_a_logistics_partner_no_score(api: Api) -> None:
    await hold_at(api, 1)
    order = await create(api, KETTLE, customerEmail="jane@mailinator.com")
    assert order["status"] == "ON_HOLD"
    merchant = (await view(api, order["id"], "acme-backend"))["data"]["order"]
    held = merchant["events"][-1]
    score = merchant["risk"]["score"]
    # The attack: the merchant's message carries the figures the profile hides.
    assert held["message"] == f"held for risk review: score {score} (hold at 1)"

    body = await view(api, order["id"], "swiftship-tms")
    events = body["data"]["order"]["events"]
    assert [e["type"] for e in events] == ["CREATED", "HELD"]
    assert events[-1] == {"type": "HELD", "actor": "acme/acme-shop", "message": "held for review"}
    assert errors_at(body) == {"order/risk": "FIELD_NOT_SHARED"}
    text = json.dumps(body).replace(order["id"], "<id>")
    assert "score" not in text
    assert "hold at" not in text
    assert not re.search(rf"\b{score}\b", text)


async def test_events_name_no_other_partner(api: Api) -> None:
    """roadrun ships an order of acme's; swiftship reads who did as someone else."""
    await rival_partner(api, ["READ", "UPDATE_FULFILLMENT"])
    order = await create(api, KETTLE)  # no nodes: acme fulfils it itself
    for status in ("SHIPPED", "DELIVERED"):
        spec = {"orderId": order["id"], "status": status}
        done = await api.data(UPDATE_FULFILLMENT, {"input": spec}, as_client=RIVAL_OPERATOR)
        assert done["updateFulfillment"]["userErrors"] == []  # type: ignore[index]
    merchant = (await view(api, order["id"], "acme-backend"))["data"]["order"]["events"]
    assert merchant[-1]["actor"] == f"{RIVAL}/{RIVAL_OPERATOR}"

    body = await view(api, order["id"], "swiftship-tms")
    events = body["data"]["order"]["events"]
    assert events[1:] == [
        {"type": "FULFILLMENT_UPDATED", "actor": "someone else", "message": "PENDING -> SHIPPED"},
        {
            "type": "FULFILLMENT_UPDATED",
            "actor": "someone else",
            "message": "SHIPPED -> DELIVERED",
        },
    ]
    assert RIVAL not in json.dumps(body)
    # The rival reads its own acts under its own name.
    own = (await view(api, order["id"], RIVAL_OPERATOR))["data"]["order"]["events"]
    assert own[-1]["actor"] == f"{RIVAL}/{RIVAL_OPERATOR}"
