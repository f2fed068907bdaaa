"""What the token endpoint and the bearer check need to know about a client, in one query."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from oaas.policy import TenantKind, default_policy
from oaas.tenancy.models import ApiClient, Tenant, TenantStatus


@dataclass(frozen=True, slots=True)
class ClientRecord:
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
            ApiClient.client_id,
            ApiClient.tenant_id,
            ApiClient.roles,
            ApiClient.secret_hash,
            Tenant.handle,
            Tenant.kind,
            Tenant.status,
        )
        .join(Tenant, Tenant.id == ApiClient.tenant_id)  # type: ignore[arg-type]
        .where(ApiClient.client_id == client_id)  # type: ignore[arg-type]
    )
    row = (await session.execute(query)).one_or_none()
    if row is None:
        return None
    return ClientRecord(
        client_id=row.client_id,
        tenant_id=row.tenant_id,
        tenant_handle=row.handle,
        tenant_kind=TenantKind(row.kind),
        tenant_active=row.status == TenantStatus.ACTIVE,
        roles=frozenset(row.roles),
        secret_hash=row.secret_hash,
    )
