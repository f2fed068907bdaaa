"""The RLS proof: PostgreSQL itself keeps tenants apart, even for a query with no filter.

Through the application's own login (`oaas_app`, as the gateway connects), with
tenant A's scope set, a raw `SELECT * FROM <table>` on every tenant-owned table
returns only what A may see; with nothing set it returns nothing; the scope
never outlives its transaction. One statement cannot widen it: the scope `all`
shows nothing to `oaas_app`, and the login is no more than `oaas_app`, so
`RESET ROLE` gains nothing. SQLite has no row-level security: there the
application's own scoping (oaas.sharing.visibility) is the only wall, and these
tests do not apply.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from oaas.app import create_app
from oaas.db import SYSTEM_SCOPE, Database, RowScope
from oaas.settings import Settings
from tests.conftest import ISSUER, POSTGRES_URL, Api, Backend, database_settings
from tests.orders.documents import CREATE_ORDER, order_input
from tests.routing.documents import put_node, set_stock

RLS = importlib.import_module("oaas.db.migrations.versions.0004_row_level_security")
ROUTING = importlib.import_module("oaas.db.migrations.versions.0007_routing_risk")
OUTBOX = importlib.import_module("oaas.db.migrations.versions.0013_event_outbox")
TABLES: tuple[str, ...] = (
    *RLS.TENANT_OWNED,
    "order_access_grants",
    "sli_minutes",
    "tenant_slas",
    *ROUTING.POLICIES,
    *OUTBOX.POLICIES,
)


@pytest.fixture
async def pg_url(_backends: dict[str, Backend], tmp_path: Path) -> AsyncIterator[str]:
    if not POSTGRES_URL:
        pytest.skip("row-level security exists on PostgreSQL only: set OAAS_TEST_POSTGRES_URL")
    backend = _backends["postgres"]
    url, name = await backend.fresh("demo", tmp_path)
    try:
        yield url
    finally:
        await backend.drop(name)


@pytest.fixture
async def populated(pg_url: str, tmp_path: Path) -> dict[str, UUID]:
    """Orders of acme and globex made through the API; answers the tenants' ids."""
    settings = Settings(
        issuer=ISSUER,
        signing_key_file=tmp_path / "keys.json",
        _env_file=None,  # type: ignore[call-arg]
    ).model_copy(update=database_settings(pg_url))
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ISSUER) as http:
        api = Api(http)
        # Nodes and stock of both merchants, and a node swiftship operates for acme,
        # so routing decisions, reservations and risk assessments exist too.
        for merchant, admin in (("acme", "acme-backend"), ("globex", "globex-backend")):
            await put_node(api, f"{merchant.upper()}-1", as_client=admin)
            await set_stock(api, [(f"{merchant.upper()}-1", "KETTLE-1", 10)], as_client=admin)
        await put_node(api, "SWIFT-1", as_client="swiftship-admin", merchant="acme")
        for client in ("acme-shop", "globex-shop", "acme-shop"):
            data = await api.data(CREATE_ORDER, {"input": order_input()}, as_client=client)
            assert data["createOrder"]["userErrors"] == []  # type: ignore[index]
    await app.state.components.database.dispose()
    conn = await _connect(pg_url)
    try:
        rows = await conn.fetch("SELECT handle, id FROM tenants")
    finally:
        await conn.close()
    return {row["handle"]: row["id"] for row in rows}


async def _connect(url: str) -> asyncpg.Connection:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    return await asyncpg.connect(dsn)


async def _app_connection(url: str) -> asyncpg.Connection:
    """A connection as the gateway's tenant login (`oaas_app`) makes it."""
    return await _connect(database_settings(url)["database_url"])


async def _system_connection(url: str) -> asyncpg.Connection:
    """A connection as the gateway's login for its own work across tenants."""
    return await _connect(database_settings(url)["system_database_url"])


async def _tenants_seen(conn: asyncpg.Connection, table: str) -> set[UUID]:
    rows = await conn.fetch(f"SELECT * FROM {table}")  # noqa: S608 - constant table names
    return {row["tenant_id"] for row in rows}


async def test_the_app_role_is_held_by_row_level_security(pg_url: str) -> None:
    conn = await _connect(pg_url)
    try:
        for name in ("oaas_app", "oaas_system"):
            role = await conn.fetchrow(
                "SELECT rolsuper, rolbypassrls, rolcreaterole FROM pg_roles WHERE rolname = $1",
                name,
            )
            assert role is not None, name
            assert (role["rolsuper"], role["rolbypassrls"], role["rolcreaterole"]) == (
                False,
                False,
                False,
            )
        tenant_owned = {
            row["table_name"]
            for row in await conn.fetch(
                "SELECT table_name FROM information_schema.columns "
                "WHERE table_schema = 'public' AND column_name = 'tenant_id'"
            )
        }
        assert tenant_owned == set(TABLES), "a tenant-owned table is missing from this proof"
        for table in TABLES:
            flags = await conn.fetchrow(
                "SELECT c.relrowsecurity, c.relforcerowsecurity, pg_get_userbyid(c.relowner) AS owner "
                "FROM pg_class c WHERE c.relname = $1",
                table,
            )
            assert flags is not None
            assert (flags["relrowsecurity"], flags["relforcerowsecurity"]) == (True, True), table
            assert flags["owner"] not in ("oaas_app", "oaas_system")
    finally:
        await conn.close()


