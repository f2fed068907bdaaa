"""Every list is priced before it runs, and what an answer spends beyond its price is paid.

The price of a plain list is its declared size (oaas.graphql.cost.LIST_SIZES);
tests/conftest.py checks on every query the suite sends that the price is not
below the actual cost.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType, get_named_type
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from oaas.graphql.cost import FREE_TYPES, LIST_SIZES
from oaas.graphql.schema import build_schema
from oaas.settings import Settings
from tests.conftest import Api
from tests.orders.documents import line, order_input
from tests.routing.documents import create, put_node, set_stock

ORDER_WITH_EVERY_LIST = """
query Everything($id: ID!) {
  order(id: $id) {
    id
    lines { sku }
    events { type message }
    risk { score facts { signal sentence } }
    routing { explanation candidates { nodeCode reasons } assignments { nodeCode lines { sku } } }
    routingHistory { explanation candidates { nodeCode } }
  }
}
"""


def _object_lists(settings: Settings) -> set[str]:
    schema = build_schema(settings)._schema
    found = set()
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        if type_.name.endswith("Connection"):
            continue  # priced by `first`
        for name, field in type_.fields.items():
            inner = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
            named = get_named_type(field.type)
            if (
                isinstance(inner, GraphQLList)
                and isinstance(named, GraphQLObjectType)
                and named.name not in FREE_TYPES
            ):
                found.add(f"{type_.name}.{name}")
    return found


def test_every_list_of_objects_has_a_declared_size() -> None:
    settings = Settings(database_url="sqlite+aiosqlite://", _env_file=None)  # type: ignore[call-arg]
    assert _object_lists(settings) == set(LIST_SIZES)


async def test_an_order_with_routing_risk_and_events_is_priced_above_what_it_costs(
    api: Api,
) -> None:
    await put_node(api, "BERLIN-1")
    await put_node(api, "HAMBURG-1", latitude=53.55, longitude=9.99, region="DE-HH")
    await set_stock(api, [("BERLIN-1", "KETTLE-01", 5), ("HAMBURG-1", "KETTLE-01", 5)])
    order = await create(api, [("KETTLE-01", 2)])
    response = await api.graphql(ORDER_WITH_EVERY_LIST, {"id": order["id"]}, as_client="acme-shop")
    body = response.json()
    assert "errors" not in body, body
    assert body["data"]["order"]["routing"]["candidates"]
    assert body["data"]["order"]["risk"]["facts"]
    cost = body["extensions"]["cost"]
    assert cost["actualQueryCost"] > 10
    assert cost["requestedQueryCost"] >= cost["actualQueryCost"], cost


async def _on_slow_plan(settings: Settings) -> None:
    engine = create_async_engine(settings.migrations_url)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO plans (name, bucket_size, restore_rate, max_query_cost, updated_at) "
                "VALUES ('slow', 1000, 0.001, 1000, CURRENT_TIMESTAMP)"
            )
        )
        await conn.execute(text("UPDATE tenants SET plan = 'slow' WHERE handle = 'acme'"))
    await engine.dispose()


async def test_a_list_longer_than_its_price_is_charged_in_full(
    api: Api, settings: Settings
) -> None:
    created = await api.graphql(
        "mutation Big($input: CreateOrderInput!) { createOrder(input: $input) { order { id } } }",
        {"input": order_input(lines=[line(f"SKU-{i}", 1, "1.00") for i in range(30)])},
        as_client="acme-shop",
    )
    order_id = created.json()["data"]["createOrder"]["order"]["id"]
    await _on_slow_plan(settings)
    query = "query Lines($id: ID!) { order(id: $id) { lines { sku } } }"
    response = await api.graphql(
        query, {"id": order_id}, as_client="acme-shop", lists_over_declared_size=True
    )
    cost: dict[str, Any] = response.json()["extensions"]["cost"]
    # order 1 + 5 declared lines, priced; order 1 + 30 lines, spent.
    assert (cost["requestedQueryCost"], cost["actualQueryCost"]) == (6, 31)
    assert cost["throttleStatus"]["currentlyAvailable"] == 1000 - 31
    again = await api.graphql("query Me { viewer { tenant { handle } } }", as_client="acme-shop")
    assert again.json()["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == (
        1000 - 31 - 2
    )
