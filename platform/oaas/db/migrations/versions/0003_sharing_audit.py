"""Grant expiry and the audit log of administrative acts.

Revision ID: 0003_sharing_audit
Revises: 0002_orders
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from oaas.db.types import UTCDateTime

revision: str = "0003_sharing_audit"
down_revision: str | None = "0002_orders"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("order_access_grants") as batch:
        batch.add_column(sa.Column("expires_at", UTCDateTime(), nullable=True))
    op.create_table(
        "audit_log",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("act", sa.String(64), nullable=False),
        sa.Column("object_type", sa.String(64), nullable=False),
        sa.Column("object_id", sa.String(200), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], ondelete="CASCADE", name="fk_audit_log_tenant_id_tenants"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_tenant_at", "audit_log", ["tenant_id", "at", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_tenant_at", table_name="audit_log")
    op.drop_table("audit_log")
    with op.batch_alter_table("order_access_grants") as batch:
        batch.drop_column("expires_at")
