"""Granting and revoking a partner's access to a merchant's orders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from oaas.audit import log as audit
from oaas.db.types import utcnow
from oaas.errors import ErrorCode, NotFound, OaasError
from oaas.policy import Action, Principal, TenantKind, is_allowed, require
from oaas.sharing.events import GrantEventType, record_grant_event
from oaas.sharing.models import OrderAccessGrant, ShareAction, ShareProfile
from oaas.tenancy.models import Tenant
from oaas.tenancy.service import find_tenant

_OTHER_TENANT = UUID(int=1)


async def active_grant(
    session: AsyncSession, merchant: Tenant, partner: Tenant
) -> OrderAccessGrant | None:
    query = select(OrderAccessGrant).where(
        col(OrderAccessGrant.tenant_id) == merchant.id,
        col(OrderAccessGrant.partner_tenant_id) == partner.id,
        col(OrderAccessGrant.revoked_at).is_(None),
    )
    now = utcnow()
    for grant in (await session.execute(query)).scalars():
        if grant.is_active(now):
            return grant
    return None


async def active_grants_of(session: AsyncSession, merchant: Tenant) -> list[OrderAccessGrant]:
    query = select(OrderAccessGrant).where(
        col(OrderAccessGrant.tenant_id) == merchant.id,
        col(OrderAccessGrant.revoked_at).is_(None),
    )
    return list((await session.execute(query)).scalars())


async def find_partner(session: AsyncSession, handle: str) -> Tenant | None:
    """The partner tenant with this handle. Any other tenant is no partner, and answered
    as an unknown handle: a merchant cannot tell another merchant's handle from a free one."""
    tenant = await find_tenant(session, handle)
    return tenant if tenant is not None and tenant.kind == TenantKind.PARTNER else None


async def get_partner(session: AsyncSession, handle: str, field: Sequence[str]) -> Tenant:
    """The partner tenant with this handle, or NOT_FOUND (as `find_partner` answers)."""
    partner = await find_partner(session, handle)
    if partner is None:
        raise NotFound("no such partner", field)
    return partner


def _check_parties(merchant: Tenant, partner: Tenant, field: Sequence[str]) -> None:
    if merchant.kind != TenantKind.MERCHANT:
        raise OaasError(ErrorCode.INVALID, f"{merchant.handle} is not a merchant", field)
    if partner.kind != TenantKind.PARTNER:
        raise OaasError(ErrorCode.INVALID, f"{partner.handle} is not a partner", field)


async def grant_access(
    session: AsyncSession,
    principal: Principal,
    merchant: Tenant,
    partner: Tenant,
    *,
    profile: ShareProfile,
    actions: Sequence[ShareAction],
    expires_at: datetime | None = None,
    field: Sequence[str] = ("input", "partner"),
) -> tuple[OrderAccessGrant, bool]:
    """The active grant from merchant to partner, made or changed to match.

    A merchant has at most one active grant per partner; changing its profile
    or actions revokes the old grant and makes a new one, so the history of what
    was shared, and when, stays readable. Answers the grant and whether it changed.
    """
    require(principal, Action.GRANT_WRITE, merchant.id)
    if not actions:
        raise OaasError(ErrorCode.INVALID, "give at least one action", ("input", "actions"))
    _check_parties(merchant, partner, field)
    wanted = sorted({ShareAction(a).value for a in actions})
    if ShareAction.READ.value not in wanted:
        raise OaasError(
            ErrorCode.INVALID,
            "actions must include READ: a partner acts only on orders it can see",
            ("input", "actions"),
        )
    now = utcnow()
    if expires_at is not None and expires_at <= now:
        raise OaasError(
            ErrorCode.INVALID, "expiresAt must be in the future", ("input", "expiresAt")
        )
    current = await active_grant(session, merchant, partner)
    if current is not None:
        if (
            current.profile == profile
            and sorted(current.actions) == wanted
            and current.expires_at == expires_at
        ):
            return current, False
        current.revoked_at = now
    grant = OrderAccessGrant(
        tenant_id=merchant.id,
        partner_tenant_id=partner.id,
        profile=profile,
        actions=wanted,
        expires_at=expires_at,
    )
    session.add(grant)
    await session.flush()
    await audit.record(
        session,
        principal,
        tenant_id=merchant.id,
        act="grant.created",
        object_type="OrderAccessGrant",
        object_id=str(grant.id),
        detail={
            "partner": partner.handle,
            "profile": str(profile),
            "actions": wanted,
            "replaces": str(current.id) if current is not None else None,
        },
    )
    event = GrantEventType.CREATED if current is None else GrantEventType.UPDATED
    await record_grant_event(session, principal, event, grant, merchant, partner)
    return grant, True


