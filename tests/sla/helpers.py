"""What the SLA tests share: the app's components, flushing, reports and raw SQL."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from oaas.sla.recording import flush
from tests.conftest import Api

TRACERESPONSE = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")

REPORT = """
query Report($tenant: String, $since: DateTime, $until: DateTime) {
  slaReport(tenant: $tenant, since: $since, until: $until) {
    since until
    tenants {
      tenant requests bad availability availabilityTarget met errorBudgetRemaining burnRate
      exemplarTraceIds
      operations { operation count bad p50Ms p95Ms p99Ms targetP95Ms met exemplarTraceIds }
      fulfilment { ordersDue shippedOnTime late deviationRate maxDeviationRate met
                   orderToShipP50Hours orderToShipP95Hours }
      fulfilmentByMerchant { merchant fulfilment { ordersDue shippedOnTime late deviationRate } }
    }
  }
}
"""

ALERTS = """
query Alerts($tenant: String) {
  slaAlerts(tenant: $tenant) {
    tenant slo operation severity threshold longWindowMinutes shortWindowMinutes
    longBurnRate shortBurnRate exemplarTraceIds
  }
}
"""

SET_SLA = """
mutation Set($input: SetTenantSlaInput!) {
  setTenantSla(input: $input) {
    sla { tenant availability latencyP95Ms { operation ms } fulfilmentHours maxDeviationRate }
    userErrors { field message code }
  }
}
"""


def components(api: Api) -> Any:
    return api.http._transport.app.state.components  # type: ignore[attr-defined]


def trace_id(response: httpx.Response) -> str:
    match = TRACERESPONSE.match(response.headers["traceresponse"])
    assert match is not None
    return match.group(1)


async def flush_sli(api: Api) -> int:
    parts = components(api)
    return await flush(parts.database, parts.tracing.aggregator)


async def report(api: Api, as_client: str = "ops-admin", **variables: Any) -> dict[str, Any]:
    data = await api.data(REPORT, variables, as_client=as_client)
    result: dict[str, Any] = data["slaReport"]  # type: ignore[assignment]
    return result


def tenant_entry(report_data: dict[str, Any], handle: str) -> dict[str, Any]:
    for entry in report_data["tenants"]:
        if entry["tenant"] == handle:
            result: dict[str, Any] = entry
            return result
    raise AssertionError(f"{handle} not in the report: {report_data}")


def operation_entry(entry: dict[str, Any], operation: str) -> dict[str, Any]:
    for item in entry["operations"]:
        if item["operation"] == operation:
            result: dict[str, Any] = item
            return result
    raise AssertionError(f"{operation} not in {entry['operations']}")


async def execute(database_url: str, sql: str, **params: Any) -> None:
    """Raw SQL as the tables' owner (outside the app, past row-level security)."""
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(sql), params)
    finally:
        await engine.dispose()


def iso(at: datetime) -> str:
    return at.isoformat()
