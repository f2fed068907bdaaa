"""The durable work queue of orders whose risk check or routing is still to do."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import Column, ForeignKeyConstraint, Index, Integer, String, Text
from sqlmodel import Field

from oaas.db.base import SQLModel
from oaas.db.scoping import Visibility, visibility_info
from oaas.db.types import UTCDateTime, utcnow


class IntakeJob(SQLModel, table=True):
    """One row per order still to be assessed and routed; its key makes a second job
    for the same order impossible, and routing deletes it in the same transaction.

    `next_attempt_at` NULL: waiting for stock, woken when the merchant's inventory
    changes. `claimed_until`: a worker's lease; an expired lease (a crash) lets
    another worker take the job.
    """

    __tablename__ = "intake_jobs"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "order_id"],
            ["orders.tenant_id", "orders.id"],
            ondelete="CASCADE",
            name="fk_intake_jobs_order",
        ),
        Index("ix_intake_jobs_next_attempt", "next_attempt_at"),
        visibility_info(Visibility.OWN),
    )

    tenant_id: UUID = Field(primary_key=True)
    order_id: UUID = Field(primary_key=True)
    reason: str = Field(sa_column=Column(String(40), nullable=False))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    next_attempt_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    claimed_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
