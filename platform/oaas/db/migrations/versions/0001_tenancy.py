"""Tenants, API clients and order access grants.

Revision ID: 0001_tenancy
Revises:
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from oaas.db.types import UTCDateTime

revision: str = "0001_tenancy"
down_revision: str | None = None
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("handle", sa.String(63), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('merchant', 'partner', 'platform')", name="ck_tenants_kind"),
        sa.CheckConstraint("status IN ('active', 'suspended')", name="ck_tenants_status"),
        sa.PrimaryKeyConstraint("id", name="pk_tenants"),
        sa.UniqueConstraint("handle", name="uq_tenants_handle"),
    )
    op.create_table(
        "api_clients",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.String(100), nullable=False),
        sa.Column("secret_hash", sa.String(255), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            ondelete="CASCADE",
            name="fk_api_clients_tenant_id_tenants",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_api_clients"),
        sa.UniqueConstraint("client_id", name="uq_api_clients_client_id"),
    )
    op.create_table(
        "order_access_grants",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("partner_tenant_id", sa.Uuid(), nullable=False),
        sa.Column("profile", sa.String(16), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "profile IN ('full', 'logistics')", name="ck_order_access_grants_profile"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            ondelete="CASCADE",
            name="fk_order_access_grants_tenant_id_tenants",
        ),
        sa.ForeignKeyConstraint(
            ["partner_tenant_id"],
            ["tenants.id"],
            ondelete="CASCADE",
            name="fk_order_access_grants_partner_tenant_id_tenants",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_order_access_grants"),
    )
    op.create_index(
        "ix_order_access_grants_partner",
        "order_access_grants",
        ["partner_tenant_id", "revoked_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_order_access_grants_partner", table_name="order_access_grants")
    op.drop_table("order_access_grants")
    op.drop_table("api_clients")
    op.drop_table("tenants")
