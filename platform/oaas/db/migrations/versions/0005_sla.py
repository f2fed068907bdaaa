"""SLI aggregates and SLA definitions.

Revision ID: 0005_sla
Revises: 0004_row_level_security
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from oaas.db.types import UTCDateTime

revision: str = "0005_sla"
down_revision: str | None = "0004_row_level_security"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

_OWN = (
    "(current_setting('oaas.scope', true) = 'all' "
    "OR tenant_id = nullif(current_setting('oaas.tenant_id', true), '')::uuid)"
)


def upgrade() -> None:
    op.create_table(
        "sli_minutes",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("minute", UTCDateTime(), nullable=False),
        sa.Column("operation", sa.String(200), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("bad", sa.Integer(), nullable=False),
        sa.Column("histogram", sa.JSON(), nullable=False),
        sa.Column("exemplars", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            ondelete="CASCADE",
            name="fk_sli_minutes_tenant_id_tenants",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_sli_minutes"),
    )
    op.create_index(
        "ix_sli_minutes_tenant_minute", "sli_minutes", ["tenant_id", "minute", "operation"]
    )
    op.create_table(
        "tenant_slas",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            ondelete="CASCADE",
            name="fk_tenant_slas_tenant_id_tenants",
        ),
        sa.PrimaryKeyConstraint("tenant_id", name="pk_tenant_slas"),
    )
    if op.get_bind().dialect.name == "postgresql":
        for table in ("sli_minutes", "tenant_slas"):
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            op.execute(
                f"CREATE POLICY tenant_rows ON {table} FOR ALL USING {_OWN} WITH CHECK {_OWN}"
            )


def downgrade() -> None:
    op.drop_table("tenant_slas")
    op.drop_index("ix_sli_minutes_tenant_minute", table_name="sli_minutes")
    op.drop_table("sli_minutes")
