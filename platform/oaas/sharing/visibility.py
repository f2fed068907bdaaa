"""Which tenants' rows a principal may read: the one place every query is scoped.

Merchants see their own rows, platform admins every row. Partners see the rows
of merchants that granted them access; until the share profiles (which fields
a partner may see) are enforced, they see none.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, false, true

from oaas.policy import Principal, TenantKind, is_allowed

# Stands for "another tenant" when asking the policy about cross-tenant reads.
_OTHER_TENANT = UUID(int=1)


def visible_tenants(principal: Principal, tenant_id_column: Any) -> ColumnElement[bool]:
    """A WHERE clause limiting a tenant-owned table to what the principal may read."""
    if is_allowed(principal, "order:read", _OTHER_TENANT):
        return true()
    if principal.tenant_kind is TenantKind.PARTNER:
        return false()
    result: ColumnElement[bool] = tenant_id_column == principal.tenant_id
    return result
