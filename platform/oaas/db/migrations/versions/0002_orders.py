"""Orders, order lines, order events, idempotency keys, order number counters.

Revision ID: 0002_orders
Revises: 0001_tenancy
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from oaas.db.types import UTCDateTime

revision: str = "0002_orders"
down_revision: str | None = "0001_tenancy"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"], ["tenants.id"], ondelete="CASCADE", name=f"fk_{table}_tenant_id_tenants"
    )


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(80), nullable=False),
        sa.Column("external_id", sa.String(255)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(64)),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("customer_email", sa.String(320)),
        sa.Column("ship_name", sa.String(200)),
        sa.Column("ship_line1", sa.String(200), nullable=False),
        sa.Column("ship_line2", sa.String(200)),
        sa.Column("ship_city", sa.String(100), nullable=False),
        sa.Column("ship_region", sa.String(100)),
        sa.Column("ship_postal_code", sa.String(20)),
        sa.Column("ship_country", sa.String(2), nullable=False),
        sa.Column("tracking_number", sa.String(100)),
        sa.Column("carrier", sa.String(100)),
        sa.Column("cancel_reason", sa.String(500)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        _tenant_fk("orders"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_orders"),
        sa.UniqueConstraint("tenant_id", "number", name="uq_orders_tenant_id_number"),
    )
    op.create_index("ix_orders_tenant_created", "orders", ["tenant_id", "created_at", "id"])
    op.create_index("ix_orders_tenant_external_id", "orders", ["tenant_id", "external_id"])
    op.create_index("ix_orders_created", "orders", ["created_at", "id"])
    op.create_index("ix_orders_id", "orders", ["id"])
    op.create_table(
        "order_lines",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("cancelled_quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "order_id"],
            ["orders.tenant_id", "orders.id"],
            ondelete="CASCADE",
            name="fk_order_lines_order",
        ),
        sa.CheckConstraint("quantity > 0", name="ck_order_lines_quantity_positive"),
        sa.CheckConstraint(
            "cancelled_quantity >= 0 AND cancelled_quantity <= quantity",
            name="ck_order_lines_cancelled_within",
        ),
        sa.CheckConstraint("unit_price_minor >= 0", name="ck_order_lines_price_not_negative"),
        sa.PrimaryKeyConstraint("tenant_id", "order_id", "position", name="pk_order_lines"),
    )
    op.create_table(
        "order_events",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("message", sa.Text()),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "order_id"],
            ["orders.tenant_id", "orders.id"],
            ondelete="CASCADE",
            name="fk_order_events_order",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_order_events"),
    )
    op.create_index("ix_order_events_order", "order_events", ["tenant_id", "order_id", "id"])
    op.create_table(
        "idempotency_keys",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        _tenant_fk("idempotency_keys"),
        sa.PrimaryKeyConstraint("tenant_id", "key", name="pk_idempotency_keys"),
    )
    op.create_index("ix_idempotency_keys_expires_at", "idempotency_keys", ["expires_at"])
    op.create_table(
        "order_number_counters",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("last_value", sa.BigInteger(), nullable=False),
        _tenant_fk("order_number_counters"),
        sa.PrimaryKeyConstraint("tenant_id", name="pk_order_number_counters"),
    )


def downgrade() -> None:
    op.drop_table("order_number_counters")
    op.drop_index("ix_idempotency_keys_expires_at", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    op.drop_index("ix_order_events_order", table_name="order_events")
    op.drop_table("order_events")
    op.drop_table("order_lines")
    for name in (
        "ix_orders_id",
        "ix_orders_created",
        "ix_orders_tenant_external_id",
        "ix_orders_tenant_created",
    ):
        op.drop_index(name, table_name="orders")
    op.drop_table("orders")
