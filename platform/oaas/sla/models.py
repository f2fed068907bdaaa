"""Stored SLI aggregates (one row per flush, per tenant, operation and minute) and SLAs."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Uuid
from sqlmodel import Field

from oaas.db.base import SQLModel
from oaas.db.scoping import Visibility, visibility_info
from oaas.db.types import UTCDateTime, new_id, utcnow


class SliMinute(SQLModel, table=True):
    """Rows are only ever inserted: every worker flushes its own, a report merges them
    (counts add, histograms add bucket by bucket, exemplars concatenate)."""

    __tablename__ = "sli_minutes"
    __table_args__ = (
        Index("ix_sli_minutes_tenant_minute", "tenant_id", "minute", "operation"),
        visibility_info(Visibility.OWN),
    )

    tenant_id: UUID = Field(
        sa_column=Column(
            Uuid, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    id: UUID = Field(default_factory=new_id, primary_key=True)
    minute: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    operation: str = Field(sa_column=Column(String(200), nullable=False))
    count: int = Field(sa_column=Column(Integer, nullable=False))
    bad: int = Field(sa_column=Column(Integer, nullable=False))
    histogram: dict[str, int] = Field(sa_column=Column(JSON, nullable=False))
    exemplars: dict[str, list[str]] = Field(sa_column=Column(JSON, nullable=False))


class TenantSla(SQLModel, table=True):
    """A tenant's SLA; tenants without one get the platform defaults (oaas.sla.definitions)."""

    __tablename__ = "tenant_slas"
    __table_args__ = (visibility_info(Visibility.OWN),)

    tenant_id: UUID = Field(
        sa_column=Column(
            Uuid, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    definition: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