async def test_every_policy_reads_the_scope_once_per_statement(pg_url: str) -> None:
    """A bare `current_setting(...)` in a policy is computed for every row read; in a
    scalar subquery it is an InitPlan, computed once (migration 0009)."""
    conn = await _connect(pg_url)
    try:
        policies = await conn.fetch(
            "SELECT c.relname AS table, p.polname, pg_get_expr(p.polqual, p.polrelid) AS qual, "
            "pg_get_expr(p.polwithcheck, p.polrelid) AS with_check "
            "FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid"
        )
        assert {row["table"] for row in policies} == set(TABLES)
        for row in policies:
            for condition in (row["qual"], row["with_check"]):
                if condition is None:  # a FOR SELECT policy checks no new rows
                    continue
                settings_read = len(re.findall(r"current_setting\(", condition))
                read_once = len(
                    re.findall(r"\( SELECT \(*(?:NULLIF\()?current_setting\(", condition)
                )
                assert settings_read == read_once > 0, (row["table"], condition)
    finally:
        await conn.close()


async def test_a_plan_under_rls_reads_no_setting_per_row(pg_url: str) -> None:
    tenant = uuid4()
    conn = await _app_connection(pg_url)
    try:
        async with conn.transaction():
            await _scoped(conn, "tenant", tenant)
            plan = "\n".join(
                row[0]
                for row in await conn.fetch(
                    "EXPLAIN (VERBOSE) SELECT quantity FROM order_lines WHERE tenant_id = $1",
                    tenant,
                )
            )
        filters = [line for line in plan.splitlines() if "Filter:" in line]
        assert "InitPlan" in plan
        assert not any("current_setting" in line for line in filters), plan
    finally:
        await conn.close()


async def test_nothing_set_means_no_rows(pg_url: str, populated: dict[str, UUID]) -> None:
    conn = await _app_connection(pg_url)
    try:
        for table in TABLES:
            assert await _tenants_seen(conn, table) == set(), table
    finally:
        await conn.close()


async def _scoped(conn: asyncpg.Connection, mode: str, tenant: UUID) -> None:
    await conn.execute(
        "SELECT set_config('oaas.scope', $1, true), set_config('oaas.tenant_id', $2, true)",
        mode,
        str(tenant),
    )


async def test_a_merchant_scope_sees_only_its_own_rows(
    pg_url: str, populated: dict[str, UUID]
) -> None:
    acme = populated["acme"]
    conn = await _app_connection(pg_url)
    try:
        async with conn.transaction():
            await _scoped(conn, "tenant", acme)
            seen = {table: await _tenants_seen(conn, table) for table in TABLES}
        assert seen["orders"] == seen["order_lines"] == seen["order_events"] == {acme}
        assert seen["idempotency_keys"] <= {acme}
        assert seen["api_clients"] == {acme}
        assert all(tenants <= {acme} for tenants in seen.values()), seen
        # The scope was transaction-local: the same connection now sees nothing.
        for table in TABLES:
            assert await _tenants_seen(conn, table) == set(), table
    finally:
        await conn.close()


async def test_a_partner_scope_sees_granted_merchants_only(
    pg_url: str, populated: dict[str, UUID]
) -> None:
    acme, swiftship = populated["acme"], populated["swiftship"]
    conn = await _app_connection(pg_url)
    try:
        async with conn.transaction():
            await _scoped(conn, "partner", swiftship)
            assert await _tenants_seen(conn, "orders") == {acme}
            assert await _tenants_seen(conn, "api_clients") == {swiftship}
            assert await _tenants_seen(conn, "order_access_grants") == {acme}
            # Only the node it operates for acme, not acme's own or globex's.
            nodes = await conn.fetch("SELECT code FROM fulfilment_nodes")
            assert [row["code"] for row in nodes] == ["SWIFT-1"]
            assert await _tenants_seen(conn, "routing_profiles") == set()
        # Revoked: gone in the very next transaction.
        owner = await _connect(pg_url)
        await owner.execute("UPDATE order_access_grants SET revoked_at = now()")
        await owner.close()
        async with conn.transaction():
            await _scoped(conn, "partner", swiftship)
            assert await _tenants_seen(conn, "orders") == set()
    finally:
        await conn.close()


async def test_writes_into_another_tenant_are_refused(
    pg_url: str, populated: dict[str, UUID]
) -> None:
    acme, globex = populated["acme"], populated["globex"]
    conn = await _app_connection(pg_url)
    try:
        insert = "INSERT INTO order_number_counters (tenant_id, last_value) VALUES ($1, 1)"
        async with conn.transaction():
            await _scoped(conn, "tenant", acme)
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(insert, globex)
        async with conn.transaction():
            await _scoped(conn, "tenant", acme)
            updated = await conn.execute(
                "UPDATE orders SET channel = 'x' WHERE tenant_id = $1", globex
            )
            assert updated == "UPDATE 0"
    finally:
        await conn.close()


