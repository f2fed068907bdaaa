"""The outbox table: one row per event, in every tenant's one log."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlmodel import Field

from oaas.db.base import SQLModel
from oaas.db.scoping import Visibility, visibility_info
from oaas.db.types import UTCDateTime

# SQLite numbers only an INTEGER PRIMARY KEY by itself.
_COUNTER = BigInteger().with_variant(Integer(), "sqlite")


class OutboxEvent(SQLModel, table=True):
    """An event of an order (its `id` is the `order_events` row's) or of a grant.

    Keyed by `seq`, the insertion counter: the outbox is one log across tenants,
    read in `position` order. `position` is NULL until the sequencer numbers the
    row after its transaction committed. Order data: a partner reads the rows of
    merchants with an active grant to it (oaas.events narrows that further).
    """

    __tablename__ = "event_outbox"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "order_id"],
            ["orders.tenant_id", "orders.id"],
            ondelete="CASCADE",
            name="fk_event_outbox_order",
        ),
        UniqueConstraint("id", name="uq_event_outbox_id"),
        UniqueConstraint("position", name="uq_event_outbox_position"),
        UniqueConstraint("tenant_id", "order_id", "order_seq", name="uq_event_outbox_order_seq"),
        Index("ix_event_outbox_tenant_position", "tenant_id", "position"),
        visibility_info(Visibility.ORDER_DATA),
    )

    seq: int | None = Field(
        default=None,
        sa_column=Column(_COUNTER, Identity(), primary_key=True, autoincrement=True),
    )
    id: UUID = Field(sa_column=Column(Uuid, nullable=False))
    position: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    tenant_id: UUID = Field(
        sa_column=Column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False)
    )
    order_id: UUID | None = Field(default=None, sa_column=Column(Uuid, nullable=True))
    # The order's own count of its events, 1, 2, 3, ...; NULL for grant events.
    order_seq: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    # The partner a grant event names (it reads the event too); NULL for order events.
    partner_tenant_id: UUID | None = Field(default=None, sa_column=Column(Uuid, nullable=True))
    type: str = Field(sa_column=Column(String(40), nullable=False))
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    actor: str = Field(sa_column=Column(String(200), nullable=False))
    # The order (or grant) as the API shows it once the change committed; an order
    # event's is written at the end of its transaction (oaas.events.payloads).
    payload: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True), nullable=True)
    )
