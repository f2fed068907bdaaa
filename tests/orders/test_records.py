"""A record and its row: every column the database does not compute, and back unchanged."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import uuid4

import pytest
from sqlalchemy import Table

from oaas.errors import OaasError
from oaas.orders.models import OrderStatus
from oaas.orders.records import AddressRecord, LineRecord, OrderRecord
from oaas.orders.repository import lines, orders

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def order(currency: str = "KWD", total: str = "12.345") -> OrderRecord:
    return OrderRecord(
        tenant_id=uuid4(),
        id=uuid4(),
        number="ACME-1001",
        external_id="web-1",
        status=OrderStatus.ROUTED,
        channel="web",
        currency=currency,
        total=Decimal(total),
        customer_email="jane@example.com",
        shipping_address=AddressRecord(
            name="Jane Doe",
            line1="Hauptstrasse 1",
            line2=None,
            city="Berlin",
            region="BE",
            postal_code="10115",
            country="DE",
        ),
        tracking_number=None,
        carrier="DHL",
        cancel_reason=None,
        created_at=AT,
        updated_at=AT,
    )


def written_columns(table: Table) -> set[str]:
    return {c.name for c in table.columns if c.computed is None}


def test_an_order_row_holds_every_written_column_and_reads_back() -> None:
    record = order()
    row = record.to_row()
    assert set(row) == written_columns(orders.table)
    assert (row["total_minor"], row["status"], row["ship_postal_code"]) == (
        12345,
        "ROUTED",
        "10115",
    )
    assert OrderRecord.from_row(row) == record


def test_a_line_row_holds_every_column_and_reads_back() -> None:
    of = order(currency="JPY", total="3000")
    line = LineRecord(
        position=0, sku="A", quantity=2, cancelled_quantity=1, unit_price=Decimal(1500)
    )
    row = line.to_row(of)
    assert set(row) == written_columns(lines.table)
    assert (row["tenant_id"], row["order_id"], row["unit_price_minor"]) == (
        of.tenant_id,
        of.id,
        1500,
    )
    assert LineRecord.from_row(row, "JPY") == line


def test_a_stored_amount_in_what_is_not_a_currency_is_refused() -> None:
    row = order().to_row()
    with pytest.raises(OaasError, match="'XYZ' is not an ISO 4217 currency"):
        OrderRecord.from_row({**row, "currency": "XYZ"})
