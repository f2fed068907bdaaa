"""A merchant's routing profile: weights, split rules and region centroids."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from oaas.audit import log as audit
from oaas.db.types import utcnow
from oaas.errors import ErrorCode, OaasError
from oaas.policy import Action, Principal, TenantKind, require
from oaas.routing.models import RoutingProfileRow
from oaas.routing.nodes import Operation
from oaas.routing.validation import ProfileInput, validate_profile
from oaas.tenancy.models import Tenant


async def set_routing_profile(
    session: AsyncSession, principal: Principal, merchant: Tenant, profile: ProfileInput
) -> RoutingProfileRow:
    """Stores the profile as a new version; decisions record the version they used."""
    require(principal, Action.ROUTING_WRITE, merchant.id)
    if merchant.kind != TenantKind.MERCHANT:
        raise OaasError(
            ErrorCode.INVALID, f"{merchant.handle!r} is not a merchant", ("input", "merchant")
        )
    values = validate_profile(profile)
    row = await session.get(RoutingProfileRow, merchant.id)
    if row is None:
        row = RoutingProfileRow(tenant_id=merchant.id, version=0, **values)
    else:
        for name, value in values.items():
            setattr(row, name, value)
    row.version += 1
    row.updated_at = utcnow()
    session.add(row)
    await session.flush()
    await audit.record(
        session,
        principal,
        tenant_id=merchant.id,
        act="routing_profile.updated",
        object_type="RoutingProfile",
        object_id=merchant.handle,
        detail={"version": row.version, **values},
    )
    return row


async def set_routing_profile_for(
    session: AsyncSession, principal: Principal, operation: Operation, profile: ProfileInput
) -> RoutingProfileRow:
    """Stores the profile of the merchant whose nodes `operation` works on. A partner
    operates some of a merchant's nodes but never sets how the merchant routes."""
    if operation.partner_id is not None:
        raise OaasError(ErrorCode.FORBIDDEN, "routing profiles belong to merchants", ("input",))
    return await set_routing_profile(session, principal, operation.merchant, profile)
