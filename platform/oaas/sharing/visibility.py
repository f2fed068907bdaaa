"""Which tenants' rows a principal may read, as the `RowScope` of its transaction.

Merchants see their own rows, platform admins every row, partners the order
data of merchants holding an active grant to them (not revoked, not expired).
Grants always include READ (`service.grant_access` refuses any without it), so
an active grant is a READ grant. oaas.db.scoping applies the scope to every
statement; the grant is read in the same statement as the rows, so a revoke
takes effect on the partner's very next request.
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import ColumnElement, or_, select

from oaas.db import RowScope, entity_table
from oaas.db.types import utcnow
from oaas.policy import Action, Principal, TenantKind, is_allowed
from oaas.sharing.models import OrderAccessGrant

grants = entity_table(OrderAccessGrant)

# Stands for "another tenant" when asking the policy about cross-tenant reads.
_OTHER_TENANT = UUID(int=1)


def active_grants_clause(partner_id: UUID) -> ColumnElement[bool]:
    now = utcnow()
    return (
        (grants.c.partner_tenant_id == partner_id)
        & grants.c.revoked_at.is_(None)
        & or_(grants.c.expires_at.is_(None), grants.c.expires_at > now)
    )


def row_scope(principal: Principal) -> RowScope:
    """What the principal's transaction may see; the same rules as row-level security."""
    if is_allowed(principal, Action.ORDER_READ, _OTHER_TENANT):
        return RowScope("all", principal.tenant_id)
    if principal.tenant_kind is TenantKind.PARTNER:
        granted = select(grants.c.tenant_id).where(active_grants_clause(principal.tenant_id))
        return RowScope("partner", principal.tenant_id, granted_tenants=granted)
    return RowScope("tenant", principal.tenant_id)
