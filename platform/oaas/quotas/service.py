"""Declaring plans: the platform operator's act, through manifests."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from oaas.db.types import utcnow
from oaas.errors import Key, Problems
from oaas.policy import Action, Principal, require
from oaas.quotas.plans import STANDARD, Plan, PlanLimits

# Plans are the platform's: declaring one acts on every tenant but the caller's own.
_OTHER_TENANT = UUID(int=1)


async def find_plan(session: AsyncSession, name: str) -> PlanLimits | None:
    """A declared plan, or the built-in `standard`."""
    plan = await session.get(Plan, name)
    if plan is not None:
        return plan.limits()
    return STANDARD if name == STANDARD.name else None


async def put_plan(session: AsyncSession, principal: Principal, limits: PlanLimits) -> str:
    """Creates or updates a plan; answers created, updated or unchanged."""
    require(principal, Action.TENANT_ADMIN, _OTHER_TENANT)
    plan = await session.get(Plan, limits.name)
    if plan is None:
        session.add(
            Plan(
                name=limits.name,
                bucket_size=limits.bucket_size,
                restore_rate=limits.restore_rate,
                max_query_cost=limits.max_query_cost,
            )
        )
        await session.flush()
        return "created"
    if plan.limits() == limits:
        return "unchanged"
    plan.bucket_size = limits.bucket_size
    plan.restore_rate = limits.restore_rate
    plan.max_query_cost = limits.max_query_cost
    plan.updated_at = utcnow()
    await session.flush()
    return "updated"


def check_plan(data: object, problems: Problems) -> PlanLimits | None:
    """The plan a manifest's entry declares, or None with each bad value added (plans
    have no API input: the paths are the manifest's keys)."""
    if not isinstance(data, dict):
        problems.add((), "must be a mapping")
        return None
    before = len(problems)
    allowed = {"name", "bucket_size", "restore_rate", "max_query_cost"}
    for key in data:
        if key not in allowed:
            problems.add(
                (Key(str(key)),), f"unknown key (expected one of {', '.join(sorted(allowed))})"
            )
    name = data.get("name")
    if (
        not isinstance(name, str)
        or not name
        or len(name) > 63
        or not name.replace("-", "").isalnum()
    ):
        problems.add(("name",), "must be 1 to 63 letters, digits and '-'")
    bucket = data.get("bucket_size")
    if not isinstance(bucket, int) or isinstance(bucket, bool) or not 1 <= bucket <= 10_000_000:
        problems.add(("bucket_size",), "must be a whole number from 1 to 10000000")
    rate = data.get("restore_rate")
    if not isinstance(rate, int | float) or isinstance(rate, bool) or not 0 < rate <= 1_000_000:
        problems.add(("restore_rate",), "must be a number of points a second, above 0")
    cost = data.get("max_query_cost")
    if not isinstance(cost, int) or isinstance(cost, bool) or cost < 1:
        problems.add(("max_query_cost",), "must be a whole number of at least 1")
    elif isinstance(bucket, int) and not isinstance(bucket, bool) and cost > bucket:
        problems.add(("max_query_cost",), "must not exceed bucket_size")
    if len(problems) > before:
        return None
    return PlanLimits(
        name=data["name"],
        bucket_size=data["bucket_size"],
        restore_rate=float(data["restore_rate"]),
        max_query_cost=data["max_query_cost"],
    )
