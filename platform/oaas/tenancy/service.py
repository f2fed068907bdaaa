"""Tenant and API client administration: the rules behind both the manifest and GraphQL.

Functions take the session and the calling principal, check the policy, flush
and never commit: the caller's unit of work decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from anyio import to_thread
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from oaas.audit import log as audit
from oaas.db.types import utcnow
from oaas.errors import ErrorCode, NotFound, OaasError, Problems
from oaas.policy import Action, Principal, TenantKind, default_policy, is_allowed, require
from oaas.tenancy.models import ApiClient, Tenant, TenantStatus
from oaas.tenancy.secrets import MIN_SECRET_LENGTH, generate_secret, hash_secret
from oaas.tenancy.validation import client_id_problem, handle_problem, name_problem
from oaas.text import quote

Field = Sequence[str]

# Stands for "some other tenant" in a policy check: listing or creating tenants
# acts on tenants other than the caller's own.
_ANY = UUID(int=1)


@dataclass(frozen=True)
class IssuedSecret:
    """A client and its plain secret, which exists only in this answer."""

    client: ApiClient
    tenant: Tenant
    secret: str


async def find_tenant(session: AsyncSession, handle: str) -> Tenant | None:
    result = await session.execute(select(Tenant).where(col(Tenant.handle) == handle))
    return result.scalar_one_or_none()


async def tenants_by_id(session: AsyncSession, ids: Sequence[UUID]) -> dict[UUID, Tenant]:
    """These tenants by id (an id that names none is not in the answer)."""
    if not ids:
        return {}
    rows = await session.execute(select(Tenant).where(col(Tenant.id).in_(list(ids))))
    return {tenant.id: tenant for tenant in rows.scalars()}


async def own_tenant(session: AsyncSession, principal: Principal) -> Tenant:
    """The caller's tenant (the bearer check found it active)."""
    return await session.get_one(Tenant, principal.tenant_id)


async def get_tenant(
    session: AsyncSession,
    principal: Principal,
    handle: str | None,
    field: Field = ("handle",),
    *,
    action: Action = Action.TENANT_ADMIN,
) -> Tenant:
    """The named tenant if the caller may take `action` on it (the caller's own when no
    handle is given); any other does not exist for it, answered as a made-up handle
    is, word for word (so the message does not repeat the handle)."""
    if handle is None:
        return await own_tenant(session, principal)
    tenant = await find_tenant(session, handle)
    if tenant is None or not is_allowed(principal, action, tenant.id):
        raise NotFound("no such tenant", field)
    return tenant


async def list_tenants(
    session: AsyncSession, principal: Principal, *, first: int, after_handle: str | None
) -> list[Tenant]:
    require(principal, Action.TENANT_ADMIN, _ANY)
    query = select(Tenant).order_by(col(Tenant.handle)).limit(first)
    if after_handle is not None:
        query = query.where(col(Tenant.handle) > after_handle)
    return list((await session.execute(query)).scalars())


def _check_tenant_fields(handle: str | None, name: str | None, field_prefix: Field) -> Problems:
    problems = Problems(*field_prefix)
    if handle is not None and (problem := handle_problem(handle)):
        problems.add(("handle",), f"handle {problem}")
    if name is not None and (problem := name_problem(name)):
        problems.add(("name",), f"name {problem}")
    return problems


async def create_tenant(
    session: AsyncSession,
    principal: Principal,
    *,
    handle: str,
    name: str,
    kind: TenantKind,
    status: TenantStatus = TenantStatus.ACTIVE,
    plan: str | None = None,
    field_prefix: Field = ("input",),
) -> Tenant:
    require(principal, Action.TENANT_ADMIN, _ANY)
    _check_tenant_fields(handle, name, field_prefix).raise_if_any()
    if await find_tenant(session, handle) is not None:
        raise OaasError(ErrorCode.TAKEN, f"handle {handle!r} is taken", (*field_prefix, "handle"))
    tenant = Tenant(handle=handle, name=name, kind=kind, status=status, plan=plan or "standard")
    session.add(tenant)
    await session.flush()
    await audit.record(
        session,
        principal,
        tenant_id=tenant.id,
        act="tenant.created",
        object_type="Tenant",
        object_id=handle,
        detail={"name": name, "kind": str(kind), "status": str(status), "plan": tenant.plan},
    )
    return tenant


