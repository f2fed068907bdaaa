"""Stock changes are administrative acts: each call writes one audit entry in the log of
the merchant whose stock it is (a CSV import: one per batch, tests/manifests)."""

from __future__ import annotations

from typing import Any

from tests.audit.test_audit_log import _entries
from tests.conftest import Api
from tests.routing.documents import SET_STOCK, put_node, set_stock


def stock_entries(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in entries if e["act"] == "stock.set"]


def level(node: str, sku: str, before: int | None, after: int) -> dict[str, Any]:
    return {"node": node, "sku": sku, "from": before, "to": after}


async def test_each_actor_kinds_stock_change_is_one_entry_in_the_merchants_log(api: Api) -> None:
    await put_node(api, "BERLIN-1")
    await put_node(api, "SWIFT-1", as_client="swiftship-admin", merchant="acme", region="DE-BY")

    # A merchant operator, a partner's operator (its own node for acme), a platform admin.
    await set_stock(
        api, [("BERLIN-1", "KETTLE-01", 5), ("BERLIN-1", "TOASTER-2", 3)], as_client="acme-shop"
    )
    await set_stock(api, [("SWIFT-1", "KETTLE-01", 8)], as_client="swiftship-tms", merchant="acme")
    await set_stock(api, [("BERLIN-1", "KETTLE-01", 4)], as_client="ops-admin", merchant="acme")
    # Counts that change nothing are no act; a refused call leaves nothing either.
    unchanged = await set_stock(api, [("BERLIN-1", "KETTLE-01", 4)], as_client="acme-shop")
    assert unchanged["changed"] == 0
    refused = await api.data(
        SET_STOCK,
        {
            "input": {
                "levels": [
                    {"node": "BERLIN-1", "sku": "GRILL-3", "onHand": 1},
                    {"node": "NOWHERE", "sku": "GRILL-3", "onHand": 1},
                ]
            }
        },
        as_client="acme-shop",
    )
    assert refused["setStockLevels"]["userErrors"], refused  # type: ignore[index]

    merchant_admin = stock_entries(await _entries(api, "acme-backend"))
    assert [(e["actor"], e["objectType"], e["objectId"], e["detail"]) for e in merchant_admin] == [
        (
            "ops/ops-admin",
            "Stock",
            "acme",
            {"changed": 1, "nodes": ["BERLIN-1"], "levels": [level("BERLIN-1", "KETTLE-01", 5, 4)]},
        ),
        (
            "swiftship/swiftship-tms",
            "Stock",
            "acme",
            {
                "changed": 1,
                "nodes": ["SWIFT-1"],
                "levels": [level("SWIFT-1", "KETTLE-01", None, 8)],
            },
        ),
        (
            "acme/acme-shop",
            "Stock",
            "acme",
            {
                "changed": 2,
                "nodes": ["BERLIN-1"],
                "levels": [
                    level("BERLIN-1", "KETTLE-01", None, 5),
                    level("BERLIN-1", "TOASTER-2", None, 3),
                ],
            },
        ),
    ]
    assert all(e["tenant"]["handle"] == "acme" for e in merchant_admin)
    # The platform admin reads them in acme's log; nobody else's log holds them.
    assert stock_entries(await _entries(api, "ops-admin", "acme")) == merchant_admin
    for other in ("globex-backend", "swiftship-admin"):
        assert stock_entries(await _entries(api, other)) == [], other


async def test_a_large_stock_take_is_one_bounded_entry(api: Api) -> None:
    for code in ("A-1", "B-1"):
        await put_node(api, code)
    levels = [(node, f"SKU-{index:03}", index) for node in ("A-1", "B-1") for index in range(120)]

    payload = await set_stock(api, levels)

    assert payload["changed"] == 240
    [entry] = stock_entries(await _entries(api, "acme-backend"))
    detail = entry["detail"]
    assert (detail["changed"], detail["nodes"], detail["moreLevels"]) == (240, ["A-1", "B-1"], 220)
    assert detail["levels"] == [level("A-1", f"SKU-{i:03}", None, i) for i in range(20)]
    assert "moreNodes" not in detail
