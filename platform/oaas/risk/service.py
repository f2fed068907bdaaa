"""The database side of risk: a merchant's policy, the history an assessment reads, and
the stored assessment of each order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from functools import lru_cache
from itertools import chain, pairwise, repeat
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Integer,
    Row,
    Select,
    and_,
    bindparam,
    case,
    func,
    insert,
    literal,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from oaas.audit import log as audit
from oaas.db import PreparedQuery, entity_table, run_insert
from oaas.db.types import utcnow
from oaas.errors import ErrorCode, OaasError, Problems
from oaas.orders.money import minor_unit_exponent, to_minor
from oaas.orders.records import LineRecord, OrderRecord
from oaas.orders.repository import lines, orders
from oaas.policy import Action, Principal, TenantKind, require
from oaas.risk.disposable import normalised_domain
from oaas.risk.facts import RiskAssessment, RiskFact, RiskInputs, RiskLevel, RiskPolicy
from oaas.risk.models import RiskAssessmentRow, RiskProfileRow
from oaas.tenancy.models import Tenant
from oaas.text import quote

assessments = entity_table(RiskAssessmentRow)
profiles = entity_table(RiskProfileRow)
# Every createOrder runs these two.
_PROFILE_OF_MERCHANT = PreparedQuery(
    select(*profiles.c).where(profiles.c.tenant_id == bindparam("merchant_id"))
)
_INSERT_ASSESSMENT = insert(assessments.table)
HISTORY_ORDERS = 500
HISTORY_QUANTITIES = 2000
ADDRESS_WINDOW = timedelta(days=30)


def policy_from_row(row: RiskProfileRow | Row[Any] | None) -> RiskPolicy:
    if row is None:
        return RiskPolicy()
    settings = row.settings
    return RiskPolicy(
        hold_threshold=row.hold_threshold,
        medium_threshold=int(settings.get("medium_threshold", 40)),
        velocity_window_hours=tuple(settings.get("velocity_window_hours", (1, 24))),
        velocity_limits=tuple(settings.get("velocity_limits", (3, 10))),
        distinct_addresses_limit=int(settings.get("distinct_addresses_limit", 3)),
        extra_disposable_domains=frozenset(settings.get("extra_disposable_domains", ())),
        version=row.version,
    )


def risk_policy(
    hold_threshold: int,
    medium_threshold: int,
    velocity_window_hours: Sequence[int],
    velocity_limits: Sequence[int],
    distinct_addresses_limit: int,
    extra_disposable_domains: Sequence[str],
    version: int = 0,
) -> RiskPolicy:
    """A policy from the API's input, or ValidationFailed naming every bad field."""
    problems = Problems("input")
    policy = check_risk_policy(
        problems,
        hold_threshold,
        medium_threshold,
        velocity_window_hours,
        velocity_limits,
        distinct_addresses_limit,
        extra_disposable_domains,
        version,
    )
    problems.raise_if_any()
    assert policy is not None
    return policy


def check_risk_policy(
    problems: Problems,
    hold_threshold: int,
    medium_threshold: int,
    velocity_window_hours: Sequence[int],
    velocity_limits: Sequence[int],
    distinct_addresses_limit: int,
    extra_disposable_domains: Sequence[str],
    version: int = 0,
) -> RiskPolicy | None:
    """The policy, or None with each bad value added to `problems`."""
    before = len(problems)
    hold_valid = 1 <= hold_threshold <= 100
    if not hold_valid:
        problems.add(("holdThreshold",), "must be between 1 and 100")
    # Against a hold threshold out of range, only the medium's own range is checked.
    if not 0 <= medium_threshold <= (hold_threshold if hold_valid else 100):
        problems.add(("mediumThreshold",), "must be between 0 and holdThreshold")
    if len(velocity_limits) != len(velocity_window_hours):
        problems.add(("velocityLimits",), "needs one limit per window of velocityWindowHours")
    if any(h < 1 for h in velocity_window_hours) or any(
        a >= b for a, b in pairwise(velocity_window_hours)
    ):
        problems.add(
            ("velocityWindowHours",), "windows must be whole hours, at least 1, increasing"
        )
    if any(limit < 1 for limit in velocity_limits):
        problems.add(("velocityLimits",), "each limit must be at least 1")
    if distinct_addresses_limit < 1:
        problems.add(("distinctAddressesLimit",), "must be at least 1")
    domains: frozenset[str] = frozenset()
    if len(extra_disposable_domains) > 1000:
        problems.add(("extraDisposableDomains",), "at most 1000 domains")
    else:
        domains = _disposable_domains(
            problems.at("extraDisposableDomains"), extra_disposable_domains
        )
    if len(problems) > before:
        return None
    try:
        return RiskPolicy(
            hold_threshold=hold_threshold,
            medium_threshold=medium_threshold,
            velocity_window_hours=tuple(velocity_window_hours),
            velocity_limits=tuple(velocity_limits),
            distinct_addresses_limit=distinct_addresses_limit,
            extra_disposable_domains=domains,
            version=version,
        )
    except ValueError as error:
        problems.add((), str(error))
        return None


