"""Per-client credential version: a new secret ends the tokens issued before it.

Access tokens are self-contained JWTs that live up to `OAAS_TOKEN_TTL_SECONDS`.
Deleting a client ends its tokens because the bearer check no longer finds it;
a new secret must end them too, or a token fetched with a leaked secret would
outlive its rotation by up to an hour. So every token carries the client's
`credential_version` (a private claim), every new secret raises the column by
one (in SQL, so concurrent rotations each count), and the bearer check, which
reads the client row on every request anyway, refuses a token whose version is
not the current one.

Existing clients start at 0, and a token that carries no version counts as 0:
it keeps working until it expires or the client's secret is next replaced,
rather than every client being logged out by the upgrade.

Revision ID: 0011_client_credential_version
Revises: 0010_rls_strict_grants
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_client_credential_version"
down_revision: str | None = "0010_rls_strict_grants"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_clients") as batch:
        batch.add_column(
            sa.Column("credential_version", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("api_clients") as batch:
        batch.drop_column("credential_version")
