"""The audit log over GraphQL: merchant and partner admins read their own tenant's,
platform admins everyone's."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from oaas.audit import log as audit
from oaas.audit.models import AuditEntry as AuditRow
from oaas.graphql.context import Info
from oaas.graphql.errors import answer
from oaas.graphql.ids import decode_keyset_cursor, encode_keyset_cursor, to_global_id
from oaas.graphql.loaders import tenant_by_id_loader
from oaas.graphql.node import Node
from oaas.graphql.permissions import allowed
from oaas.graphql.tenancy import Tenant
from oaas.policy import Action
from oaas.tenancy import service as tenancy

MAX_PAGE = 100


@strawberry.type
class AuditEntry(Node):
    actor: str = strawberry.field(description='"<tenant handle>/<client id>" of whoever acted.')
    act: str = strawberry.field(description="e.g. grant.created, grant.revoked, client.created")
    object_type: str
    object_id: str
    at: datetime
    detail: JSON
    row: strawberry.Private[AuditRow]

    @classmethod
    def of(cls, row: AuditRow) -> AuditEntry:
        return cls(
            id=strawberry.ID(to_global_id("AuditEntry", row.id)),
            actor=row.actor,
            act=row.act,
            object_type=row.object_type,
            object_id=row.object_id,
            at=row.at,
            detail=row.detail,  # type: ignore[arg-type]
            row=row,
        )

    @strawberry.field(description="The tenant the act concerns.")
    async def tenant(self, info: Info) -> Tenant:
        return Tenant.of(await tenant_by_id_loader(info.context).load(self.row.tenant_id))


@strawberry.type
class AuditEntryEdge:
    cursor: str
    node: AuditEntry


@strawberry.type
class AuditLogPageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class AuditEntryConnection:
    edges: list[AuditEntryEdge]
    page_info: AuditLogPageInfo


def _cursor(row: AuditRow) -> str:
    return encode_keyset_cursor(row.at, row.id)


@strawberry.type
class AuditQuery:
    @strawberry.field(
        permission_classes=[allowed(Action.CLIENT_ADMIN)],
        description="Administrative acts, newest first: the caller's tenant, or for platform "
        "admins every tenant (`tenant` narrows).",
    )
    async def audit_log(
        self, info: Info, first: int = 20, after: str | None = None, tenant: str | None = None
    ) -> AuditEntryConnection:
        first = max(0, min(first, MAX_PAGE))
        tenant_id = None
        if tenant is not None:
            # Another tenant's log does not exist for the caller: NOT_FOUND, as an unknown one.
            named = tenancy.get_tenant(
                info.context.session,
                info.context.principal,
                tenant,
                ("tenant",),
                action=Action.CLIENT_ADMIN,
            )
            tenant_id = (await answer(named)).id
        before = decode_keyset_cursor(after) if after is not None else None
        if after is not None and before is None:
            return AuditEntryConnection(
                edges=[], page_info=AuditLogPageInfo(has_next_page=False, end_cursor=None)
            )
        rows = await audit.entries(
            info.context.session,
            info.context.principal,
            first=first + 1,
            before=before,
            tenant_id=tenant_id,
        )
        edges = [AuditEntryEdge(cursor=_cursor(r), node=AuditEntry.of(r)) for r in rows[:first]]
        return AuditEntryConnection(
            edges=edges,
            page_info=AuditLogPageInfo(
                has_next_page=len(rows) > first, end_cursor=edges[-1].cursor if edges else None
            ),
        )
