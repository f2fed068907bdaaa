"""Row-level security on PostgreSQL: the second wall between tenants.

Every tenant-owned table gets RLS enabled and forced, with a policy that reads
the transaction's scope from `oaas.scope` and `oaas.tenant_id` (set with
`set_config(..., true)` by oaas.db.Database.session). Unset means no rows. The
application switches to the role `oaas_app`, which owns no table and does not
bypass RLS; migrations run as the owner. SQLite has no RLS: this is a no-op
there, and the application's own scoping (oaas.sharing.visibility) is the
only wall.

Revision ID: 0004_row_level_security
Revises: 0003_sharing_audit
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004_row_level_security"
down_revision: str | None = "0003_sharing_audit"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

APP_ROLE = "oaas_app"
TENANT_OWNED = (
    "api_clients",
    "orders",
    "order_lines",
    "order_events",
    "idempotency_keys",
    "order_number_counters",
    "audit_log",
)

_SCOPE = "current_setting('oaas.scope', true)"
_ME = "nullif(current_setting('oaas.tenant_id', true), '')::uuid"
# Rows of merchants that granted the calling partner access (not revoked, not expired).
_GRANTED = (
    "SELECT g.tenant_id FROM order_access_grants g "
    f"WHERE g.partner_tenant_id = {_ME} AND g.revoked_at IS NULL "
    "AND (g.expires_at IS NULL OR g.expires_at > now())"
)
# Order data: a partner also sees the rows of merchants that shared with it.
ORDER_VISIBLE = (
    f"({_SCOPE} = 'all' OR tenant_id = {_ME} "
    f"OR ({_SCOPE} = 'partner' AND tenant_id IN ({_GRANTED})))"
)
ORDER_TABLES = frozenset({"orders", "order_lines", "order_events"})
# Everything else a tenant owns (clients, keys, counters, audit): its own rows only.
OWN_VISIBLE = f"({_SCOPE} = 'all' OR tenant_id = {_ME})"
# A grant is seen by the merchant that gave it and the partner that holds it.
GRANT_VISIBLE = f"({_SCOPE} = 'all' OR tenant_id = {_ME} OR partner_tenant_id = {_ME})"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # The role may exist already (made by an operator, or by another database of
    # this cluster); then no CREATEROLE privilege is needed.
    op.execute(
        f"""
        DO $$ BEGIN
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
            CREATE ROLE {APP_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS;
          END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END $$;
        """
    )
    # The migrating (owner) role may switch to the app role; a separate login
    # role for the application is made a member of it by the operator.
    op.execute(
        f"""
        DO $$ BEGIN
          IF NOT pg_has_role(current_user, '{APP_ROLE}', 'MEMBER') THEN
            GRANT {APP_ROLE} TO CURRENT_USER;
          END IF;
        END $$;
        """
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}")
    op.execute(
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP_ROLE}"
    )
    for table in (*TENANT_OWNED, "order_access_grants"):
        if table == "order_access_grants":
            condition = GRANT_VISIBLE
        elif table in ORDER_TABLES:
            condition = ORDER_VISIBLE
        else:
            condition = OWN_VISIBLE
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_rows ON {table} FOR ALL USING {condition} WITH CHECK {condition}"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in (*TENANT_OWNED, "order_access_grants"):
        op.execute(f"DROP POLICY IF EXISTS tenant_rows ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute(
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {APP_ROLE}"
    )
    op.execute(
        f"REVOKE SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public FROM {APP_ROLE}"
    )
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {APP_ROLE}")
