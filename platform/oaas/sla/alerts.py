"""Burn-rate alerts, the multi-window way of the SRE workbook (chapter 5).

Burn rate is how fast an SLO spends its error budget: the bad fraction in a
window divided by the fraction the SLO allows (1 - target). An alert fires when
a long and a short window, both ending now, burn at least the rule's rate: the
long window makes it significant, the short one makes it still happening.

SLOs: each tenant's availability (bad requests), and for each operation its
p95 latency target (5% of requests may be slower; the slower ones spend it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oaas.db.types import utcnow
from oaas.policy import Action, Principal, require
from oaas.sla.reports import report_tenants, slas_of
from oaas.sla.sli import MAX_EXEMPLARS, OperationTotals, SliTotals, sli_totals

LATENCY_BUDGET = 0.05  # a p95 target lets 5% of requests be slower


@dataclass(frozen=True)
class BurnRule:
    threshold: float
    long: timedelta
    short: timedelta
    severity: str


RULES = (
    BurnRule(14.4, timedelta(hours=1), timedelta(minutes=5), "page"),
    BurnRule(6.0, timedelta(hours=6), timedelta(minutes=30), "page"),
)


@dataclass(frozen=True)
class SlaAlert:
    tenant: str
    slo: str  # "availability" or "latency"
    operation: str | None  # for latency SLOs
    severity: str
    threshold: float
    long_window_minutes: int
    short_window_minutes: int
    long_burn_rate: float
    short_burn_rate: float
    exemplar_trace_ids: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "slo": self.slo,
            "operation": self.operation,
            "severity": self.severity,
            "threshold": self.threshold,
            "longWindowMinutes": self.long_window_minutes,
            "shortWindowMinutes": self.short_window_minutes,
            "longBurnRate": self.long_burn_rate,
            "shortBurnRate": self.short_burn_rate,
            "exemplarTraceIds": self.exemplar_trace_ids,
        }


def _rate(bad: int, count: int, budget: float) -> float:
    return (bad / count) / budget if count else 0.0


def _availability_rate(ops: dict[str, OperationTotals], budget: float) -> float:
    return _rate(sum(o.bad for o in ops.values()), sum(o.count for o in ops.values()), budget)


def _exemplars(*lists: list[str]) -> list[str]:
    found: list[str] = []
    for ids in lists:
        for trace_id in ids:
            if trace_id not in found and len(found) < MAX_EXEMPLARS:
                found.append(trace_id)
    return found


def _alert(
    tenant: str,
    rule: BurnRule,
    slo: str,
    operation: str | None,
    long_rate: float,
    short_rate: float,
    exemplars: list[str],
) -> SlaAlert | None:
    """An alert when both windows of the rule burn at or above its threshold."""
    if long_rate < rule.threshold or short_rate < rule.threshold:
        return None
    return SlaAlert(
        tenant=tenant,
        slo=slo,
        operation=operation,
        severity=rule.severity,
        threshold=rule.threshold,
        long_window_minutes=int(rule.long.total_seconds() // 60),
        short_window_minutes=int(rule.short.total_seconds() // 60),
        long_burn_rate=long_rate,
        short_burn_rate=short_rate,
        exemplar_trace_ids=exemplars,
    )


async def sla_alerts(
    session: AsyncSession,
    principal: Principal,
    *,
    tenant: str | None = None,
    now: datetime | None = None,
) -> list[SlaAlert]:
    """The SLOs burning their budget too fast now, of one tenant or all the caller may read."""
    now = now or utcnow()
    tenants = await report_tenants(session, principal, tenant)
    for row in tenants:
        require(principal, Action.SLA_READ, row.id)
    slas = await slas_of(session, tenants)
    ids = [t.id for t in tenants]
    windows = sorted({w for rule in RULES for w in (rule.long, rule.short)})
    totals: dict[timedelta, SliTotals] = {
        w: await sli_totals(session, ids, now - w, now) for w in windows
    }
    alerts: list[SlaAlert] = []
    for row in tenants:
        sla = slas[row.id]
        for rule in RULES:
            long_ops = totals[rule.long].get(row.id, {})
            short_ops = totals[rule.short].get(row.id, {})
            long_rate = _availability_rate(long_ops, sla.error_budget)
            short_rate = _availability_rate(short_ops, sla.error_budget)
            alert = _alert(
                row.handle,
                rule,
                "availability",
                None,
                long_rate,
                short_rate,
                _exemplars(
                    *(o.bad_traces for o in short_ops.values()),
                    *(o.bad_traces for o in long_ops.values()),
                ),
            )
            if alert is not None:
                alerts.append(alert)
            for operation in sorted(long_ops):
                target = sla.latency_target(operation)
                long_op, short_op = long_ops[operation], short_ops.get(operation)
                if short_op is None:
                    continue
                alert = _alert(
                    row.handle,
                    rule,
                    "latency",
                    operation,
                    _rate(long_op.slower_than(target), long_op.count, LATENCY_BUDGET),
                    _rate(short_op.slower_than(target), short_op.count, LATENCY_BUDGET),
                    _exemplars(short_op.slowest_traces, long_op.slowest_traces),
                )
                if alert is not None:
                    alerts.append(alert)
    return alerts
