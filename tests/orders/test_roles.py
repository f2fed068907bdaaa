"""Who may do what with orders, and another tenant's order does not exist for the caller."""

from __future__ import annotations

import pytest

from tests.conftest import Api
from tests.orders.documents import (
    CANCEL_ORDER,
    CREATE_ORDER,
    ORDER,
    UPDATE_FULFILLMENT,
    cancel,
    create_order,
    forbidden,
    fulfil,
    get_order,
    list_orders,
    order_input,
)

# Only fields every share profile shows.
PARTNER_IDS = """
query Ids($filter: OrderFilter) { orders(first: 100, filter: $filter) { edges { node { id } } } }
"""


async def assert_no_writes(api: Api, client: str, order_id: str) -> None:
    """Every order mutation is refused to `client` as a whole field, FORBIDDEN."""
    for query, variables in (
        (CREATE_ORDER, {"input": order_input()}),
        (CANCEL_ORDER, {"input": {"orderId": order_id}}),
        (UPDATE_FULFILLMENT, {"input": {"orderId": order_id, "status": "SHIPPED"}}),
    ):
        response = await api.graphql(query, variables, as_client=client)
        assert forbidden(response), (client, response.text)


@pytest.mark.parametrize("client", ["acme-shop", "acme-backend"])
async def test_operators_and_admins_create_cancel_and_fulfil(api: Api, client: str) -> None:
    order = await create_order(api, as_client=client)
    assert order["events"][0]["actor"] == f"acme/{client}"
    partial = await cancel(
        api, order["id"], as_client=client, lines=[{"sku": "KETTLE-1", "quantity": 1}]
    )
    assert partial["userErrors"] == []
    shipped = await fulfil(api, order["id"], "SHIPPED", as_client=client)
    assert shipped["userErrors"] == []
    other = await create_order(api, as_client=client)
    assert (await cancel(api, other["id"], as_client=client))["userErrors"] == []
    assert {e["actor"] for e in shipped["order"]["events"]} == {f"acme/{client}"}
    assert {o["status"] for o in await list_orders(api, as_client=client)} == {
        "SHIPPED",
        "CANCELLED",
    }


async def test_viewers_only_read(api: Api) -> None:
    order = await create_order(api)
    assert (await get_order(api, order["id"], as_client="acme-reports")) == order
    assert [o["id"] for o in await list_orders(api, as_client="acme-reports")] == [order["id"]]
    await assert_no_writes(api, "acme-reports", order["id"])
    assert await get_order(api, order["id"]) == order
    assert len(await list_orders(api)) == 1


@pytest.mark.parametrize("client", ["globex-shop", "globex-backend"])
async def test_another_merchants_order_does_not_exist(api: Api, client: str) -> None:
    order = await create_order(api)
    assert await get_order(api, order["id"], as_client=client) is None
    assert await list_orders(api, as_client=client) == []
    assert await list_orders(api, as_client=client, filter={"merchant": "acme"}) == []
    for payload in (
        await cancel(api, order["id"], as_client=client),
        await cancel(api, order["id"], as_client=client, lines=[{"sku": "NOPE", "quantity": 9}]),
        await fulfil(api, order["id"], "SHIPPED", as_client=client),
        await fulfil(api, order["id"], "PENDING", as_client=client),
    ):
        assert payload["order"] is None
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
            ("NOT_FOUND", ["input", "orderId"])
        ]
    # Answered exactly like an order that never existed.
    missing = await cancel(api, order["id"][:-4] + "AAAA", as_client=client)
    mine = await cancel(api, order["id"], as_client=client)
    assert missing["userErrors"] == mine["userErrors"]
    assert await get_order(api, order["id"]) == order


@pytest.mark.parametrize("client", ["swiftship-tms", "swiftship-admin"])
async def test_partners_see_nothing_of_merchants_that_did_not_share(api: Api, client: str) -> None:
    """The demo manifest has acme share with swiftship, globex not: globex's orders do
    not exist for swiftship (what acme's look like is tests/sharing's business)."""
    shared = await create_order(api)
    order = await create_order(api, as_client="globex-shop")
    assert await get_order(api, order["id"], as_client=client) is None
    visible = await api.data(PARTNER_IDS, {"filter": None}, as_client=client)
    assert visible == {"orders": {"edges": [{"node": {"id": shared["id"]}}]}}
    only_globex = await api.data(PARTNER_IDS, {"filter": {"merchant": "globex"}}, as_client=client)
    assert only_globex == {"orders": {"edges": []}}
    payload = await fulfil(api, order["id"], "SHIPPED", as_client=client)
    assert payload["order"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("NOT_FOUND", ["input", "orderId"])
    ]
    for query, variables in (
        (CREATE_ORDER, {"input": order_input()}),
        (CANCEL_ORDER, {"input": {"orderId": order["id"]}}),
        (CANCEL_ORDER, {"input": {"orderId": shared["id"]}}),
    ):
        response = await api.graphql(query, variables, as_client=client)
        assert forbidden(response), response.text
    assert await get_order(api, order["id"], as_client="globex-shop") == order
    assert await get_order(api, shared["id"]) == shared


async def test_platform_admin_reads_every_order_and_writes_none(api: Api) -> None:
    acme = await create_order(api)
    globex = await create_order(api, as_client="globex-shop")
    assert await get_order(api, acme["id"], as_client="ops-admin") == acme
    assert (await get_order(api, globex["id"], as_client="ops-admin"))["merchant"] == {
        "handle": "globex"
    }
    assert [o["id"] for o in await list_orders(api, as_client="ops-admin")] == [
        globex["id"],
        acme["id"],
    ]
    await assert_no_writes(api, "ops-admin", acme["id"])
    assert await get_order(api, acme["id"]) == acme


async def test_anonymous_callers_are_refused(api: Api) -> None:
    order = await create_order(api)
    response = await api.graphql(ORDER, {"id": order["id"]})
    assert response.status_code == 401
    response = await api.graphql(CREATE_ORDER, {"input": order_input()}, token="not-a-token")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert len(await list_orders(api)) == 1
