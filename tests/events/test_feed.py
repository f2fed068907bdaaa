"""The event feed: every change's event, in order, as each reader may see it."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api
from tests.events.documents import all_events, feed
from tests.orders.documents import cancel, create_order, create_payload, fulfil, order_input
from tests.routing.documents import put_node, set_stock
from tests.sharing.test_partner_access import GRANTS, REVOKE


def _by_order(events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        if event["orderId"] is not None:
            found.setdefault(event["orderId"], []).append(event)
    return found


async def _order_life(api: Api) -> tuple[str, str]:
    """A routed order shipped and delivered, another cancelled; answers their ids."""
    await put_node(api, "ACME-1")
    await set_stock(api, [("ACME-1", "KETTLE-1", 10), ("ACME-1", "TOASTER-2", 10)])
    shipped = await create_order(api)
    assert shipped["status"] == "ROUTED"
    for status in ("FULFILLING", "SHIPPED", "DELIVERED"):
        payload = await fulfil(api, shipped["id"], status, tracking_number="TRACK-1", carrier="DHL")
        assert payload["userErrors"] == [], payload
    cancelled = await create_order(api)
    assert (await cancel(api, cancelled["id"], reason="changed mind"))["userErrors"] == []
    return shipped["id"], cancelled["id"]


async def test_an_order_life_gives_its_events_in_order(api: Api) -> None:
    shipped, cancelled = await _order_life(api)
    events = await all_events(api, as_client="acme-shop")
    positions = [event["position"] for event in events]
    assert positions == sorted(positions)
    assert len(set(positions)) == len(positions)
    by_order = _by_order(events)
    assert [e["type"] for e in by_order[shipped]] == [
        "CREATED",
        "ROUTED",
        "FULFILLMENT_UPDATED",
        "FULFILLMENT_UPDATED",
        "FULFILLMENT_UPDATED",
    ]
    assert [e["type"] for e in by_order[cancelled]] == ["CREATED", "ROUTED", "CANCELLED"]
    for order_events in by_order.values():
        assert [e["orderSequence"] for e in order_events] == list(range(1, len(order_events) + 1))
    delivered = by_order[shipped][-1]["payload"]
    assert delivered["status"] == "DELIVERED"
    assert delivered["trackingNumber"] == "TRACK-1"
    assert delivered["total"] == "88.80"  # a string, never a float
    assert delivered["lines"][0]["unitPrice"] == "19.90"
    assert by_order[cancelled][-1]["payload"]["cancelReason"] == "changed mind"
    # The payload is the order as its transaction committed it: numbered, routed.
    created = by_order[shipped][0]["payload"]
    assert created["status"] == "ROUTED"
    assert not created["number"].startswith("~")
    assert {e["merchant"] for e in events} == {"acme"}


async def test_types_and_after_narrow_the_feed(api: Api) -> None:
    await _order_life(api)
    everything = await all_events(api, as_client="acme-shop")
    cancelled = await feed(api, as_client="acme-shop", types=["CANCELLED"])
    assert [edge["node"]["type"] for edge in cancelled["edges"]] == ["CANCELLED"]
    middle = everything[3]["position"]
    later = await feed(api, as_client="acme-shop", after=str(middle))
    assert [edge["node"]["id"] for edge in later["edges"]] == [e["id"] for e in everything[4:]]


async def test_a_failed_mutation_writes_no_event(api: Api) -> None:
    order = await create_order(api)
    before = await all_events(api, as_client="acme-shop")
    # Cancelling more than the order holds fails whole: no change, no event.
    refused = await cancel(api, order["id"], lines=[{"sku": "KETTLE-1", "quantity": 99}])
    assert refused["userErrors"] != []
    invalid = await create_payload(api, order_input(lines=[]))
    assert invalid["userErrors"] != []
    assert await all_events(api, as_client="acme-shop") == before


async def test_a_merchant_never_sees_another_merchants_events(api: Api) -> None:
    await create_order(api, as_client="globex-shop")
    acme = await create_order(api)
    seen = await all_events(api, as_client="acme-shop")
    assert {e["merchant"] for e in seen} == {"acme"}
    assert {e["orderId"] for e in seen if e["type"] != "GRANT_CREATED"} == {acme["id"]}
    globex = await all_events(api, as_client="globex-shop")
    assert {e["merchant"] for e in globex} == {"globex"}
    admin = await all_events(api, as_client="ops-admin")
    assert {"acme", "globex"} <= {e["merchant"] for e in admin}


async def test_a_logistics_partner_reads_masked_events_until_revoked(api: Api) -> None:
    await _order_life(api)
    await create_order(api, as_client="globex-shop")
    response = await api.graphql(
        "query { events(first: 100) { edges { node { type merchant actor message payload } } } }",
        as_client="swiftship-tms",
    )
    body = response.json()
    assert "errors" not in body, body
    text = str(body)
    for hidden in ("total", "unitPrice", "customerEmail", "88.80", "19.90", "jane@example.com"):
        assert hidden not in text, hidden
    nodes = [edge["node"] for edge in body["data"]["events"]["edges"]]
    assert nodes
    assert {n["merchant"] for n in nodes} == {"acme"}
    order_nodes = [n for n in nodes if n["type"] != "GRANT_CREATED"]
    assert {n["payload"]["status"] for n in order_nodes} >= {"DELIVERED", "CANCELLED"}
    grants = await api.data(GRANTS, as_client="acme-backend")
    grant_id = grants["orderAccessGrants"][0]["id"]  # type: ignore[index]
    revoked = await api.data(REVOKE, {"id": grant_id}, as_client="acme-backend")
    assert revoked["revokeOrderAccess"]["userErrors"] == []  # type: ignore[index]
    assert await all_events(api, as_client="swiftship-tms") == []
    merchant = await feed(api, as_client="acme-backend", types=["GRANT_REVOKED"])
    [event] = [edge["node"] for edge in merchant["edges"]]
    assert event["payload"]["partner"] == "swiftship"
    assert event["orderId"] is None
