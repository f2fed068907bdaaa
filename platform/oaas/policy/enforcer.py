"""The Casbin policy files, loaded once, and the decisions drawn from them."""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path

import casbin


class Action(StrEnum):
    """Every action a role may be allowed: policy.csv and share_policy.csv name them by value."""

    VIEWER_READ = "viewer:read"
    ORDER_READ = "order:read"
    ORDER_CREATE = "order:create"
    ORDER_CANCEL = "order:cancel"
    FULFILLMENT_UPDATE = "fulfillment:update"
    GRANT_WRITE = "grant:write"
    CLIENT_ADMIN = "client:admin"
    TENANT_ADMIN = "tenant:admin"
    SLA_READ = "sla:read"
    SLA_WRITE = "sla:write"
    ROUTING_READ = "routing:read"
    ROUTING_WRITE = "routing:write"
    INVENTORY_WRITE = "inventory:write"
    RISK_REVIEW = "risk:review"
    RISK_WRITE = "risk:write"


# The OAuth scope each action needs in the token, besides a role that allows it.
# `None`: any valid token will do.
ACTION_SCOPES: dict[Action, str | None] = {
    Action.VIEWER_READ: None,
    Action.ORDER_READ: "orders:read",
    Action.ORDER_CREATE: "orders:write",
    Action.ORDER_CANCEL: "orders:write",
    Action.FULFILLMENT_UPDATE: "fulfillment:write",
    Action.GRANT_WRITE: "shares:write",
    Action.CLIENT_ADMIN: "admin",
    Action.TENANT_ADMIN: "admin",
    Action.SLA_READ: "admin",
    Action.SLA_WRITE: "admin",
    Action.ROUTING_READ: "orders:read",
    Action.ROUTING_WRITE: "settings:write",
    Action.INVENTORY_WRITE: "inventory:write",
    Action.RISK_REVIEW: "orders:write",
    Action.RISK_WRITE: "settings:write",
}

_ACTION_NAMES = frozenset(action.value for action in Action)

# Every scope a token may carry: the ones the actions above need.
SCOPES = tuple(dict.fromkeys(s for s in ACTION_SCOPES.values() if s is not None))


def policies_dir() -> Path:
    """The wheel ships the files as `oaas/_policies`; a source checkout has `policies/`."""
    shipped = Path(str(resources.files("oaas"))) / "_policies"
    if shipped.is_dir():
        return shipped
    return Path(__file__).resolve().parents[3] / "policies"


class PolicyError(Exception):
    """The policy files are unusable."""


class Policy:
    """Decisions from `model.conf` and `policy.csv`, memoised: the answer for a
    (role, action, scope) never changes while the process runs."""

    def __init__(self, directory: Path | None = None) -> None:
        directory = directory or policies_dir()
        model, policy = directory / "model.conf", directory / "policy.csv"
        for path in (model, policy):
            if not path.is_file():
                raise PolicyError(f"{path}: missing")
        try:
            self._enforcer = casbin.Enforcer(str(model), str(policy))
        except Exception as exc:
            raise PolicyError(f"{directory}: {exc}") from exc
        self._allowed: dict[tuple[str, str, str], bool] = {}
        self.check()

    def check(self) -> None:
        """Every action named in the policy is in the vocabulary, every role has a kind."""
        lines = self._enforcer.get_policy()
        if not lines:
            raise PolicyError("policy.csv grants nothing")
        kinds = self.role_kinds()
        for role, action, scope in (tuple(line) for line in lines):
            if action not in _ACTION_NAMES:
                raise PolicyError(f"policy.csv: unknown action {action!r} for role {role!r}")
            if scope not in ("own", "any"):
                raise PolicyError(f"policy.csv: scope must be own or any, not {scope!r}")
            if role not in kinds:
                raise PolicyError(f"policy.csv: role {role!r} has no tenant kind (g2 line)")

    def allows(self, role: str, action: Action, scope: str) -> bool:
        key = (role, action, scope)
        decision = self._allowed.get(key)
        if decision is None:
            decision = bool(self._enforcer.enforce(role, action, scope))
            self._allowed[key] = decision
        return decision

    def role_kinds(self) -> dict[str, str]:
        return dict(self._enforcer.get_named_grouping_policy("g2"))

    def roles_for_kind(self, kind: str) -> frozenset[str]:
        return frozenset(role for role, k in self.role_kinds().items() if k == kind)

    def scopes_for_roles(self, roles: frozenset[str]) -> frozenset[str]:
        """The token scopes a client holding these roles may be given."""
        scopes: set[str] = set()
        for action, scope in ACTION_SCOPES.items():
            if scope is None:
                continue
            if any(self.allows(role, action, "own") for role in roles):
                scopes.add(scope)
        return frozenset(scopes)


@cache
def default_policy() -> Policy:
    return Policy()
