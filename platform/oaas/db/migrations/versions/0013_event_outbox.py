"""The event outbox: every order event and grant change, numbered in commit order.

One log across tenants, keyed by the insertion counter `seq`; `position` is
set by the sequencer once the writing transaction committed (oaas.outbox).
Order data under row-level security: a partner reads the rows of merchants
with an active grant to it, as for `order_events`.

Revision ID: 0013_event_outbox
Revises: 0012_node_codes_nocase
Create Date: 2026-12-10
"""

import importlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from oaas.db.types import UTCDateTime

revision: str = "0013_event_outbox"
down_revision: str | None = "0012_node_codes_nocase"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

_rls = importlib.import_module("oaas.db.migrations.versions.0004_row_level_security")
_strict = importlib.import_module("oaas.db.migrations.versions.0010_rls_strict_grants")

POLICIES = {"event_outbox": _strict.ORDER_VISIBLE}


def upgrade() -> None:
    op.create_table(
        "event_outbox",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=True),
        sa.Column(
            "tenant_id",
            sa.Uuid(),
            sa.ForeignKey(
                "tenants.id", ondelete="CASCADE", name="fk_event_outbox_tenant_id_tenants"
            ),
            nullable=False,
        ),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("order_seq", sa.Integer(), nullable=True),
        sa.Column("partner_tenant_id", sa.Uuid(), nullable=True),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("payload", sa.JSON(none_as_null=True), nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_event_outbox"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "order_id"],
            ["orders.tenant_id", "orders.id"],
            ondelete="CASCADE",
            name="fk_event_outbox_order",
        ),
        sa.UniqueConstraint("id", name="uq_event_outbox_id"),
        sa.UniqueConstraint("position", name="uq_event_outbox_position"),
        sa.UniqueConstraint("tenant_id", "order_id", "order_seq", name="uq_event_outbox_order_seq"),
    )
    op.create_index("ix_event_outbox_tenant_position", "event_outbox", ["tenant_id", "position"])
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, condition in POLICIES.items():
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {_rls.APP_ROLE}")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_rows ON {table} FOR ALL USING {condition} WITH CHECK {condition}"
        )


def downgrade() -> None:
    op.drop_index("ix_event_outbox_tenant_position", table_name="event_outbox")
    op.drop_table("event_outbox")
