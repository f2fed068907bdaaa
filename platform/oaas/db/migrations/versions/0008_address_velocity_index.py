"""Risk velocity by shipping address through an index, not a scan of the day's orders.

The velocity check counts a merchant's recent orders from the same email or to
the same address. Email had an index; the address only had the merchant's
orders by time, so every new order read all of the merchant's orders of the
longest window (24 h): a busy merchant paid per order for its whole day.

Revision ID: 0008_address_velocity_index
Revises: 0007_routing_risk
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_address_velocity_index"
down_revision: str | None = "0007_routing_risk"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_orders_tenant_address_created",
        "orders",
        ["tenant_id", sa.text("lower(ship_line1)"), "ship_country", "created_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_orders_tenant_address_created", table_name="orders")
