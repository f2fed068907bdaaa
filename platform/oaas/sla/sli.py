"""Reading SLI aggregates back: the `sli_minutes` rows of a window, merged.

Rows are per flush, per worker, per minute; here they add up: counts sum,
histograms add bucket by bucket, exemplar trace ids concatenate (newest minute
first, each id once).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from oaas.db import entity_table
from oaas.sla.models import SliMinute
from oaas.telemetry.histogram import Histogram, bucket_value

sli_minutes = entity_table(SliMinute)

MAX_EXEMPLARS = 10


def minute_floor(at: datetime) -> datetime:
    return datetime.fromtimestamp(int(at.timestamp()) // 60 * 60, UTC)


def _add_unique(target: list[str], ids: Iterable[str], limit: int) -> None:
    for trace_id in ids:
        if len(target) >= limit:
            return
        if trace_id not in target:
            target.append(trace_id)


@dataclass
class OperationTotals:
    count: int = 0
    bad: int = 0
    histogram: Histogram = field(default_factory=Histogram)
    bad_traces: list[str] = field(default_factory=list)
    slowest_traces: list[str] = field(default_factory=list)

    def slower_than(self, target_ms: float) -> int:
        """Requests whose latency bucket lies above `target_ms` (to the histogram's ~1%)."""
        return sum(
            n for index, n in self.histogram.buckets.items() if bucket_value(index) > target_ms
        )


# tenant id -> operation -> totals
SliTotals = dict[UUID, dict[str, OperationTotals]]


async def sli_totals(
    session: AsyncSession, tenant_ids: list[UUID], since: datetime, until: datetime
) -> SliTotals:
    """The minutes that overlap [since, until) of these tenants, merged per operation."""
    totals: SliTotals = {tenant_id: {} for tenant_id in tenant_ids}
    if not tenant_ids:
        return totals
    query = (
        select(
            sli_minutes.c.tenant_id,
            sli_minutes.c.operation,
            sli_minutes.c.count,
            sli_minutes.c.bad,
            sli_minutes.c.histogram,
            sli_minutes.c.exemplars,
        )
        .where(
            sli_minutes.c.tenant_id.in_(tenant_ids),
            sli_minutes.c.minute >= minute_floor(since),
            sli_minutes.c.minute < until,
        )
        .order_by(sli_minutes.c.minute.desc())
    )
    for row in (await session.execute(query)).mappings():
        operations = totals.setdefault(row["tenant_id"], {})
        entry = operations.get(row["operation"])
        if entry is None:
            entry = operations[row["operation"]] = OperationTotals()
        entry.count += row["count"]
        entry.bad += row["bad"]
        entry.histogram.merge(row["histogram"])
        exemplars = row["exemplars"] or {}
        _add_unique(entry.bad_traces, exemplars.get("bad", []), MAX_EXEMPLARS)
        _add_unique(entry.slowest_traces, exemplars.get("slowest", []), MAX_EXEMPLARS)
    return totals
