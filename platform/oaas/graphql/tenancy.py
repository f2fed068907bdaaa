"""Tenants, API clients and the viewer over GraphQL: thin wrappers of oaas.tenancy.service."""

from __future__ import annotations

from datetime import datetime

import strawberry

from oaas.graphql.context import Info
from oaas.graphql.errors import UserError, answer, mutate
from oaas.graphql.ids import decode_cursor, encode_cursor, to_global_id
from oaas.graphql.node import Node
from oaas.graphql.permissions import allowed
from oaas.policy import Action, TenantKind
from oaas.tenancy import service
from oaas.tenancy.models import ApiClient as ApiClientRow
from oaas.tenancy.models import Tenant as TenantRow
from oaas.tenancy.models import TenantStatus

TenantKindType = strawberry.enum(TenantKind, name="TenantKind")
TenantStatusType = strawberry.enum(TenantStatus, name="TenantStatus")

MAX_PAGE = 100


@strawberry.type(name="Tenant")
class Tenant(Node):
    handle: str
    name: str
    kind: TenantKindType  # type: ignore[valid-type]
    status: TenantStatusType  # type: ignore[valid-type]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: TenantRow) -> Tenant:
        return cls(
            id=strawberry.ID(to_global_id("Tenant", row.id)),
            handle=row.handle,
            name=row.name,
            kind=TenantKind(row.kind),
            status=TenantStatus(row.status),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


@strawberry.type
class Viewer:
    tenant: Tenant
    client_id: str
    roles: list[str]
    scopes: list[str]


@strawberry.type
class ApiClient:
    id: strawberry.ID
    client_id: str
    tenant: Tenant
    roles: list[str]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: ApiClientRow, tenant: TenantRow) -> ApiClient:
        return cls(
            id=strawberry.ID(to_global_id("ApiClient", row.id)),
            client_id=row.client_id,
            tenant=Tenant.of(tenant),
            roles=sorted(row.roles),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


@strawberry.type
class TenantPageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class TenantEdge:
    cursor: str
    node: Tenant


@strawberry.type
class TenantConnection:
    edges: list[TenantEdge]
    page_info: TenantPageInfo


@strawberry.input
class CreateTenantInput:
    handle: str
    name: str
    kind: TenantKindType  # type: ignore[valid-type]


@strawberry.input
class UpdateTenantInput:
    handle: str
    name: str | None = None
    status: TenantStatusType | None = None  # type: ignore[valid-type]


@strawberry.type
class TenantPayload:
    tenant: Tenant | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class CreateApiClientInput:
    client_id: str
    roles: list[str]
    tenant: str | None = strawberry.field(
        default=None, description="Tenant handle; the caller's own tenant when omitted."
    )


@strawberry.type
class ApiClientSecretPayload:
    api_client: ApiClient | None = None
    client_secret: str | None = strawberry.field(
        default=None, description="Shown once, in this answer only; oaas keeps just a hash."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteApiClientPayload:
    deleted_client_id: str | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


async def _own_or_named_tenant(info: Info, handle: str | None, field: tuple[str, ...]) -> TenantRow:
    return await service.get_tenant(
        info.context.session, info.context.principal, handle, field, action=Action.CLIENT_ADMIN
    )


@strawberry.type
class TenancyQuery:
    @strawberry.field(permission_classes=[allowed(Action.VIEWER_READ)])
    async def viewer(self, info: Info) -> Viewer:
        principal = info.context.principal
        tenant = await service.own_tenant(info.context.session, principal)
        return Viewer(
            tenant=Tenant.of(tenant),
            client_id=principal.client_id,
            roles=sorted(principal.roles),
            scopes=sorted(principal.scopes),
        )

    @strawberry.field(permission_classes=[allowed(Action.TENANT_ADMIN)])
    async def tenants(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> TenantConnection | None:
        first = max(0, min(first, MAX_PAGE))
        after_handle = None
        if after is not None:
            parts = decode_cursor(after, 1)
            after_handle = parts[0] if parts else "\uffff"
        rows = await service.list_tenants(
            info.context.session, info.context.principal, first=first + 1, after_handle=after_handle
        )
        edges = [
            TenantEdge(cursor=encode_cursor(r.handle), node=Tenant.of(r)) for r in rows[:first]
        ]
        return TenantConnection(
            edges=edges,
            page_info=TenantPageInfo(
                has_next_page=len(rows) > first,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )

    @strawberry.field(permission_classes=[allowed(Action.TENANT_ADMIN)])
    async def tenant(self, info: Info, handle: str) -> Tenant | None:
        row = await service.find_tenant(info.context.session, handle)
        return Tenant.of(row) if row is not None else None

    @strawberry.field(
        permission_classes=[allowed(Action.CLIENT_ADMIN)],
        description="API clients of a tenant: the caller's own unless a platform admin names another.",
    )
    async def api_clients(self, info: Info, tenant: str | None = None) -> list[ApiClient] | None:
        row = await answer(_own_or_named_tenant(info, tenant, ("tenant",)))
        clients = await service.list_clients(info.context.session, info.context.principal, row)
        return [ApiClient.of(c, row) for c in clients]


def _tenant_payload(tenant: TenantRow) -> TenantPayload:
    return TenantPayload(tenant=Tenant.of(tenant))


def _secret_payload(issued: service.IssuedSecret) -> ApiClientSecretPayload:
    return ApiClientSecretPayload(
        api_client=ApiClient.of(issued.client, issued.tenant), client_secret=issued.secret
    )


@strawberry.type
class TenancyMutation:
    @strawberry.mutation(permission_classes=[allowed(Action.TENANT_ADMIN)])
    async def create_tenant(self, info: Info, input: CreateTenantInput) -> TenantPayload:
        return await mutate(
            info,
            TenantPayload,
            lambda: service.create_tenant(
                info.context.session,
                info.context.principal,
                handle=input.handle,
                name=input.name,
                kind=TenantKind(input.kind),
            ),
            _tenant_payload,
        )

    @strawberry.mutation(permission_classes=[allowed(Action.TENANT_ADMIN)])
    async def update_tenant(self, info: Info, input: UpdateTenantInput) -> TenantPayload:
        async def work() -> TenantRow:
            session, principal = info.context.session, info.context.principal
            tenant = await service.get_tenant(session, principal, input.handle, ("input", "handle"))
            await service.update_tenant(
                session,
                principal,
                tenant,
                name=input.name,
                status=TenantStatus(input.status) if input.status is not None else None,
            )
            return tenant

        return await mutate(info, TenantPayload, work, _tenant_payload)

    @strawberry.mutation(permission_classes=[allowed(Action.CLIENT_ADMIN)])
    async def create_api_client(
        self, info: Info, input: CreateApiClientInput
    ) -> ApiClientSecretPayload:
        async def work() -> service.IssuedSecret:
            tenant = await _own_or_named_tenant(info, input.tenant, ("input", "tenant"))
            return await service.create_client(
                info.context.session,
                info.context.principal,
                tenant,
                client_id=input.client_id,
                roles=input.roles,
            )

        return await mutate(info, ApiClientSecretPayload, work, _secret_payload)

    @strawberry.mutation(permission_classes=[allowed(Action.CLIENT_ADMIN)])
    async def rotate_api_client_secret(self, info: Info, client_id: str) -> ApiClientSecretPayload:
        async def work() -> service.IssuedSecret:
            session, principal = info.context.session, info.context.principal
            client, tenant = await service.get_client(session, principal, client_id, ("clientId",))
            return await service.rotate_client_secret(session, principal, client, tenant)

        return await mutate(info, ApiClientSecretPayload, work, _secret_payload)

    @strawberry.mutation(permission_classes=[allowed(Action.CLIENT_ADMIN)])
    async def delete_api_client(self, info: Info, client_id: str) -> DeleteApiClientPayload:
        async def work() -> str:
            session, principal = info.context.session, info.context.principal
            client, _tenant = await service.get_client(session, principal, client_id, ("clientId",))
            await service.delete_client(session, principal, client, ("clientId",))
            return client_id

        return await mutate(
            info,
            DeleteApiClientPayload,
            work,
            lambda deleted: DeleteApiClientPayload(deleted_client_id=deleted),
        )
