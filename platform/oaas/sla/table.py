"""The SLA report as plain text for `oaas sla report --format table`."""

from __future__ import annotations

from oaas.sla.reports import FulfilmentReport, SlaReport, TenantReport


def _mark(met: bool) -> str:
    return "met" if met else "BREACHED"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _hours(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}h"


def _fulfilment_line(label: str, f: FulfilmentReport) -> str:
    return (
        f"  {label}: due {f.orders_due}, on time {f.shipped_on_time}, late {f.late}, "
        f"deviation {f.deviation_rate:.2%} (max {f.max_deviation_rate:.2%}) {_mark(f.met)}; "
        f"order to ship p50 {_hours(f.order_to_ship_p50_hours)} "
        f"p95 {_hours(f.order_to_ship_p95_hours)}"
    )


def _tenant(t: TenantReport) -> list[str]:
    lines = [
        f"{t.tenant}: availability {t.availability:.3%} (target {t.availability_target:.3%}) "
        f"{_mark(t.met)}; requests {t.requests}, bad {t.bad}; burn rate {t.burn_rate:.2f}x, "
        f"error budget left {t.error_budget_remaining:.1%}"
    ]
    if t.operations:
        width = max(9, *(len(o.operation) for o in t.operations))
        lines.append(
            f"  {'operation':<{width}} {'count':>7} {'bad':>5} {'p50 ms':>9} {'p95 ms':>9} "
            f"{'p99 ms':>9} {'target':>9}  p95"
        )
        for o in t.operations:
            lines.append(
                f"  {o.operation:<{width}} {o.count:>7} {o.bad:>5} {_ms(o.p50_ms):>9} "
                f"{_ms(o.p95_ms):>9} {_ms(o.p99_ms):>9} {_ms(o.target_p95_ms):>9}  {_mark(o.met)}"
            )
    else:
        lines.append("  no requests in the window")
    lines.append(_fulfilment_line("fulfilment", t.fulfilment))
    for m in t.fulfilment_by_merchant:
        lines.append(_fulfilment_line(f"  for {m.merchant}", m.fulfilment))
    if t.exemplar_trace_ids:
        lines.append(f"  exemplar traces: {' '.join(t.exemplar_trace_ids)}")
    return lines


def report_table(report: SlaReport) -> str:
    lines = [f"SLA report {report.since.isoformat()} .. {report.until.isoformat()}"]
    for tenant in report.tenants:
        lines.append("")
        lines.extend(_tenant(tenant))
    return "\n".join(lines)
