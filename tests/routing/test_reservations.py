"""No oversell: orders racing for the last units (or the last capacity) reserve each once.

In process, concurrent requests share the app: on SQLite its single writer serialises
them, on PostgreSQL they race in parallel transactions. Across processes, a real
`oaas serve --workers 2` takes the requests.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from oaas.settings import Settings
from tests.conftest import Api
from tests.routing.documents import create, put_node, set_stock
from tests.routing.test_routing_api import assigned, customer, run_intake, stock_of
from tests.servers import serve

ORDERS = 10


async def race(api: Api, count: int, quantity: int) -> list[dict[str, Any]]:
    """`count` orders of `quantity` KETTLE-01, each from its own customer, all at once."""
    await api.token("acme-shop")  # one token, not one per request
    orders = await asyncio.gather(
        *(create(api, [("KETTLE-01", quantity)], **customer(i)) for i in range(count))
    )
    return list(orders)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Races of ten orders on a busy machine (the suite runs in parallel): routing
    must not be deferred by its time limit, which tests/lifecycle exercises."""
    return settings.model_copy(update={"routing_timeout_ms": 30_000, "risk_timeout_ms": 30_000})


def statuses(orders: list[dict[str, Any]]) -> Counter[str]:
    return Counter(order["status"] for order in orders)


def units_assigned(orders: list[dict[str, Any]]) -> int:
    return sum(
        quantity
        for order in orders
        if order["status"] == "ROUTED"
        for lines in assigned(order).values()
        for quantity in lines.values()
    )


@pytest.mark.parametrize(
    ("on_hand", "capacity", "quantity", "routed", "reason"),
    [
        pytest.param(3, 100, 1, 3, "NO_STOCK", id="3-units"),
        pytest.param(5, 100, 2, 2, "NO_STOCK", id="5-units-by-2"),
        pytest.param(100, 3, 1, 3, "NO_CAPACITY", id="capacity-3"),
    ],
)
async def test_concurrent_orders_never_reserve_the_same_unit(
    api: Api, on_hand: int, capacity: int, quantity: int, routed: int, reason: str
) -> None:
    await put_node(api, "BERLIN-1", dailyCapacity=capacity)
    await set_stock(api, [("BERLIN-1", "KETTLE-01", on_hand)])
    orders = await race(api, ORDERS, quantity)
    assert statuses(orders) == {"ROUTED": routed, "PENDING": ORDERS - routed}
    waiting = [order["routing"] for order in orders if order["status"] == "PENDING"]
    assert {routing["reasonCode"] for routing in waiting} == {reason}
    assert units_assigned(orders) == routed * quantity
    assert await stock_of(api) == {("BERLIN-1", "KETTLE-01"): (on_hand, routed * quantity)}


async def test_a_restock_routes_as_many_waiting_orders_as_it_has_units(api: Api) -> None:
    await put_node(api, "BERLIN-1")
    await set_stock(api, [("BERLIN-1", "KETTLE-01", 3)])
    await race(api, ORDERS, 1)
    payload = await set_stock(api, [("BERLIN-1", "KETTLE-01", 5)])
    assert payload["ordersWoken"] == ORDERS - 3
    assert await run_intake(api) == ORDERS - 3
    assert await stock_of(api) == {("BERLIN-1", "KETTLE-01"): (5, 5)}
    assert await run_intake(api) == 0  # the five still waiting wait for the next stock change


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
    with serve(database_url, tmp_path, workers=2) as base:
        yield base


@pytest.fixture
async def server_api(server: str) -> AsyncIterator[Api]:
    """The Api helper over real HTTP to the two worker processes."""
    async with httpx.AsyncClient(base_url=server, timeout=60) as http:
        yield Api(http)


async def test_two_server_processes_never_reserve_the_same_unit(server_api: Api) -> None:
    await put_node(server_api, "BERLIN-1")
    await set_stock(server_api, [("BERLIN-1", "KETTLE-01", 5)])
    orders = await race(server_api, 4 * ORDERS, 1)
    assert statuses(orders) == {"ROUTED": 5, "PENDING": 4 * ORDERS - 5}
    assert units_assigned(orders) == 5
    assert await stock_of(server_api) == {("BERLIN-1", "KETTLE-01"): (5, 5)}
