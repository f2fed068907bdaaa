"""Each merchant's risk policy and each order's assessment, kept with the order."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, Column, ForeignKey, ForeignKeyConstraint, Integer, String, Uuid
from sqlmodel import Field

from oaas.db.base import SQLModel
from oaas.db.scoping import Visibility, visibility_info
from oaas.db.types import UTCDateTime, utcnow


class RiskProfileRow(SQLModel, table=True):
    __tablename__ = "risk_profiles"
    __table_args__ = (visibility_info(Visibility.OWN),)

    tenant_id: UUID = Field(
        sa_column=Column(
            Uuid, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    version: int = Field(sa_column=Column(Integer, nullable=False))
    hold_threshold: int = Field(sa_column=Column(Integer, nullable=False))
    settings: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class RiskAssessmentRow(SQLModel, table=True):
    __tablename__ = "risk_assessments"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "order_id"],
            ["orders.tenant_id", "orders.id"],
            ondelete="CASCADE",
            name="fk_risk_assessments_order",
        ),
        visibility_info(Visibility.ORDER_DATA),
    )

    tenant_id: UUID = Field(primary_key=True)
    order_id: UUID = Field(primary_key=True)
    score: int = Field(sa_column=Column(Integer, nullable=False))
    level: str = Field(sa_column=Column(String(8), nullable=False))
    hold_threshold: int = Field(sa_column=Column(Integer, nullable=False))
    facts: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    policy_version: int = Field(sa_column=Column(Integer, nullable=False))
    assessed_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
