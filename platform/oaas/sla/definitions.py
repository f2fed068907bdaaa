"""SLA definitions: what a tenant is promised, per tenant or the platform defaults.

A definition is stored whole as JSON in `tenant_slas`; a tenant without a row
gets `PLATFORM_DEFAULT`. Fields left out of a manifest or a `setTenantSla`
call take the platform default too, so every stored definition is complete.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from oaas.audit import log as audit
from oaas.db.types import utcnow
from oaas.errors import ErrorCode, OaasError, ValidationFailed
from oaas.policy import Action, Principal, require
from oaas.sla.models import TenantSla
from oaas.tenancy.models import Tenant
from oaas.text import shorten

DEFAULT_OPERATION = "default"
MAX_OPERATION_LENGTH = 200


@dataclass(frozen=True)
class Sla:
    """Targets in the units people write them in: percents, milliseconds, hours."""

    availability: float = 99.9  # percent of requests that are not bad
    latency_p95_ms: Mapping[str, float] = field(
        default_factory=lambda: {DEFAULT_OPERATION: 500.0}
    )  # per operation, and `default` for the rest
    fulfilment_hours: float = 48.0  # from creation to SHIPPED
    max_deviation_rate: float = 5.0  # percent of due orders that may be late

    def latency_target(self, operation: str) -> float:
        return float(self.latency_p95_ms.get(operation, self.latency_p95_ms[DEFAULT_OPERATION]))

    @property
    def availability_fraction(self) -> float:
        return round(self.availability / 100, 12)  # 99.9 -> 0.999, not 0.9990000000000001

    @property
    def error_budget(self) -> float:
        """The fraction of requests that may be bad."""
        return round(1 - self.availability_fraction, 12)

    def to_json(self) -> dict[str, Any]:
        return {
            "availability": self.availability,
            "latency_p95_ms": dict(sorted(self.latency_p95_ms.items())),
            "fulfilment_hours": self.fulfilment_hours,
            "max_deviation_rate": self.max_deviation_rate,
        }


PLATFORM_DEFAULT = Sla()
FIELDS = ("availability", "latency_p95_ms", "fulfilment_hours", "max_deviation_rate")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def sla_problems(data: Any) -> list[tuple[tuple[str, ...], str]]:
    """Every problem of a definition as (path below the definition, message); [] when valid."""
    if not isinstance(data, Mapping):
        return [((), "must be a mapping")]
    problems: list[tuple[tuple[str, ...], str]] = []
    for key in data:
        if key not in FIELDS:
            problems.append(
                ((shorten(str(key)),), f"unknown key (expected one of {', '.join(FIELDS)})")
            )
    if "availability" in data:
        number = _number(data["availability"])
        if number is None or not 0 < number < 100:
            problems.append((("availability",), "must be a number between 0 and 100"))
    if "fulfilment_hours" in data:
        number = _number(data["fulfilment_hours"])
        if number is None or not 0 < number <= 24 * 365:
            problems.append((("fulfilment_hours",), "must be a number of hours above 0"))
    if "max_deviation_rate" in data:
        number = _number(data["max_deviation_rate"])
        if number is None or not 0 <= number <= 100:
            problems.append((("max_deviation_rate",), "must be a number between 0 and 100"))
    if "latency_p95_ms" in data:
        latency = data["latency_p95_ms"]
        if not isinstance(latency, Mapping):
            problems.append((("latency_p95_ms",), "must be a mapping of operation to milliseconds"))
        else:
            for operation, value in latency.items():
                path = ("latency_p95_ms", shorten(str(operation)))  # the caller's text
                if not isinstance(operation, str) or not 0 < len(operation) <= MAX_OPERATION_LENGTH:
                    problems.append((path, "operation must be a name of 1 to 200 characters"))
                number = _number(value)
                if number is None or not 0 < number <= 3_600_000:
                    problems.append((path, "must be a number of milliseconds above 0"))
    return problems


def sla_from_json(data: Mapping[str, Any]) -> Sla:
    """A definition from validated data; what it leaves out is the platform default."""
    latency = {DEFAULT_OPERATION: PLATFORM_DEFAULT.latency_target(DEFAULT_OPERATION)}
    latency.update({str(k): float(v) for k, v in (data.get("latency_p95_ms") or {}).items()})
    return Sla(
        availability=float(data.get("availability", PLATFORM_DEFAULT.availability)),
        latency_p95_ms=latency,
        fulfilment_hours=float(data.get("fulfilment_hours", PLATFORM_DEFAULT.fulfilment_hours)),
        max_deviation_rate=float(
            data.get("max_deviation_rate", PLATFORM_DEFAULT.max_deviation_rate)
        ),
    )


def parse_sla(
    data: Any, field_prefix: tuple[str, ...] = (), names: Mapping[str, str] | None = None
) -> Sla:
    """A definition, or ValidationFailed naming every bad field; `names` spells the
    definition's keys as the caller wrote them (`latencyP95Ms` for `latency_p95_ms`)."""
    problems = sla_problems(data)
    if problems:
        spelled = names or {}
        paths = [
            ((spelled.get(path[0], path[0]), *path[1:]) if path else path, message)
            for path, message in problems
        ]
        raise ValidationFailed(
            [
                OaasError(
                    ErrorCode.INVALID,
                    f"{'.'.join(path) or 'sla'}: {message}",
                    (*field_prefix, *path),
                )
                for path, message in paths
            ]
        )
    return sla_from_json(data)


async def stored_slas(session: AsyncSession, tenant_ids: list[UUID]) -> dict[UUID, Sla]:
    """The stored definitions of these tenants (missing ones: not in the answer)."""
    if not tenant_ids:
        return {}
    rows = await session.execute(select(TenantSla).where(col(TenantSla.tenant_id).in_(tenant_ids)))
    return {row.tenant_id: sla_from_json(row.definition) for row in rows.scalars()}


async def get_sla(session: AsyncSession, principal: Principal, tenant: Tenant) -> Sla:
    require(principal, Action.SLA_READ, tenant.id)
    return (await stored_slas(session, [tenant.id])).get(tenant.id, PLATFORM_DEFAULT)


Outcome = Literal["created", "updated", "unchanged"]


async def set_sla(session: AsyncSession, principal: Principal, tenant: Tenant, sla: Sla) -> Outcome:
    """Stores the tenant's definition; answers what happened to it."""
    require(principal, Action.SLA_WRITE, tenant.id)
    row = await session.get(TenantSla, tenant.id)
    definition = sla.to_json()
    if row is not None and row.definition == definition:
        return "unchanged"
    outcome: Outcome = "updated" if row is not None else "created"
    if row is None:
        session.add(TenantSla(tenant_id=tenant.id, definition=definition, updated_at=utcnow()))
    else:
        row.definition = definition
        row.updated_at = utcnow()
        session.add(row)
    await audit.record(
        session,
        principal,
        tenant_id=tenant.id,
        act=f"sla.{outcome}",
        object_type="TenantSla",
        object_id=str(tenant.id),
        detail=definition,
    )
    await session.flush()
    return outcome
