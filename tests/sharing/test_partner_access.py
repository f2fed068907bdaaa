"""Partners see exactly what merchants share with them, and lose it on the next request."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import create_async_engine

from oaas.db.types import utcnow
from oaas.settings import Settings
from tests.conftest import Api
from tests.orders.documents import (
    CANCEL_ORDER,
    CREATE_ORDER,
    ORDER,
    ORDERS,
    UPDATE_FULFILLMENT,
    order_input,
)

GRANTS = "{ orderAccessGrants { id profile actions merchant { handle } partner { handle } revokedAt expiresAt } }"
GRANT = """
mutation Grant($input: GrantOrderAccessInput!) {
  grantOrderAccess(input: $input) {
    grant { id profile actions expiresAt merchant { handle } partner { handle } }
    userErrors { field message code }
  }
}"""
REVOKE = """
mutation Revoke($id: ID!) {
  revokeOrderAccess(grantId: $id) { grant { id revokedAt } userErrors { field message code } }
}"""
PARTNER_ORDERS = """
query { orders(first: 50) { edges { node { id number total customerEmail merchant { handle }
  lines { sku unitPrice quantity } events { type actor message } } } } }"""


async def _create(api: Api, client: str, **changes: Any) -> dict[str, Any]:
    data = await api.data(CREATE_ORDER, {"input": order_input(**changes)}, as_client=client)
    payload: dict[str, Any] = data["createOrder"]  # type: ignore[assignment]
    assert payload["userErrors"] == []
    order: dict[str, Any] = payload["order"]
    return order


async def _partner_view(api: Api) -> dict[str, Any]:
    response = await api.graphql(PARTNER_ORDERS, as_client="swiftship-tms")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def test_logistics_profile_hides_prices_and_email(api: Api) -> None:
    acme_order = await _create(api, "acme-shop")
    await _create(api, "globex-shop")
    body = await _partner_view(api)
    edges = body["data"]["orders"]["edges"]
    assert [e["node"]["id"] for e in edges] == [acme_order["id"]]
    node = edges[0]["node"]
    assert node["total"] is None
    assert node["customerEmail"] is None
    assert all(line["unitPrice"] is None for line in node["lines"])
    assert node["lines"][0]["quantity"] == 2
    codes = {tuple(e["path"]): e["extensions"]["code"] for e in body["errors"]}
    assert codes == {
        ("orders", "edges", 0, "node", "total"): "FIELD_NOT_SHARED",
        ("orders", "edges", 0, "node", "customerEmail"): "FIELD_NOT_SHARED",
        ("orders", "edges", 0, "node", "lines", 0, "unitPrice"): "FIELD_NOT_SHARED",
        ("orders", "edges", 0, "node", "lines", 1, "unitPrice"): "FIELD_NOT_SHARED",
    }
    text = str(body)
    assert "88.80" not in text
    assert "jane@example.com" not in text
    assert "19.90" not in text


async def test_full_profile_shows_everything_and_revoke_takes_effect_at_once(api: Api) -> None:
    order = await _create(api, "acme-shop")
    granted = await api.data(
        GRANT,
        {"input": {"partner": "swiftship", "profile": "FULL", "actions": ["READ"]}},
        as_client="acme-backend",
    )
    grant = granted["grantOrderAccess"]["grant"]  # type: ignore[index]
    assert grant["profile"] == "FULL"
    body = await _partner_view(api)
    assert "errors" not in body
    assert body["data"]["orders"]["edges"][0]["node"]["total"] == "88.80"
    revoked = await api.data(REVOKE, {"id": grant["id"]}, as_client="acme-backend")
    assert revoked["revokeOrderAccess"]["userErrors"] == []  # type: ignore[index]
    body = await _partner_view(api)
    assert body["data"]["orders"]["edges"] == []
    single = await api.data(ORDER, {"id": order["id"]}, as_client="swiftship-tms")
    assert single["order"] is None


async def test_expired_grant_is_dead(api: Api, settings: Settings) -> None:
    await _create(api, "acme-shop")
    engine = create_async_engine(settings.migrations_url)
    from oaas.sharing.visibility import grants

    async with engine.begin() as conn:
        await conn.execute(update(grants.table).values(expires_at=utcnow()))
    await engine.dispose()
    body = await _partner_view(api)
    assert body["data"]["orders"]["edges"] == []


async def test_partner_updates_fulfilment_under_its_own_name(api: Api) -> None:
    order = await _create(api, "acme-shop")
    response = await api.graphql(
        UPDATE_FULFILLMENT,
        {
            "input": {
                "orderId": order["id"],
                "status": "SHIPPED",
                "trackingNumber": "1Z999",
                "carrier": "UPS",
            }
        },
        as_client="swiftship-tms",
    )
    body = response.json()
    payload = body["data"]["updateFulfillment"]
    assert payload["userErrors"] == []
    assert payload["order"]["status"] == "SHIPPED"
    # The LOGISTICS profile still hides prices in the answer to the partner's own mutation.
    assert {e["extensions"]["code"] for e in body["errors"]} == {"FIELD_NOT_SHARED"}
    seen = await api.data(ORDER, {"id": order["id"]}, as_client="acme-backend")
    events = seen["order"]["events"]  # type: ignore[index]
    assert events[-1]["type"] == "FULFILLMENT_UPDATED"
    assert events[-1]["actor"] == "swiftship/swiftship-tms"
    assert seen["order"]["status"] == "SHIPPED"  # type: ignore[index]


async def test_read_only_grant_cannot_update_fulfilment(api: Api) -> None:
    order = await _create(api, "acme-shop")
    await api.data(
        GRANT,
        {"input": {"partner": "swiftship", "profile": "LOGISTICS", "actions": ["READ"]}},
        as_client="acme-backend",
    )
    response = await api.graphql(
        UPDATE_FULFILLMENT,
        {"input": {"orderId": order["id"], "status": "SHIPPED"}},
        as_client="swiftship-tms",
    )
    errors = response.json()["data"]["updateFulfillment"]["userErrors"]
    assert [e["code"] for e in errors] == ["FORBIDDEN"]


async def test_partners_never_cancel_or_create(api: Api) -> None:
    order = await _create(api, "acme-shop")
    cancel = await api.graphql(
        CANCEL_ORDER, {"input": {"orderId": order["id"]}}, as_client="swiftship-tms"
    )
    assert cancel.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    create = await api.graphql(CREATE_ORDER, {"input": order_input()}, as_client="swiftship-tms")
    assert create.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_one_partner_lists_orders_of_many_merchants(api: Api) -> None:
    acme = await _create(api, "acme-shop")
    globex = await _create(api, "globex-shop")
    await api.data(
        GRANT,
        {"input": {"partner": "swiftship", "profile": "FULL", "actions": ["READ"]}},
        as_client="globex-backend",
    )
    body = await _partner_view(api)
    assert {e["node"]["id"] for e in body["data"]["orders"]["edges"]} == {acme["id"], globex["id"]}
    narrowed = await api.data(ORDERS, {"filter": {"merchant": "globex"}}, as_client="swiftship-tms")
    assert [e["node"]["id"] for e in narrowed["orders"]["edges"]] == [globex["id"]]  # type: ignore[index]
    grants = await api.data(GRANTS, as_client="swiftship-tms")
    assert sorted(g["merchant"]["handle"] for g in grants["orderAccessGrants"]) == [
        "acme",
        "globex",
    ]  # type: ignore[union-attr]


async def test_grant_validation(api: Api) -> None:
    async def errors(client: str, **input_: Any) -> list[dict[str, Any]]:
        response = await api.graphql(GRANT, {"input": input_}, as_client=client)
        body = response.json()
        if "errors" in body:
            return body["errors"]  # type: ignore[no-any-return]
        return body["data"]["grantOrderAccess"]["userErrors"]  # type: ignore[no-any-return]

    base = {"partner": "swiftship", "profile": "FULL", "actions": ["READ"]}
    assert (await errors("acme-backend", **{**base, "partner": "nobody"}))[0]["code"] == "NOT_FOUND"
    # Another merchant is no partner, answered as an unknown handle (tests/tenancy/test_handle_probing.py).
    assert (await errors("acme-backend", **{**base, "partner": "globex"}))[0]["code"] == "NOT_FOUND"
    assert (await errors("acme-backend", **{**base, "actions": ["UPDATE_FULFILLMENT"]}))[0][
        "code"
    ] == "INVALID"
    assert (await errors("acme-backend", **{**base, "expiresAt": "2001-01-01T00:00:00Z"}))[0][
        "code"
    ] == "INVALID"
    assert (await errors("acme-shop", **base))[0]["extensions"]["code"] == "FORBIDDEN"
    assert (await errors("swiftship-admin", **base))[0]["extensions"]["code"] == "FORBIDDEN"
