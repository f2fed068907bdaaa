"""Share profiles on the API: what a partner sees of an order it was shared.

FULL shows everything. LOGISTICS hides `total`, `unitPrice` and
`customerEmail`: they resolve to null and add one FIELD_NOT_SHARED error with
the field's path, and the message never carries the hidden value.
"""

from __future__ import annotations

from uuid import UUID

from graphql import GraphQLError

from oaas.graphql.context import Info
from oaas.policy import TenantKind
from oaas.sharing.models import ShareProfile
from oaas.sharing.service import partner_access


async def load_partner_access(info: Info) -> None:
    """Reads the calling partner's grants once per request, before any order resolves."""
    context = info.context
    if context.principal.tenant_kind is TenantKind.PARTNER and context.partner_access is None:
        async with context.session_lock:
            context.partner_access = await partner_access(
                context.session, context.principal.tenant_id
            )


def require_shared(info: Info, merchant_id: UUID, field: str) -> None:
    """Raises FIELD_NOT_SHARED unless the caller may see this merchant's `field`."""
    context = info.context
    if context.principal.tenant_kind is not TenantKind.PARTNER:
        return
    access = (context.partner_access or {}).get(merchant_id)
    if access is not None and access.profile is ShareProfile.FULL:
        return
    raise GraphQLError(
        f"{field} is not shared with your tenant by this order's merchant",
        extensions={"code": "FIELD_NOT_SHARED"},
    )
