"""Routing fairness by destination region: are remote regions quietly served worse?

For the orders routed within a window (their latest decision that routed),
per destination region: how many were delivered, how many within the promise,
predicted against actual delivery hours, and the share of split shipments.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from oaas.db import entity_table
from oaas.errors import ErrorCode, OaasError
from oaas.orders.events import EventType
from oaas.orders.models import OrderEvent
from oaas.routing.models import RoutingDecisionRow

decisions = entity_table(RoutingDecisionRow)
events = entity_table(OrderEvent)
MAX_WINDOW_DAYS = 366


@dataclass(frozen=True)
class RegionFairness:
    region: str
    routed: int
    delivered: int
    promise_kept: int
    promise_kept_rate: float | None  # of delivered
    predicted_hours_mean: float | None
    actual_hours_mean: float | None
    split_shipments: int
    split_rate: float  # of routed


@dataclass(frozen=True)
class FairnessReport:
    since: datetime
    until: datetime
    regions: list[RegionFairness]


@dataclass
class _Tally:
    routed: int = 0
    delivered: int = 0
    kept: int = 0
    split: int = 0
    predicted: list[float] = field(default_factory=list)
    actual: list[float] = field(default_factory=list)


def _chosen_hours(row: RoutingDecisionRow) -> tuple[float, float]:
    """(promised, predicted) hours of the order: its slowest assigned node's."""
    chosen = {a["node_id"] for a in row.assignments}
    picked = [c for c in row.candidates if c["node_id"] in chosen]
    return (
        max(float(c["promised_hours"]) for c in picked),
        max(float(c["expected_hours"]) for c in picked),
    )


async def fairness_report(
    session: AsyncSession, merchant_id: UUID, since: datetime, until: datetime
) -> FairnessReport:
    if until <= since:
        raise OaasError(ErrorCode.INVALID, "until must be after since", ("until",))
    if (until - since).days > MAX_WINDOW_DAYS:
        raise OaasError(
            ErrorCode.INVALID, f"the window may span at most {MAX_WINDOW_DAYS} days", ("since",)
        )
    rows = (
        await session.execute(
            select(RoutingDecisionRow).where(
                decisions.c.tenant_id == merchant_id,
                decisions.c.routed.is_(True),
                decisions.c.decided_at >= since,
                decisions.c.decided_at < until,
            )
        )
    ).scalars()
    latest: dict[UUID, RoutingDecisionRow] = {}
    for row in rows:
        if row.order_id not in latest or row.sequence > latest[row.order_id].sequence:
            latest[row.order_id] = row
    delivered_at: dict[UUID, datetime] = {}
    created_at: dict[UUID, datetime] = {}
    if latest:
        order_ids = list(latest)
        for order_id, at in await session.execute(
            select(events.c.order_id, func.min(events.c.at))
            .where(
                events.c.tenant_id == merchant_id,
                events.c.order_id.in_(order_ids),
                events.c.type == EventType.FULFILLMENT_UPDATED,
                events.c.detail["to"].as_string() == "DELIVERED",
            )
            .group_by(events.c.order_id)
        ):
            delivered_at[order_id] = at
        for order_id, at in await session.execute(
            select(events.c.order_id, events.c.at).where(
                events.c.tenant_id == merchant_id,
                events.c.order_id.in_(order_ids),
                events.c.type == EventType.CREATED,
            )
        ):
            created_at[order_id] = at
    tallies: dict[str, _Tally] = {}
    for order_id, row in latest.items():
        tally = tallies.setdefault(row.destination_region, _Tally())
        tally.routed += 1
        if len(row.assignments) > 1:
            tally.split += 1
        delivered = delivered_at.get(order_id)
        created = created_at.get(order_id)
        if delivered is None or created is None:
            continue
        promised, predicted = _chosen_hours(row)
        actual = (delivered - created).total_seconds() / 3600
        tally.delivered += 1
        tally.kept += actual <= promised
        tally.predicted.append(predicted)
        tally.actual.append(actual)
    return FairnessReport(
        since=since,
        until=until,
        regions=[
            RegionFairness(
                region=region,
                routed=t.routed,
                delivered=t.delivered,
                promise_kept=t.kept,
                promise_kept_rate=t.kept / t.delivered if t.delivered else None,
                predicted_hours_mean=round(statistics.fmean(t.predicted), 2)
                if t.predicted
                else None,
                actual_hours_mean=round(statistics.fmean(t.actual), 2) if t.actual else None,
                split_shipments=t.split,
                split_rate=t.split / t.routed,
            )
            for region, t in sorted(tallies.items())
        ],
    )
