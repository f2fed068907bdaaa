"""Plans: how many cost points a tenant may spend, and how fast they come back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, Float, Integer, String
from sqlmodel import Field

from oaas.db.base import SQLModel
from oaas.db.types import UTCDateTime, utcnow


@dataclass(frozen=True, slots=True)
class PlanLimits:
    name: str
    bucket_size: int
    restore_rate: float  # points a second
    max_query_cost: int


# Shopify's standard plan: a 1,000-point bucket restoring 100 points a second.
STANDARD = PlanLimits(name="standard", bucket_size=1_000, restore_rate=100.0, max_query_cost=1_000)


class Plan(SQLModel, table=True):
    """Plans declared in manifests; `standard` exists without being declared."""

    __tablename__ = "plans"

    name: str = Field(sa_column=Column(String(63), primary_key=True, nullable=False))
    bucket_size: int = Field(sa_column=Column(Integer, nullable=False))
    restore_rate: float = Field(sa_column=Column(Float, nullable=False))
    max_query_cost: int = Field(sa_column=Column(Integer, nullable=False))
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )

    def limits(self) -> PlanLimits:
        return PlanLimits(
            name=self.name,
            bucket_size=self.bucket_size,
            restore_rate=self.restore_rate,
            max_query_cost=self.max_query_cost,
        )
