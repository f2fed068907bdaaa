"""Fulfilment nodes, inventory, routing decisions and estimates, risk, the intake queue.

Every new table is tenant-owned and gets row-level security on PostgreSQL with
the same rules as migration 0004 (and oaas.db.scoping in the application).

Revision ID: 0007_routing_risk
Revises: 0006_plans
Create Date: 2026-11-28
"""

import importlib
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from oaas.db.types import UTCDateTime

revision: str = "0007_routing_risk"
down_revision: str | None = "0006_plans"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

_rls = importlib.import_module("oaas.db.migrations.versions.0004_row_level_security")

POLICIES = {
    "fulfilment_nodes": _rls.GRANT_VISIBLE,
    "inventory_levels": _rls.GRANT_VISIBLE,
    "node_daily_loads": _rls.OWN_VISIBLE,
    "routing_profiles": _rls.OWN_VISIBLE,
    "routing_decisions": _rls.ORDER_VISIBLE,
    "delivery_estimates": _rls.OWN_VISIBLE,
    "risk_profiles": _rls.OWN_VISIBLE,
    "risk_assessments": _rls.ORDER_VISIBLE,
    "intake_jobs": _rls.OWN_VISIBLE,
}


def _tenant(name: str) -> sa.Column[Any]:
    return sa.Column(
        "tenant_id",
        sa.Uuid(),
        sa.ForeignKey("tenants.id", ondelete="CASCADE", name=f"fk_{name}_tenant_id_tenants"),
        nullable=False,
    )


def _node_fk(name: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", "node_id"],
        ["fulfilment_nodes.tenant_id", "fulfilment_nodes.id"],
        ondelete="CASCADE",
        name=f"fk_{name}_node",
    )


def _order_fk(name: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", "order_id"],
        ["orders.tenant_id", "orders.id"],
        ondelete="CASCADE",
        name=f"fk_{name}_order",
    )


def upgrade() -> None:
    op.create_table(
        "fulfilment_nodes",
        _tenant("fulfilment_nodes"),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "partner_tenant_id",
            sa.Uuid(),
            sa.ForeignKey(
                "tenants.id",
                ondelete="CASCADE",
                name="fk_fulfilment_nodes_partner_tenant_id_tenants",
            ),
            nullable=True,
        ),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("region", sa.String(16), nullable=False),
        sa.Column("regions_served", sa.JSON(), nullable=False),
        sa.Column("regions_excluded", sa.JSON(), nullable=False),
        sa.Column("daily_capacity", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("base_cost_minor", sa.BigInteger(), nullable=False),
        sa.Column("cost_per_km_minor", sa.BigInteger(), nullable=False),
        sa.Column("region_rates_minor", sa.JSON(), nullable=False),
        sa.Column("promise_hours", sa.JSON(), nullable=False),
        sa.Column("default_promise_hours", sa.Float(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_fulfilment_nodes"),
        sa.UniqueConstraint("tenant_id", "code", name="uq_fulfilment_nodes_tenant_id_code"),
        sa.CheckConstraint("daily_capacity >= 0", name="ck_fulfilment_nodes_capacity_not_negative"),
        sa.CheckConstraint(
            "base_cost_minor >= 0 AND cost_per_km_minor >= 0", name="ck_fulfilment_nodes_costs"
        ),
        sa.CheckConstraint(
            "default_promise_hours > 0", name="ck_fulfilment_nodes_promise_positive"
        ),
    )
    op.create_index("ix_fulfilment_nodes_partner", "fulfilment_nodes", ["partner_tenant_id"])
    op.create_table(
        "inventory_levels",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("node_id", sa.Uuid(), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("partner_tenant_id", sa.Uuid(), nullable=True),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "node_id", "sku", name="pk_inventory_levels"),
        _node_fk("inventory_levels"),
        sa.CheckConstraint("on_hand >= 0", name="ck_inventory_levels_on_hand_not_negative"),
        sa.CheckConstraint(
            "reserved >= 0 AND reserved <= on_hand", name="ck_inventory_levels_reserved_within"
        ),
    )
    op.create_index("ix_inventory_levels_tenant_sku", "inventory_levels", ["tenant_id", "sku"])
    op.create_table(
        "node_daily_loads",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("node_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("assigned", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "node_id", "day", name="pk_node_daily_loads"),
        _node_fk("node_daily_loads"),
    )
    op.create_table(
        "routing_profiles",
        _tenant("routing_profiles"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("weights", sa.JSON(), nullable=False),
        sa.Column("allow_split", sa.Boolean(), nullable=False),
        sa.Column("max_split", sa.Integer(), nullable=False),
        sa.Column("region_centroids", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name="pk_routing_profiles"),
    )
    op.create_table(
        "routing_decisions",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(24), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=False),
        sa.Column("routed", sa.Boolean(), nullable=False),
        sa.Column("reason_code", sa.String(40), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("destination_region", sa.String(16), nullable=False),
        sa.Column("profile_version", sa.Integer(), nullable=False),
        sa.Column("candidates", sa.JSON(), nullable=False),
        sa.Column("assignments", sa.JSON(), nullable=False),
        sa.Column("settled_at", UTCDateTime(), nullable=True),
        sa.Column("settlement", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_routing_decisions"),
        _order_fk("routing_decisions"),
        sa.UniqueConstraint(
            "tenant_id", "order_id", "sequence", name="uq_routing_decisions_order_sequence"
        ),
    )
    op.create_index(
        "ix_routing_decisions_tenant_decided", "routing_decisions", ["tenant_id", "decided_at"]
    )
    op.create_table(
        "delivery_estimates",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("node_id", sa.Uuid(), nullable=False),
        sa.Column("region", sa.String(16), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "node_id", "region", name="pk_delivery_estimates"),
        _node_fk("delivery_estimates"),
    )
    op.create_table(
        "risk_profiles",
        _tenant("risk_profiles"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("hold_threshold", sa.Integer(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name="pk_risk_profiles"),
    )
    op.create_table(
        "risk_assessments",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("hold_threshold", sa.Integer(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("assessed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "order_id", name="pk_risk_assessments"),
        _order_fk("risk_assessments"),
    )
    op.create_table(
        "intake_jobs",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("claimed_until", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "order_id", name="pk_intake_jobs"),
        _order_fk("intake_jobs"),
    )
    op.create_index("ix_intake_jobs_next_attempt", "intake_jobs", ["next_attempt_at"])
    # Velocity checks count a merchant's recent orders per email and per address.
    op.create_index(
        "ix_orders_tenant_email_created", "orders", ["tenant_id", "customer_email", "created_at"]
    )

    if op.get_bind().dialect.name == "postgresql":
        for table, condition in POLICIES.items():
            op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {_rls.APP_ROLE}")
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            op.execute(
                f"CREATE POLICY tenant_rows ON {table} FOR ALL "
                f"USING {condition} WITH CHECK {condition}"
            )


def downgrade() -> None:
    op.drop_index("ix_orders_tenant_email_created", table_name="orders")
    for table in reversed(list(POLICIES)):
        op.drop_table(table)
