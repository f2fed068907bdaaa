"""Read models: plain frozen records built from rows, free of ORM state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from oaas.orders.models import OrderStatus


@dataclass(frozen=True, slots=True)
class AddressRecord:
    name: str | None
    line1: str
    line2: str | None
    city: str
    region: str | None
    postal_code: str | None
    country: str


@dataclass(frozen=True, slots=True)
class OrderRecord:
    tenant_id: UUID
    id: UUID
    number: str
    external_id: str | None
    status: OrderStatus
    channel: str | None
    currency: str
    total: Decimal
    customer_email: str | None
    shipping_address: AddressRecord
    tracking_number: str | None
    carrier: str | None
    cancel_reason: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def key(self) -> tuple[UUID, UUID]:
        return (self.tenant_id, self.id)


@dataclass(frozen=True, slots=True)
class LineRecord:
    position: int
    sku: str
    quantity: int
    cancelled_quantity: int
    unit_price: Decimal

    @property
    def remaining(self) -> int:
        return self.quantity - self.cancelled_quantity


@dataclass(frozen=True, slots=True)
class EventRecord:
    type: str
    at: datetime
    actor: str
    message: str | None
    detail: dict[str, Any]
