"""Share profiles on the API: what a partner sees of an order it was shared.

What each profile shows is the share policy's (policies/share_policy.csv),
asked through `oaas.sharing.views.Viewer`. A hidden field resolves to null and
adds one FIELD_NOT_SHARED error with the field's path; the message never
carries the hidden value. Events and routing decisions are shown as the
viewer may see them (oaas.lifecycle.event_views, oaas.routing.views).
"""

from __future__ import annotations

from uuid import UUID

from graphql import GraphQLError

from oaas.graphql.context import Info
from oaas.graphql.loaders import tenant_by_id_loader
from oaas.policy import TenantKind
from oaas.policy.shares import SharedField, ShareKind
from oaas.routing.nodes import operated_by
from oaas.sharing.service import partner_access
from oaas.sharing.views import OWNER, Viewer, viewer_of


async def load_partner_access(info: Info) -> None:
    """Reads the calling partner's grants once per request, before any order resolves."""
    context = info.context
    if context.principal.tenant_kind is TenantKind.PARTNER and context.partner_access is None:
        async with context.session_lock:
            context.partner_access = await partner_access(
                context.session, context.principal.tenant_id
            )


def require_shared(info: Info, merchant_id: UUID, field: SharedField) -> None:
    """Raises FIELD_NOT_SHARED unless the caller may see this merchant's `field`.

    Merchants and platform admins see every field; the viewer's nodes do not
    matter to a field, so this needs no query of its own."""
    context = info.context
    if context.principal.tenant_kind is not TenantKind.PARTNER:
        return
    access = (context.partner_access or {}).get(merchant_id)
    viewer = viewer_of(context.principal, access, merchant_handle="")
    if viewer.shows(ShareKind.FIELD, field):
        return
    name = field.value.partition(".")[2]
    raise GraphQLError(
        f"{name} is not shared with your tenant by this order's merchant",
        extensions={"code": "FIELD_NOT_SHARED"},
    )


async def viewer_for(info: Info, merchant_id: UUID) -> Viewer:
    """The caller as a reader of this merchant's orders, made once per request."""
    context = info.context
    if context.principal.tenant_kind is not TenantKind.PARTNER:
        return OWNER
    found = context.viewers.get(merchant_id)
    if found is not None:
        return found
    await load_partner_access(info)
    merchant = await tenant_by_id_loader(context).load(merchant_id)
    operated = context.operated_nodes
    if operated is None:
        async with context.session_lock:
            operated = context.operated_nodes
            if operated is None:
                operated = await operated_by(context.session, context.principal.tenant_id)
                context.operated_nodes = operated
    viewer = viewer_of(
        context.principal,
        (context.partner_access or {}).get(merchant_id),
        merchant_handle=merchant.handle,
        nodes=operated.get(merchant_id),
    )
    context.viewers[merchant_id] = viewer
    return viewer
