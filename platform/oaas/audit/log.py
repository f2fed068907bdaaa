"""Writing and reading the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from oaas.audit.models import AuditEntry
from oaas.db import RowScope, acting_for
from oaas.db.types import utcnow
from oaas.policy import Action, Principal, is_allowed, require

_OTHER_TENANT = UUID(int=1)


async def record(
    session: AsyncSession,
    principal: Principal,
    *,
    tenant_id: UUID,
    act: str,
    object_type: str,
    object_id: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Adds an entry in the caller's transaction: the act and its record commit together.

    An entry in another tenant's log (a partner acts on a merchant's node) is the
    platform's bookkeeping on that tenant's behalf: written under its scope, which
    row-level security requires of every row of the log.
    """
    entry = AuditEntry(
        tenant_id=tenant_id,
        actor=principal.actor,
        act=act,
        object_type=object_type,
        object_id=object_id,
        at=utcnow(),
        detail=detail or {},
    )
    scope: RowScope | None = session.info.get("row_scope")
    if scope is None or scope.mode == "all" or scope.tenant_id == tenant_id:
        session.add(entry)
        return
    await session.flush()  # the caller's own changes, under the caller's scope
    async with acting_for(session, RowScope("tenant", tenant_id)):
        session.add(entry)
        await session.flush()


async def entries(
    session: AsyncSession,
    principal: Principal,
    *,
    first: int,
    before: tuple[datetime, UUID] | None = None,
    tenant_id: UUID | None = None,
) -> list[AuditEntry]:
    """Newest first: a merchant or partner admin's own tenant, every tenant for platform admins."""
    require(principal, Action.CLIENT_ADMIN)
    query = select(AuditEntry)
    if not is_allowed(principal, Action.TENANT_ADMIN, _OTHER_TENANT):
        query = query.where(col(AuditEntry.tenant_id) == principal.tenant_id)
    if tenant_id is not None:
        # Narrows within what the caller may read: another tenant's name finds nothing.
        query = query.where(col(AuditEntry.tenant_id) == tenant_id)
    if before is not None:
        at, entry_id = before
        query = query.where(
            or_(
                col(AuditEntry.at) < at,
                and_(col(AuditEntry.at) == at, col(AuditEntry.id) < entry_id),
            )
        )
    query = query.order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc()).limit(first)
    return list((await session.execute(query)).scalars())
