"""Order sharing over GraphQL: merchants grant and revoke partners' access."""

from __future__ import annotations

from datetime import datetime

import strawberry

from oaas.graphql.context import Info
from oaas.graphql.errors import UserError, mutate
from oaas.graphql.ids import from_global_id, to_global_id
from oaas.graphql.inputs import as_utc
from oaas.graphql.loaders import tenant_by_id_loader
from oaas.graphql.node import Node
from oaas.graphql.permissions import allowed
from oaas.graphql.tenancy import Tenant
from oaas.policy import Action
from oaas.sharing import service
from oaas.sharing.models import OrderAccessGrant as GrantRow
from oaas.sharing.models import ShareAction, ShareProfile
from oaas.tenancy.service import own_tenant

ShareProfileType = strawberry.enum(
    ShareProfile,
    name="ShareProfile",
    description="FULL: the merchant's own view. LOGISTICS: no money, customer email or risk, "
    "and of routing decisions only the nodes the partner operates (policies/share_policy.csv).",
)
ShareActionType = strawberry.enum(ShareAction, name="ShareAction")


@strawberry.type
class OrderAccessGrant(Node):
    profile: ShareProfileType  # type: ignore[valid-type]
    actions: list[ShareActionType]  # type: ignore[valid-type]
    created_at: datetime
    revoked_at: datetime | None
    expires_at: datetime | None
    row: strawberry.Private[GrantRow]

    @classmethod
    def of(cls, row: GrantRow) -> OrderAccessGrant:
        return cls(
            id=strawberry.ID(to_global_id("OrderAccessGrant", row.id)),
            profile=ShareProfile(row.profile),
            actions=[ShareAction(a) for a in row.actions],
            created_at=row.created_at,
            revoked_at=row.revoked_at,
            expires_at=row.expires_at,
            row=row,
        )

    @strawberry.field
    async def merchant(self, info: Info) -> Tenant:
        return Tenant.of(await tenant_by_id_loader(info.context).load(self.row.tenant_id))

    @strawberry.field
    async def partner(self, info: Info) -> Tenant:
        return Tenant.of(await tenant_by_id_loader(info.context).load(self.row.partner_tenant_id))


@strawberry.input
class GrantOrderAccessInput:
    partner: str
    profile: ShareProfileType  # type: ignore[valid-type]
    actions: list[ShareActionType]  # type: ignore[valid-type]
    expires_at: datetime | None = strawberry.field(
        default=None, description="After this moment the grant is dead, as if revoked."
    )


@strawberry.type
class GrantOrderAccessPayload:
    grant: OrderAccessGrant | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RevokeOrderAccessPayload:
    grant: OrderAccessGrant | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SharingQuery:
    @strawberry.field(
        permission_classes=[allowed(Action.ORDER_READ)],
        description="Grants the caller's merchant gave or its partner tenant received, newest first.",
    )
    async def order_access_grants(self, info: Info) -> list[OrderAccessGrant]:
        rows = await service.grants_visible_to(info.context.session, info.context.principal)
        return [OrderAccessGrant.of(row) for row in rows]


@strawberry.type
class SharingMutation:
    @strawberry.mutation(
        permission_classes=[allowed(Action.GRANT_WRITE)],
        description="Merchant admins share their orders with a partner.",
    )
    async def grant_order_access(
        self, info: Info, input: GrantOrderAccessInput
    ) -> GrantOrderAccessPayload:
        async def work() -> GrantRow:
            session, principal = info.context.session, info.context.principal
            merchant = await own_tenant(session, principal)
            partner = await service.get_partner(session, input.partner, ("input", "partner"))
            grant, _changed = await service.grant_access(
                session,
                principal,
                merchant,
                partner,
                profile=ShareProfile(input.profile),
                actions=[ShareAction(a) for a in input.actions],
                expires_at=as_utc(input.expires_at),
            )
            return grant

        return await mutate(
            info,
            GrantOrderAccessPayload,
            work,
            lambda grant: GrantOrderAccessPayload(grant=OrderAccessGrant.of(grant)),
        )

    @strawberry.mutation(
        permission_classes=[allowed(Action.GRANT_WRITE)],
        description="Takes effect on the partner's very next request.",
    )
    async def revoke_order_access(
        self, info: Info, grant_id: strawberry.ID
    ) -> RevokeOrderAccessPayload:
        async def work() -> GrantRow:
            session, principal = info.context.session, info.context.principal
            grant = await service.get_grant(
                session, principal, from_global_id("OrderAccessGrant", grant_id), ("grantId",)
            )
            await service.revoke_access(session, principal, grant)
            return grant

        return await mutate(
            info,
            RevokeOrderAccessPayload,
            work,
            lambda grant: RevokeOrderAccessPayload(grant=OrderAccessGrant.of(grant)),
        )
