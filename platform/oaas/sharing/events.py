"""Grant changes as events in the outbox, in the transaction of the change."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oaas.db.types import new_id, utcnow
from oaas.outbox import append
from oaas.policy import Principal
from oaas.sharing.models import OrderAccessGrant, ShareAction, ShareProfile
from oaas.tenancy.models import Tenant


class GrantEventType:
    CREATED = "GRANT_CREATED"
    # The profile, actions or expiry changed: a new grant replaced the active one.
    UPDATED = "GRANT_UPDATED"
    REVOKED = "GRANT_REVOKED"


def _instant(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def grant_payload(grant: OrderAccessGrant, merchant: Tenant, partner: Tenant) -> dict[str, Any]:
    """The grant as the API shows it (`OrderAccessGrant`), with camelCase keys."""
    return {
        "grantId": str(grant.id),
        "merchant": merchant.handle,
        "partner": partner.handle,
        "profile": ShareProfile(grant.profile).name,
        "actions": [ShareAction(a).name for a in grant.actions],
        "createdAt": _instant(grant.created_at),
        "revokedAt": _instant(grant.revoked_at),
        "expiresAt": _instant(grant.expires_at),
    }


async def record_grant_event(
    session: AsyncSession,
    principal: Principal,
    type: str,
    grant: OrderAccessGrant,
    merchant: Tenant,
    partner: Tenant,
) -> None:
    await append(
        session,
        id=new_id(),
        tenant_id=grant.tenant_id,
        partner_tenant_id=grant.partner_tenant_id,
        type=type,
        at=utcnow(),
        actor=principal.actor,
        payload=grant_payload(grant, merchant, partner),
    )
