"""Error messages quote at most a short prefix of what was sent; node codes are one per
merchant regardless of case, through the API, manifests and stock files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import Api
from tests.manifests.conftest import Cli, workdir, write_manifest  # noqa: F401
from tests.manifests.test_fulfilment_sections import (
    apply,
    apply_demo_fulfilment,
    edited,
    load_problems,
    nodes_seen,
)
from tests.orders.documents import CANCEL_ORDER, CREATE_ORDER, create_order, order_input
from tests.routing.documents import PUT_NODE, SET_STOCK, node_input
from tests.sla.helpers import SET_SLA
from tests.tenancy.helpers import CREATE_API_CLIENT

MEGABYTE = "X" * 1_000_000
SMALL_ANSWER = 4_000  # bytes


async def _answer(api: Api, query: str, variables: dict[str, Any], client: str) -> str:
    response = await api.graphql(query, variables, as_client=client)
    assert response.status_code < 500, response.text[:500]
    assert len(response.content) < SMALL_ANSWER, (len(response.content), response.text[:500])
    return response.text


async def test_no_answer_echoes_a_megabyte(api: Api) -> None:
    order = await create_order(api, as_client="acme-backend")
    rates = [{"region": MEGABYTE, "amount": "1.00"}]
    bad_address = order_input()
    bad_address["shippingAddress"]["country"] = MEGABYTE
    for query, variables in (
        (PUT_NODE, {"input": node_input("BERLIN-1", region=MEGABYTE)}),
        (PUT_NODE, {"input": node_input("BERLIN-1", currency=MEGABYTE)}),
        (PUT_NODE, {"input": node_input("BERLIN-1", regionsServed=[MEGABYTE])}),
        (PUT_NODE, {"input": node_input("BERLIN-1", regionRates=rates)}),
        (PUT_NODE, {"input": node_input("BERLIN-1", baseCost=MEGABYTE)}),
        (CREATE_ORDER, {"input": order_input(currency=MEGABYTE)}),
        (CREATE_ORDER, {"input": bad_address}),
        (
            CANCEL_ORDER,
            {"input": {"orderId": order["id"], "lines": [{"sku": MEGABYTE, "quantity": 1}]}},
        ),
        (SET_STOCK, {"input": {"levels": [{"node": MEGABYTE, "sku": "A", "onHand": 1}]}}),
        ("query Q($at: DateTime) { slaReport(since: $at) { since } }", {"at": MEGABYTE}),
        (CREATE_API_CLIENT, {"input": {"clientId": "acme-new", "roles": [MEGABYTE]}}),
    ):
        text = await _answer(api, query, variables, "acme-backend")
        assert "XXXXXXXXXX" in text, text[:500]  # a prefix is quoted...
        assert "XXXXXXXXXX" * 10 not in text, text[:500]  # ...and no more
    latency = [{"operation": MEGABYTE, "ms": 100}]
    text = await _answer(
        api, SET_SLA, {"input": {"tenant": "acme", "latencyP95Ms": latency}}, "ops-admin"
    )
    assert "XXXXXXXXXX" in text, text[:500]
    assert "XXXXXXXXXX" * 10 not in text, text[:500]


async def test_a_code_in_another_case_is_the_same_node(api: Api) -> None:
    first = (
        await api.data(PUT_NODE, {"input": node_input("hamburg-1")}, as_client="acme-backend")
    )["putFulfillmentNode"]
    assert first["created"] is True
    again = (
        await api.data(
            PUT_NODE,
            {"input": node_input("HAMBURG-1", dailyCapacity=7)},
            as_client="acme-backend",
        )
    )["putFulfillmentNode"]
    assert again["userErrors"] == [], again
    assert again["created"] is False
    nodes = await nodes_seen(api, "acme-backend")
    assert [(n["code"], n["dailyCapacity"]) for n in nodes] == [("HAMBURG-1", 7)]
    # Stock names the node in any case; the same level twice in one call is refused.
    stock = await api.data(
        SET_STOCK,
        {"input": {"levels": [{"node": "Hamburg-1", "sku": "A", "onHand": 3}]}},
        as_client="acme-backend",
    )
    assert stock["setStockLevels"]["userErrors"] == [], stock
    twice = await api.data(
        SET_STOCK,
        {
            "input": {
                "levels": [
                    {"node": "hamburg-1", "sku": "A", "onHand": 4},
                    {"node": "HAMBURG-1", "sku": "A", "onHand": 5},
                ]
            }
        },
        as_client="acme-backend",
    )
    assert [e["field"] for e in twice["setStockLevels"]["userErrors"]] == [
        ["input", "levels", "1", "sku"]
    ], twice
    nodes = await nodes_seen(api, "acme-backend")
    assert [(s["sku"], s["onHand"]) for s in nodes[0]["stock"]] == [("A", 3)]


async def test_a_partners_node_cannot_be_taken_in_another_case(
    database_url: str,
    workdir: Path,  # noqa: F811
    api: Api,
) -> None:
    await apply_demo_fulfilment(database_url, workdir)
    # HAMBURG-SWIFT is operated by swiftship: acme cannot put its own node under that code.
    body = (
        await api.graphql(
            PUT_NODE, {"input": node_input("hamburg-swift")}, as_client="acme-backend"
        )
    ).json()
    errors = body["data"]["putFulfillmentNode"]["userErrors"]
    assert [(e["field"], e["code"]) for e in errors] == [(["input", "code"], "FORBIDDEN")], body
    codes = sorted(n["code"] for n in await nodes_seen(api, "acme-backend"))
    assert codes == ["BERLIN-1", "HAMBURG-SWIFT", "MUNICH-1"]
    # The same through a manifest.
    data = edited(("routing.0.nodes.2.code", "Hamburg-Swift"))
    del data["routing"][0]["nodes"][2]["operator"]
    result = await apply(database_url, workdir, write_manifest(workdir / "x.yaml", data))
    assert result.code != 0, result
    assert "Hamburg-Swift is operated by another tenant" in result.err, result
    # A stock file may name the node in any case.
    (workdir / "stock.csv").write_text("node,sku,on_hand\nberlin-1,KETTLE-1,41\n")
    result = await Cli(database_url, workdir).call(
        "inventory", "import", "stock.csv", "--merchant", "acme"
    )
    assert result.code == 0, result
    nodes = {n["code"]: n for n in await nodes_seen(api, "acme-backend")}
    assert {s["sku"]: s["onHand"] for s in nodes["BERLIN-1"]["stock"]}["KETTLE-1"] == 41


def test_a_manifest_declares_a_code_once_in_any_case(tmp_path: Path) -> None:
    problems = load_problems(tmp_path, edited(("routing.0.nodes.1.code", "berlin-1")))
    assert problems == ["x.yaml: routing[0].nodes[1].code: berlin-1 appears twice"], problems
