from tests.conftest import Api
from tests.orders.documents import CANCEL_ORDER, CREATE_ORDER, ORDER, ORDERS, order_input


async def test_create_query_cancel(api: Api) -> None:
    created = await api.data(CREATE_ORDER, {"input": order_input()}, as_client="acme-shop")
    payload = created["createOrder"]
    assert payload["userErrors"] == []
    order = payload["order"]
    assert order["number"] == "ACME-1001"
    assert order["status"] == "PENDING"
    assert order["total"] == "88.80"
    assert order["events"][0]["type"] == "CREATED"
    assert order["events"][0]["actor"] == "acme/acme-shop"
    fetched = await api.data(ORDER, {"id": order["id"]}, as_client="acme-reports")
    assert fetched["order"]["id"] == order["id"]
    listed = await api.data(ORDERS, {"first": 10}, as_client="acme-backend")
    assert [e["node"]["id"] for e in listed["orders"]["edges"]] == [order["id"]]
    other = await api.data(ORDER, {"id": order["id"]}, as_client="globex-shop")
    assert other["order"] is None
    cancelled = await api.data(
        CANCEL_ORDER,
        {"input": {"orderId": order["id"], "lines": [{"sku": "KETTLE-1", "quantity": 1}]}},
        as_client="acme-shop",
    )
    assert cancelled["cancelOrder"]["userErrors"] == []
    assert cancelled["cancelOrder"]["order"]["lines"][0]["cancelledQuantity"] == 1
    assert cancelled["cancelOrder"]["order"]["total"] == "68.90"
