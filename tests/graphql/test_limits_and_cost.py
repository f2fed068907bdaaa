"""Static limits, query cost and per-tenant throttling at the gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from oaas.app import create_app
from oaas.settings import Settings
from tests.conftest import ISSUER, Api
from tests.orders.documents import CREATE_ORDER, order_input


def _codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


@pytest.fixture
async def strict_api(database_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    """The gateway with small limits, so that the edges are cheap to reach."""
    settings = Settings(
        database_url=database_url,
        issuer=ISSUER,
        signing_key_file=tmp_path / "keys.json",
        max_query_depth=3,
        max_query_aliases=2,
        max_query_tokens=40,
        _env_file=None,  # type: ignore[call-arg]
    )
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ISSUER) as http:
        yield Api(http)
    await app.state.components.database.dispose()


async def test_depth_limit(strict_api: Api) -> None:
    ok = await strict_api.graphql("{ viewer { tenant { handle } } }", as_client="acme-shop")
    assert "errors" not in ok.json()
    deep = await strict_api.graphql(
        "{ orders { edges { node { merchant { handle } } } } }", as_client="acme-shop"
    )
    body = deep.json()
    assert _codes(body) == ["QUERY_REJECTED"]
    # orders > edges > node > merchant > handle
    assert "depth is 5" in body["errors"][0]["message"]
    assert "limit is 3" in body["errors"][0]["message"]


async def test_alias_limit(strict_api: Api) -> None:
    ok = await strict_api.graphql(
        "{ a: viewer { clientId } b: viewer { clientId } }", as_client="acme-shop"
    )
    assert "errors" not in ok.json()
    over = await strict_api.graphql(
        "{ a: viewer { clientId } b: viewer { clientId } c: viewer { clientId } }",
        as_client="acme-shop",
    )
    body = over.json()
    assert _codes(body) == ["QUERY_REJECTED"]
    assert "3 aliases" in body["errors"][0]["message"]


async def test_token_limit(strict_api: Api) -> None:
    ok = await strict_api.graphql("{ viewer { " + "clientId " * 30 + "} }", as_client="acme-shop")
    assert "errors" not in ok.json()
    over = await strict_api.graphql("{ viewer { " + "clientId " * 40 + "} }", as_client="acme-shop")
    body = over.json()
    assert _codes(body) == ["QUERY_REJECTED"]
    assert "40" in body["errors"][0]["message"]


async def test_input_lists_over_250_items_are_rejected(api: Api) -> None:
    lines = [{"sku": f"S-{i}", "quantity": 1, "unitPrice": "1.00"} for i in range(251)]
    response = await api.graphql(
        CREATE_ORDER, {"input": order_input(lines=lines)}, as_client="acme-shop"
    )
    body = response.json()
    assert _codes(body) == ["QUERY_REJECTED"]
    assert "251 items" in body["errors"][0]["message"]
    assert body["data"] is None


async def _on_standard_plan(settings: Settings) -> None:
    engine = create_async_engine(settings.migrations_url)
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE tenants SET plan = 'standard'"))
    await engine.dispose()


async def test_every_response_carries_its_cost(api: Api, settings: Settings) -> None:
    await _on_standard_plan(settings)
    response = await api.graphql("{ viewer { clientId tenant { handle } } }", as_client="acme-shop")
    cost = response.json()["extensions"]["cost"]
    # viewer (object) 1 + tenant (object) 1; scalars are free.
    assert cost["requestedQueryCost"] == 2
    assert cost["actualQueryCost"] == 2
    status = cost["throttleStatus"]
    assert status["maximumAvailable"] == 1000.0
    assert status["restoreRate"] == 100.0
    assert 990 <= status["currentlyAvailable"] <= 1000


async def test_connections_cost_first_times_a_node_and_refund_what_was_not_returned(
    api: Api,
) -> None:
    query = "query($n: Int) { orders(first: $n) { edges { node { id merchant { handle } } } } }"
    response = await api.graphql(query, {"n": 50}, as_client="acme-shop")
    cost = response.json()["extensions"]["cost"]
    # 2 + 50 x (node 1 + merchant 1); no orders exist, so the actual cost is 2.
    assert cost["requestedQueryCost"] == 102
    assert cost["actualQueryCost"] == 2
    created = await api.graphql(CREATE_ORDER, {"input": order_input()}, as_client="acme-shop")
    mutation_cost = created.json()["extensions"]["cost"]["requestedQueryCost"]
    assert mutation_cost >= 10


async def test_a_query_over_the_single_query_limit_is_rejected(
    api: Api, settings: Settings
) -> None:
    await _on_standard_plan(settings)
    page = "orders(first: 100) { edges { node { merchant { handle } lines { sku } events { type } } } }"
    # three pages of 2 + 100 x (node 1 + merchant 1 + 5 lines + 10 events) = 5,106 points
    query = "{ a: " + page + " b: " + page + " c: " + page + " }"
    response = await api.graphql(query, as_client="acme-shop")
    body = response.json()
    assert _codes(body) == ["QUERY_REJECTED"]
    assert "exceeds the single-query limit of 1000" in body["errors"][0]["message"]
    assert response.status_code == 200
