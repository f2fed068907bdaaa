"""Field-level policy: each field declares the action it needs next to its definition."""

from __future__ import annotations

from functools import cache
from typing import Any

from strawberry.permission import BasePermission

from oaas.graphql.context import Info
from oaas.policy import Action, is_allowed


@cache
def allowed(action: Action) -> type[BasePermission]:
    """A permission class for `action` in the caller's own tenant.

    Whether the object itself is the caller's to touch is the service's check,
    answered as NOT_FOUND so that existence never leaks.
    """

    class Allowed(BasePermission):
        message = f"FORBIDDEN: this needs permission for {action}"
        error_extensions = {"code": "FORBIDDEN", "action": action}

        def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
            return is_allowed(info.context.principal, action)

    Allowed.__name__ = f"Allowed_{action.replace(':', '_')}"
    return Allowed
