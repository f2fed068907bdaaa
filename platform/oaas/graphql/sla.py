"""SLAs over GraphQL: reports, burn-rate alerts and definitions (oaas.sla does the work)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from oaas.graphql.context import Info
from oaas.graphql.errors import UserError, answer, mutate
from oaas.graphql.inputs import as_utc
from oaas.graphql.permissions import allowed
from oaas.policy import Action
from oaas.sla import alerts as sla_alerts
from oaas.sla import definitions, reports
from oaas.tenancy import service as tenancy


@strawberry.type
class OperationLatency:
    operation: str = strawberry.field(description='An operation name, or "default".')
    ms: float


@strawberry.type
class SlaDefinition:
    tenant: str
    availability: float = strawberry.field(description="Percent of requests that are not bad.")
    latency_p95_ms: list[OperationLatency]
    fulfilment_hours: float
    max_deviation_rate: float = strawberry.field(description="Percent of due orders.")

    @classmethod
    def of(cls, tenant: str, sla: definitions.Sla) -> SlaDefinition:
        return cls(
            tenant=tenant,
            availability=sla.availability,
            latency_p95_ms=[
                OperationLatency(operation=op, ms=ms)
                for op, ms in sorted(sla.latency_p95_ms.items())
            ],
            fulfilment_hours=sla.fulfilment_hours,
            max_deviation_rate=sla.max_deviation_rate,
        )


@strawberry.type
class SlaOperationReport:
    operation: str
    count: int
    bad: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    target_p95_ms: float
    met: bool
    exemplar_trace_ids: list[str]


@strawberry.type
class SlaFulfilment:
    orders_due: int
    shipped_on_time: int
    late: int
    deviation_rate: float = strawberry.field(description="late / ordersDue, 0..1.")
    max_deviation_rate: float = strawberry.field(description="0..1.")
    met: bool
    order_to_ship_p50_hours: float | None
    order_to_ship_p95_hours: float | None


@strawberry.type
class SlaMerchantFulfilment:
    merchant: str
    fulfilment: SlaFulfilment


@strawberry.type
class SlaTenantReport:
    tenant: str
    requests: int
    bad: int
    availability: float = strawberry.field(description="0..1.")
    availability_target: float = strawberry.field(description="0..1.")
    met: bool
    error_budget_remaining: float
    burn_rate: float
    exemplar_trace_ids: list[str]
    operations: list[SlaOperationReport]
    fulfilment: SlaFulfilment
    fulfilment_by_merchant: list[SlaMerchantFulfilment] = strawberry.field(
        description="Partners: the orders each merchant shares with them."
    )


@strawberry.type
class SlaReport:
    since: datetime
    until: datetime
    tenants: list[SlaTenantReport]


@strawberry.type
class SlaAlert:
    tenant: str
    slo: str = strawberry.field(description='"availability" or "latency" (of `operation`).')
    operation: str | None
    severity: str
    threshold: float
    long_window_minutes: int
    short_window_minutes: int
    long_burn_rate: float
    short_burn_rate: float
    exemplar_trace_ids: list[str]


@strawberry.input
class OperationLatencyInput:
    operation: str
    ms: float


@strawberry.input
class SetTenantSlaInput:
    tenant: str
    availability: float | None = None
    latency_p95_ms: list[OperationLatencyInput] | None = None
    fulfilment_hours: float | None = None
    max_deviation_rate: float | None = None


@strawberry.type
class SetTenantSlaPayload:
    sla: SlaDefinition | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _fulfilment(report: reports.FulfilmentReport) -> SlaFulfilment:
    return SlaFulfilment(
        orders_due=report.orders_due,
        shipped_on_time=report.shipped_on_time,
        late=report.late,
        deviation_rate=report.deviation_rate,
        max_deviation_rate=report.max_deviation_rate,
        met=report.met,
        order_to_ship_p50_hours=report.order_to_ship_p50_hours,
        order_to_ship_p95_hours=report.order_to_ship_p95_hours,
    )


def _tenant_report(report: reports.TenantReport) -> SlaTenantReport:
    return SlaTenantReport(
        tenant=report.tenant,
        requests=report.requests,
        bad=report.bad,
        availability=report.availability,
        availability_target=report.availability_target,
        met=report.met,
        error_budget_remaining=report.error_budget_remaining,
        burn_rate=report.burn_rate,
        exemplar_trace_ids=report.exemplar_trace_ids,
        operations=[
            SlaOperationReport(
                operation=o.operation,
                count=o.count,
                bad=o.bad,
                p50_ms=o.p50_ms,
                p95_ms=o.p95_ms,
                p99_ms=o.p99_ms,
                target_p95_ms=o.target_p95_ms,
                met=o.met,
                exemplar_trace_ids=o.exemplar_trace_ids,
            )
            for o in report.operations
        ],
        fulfilment=_fulfilment(report.fulfilment),
        fulfilment_by_merchant=[
            SlaMerchantFulfilment(merchant=m.merchant, fulfilment=_fulfilment(m.fulfilment))
            for m in report.fulfilment_by_merchant
        ],
    )


async def _set_sla(info: Info, input: SetTenantSlaInput) -> SlaDefinition:
    session, principal = info.context.session, info.context.principal
    tenant = await tenancy.get_tenant(
        session, principal, input.tenant, ("input", "tenant"), action=Action.SLA_WRITE
    )
    data: dict[str, object] = {}
    for key in ("availability", "fulfilment_hours", "max_deviation_rate"):
        value = getattr(input, key)
        if value is not None:
            data[key] = value
    if input.latency_p95_ms is not None:
        data["latency_p95_ms"] = {item.operation: item.ms for item in input.latency_p95_ms}
    sla = definitions.parse_sla(data, ("input",))
    await definitions.set_sla(session, principal, tenant, sla)
    return SlaDefinition.of(tenant.handle, sla)


@strawberry.type
class SlaQuery:
    @strawberry.field(
        permission_classes=[allowed(Action.SLA_READ)],
        description="Availability, latency and fulfilment against the SLA, over a window "
        "(default: the last 24 hours). Platform admins: every tenant, or `tenant`; "
        "merchants and partners: their own.",
    )
    async def sla_report(
        self,
        info: Info,
        tenant: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> SlaReport:
        report = await answer(
            reports.sla_report(
                info.context.session,
                info.context.principal,
                tenant=tenant,
                since=as_utc(since),
                until=as_utc(until),
            )
        )
        return SlaReport(
            since=report.since,
            until=report.until,
            tenants=[_tenant_report(t) for t in report.tenants],
        )

    @strawberry.field(
        permission_classes=[allowed(Action.SLA_READ)],
        description="SLOs burning their error budget >= 14.4x over 1 h and 5 min, "
        "or >= 6x over 6 h and 30 min.",
    )
    async def sla_alerts(self, info: Info, tenant: str | None = None) -> list[SlaAlert]:
        found = await answer(
            sla_alerts.sla_alerts(info.context.session, info.context.principal, tenant=tenant)
        )
        return [
            SlaAlert(
                tenant=a.tenant,
                slo=a.slo,
                operation=a.operation,
                severity=a.severity,
                threshold=a.threshold,
                long_window_minutes=a.long_window_minutes,
                short_window_minutes=a.short_window_minutes,
                long_burn_rate=a.long_burn_rate,
                short_burn_rate=a.short_burn_rate,
                exemplar_trace_ids=a.exemplar_trace_ids,
            )
            for a in found
        ]

    @strawberry.field(
        permission_classes=[allowed(Action.SLA_READ)],
        description="A tenant's SLA (the platform defaults when it has none of its own).",
    )
    async def tenant_sla(self, info: Info, tenant: str | None = None) -> SlaDefinition:
        async def work() -> SlaDefinition:
            session, principal = info.context.session, info.context.principal
            rows = await reports.report_tenants(
                session, principal, tenant if tenant is not None else principal.tenant_handle
            )
            return SlaDefinition.of(
                rows[0].handle, await definitions.get_sla(session, principal, rows[0])
            )

        return await answer(work())


@strawberry.type
class SlaMutation:
    @strawberry.mutation(
        permission_classes=[allowed(Action.SLA_WRITE)],
        description="Sets a tenant's SLA; fields left out take the platform defaults.",
    )
    async def set_tenant_sla(self, info: Info, input: SetTenantSlaInput) -> SetTenantSlaPayload:
        return await mutate(
            info,
            SetTenantSlaPayload,
            lambda: _set_sla(info, input),
            lambda sla: SetTenantSlaPayload(sla=sla),
        )
