"""Nodes a logistics partner operates for a merchant: the merchant routes to them while
its grant lets the partner fulfil, each side manages only its own nodes, and a revoke
takes the node out of routing and the partner out of the merchant's nodes at once."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
from tests.orders.documents import UPDATE_FULFILLMENT
from tests.routing.documents import (
    NODES,
    PUT_NODE,
    SET_STOCK,
    create,
    node_input,
    put_node,
    set_stock,
)
from tests.routing.test_routing_api import (
    assigned,
    candidates,
    customer,
    nodes_of,
    order_of,
    reroute,
    run_intake,
    stock_of,
)
from tests.sharing.test_partner_access import GRANT, GRANTS, REVOKE

KETTLE = [("KETTLE-01", 1)]
PARTNER_REASON = "swiftship holds no fulfilment grant"


async def swiftship_node(api: Api, units: int = 5) -> None:
    """SWIFT-1, put by swiftship's admin for acme and stocked by its operator."""
    payload = await put_node(
        api, "SWIFT-1", as_client="swiftship-admin", merchant="acme", region="DE-BY"
    )
    assert payload["created"] is True
    assert payload["node"]["operatedByPartner"] is True
    await set_stock(
        api, [("SWIFT-1", "KETTLE-01", units)], as_client="swiftship-tms", merchant="acme"
    )


def codes(nodes: list[dict[str, Any]]) -> list[tuple[str, bool]]:
    return [(node["code"], node["operatedByPartner"]) for node in nodes]


async def query_error(
    api: Api, document: str, variables: dict[str, object], as_client: str
) -> tuple[str, str]:
    """(code, message) of the one GraphQL error a query answers."""
    body = (await api.graphql(document, variables, as_client=as_client)).json()
    [error] = body["errors"]
    return error["extensions"]["code"], error["message"]


async def test_a_partner_node_serves_the_merchant_that_granted_it(api: Api) -> None:
    await put_node(api, "BERLIN-1")  # acme's own, with nothing in stock
    await swiftship_node(api)
    order = await create(api, KETTLE)
    assert order["status"] == "ROUTED"
    assert assigned(order) == {"SWIFT-1": {"KETTLE-01": 1}}
    assert codes(await nodes_of(api)) == [("BERLIN-1", False), ("SWIFT-1", True)]
    assert await stock_of(api) == {("SWIFT-1", "KETTLE-01"): (5, 1)}
    # The partner sees the nodes it operates for acme, not acme's own.
    partner_view = await nodes_of(api, as_client="swiftship-tms", merchant="acme")
    assert codes(partner_view) == [("SWIFT-1", True)]
    assert await nodes_of(api, as_client="globex-backend") == []
    assert await query_error(api, NODES, {"merchant": "acme"}, "globex-backend") == (
        "NOT_FOUND",
        "no such merchant",
    )


async def test_the_partner_ships_and_the_merchant_learns_from_its_delivery(api: Api) -> None:
    await swiftship_node(api)
    order = await create(api, KETTLE, **customer(1))
    variables: dict[str, object] = {"input": {"orderId": order["id"], "status": "DELIVERED"}}
    body = (await api.graphql(UPDATE_FULFILLMENT, variables, as_client="swiftship-tms")).json()
    assert body["data"]["updateFulfillment"]["userErrors"] == []
    assert await stock_of(api) == {("SWIFT-1", "KETTLE-01"): (4, 0)}
    later = await create(api, KETTLE, **customer(2))
    assert candidates(later)["SWIFT-1"]["estimateVersion"] == 1


async def test_partner_stock_wakes_the_merchants_waiting_orders(api: Api) -> None:
    await swiftship_node(api, units=0)
    order = await create(api, KETTLE)
    assert order["routing"]["reasonCode"] == "NO_STOCK"
    payload = await set_stock(
        api, [("SWIFT-1", "KETTLE-01", 3)], as_client="swiftship-tms", merchant="acme"
    )
    assert payload["ordersWoken"] == 1
    assert await run_intake(api) == 1
    routed = await order_of(api, order["id"])
    assert (routed["status"], assigned(routed)) == ("ROUTED", {"SWIFT-1": {"KETTLE-01": 1}})


async def mutation_errors(
    api: Api, document: str, variables: dict[str, object], as_client: str
) -> list[tuple[list[str], str, str]]:
    """(field, code, message) of each userError of a one-field mutation."""
    data = await api.data(document, variables, as_client=as_client)
    [payload] = data.values()
    return [(e["field"], e["code"], e["message"]) for e in payload["userErrors"]]  # type: ignore[index]


def stock_input(node: str, merchant: str | None = None) -> dict[str, object]:
    level = {"node": node, "sku": "KETTLE-01", "onHand": 9}
    return {"input": {"merchant": merchant, "levels": [level]}}


def node_change(code: str, merchant: str | None = None) -> dict[str, object]:
    return {"input": node_input(code, merchant=merchant, dailyCapacity=1)}


