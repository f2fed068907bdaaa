"""Applying manifests: diff against the database, then create, update or leave alone.

Runs inside the caller's unit of work; `oaas tenants apply` commits it once for
all files, or rolls it back for `--dry-run`, so the report is the same either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from oaas.errors import OaasError
from oaas.manifests import fulfilment
from oaas.manifests.manifest import ClientSpec, Manifest, ManifestError, TenantSpec
from oaas.policy import Principal
from oaas.quotas import service as quotas
from oaas.sharing import service as sharing
from oaas.sla import definitions as sla_definitions
from oaas.tenancy import service as tenancy
from oaas.tenancy.models import ApiClient, Tenant
from oaas.tenancy.secrets import verify_secret


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DELETED = "deleted"
    REVOKED = "revoked"


@dataclass(frozen=True)
class Change:
    kind: str
    name: str
    outcome: Outcome
    detail: str = ""

    def __str__(self) -> str:
        tail = f" ({self.detail})" if self.detail else ""
        return f"{self.kind} {self.name}: {self.outcome}{tail}"


async def apply_manifest(
    session: AsyncSession, principal: Principal, manifest: Manifest, *, prune: bool = False
) -> list[Change]:
    changes: list[Change] = []
    tenants: dict[str, Tenant] = {}
    try:
        for plan_spec in manifest.plans:
            outcome = await quotas.put_plan(session, principal, plan_spec.limits)
            changes.append(Change("plan", plan_spec.limits.name, Outcome(outcome)))
        for spec in manifest.tenants:
            if spec.plan is not None and await quotas.find_plan(session, spec.plan) is None:
                raise ManifestError(
                    [f"{spec.origin}.plan: no plan {spec.plan!r} (declare it under plans:)"]
                )
            tenant, change = await _apply_tenant(session, principal, spec)
            tenants[spec.handle] = tenant
            changes.append(change)
            if spec.sla is not None:
                outcome = await sla_definitions.set_sla(session, principal, tenant, spec.sla)
                changes.append(Change("sla", spec.handle, Outcome(outcome)))
            changes.extend(await _apply_clients(session, principal, tenant, spec, prune=prune))
        changes.extend(await _apply_grants(session, principal, manifest, tenants, prune=prune))
        # After grants: a partner's node is routed to only while its grant holds.
        found: list[tuple[str, str, str, str]] = []
        for routing in manifest.routing:
            found += await fulfilment.apply_routing(session, principal, routing)
        for risk in manifest.risk:
            found.append(await fulfilment.apply_risk(session, principal, risk))
        changes.extend(Change(k, n, Outcome(o), d) for k, n, o, d in found)
    except OaasError as exc:
        raise ManifestError([exc.message]) from exc
    return changes


async def _apply_tenant(
    session: AsyncSession, principal: Principal, spec: TenantSpec
) -> tuple[Tenant, Change]:
    tenant = await tenancy.find_tenant(session, spec.handle)
    if tenant is None:
        tenant = await tenancy.create_tenant(
            session,
            principal,
            handle=spec.handle,
            name=spec.name,
            kind=spec.kind,
            status=spec.status,
            plan=spec.plan,
        )
        return tenant, Change("tenant", spec.handle, Outcome.CREATED)
    if tenant.kind != spec.kind:
        raise ManifestError(
            [f"{spec.origin}.kind: {spec.handle} is a {tenant.kind}; a tenant's kind cannot change"]
        )
    before = (tenant.name, tenant.status, tenant.plan)
    changed = await tenancy.update_tenant(
        session, principal, tenant, name=spec.name, status=spec.status, plan=spec.plan
    )
    if not changed:
        return tenant, Change("tenant", spec.handle, Outcome.UNCHANGED)
    what = [
        label
        for label, old, new in (
            ("name", before[0], spec.name),
            ("status", before[1], spec.status),
            ("plan", before[2], spec.plan or before[2]),
        )
        if old != new
    ]
    return tenant, Change("tenant", spec.handle, Outcome.UPDATED, ", ".join(what))


async def _apply_clients(
    session: AsyncSession, principal: Principal, tenant: Tenant, spec: TenantSpec, *, prune: bool
) -> list[Change]:
    changes: list[Change] = []
    existing = {c.client_id: c for c in await tenancy.list_clients(session, principal, tenant)}
    for client_spec in spec.clients:
        changes.append(
            await _apply_client(
                session, principal, tenant, client_spec, existing.pop(client_spec.client_id, None)
            )
        )
    for client_id, client in sorted(existing.items()):
        name = f"{tenant.handle}/{client_id}"
        if prune:
            await tenancy.delete_client(session, principal, client)
            changes.append(Change("client", name, Outcome.DELETED))
        else:
            changes.append(
                Change("client", name, Outcome.UNCHANGED, "not in the manifest; --prune removes it")
            )
    return changes


async def _apply_client(
    session: AsyncSession,
    principal: Principal,
    tenant: Tenant,
    spec: ClientSpec,
    client: ApiClient | None,
) -> Change:
    name = f"{tenant.handle}/{spec.client_id}"
    if client is None:
        taken = await tenancy.find_client(session, spec.client_id)
        if taken is not None:
            raise ManifestError(
                [f"{spec.origin}.client_id: {spec.client_id!r} belongs to another tenant"]
            )
        await tenancy.create_client(
            session,
            principal,
            tenant,
            client_id=spec.client_id,
            roles=spec.roles,
            secret=spec.secret,
        )
        return Change("client", name, Outcome.CREATED)
    what: list[str] = []
    if sorted(client.roles) != list(spec.roles):
        what.append("roles")
    if not verify_secret(client.secret_hash, spec.secret):
        what.append("secret")
    if not what:
        return Change("client", name, Outcome.UNCHANGED)
    await tenancy.update_client(
        session,
        principal,
        client,
        tenant,
        roles=spec.roles if "roles" in what else None,
        secret=spec.secret if "secret" in what else None,
    )
    return Change("client", name, Outcome.UPDATED, ", ".join(what))


async def _apply_grants(
    session: AsyncSession,
    principal: Principal,
    manifest: Manifest,
    tenants: dict[str, Tenant],
    *,
    prune: bool,
) -> list[Change]:
    changes: list[Change] = []
    problems: list[str] = []
    listed: dict[str, set[str]] = {}
    for spec in manifest.grants:
        merchant = tenants.get(spec.merchant) or await tenancy.find_tenant(session, spec.merchant)
        partner = tenants.get(spec.partner) or await tenancy.find_tenant(session, spec.partner)
        if merchant is None:
            problems.append(f"{spec.origin}.merchant: no tenant {spec.merchant!r}")
        if partner is None:
            problems.append(f"{spec.origin}.partner: no tenant {spec.partner!r}")
        if merchant is None or partner is None:
            continue
        existed = await sharing.active_grant(session, merchant, partner) is not None
        try:
            _grant, changed = await sharing.grant_access(
                session, principal, merchant, partner, profile=spec.profile, actions=spec.actions
            )
        except OaasError as exc:
            problems.append(f"{spec.origin}: {exc.message}")
            continue
        listed.setdefault(merchant.handle, set()).add(partner.handle)
        outcome = (
            Outcome.UNCHANGED if not changed else Outcome.UPDATED if existed else Outcome.CREATED
        )
        changes.append(Change("grant", f"{spec.merchant}->{spec.partner}", outcome))
    if problems:
        raise ManifestError(problems)
    if prune:
        for handle, tenant in tenants.items():
            for grant in await sharing.active_grants_of(session, tenant):
                partner_tenant = await session.get_one(Tenant, grant.partner_tenant_id)
                if partner_tenant.handle not in listed.get(handle, set()):
                    await sharing.revoke_access(session, principal, grant)
                    changes.append(
                        Change("grant", f"{handle}->{partner_tenant.handle}", Outcome.REVOKED)
                    )
    return changes