async def update_tenant(
    session: AsyncSession,
    principal: Principal,
    tenant: Tenant,
    *,
    name: str | None = None,
    status: TenantStatus | None = None,
    plan: str | None = None,
    field_prefix: Field = ("input",),
) -> bool:
    """Applies the changes; answers whether anything changed."""
    require(principal, Action.TENANT_ADMIN, tenant.id)
    _check_tenant_fields(None, name, field_prefix).raise_if_any()
    changed = False
    before = {"name": tenant.name, "status": str(tenant.status), "plan": tenant.plan}
    if name is not None and name != tenant.name:
        tenant.name = name
        changed = True
    if status is not None and status != tenant.status:
        if tenant.id == principal.tenant_id and status is TenantStatus.SUSPENDED:
            raise OaasError(
                ErrorCode.INVALID, "a tenant cannot suspend itself", (*field_prefix, "status")
            )
        tenant.status = status
        changed = True
    if plan is not None and plan != tenant.plan:
        tenant.plan = plan
        changed = True
    if changed:
        tenant.updated_at = utcnow()
        await session.flush()
        after = {"name": tenant.name, "status": str(tenant.status), "plan": tenant.plan}
        await audit.record(
            session,
            principal,
            tenant_id=tenant.id,
            act="tenant.updated",
            object_type="Tenant",
            object_id=tenant.handle,
            detail={k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]},
        )
    return changed


async def find_client(session: AsyncSession, client_id: str) -> ApiClient | None:
    result = await session.execute(select(ApiClient).where(col(ApiClient.client_id) == client_id))
    return result.scalar_one_or_none()


async def get_client(
    session: AsyncSession, principal: Principal, client_id: str, field: Field
) -> tuple[ApiClient, Tenant]:
    """A client the caller may administer; others do not exist for it (answered as a
    made-up id is, word for word)."""
    client = await find_client(session, client_id)
    if client is None or not is_allowed(principal, Action.CLIENT_ADMIN, client.tenant_id):
        raise NotFound("no such API client", field)
    tenant = await session.get_one(Tenant, client.tenant_id)
    return client, tenant


async def list_clients(
    session: AsyncSession, principal: Principal, tenant: Tenant
) -> list[ApiClient]:
    require(principal, Action.CLIENT_ADMIN, tenant.id)
    query = (
        select(ApiClient)
        .where(col(ApiClient.tenant_id) == tenant.id)
        .order_by(col(ApiClient.client_id))
    )
    return list((await session.execute(query)).scalars())


def check_roles(
    principal: Principal, tenant: Tenant, roles: Sequence[str], field: Field
) -> list[str]:
    """The roles, deduplicated, if the tenant's kind has them and the caller may grant them."""
    policy = default_policy()
    known = policy.roles_for_kind(tenant.kind)
    if not roles:
        raise OaasError(ErrorCode.INVALID, "give at least one role", field)
    problems = Problems(*field)
    for index, role in enumerate(roles):
        if role not in known:
            problems.add(
                (index,),
                f"{quote(role)} is not a role of a {tenant.kind} tenant "
                f"(one of {', '.join(sorted(known))})",
            )
    problems.raise_if_any()
    unique = sorted(set(roles))
    if beyond := _scopes_beyond_caller(principal, unique):
        raise OaasError(
            ErrorCode.FORBIDDEN,
            f"these roles carry scopes the caller does not hold: {', '.join(sorted(beyond))}",
            field,
        )
    return unique


def _scopes_beyond_caller(principal: Principal, roles: Sequence[str]) -> frozenset[str]:
    """The scopes these roles carry that the caller lacks: below the platform, a
    caller may hand out only the access it holds itself."""
    if is_allowed(principal, Action.TENANT_ADMIN, _ANY):
        return frozenset()
    return default_policy().scopes_for_roles(frozenset(roles)) - principal.scopes


def _check_secret(secret: str, field: Field) -> None:
    if len(secret) < MIN_SECRET_LENGTH:
        raise OaasError(
            ErrorCode.INVALID, f"secret must be at least {MIN_SECRET_LENGTH} characters", field
        )


