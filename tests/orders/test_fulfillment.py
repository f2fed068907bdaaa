"""updateFulfillment: forward only along PENDING/ROUTED -> FULFILLING -> SHIPPED -> DELIVERED."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
from tests.orders.conftest import Db
from tests.orders.documents import cancel, create_order, fulfil, get_order

STATUSES = ["PENDING", "ON_HOLD", "ROUTED", "FULFILLING", "SHIPPED", "DELIVERED", "CANCELLED"]
FORWARD = ["PENDING", "ROUTED", "FULFILLING", "SHIPPED", "DELIVERED"]
TARGETS = {"FULFILLING", "SHIPPED", "DELIVERED"}


def expected_error(start: str, target: str) -> str | None:
    """The userError code the contract calls for, or None when the move is allowed."""
    if target not in TARGETS:
        return "INVALID"  # not a fulfilment status at all
    if start not in FORWARD:
        return "INVALID_STATE"  # ON_HOLD must be released first; CANCELLED is final
    if FORWARD.index(target) > FORWARD.index(start):
        return None
    return "INVALID_STATE"  # backward or sideways


async def order_in(api: Api, db: Db, status: str) -> Any:
    """A new order in `status`, reached through the API where a mutation leads there."""
    order = await create_order(api)
    if status in ("FULFILLING", "SHIPPED", "DELIVERED"):
        payload = await fulfil(api, order["id"], status)
        assert payload["userErrors"] == []
    elif status == "CANCELLED":
        assert (await cancel(api, order["id"]))["userErrors"] == []
    elif status != "PENDING":
        await db.set_status(order["id"], status)  # no mutation routes or holds orders yet
    order = await get_order(api, order["id"])
    assert order["status"] == status
    return order


@pytest.mark.parametrize("start", STATUSES)
async def test_every_transition_from(api: Api, db: Db, start: str) -> None:
    for target in STATUSES:
        before = await order_in(api, db, start)
        payload = await fulfil(api, before["id"], target, tracking_number="1Z999", carrier="UPS")
        error = expected_error(start, target)
        if error is None:
            assert payload["userErrors"] == [], (start, target)
            after = payload["order"]
            assert after["status"] == target
            assert after["trackingNumber"] == "1Z999"
            assert after["carrier"] == "UPS"
            assert len(after["events"]) == len(before["events"]) + 1
            event = after["events"][-1]
            assert event["type"] == "FULFILLMENT_UPDATED"
            assert event["actor"] == "acme/acme-shop"
            assert event["message"] == f"{start} -> {target}"
            assert after["updatedAt"] == event["at"] > before["updatedAt"]
            assert after["lines"] == before["lines"]
        else:
            assert payload["order"] is None, (start, target)
            assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
                (error, ["input", "status"])
            ], (start, target)
            assert await get_order(api, before["id"]) == before, (start, target)


async def test_the_whole_way_with_tracking(api: Api) -> None:
    order = await create_order(api)
    fulfilling = await fulfil(api, order["id"], "FULFILLING", as_client="acme-backend")
    assert fulfilling["order"]["trackingNumber"] is None
    shipped = await fulfil(api, order["id"], "SHIPPED", tracking_number="JD0001", carrier="DHL")
    assert (shipped["order"]["trackingNumber"], shipped["order"]["carrier"]) == ("JD0001", "DHL")
    delivered = await fulfil(api, order["id"], "DELIVERED")
    after = delivered["order"]
    assert after["status"] == "DELIVERED"
    assert (after["trackingNumber"], after["carrier"]) == ("JD0001", "DHL")  # kept
    assert [(e["type"], e["actor"], e["message"]) for e in after["events"]] == [
        ("CREATED", "acme/acme-shop", None),
        ("FULFILLMENT_UPDATED", "acme/acme-backend", "PENDING -> FULFILLING"),
        ("FULFILLMENT_UPDATED", "acme/acme-shop", "FULFILLING -> SHIPPED"),
        ("FULFILLMENT_UPDATED", "acme/acme-shop", "SHIPPED -> DELIVERED"),
    ]
    ats = [e["at"] for e in after["events"]]
    assert ats == sorted(ats)


async def test_partly_cancelled_order_ships_the_rest(api: Api) -> None:
    order = await create_order(api)
    await cancel(api, order["id"], lines=[{"sku": "KETTLE-1", "quantity": 2}])
    shipped = await fulfil(api, order["id"], "SHIPPED")
    assert shipped["userErrors"] == []
    assert shipped["order"]["status"] == "SHIPPED"
    assert [x["cancelledQuantity"] for x in shipped["order"]["lines"]] == [2, 0]


async def test_bad_tracking_and_carrier(api: Api) -> None:
    order = await create_order(api)
    for name, value in (
        ("trackingNumber", "x" * 101),
        ("trackingNumber", ""),
        ("trackingNumber", "1Z\n99"),
        ("carrier", "c" * 101),
        ("carrier", "U\tPS"),
    ):
        kwargs = {"tracking_number" if name == "trackingNumber" else "carrier": value}
        payload = await fulfil(api, order["id"], "SHIPPED", **kwargs)
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
            ("INVALID", ["input", name])
        ], (name, value)
    assert await get_order(api, order["id"]) == order


async def test_unknown_order_is_not_found(api: Api) -> None:
    for order_id in ("garbage", "T3JkZXI6MDFhMjIxNmYtMmExOS03NzZlLThiYjctZTc0YmM3MzU4OGE4"):
        payload = await fulfil(api, order_id, "SHIPPED")
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
            ("NOT_FOUND", ["input", "orderId"])
        ]
