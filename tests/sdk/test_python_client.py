"""The Python SDK against the real app: tokens, an order made and read, errors raised."""

from __future__ import annotations

import pytest
from oaas_client import GraphQLFailed, OaasClient, UserErrors

from tests.conftest import DEMO_SECRET, Api
from tests.orders.documents import order_input


async def test_the_client_creates_and_reads_an_order(api: Api) -> None:
    client = OaasClient("", "acme-shop", DEMO_SECRET, http=api.http)
    created = await client.create_order(order_input(), idempotency_key="sdk-1")
    again = await client.create_order(order_input(), idempotency_key="sdk-1")
    assert again["id"] == created["id"]
    found = await client.order(created["id"])
    assert found is not None
    assert found["number"] == created["number"]


async def test_the_client_raises_user_errors_and_graphql_errors(api: Api) -> None:
    client = OaasClient("", "acme-shop", DEMO_SECRET, http=api.http)
    with pytest.raises(UserErrors, match="currency"):
        await client.create_order(order_input(currency="XXX"))
    with pytest.raises(GraphQLFailed, match="FORBIDDEN"):
        await client.execute("{ tenants(first: 1) { edges { node { handle } } } }")
