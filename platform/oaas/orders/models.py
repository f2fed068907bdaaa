"""Orders, their lines and events, idempotency records and per-merchant number counters.

Every table is tenant-owned: `tenant_id` leads each primary key, unique
constraint and index, and foreign keys between these tables include it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Computed,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlmodel import Field

from oaas.db.base import SQLModel
from oaas.db.scoping import Visibility, visibility_info
from oaas.db.types import UTCDateTime, new_id, utcnow


class OrderStatus(StrEnum):
    PENDING = "PENDING"
    ON_HOLD = "ON_HOLD"
    ROUTED = "ROUTED"
    FULFILLING = "FULFILLING"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"


def _tenant_fk() -> Column[Any]:
    return Column(
        Uuid, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True, nullable=False
    )


class Order(SQLModel, table=True):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number", name="uq_orders_tenant_id_number"),
        # Keyset pagination, newest first, within a merchant.
        Index("ix_orders_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_orders_tenant_external_id", "tenant_id", "external_id"),
        # Platform admins list across merchants, and look orders up by id alone.
        Index("ix_orders_created", "created_at", "id"),
        Index("ix_orders_id", "id"),
        # Risk velocity: a merchant's recent orders from one email.
        Index("ix_orders_tenant_email_created", "tenant_id", "customer_email", "created_at"),
        # ... and to one shipping address (the street compared case-insensitively).
        Index(
            "ix_orders_tenant_address_created",
            "tenant_id",
            "ship_line1_key",
            "ship_country",
            "created_at",
        ),
        visibility_info(Visibility.ORDER_DATA),
    )

    tenant_id: UUID = Field(sa_column=_tenant_fk())
    id: UUID = Field(default_factory=new_id, primary_key=True)
    number: str = Field(sa_column=Column(String(80), nullable=False))
    external_id: str | None = Field(default=None, sa_column=Column(String(255)))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    channel: str | None = Field(default=None, sa_column=Column(String(64)))
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    total_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    customer_email: str | None = Field(default=None, sa_column=Column(String(320)))
    ship_name: str | None = Field(default=None, sa_column=Column(String(200)))
    ship_line1: str = Field(sa_column=Column(String(200), nullable=False))
    # The street as the velocity check compares it, computed by the database. A column,
    # not an index on lower(ship_line1): under row-level security PostgreSQL uses an
    # index only for conditions on leakproof functions, and lower() is none.
    ship_line1_key: str | None = Field(
        default=None, sa_column=Column(String(200), Computed("lower(ship_line1)", persisted=True))
    )
    ship_line2: str | None = Field(default=None, sa_column=Column(String(200)))
    ship_city: str = Field(sa_column=Column(String(100), nullable=False))
    ship_region: str | None = Field(default=None, sa_column=Column(String(100)))
    ship_postal_code: str | None = Field(default=None, sa_column=Column(String(20)))
    ship_country: str = Field(sa_column=Column(String(2), nullable=False))
    tracking_number: str | None = Field(default=None, sa_column=Column(String(100)))
    carrier: str | None = Field(default=None, sa_column=Column(String(100)))
    cancel_reason: str | None = Field(default=None, sa_column=Column(String(500)))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class OrderLine(SQLModel, table=True):
    __tablename__ = "order_lines"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "order_id"],
            ["orders.tenant_id", "orders.id"],
            ondelete="CASCADE",
            name="fk_order_lines_order",
        ),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "cancelled_quantity >= 0 AND cancelled_quantity <= quantity", name="cancelled_within"
        ),
        CheckConstraint("unit_price_minor >= 0", name="price_not_negative"),
        visibility_info(Visibility.ORDER_DATA),
    )

    tenant_id: UUID = Field(primary_key=True)
    order_id: UUID = Field(primary_key=True)
    position: int = Field(sa_column=Column(Integer, primary_key=True, nullable=False))
    sku: str = Field(sa_column=Column(String(64), nullable=False))
    quantity: int = Field(sa_column=Column(Integer, nullable=False))
    cancelled_quantity: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    unit_price_minor: int = Field(sa_column=Column(BigInteger, nullable=False))


class OrderEvent(SQLModel, table=True):
    """The audit trail: one row per change of an order, written with the change."""

    __tablename__ = "order_events"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "order_id"],
            ["orders.tenant_id", "orders.id"],
            ondelete="CASCADE",
            name="fk_order_events_order",
        ),
        Index("ix_order_events_order", "tenant_id", "order_id", "id"),
        visibility_info(Visibility.ORDER_DATA),
    )

    tenant_id: UUID = Field(primary_key=True)
    id: UUID = Field(default_factory=new_id, primary_key=True)
    order_id: UUID = Field(nullable=False)
    type: str = Field(sa_column=Column(String(40), nullable=False))
    actor: str = Field(sa_column=Column(String(200), nullable=False))
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    message: str | None = Field(default=None, sa_column=Column(Text))
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class IdempotencyKey(SQLModel, table=True):
    """A createOrder key: its input's fingerprint and the order it made, kept 24 hours."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        Index("ix_idempotency_keys_expires_at", "expires_at"),
        visibility_info(Visibility.OWN),
    )

    tenant_id: UUID = Field(sa_column=_tenant_fk())
    key: str = Field(sa_column=Column(String(255), primary_key=True, nullable=False))
    request_hash: str = Field(sa_column=Column(String(64), nullable=False))
    order_id: UUID = Field(nullable=False)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class OrderNumberCounter(SQLModel, table=True):
    """The last order number handed out per merchant; its row lock orders concurrent creates."""

    __tablename__ = "order_number_counters"
    __table_args__ = (visibility_info(Visibility.OWN),)

    tenant_id: UUID = Field(sa_column=_tenant_fk())
    last_value: int = Field(sa_column=Column(BigInteger, nullable=False))