REFUSED = [
    pytest.param(
        SET_STOCK,
        stock_input("SWIFT-1"),
        "acme-shop",
        (
            ["input", "levels", "0", "node"],
            "FORBIDDEN",
            "node SWIFT-1 is operated by a partner; its operator sets its stock",
        ),
        id="merchant-stocks-partner-node",
    ),
    pytest.param(
        PUT_NODE,
        node_change("SWIFT-1"),
        "acme-backend",
        (["input", "code"], "FORBIDDEN", "node SWIFT-1 is operated by another partner"),
        id="merchant-replaces-partner-node",
    ),
    pytest.param(
        SET_STOCK,
        stock_input("BERLIN-1", "acme"),
        "swiftship-tms",
        (["input", "levels", "0", "node"], "NOT_FOUND", "no node 'BERLIN-1' of yours"),
        id="partner-stocks-merchant-node",
    ),
    pytest.param(
        PUT_NODE,
        node_change("BERLIN-1", "acme"),
        "swiftship-admin",
        (["input", "code"], "FORBIDDEN", "node BERLIN-1 is operated by someone else"),
        id="partner-reuses-merchant-code",  # a code it cannot see, refused by the unique key
    ),
    pytest.param(
        PUT_NODE,
        node_change("SWIFT-2"),
        "swiftship-admin",
        (["input", "merchant"], "INVALID", "partners name the merchant they act for"),
        id="partner-names-no-merchant",
    ),
    pytest.param(
        PUT_NODE,
        node_change("SWIFT-2", "globex"),
        "swiftship-admin",
        (["input", "merchant"], "NOT_FOUND", "no such merchant shares orders with you"),
        id="partner-without-grant",
    ),
]


@pytest.mark.parametrize(("document", "variables", "client", "error"), REFUSED)
async def test_each_side_manages_only_its_own_nodes(
    api: Api,
    document: str,
    variables: dict[str, object],
    client: str,
    error: tuple[list[str], str, str],
) -> None:
    await put_node(api, "BERLIN-1")
    await swiftship_node(api)
    before = await nodes_of(api)
    assert await mutation_errors(api, document, variables, client) == [error]
    assert await nodes_of(api) == before


async def test_a_partner_operator_cannot_put_nodes(api: Api) -> None:
    assert await query_error(api, PUT_NODE, node_change("SWIFT-2", "acme"), "swiftship-tms") == (
        "FORBIDDEN",
        "FORBIDDEN: this needs permission for routing:write",
    )


async def grant_id(api: Api) -> str:
    data: Any = await api.data(GRANTS, as_client="acme-backend")
    [grant] = [
        g
        for g in data["orderAccessGrants"]
        if g["partner"]["handle"] == "swiftship" and g["revokedAt"] is None
    ]
    found: str = grant["id"]
    return found


async def grant(api: Api, *actions: str) -> None:
    wanted = {"partner": "swiftship", "profile": "LOGISTICS", "actions": list(actions)}
    variables: dict[str, object] = {"input": wanted}
    data: Any = await api.data(GRANT, variables, as_client="acme-backend")
    assert data["grantOrderAccess"]["userErrors"] == []


async def revoke(api: Api) -> None:
    data: Any = await api.data(REVOKE, {"id": await grant_id(api)}, as_client="acme-backend")
    assert data["revokeOrderAccess"]["userErrors"] == []


async def check_out_of_routing(api: Api) -> dict[str, Any]:
    """A new acme order passes over SWIFT-1 with a reason naming swiftship; answers it."""
    order = await create(api, KETTLE, **customer(2))
    assert order["status"] == "PENDING"
    assert candidates(order)["SWIFT-1"]["reasons"] == [PARTNER_REASON]
    assert order["routing"]["reasonCode"] == "NO_NODES"
    assert order["routing"]["explanation"] == (
        f"Not routed: no fulfilment node is available (SWIFT-1: {PARTNER_REASON})."
    )
    return order


async def test_after_a_revoke_the_node_is_ineligible_and_the_partner_locked_out(
    api: Api,
) -> None:
    await swiftship_node(api)
    routed = await create(api, KETTLE, **customer(1))
    assert list(assigned(routed)) == ["SWIFT-1"]
    await revoke(api)
    waiting = await check_out_of_routing(api)
    refused = (["input", "merchant"], "NOT_FOUND", "no such merchant shares orders with you")
    for document, variables, client in (
        (SET_STOCK, stock_input("SWIFT-1", "acme"), "swiftship-tms"),
        (PUT_NODE, node_change("SWIFT-1", "acme"), "swiftship-admin"),
    ):
        assert await mutation_errors(api, document, variables, client) == [refused]
    assert await query_error(api, NODES, {"merchant": "acme"}, "swiftship-tms") == refused[1:]
    assert await stock_of(api) == {("SWIFT-1", "KETTLE-01"): (5, 1)}  # nothing changed
    # A new grant to fulfil brings the node back.
    await grant(api, "READ", "UPDATE_FULFILLMENT")
    payload = await reroute(api, waiting["id"])
    assert list(assigned(payload["order"])) == ["SWIFT-1"]


async def test_a_partner_that_may_only_read_does_not_fulfil(api: Api) -> None:
    await swiftship_node(api)
    await grant(api, "READ")
    await check_out_of_routing(api)
    assert await stock_of(api) == {("SWIFT-1", "KETTLE-01"): (5, 0)}
