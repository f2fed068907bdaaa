"""An order is routed when it is accepted, and its decision says why."""

from __future__ import annotations

from tests.conftest import Api
from tests.routing.documents import create, put_node, set_stock


async def test_an_order_is_routed_to_the_node_with_stock(api: Api) -> None:
    await put_node(api, "BERLIN-1")
    await put_node(api, "MUNICH-1", latitude=48.14, longitude=11.58, region="DE-BY")
    await set_stock(api, [("BERLIN-1", "KETTLE-01", 5), ("MUNICH-1", "TOASTER-02", 5)])
    order = await create(api, [("KETTLE-01", 2)])
    assert order["status"] == "ROUTED", order
    routing = order["routing"]
    assert routing["routed"] is True
    assert routing["assignments"] == [
        {"nodeCode": "BERLIN-1", "lines": [{"sku": "KETTLE-01", "quantity": 2}]}
    ]
    assert "BERLIN-1" in routing["explanation"]
    assert order["risk"]["level"] == "LOW"
    assert [e["type"] for e in order["events"]] == ["CREATED", "ROUTED"]


async def test_an_order_without_stock_waits(api: Api) -> None:
    await put_node(api, "BERLIN-1")
    order = await create(api, [("KETTLE-01", 2)])
    assert order["status"] == "PENDING"
    assert order["routing"]["reasonCode"] == "NO_STOCK"
    assert "KETTLE-01" in order["routing"]["explanation"]


async def test_a_merchant_without_nodes_is_not_routed(api: Api) -> None:
    order = await create(api, [("KETTLE-01", 2)])
    assert order["status"] == "PENDING"
    assert order["routing"] is None
