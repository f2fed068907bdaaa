"""Routing over GraphQL: node and stock validation, constraints, cost, splits, profiles,
waking, re-routing and settling reservations, through the real ASGI app.

The helpers at the top are shared with the other routing test modules.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from oaas.app import create_app
from oaas.http.routes import Components
from oaas.lifecycle.worker import run_due_jobs
from oaas.routing.geo import haversine_km
from oaas.settings import Settings
from tests.conftest import ISSUER, Api
from tests.orders.documents import cancel, fulfil
from tests.routing.documents import (
    NODES,
    ORDER,
    PUT_NODE,
    REROUTE,
    SET_ROUTING_PROFILE,
    SET_STOCK,
    create,
    node_input,
    put_node,
    set_stock,
)

MUNICH = (48.14, 11.58)
HAMBURG = (53.55, 9.99)
BERLIN = (52.52, 13.40)

# ---------------------------------------------------------------- shared helpers


def components(api: Api) -> Components:
    """The app behind the test client: its database and engines."""
    app: Any = api.http._transport.app  # type: ignore[attr-defined]
    found: Components = app.state.components
    return found


async def run_intake(api: Api) -> int:
    """One pass of the intake worker, as the app's background loop runs it."""
    parts = components(api)
    return await run_due_jobs(parts.database, parts.engines)


def customer(index: int, region: str = "BY") -> dict[str, Any]:
    """createOrder changes for a customer of its own, so velocity rules hold no order."""
    return {
        "customerEmail": f"buyer{index}@example.com",
        "shippingAddress": {
            "line1": f"Teststrasse {index}",
            "city": "Muenchen" if region == "BY" else "Hamburg",
            "region": region,
            "postalCode": f"{80000 + index}",
            "country": "DE",
        },
    }


async def order_of(api: Api, order_id: str, *, as_client: str = "acme-shop") -> dict[str, Any]:
    data = await api.data(ORDER, {"id": order_id}, as_client=as_client)
    order: dict[str, Any] = data["order"]  # type: ignore[assignment]
    return order


async def nodes_of(
    api: Api, *, as_client: str = "acme-backend", merchant: str | None = None
) -> list[dict[str, Any]]:
    data = await api.data(NODES, {"merchant": merchant}, as_client=as_client)
    found: list[dict[str, Any]] = data["fulfillmentNodes"]  # type: ignore[assignment]
    return found


async def stock_of(
    api: Api, *, as_client: str = "acme-backend", merchant: str | None = None
) -> dict[tuple[str, str], tuple[int, int]]:
    """(on hand, reserved) by (node code, SKU), as fulfillmentNodes shows them."""
    return {
        (node["code"], level["sku"]): (level["onHand"], level["reserved"])
        for node in await nodes_of(api, as_client=as_client, merchant=merchant)
        for level in node["stock"]
    }


