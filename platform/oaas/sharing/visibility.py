"""Which tenants' rows a principal may read: the one place every query is scoped.

Merchants see their own rows, platform admins every row, partners the rows of
merchants holding an active grant to them (not revoked, not expired). Grants
always include READ (`service.grant_access` refuses any without it), so an
active grant is a READ grant. The grant is read in the same statement as the
rows, so a revoke takes effect on the partner's very next request.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Table, false, or_, select, true

from oaas.db import RowScope
from oaas.db.types import utcnow
from oaas.policy import Principal, TenantKind, is_allowed
from oaas.sharing.models import OrderAccessGrant

grants: Table = OrderAccessGrant.__table__  # type: ignore[attr-defined]

# Stands for "another tenant" when asking the policy about cross-tenant reads.
_OTHER_TENANT = UUID(int=1)


def active_grants_clause(partner_id: UUID) -> ColumnElement[bool]:
    now = utcnow()
    return (
        (grants.c.partner_tenant_id == partner_id)
        & grants.c.revoked_at.is_(None)
        & or_(grants.c.expires_at.is_(None), grants.c.expires_at > now)
    )


def visible_tenants(principal: Principal, tenant_id_column: Any) -> ColumnElement[bool]:
    """A WHERE clause limiting a tenant-owned table to what the principal may read."""
    if is_allowed(principal, "order:read", _OTHER_TENANT):
        return true()
    if principal.tenant_kind is TenantKind.PARTNER:
        if not is_allowed(principal, "order:read"):
            return false()
        granted = select(grants.c.tenant_id).where(active_grants_clause(principal.tenant_id))
        partner_clause: ColumnElement[bool] = tenant_id_column.in_(granted)
        return partner_clause
    own: ColumnElement[bool] = tenant_id_column == principal.tenant_id
    return own


def row_scope(principal: Principal) -> RowScope:
    """The same visibility, for PostgreSQL's row-level security (the second wall)."""
    if is_allowed(principal, "order:read", _OTHER_TENANT):
        return RowScope("all", principal.tenant_id)
    if principal.tenant_kind is TenantKind.PARTNER:
        return RowScope("partner", principal.tenant_id)
    return RowScope("tenant", principal.tenant_id)