async def test_the_system_login_sees_everything_in_the_platform_scope(
    pg_url: str, populated: dict[str, UUID]
) -> None:
    conn = await _system_connection(pg_url)
    try:
        async with conn.transaction():
            await _scoped(conn, "all", populated["ops"])
            assert await _tenants_seen(conn, "orders") == {populated["acme"], populated["globex"]}
        # Like any other role, nothing without a scope.
        assert await _tenants_seen(conn, "orders") == set()
    finally:
        await conn.close()


async def test_the_platform_scope_shows_the_app_login_nothing_more(
    pg_url: str, populated: dict[str, UUID]
) -> None:
    """One statement of a caller who could run SQL as the gateway's tenant login."""
    acme = populated["acme"]
    conn = await _app_connection(pg_url)
    try:
        async with conn.transaction():
            await _scoped(conn, "all", acme)
            seen = {table: await _tenants_seen(conn, table) for table in TABLES}
            assert seen["orders"] == {acme}
            assert all(tenants <= {acme} for tenants in seen.values()), seen
        async with conn.transaction():
            await conn.execute("SELECT set_config('oaas.scope', 'all', true)")
            assert await _tenants_seen(conn, "orders") == set()
    finally:
        await conn.close()


async def test_reset_role_gains_the_app_login_nothing(
    pg_url: str, populated: dict[str, UUID]
) -> None:
    conn = await _app_connection(pg_url)
    try:
        for escape in ("RESET ROLE", "SET ROLE NONE", "SET SESSION AUTHORIZATION DEFAULT"):
            await conn.execute(escape)
            who = await conn.fetchrow(
                "SELECT current_user AS name, r.rolsuper, r.rolbypassrls "
                "FROM pg_roles r WHERE r.rolname = current_user"
            )
            assert who is not None
            assert (who["name"], who["rolsuper"], who["rolbypassrls"]) == ("oaas_app", False, False)
            async with conn.transaction():
                await _scoped(conn, "all", populated["acme"])
                assert await _tenants_seen(conn, "orders") == {populated["acme"]}, escape
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("SET ROLE oaas_system")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("ALTER TABLE orders DISABLE ROW LEVEL SECURITY")
    finally:
        await conn.close()


async def test_the_gateways_connections_work_as_their_roles_after_a_rollback(
    pg_url: str,
) -> None:
    """Also when a single privileged login is switched to the roles (development): the
    role is the session's own from the start, not a statement a rollback undoes."""
    logins = database_settings(pg_url)
    for database in (
        Database(pg_url, role="oaas_app", system_role="oaas_system"),
        Database(
            logins["database_url"],
            role="oaas_app",
            system_url=logins["system_database_url"],
            system_role="oaas_system",
        ),
    ):
        try:
            for scope, role in (
                (RowScope("tenant", uuid4()), "oaas_app"),
                (SYSTEM_SCOPE, "oaas_system"),
            ):
                for _ in range(2):  # the second one on the pooled connection the first rolled back
                    async with database.session(write=False, scope=scope) as session:
                        name = (await session.execute(text("SELECT current_user"))).scalar_one()
                    assert name == role, database.url
        finally:
            await database.dispose()


async def test_a_partner_reads_its_grants_but_never_writes_one(
    pg_url: str, populated: dict[str, UUID]
) -> None:
    acme, globex, swiftship = populated["acme"], populated["globex"], populated["swiftship"]
    insert = (
        "INSERT INTO order_access_grants (tenant_id, id, partner_tenant_id, profile, actions, "
        "created_at) VALUES ($1, $2, $3, 'full', '[\"read\"]', now())"
    )
    conn = await _app_connection(pg_url)
    try:
        for mode in ("partner", "tenant"):
            async with conn.transaction():
                await _scoped(conn, mode, swiftship)
                assert await _tenants_seen(conn, "order_access_grants") == {acme}
                # No grant to itself, whichever merchant it names.
                for merchant in (acme, globex):
                    with pytest.raises(asyncpg.InsufficientPrivilegeError):
                        async with conn.transaction():  # a savepoint the refusal rolls back
                            await conn.execute(insert, merchant, uuid4(), swiftship)
                changed = await conn.execute(
                    "UPDATE order_access_grants SET revoked_at = NULL, expires_at = NULL"
                )
                deleted = await conn.execute("DELETE FROM order_access_grants")
                assert (changed, deleted) == ("UPDATE 0", "DELETE 0")
        async with conn.transaction():
            await _scoped(conn, "tenant", acme)
            await conn.execute(insert, acme, uuid4(), swiftship)
            own = await conn.fetchval(
                "SELECT count(*) FROM order_access_grants WHERE tenant_id = $1", acme
            )
            changed = await conn.execute("UPDATE order_access_grants SET expires_at = NULL")
            assert changed == f"UPDATE {own}"
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute("UPDATE order_access_grants SET tenant_id = $1", globex)
    finally:
        await conn.close()