def candidates(order: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The latest decision's candidates by node code."""
    return {c["nodeCode"]: c for c in order["routing"]["candidates"]}


def assigned(order: dict[str, Any]) -> dict[str, dict[str, int]]:
    """The latest decision's assignments: {node code: {sku: quantity}}."""
    return {
        a["nodeCode"]: {line["sku"]: line["quantity"] for line in a["lines"]}
        for a in order["routing"]["assignments"]
    }


async def set_profile(api: Api, **fields: Any) -> dict[str, Any]:
    data = await api.data(SET_ROUTING_PROFILE, {"input": fields}, as_client="acme-backend")
    payload: dict[str, Any] = data["setRoutingProfile"]  # type: ignore[assignment]
    assert payload["userErrors"] == [], payload
    profile: dict[str, Any] = payload["profile"]
    return profile


async def reroute(api: Api, order_id: str, *, as_client: str = "acme-backend") -> dict[str, Any]:
    data = await api.data(REROUTE, {"id": order_id}, as_client=as_client)
    payload: dict[str, Any] = data["rerouteOrder"]  # type: ignore[assignment]
    return payload


def error_fields(payload: dict[str, Any]) -> list[tuple[list[str], str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


# ---------------------------------------------------------------- validation

BAD_NODES = [
    pytest.param({"region": "XX-99"}, ["input", "region"], "ISO 3166", id="region"),
    pytest.param(
        {"regionsExcluded": ["DE-BY", "DE-XX"]},
        ["input", "regionsExcluded", "1"],
        "ISO 3166",
        id="excluded-region",
    ),
    pytest.param({"dailyCapacity": -1}, ["input", "dailyCapacity"], "between 0", id="capacity"),
    pytest.param({"currency": "EURO"}, ["input", "currency"], "ISO 4217", id="currency"),
    pytest.param({"costPerKm": "0.001"}, ["input", "costPerKm"], "2 decimal", id="decimals"),
    pytest.param(
        {"currency": "JPY", "baseCost": "500.5", "costPerKm": "0"},
        ["input", "baseCost"],
        "0 decimal",
        id="yen-decimals",
    ),
    pytest.param(
        {"regionRates": [{"region": "DE-BY", "amount": "-1.00"}]},
        ["input", "regionRates", "DE-BY"],
        "between 0",
        id="negative-rate",
    ),
    pytest.param(
        {"defaultPromiseHours": 0}, ["input", "defaultPromiseHours"], "more than 0", id="promise"
    ),
]


async def put_node_payload(api: Api, code: str, **changes: Any) -> dict[str, Any]:
    data = await api.data(
        PUT_NODE, {"input": node_input(code, **changes)}, as_client="acme-backend"
    )
    payload: dict[str, Any] = data["putFulfillmentNode"]  # type: ignore[assignment]
    return payload


@pytest.mark.parametrize(("changes", "field", "words"), BAD_NODES)
async def test_a_bad_node_is_refused_naming_the_field_and_changes_nothing(
    api: Api, changes: dict[str, Any], field: list[str], words: str
) -> None:
    await put_node(api, "BERLIN-1")
    before = await nodes_of(api)
    for code in ("BERLIN-1", "NEW-1"):  # neither a replacement nor a new node
        payload = await put_node_payload(api, code, **changes)
        assert payload["node"] is None
        assert error_fields(payload) == [(field, "INVALID")], payload
        assert words in payload["userErrors"][0]["message"]
    assert await nodes_of(api) == before


async def test_every_bad_node_field_is_named_at_once(api: Api) -> None:
    payload = await put_node_payload(
        api, "BAD", region="Bavaria", dailyCapacity=-5, currency="XYZ", baseCost="-1"
    )
    assert error_fields(payload) == [
        (["input", "region"], "INVALID"),
        (["input", "dailyCapacity"], "INVALID"),
        (["input", "currency"], "INVALID"),
        (["input", "baseCost"], "INVALID"),
    ]
    assert await nodes_of(api) == []


BAD_LEVELS = [
    pytest.param(
        [("BERLIN-1", "KETTLE-01", 9), ("NOWHERE", "KETTLE-01", 5)],
        (["input", "levels", "1", "node"], "NOT_FOUND"),
        id="unknown-node",
    ),
    pytest.param(
        [("BERLIN-1", "KETTLE-01", 9), ("BERLIN-1", "KETTLE-01", 6)],
        (["input", "levels", "1", "sku"], "INVALID"),
        id="duplicate",
    ),
    pytest.param(
        [("BERLIN-1", "KETTLE-01", -1)],
        (["input", "levels", "0", "onHand"], "INVALID"),
        id="negative",
    ),
    pytest.param(
        [("BERLIN-1", "KETTLE-01", 9), ("BERLIN-1", "NO SPACES", 1)],
        (["input", "levels", "1", "sku"], "INVALID"),
        id="sku",
    ),
]


async def stock_payload(
    api: Api, levels: list[tuple[str, str, int]], *, as_client: str = "acme-backend"
) -> dict[str, Any]:
    variables: dict[str, object] = {
        "input": {"levels": [{"node": n, "sku": s, "onHand": q} for n, s, q in levels]}
    }
    data = await api.data(SET_STOCK, variables, as_client=as_client)
    payload: dict[str, Any] = data["setStockLevels"]  # type: ignore[assignment]
    return payload


@pytest.mark.parametrize(("levels", "error"), BAD_LEVELS)
async def test_bad_stock_levels_are_refused_whole(
    api: Api, levels: list[tuple[str, str, int]], error: tuple[list[str], str]
) -> None:
    await put_node(api, "BERLIN-1")
    await set_stock(api, [("BERLIN-1", "KETTLE-01", 3)])
    payload = await stock_payload(api, levels)
    assert error_fields(payload) == [error], payload
    assert (payload["changed"], payload["ordersWoken"]) == (0, 0)
    assert await stock_of(api) == {("BERLIN-1", "KETTLE-01"): (3, 0)}


async def test_stock_may_not_drop_below_what_is_reserved(api: Api) -> None:
    await put_node(api, "BERLIN-1")
    await set_stock(api, [("BERLIN-1", "KETTLE-01", 3)])
    await create(api, [("KETTLE-01", 2)])
    payload = await stock_payload(api, [("BERLIN-1", "KETTLE-01", 1)], as_client="acme-shop")
    assert error_fields(payload) == [(["input", "levels", "0", "onHand"], "INVALID")]
    assert "below the 2 units reserved" in payload["userErrors"][0]["message"]
    assert await stock_of(api) == {("BERLIN-1", "KETTLE-01"): (3, 2)}


async def test_only_merchant_admins_manage_nodes(api: Api) -> None:
    for client in ("acme-shop", "acme-reports"):
        response = await api.graphql(PUT_NODE, {"input": node_input("X-1")}, as_client=client)
        body = response.json()
        assert body["data"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert await nodes_of(api, as_client="acme-reports") == []


# ---------------------------------------------------------------- constraints


async def test_excluded_unserved_and_full_nodes_are_ineligible_with_reasons(api: Api) -> None:
    await put_node(api, "BERLIN-1", regionsExcluded=["DE-BY"])
    await put_node(api, "VIENNA-1", region="AT-9", regionsServed=["AT"])
    await put_node(api, "TINY-1", dailyCapacity=0)
    await put_node(api, "MUNICH-1", baseCost="9.00", region="DE-BY")
    codes = ("BERLIN-1", "VIENNA-1", "TINY-1", "MUNICH-1")
    await set_stock(api, [(code, "KETTLE-01", 5) for code in codes])
    order = await create(api, [("KETTLE-01", 1)])
    assert order["status"] == "ROUTED"
    assert assigned(order) == {"MUNICH-1": {"KETTLE-01": 1}}
    found = candidates(order)
    assert {code: found[code]["reasons"] for code in codes} == {
        "BERLIN-1": ["region DE-BY excluded"],
        "VIENNA-1": ["does not serve DE-BY"],
        "TINY-1": ["at daily capacity (0/0)"],
        "MUNICH-1": [],
    }
    assert [found[code]["eligible"] for code in codes] == [False, False, False, True]
    assert [found[code]["score"] is None for code in codes] == [True, True, True, False]


async def test_a_node_at_capacity_is_passed_over_for_the_next_order(api: Api) -> None:
    await put_node(api, "BERLIN-1", dailyCapacity=1)
    await put_node(api, "MUNICH-1", baseCost="9.00", region="DE-BY")
    await set_stock(api, [("BERLIN-1", "KETTLE-01", 5), ("MUNICH-1", "KETTLE-01", 5)])
    first = await create(api, [("KETTLE-01", 1)], **customer(1))
    second = await create(api, [("KETTLE-01", 1)], **customer(2))
    assert list(assigned(first)) == ["BERLIN-1"]
    assert list(assigned(second)) == ["MUNICH-1"]
    assert candidates(second)["BERLIN-1"]["reasons"] == ["at daily capacity (1/1)"]


@pytest.mark.parametrize(
    ("changes", "reason_code", "explanation"),
    [
        pytest.param(
            {"regionsServed": ["AT"]},
            "NO_NODE_SERVES_REGION",
            "Not routed: no node serves DE-BY.",
            id="region",
        ),
        pytest.param(
            {"dailyCapacity": 0},
            "NO_CAPACITY",
            "Not routed: every node serving DE-BY is at daily capacity.",
            id="capacity",
        ),
        pytest.param(
            {"active": False},
            "NO_NODES",
            "Not routed: no fulfilment node is available (BERLIN-1: inactive).",
            id="inactive",
        ),
    ],
)
async def test_an_order_no_node_may_ship_waits_with_the_reason(
    api: Api, changes: dict[str, Any], reason_code: str, explanation: str
) -> None:
    await put_node(api, "BERLIN-1", **changes)
    await set_stock(api, [("BERLIN-1", "KETTLE-01", 5)])
    order = await create(api, [("KETTLE-01", 1)])
    assert order["status"] == "PENDING"
    assert (order["routing"]["reasonCode"], order["routing"]["explanation"]) == (
        reason_code,
        explanation,
    )
    assert await stock_of(api) == {("BERLIN-1", "KETTLE-01"): (5, 0)}


# ---------------------------------------------------------------- cost


def per_km_cost(origin: tuple[float, float], base_minor: int, per_km_minor: int) -> Decimal:
    distance = haversine_km(*origin, *MUNICH)
    return Decimal(base_minor + round(per_km_minor * distance)).scaleb(-2)


@pytest.mark.parametrize(
    ("hamburg_rate", "winner"),
    [pytest.param("9.00", "HAMBURG-1", id="flat-rate"), pytest.param("25.00", "BERLIN-1", id="km")],
)
async def test_the_cheaper_node_wins_per_km_against_a_region_rate(
    api: Api, hamburg_rate: str, winner: str
) -> None:
    centroid = {"region": "DE-BY", "latitude": MUNICH[0], "longitude": MUNICH[1]}
    await set_profile(api, regionCentroids=[centroid])
    await put_node(api, "BERLIN-1")  # 5.00 + 0.02 a km: about 15.08 to Munich
    await put_node(
        api,
        "HAMBURG-1",
        latitude=HAMBURG[0],
        longitude=HAMBURG[1],
        region="DE-HH",
        regionRates=[{"region": "DE-BY", "amount": hamburg_rate}],
    )
    await set_stock(api, [("BERLIN-1", "KETTLE-01", 5), ("HAMBURG-1", "KETTLE-01", 5)])
    order = await create(api, [("KETTLE-01", 1)])
    assert list(assigned(order)) == [winner]
    found = candidates(order)
    berlin, hamburg = found["BERLIN-1"], found["HAMBURG-1"]
    assert Decimal(berlin["transportCost"]) == per_km_cost(BERLIN, 500, 2)
    assert berlin["distanceKm"] == pytest.approx(haversine_km(*BERLIN, *MUNICH))
    assert Decimal(hamburg["transportCost"]) == Decimal(hamburg_rate)  # whatever the distance
    assert hamburg["distanceKm"] > berlin["distanceKm"]
    for candidate in (berlin, hamburg):
        assert candidate["components"]["transport"] == float(candidate["transportCost"])
        assert candidate["score"] == candidate["components"]["total"]


async def test_a_transport_cost_is_shown_in_the_amount_the_node_charges(api: Api) -> None:
    await put_node(api, "TOKYO-1", currency="JPY", baseCost="800", costPerKm="0")
    await set_stock(api, [("TOKYO-1", "KETTLE-01", 5)])
    order = await create(api, [("KETTLE-01", 1)])  # an EUR order
    tokyo = candidates(order)["TOKYO-1"]
    assert (Decimal(tokyo["transportCost"]), tokyo["transportCurrency"]) == (Decimal(800), "JPY")


async def test_the_sentence_names_the_chosen_node_and_the_blocking_sku(api: Api) -> None:
    await put_node(api, "BERLIN-1", baseCost="3.00")
    await put_node(api, "MUNICH-1", region="DE-BY")
    await set_stock(api, [("BERLIN-1", "TOASTER-02", 5), ("MUNICH-1", "KETTLE-01", 5)])
    order = await create(api, [("KETTLE-01", 1)])
    assert order["routing"]["explanation"] == (
        "Shipped from MUNICH-1: the only node with KETTLE-01 in stock; "
        "BERLIN-1 was 40% cheaper but had no KETTLE-01."
    )
    assert candidates(order)["BERLIN-1"]["reasons"] == ["no KETTLE-01 in stock"]


# ---------------------------------------------------------------- splits and profiles


def totals(assignments: dict[str, dict[str, int]]) -> dict[str, int]:
    found: dict[str, int] = {}
    for lines in assignments.values():
        for sku, quantity in lines.items():
            found[sku] = found.get(sku, 0) + quantity
    return found


async def split_stock(api: Api) -> None:
    """Neither node holds the whole order of 4 KETTLE-01 and 1 TOASTER-02."""
    await put_node(api, "BERLIN-1")
    await put_node(api, "MUNICH-1", region="DE-BY")
    await set_stock(
        api,
        [("BERLIN-1", "KETTLE-01", 3), ("MUNICH-1", "KETTLE-01", 2), ("MUNICH-1", "TOASTER-02", 1)],
    )


SPLIT_ORDER = [("KETTLE-01", 4), ("TOASTER-02", 1)]


async def test_an_order_no_single_node_holds_is_split(api: Api) -> None:
    await split_stock(api)
    order = await create(api, SPLIT_ORDER)
    assert order["status"] == "ROUTED"
    routing = order["routing"]
    shipped = assigned(order)
    assert sorted(shipped) == ["BERLIN-1", "MUNICH-1"]
    assert totals(shipped) == dict(SPLIT_ORDER)
    assert routing["explanation"].startswith("Split across ")
    assert routing["explanation"].endswith("no single node had every item in stock.")
    for code, candidate in candidates(order).items():
        assert (candidate["eligible"], candidate["partial"]) == (False, True), code
        assert candidate["components"]["split"] == 7.5  # 15 points shared by two nodes
    reserved = {key: held for key, (_, held) in (await stock_of(api)).items()}
    assert reserved == {(code, sku): shipped[code].get(sku, 0) for code, sku in reserved}


async def test_a_profile_without_splits_keeps_the_order_pending_and_versions_are_recorded(
    api: Api,
) -> None:
    await split_stock(api)
    before = await create(api, [("KETTLE-01", 1)], **customer(1))
    assert before["routing"]["profileVersion"] == 0  # the defaults, until a profile is set
    assert (await set_profile(api, allowSplit=False))["version"] == 1
    order = await create(api, SPLIT_ORDER, **customer(2))
    assert order["status"] == "PENDING"
    assert order["routing"]["reasonCode"] == "SPLIT_NOT_ALLOWED"
    assert order["routing"]["profileVersion"] == 1
    assert "split shipments are not allowed" in order["routing"]["explanation"]
    assert (await set_profile(api, allowSplit=True, maxSplit=2))["version"] == 2
    payload = await reroute(api, order["id"])
    assert payload["userErrors"] == []
    routed = payload["order"]
    assert routed["status"] == "ROUTED"
    assert [(d["sequence"], d["routed"]) for d in routed["routingHistory"]] == [
        (1, False),
        (2, True),
    ]
    assert routed["routing"]["profileVersion"] == 2
    assert routed["routing"]["trigger"] == "REROUTE"


@pytest.mark.parametrize(
    ("max_split", "status", "reason_code"),
    [(2, "PENDING", "SPLIT_TOO_WIDE"), (3, "ROUTED", None)],
)
async def test_max_split_bounds_how_many_nodes_ship_one_order(
    api: Api, max_split: int, status: str, reason_code: str | None
) -> None:
    skus = ["KETTLE-01", "TOASTER-02", "MIXER-03"]
    for index, sku in enumerate(skus):
        await put_node(api, f"NODE-{index}")
        await set_stock(api, [(f"NODE-{index}", sku, 5)])
    await set_profile(api, maxSplit=max_split)
    order = await create(api, [(sku, 1) for sku in skus])
    assert (order["status"], order["routing"]["reasonCode"]) == (status, reason_code)
    if status == "ROUTED":
        assert assigned(order) == {f"NODE-{i}": {sku: 1} for i, sku in enumerate(skus)}
    else:
        assert "split across at most 2" in order["routing"]["explanation"]


# ---------------------------------------------------------------- waiting for stock


async def pending_for_stock(api: Api) -> dict[str, Any]:
    await put_node(api, "BERLIN-1")
    order = await create(api, [("KETTLE-01", 2)])
    assert (order["status"], order["routing"]["reasonCode"]) == ("PENDING", "NO_STOCK")
    return order


def check_routed_after_retry(order: dict[str, Any]) -> None:
    assert order["status"] == "ROUTED", order["routing"]
    assert assigned(order) == {"BERLIN-1": {"KETTLE-01": 2}}
    assert order["routing"]["trigger"] == "RETRY"
    history = [(d["sequence"], d["routed"]) for d in order["routingHistory"]]
    assert history == [(1, False), (2, True)]
    assert [e["type"] for e in order["events"]] == ["CREATED", "ROUTING_PENDING", "ROUTED"]


async def test_a_pending_order_is_routed_when_stock_arrives(api: Api) -> None:
    order = await pending_for_stock(api)
    assert await run_intake(api) == 0  # waiting for stock is not due work
    payload = await set_stock(api, [("BERLIN-1", "KETTLE-01", 5)])
    assert (payload["changed"], payload["ordersWoken"]) == (1, 1)
    assert (await order_of(api, order["id"]))["status"] == "PENDING"  # the worker routes it
    assert await run_intake(api) == 1
    check_routed_after_retry(await order_of(api, order["id"]))
    assert await stock_of(api) == {("BERLIN-1", "KETTLE-01"): (5, 2)}
    assert await run_intake(api) == 0  # its job is gone


@pytest.fixture
async def live_api(settings: Settings) -> AsyncIterator[Api]:
    """Like `api`, with the app's lifespan running: its intake worker polls every 0.1 s."""
    app = create_app(settings.model_copy(update={"intake_poll_seconds": 0.1}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
            yield Api(http)


async def wait_for(api: Api, order_id: str, status: str, seconds: float = 10.0) -> dict[str, Any]:
    """The order once it has `status`, or as it is when `seconds` have passed."""
    deadline = time.monotonic() + seconds
    while True:
        order = await order_of(api, order_id)
        if order["status"] == status or time.monotonic() > deadline:
            return order
        await asyncio.sleep(0.1)


async def test_the_background_worker_routes_a_woken_order(live_api: Api) -> None:
    order = await pending_for_stock(live_api)
    payload = await set_stock(live_api, [("BERLIN-1", "KETTLE-01", 5)])
    assert payload["ordersWoken"] == 1
    check_routed_after_retry(await wait_for(live_api, order["id"], "ROUTED"))


async def test_too_little_new_stock_keeps_the_order_waiting(api: Api) -> None:
    order = await pending_for_stock(api)
    await set_stock(api, [("BERLIN-1", "KETTLE-01", 1)])
    assert await run_intake(api) == 1
    waiting = await order_of(api, order["id"])
    assert waiting["status"] == "PENDING"
    assert waiting["routing"]["explanation"] == (
        "Not routed: only 1 of 2 KETTLE-01 is in stock across all nodes."
    )
    await set_stock(api, [("BERLIN-1", "KETTLE-01", 2)])
    assert await run_intake(api) == 1
    assert (await order_of(api, order["id"]))["status"] == "ROUTED"


# ---------------------------------------------------------------- re-routing


async def test_reroute_moves_the_order_to_a_better_node_and_keeps_its_history(
    api: Api,
) -> None:
    await put_node(api, "BERLIN-1")
    await put_node(api, "MUNICH-1", baseCost="3.00", region="DE-BY")
    await set_stock(api, [("BERLIN-1", "KETTLE-01", 5)])
    order = await create(api, [("KETTLE-01", 2)])
    assert list(assigned(order)) == ["BERLIN-1"]
    woken = await set_stock(api, [("MUNICH-1", "KETTLE-01", 5)])
    assert woken["ordersWoken"] == 0  # a routed order waits for no stock
    payload = await reroute(api, order["id"])
    assert payload["userErrors"] == []
    moved = payload["order"]
    assert moved["status"] == "ROUTED"
    assert assigned(moved) == {"MUNICH-1": {"KETTLE-01": 2}}
    assert [(d["sequence"], d["routed"], d["settlement"]) for d in moved["routingHistory"]] == [
        (1, True, "released"),
        (2, True, None),
    ]
    assert moved["events"][-1]["type"] == "REROUTED"
    assert await stock_of(api) == {
        ("BERLIN-1", "KETTLE-01"): (5, 0),
        ("MUNICH-1", "KETTLE-01"): (5, 2),
    }
    assert (await order_of(api, order["id"]))["routingHistory"] == moved["routingHistory"]


async def test_only_merchant_admins_reroute(api: Api) -> None:
    await put_node(api, "BERLIN-1")
    await set_stock(api, [("BERLIN-1", "KETTLE-01", 5)])
    order = await create(api, [("KETTLE-01", 2)])
    response = await api.graphql(REROUTE, {"id": order["id"]}, as_client="acme-shop")
    body = response.json()
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    unchanged = await order_of(api, order["id"])
    assert len(unchanged["routingHistory"]) == 1


async def test_a_cancelled_order_cannot_be_rerouted(api: Api) -> None:
    await put_node(api, "BERLIN-1")
    await set_stock(api, [("BERLIN-1", "KETTLE-01", 5)])
    order = await create(api, [("KETTLE-01", 2)])
    await cancel(api, order["id"])
    payload = await reroute(api, order["id"])
    assert error_fields(payload) == [(["input", "orderId"], "INVALID_STATE")]


async def order_at_capacity_one(api: Api) -> dict[str, Any]:
    await put_node(api, "BERLIN-1", dailyCapacity=1)
    await set_stock(api, [("BERLIN-1", "KETTLE-01", 5)])
    order = await create(api, [("KETTLE-01", 2)], **customer(1))
    assert list(assigned(order)) == ["BERLIN-1"]
    return order


async def test_reroute_with_nothing_changed_keeps_the_order_on_its_node(api: Api) -> None:
    order = await order_at_capacity_one(api)
    moved = (await reroute(api, order["id"]))["order"]
    assert moved["status"] == "ROUTED", moved["routing"]  # not "at daily capacity (1/1)"
    assert list(assigned(moved)) == ["BERLIN-1"]


async def test_a_cancelled_order_gives_its_capacity_back(api: Api) -> None:
    order = await order_at_capacity_one(api)
    await cancel(api, order["id"])
    second = await create(api, [("KETTLE-01", 2)], **customer(2))
    assert second["status"] == "ROUTED", second["routing"]


# ---------------------------------------------------------------- settling reservations


async def routed_order(api: Api) -> dict[str, Any]:
    await put_node(api, "BERLIN-1")
    await set_stock(api, [("BERLIN-1", "KETTLE-01", 5), ("BERLIN-1", "TOASTER-02", 5)])
    order = await create(api, [("KETTLE-01", 2), ("TOASTER-02", 1)])
    assert await stock_of(api) == {
        ("BERLIN-1", "KETTLE-01"): (5, 2),
        ("BERLIN-1", "TOASTER-02"): (5, 1),
    }
    return order


async def settlement_of(api: Api, order_id: str) -> str | None:
    settlement: str | None = (await order_of(api, order_id))["routing"]["settlement"]
    return settlement


async def test_cancelling_gives_the_reservation_back(api: Api) -> None:
    order = await routed_order(api)
    assert (await cancel(api, order["id"]))["userErrors"] == []
    assert await stock_of(api) == {
        ("BERLIN-1", "KETTLE-01"): (5, 0),
        ("BERLIN-1", "TOASTER-02"): (5, 0),
    }
    assert await settlement_of(api, order["id"]) == "released"


async def test_shipping_takes_the_units_out_of_stock_once(api: Api) -> None:
    order = await routed_order(api)
    for status in ("SHIPPED", "DELIVERED"):
        assert (await fulfil(api, order["id"], status))["userErrors"] == []
        assert await stock_of(api) == {
            ("BERLIN-1", "KETTLE-01"): (3, 0),
            ("BERLIN-1", "TOASTER-02"): (4, 0),
        }
    assert await settlement_of(api, order["id"]) == "shipped"


async def test_a_partial_cancel_gives_back_only_the_cancelled_units(api: Api) -> None:
    order = await routed_order(api)
    await cancel(api, order["id"], lines=[{"sku": "KETTLE-01", "quantity": 1}])
    assert await stock_of(api) == {
        ("BERLIN-1", "KETTLE-01"): (5, 1),
        ("BERLIN-1", "TOASTER-02"): (5, 1),
    }
    assert await settlement_of(api, order["id"]) is None  # the rest is still reserved


async def test_shipping_after_a_partial_cancel_takes_only_what_is_left(api: Api) -> None:
    order = await routed_order(api)
    await cancel(api, order["id"], lines=[{"sku": "KETTLE-01", "quantity": 1}])
    await fulfil(api, order["id"], "SHIPPED")
    assert await stock_of(api) == {
        ("BERLIN-1", "KETTLE-01"): (4, 0),
        ("BERLIN-1", "TOASTER-02"): (4, 0),
    }
