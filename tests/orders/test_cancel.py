"""cancelOrder: whole orders, given quantities of given lines, double and concurrent cancels."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.conftest import Api
from tests.orders.conftest import Db
from tests.orders.documents import (
    cancel,
    create_order,
    error_codes,
    fulfil,
    get_order,
    line,
)

# KETTLE-1: 2 x 19.90, TOASTER-2: 1 x 49.00; total 88.80.


def cancelled(order: Any) -> dict[str, int]:
    return {x["sku"]: x["cancelledQuantity"] for x in order["lines"]}


def event_types(order: Any) -> list[str]:
    return [e["type"] for e in order["events"]]


async def test_partial_cancel(api: Api) -> None:
    order = await create_order(api)
    payload = await cancel(
        api, order["id"], reason="out of stock", lines=[{"sku": "KETTLE-1", "quantity": 1}]
    )
    assert payload["userErrors"] == []
    after = payload["order"]
    assert after["status"] == "PENDING"
    assert cancelled(after) == {"KETTLE-1": 1, "TOASTER-2": 0}
    assert [x["quantity"] for x in after["lines"]] == [2, 1]
    assert after["total"] == "68.90"
    assert after["cancelReason"] == "out of stock"
    assert event_types(after) == ["CREATED", "LINES_CANCELLED"]
    event = after["events"][-1]
    assert event["actor"] == "acme/acme-shop"
    assert event["message"] == "out of stock"
    assert after["updatedAt"] == event["at"] > order["updatedAt"]
    assert await get_order(api, order["id"]) == after


async def test_partial_cancels_add_up_to_a_cancelled_order(api: Api) -> None:
    order = await create_order(api)
    steps = [
        [{"sku": "KETTLE-1", "quantity": 1}],
        [{"sku": "TOASTER-2", "quantity": 1}],
        [{"sku": "KETTLE-1", "quantity": 1}],
    ]
    for step in steps[:-1]:
        payload = await cancel(api, order["id"], lines=step)
        assert payload["userErrors"] == []
        assert payload["order"]["status"] == "PENDING"
    last = await cancel(api, order["id"], lines=steps[-1], reason="customer changed mind")
    assert last["userErrors"] == []
    after = last["order"]
    assert after["status"] == "CANCELLED"
    assert cancelled(after) == {"KETTLE-1": 2, "TOASTER-2": 1}
    assert after["total"] == "0.00"
    assert after["cancelReason"] == "customer changed mind"
    assert event_types(after) == ["CREATED", "LINES_CANCELLED", "LINES_CANCELLED", "CANCELLED"]


async def test_cancelling_every_line_at_once_cancels_the_order(api: Api) -> None:
    order = await create_order(api)
    payload = await cancel(
        api,
        order["id"],
        lines=[{"sku": "TOASTER-2", "quantity": 1}, {"sku": "KETTLE-1", "quantity": 2}],
    )
    assert payload["userErrors"] == []
    assert payload["order"]["status"] == "CANCELLED"
    assert cancelled(payload["order"]) == {"KETTLE-1": 2, "TOASTER-2": 1}
    assert event_types(payload["order"]) == ["CREATED", "CANCELLED"]


async def test_whole_cancel(api: Api) -> None:
    order = await create_order(api)
    payload = await cancel(api, order["id"], reason="fraud", as_client="acme-backend")
    assert payload["userErrors"] == []
    after = payload["order"]
    assert after["status"] == "CANCELLED"
    assert cancelled(after) == {"KETTLE-1": 2, "TOASTER-2": 1}
    assert after["cancelReason"] == "fraud"
    assert after["total"] == "0.00"
    assert event_types(after) == ["CREATED", "CANCELLED"]
    assert after["events"][-1]["actor"] == "acme/acme-backend"
    assert after["events"][-1]["message"] == "fraud"


async def test_whole_cancel_after_a_partial_one(api: Api) -> None:
    order = await create_order(api)
    await cancel(api, order["id"], reason="first", lines=[{"sku": "KETTLE-1", "quantity": 1}])
    payload = await cancel(api, order["id"])
    assert payload["userErrors"] == []
    after = payload["order"]
    assert after["status"] == "CANCELLED"
    assert cancelled(after) == {"KETTLE-1": 2, "TOASTER-2": 1}
    assert after["cancelReason"] == "first"  # kept: the second cancel gave none
    assert event_types(after) == ["CREATED", "LINES_CANCELLED", "CANCELLED"]


async def test_double_cancel_is_invalid_state(api: Api) -> None:
    order = await create_order(api)
    first = await cancel(api, order["id"], reason="one")
    for attempt in (
        await cancel(api, order["id"], reason="two"),
        await cancel(api, order["id"], lines=[{"sku": "KETTLE-1", "quantity": 1}]),
    ):
        assert attempt["order"] is None
        assert [(e["code"], e["field"]) for e in attempt["userErrors"]] == [
            ("INVALID_STATE", ["input", "orderId"])
        ]
    assert await get_order(api, order["id"]) == first["order"]


@pytest.mark.parametrize("target", ["SHIPPED", "DELIVERED"])
async def test_no_cancel_once_shipped(api: Api, target: str) -> None:
    order = await create_order(api)
    shipped = (await fulfil(api, order["id"], target))["order"]
    for lines in (None, [{"sku": "KETTLE-1", "quantity": 1}]):
        payload = await cancel(api, order["id"], lines=lines)
        assert error_codes(payload) == ["INVALID_STATE"]
    assert await get_order(api, order["id"]) == shipped


@pytest.mark.parametrize("status", ["ROUTED", "ON_HOLD", "FULFILLING"])
async def test_cancel_before_shipping(api: Api, db: Db, status: str) -> None:
    whole, partial = await create_order(api), await create_order(api)
    for order in (whole, partial):
        await db.set_status(order["id"], status)
    payload = await cancel(api, whole["id"])
    assert payload["userErrors"] == []
    assert payload["order"]["status"] == "CANCELLED"
    payload = await cancel(api, partial["id"], lines=[{"sku": "TOASTER-2", "quantity": 1}])
    assert payload["userErrors"] == []
    assert payload["order"]["status"] == status
    assert cancelled(payload["order"]) == {"KETTLE-1": 0, "TOASTER-2": 1}


async def test_more_than_remains_is_invalid(api: Api) -> None:
    order = await create_order(api)
    await cancel(api, order["id"], lines=[{"sku": "KETTLE-1", "quantity": 1}])
    before = await get_order(api, order["id"])
    payload = await cancel(
        api,
        order["id"],
        lines=[{"sku": "TOASTER-2", "quantity": 1}, {"sku": "KETTLE-1", "quantity": 2}],
    )
    assert payload["order"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("INVALID", ["input", "lines", "1", "quantity"])
    ]
    assert await get_order(api, order["id"]) == before  # TOASTER-2 was not cancelled either


async def test_bad_cancel_lines(api: Api) -> None:
    order = await create_order(api)
    payload = await cancel(
        api,
        order["id"],
        lines=[
            {"sku": "NOPE", "quantity": 1},
            {"sku": "KETTLE-1", "quantity": 0},
            {"sku": "TOASTER-2", "quantity": -1},
            {"sku": "KETTLE-1", "quantity": 5},
            {"sku": "TOASTER-2", "quantity": 1},
        ],
    )
    assert payload["order"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("INVALID", ["input", "lines", "0", "sku"]),
        ("INVALID", ["input", "lines", "1", "quantity"]),
        ("INVALID", ["input", "lines", "2", "quantity"]),
        ("INVALID", ["input", "lines", "3", "quantity"]),
    ]
    duplicate = await cancel(
        api,
        order["id"],
        lines=[{"sku": "KETTLE-1", "quantity": 1}, {"sku": "KETTLE-1", "quantity": 1}],
    )
    assert [(e["code"], e["field"]) for e in duplicate["userErrors"]] == [
        ("INVALID", ["input", "lines", "1", "sku"])
    ]
    empty = await cancel(api, order["id"], lines=[])
    assert [(e["code"], e["field"]) for e in empty["userErrors"]] == [
        ("INVALID", ["input", "lines"])
    ]
    too_long = await cancel(api, order["id"], reason="r" * 501)
    assert [(e["code"], e["field"]) for e in too_long["userErrors"]] == [
        ("INVALID", ["input", "reason"])
    ]
    assert await get_order(api, order["id"]) == order


async def test_unknown_order_is_not_found(api: Api) -> None:
    order = await create_order(api)
    for order_id in ("garbage", "", order["id"][:-3]):
        payload = await cancel(api, order_id)
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
            ("NOT_FOUND", ["input", "orderId"])
        ]


async def test_concurrent_line_cancels_never_cancel_more_than_ordered(api: Api) -> None:
    order = await create_order(api, lines=[line("A", 3), line("B", 1)])
    await api.token("acme-shop")
    payloads = await asyncio.gather(
        *(cancel(api, order["id"], lines=[{"sku": "A", "quantity": 1}]) for _ in range(10))
    )
    ok = [p for p in payloads if p["userErrors"] == []]
    assert len(ok) == 3
    assert sorted(cancelled(p["order"])["A"] for p in ok) == [1, 2, 3]
    for p in payloads:
        if p["userErrors"]:
            assert error_codes(p) == ["INVALID"]
            assert p["order"] is None
    after = await get_order(api, order["id"])
    assert cancelled(after) == {"A": 3, "B": 0}
    assert after["status"] == "PENDING"
    assert event_types(after) == ["CREATED"] + ["LINES_CANCELLED"] * 3


async def test_concurrent_cancels_of_the_last_line(api: Api) -> None:
    order = await create_order(api, lines=[line("A", 3)])
    await api.token("acme-shop")
    payloads = await asyncio.gather(
        *(cancel(api, order["id"], lines=[{"sku": "A", "quantity": 1}]) for _ in range(10))
    )
    assert sum(p["userErrors"] == [] for p in payloads) == 3
    for p in payloads:
        if p["userErrors"]:
            assert error_codes(p) in (["INVALID"], ["INVALID_STATE"])
    after = await get_order(api, order["id"])
    assert cancelled(after) == {"A": 3}
    assert after["status"] == "CANCELLED"
    assert event_types(after) == ["CREATED", "LINES_CANCELLED", "LINES_CANCELLED", "CANCELLED"]


async def test_concurrent_whole_cancels(api: Api) -> None:
    order = await create_order(api)
    await api.token("acme-shop")
    payloads = await asyncio.gather(
        *(cancel(api, order["id"], reason=f"r{i}") for i in range(6)),
        *(cancel(api, order["id"], lines=[{"sku": "KETTLE-1", "quantity": 2}]) for _ in range(4)),
    )
    succeeded = [p for p in payloads if p["userErrors"] == []]
    assert 1 <= len(succeeded) <= 2
    after = await get_order(api, order["id"])
    assert after["status"] == "CANCELLED"
    assert cancelled(after) == {"KETTLE-1": 2, "TOASTER-2": 1}
    assert len(after["events"]) == 1 + len(succeeded)
    assert after["events"][-1]["type"] == "CANCELLED"
