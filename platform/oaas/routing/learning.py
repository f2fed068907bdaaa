"""Learning delivery times from what actually happened.

Each (node, destination region) keeps a smoothed estimate of delivery hours. It
starts at the node's promise for the region (cold start: the promise counts as
PRIOR_WEIGHT observations), then moves toward each observed time with weight
1 / (PRIOR_WEIGHT + samples), never less than MIN_STEP, so early deliveries
move it quickly and a long history still follows a slow drift. Each update
bumps the estimate's version; a routing decision records the versions it used.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from oaas.db import entity_table
from oaas.db.types import utcnow
from oaas.routing.models import DeliveryEstimate, FulfilmentNode, RoutingDecisionRow

PRIOR_WEIGHT = 3
MIN_STEP = 0.05
estimates = entity_table(DeliveryEstimate)


def next_estimate(current: float, samples: int, observed: float) -> float:
    step = max(MIN_STEP, 1.0 / (PRIOR_WEIGHT + samples + 1))
    return current + step * (observed - current)


def _promise(node: FulfilmentNode, region: str) -> float:
    country = region.split("-", 1)[0]
    for key in (region, country):
        if key in node.promise_hours:
            return float(node.promise_hours[key])
    return node.default_promise_hours


async def learn_delivery(
    session: AsyncSession,
    decision: RoutingDecisionRow,
    created_at: datetime,
    delivered_at: datetime,
) -> None:
    """Folds one delivery into the estimates of every node that shipped part of the order."""
    observed = max(0.0, (delivered_at - created_at).total_seconds() / 3600)
    region = decision.destination_region
    for assignment in decision.assignments:
        node_id = UUID(assignment["node_id"])
        node = await session.get(FulfilmentNode, (decision.tenant_id, node_id))
        if node is None:
            continue  # the node was deleted since; nothing to learn for it
        row = (
            await session.execute(
                select(DeliveryEstimate)
                .where(
                    estimates.c.tenant_id == decision.tenant_id,
                    estimates.c.node_id == node_id,
                    estimates.c.region == region,
                )
                .with_for_update()
            )
        ).scalar_one_or_none()
        if row is None:
            row = DeliveryEstimate(
                tenant_id=decision.tenant_id,
                node_id=node_id,
                region=region,
                hours=_promise(node, region),
                samples=0,
                version=0,
            )
        row.hours = round(next_estimate(row.hours, row.samples, observed), 4)
        row.samples += 1
        row.version += 1
        row.updated_at = utcnow()
        session.add(row)
    await session.flush()
