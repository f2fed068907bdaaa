"""Row-level security that one statement cannot undo.

The policies honoured the scope `all` (every tenant's rows) for any role that
set it, and `set_config` is open to every role: one statement on the
application's connection saw every tenant. Now `all` is honoured only for the
role `oaas_system`, made here, which the platform's own work across tenants
runs as (workers, token lookups, manifests, platform admins) over a login of
its own; the application's tenant login (`oaas_app`) is no member of it and
cannot become it (oaas.db.roles).

Grants get a write rule stricter than their read rule: a partner reads the
grants naming it but never writes one; only the granting merchant's scope (or
the system) inserts, changes or deletes a grant.

The application roles may read `alembic_version` (readiness checks) but no
longer write it.

Under row-level security PostgreSQL uses an index only for conditions whose
functions are leakproof, and lower() is not: the address index of 0008, on
lower(ship_line1), served nothing once the application's connections were held
by the policies, and the velocity check read the merchant's whole day again.
The index is now on a column the database computes, `ship_line1_key`, compared
with a plain `=` (on both databases, so one query serves both).

Each setting is still read once per statement (0009): the system test is one
InitPlan. Tables made later take their policy conditions from this module.

Revision ID: 0010_rls_strict_grants
Revises: 0009_rls_settings_read_once
Create Date: 2026-12-04
"""

import importlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_rls_strict_grants"
down_revision: str | None = "0009_rls_settings_read_once"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

_rls = importlib.import_module("oaas.db.migrations.versions.0004_row_level_security")
_read_once = importlib.import_module("oaas.db.migrations.versions.0009_rls_settings_read_once")

APP_ROLE = _rls.APP_ROLE
SYSTEM_ROLE = "oaas_system"

_SCOPE = "(SELECT current_setting('oaas.scope', true))"
_ME = "(SELECT nullif(current_setting('oaas.tenant_id', true), '')::uuid)"
# Every row, for the system role only: a setting alone widens nothing.
_SYSTEM = f"(SELECT current_setting('oaas.scope', true) = 'all' AND current_user = '{SYSTEM_ROLE}')"
_GRANTED = (
    "SELECT g.tenant_id FROM order_access_grants g "
    f"WHERE g.partner_tenant_id = {_ME} AND g.revoked_at IS NULL "
    "AND (g.expires_at IS NULL OR g.expires_at > now())"
)
ORDER_VISIBLE = (
    f"({_SYSTEM} OR tenant_id = {_ME} OR ({_SCOPE} = 'partner' AND tenant_id IN ({_GRANTED})))"
)
OWN_VISIBLE = f"({_SYSTEM} OR tenant_id = {_ME})"
# Rows a merchant keeps with a partner (its nodes, their stock): both read and write them.
MERCHANT_AND_PARTNER = f"({_SYSTEM} OR tenant_id = {_ME} OR partner_tenant_id = {_ME})"
# Grants: the granting merchant writes them (`tenant_rows`, FOR ALL); the partner
# they name may read them too (`partner_reads`, FOR SELECT; permissive policies
# add up per command, so INSERT, UPDATE and DELETE see only the first).
GRANT_WRITE = OWN_VISIBLE
GRANT_PARTNER_READ = f"(partner_tenant_id = {_ME})"

_NEW_RULE = {
    _read_once.ORDER_VISIBLE: ORDER_VISIBLE,
    _read_once.OWN_VISIBLE: OWN_VISIBLE,
    _read_once.GRANT_VISIBLE: MERCHANT_AND_PARTNER,
}


def _policies() -> dict[str, str]:
    """Every table's `tenant_rows` condition as 0009 left it."""
    return {table: _read_once._NEW_RULE[old] for table, old in _read_once._policies().items()}


def _alter(conditions: dict[str, str]) -> None:
    for table, condition in conditions.items():
        op.execute(f"ALTER POLICY tenant_rows ON {table} USING {condition} WITH CHECK {condition}")


ADDRESS_INDEX = "ix_orders_tenant_address_created"


def _address_key_upgrade() -> None:
    op.drop_index(ADDRESS_INDEX, table_name="orders")
    # Stored on PostgreSQL (which computes no other kind before 18); SQLite adds only
    # virtual columns to a table that exists, and indexes them all the same.
    stored = op.get_bind().dialect.name == "postgresql"
    key = sa.Computed("lower(ship_line1)", persisted=stored)
    op.add_column("orders", sa.Column("ship_line1_key", sa.String(200), key))
    op.create_index(
        ADDRESS_INDEX, "orders", ["tenant_id", "ship_line1_key", "ship_country", "created_at"]
    )


def _address_key_downgrade() -> None:
    op.drop_index(ADDRESS_INDEX, table_name="orders")
    op.drop_column("orders", "ship_line1_key")
    op.create_index(
        ADDRESS_INDEX,
        "orders",
        ["tenant_id", sa.text("lower(ship_line1)"), "ship_country", "created_at"],
    )


def upgrade() -> None:
    _address_key_upgrade()
    if op.get_bind().dialect.name != "postgresql":
        return
    # As 0004 made the app role: it may exist already (another database of the cluster).
    op.execute(
        f"""
        DO $$ BEGIN
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{SYSTEM_ROLE}') THEN
            CREATE ROLE {SYSTEM_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS;
          END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END $$;
        """
    )
    # The owner may switch to it, for a database the application reaches through the
    # owner's own login (development); the application's tenant login never may.
    op.execute(
        f"""
        DO $$ BEGIN
          IF NOT pg_has_role(current_user, '{SYSTEM_ROLE}', 'MEMBER') THEN
            GRANT {SYSTEM_ROLE} TO CURRENT_USER;
          END IF;
        END $$;
        """
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {SYSTEM_ROLE}")
    op.execute(
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {SYSTEM_ROLE}"
    )
    op.execute(
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {SYSTEM_ROLE}"
    )
    op.execute(f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {APP_ROLE}, {SYSTEM_ROLE}")
    rules = {table: _NEW_RULE[old] for table, old in _policies().items()}
    rules["order_access_grants"] = GRANT_WRITE
    _alter(rules)
    op.execute(
        f"CREATE POLICY partner_reads ON order_access_grants FOR SELECT USING {GRANT_PARTNER_READ}"
    )


def downgrade() -> None:
    _address_key_downgrade()
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP POLICY IF EXISTS partner_reads ON order_access_grants")
    _alter(_policies())
    op.execute(f"GRANT INSERT, UPDATE, DELETE ON alembic_version TO {APP_ROLE}")
    # The role stays (other databases of the cluster may use it); this one no longer does.
    op.execute(
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {SYSTEM_ROLE}"
    )
    op.execute(
        f"REVOKE SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public FROM {SYSTEM_ROLE}"
    )
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {SYSTEM_ROLE}")
