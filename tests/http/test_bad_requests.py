"""Bad requests to /graphql answer 4xx with a JSON body, never 5xx."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.conftest import Api
from tests.orders.documents import CREATE_ORDER, ORDERS, order_input

VIEWER = "query Viewer { viewer { clientId } }"
JSON = {"Content-Type": "application/json"}


def _json(payload: Any) -> bytes:
    return json.dumps(payload).encode()


def _nested_list(depth: int) -> str:
    return "[" * depth + "]" * depth


@dataclass(frozen=True)
class Bad:
    name: str
    content: bytes | None = None
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=lambda: dict(JSON))
    params: dict[str, str] | None = None
    status: int | None = None  # a precise status where one is due; else any 4xx
    # A well-formed request whose value the business refuses: 200 with a userError
    # on that field (contract.graphql: bad input is a userError, never an exception).
    user_error: tuple[str, ...] | None = None


PRICE = ("input", "lines", "0", "unitPrice")
CORPUS = [
    Bad("malformed JSON", b'{"query": "{ viewer { clientId } }"'),
    Bad("empty body", b""),
    Bad("JSON array body", b"[]"),
    Bad("JSON array of operations", _json([{"query": VIEWER}])),
    Bad("JSON number body", b"42"),
    Bad("JSON string body", b'"{ viewer { clientId } }"'),
    Bad("JSON null body", b"null"),
    Bad("JSON true body", b"true"),
    Bad("not UTF-8", b'{"query": "\xff\xfe"}'),
    Bad("wrong content type", _json({"query": VIEWER}), headers={"Content-Type": "text/plain"}),
    Bad("XML content type", b"<query/>", headers={"Content-Type": "application/xml"}),
    Bad("no content type", _json({"query": VIEWER}), headers={}),
    Bad(
        "form body",
        b"query=%7B+viewer+%7B+clientId+%7D+%7D",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ),
    Bad("missing query", _json({})),
    Bad("missing query, variables only", _json({"variables": {}})),
    Bad("null query", _json({"query": None})),
    Bad("empty query", _json({"query": ""})),
    Bad("blank query", _json({"query": "   "})),
    Bad("query a number", _json({"query": 42})),
    Bad("query a list", _json({"query": [VIEWER]})),
    Bad("query an object", _json({"query": {"viewer": "clientId"}})),
    Bad("variables a list", _json({"query": ORDERS, "variables": [1]})),
    Bad("variables a string", _json({"query": ORDERS, "variables": '{"first": 1}'})),
    Bad("variables a number", _json({"query": ORDERS, "variables": 7})),
    Bad("operationName a number", _json({"query": VIEWER, "operationName": 7})),
    Bad("extensions a list", _json({"query": VIEWER, "extensions": [1]})),
    Bad("syntax error", _json({"query": "{ viewer { clientId }"})),
    Bad("unknown field", _json({"query": "{ viewer { nope } }"})),
    Bad("variable of the wrong type", _json({"query": ORDERS, "variables": {"first": "ten"}})),
    Bad("variable an object for Int", _json({"query": ORDERS, "variables": {"first": {"a": 1}}})),
    Bad("variable a float for Int", _json({"query": ORDERS, "variables": {"first": 1.5}})),
    Bad("missing required variable", _json({"query": CREATE_ORDER, "variables": {}})),
    Bad(
        "input with unknown field",
        _json({"query": CREATE_ORDER, "variables": {"input": {**order_input(), "nope": 1}}}),
    ),
    Bad(
        "input of the wrong shape",
        _json({"query": CREATE_ORDER, "variables": {"input": {**order_input(), "lines": "x"}}}),
    ),
    Bad("null byte in the query", _json({"query": "{ viewer\u0000 { clientId } }"})),
    Bad(
        "escaped null byte in a query literal",
        _json(
            {
                "query": 'mutation { createOrder(input: {externalId: "a\\u0000b", channel: "web", '
                'currency: "EUR", customerEmail: "j@example.com", shippingAddress: '
                '{line1: "x", city: "y", country: "DE"}, lines: [{sku: "S", quantity: 1, '
                'unitPrice: "1.00"}]}) { userErrors { code } } }'
            }
        ),
    ),
    Bad(
        "null byte in a variable",
        _json(
            {"query": CREATE_ORDER, "variables": {"input": order_input(externalId="web\u00001")}}
        ),
    ),
    Bad(
        "null byte in a nested variable",
        _json(
            {
                "query": CREATE_ORDER,
                "variables": {
                    "input": order_input(
                        lines=[{"sku": "A\u0000", "quantity": 1, "unitPrice": "1.00"}]
                    )
                },
            }
        ),
    ),
    Bad("null byte in a cursor", _json({"query": ORDERS, "variables": {"after": "\u0000"}})),
    Bad("null byte in operationName", _json({"query": VIEWER, "operationName": "Viewer\u0000"})),
    Bad(
        "lone surrogate in a variable",
        b'{"query": '
        + json.dumps(CREATE_ORDER).encode()
        + b', "variables": {"input": '
        + json.dumps(order_input()).encode()[:-1]
        + b', "externalId": "\\ud800"}}}',
    ),
    Bad("huge integer for Int", _json({"query": ORDERS, "variables": {"first": 2**80}})),
    Bad(
        "huge integer literal for Int",
        _json({"query": "{ orders(first: 1208925819614629174706176) { edges { cursor } } }"}),
    ),
    Bad(
        "integer over the digit limit",
        b'{"query": "{ viewer { clientId } }", "variables": {"x": ' + b"9" * 5000 + b"}}",
    ),
    Bad(
        "huge exponent number",
        b'{"query": ' + json.dumps(ORDERS).encode() + b', "variables": {"first": 1e999999}}',
    ),
    Bad(
        "huge decimal price",
        _json(
            {
                "query": CREATE_ORDER,
                "variables": {
                    "input": order_input(lines=[{"sku": "A", "quantity": 1, "unitPrice": 2**80}])
                },
            }
        ),
        status=400,  # not a Decimal (oaas.graphql.scalars): refused before execution
    ),
    Bad(
        "huge decimal price in digits",
        _json(
            {
                "query": CREATE_ORDER,
                "variables": {
                    "input": order_input(lines=[{"sku": "A", "quantity": 1, "unitPrice": "9" * 20}])
                },
            }
        ),
        user_error=PRICE,
    ),
    Bad(
        "huge decimal exponent price",
        _json(
            {
                "query": CREATE_ORDER,
                "variables": {
                    "input": order_input(
                        lines=[{"sku": "A", "quantity": 1, "unitPrice": "1e999999"}]
                    )
                },
            }
        ),
        status=400,  # not a Decimal (oaas.graphql.scalars): refused before execution
    ),
    Bad(
        "NaN price",
        b'{"query": '
        + json.dumps(CREATE_ORDER).encode()
        + b', "variables": {"input": '
        + json.dumps(order_input(lines=[{"sku": "A", "quantity": 1, "unitPrice": "0"}]))
        .encode()
        .replace(b'"0"', b"NaN")
        + b"}}",
    ),
    Bad(
        "huge quantity",
        _json(
            {
                "query": CREATE_ORDER,
                "variables": {
                    "input": order_input(
                        lines=[{"sku": "A", "quantity": 2**80, "unitPrice": "1.00"}]
                    )
                },
            }
        ),
    ),
    Bad(
        "deeply nested list in variables",
        b'{"query": '
        + json.dumps(ORDERS).encode()
        + b', "variables": {"first": '
        + _nested_list(10_000).encode()
        + b"}}",
    ),
    Bad(
        "deeply nested object in variables",
        b'{"query": '
        + json.dumps(ORDERS).encode()
        + b', "variables": {"filter": '
        + b'{"a": ' * 10_000
        + b"1"
        + b"}" * 10_000
        + b"}}",
    ),
    Bad(
        "moderately nested list in variables",
        b'{"query": '
        + json.dumps(ORDERS).encode()
        + b', "variables": {"first": '
        + _nested_list(500).encode()
        + b"}}",
    ),
    Bad(
        "deeply nested input object literal",
        _json(
            {
                "query": "{ orders(filter: "
                + "{a: " * 10_000
                + "1"
                + "}" * 10_000
                + ") { edges { cursor } } }"
            }
        ),
    ),
    Bad(
        "nested input literal under the token limit",
        _json(
            {
                "query": "{ orders(filter: "
                + "{a: " * 1_000
                + "1"
                + "}" * 1_000
                + ") { edges { cursor } } }"
            }
        ),
    ),
    Bad(
        "nested list literal under the token limit",
        _json({"query": "{ orders(first: " + _nested_list(2_000) + ") { edges { cursor } } }"}),
    ),
    Bad(
        "deeply nested list literal",
        _json({"query": "{ orders(first: " + _nested_list(10_000) + ") { edges { cursor } } }"}),
    ),
    Bad(
        "deeply nested selection",
        _json({"query": "{ viewer " + "{ tenant " * 5_000 + "{ id }" + "}" * 5_000 + " }"}),
    ),
    Bad("unknown operationName", _json({"query": VIEWER, "operationName": "Nope"})),
    Bad(
        "several operations, no operationName",
        _json({"query": VIEWER + "\nquery Other { viewer { roles } }"}),
    ),
    Bad(
        "GET with a mutation",
        None,
        method="GET",
        headers={},
        params={"query": "mutation { createOrder(input: {}) { userErrors { code } } }"},
    ),
    Bad(
        "GET with a named mutation among queries",
        None,
        method="GET",
        headers={},
        params={
            "query": VIEWER
            + '\nmutation M { cancelOrder(input: {id: "x"}) { userErrors { code } } }',
            "operationName": "M",
        },
    ),
    Bad(
        "GET with variables not JSON",
        None,
        method="GET",
        headers={},
        params={"query": ORDERS, "variables": "{first"},
    ),
    Bad(
        "GET with variables a number",
        None,
        method="GET",
        headers={},
        params={"query": ORDERS, "variables": "3"},
    ),
    Bad("GET without a query", None, method="GET", headers={"Accept": "application/json"}),
    Bad("PUT", _json({"query": VIEWER}), method="PUT", status=405),
    Bad(
        "body over 1 MiB",
        _json({"query": VIEWER, "variables": {"x": "a" * (1024 * 1024)}}),
        status=413,
    ),
]


async def _send(api: Api, bad: Bad, token: str | None) -> httpx.Response:
    headers = dict(bad.headers)
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return await api.http.request(
        bad.method, "/graphql", content=bad.content, headers=headers, params=bad.params
    )


def _assert_refused(bad: Bad, response: httpx.Response) -> None:
    if bad.user_error is not None:
        assert response.status_code == 200, response.text[:500]
        payload = response.json()["data"]
        errors = next(iter(payload.values()))["userErrors"]
        assert [e["field"] for e in errors] == [list(bad.user_error)], errors
        return
    if bad.status is not None:
        assert response.status_code == bad.status, response.text[:500]
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert isinstance(body, dict), body
    assert body.get("errors"), body
    assert "INTERNAL_ERROR" not in response.text, response.text[:500]
    assert "Traceback" not in response.text


@pytest.mark.parametrize("bad", CORPUS, ids=[bad.name for bad in CORPUS])
async def test_a_bad_request_is_refused_with_4xx(api: Api, bad: Bad) -> None:
    token = await api.token("acme-shop")
    _assert_refused(bad, await _send(api, bad, token))


UNAUTHENTICATED = [
    bad
    for bad in CORPUS
    if bad.name
    in (
        "malformed JSON",
        "JSON number body",
        "wrong content type",
        "missing query",
        "null byte in the query",
        "deeply nested list in variables",
        "GET with a mutation",
        "body over 1 MiB",
    )
]


@pytest.mark.parametrize("bad", UNAUTHENTICATED, ids=[bad.name for bad in UNAUTHENTICATED])
async def test_a_bad_request_without_a_token_is_refused_with_4xx(api: Api, bad: Bad) -> None:
    response = await _send(api, bad, None)
    _assert_refused(bad, response)
    if bad.status is None:
        assert response.status_code == 401


async def test_a_mutation_over_get_changes_nothing(api: Api) -> None:
    token = await api.token("acme-shop")
    document = (
        "mutation Create($input: CreateOrderInput!) "
        "{ createOrder(input: $input) { order { id } userErrors { code } } }"
    )
    response = await api.http.get(
        "/graphql",
        params={
            "query": document,
            "variables": json.dumps({"input": order_input(externalId="via-get")}),
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert 400 <= response.status_code < 500, response.text
    orders = await api.data(ORDERS, {"first": 50}, as_client="acme-shop")
    assert "via-get" not in json.dumps(orders)


async def test_a_good_request_still_answers_200(api: Api) -> None:
    response = await api.graphql(VIEWER, as_client="acme-shop")
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"viewer": {"clientId": "acme-shop"}}


async def test_refusals_before_graphql_share_one_body(api: Api) -> None:
    """The bearer check, the body limit and the view's own refusals answer alike."""
    token = await api.token("acme-shop")
    by_name = {bad.name: bad for bad in CORPUS}
    answers = {
        "UNAUTHENTICATED": await _send(api, by_name["missing query"], None),
        "PAYLOAD_TOO_LARGE": await _send(api, by_name["body over 1 MiB"], token),
        "METHOD_NOT_ALLOWED": await _send(api, by_name["PUT"], token),
    }
    for code, response in answers.items():
        assert response.headers["content-type"] == "application/json", response.headers
        [error] = response.json()["errors"]
        assert response.json() == {"errors": [error]}, response.text
        assert set(error) == {"message", "extensions"}, error
        assert isinstance(error["message"], str), error
        assert error["message"], error
        assert error["extensions"] == {"code": code}, error
