"""Decimal amounts are exact or refused: ASCII digit strings, or JSON integers.

A JSON number with a fraction is a float by the time the server reads it
(19.999999999999999 arrives as 20.0), and Python's Decimal() reads more than digits
("١٩.٩٠", "1_000", "1E+2", "NaN"): none of those is taken as an amount.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Api
from tests.manifests.test_fulfilment_sections import edited, load_problems
from tests.orders.documents import CREATE_ORDER, create_order, line, list_orders, order_input
from tests.routing.documents import PUT_NODE, node_input

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
