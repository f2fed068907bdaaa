"""Who is calling: built once per request from a verified access token."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID


class TenantKind(StrEnum):
    MERCHANT = "merchant"
    PARTNER = "partner"
    PLATFORM = "platform"


@dataclass(frozen=True, slots=True)
class Principal:
    tenant_id: UUID
    tenant_handle: str
    tenant_kind: TenantKind
    client_id: str
    roles: frozenset[str]
    scopes: frozenset[str]

    @property
    def actor(self) -> str:
        """How events and logs name this caller: `<tenant handle>/<client id>`."""
        return f"{self.tenant_handle}/{self.client_id}"


SYSTEM_TENANT_ID = UUID(int=0)


def system_principal(name: str) -> Principal:
    """The platform operator acting through the command line (`oaas tenants apply`).

    Whoever can run the CLI against the database is a platform admin already.
    """
    return Principal(
        tenant_id=SYSTEM_TENANT_ID,
        tenant_handle="system",
        tenant_kind=TenantKind.PLATFORM,
        client_id=name,
        roles=frozenset({"platform_admin"}),
        scopes=frozenset(
            {"admin", "orders:read", "shares:write", "settings:write", "inventory:write"}
        ),
    )
