"""Learning delivery hours from DELIVERED orders, and the fairness report by region.

Observed times are set in the database: an order's creation (its row and CREATED
event) is moved into the past before it is delivered, and its delivery event is
pinned after, so the learned estimates and the report's figures are known.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import create_async_engine

from oaas.db.types import utcnow
from oaas.graphql.ids import from_global_id
from oaas.orders.repository import events, orders
from oaas.settings import Settings
from tests.conftest import Api
from tests.orders.documents import fulfil
from tests.routing.documents import FAIRNESS, create, put_node, set_stock
from tests.routing.test_routing_api import assigned, candidates, customer, reroute

KETTLE = [("KETTLE-01", 1)]


def order_uuid(global_id: str) -> UUID:
    found = from_global_id("Order", global_id)
    assert found is not None, global_id
    return found


async def set_times(
    settings: Settings, order_id: str, created: datetime, delivered: datetime | None = None
) -> None:
    """Moves the order's creation (row and CREATED event) and, given, its fulfilment events."""
    key = order_uuid(order_id)
    engine = create_async_engine(settings.migrations_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                update(orders.table).where(orders.c.id == key).values(created_at=created)
            )
            changes = [("CREATED", created), ("FULFILLMENT_UPDATED", delivered)]
            for kind, at in changes:
                if at is not None:
                    await conn.execute(
                        update(events.table)
                        .where(events.c.order_id == key, events.c.type == kind)
                        .values(at=at)
                    )
    finally:
        await engine.dispose()


async def deliver(api: Api, settings: Settings, order_id: str, hours: float) -> None:
    """Delivers the order `hours` after it was created (as the learning and the report see it)."""
    now = utcnow()
    await set_times(settings, order_id, now - timedelta(hours=hours))
    assert (await fulfil(api, order_id, "DELIVERED"))["userErrors"] == []
    await set_times(settings, order_id, now - timedelta(hours=hours), now)


def estimate(order: dict[str, Any], code: str = "BERLIN-1") -> tuple[float, float, int]:
    """(expected hours to 0.1 h, promised hours, estimate version) of a node in the decision:
    delivery takes a moment after the order is moved back, so observed hours are a bit over."""
    found = candidates(order)[code]
    return round(found["expectedHours"], 1), found["promisedHours"], found["estimateVersion"]


async def berlin(api: Api, **changes: Any) -> None:
    """Berlin promises 48 h to Bavaria and 24 h to Hamburg, 72 h elsewhere."""
    promises = [{"region": "DE-BY", "hours": 48}, {"region": "DE-HH", "hours": 24}]
    await put_node(api, "BERLIN-1", promiseHours=promises, defaultPromiseHours=72, **changes)


async def test_deliveries_move_the_estimate_from_the_promise_toward_observed_hours(
    api: Api, settings: Settings
) -> None:
    await berlin(api)
    await set_stock(api, [("BERLIN-1", "KETTLE-01", 10)])
    first = await create(api, KETTLE, **customer(1))
    assert estimate(first) == (48, 48, 0)  # cold: the promise
    await deliver(api, settings, first["id"], 24)
    second = await create(api, KETTLE, **customer(2))
    # The promise counts as three observations: a quarter of the way to 24 h.
    assert estimate(second) == (42, 48, 1)
    await deliver(api, settings, second["id"], 24)
    third = await create(api, KETTLE, **customer(3))
    assert estimate(third) == (38.4, 48, 2)  # a fifth of the way on
    # Each destination region learns on its own.
    hamburg = await create(api, KETTLE, **customer(4, region="HH"))
    assert estimate(hamburg) == (24, 24, 0)


async def test_a_node_learned_to_be_slow_loses_the_next_order_on_lateness(
    api: Api, settings: Settings
) -> None:
    await berlin(api)
    await put_node(api, "MUNICH-1", region="DE-BY", baseCost="5.50")
    await set_stock(api, [("BERLIN-1", "KETTLE-01", 10), ("MUNICH-1", "KETTLE-01", 10)])
    first = await create(api, KETTLE, **customer(1))
    assert list(assigned(first)) == ["BERLIN-1"]
    await deliver(api, settings, first["id"], 96)  # twice the promise
    second = await create(api, KETTLE, **customer(2))
    assert estimate(second) == (60, 48, 1)
    assert candidates(second)["BERLIN-1"]["components"]["lateness"] == pytest.approx(12.5, 0.01)
    assert list(assigned(second)) == ["MUNICH-1"]
    assert second["routing"]["explanation"].endswith("because of higher lateness risk.")


