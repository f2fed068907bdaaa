"""Decimal amounts are exact or refused: ASCII digit strings, or JSON integers.

A JSON number with a fraction is a float by the time the server reads it
(19.999999999999999 arrives as 20.0), and Python's Decimal() reads more than digits
("١٩.٩٠", "1_000", "1E+2", "NaN"): none of those is taken as an amount.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Api
from tests.manifests.test_fulfilment_sections import edited, load_problems
from tests.orders.documents import (
    CREATE_ORDER,
    cancel,
    create_order,
    create_payload,
    line,
    list_orders,
    order_input,
)
from tests.routing.documents import PUT_NODE, node_input, put_node
from tests.routing.test_routing_api import nodes_of, put_node_payload

INLINE_ORDER = """
mutation Inline {
  createOrder(input: {currency: "EUR", shippingAddress: {line1: "Hauptstrasse 1", city: "Berlin",
      country: "DE"}, lines: [{sku: "A", quantity: 1, unitPrice: %s}]}) {
    order { total } userErrors { field }
  }
}"""
BAD_TEXT = ("١٩.٩٠", "1_000", "1E+2", "NaN", "Infinity", " 19.90", "19.", ".5", "+1", "0x10", "")


async def _raw_graphql(api: Api, body: str, client: str) -> dict[str, Any]:
    """POSTs `body` as it is: the test controls the JSON text, not json.dumps."""
    token = await api.token(client)
    response = await api.http.post(
        "/graphql",
        content=body.encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code < 500, response.text
    result: dict[str, Any] = response.json()
    return result


def _refused_at(body: dict[str, Any], where: str) -> None:
    assert body.get("data") is None, body
    message = body["errors"][0]["message"]
    assert where in message, body
    assert "is not a Decimal" in message, body


async def test_a_json_number_with_a_fraction_is_refused_not_rounded(api: Api) -> None:
    variables = json.dumps({"input": order_input(lines=[line("A", 1)])})
    for number in ("19.999999999999999", "19.9", "20.0", "1e2"):
        raw_variables = variables.replace('"1.00"', number)
        body = await _raw_graphql(
            api,
            f'{{"query": {json.dumps(CREATE_ORDER)}, "variables": {raw_variables}}}',
            "acme-shop",
        )
        _refused_at(body, "unitPrice")
    assert await list_orders(api) == []


async def test_an_amount_is_ascii_digits(api: Api) -> None:
    for text in BAD_TEXT:
        response = await api.graphql(
            CREATE_ORDER, {"input": order_input(lines=[line("A", 1, text)])}, as_client="acme-shop"
        )
        assert response.status_code == 400, response.text
        _refused_at(response.json(), "$input' has invalid value at .lines[0].unitPrice")
        response = await api.graphql(
            PUT_NODE, {"input": node_input("BERLIN-1", baseCost=text)}, as_client="acme-backend"
        )
        _refused_at(response.json(), "at .baseCost")
        rates = [{"region": "DE-BY", "amount": text}]
        response = await api.graphql(
            PUT_NODE, {"input": node_input("BERLIN-1", regionRates=rates)}, as_client="acme-backend"
        )
        _refused_at(response.json(), "at .regionRates[0].amount")
    assert await list_orders(api) == []


async def test_digit_strings_and_integers_are_exact(api: Api) -> None:
    order = await create_order(
        api, lines=[line("A", 1, "19.90"), line("B", 1, "007.5"), {**line("C", 1), "unitPrice": 20}]
    )
    assert [x["unitPrice"] for x in order["lines"]] == ["19.90", "7.50", "20.00"]
    # Written into the document: an integer is exact too, a number with a fraction is not.
    for price, created in (("20", True), ("19.90", False)):
        body = (await api.graphql(INLINE_ORDER % price, as_client="acme-shop")).json()
        if created:
            assert body["data"]["createOrder"]["order"]["total"] == "20.00", body
        else:
            _refused_at(body, "is not a Decimal")
    assert len(await list_orders(api)) == 2


# (currency, a price, a shipping cost): as many decimals as the currency's minor unit has.
MINOR_UNITS = (("JPY", "1500", "800"), ("BHD", "1.234", "0.125"), ("KWD", "0.005", "2.500"))


async def test_amounts_keep_the_decimals_of_the_currency(api: Api) -> None:
    for currency, price, cost in MINOR_UNITS:
        order = await create_order(
            api, currency=currency, lines=[line("A", 1, price), line("B", 2, price)]
        )
        assert order["total"] == str(Decimal(price) * 3), currency
        payload = await cancel(api, order["id"], lines=[{"sku": "B", "quantity": 2}])
        assert payload["userErrors"] == [], payload
        assert payload["order"]["total"] == price, currency
        assert [x["unitPrice"] for x in payload["order"]["lines"]] == [price, price], currency
        rates = [{"region": "DE-BY", "amount": cost}]
        # One node, its currency changed: a merchant's nodes count costs in one currency.
        await put_node(
            api, "NODE-1", currency=currency, baseCost=cost, costPerKm=cost, regionRates=rates
        )
        [node] = await nodes_of(api)
        shown = (node["baseCost"], node["costPerKm"], node["regionRates"][0]["amount"])
        assert (node["currency"], *shown) == (currency, cost, cost, cost)


async def test_what_is_not_a_currency_is_refused_and_its_decimals_not_guessed(api: Api) -> None:
    for code in ("XAU", "ABC"):  # gold has a code but no minor unit; ABC is no code
        refused = f"currency {code!r} is not an ISO 4217 currency code"
        payload = await create_payload(
            api, order_input(currency=code, lines=[line("A", 1, "1.2345")])
        )
        assert payload["order"] is None
        node = await put_node_payload(api, "NODE-1", currency=code, baseCost="1.2345")
        for errors in (payload["userErrors"], node["userErrors"]):
            assert [(e["field"], e["code"]) for e in errors] == [(["input", "currency"], "INVALID")]
            assert refused in errors[0]["message"], errors
    assert await list_orders(api) == []
    assert await nodes_of(api) == []


AMOUNTS_IN_A_MANIFEST = {
    "arabic-indic digits": "١٩.٩٠",
    "underscores": "1_000",
    "an exponent": "1E+2",
    "not a number": "NaN",
}


@pytest.mark.parametrize("text", AMOUNTS_IN_A_MANIFEST.values(), ids=AMOUNTS_IN_A_MANIFEST.keys())
def test_a_manifest_amount_is_ascii_digits(tmp_path: Path, text: str) -> None:
    problems = load_problems(tmp_path, edited(("routing.0.nodes.0.base_cost", text)))
    assert len(problems) == 1, problems
    assert problems[0].startswith("x.yaml: routing[0].nodes[0].base_cost: "), problems
    assert "ASCII digits" in problems[0], problems
