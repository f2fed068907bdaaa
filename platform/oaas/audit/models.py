"""One row per administrative act (grants, revokes, tenant and client changes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Uuid
from sqlmodel import Field

from oaas.db.base import SQLModel
from oaas.db.scoping import Visibility, visibility_info
from oaas.db.types import UTCDateTime, new_id, utcnow


class AuditEntry(SQLModel, table=True):
    """Owned by the tenant the act concerns, so its admins can read it."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_tenant_at", "tenant_id", "at", "id"),
        visibility_info(Visibility.OWN),
    )

    tenant_id: UUID = Field(
        sa_column=Column(
            Uuid, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    id: UUID = Field(default_factory=new_id, primary_key=True)
    actor: str = Field(sa_column=Column(String(200), nullable=False))
    act: str = Field(sa_column=Column(String(64), nullable=False))
    object_type: str = Field(sa_column=Column(String(64), nullable=False))
    object_id: str = Field(sa_column=Column(String(200), nullable=False))
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
