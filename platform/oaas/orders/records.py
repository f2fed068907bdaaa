"""Read models: plain frozen records built from rows, free of ORM state.

Each record converts itself from and to its table's row (`from_row`, `to_row`). A
field kept in a column of its own name is not spelt out; the ones stored otherwise
are (amounts in minor units, the address in the order's `ship_` columns).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from oaas.orders.models import OrderStatus
from oaas.orders.money import from_minor, minor_unit_exponent, to_minor

# A row by column name: a SQLAlchemy RowMapping, or the values of an insert.
RowValues = Mapping[Any, Any]


def _stored_as_is(record: type[Any], *converted: str) -> tuple[str, ...]:
    """The record's fields held in a column of the same name, unconverted."""
    return tuple(f.name for f in fields(record) if f.name not in converted)


@dataclass(frozen=True, slots=True, kw_only=True)
class AddressRecord:
    """A shipping address; its fields are stored in the order's row, each as `ship_<field>`."""

    name: str | None
    line1: str
    line2: str | None
    city: str
    region: str | None
    postal_code: str | None
    country: str

    @classmethod
    def from_row(cls, row: RowValues) -> AddressRecord:
        return cls(**{field: row[column] for field, column in _ADDRESS_COLUMNS})

    def to_row(self) -> dict[str, Any]:
        return {column: getattr(self, field) for field, column in _ADDRESS_COLUMNS}


_ADDRESS_COLUMNS = tuple((f.name, f"ship_{f.name}") for f in fields(AddressRecord))


@dataclass(frozen=True, slots=True)
class OrderRecord:
    tenant_id: UUID
    id: UUID
    number: str
    external_id: str | None
    status: OrderStatus
    channel: str | None
    currency: str
    total: Decimal  # stored as `total_minor`
    customer_email: str | None
    shipping_address: AddressRecord  # stored as the `ship_` columns
    tracking_number: str | None
    carrier: str | None
    cancel_reason: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def key(self) -> tuple[UUID, UUID]:
        return (self.tenant_id, self.id)

    @classmethod
    def from_row(cls, row: RowValues) -> OrderRecord:
        """The record of an `orders` row."""
        return cls(
            **{name: row[name] for name in _ORDER_COLUMNS_AS_IS},
            status=OrderStatus(row["status"]),
            total=from_minor(row["total_minor"], minor_unit_exponent(row["currency"])),
            shipping_address=AddressRecord.from_row(row),
        )

    def to_row(self) -> dict[str, Any]:
        """The `orders` row of the record, every column the database does not compute."""
        return {
            **{name: getattr(self, name) for name in _ORDER_COLUMNS_AS_IS},
            "status": self.status.value,
            "total_minor": to_minor(self.total, minor_unit_exponent(self.currency)),
            **self.shipping_address.to_row(),
        }


_ORDER_COLUMNS_AS_IS = _stored_as_is(OrderRecord, "status", "total", "shipping_address")


@dataclass(frozen=True, slots=True)
class LineRecord:
    position: int
    sku: str
    quantity: int
    cancelled_quantity: int
    unit_price: Decimal  # stored as `unit_price_minor`, in the order's currency

    @property
    def remaining(self) -> int:
        return self.quantity - self.cancelled_quantity

    @classmethod
    def from_row(cls, row: RowValues, currency: str) -> LineRecord:
        """The record of an `order_lines` row of an order in `currency`."""
        return cls(
            **{name: row[name] for name in _LINE_COLUMNS_AS_IS},
            unit_price=from_minor(row["unit_price_minor"], minor_unit_exponent(currency)),
        )

    def to_row(self, order: OrderRecord) -> dict[str, Any]:
        """The `order_lines` row of the record, a line of `order`."""
        return {
            "tenant_id": order.tenant_id,
            "order_id": order.id,
            **{name: getattr(self, name) for name in _LINE_COLUMNS_AS_IS},
            "unit_price_minor": to_minor(self.unit_price, minor_unit_exponent(order.currency)),
        }


_LINE_COLUMNS_AS_IS = _stored_as_is(LineRecord, "unit_price")


@dataclass(frozen=True, slots=True)
class EventRecord:
    type: str
    at: datetime
    actor: str
    message: str | None
    detail: dict[str, Any]

    @classmethod
    def from_row(cls, row: RowValues) -> EventRecord:
        """The record of an `order_events` row."""
        return cls(**{name: row[name] for name in _EVENT_COLUMNS_AS_IS})


_EVENT_COLUMNS_AS_IS = _stored_as_is(EventRecord)
