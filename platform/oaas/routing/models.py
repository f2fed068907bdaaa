"""Fulfilment nodes, their stock and load, routing profiles, decisions and learned estimates.

A node belongs to the merchant whose orders it serves (`tenant_id`). A node a
partner operates names that partner too (`partner_tenant_id`): the partner
manages it and its stock, the merchant routes to it while the partner holds a
fulfilment grant, and both see it (Visibility.MERCHANT_AND_PARTNER).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlmodel import Field

from oaas.db.base import SQLModel
from oaas.db.scoping import Visibility, visibility_info
from oaas.db.types import UTCDateTime, new_id, utcnow


def _tenant_fk() -> Column[Any]:
    return Column(
        Uuid, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True, nullable=False
    )


def _node_fk(table: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["tenant_id", "node_id"],
        ["fulfilment_nodes.tenant_id", "fulfilment_nodes.id"],
        ondelete="CASCADE",
        name=f"fk_{table}_node",
    )


class FulfilmentNode(SQLModel, table=True):
    __tablename__ = "fulfilment_nodes"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code", name="uq_fulfilment_nodes_tenant_id_code"),
        # Codes are unique per merchant regardless of case (routing.validation.code_key).
        # The constraint above is implied by it and stays: SQLite drops a constraint only
        # by rebuilding the table, and dropping the old one would cascade to its stock.
        Index(
            "uq_fulfilment_nodes_tenant_id_lower_code",
            "tenant_id",
            text("lower(code)"),
            unique=True,
        ),
        Index("ix_fulfilment_nodes_partner", "partner_tenant_id"),
        CheckConstraint("daily_capacity >= 0", name="capacity_not_negative"),
        CheckConstraint("base_cost_minor >= 0 AND cost_per_km_minor >= 0", name="costs"),
        CheckConstraint("default_promise_hours > 0", name="promise_positive"),
        visibility_info(Visibility.MERCHANT_AND_PARTNER),
    )

    tenant_id: UUID = Field(sa_column=_tenant_fk())
    id: UUID = Field(default_factory=new_id, primary_key=True)
    partner_tenant_id: UUID | None = Field(
        default=None, sa_column=Column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    )
    code: str = Field(sa_column=Column(String(64), nullable=False))
    name: str = Field(sa_column=Column(String(200), nullable=False))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    latitude: float = Field(sa_column=Column(Float, nullable=False))
    longitude: float = Field(sa_column=Column(Float, nullable=False))
    region: str = Field(sa_column=Column(String(16), nullable=False))
    regions_served: list[str] = Field(sa_column=Column(JSON, nullable=False))
    regions_excluded: list[str] = Field(sa_column=Column(JSON, nullable=False))
    daily_capacity: int = Field(sa_column=Column(Integer, nullable=False))
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    base_cost_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    cost_per_km_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    region_rates_minor: dict[str, int] = Field(sa_column=Column(JSON, nullable=False))
    promise_hours: dict[str, float] = Field(sa_column=Column(JSON, nullable=False))
    default_promise_hours: float = Field(sa_column=Column(Float, nullable=False))
    active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class InventoryLevel(SQLModel, table=True):
    """Stock of one SKU at one node. `reserved <= on_hand` is what keeps two orders
    from reserving the same unit: a reservation is a conditional UPDATE."""

    __tablename__ = "inventory_levels"
    __table_args__ = (
        _node_fk("inventory_levels"),
        Index("ix_inventory_levels_tenant_sku", "tenant_id", "sku"),
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="reserved_within"),
        visibility_info(Visibility.MERCHANT_AND_PARTNER),
    )

    tenant_id: UUID = Field(primary_key=True)
    node_id: UUID = Field(primary_key=True)
    sku: str = Field(sa_column=Column(String(64), primary_key=True, nullable=False))
    partner_tenant_id: UUID | None = Field(default=None, nullable=True)
    on_hand: int = Field(sa_column=Column(Integer, nullable=False))
    reserved: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class NodeDailyLoad(SQLModel, table=True):
    """Shipments assigned to a node on a (UTC) day, against its daily capacity."""

    __tablename__ = "node_daily_loads"
    __table_args__ = (_node_fk("node_daily_loads"), visibility_info(Visibility.OWN))

    tenant_id: UUID = Field(primary_key=True)
    node_id: UUID = Field(primary_key=True)
    day: date = Field(sa_column=Column(Date, primary_key=True, nullable=False))
    assigned: int = Field(sa_column=Column(Integer, nullable=False))


class RoutingProfileRow(SQLModel, table=True):
    """A merchant's weights and split rules, and the centroids of its delivery regions."""

    __tablename__ = "routing_profiles"
    __table_args__ = (visibility_info(Visibility.OWN),)

    tenant_id: UUID = Field(sa_column=_tenant_fk())
    version: int = Field(sa_column=Column(Integer, nullable=False))
    weights: dict[str, float] = Field(sa_column=Column(JSON, nullable=False))
    allow_split: bool = Field(sa_column=Column(Boolean, nullable=False))
    max_split: int = Field(sa_column=Column(Integer, nullable=False))
    region_centroids: dict[str, list[float]] = Field(sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class RoutingDecisionRow(SQLModel, table=True):
    """One routing decision of one order, kept across re-routes (`sequence` 1, 2, ...)."""

    __tablename__ = "routing_decisions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "order_id"],
            ["orders.tenant_id", "orders.id"],
            ondelete="CASCADE",
            name="fk_routing_decisions_order",
        ),
        UniqueConstraint(
            "tenant_id", "order_id", "sequence", name="uq_routing_decisions_order_sequence"
        ),
        Index("ix_routing_decisions_tenant_decided", "tenant_id", "decided_at"),
        visibility_info(Visibility.ORDER_DATA),
    )

    tenant_id: UUID = Field(primary_key=True)
    id: UUID = Field(default_factory=new_id, primary_key=True)
    order_id: UUID = Field(nullable=False)
    sequence: int = Field(sa_column=Column(Integer, nullable=False))
    trigger: str = Field(sa_column=Column(String(24), nullable=False))
    decided_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    routed: bool = Field(sa_column=Column(Boolean, nullable=False))
    reason_code: str | None = Field(default=None, sa_column=Column(String(40)))
    explanation: str = Field(sa_column=Column(Text, nullable=False))
    destination_region: str = Field(sa_column=Column(String(16), nullable=False))
    profile_version: int = Field(sa_column=Column(Integer, nullable=False))
    candidates: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    assignments: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    # Set when the reservation of this decision was given back (re-route, cancel)
    # or consumed (shipped), so stock is never released or taken twice.
    settled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    settlement: str | None = Field(default=None, sa_column=Column(String(16)))


class DeliveryEstimate(SQLModel, table=True):
    """Learned delivery hours from a node to a destination region."""

    __tablename__ = "delivery_estimates"
    __table_args__ = (_node_fk("delivery_estimates"), visibility_info(Visibility.OWN))

    tenant_id: UUID = Field(primary_key=True)
    node_id: UUID = Field(primary_key=True)
    region: str = Field(sa_column=Column(String(16), primary_key=True, nullable=False))
    hours: float = Field(sa_column=Column(Float, nullable=False))
    samples: int = Field(sa_column=Column(Integer, nullable=False))
    version: int = Field(sa_column=Column(Integer, nullable=False))
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