async def revoke_access(
    session: AsyncSession, principal: Principal, grant: OrderAccessGrant
) -> None:
    require(principal, Action.GRANT_WRITE, grant.tenant_id)
    if grant.revoked_at is None:
        grant.revoked_at = utcnow()
        await session.flush()
        await audit.record(
            session,
            principal,
            tenant_id=grant.tenant_id,
            act="grant.revoked",
            object_type="OrderAccessGrant",
            object_id=str(grant.id),
        )
        merchant = await session.get(Tenant, grant.tenant_id)
        partner = await session.get(Tenant, grant.partner_tenant_id)
        assert merchant is not None
        assert partner is not None
        await record_grant_event(
            session, principal, GrantEventType.REVOKED, grant, merchant, partner
        )


async def find_grant(
    session: AsyncSession, principal: Principal, grant_id: UUID
) -> OrderAccessGrant | None:
    """A grant the caller may manage (its own merchant's, or any for platform admins)."""
    grant = (
        await session.execute(select(OrderAccessGrant).where(col(OrderAccessGrant.id) == grant_id))
    ).scalar_one_or_none()
    if grant is None or not is_allowed(principal, Action.GRANT_WRITE, grant.tenant_id):
        return None
    return grant


async def get_grant(
    session: AsyncSession, principal: Principal, grant_id: UUID | None, field: Sequence[str]
) -> OrderAccessGrant:
    """A grant the caller may manage, or NOT_FOUND (no id: an id that named no grant)."""
    grant = await find_grant(session, principal, grant_id) if grant_id is not None else None
    if grant is None:
        raise NotFound("no such grant", field)
    return grant


async def grants_visible_to(session: AsyncSession, principal: Principal) -> list[OrderAccessGrant]:
    """The grants a merchant gave or a partner received (platform admins: all), newest first."""
    query = select(OrderAccessGrant).order_by(col(OrderAccessGrant.id).desc())
    if not is_allowed(principal, Action.ORDER_READ, _OTHER_TENANT):
        query = query.where(
            or_(
                col(OrderAccessGrant.tenant_id) == principal.tenant_id,
                col(OrderAccessGrant.partner_tenant_id) == principal.tenant_id,
            )
        )
    return list((await session.execute(query)).scalars())


@dataclass(frozen=True)
class PartnerAccess:
    """What one merchant shares with the calling partner."""

    profile: ShareProfile
    actions: frozenset[ShareAction]


async def partner_access(session: AsyncSession, partner_id: UUID) -> dict[UUID, PartnerAccess]:
    """The partner's active grants by merchant, read fresh (a revoke counts at once)."""
    query = select(OrderAccessGrant).where(
        col(OrderAccessGrant.partner_tenant_id) == partner_id,
        col(OrderAccessGrant.revoked_at).is_(None),
    )
    now = utcnow()
    return {
        grant.tenant_id: PartnerAccess(
            profile=ShareProfile(grant.profile),
            actions=frozenset(ShareAction(a) for a in grant.actions),
        )
        for grant in (await session.execute(query)).scalars()
        if grant.is_active(now)
    }