def _disposable_domains(problems: Problems, entries: Sequence[str]) -> frozenset[str]:
    """The entries as domain names; each bad one added to `problems` by its index."""
    domains: set[str] = set()
    for index, entry in enumerate(entries):
        try:
            domains.add(normalised_domain(entry))
        except ValueError as error:
            problems.add((index,), f"{quote(entry)} {error}")
    return frozenset(domains)


async def set_risk_policy(
    session: AsyncSession, principal: Principal, merchant: Tenant, policy: RiskPolicy
) -> RiskPolicy:
    require(principal, Action.RISK_WRITE, merchant.id)
    if merchant.kind != TenantKind.MERCHANT:
        raise OaasError(
            ErrorCode.INVALID, f"{merchant.handle!r} is not a merchant", ("input", "merchant")
        )
    row = await session.get(RiskProfileRow, merchant.id)
    settings = {
        "medium_threshold": policy.medium_threshold,
        "velocity_window_hours": list(policy.velocity_window_hours),
        "velocity_limits": list(policy.velocity_limits),
        "distinct_addresses_limit": policy.distinct_addresses_limit,
        "extra_disposable_domains": sorted(policy.extra_disposable_domains),
    }
    if row is None:
        row = RiskProfileRow(tenant_id=merchant.id, version=0, hold_threshold=0, settings={})
    row.version += 1
    row.hold_threshold = policy.hold_threshold
    row.settings = settings
    row.updated_at = utcnow()
    session.add(row)
    await session.flush()
    await audit.record(
        session,
        principal,
        tenant_id=merchant.id,
        act="risk_profile.updated",
        object_type="RiskProfile",
        object_id=merchant.handle,
        detail={"version": row.version, "hold_threshold": policy.hold_threshold, **settings},
    )
    return policy_from_row(row)


async def load_policy(session: AsyncSession, merchant_id: UUID) -> RiskPolicy:
    found = await _PROFILE_OF_MERCHANT.execute(session, {"merchant_id": merchant_id})
    return policy_from_row(found.first())


def _address_of(has_postal_code: bool) -> ColumnElement[bool]:
    """One shipping address as the columns that identify it (case-insensitive street)."""
    return and_(
        orders.c.ship_line1_key == bindparam("line1"),
        orders.c.ship_postal_code == bindparam("postal_code")
        if has_postal_code
        else orders.c.ship_postal_code.is_(None),
        orders.c.ship_country == bindparam("country"),
    )


@lru_cache(maxsize=256)
def _velocity_statement(has_postal_code: bool, has_email: bool, windows: int) -> PreparedQuery:
    """The velocity counts of one shape of order, built once: building it anew cost more
    than running it. Parameters: tenant_id, order_id, since, line1, postal_code,
    country, email and window_0... (the start of each window, longest first)."""

    def earlier(subject: ColumnElement[bool], by_email: int) -> Select[Any]:
        return select(
            orders.c.created_at.label("created_at"), literal(by_email, Integer).label("by_email")
        ).where(
            orders.c.tenant_id == bindparam("tenant_id"),
            orders.c.id != bindparam("order_id"),
            orders.c.created_at >= bindparam("since"),
            subject,
        )

    branches = [earlier(_address_of(has_postal_code), 0)]
    if has_email:
        branches.append(earlier(orders.c.customer_email == bindparam("email"), 1))
    found = union_all(*branches).subquery() if len(branches) > 1 else branches[0].subquery()
    columns = []
    for window in range(windows):
        recent = found.c.created_at >= bindparam(f"window_{window}")
        for by_email in (1, 0):
            columns.append(func.sum(case((and_(recent, found.c.by_email == by_email), 1), else_=0)))
    return PreparedQuery(select(*columns))


