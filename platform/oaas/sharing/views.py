"""Who reads a merchant's order data, and what the share policy lets it see.

Every reader of shared order data (API fields, order events, routing
decisions) asks one `Viewer`, which asks the share policy
(`oaas.policy.share_view`). The merchant itself and platform admins see
everything; a partner sees what its grant's profile shows, and a partner
whose grant ended between two reads of one request sees the least.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from oaas.policy import Principal, TenantKind
from oaas.policy.shares import ShareKind, ShareProfile, View, share_view, strictest
from oaas.sharing.service import PartnerAccess


@dataclass(frozen=True, slots=True)
class Viewer:
    partner: bool  # False: the merchant itself or a platform admin
    profile: ShareProfile | None  # the grant's profile; None for a partner without a grant
    handle: str  # the reader's tenant
    merchant_handle: str
    # The merchant's nodes this partner operates: ids, and codes folded for comparison.
    node_ids: frozenset[UUID] = frozenset()
    node_codes: frozenset[str] = frozenset()

    def view(self, kind: ShareKind, item: str) -> View:
        if not self.partner:
            return View.SHOW
        if self.profile is None:
            return strictest(kind, item)
        return share_view(self.profile, kind, item)

    def shows(self, kind: ShareKind, item: str) -> bool:
        return self.view(kind, item) is View.SHOW

    def operates(self, code: str) -> bool:
        return code.casefold() in self.node_codes

    def names(self, actor: str) -> bool:
        """Whether the reader may see who `actor` (`<tenant>/<client>`) is: itself or the
        merchant. Anyone else may be another partner of the merchant."""
        tenant = actor.partition("/")[0]
        return not self.partner or tenant in (self.handle, self.merchant_handle)


def viewer_of(
    principal: Principal,
    access: PartnerAccess | None,
    *,
    merchant_handle: str,
    nodes: dict[UUID, str] | None = None,
) -> Viewer:
    """The viewer of one merchant's data; `access`: the partner's grant from the merchant,
    `nodes`: the merchant's nodes it operates (id -> code)."""
    partner = principal.tenant_kind is TenantKind.PARTNER
    nodes = nodes or {}
    return Viewer(
        partner=partner,
        profile=access.profile if partner and access is not None else None,
        handle=principal.tenant_handle,
        merchant_handle=merchant_handle,
        node_ids=frozenset(nodes) if partner else frozenset(),
        node_codes=frozenset(code.casefold() for code in nodes.values())
        if partner
        else frozenset(),
    )


# The merchant's (or a platform admin's) view: everything, as written.
OWNER = Viewer(partner=False, profile=None, handle="", merchant_handle="")
