"""Plans (cost quotas) and each tenant's plan.

Revision ID: 0006_plans
Revises: 0005_sla
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from oaas.db.types import UTCDateTime

revision: str = "0006_plans"
down_revision: str | None = "0005_sla"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("bucket_size", sa.Integer(), nullable=False),
        sa.Column("restore_rate", sa.Float(), nullable=False),
        sa.Column("max_query_cost", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_plans"),
    )
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(
            sa.Column("plan", sa.String(63), nullable=False, server_default="standard")
        )


def downgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("plan")
    op.drop_table("plans")
