"""DateTime inputs outside the supported range are refused at the scalar, never an internal error.

Converting `9999-12-31T23:59:59-14:00` or `0001-01-01T00:00:00+14:00` to UTC overflows
Python's datetime, and so would a report window that reaches past year 1 or 9999.
"""

from __future__ import annotations

import base64
from typing import Any
from uuid import UUID

import pytest

from tests.conftest import Api
from tests.orders.documents import create_order

EDGES = ("9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00")
OUTSIDE = (*EDGES, "1899-12-31T23:59:59Z", "9000-01-01T00:00:00Z", "0001-01-01T00:00:00Z")

ORDERS = """
query Orders($after: DateTime, $before: DateTime, $cursor: String) {
  orders(first: 5, after: $cursor, filter: {createdAfter: $after, createdBefore: $before}) {
    edges { node { id } } pageInfo { hasNextPage }
  }
}"""
AUDIT = """
query Audit($after: String) { auditLog(first: 5, after: $after) { edges { node { act } } } }"""
GRANT = """
mutation Grant($input: GrantOrderAccessInput!) {
  grantOrderAccess(input: $input) { grant { expiresAt } userErrors { field message code } }
}"""
FAIRNESS = """
query Fairness($since: DateTime!, $until: DateTime!) {
  routingFairnessReport(since: $since, until: $until) { since until regions { region } }
}"""
SLA = """
query Sla($since: DateTime, $until: DateTime) {
  slaReport(since: $since, until: $until) {
    since until tenants { tenant fulfilment { ordersDue } }
  }
}"""


def _refused(body: dict[str, Any], value: str) -> None:
    """A request error naming the supported range; no data, no internal error."""
    assert body.get("data") is None, body
    messages = " ".join(e["message"] for e in body["errors"])
    assert "1900-01-01T00:00:00Z" in messages, body
    assert "9000-01-01T00:00:00Z" in messages, body
    assert "INTERNAL_ERROR" not in str(body), body


def _cursor(instant: str) -> str:
    raw = f"{instant}\x1f{UUID(int=0)}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def _call(api: Api, query: str, variables: dict[str, Any], client: str) -> dict[str, Any]:
    response = await api.graphql(query, variables, as_client=client)
    assert response.status_code < 500, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_out_of_range_instants_are_refused_at_every_entry_point(api: Api) -> None:
    grant = {"partner": "swiftship", "profile": "FULL", "actions": ["READ"]}
    fine = "2026-01-01T00:00:00Z"
    for value in OUTSIDE:
        for query, variables, client in (
            (ORDERS, {"after": value}, "acme-backend"),
            (ORDERS, {"before": value}, "acme-backend"),
            (GRANT, {"input": {**grant, "expiresAt": value}}, "acme-backend"),
            (FAIRNESS, {"since": value, "until": fine}, "acme-backend"),
            (FAIRNESS, {"since": fine, "until": value}, "acme-backend"),
            (SLA, {"since": value}, "acme-backend"),
            (SLA, {"until": value}, "acme-backend"),
        ):
            body = await _call(api, query, variables, client)
            _refused(body, value)


async def test_an_instant_written_into_the_document_is_refused_the_same(api: Api) -> None:
    for value in EDGES:
        query = f'{{ orders(filter: {{createdAfter: "{value}"}}) {{ edges {{ cursor }} }} }}'
        response = await api.graphql(query, as_client="acme-shop")
        assert response.status_code == 400, response.text
        _refused(response.json(), value)


async def test_a_forged_cursor_with_an_edge_instant_is_a_bad_cursor(api: Api) -> None:
    # Cursors are opaque: one this API did not make gives an empty page, as every bad cursor does.
    await create_order(api, as_client="acme-backend")
    for value in EDGES:
        body = await _call(api, ORDERS, {"cursor": _cursor(value)}, "acme-backend")
        assert "errors" not in body, body
        assert body["data"]["orders"]["edges"] == []
        body = await _call(api, AUDIT, {"after": _cursor(value)}, "acme-backend")
        assert "errors" not in body, body
        assert body["data"]["auditLog"]["edges"] == []


@pytest.mark.parametrize(
    ("low", "high"),
    [
        ("1900-01-01T00:00:00Z", "1900-01-02T00:00:00Z"),
        ("8999-12-30T23:59:59.999999Z", "8999-12-31T23:59:59.999999Z"),
    ],
)
async def test_the_edges_of_the_supported_range_work_everywhere(
    api: Api, low: str, high: str
) -> None:
    # Reports step back from `until` by their default window and by the fulfilment time:
    # at either end of the range that arithmetic still fits.
    grant = {"partner": "swiftship", "profile": "FULL", "actions": ["READ"], "expiresAt": high}
    for query, variables in (
        (SLA, {"until": low}),
        (SLA, {"since": low, "until": high}),
        (ORDERS, {"after": low, "before": high}),
        (GRANT, {"input": grant}),
        (FAIRNESS, {"since": low, "until": high}),
    ):
        body = await _call(api, query, variables, "acme-backend")
        assert "errors" not in body, body


async def test_an_offset_is_read_as_the_same_instant_in_utc(api: Api) -> None:
    body = await _call(
        api,
        SLA,
        {"since": "2026-01-01T01:00:00+01:00", "until": "2026-01-01T12:00:00"},
        "acme-backend",
    )
    assert "errors" not in body, body
    report = body["data"]["slaReport"]
    assert report["since"].startswith("2026-01-01T00:00:00")
    assert report["until"] == "2026-01-01T12:00:00+00:00"