async def create_client(
    session: AsyncSession,
    principal: Principal,
    tenant: Tenant,
    *,
    client_id: str,
    roles: Sequence[str],
    secret: str | None = None,
    field_prefix: Field = ("input",),
) -> IssuedSecret:
    require(principal, Action.CLIENT_ADMIN, tenant.id)
    if problem := client_id_problem(client_id):
        raise OaasError(ErrorCode.INVALID, f"clientId {problem}", (*field_prefix, "clientId"))
    unique_roles = check_roles(principal, tenant, roles, (*field_prefix, "roles"))
    if secret is not None:
        _check_secret(secret, (*field_prefix, "secret"))
    taken = OaasError(
        ErrorCode.TAKEN, f"client id {client_id!r} is taken", (*field_prefix, "clientId")
    )
    if await find_client(session, client_id) is not None:
        raise taken
    plain = secret if secret is not None else generate_secret()
    client = ApiClient(
        tenant_id=tenant.id,
        client_id=client_id,
        secret_hash=await to_thread.run_sync(hash_secret, plain),
        roles=unique_roles,
    )
    try:
        # Client ids are unique across tenants, but the caller sees only its own:
        # another tenant's client shows up here, as the unique key refusing the id.
        async with session.begin_nested():
            session.add(client)
            await session.flush()
    except IntegrityError as error:
        raise taken from error
    await audit.record(
        session,
        principal,
        tenant_id=tenant.id,
        act="client.created",
        object_type="ApiClient",
        object_id=client_id,
        detail={"roles": unique_roles},
    )
    return IssuedSecret(client=client, tenant=tenant, secret=plain)


async def update_client(
    session: AsyncSession,
    principal: Principal,
    client: ApiClient,
    tenant: Tenant,
    *,
    roles: Sequence[str] | None = None,
    secret: str | None = None,
    field_prefix: Field = ("input",),
) -> None:
    require(principal, Action.CLIENT_ADMIN, tenant.id)
    detail: dict[str, object] = {}
    if roles is not None:
        new_roles = check_roles(principal, tenant, roles, (*field_prefix, "roles"))
        if new_roles != sorted(client.roles):
            detail["roles"] = {"from": sorted(client.roles), "to": new_roles}
        client.roles = new_roles
    if secret is not None:
        _check_secret(secret, (*field_prefix, "secret"))
        client.secret_hash = await to_thread.run_sync(hash_secret, secret)
        # Ends every token issued before: the bearer check compares versions. In
        # SQL, so that two rotations at once still raise it twice.
        client.credential_version = ApiClient.credential_version + 1
        detail["secret_replaced"] = True  # never the secret itself
    client.updated_at = utcnow()
    await session.flush()
    if secret is not None:
        await session.refresh(client, ["credential_version"])
    await audit.record(
        session,
        principal,
        tenant_id=tenant.id,
        act="client.updated",
        object_type="ApiClient",
        object_id=client.client_id,
        detail=detail,
    )


async def rotate_client_secret(
    session: AsyncSession,
    principal: Principal,
    client: ApiClient,
    tenant: Tenant,
    field: Field = ("clientId",),
) -> IssuedSecret:
    # Whoever receives the new secret holds all the client's access.
    if beyond := _scopes_beyond_caller(principal, client.roles):
        raise OaasError(
            ErrorCode.FORBIDDEN,
            f"this client carries scopes the caller does not hold: {', '.join(sorted(beyond))}",
            field,
        )
    secret = generate_secret()
    await update_client(session, principal, client, tenant, secret=secret)
    return IssuedSecret(client=client, tenant=tenant, secret=secret)


async def delete_client(
    session: AsyncSession, principal: Principal, client: ApiClient, field: Field = ("clientId",)
) -> None:
    require(principal, Action.CLIENT_ADMIN, client.tenant_id)
    if client.tenant_id == principal.tenant_id and client.client_id == principal.client_id:
        # The caller would cut off its own access in the middle of its request.
        raise OaasError(ErrorCode.INVALID, "a client cannot delete itself", field)
    await session.delete(client)
    await session.flush()
    await audit.record(
        session,
        principal,
        tenant_id=client.tenant_id,
        act="client.deleted",
        object_type="ApiClient",
        object_id=client.client_id,
    )
