"""What the token endpoint and the bearer check need to know about a client, in one query."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from oaas.db import PreparedQuery
from oaas.policy import TenantKind, default_policy
from oaas.quotas.plans import STANDARD, Plan, PlanLimits
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
    # Raised by every new secret: tokens carrying a lower one are refused.
    credential_version: int = 0
    plan: PlanLimits = STANDARD

    @property
    def allowed_scopes(self) -> frozenset[str]:
        return default_policy().scopes_for_roles(self.roles)


# Built once: every authenticated request runs it.
_CLIENT_BY_ID = PreparedQuery(
    select(
        col(ApiClient.id),
        col(ApiClient.client_id),
        col(ApiClient.tenant_id),
        col(ApiClient.roles),
        col(ApiClient.secret_hash),
        col(ApiClient.credential_version),
        col(Tenant.handle),
        col(Tenant.kind),
        col(Tenant.status),
        col(Tenant.plan),
        col(Plan.bucket_size),
        col(Plan.restore_rate),
        col(Plan.max_query_cost),
    )
    .join(Tenant, col(Tenant.id) == col(ApiClient.tenant_id))
    .outerjoin(Plan, col(Plan.name) == col(Tenant.plan))
    .where(col(ApiClient.client_id) == bindparam("client_id"))
)


async def load_client(session: AsyncSession, client_id: str) -> ClientRecord | None:
    row = (await _CLIENT_BY_ID.execute(session, {"client_id": client_id})).one_or_none()
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
        credential_version=row.credential_version,
        plan=_plan(row.plan, row.bucket_size, row.restore_rate, row.max_query_cost),
    )


def _plan(
    name: str, bucket_size: int | None, restore_rate: float | None, max_cost: int | None
) -> PlanLimits:
    """The tenant's plan; `standard` unless a declared plan overrides it."""
    if bucket_size is None or restore_rate is None or max_cost is None:
        return STANDARD
    return PlanLimits(
        name=name, bucket_size=bucket_size, restore_rate=restore_rate, max_query_cost=max_cost
    )


async def replace_secret_hash(session: AsyncSession, client: ClientRecord, new_hash: str) -> bool:
    """Stores the same secret's hash made with today's parameters, unless the
    secret changed meanwhile. Not a new secret: the credential version stays."""
    result = await session.execute(
        update(ApiClient)
        .where(col(ApiClient.id) == client.id)
        .where(col(ApiClient.secret_hash) == client.secret_hash)
        .values(secret_hash=new_hash)
    )
    return bool(getattr(result, "rowcount", 0))
