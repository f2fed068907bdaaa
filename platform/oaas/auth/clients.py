"""What the token endpoint and the bearer check need to know about a client, in one query."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from oaas.policy import TenantKind, default_policy
from oaas.tenancy.models import ApiClient, Tenant, TenantStatus


@dataclass(frozen=True, slots=True)
class ClientRecord:
    id: UUID  # this registration: a client deleted and created again gets a new one
    client_id: str
    tenant_id: UUID
    tenant_handle: str
    tenant_kind: TenantKind
    tenant_active: bool
    roles: frozenset[str]
    secret_hash: str

    @property
    def allowed_scopes(self) -> frozenset[str]:
        return default_policy().scopes_for_roles(self.roles)


async def load_client(session: AsyncSession, client_id: str) -> ClientRecord | None:
    query = (
        select(
            col(ApiClient.id),
            col(ApiClient.client_id),
            col(ApiClient.tenant_id),
            col(ApiClient.roles),
            col(ApiClient.secret_hash),
            col(Tenant.handle),
            col(Tenant.kind),
            col(Tenant.status),
        )
        .join(Tenant, col(Tenant.id) == col(ApiClient.tenant_id))
        .where(col(ApiClient.client_id) == client_id)
    )
    row = (await session.execute(query)).one_or_none()
    if row is None:
        return None
    return ClientRecord(
        id=row.id,
        client_id=row.client_id,
        tenant_id=row.tenant_id,
        tenant_handle=row.handle,
        tenant_kind=TenantKind(row.kind),
        tenant_active=row.status == TenantStatus.ACTIVE,
        roles=frozenset(row.roles),
        secret_hash=row.secret_hash,
    )
