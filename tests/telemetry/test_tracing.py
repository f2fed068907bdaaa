"""Server spans, W3C trace context and the SLI aggregates they feed."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from oaas.settings import Settings
from oaas.sla.recording import flush, sli_minutes
from tests.conftest import Api
from tests.orders.documents import CREATE_ORDER, ORDERS, order_input

TRACERESPONSE = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def _components(api: Api) -> Any:
    return api.http._transport.app.state.components  # type: ignore[attr-defined]


async def test_every_response_carries_its_traceresponse(api: Api) -> None:
    response = await api.graphql("{ viewer { clientId } }", as_client="acme-shop")
    match = TRACERESPONSE.match(response.headers["traceresponse"])
    assert match is not None
    unauthenticated = await api.graphql("{ viewer { clientId } }")
    assert unauthenticated.status_code == 401
    assert TRACERESPONSE.match(unauthenticated.headers["traceresponse"])


async def test_an_incoming_traceparent_is_continued(api: Api) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    response = await api.graphql(
        "{ viewer { clientId } }",
        as_client="acme-shop",
        headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"},
    )
    match = TRACERESPONSE.match(response.headers["traceresponse"])
    assert match is not None
    assert match.group(1) == trace_id
    assert match.group(2) != "00f067aa0ba902b7"


async def test_sli_aggregates_count_requests_per_tenant_and_operation(
    api: Api, settings: Settings
) -> None:
    components = _components(api)
    components.tracing.aggregator.drain()  # the token requests are not SLI events anyway
    trace_ids: set[str] = set()
    for _ in range(3):
        response = await api.graphql(CREATE_ORDER, {"input": order_input()}, as_client="acme-shop")
        trace_ids.add(TRACERESPONSE.match(response.headers["traceresponse"]).group(1))  # type: ignore[union-attr]
    for _ in range(2):
        await api.graphql(ORDERS, {"first": 5}, as_client="globex-shop")
    await api.graphql(ORDERS, {"first": 5})  # 401: no tenant, not counted
    written = await flush(components.database, components.tracing.aggregator)
    assert written >= 2
    engine = create_async_engine(settings.migrations_url)
    async with engine.connect() as conn:
        rows = (await conn.execute(select(sli_minutes.table))).mappings().all()
    await engine.dispose()
    by_operation: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = by_operation.setdefault(row["operation"], {"count": 0, "bad": 0, "exemplars": []})
        entry["count"] += row["count"]
        entry["bad"] += row["bad"]
        entry["exemplars"] += row["exemplars"]["slowest"]
    assert by_operation["createOrder"]["count"] == 3
    assert by_operation["orders"]["count"] == 2
    assert all(v["bad"] == 0 for v in by_operation.values())
    assert set(by_operation["createOrder"]["exemplars"]) == trace_ids
