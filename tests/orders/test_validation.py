"""createOrder validation: one userError per bad value, its path, code INVALID, nothing written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Api
from tests.orders.conftest import Db
from tests.orders.documents import (
    CREATE_ORDER,
    create_order,
    create_payload,
    line,
    list_orders,
    order_input,
)

Change = Callable[[dict[str, Any]], None]


def _set(*path: str | int, value: Any) -> Change:
    def change(data: dict[str, Any]) -> None:
        target: Any = data
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return change


def _lines(count: int) -> Change:
    return _set("lines", value=[line(f"SKU-{i}", 1) for i in range(count)])


def _currency_and_price(currency: str, price: str) -> Change:
    def change(data: dict[str, Any]) -> None:
        data["currency"] = currency
        data["lines"] = [line("A", 1, "1"), line("B", 1, price)]

    return change


LINE_1 = ("input", "lines", "1")

# (id, change to the valid base input, path of the one userError it causes)
BAD_VALUES: list[tuple[str, Change, tuple[str, ...]]] = [
    ("no-lines", _lines(0), ("input", "lines")),
    # 251 lines never reach validation: the gateway refuses input lists over 250
    # (QUERY_REJECTED, tests/graphql).
    ("sku-empty", _set("lines", 1, "sku", value=""), (*LINE_1, "sku")),
    ("sku-65", _set("lines", 1, "sku", value="S" * 65), (*LINE_1, "sku")),
    ("sku-tab", _set("lines", 1, "sku", value="A\tB"), (*LINE_1, "sku")),
    ("sku-newline", _set("lines", 1, "sku", value="AB\n"), (*LINE_1, "sku")),
    ("sku-line-separator", _set("lines", 1, "sku", value="A\u2028B"), (*LINE_1, "sku")),
    ("sku-duplicate", _set("lines", 1, "sku", value="KETTLE-1"), (*LINE_1, "sku")),
    ("quantity-0", _set("lines", 1, "quantity", value=0), (*LINE_1, "quantity")),
    ("quantity-negative", _set("lines", 1, "quantity", value=-3), (*LINE_1, "quantity")),
    ("quantity-100001", _set("lines", 1, "quantity", value=100_001), (*LINE_1, "quantity")),
    ("price-negative", _set("lines", 1, "unitPrice", value="-0.01"), (*LINE_1, "unitPrice")),
    ("price-eur-3-decimals", _currency_and_price("EUR", "19.999"), (*LINE_1, "unitPrice")),
    ("price-jpy-decimals", _currency_and_price("JPY", "100.5"), (*LINE_1, "unitPrice")),
    ("price-kwd-4-decimals", _currency_and_price("KWD", "1.2345"), (*LINE_1, "unitPrice")),
    ("price-eur-tiny", _currency_and_price("EUR", "0.0000001"), (*LINE_1, "unitPrice")),
    ("price-too-large", _set("lines", 1, "unitPrice", value="100000000.01"), (*LINE_1, "unitPrice")),
    ("currency-lower", _set("currency", value="eur"), ("input", "currency")),
    ("currency-4-letters", _set("currency", value="EURO"), ("input", "currency")),
    ("currency-unknown", _set("currency", value="ABC"), ("input", "currency")),
    ("currency-empty", _set("currency", value=""), ("input", "currency")),
    ("currency-no-money", _set("currency", value="XXX"), ("input", "currency")),
    ("country-lower", _set("shippingAddress", "country", value="de"), ("input", "shippingAddress", "country")),
    ("country-alpha-3", _set("shippingAddress", "country", value="DEU"), ("input", "shippingAddress", "country")),
    ("country-uk", _set("shippingAddress", "country", value="UK"), ("input", "shippingAddress", "country")),
    ("country-unknown", _set("shippingAddress", "country", value="XX"), ("input", "shippingAddress", "country")),
    ("country-empty", _set("shippingAddress", "country", value=""), ("input", "shippingAddress", "country")),
    ("email-no-at", _set("customerEmail", value="jane.example.com"), ("input", "customerEmail")),
    ("email-no-domain", _set("customerEmail", value="jane@"), ("input", "customerEmail")),
    ("email-no-local", _set("customerEmail", value="@example.com"), ("input", "customerEmail")),
    ("email-no-tld", _set("customerEmail", value="jane@example"), ("input", "customerEmail")),
    ("email-space", _set("customerEmail", value="jane doe@example.com"), ("input", "customerEmail")),
    ("email-two-ats", _set("customerEmail", value="jane@@example.com"), ("input", "customerEmail")),
    ("email-empty", _set("customerEmail", value=""), ("input", "customerEmail")),
    ("external-id-256", _set("externalId", value="e" * 256), ("input", "externalId")),
    ("line1-blank", _set("shippingAddress", "line1", value="  "), ("input", "shippingAddress", "line1")),
    ("city-blank", _set("shippingAddress", "city", value=""), ("input", "shippingAddress", "city")),
    ("channel-65", _set("channel", value="c" * 65), ("input", "channel")),
]  # fmt: skip


async def test_each_bad_value_is_one_user_error_and_nothing_is_written(api: Api) -> None:
    # One test over every case: each client token costs an argon2 check, each test a database.
    for created, (name, change, field) in enumerate(BAD_VALUES):
        bad = order_input()
        change(bad)
        key = f"retry-{name}"
        payload = await create_payload(api, bad, key=key)
        assert payload["order"] is None, name
        errors = payload["userErrors"]
        assert [(e["code"], e["field"]) for e in errors] == [("INVALID", list(field))], name
        assert errors[0]["message"], name
        # Nothing written: no order, and the key was not stored with the failed input.
        assert len(await list_orders(api)) == created, name
        retried = await create_payload(api, order_input(), key=key)
        assert retried["userErrors"] == [], name
        assert retried["order"]["status"] == "PENDING", name
        assert len(await list_orders(api)) == created + 1, name


async def test_every_bad_value_is_reported_at_once(api: Api, db: Db) -> None:
    bad = order_input(
        currency="EURO",
        customerEmail="nope",
        externalId="x" * 300,
        lines=[
            line("", 1),
            line("OK-1", 0),
            line("OK-2", 1, "-1"),
            line("OK-3", 2),
            line("\x07", 100_001, "100000001"),
        ],
    )
    bad["shippingAddress"]["country"] = "ZZ"
    payload = await create_payload(api, bad)
    assert payload["order"] is None
    errors = payload["userErrors"]
    assert {e["code"] for e in errors} == {"INVALID"}
    assert sorted(tuple(e["field"]) for e in errors) == sorted(
        [
            ("input", "currency"),
            ("input", "customerEmail"),
            ("input", "externalId"),
            ("input", "shippingAddress", "country"),
            ("input", "lines", "0", "sku"),
            ("input", "lines", "1", "quantity"),
            ("input", "lines", "2", "unitPrice"),
            ("input", "lines", "4", "sku"),
            ("input", "lines", "4", "quantity"),
            ("input", "lines", "4", "unitPrice"),
        ]
    )
    assert await db.order_count() == 0


async def test_boundary_values_are_accepted(api: Api) -> None:
    sku_64 = "S" * 63 + "é"
    order = await create_order(
        api,
        externalId="e" * 255,
        customerEmail=None,
        lines=[
            line(sku_64, 1, "0"),
            line("MAX", 100_000, "0.01"),
            line("TRAILING-ZEROS", 1, "19.900"),
            line("INTEGER", 1, "100"),
            line("with spaces & symbols #1/2", 3, "19.9"),
        ],
    )
    assert order["status"] == "PENDING"
    assert order["externalId"] == "e" * 255
    assert order["customerEmail"] is None
    assert [(x["sku"], x["quantity"], x["unitPrice"]) for x in order["lines"]] == [
        (sku_64, 1, "0.00"),
        ("MAX", 100_000, "0.01"),
        ("TRAILING-ZEROS", 1, "19.90"),
        ("INTEGER", 1, "100.00"),
        ("with spaces & symbols #1/2", 3, "19.90"),
    ]
    assert order["total"] == "1179.60"  # 0 + 1000 + 19.90 + 100 + 59.70


@pytest.mark.parametrize(
    ("currency", "price", "total"),
    [("EUR", "19.99", "39.98"), ("JPY", "1500", "3000"), ("KWD", "1.234", "2.468")],
)
async def test_price_decimals_follow_the_currency(
    api: Api, currency: str, price: str, total: str
) -> None:
    order = await create_order(api, currency=currency, lines=[line("A", 2, price)])
    assert order["currency"] == currency
    assert order["lines"][0]["unitPrice"] == price
    assert order["total"] == total


async def test_250_lines_are_accepted(api: Api) -> None:
    lines = [line(f"SKU-{i}", 1, "0.10") for i in range(250)]
    response = await api.graphql(
        CREATE_ORDER,
        {"input": order_input(lines=lines)},
        as_client="acme-shop",
        lists_over_declared_size=True,
    )
    order = response.json()["data"]["createOrder"]["order"]
    assert len(order["lines"]) == 250
    assert [x["sku"] for x in order["lines"]] == [f"SKU-{i}" for i in range(250)]
    assert order["total"] == "25.00"


async def test_new_order_is_pending_with_a_created_event(api: Api) -> None:
    order = await create_order(api, as_client="acme-backend")
    assert order["status"] == "PENDING"
    assert order["merchant"] == {"handle": "acme"}
    assert [x["cancelledQuantity"] for x in order["lines"]] == [0, 0]
    assert len(order["events"]) == 1
    event = order["events"][0]
    assert event["type"] == "CREATED"
    assert event["actor"] == "acme/acme-backend"
    assert event["at"] == order["createdAt"]
    assert order["updatedAt"] == order["createdAt"]
    assert order["number"].startswith("ACME-")
    second = await create_order(api)
    assert second["number"] != order["number"]
    assert second["events"][0]["actor"] == "acme/acme-shop"


async def test_email_is_stored_normalised(api: Api) -> None:
    order = await create_order(api, customerEmail="Jane.Doe@EXAMPLE.com")
    assert order["customerEmail"] == "Jane.Doe@example.com"
