"""SLA reports: availability, latency and fulfilment of tenants over a window.

Requests come from the SLI aggregates (oaas.sla.sli), fulfilment from orders
(oaas.sla.fulfilment); both are measured against each tenant's SLA.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from oaas.errors import NotFound
from oaas.policy import Action, Principal, is_allowed, require
from oaas.sla.definitions import PLATFORM_DEFAULT, Sla, stored_slas
from oaas.sla.fulfilment import FulfilmentReport, MerchantFulfilment, fulfilments
from oaas.sla.sli import MAX_EXEMPLARS, OperationTotals, sli_totals
from oaas.sla.window import Window, resolve_window
from oaas.tenancy.models import Tenant

__all__ = ["FulfilmentReport", "MerchantFulfilment", "SlaReport", "TenantReport", "sla_report"]

# Stands for "another tenant" when asking the policy about cross-tenant reads.
_OTHER_TENANT = UUID(int=1)


@dataclass(frozen=True)
class OperationReport:
    operation: str
    count: int
    bad: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    target_p95_ms: float
    met: bool
    exemplar_trace_ids: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "count": self.count,
            "bad": self.bad,
            "p50Ms": self.p50_ms,
            "p95Ms": self.p95_ms,
            "p99Ms": self.p99_ms,
            "targetP95Ms": self.target_p95_ms,
            "met": self.met,
            "exemplarTraceIds": self.exemplar_trace_ids,
        }


@dataclass(frozen=True)
class TenantReport:
    tenant: str
    requests: int
    bad: int
    availability: float  # 0..1
    availability_target: float  # 0..1
    met: bool
    error_budget_remaining: float  # of the window's budget; below 0 when overspent
    burn_rate: float
    exemplar_trace_ids: list[str]
    operations: list[OperationReport]
    fulfilment: FulfilmentReport
    fulfilment_by_merchant: list[MerchantFulfilment] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "requests": self.requests,
            "bad": self.bad,
            "availability": self.availability,
            "availabilityTarget": self.availability_target,
            "met": self.met,
            "errorBudgetRemaining": self.error_budget_remaining,
            "burnRate": self.burn_rate,
            "exemplarTraceIds": self.exemplar_trace_ids,
            "operations": [o.to_json() for o in self.operations],
            "fulfilment": self.fulfilment.to_json(),
            "fulfilmentByMerchant": [m.to_json() for m in self.fulfilment_by_merchant],
        }


@dataclass(frozen=True)
class SlaReport:
    since: datetime
    until: datetime
    tenants: list[TenantReport]

    def to_json(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "tenants": [t.to_json() for t in self.tenants],
        }


async def report_tenants(
    session: AsyncSession, principal: Principal, handle: str | None
) -> list[Tenant]:
    """The tenants a report covers: the one named, or every tenant the caller may read.

    A tenant the caller may not read does not exist for it (NOT_FOUND, not FORBIDDEN).
    """
    if handle is not None:
        tenant = (
            await session.execute(select(Tenant).where(col(Tenant.handle) == handle))
        ).scalar_one_or_none()
        if tenant is None or not is_allowed(principal, Action.SLA_READ, tenant.id):
            raise NotFound("no such tenant", ("tenant",))
        return [tenant]
    if is_allowed(principal, Action.SLA_READ, _OTHER_TENANT):
        return list((await session.execute(select(Tenant).order_by(col(Tenant.handle)))).scalars())
    require(principal, Action.SLA_READ)
    return [await session.get_one(Tenant, principal.tenant_id)]


async def slas_of(session: AsyncSession, tenants: list[Tenant]) -> dict[UUID, Sla]:
    stored = await stored_slas(session, [t.id for t in tenants])
    return {t.id: stored.get(t.id, PLATFORM_DEFAULT) for t in tenants}


def burn_rate(count: int, bad: int, sla: Sla) -> float:
    if count == 0:
        return 0.0
    return (bad / count) / sla.error_budget


def operation_report(operation: str, totals: OperationTotals, sla: Sla) -> OperationReport:
    target = sla.latency_target(operation)
    p95 = totals.histogram.percentile(95)
    exemplars: list[str] = []
    for trace_id in [*totals.bad_traces, *totals.slowest_traces]:
        if trace_id not in exemplars and len(exemplars) < MAX_EXEMPLARS:
            exemplars.append(trace_id)
    return OperationReport(
        operation=operation,
        count=totals.count,
        bad=totals.bad,
        p50_ms=totals.histogram.percentile(50),
        p95_ms=p95,
        p99_ms=totals.histogram.percentile(99),
        target_p95_ms=target,
        met=p95 is None or p95 <= target,
        exemplar_trace_ids=exemplars,
    )


async def build_report(
    session: AsyncSession, principal: Principal, tenants: list[Tenant], window: Window
) -> SlaReport:
    for tenant in tenants:
        require(principal, Action.SLA_READ, tenant.id)
    slas = await slas_of(session, tenants)
    totals = await sli_totals(session, [t.id for t in tenants], window.since, window.until)
    by_tenant = await fulfilments(session, principal, tenants, slas, window)
    reports: list[TenantReport] = []
    for tenant in tenants:
        sla = slas[tenant.id]
        by_operation = totals.get(tenant.id, {})
        operations = [
            operation_report(name, by_operation[name], sla) for name in sorted(by_operation)
        ]
        count = sum(o.count for o in operations)
        bad = sum(o.bad for o in operations)
        availability = (count - bad) / count if count else 1.0
        rate = burn_rate(count, bad, sla)
        exemplars: list[str] = []
        for name in sorted(by_operation):
            for trace_id in by_operation[name].bad_traces:
                if trace_id not in exemplars and len(exemplars) < MAX_EXEMPLARS:
                    exemplars.append(trace_id)
        for report in operations:
            if not report.met:
                for trace_id in by_operation[report.operation].slowest_traces:
                    if trace_id not in exemplars and len(exemplars) < MAX_EXEMPLARS:
                        exemplars.append(trace_id)
        fulfilment, by_merchant = by_tenant[tenant.id]
        reports.append(
            TenantReport(
                tenant=tenant.handle,
                requests=count,
                bad=bad,
                availability=availability,
                availability_target=sla.availability_fraction,
                met=availability >= sla.availability_fraction,
                error_budget_remaining=1 - rate,
                burn_rate=rate,
                exemplar_trace_ids=exemplars,
                operations=operations,
                fulfilment=fulfilment,
                fulfilment_by_merchant=by_merchant,
            )
        )
    return SlaReport(since=window.since, until=window.until, tenants=reports)


async def sla_report(
    session: AsyncSession,
    principal: Principal,
    *,
    tenant: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> SlaReport:
    """The report the API and the command line give: one tenant or all the caller may read."""
    window = resolve_window(since, until)
    tenants = await report_tenants(session, principal, tenant)
    return await build_report(session, principal, tenants, window)
