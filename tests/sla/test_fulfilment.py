"""Fulfilment against the SLA: orders shipped on time, shipped late, never shipped."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import create_async_engine

from oaas.db.types import utcnow
from oaas.orders.repository import events, orders
from oaas.settings import Settings
from tests.conftest import Api
from tests.orders.documents import CANCEL_ORDER, CREATE_ORDER, UPDATE_FULFILLMENT, order_input
from tests.sla.helpers import report, tenant_entry


async def _order(api: Api, external_id: str, client: str = "acme-shop") -> str:
    data: Any = await api.data(
        CREATE_ORDER, {"input": order_input(externalId=external_id)}, as_client=client
    )
    assert data["createOrder"]["userErrors"] == []
    order_id: str = data["createOrder"]["order"]["id"]
    return order_id


async def _ship(api: Api, order_id: str, status: str = "SHIPPED") -> None:
    data: Any = await api.data(
        UPDATE_FULFILLMENT,
        {"input": {"orderId": order_id, "status": status}},
        as_client="acme-shop",
    )
    assert data["updateFulfillment"]["userErrors"] == []


async def _backdate(
    settings: Settings, external_id: str, created: datetime, shipped: datetime | None = None
) -> None:
    """Moves an order's creation (and its fulfilment events) into the past, as the owner."""
    engine = create_async_engine(settings.migrations_url)
    try:
        async with engine.begin() as conn:
            order_id = (
                await conn.execute(select(orders.c.id).where(orders.c.external_id == external_id))
            ).scalar_one()
            await conn.execute(
                update(orders.table).where(orders.c.id == order_id).values(created_at=created)
            )
            if shipped is not None:
                await conn.execute(
                    update(events.table)
                    .where(events.c.order_id == order_id, events.c.type == "FULFILLMENT_UPDATED")
                    .values(at=shipped)
                )
    finally:
        await engine.dispose()


async def _scenario(api: Api, settings: Settings) -> None:
    """acme (48 h to ship): one late, one on time, one never shipped and overdue; one not
    due yet; one cancelled; and a globex order, overdue, that swiftship does not see."""
    now = utcnow()
    late = await _order(api, "late")
    await _ship(api, late)
    await _ship(api, late, "DELIVERED")  # only the first shipping counts
    await _backdate(settings, "late", now - timedelta(hours=50), now - timedelta(hours=1))
    on_time = await _order(api, "on-time")
    await _ship(api, on_time, "DELIVERED")  # straight to DELIVERED counts as shipped
    await _backdate(settings, "on-time", now - timedelta(hours=10), now - timedelta(hours=8))
    await _order(api, "never")
    await _backdate(settings, "never", now - timedelta(hours=49))
    await _order(api, "not-due")
    cancelled = await _order(api, "cancelled")
    await api.data(CANCEL_ORDER, {"input": {"orderId": cancelled}}, as_client="acme-shop")
    await _backdate(settings, "cancelled", now - timedelta(hours=49))
    await _order(api, "globex-never", client="globex-shop")
    await _backdate(settings, "globex-never", now - timedelta(hours=60))


def _check_acme(fulfilment: dict[str, Any]) -> None:
    assert fulfilment["ordersDue"] == 3
    assert fulfilment["shippedOnTime"] == 1
    assert fulfilment["late"] == 2
    assert abs(fulfilment["deviationRate"] - 2 / 3) < 1e-9


async def test_deviation_counts_late_on_time_and_never_shipped(
    api: Api, settings: Settings
) -> None:
    await _scenario(api, settings)

    acme = tenant_entry(await report(api, as_client="acme-backend"), "acme")

    fulfilment = acme["fulfilment"]
    _check_acme(fulfilment)
    assert fulfilment["maxDeviationRate"] == 0.05
    assert fulfilment["met"] is False
    # shipped after 49 h and after 2 h (nearest rank of two)
    assert abs(fulfilment["orderToShipP50Hours"] - 2) < 0.01
    assert abs(fulfilment["orderToShipP95Hours"] - 49) < 0.01
    assert acme["fulfilmentByMerchant"] == []
    globex = tenant_entry(await report(api, tenant="globex"), "globex")["fulfilment"]
    assert (globex["ordersDue"], globex["late"]) == (1, 1)


async def test_a_partner_sees_the_fulfilment_of_the_orders_shared_with_it(
    api: Api, settings: Settings
) -> None:
    await _scenario(api, settings)

    for client in ("swiftship-admin", "ops-admin"):
        entry = tenant_entry(await report(api, as_client=client, tenant="swiftship"), "swiftship")
        _check_acme(entry["fulfilment"])  # globex shares nothing with swiftship
        assert [m["merchant"] for m in entry["fulfilmentByMerchant"]] == ["acme"]
        _check_acme(entry["fulfilmentByMerchant"][0]["fulfilment"])


async def test_a_longer_promise_makes_the_late_orders_on_time(api: Api, settings: Settings) -> None:
    await _scenario(api, settings)
    from tests.sla.helpers import SET_SLA

    data: Any = await api.data(
        SET_SLA, {"input": {"tenant": "acme", "fulfilmentHours": 72}}, as_client="ops-admin"
    )
    assert data["setTenantSla"]["userErrors"] == []

    fulfilment = tenant_entry(await report(api, tenant="acme"), "acme")["fulfilment"]

    # due by now: only the order shipped in the window (after 49 h, within 72 h)
    assert (fulfilment["ordersDue"], fulfilment["shippedOnTime"], fulfilment["late"]) == (2, 2, 0)
    assert fulfilment["met"] is True