async def _velocity(
    session: AsyncSession, order: OrderRecord, policy: RiskPolicy
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Earlier orders from the same email and to the same address in each window, in one
    statement (conditional counts over the longest window).

    Each subject is read by its own branch of a UNION ALL, through its own index
    (migration 0008), so the statement reads the subject's orders, however many
    the merchant took in the window. One filter with `email OR address` lets
    SQLite's planner read the merchant's whole day by time instead.
    """
    now = utcnow()
    address = order.shipping_address
    windows = policy.velocity_window_hours
    statement = _velocity_statement(
        address.postal_code is not None, bool(order.customer_email), len(windows)
    )
    values: dict[str, Any] = {
        "tenant_id": order.tenant_id,
        "order_id": order.id,
        "since": now - timedelta(hours=max(windows)),
        "line1": address.line1.lower(),
        "postal_code": address.postal_code,
        "country": address.country,
        "email": order.customer_email,
    }
    for window, hours in enumerate(windows):
        values[f"window_{window}"] = now - timedelta(hours=hours)
    row = (await statement.execute(session, values)).one()
    counts = [int(value or 0) for value in row]
    return tuple(counts[0::2]), tuple(counts[1::2])


def _histogram_statement(recent: Select[Any]) -> PreparedQuery:
    """The values of `recent` (one column, `value`), counted in SQL: a shop's history
    holds few distinct totals and quantities, so a few rows come back instead of
    thousands (each row costs the ORM's result processing)."""
    values = recent.subquery()
    return PreparedQuery(
        select(values.c.value, func.count()).group_by(values.c.value).order_by(values.c.value)
    )


# The merchant's recent totals in a currency, and recent line quantities: built once.
_RECENT_TOTALS = _histogram_statement(
    select(orders.c.total_minor.label("value"))
    .where(
        orders.c.tenant_id == bindparam("tenant_id"),
        orders.c.currency == bindparam("currency"),
        orders.c.id != bindparam("order_id"),
    )
    .order_by(orders.c.created_at.desc())
    .limit(HISTORY_ORDERS)
)
_RECENT_QUANTITIES = _histogram_statement(
    select(lines.c.quantity.label("value"))
    .where(lines.c.tenant_id == bindparam("tenant_id"), lines.c.order_id != bindparam("order_id"))
    .limit(HISTORY_QUANTITIES)
)


async def _histogram(
    session: AsyncSession, statement: PreparedQuery, values: dict[str, Any]
) -> tuple[int, ...]:
    rows = await statement.execute(session, values)
    return tuple(chain.from_iterable(repeat(int(value), count) for value, count in rows))


_ADDRESSES_OF_EMAIL = PreparedQuery(
    select(orders.c.ship_line1, orders.c.ship_postal_code, orders.c.ship_country)
    .where(
        orders.c.tenant_id == bindparam("tenant_id"),
        orders.c.customer_email == bindparam("email"),
        orders.c.created_at >= bindparam("since"),
    )
    .distinct()
)


async def gather_inputs(
    session: AsyncSession, order: OrderRecord, order_lines: Sequence[LineRecord], policy: RiskPolicy
) -> RiskInputs:
    """The facts an assessment reads, from the merchant's earlier orders."""
    now = utcnow()
    email = order.customer_email
    by_email, by_address = await _velocity(session, order, policy)
    distinct = 1
    if email:
        addresses = await _ADDRESSES_OF_EMAIL.execute(
            session,
            {"tenant_id": order.tenant_id, "email": email, "since": now - ADDRESS_WINDOW},
        )
        seen = {(line1.lower(), postal, country) for line1, postal, country in addresses}
        address = order.shipping_address
        seen.add((address.line1.lower(), address.postal_code, address.country))
        distinct = len(seen)
    history = {"tenant_id": order.tenant_id, "order_id": order.id, "currency": order.currency}
    totals = await _histogram(session, _RECENT_TOTALS, history)
    quantities = await _histogram(session, _RECENT_QUANTITIES, history)
    return RiskInputs(
        total_minor=_minor_total(order),
        currency=order.currency,
        line_quantities=tuple(line.quantity for line in order_lines),
        customer_email=email,
        orders_by_email=by_email,
        orders_by_address=by_address,
        distinct_addresses_for_email=distinct,
        history_totals_minor=totals,
        history_quantities=quantities,
    )


def _minor_total(order: OrderRecord) -> int:
    return to_minor(order.total, minor_unit_exponent(order.currency))


async def store_assessment(
    session: AsyncSession, order: OrderRecord, assessment: RiskAssessment
) -> None:
    await run_insert(
        session,
        _INSERT_ASSESSMENT,
        {
            "tenant_id": order.tenant_id,
            "order_id": order.id,
            "score": assessment.score,
            "level": assessment.level.value,
            "hold_threshold": assessment.hold_threshold,
            "facts": [
                {
                    "signal": f.signal,
                    "observed": f.observed,
                    "weight": f.weight,
                    "sentence": f.sentence,
                }
                for f in assessment.facts
            ],
            "policy_version": assessment.policy_version,
            "assessed_at": utcnow(),
        },
    )


def assessment_from_row(row: RiskAssessmentRow) -> RiskAssessment:
    return RiskAssessment(
        score=row.score,
        level=RiskLevel(row.level),
        facts=tuple(RiskFact(**fact) for fact in row.facts),
        policy_version=row.policy_version,
        hold_threshold=row.hold_threshold,
    )


async def assessments_of(
    session: AsyncSession, keys: Sequence[tuple[UUID, UUID]]
) -> dict[tuple[UUID, UUID], RiskAssessment]:
    if not keys:
        return {}
    rows = await session.execute(
        select(RiskAssessmentRow).where(
            tuple_(assessments.c.tenant_id, assessments.c.order_id).in_(list(keys))
        )
    )
    return {(row.tenant_id, row.order_id): assessment_from_row(row) for row in rows.scalars()}
