"""slaAlerts: multi-window burn-rate alerts on synthetic bursts."""

from __future__ import annotations

import time
from typing import Any

from oaas.db import SYSTEM_SCOPE
from oaas.tenancy.service import find_tenant
from tests.conftest import Api
from tests.sla.helpers import ALERTS, components, flush_sli

MINUTE_NS = 60 * 1_000_000_000


async def _tenant_id(api: Api, handle: str) -> str:
    async with components(api).database.session(write=False, scope=SYSTEM_SCOPE) as session:
        tenant = await find_tenant(session, handle)
        assert tenant is not None
        return str(tenant.id)


async def _burst(
    api: Api, handle: str, *, ago_minutes: float, count: int, bad: int, ms: float = 20.0
) -> set[str]:
    """`count` requests of `ms` each, `bad` of them bad, ending `ago_minutes` ago."""
    aggregator = components(api).tracing.aggregator
    tenant_id = await _tenant_id(api, handle)
    end_ns = time.time_ns() - int(ago_minutes * MINUTE_NS)
    bad_ids: set[str] = set()
    for index in range(count):
        trace_id = f"{int(ago_minutes):04x}{index:028x}"
        is_bad = index < bad
        if is_bad:
            bad_ids.add(trace_id)
        aggregator.record(
            end_ns=end_ns,
            tenant_id=tenant_id,
            operation="orders",
            duration_ms=ms,
            bad=is_bad,
            trace_id=trace_id,
        )
    await flush_sli(api)
    return bad_ids


async def _alerts(api: Api, as_client: str = "ops-admin", **variables: Any) -> list[Any]:
    data: Any = await api.data(ALERTS, variables, as_client=as_client)
    result: list[Any] = data["slaAlerts"]
    return result


async def test_a_burst_of_bad_requests_pages_on_both_rules(api: Api) -> None:
    components(api).tracing.aggregator.drain()
    # acme is healthy: good, fast requests. Recorded, not sent: a real request's own
    # latency on a loaded machine (2.6 s once in CI) would page acme's latency SLO.
    await _burst(api, "acme", ago_minutes=0, count=3, bad=0)
    bad_ids = await _burst(api, "globex", ago_minutes=0, count=100, bad=30)

    alerts = await _alerts(api)

    assert {(a["tenant"], a["slo"]) for a in alerts} == {("globex", "availability")}
    rules = sorted(
        (a["longWindowMinutes"], a["shortWindowMinutes"], a["threshold"]) for a in alerts
    )
    assert rules == [(60, 5, 14.4), (360, 30, 6.0)]
    for alert in alerts:
        assert alert["severity"] == "page"
        assert abs(alert["longBurnRate"] - 0.3 / 0.001) < 1e-6
        assert abs(alert["shortBurnRate"] - 0.3 / 0.001) < 1e-6
        assert alert["exemplarTraceIds"]
        assert set(alert["exemplarTraceIds"]) <= bad_ids
    # merchants see their own alerts only
    assert await _alerts(api, as_client="acme-backend") == []
    assert len(await _alerts(api, as_client="globex-backend")) == 2


async def test_a_burst_that_is_over_does_not_page(api: Api) -> None:
    """40 minutes ago: the 1 h window burns, the 5 min and 30 min windows do not."""
    components(api).tracing.aggregator.drain()
    await _burst(api, "globex", ago_minutes=40, count=100, bad=30)
    await _burst(api, "globex", ago_minutes=0, count=100, bad=0)
    assert await _alerts(api, tenant="globex") == []


async def test_a_slow_burst_burns_the_latency_slo(api: Api) -> None:
    components(api).tracing.aggregator.drain()
    await _burst(api, "globex", ago_minutes=0, count=50, bad=0, ms=2000.0)

    alerts = await _alerts(api, tenant="globex")

    assert {(a["slo"], a["operation"]) for a in alerts} == {("latency", "orders")}
    for alert in alerts:
        assert abs(alert["longBurnRate"] - 1 / 0.05) < 1e-6  # every request slower than 500 ms
        assert alert["exemplarTraceIds"]
