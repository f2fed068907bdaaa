"""Policy: who may do what. One call site, `require`, backed by Casbin."""

from __future__ import annotations

from uuid import UUID

from oaas.errors import Forbidden
from oaas.policy.enforcer import ACTION_SCOPES, SCOPES, Action, Policy, PolicyError, default_policy
from oaas.policy.principal import Principal, TenantKind, system_principal
from oaas.policy.shares import (
    SharePolicy,
    ShareProfile,
    default_share_policy,
    grant_allows,
    share_view,
)


def is_allowed(
    principal: Principal, action: Action, resource_tenant_id: UUID | None = None
) -> bool:
    """May this caller take `action` on a resource of `resource_tenant_id` (own when None)?"""
    needed_scope = ACTION_SCOPES[action]
    if needed_scope is not None and needed_scope not in principal.scopes:
        return False
    scope = (
        "own" if resource_tenant_id is None or resource_tenant_id == principal.tenant_id else "any"
    )
    policy = default_policy()
    return any(policy.allows(role, action, scope) for role in principal.roles)


def require(principal: Principal, action: Action, resource_tenant_id: UUID | None = None) -> None:
    if not is_allowed(principal, action, resource_tenant_id):
        raise Forbidden(f"{principal.actor} may not {action}")


__all__ = [
    "ACTION_SCOPES",
    "SCOPES",
    "Action",
    "Policy",
    "PolicyError",
    "Principal",
    "SharePolicy",
    "ShareProfile",
    "TenantKind",
    "default_policy",
    "default_share_policy",
    "grant_allows",
    "is_allowed",
    "require",
    "share_view",
    "system_principal",
]