async def test_a_split_delivery_teaches_every_node_that_shipped(
    api: Api, settings: Settings
) -> None:
    await berlin(api)
    await put_node(api, "MUNICH-1", region="DE-BY")
    await set_stock(api, [("BERLIN-1", "KETTLE-01", 10), ("MUNICH-1", "TOASTER-02", 10)])
    split = await create(api, [*KETTLE, ("TOASTER-02", 1)], **customer(1))
    assert sorted(assigned(split)) == ["BERLIN-1", "MUNICH-1"]
    await deliver(api, settings, split["id"], 24)
    later = await create(api, [*KETTLE, ("TOASTER-02", 1)], **customer(2))
    assert estimate(later) == (42, 48, 1)
    assert estimate(later, "MUNICH-1") == (42, 48, 1)


# ---------------------------------------------------------------- the fairness report


async def fairness(
    api: Api, *, as_client: str = "acme-reports", since: datetime | None = None
) -> list[dict[str, Any]]:
    now = utcnow()
    window: dict[str, object] = {
        "since": (since or now - timedelta(days=1)).isoformat(),
        "until": (now + timedelta(hours=1)).isoformat(),
    }
    data = await api.data(FAIRNESS, window, as_client=as_client)
    regions: list[dict[str, Any]] = data["routingFairnessReport"]["regions"]  # type: ignore[index]
    return regions


async def known_history(api: Api, settings: Settings) -> None:
    """Bavaria: delivered in 30 h and 60 h (promise 48), a split delivered in 40 h, one order
    never routed. Hamburg (promise 24): delivered in 12 h, which teaches 21 h, then one
    predicted at 21 h delivered in 20 h, and one routed twice and not delivered."""
    await berlin(api)
    await put_node(api, "MUNICH-1", region="DE-BY", promiseHours=[{"region": "DE-BY", "hours": 24}])
    await set_stock(api, [("BERLIN-1", "KETTLE-01", 20), ("MUNICH-1", "TOASTER-02", 20)])
    bavaria = [await create(api, KETTLE, **customer(i)) for i in (1, 2)]
    split = await create(api, [*KETTLE, ("TOASTER-02", 1)], **customer(3))
    assert len(assigned(split)) == 2
    never = await create(api, [("GADGET-09", 1)], **customer(4))
    assert never["status"] == "PENDING"
    first_hamburg = await create(api, KETTLE, **customer(5, region="HH"))
    await deliver(api, settings, first_hamburg["id"], 12)
    hamburg = [await create(api, KETTLE, **customer(i, region="HH")) for i in (6, 7)]
    assert estimate(hamburg[0]) == (21, 24, 1)
    assert (await reroute(api, hamburg[1]["id"]))["userErrors"] == []
    for order, hours in ((bavaria[0], 30), (bavaria[1], 60), (split, 40), (hamburg[0], 20)):
        await deliver(api, settings, order["id"], hours)


async def test_the_fairness_report_on_a_known_history(api: Api, settings: Settings) -> None:
    await known_history(api, settings)
    assert await fairness(api) == [
        {
            "region": "DE-BY",
            "routed": 3,
            "delivered": 3,
            "promiseKept": 2,
            "promiseKeptRate": pytest.approx(2 / 3),
            "predictedHoursMean": 48.0,  # the split's slowest node
            "actualHoursMean": 43.33,
            "splitShipments": 1,
            "splitRate": pytest.approx(1 / 3),
        },
        {
            "region": "DE-HH",
            "routed": 3,
            "delivered": 2,
            "promiseKept": 2,
            "promiseKeptRate": 1.0,
            "predictedHoursMean": pytest.approx(22.5, abs=0.01),
            "actualHoursMean": 16.0,
            "splitShipments": 0,
            "splitRate": 0.0,
        },
    ]
    assert await fairness(api, as_client="globex-backend") == []
    assert await fairness(api, since=utcnow()) == []  # routed before the window


@pytest.mark.parametrize(
    ("since", "until", "field"),
    [
        pytest.param(0, 0, "until", id="empty"),
        pytest.param(-400, 0, "since", id="too-long"),
    ],
)
async def test_a_bad_fairness_window_is_refused(
    api: Api, since: int, until: int, field: str
) -> None:
    now = utcnow()
    window: dict[str, object] = {
        "since": (now + timedelta(days=since)).isoformat(),
        "until": (now + timedelta(days=until)).isoformat(),
    }
    response = await api.graphql(FAIRNESS, window, as_client="acme-backend")
    errors = response.json()["errors"]
    assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in errors] == [
        ("INVALID", [field])
    ]
