"""The gateway's own PostgreSQL logins: made by `oaas db upgrade`, checked by `oaas serve`.

Row-level security holds against a caller who can run SQL only if the login
behind each connection is no more than its role (oaas.db.roles). PostgreSQL
only: SQLite has no logins.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from oaas.app import create_app
from oaas.db import Database
from oaas.db.migrate import head_revision
from oaas.db.roles import application_logins, login_problems
from oaas.settings import Settings
from tests.conftest import DEMO_MANIFEST, DEMO_SECRET, ISSUER, POSTGRES_URL, Api
from tests.manifests.conftest import Cli, owned_database_url  # noqa: F401
from tests.orders.documents import CREATE_ORDER, ORDERS, order_input

LOGIN_ATTRIBUTES = (
    "SELECT rolcanlogin, rolsuper, rolbypassrls, rolcreaterole, rolinherit, "
    "ARRAY(SELECT b.rolname FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid "
    "WHERE m.member = r.oid) AS member_of FROM pg_roles r WHERE rolname = $1"
)


async def _admin() -> asyncpg.Connection:
    assert POSTGRES_URL is not None
    dsn = make_url(POSTGRES_URL).set(drivername="postgresql")
    return await asyncpg.connect(dsn.render_as_string(hide_password=False))


@pytest.fixture
async def login_names() -> AsyncIterator[tuple[str, str]]:
    """Two login names no other test uses; dropped afterwards."""
    suffix = uuid.uuid4().hex[:10]
    names = (f"oaas_t_{suffix}_app", f"oaas_t_{suffix}_sys")
    yield names
    admin = await _admin()
    try:
        for name in names:
            await admin.execute(f'DROP ROLE IF EXISTS "{name}"')
    finally:
        await admin.close()


def _as(url: str, name: str, password: str) -> str:
    return make_url(url).set(username=name, password=password).render_as_string(False)


def _gateway_env(owner_url: str, names: tuple[str, str]) -> dict[str, str]:
    return {
        "OAAS_MIGRATION_DATABASE_URL": owner_url,
        "OAAS_DATABASE_URL": _as(owner_url, names[0], "app-" + uuid.uuid4().hex),
        "OAAS_SYSTEM_DATABASE_URL": _as(owner_url, names[1], "sys-" + uuid.uuid4().hex),
    }


async def test_db_upgrade_makes_the_gateways_logins_and_the_gateway_runs_on_them(
    owned_database_url: str,  # noqa: F811
    login_names: tuple[str, str],
    tmp_path: Path,
) -> None:
    app_login, system_login = login_names
    env = _gateway_env(owned_database_url, login_names)
    cli = Cli(env["OAAS_DATABASE_URL"], tmp_path, env)

    made = await cli.call("db", "upgrade")

    assert (made.code, made.err) == (0, ""), made
    assert made.lines == [
        f"database at {head_revision()}",
        f"login {app_login}: created",
        f"login {app_login}: member of oaas_app",
        f"login {system_login}: created",
        f"login {system_login}: member of oaas_system",
    ]
    admin = await _admin()
    try:
        for name, role in ((app_login, "oaas_app"), (system_login, "oaas_system")):
            found = await admin.fetchrow(LOGIN_ATTRIBUTES, name)
            assert found is not None
            assert tuple(found) == (True, False, False, False, True, [role]), name
    finally:
        await admin.close()
    again = await cli.call("db", "upgrade")
    assert (again.code, again.lines, again.err) == (0, [f"database at {head_revision()}"], "")

    applied = await cli.call("tenants", "apply", DEMO_MANIFEST)
    assert (applied.code, applied.err) == (0, ""), applied
    settings = Settings(
        database_url=env["OAAS_DATABASE_URL"],
        system_database_url=env["OAAS_SYSTEM_DATABASE_URL"],
        issuer=ISSUER,
        signing_key_file=tmp_path / "keys.json",
        _env_file=None,  # type: ignore[call-arg]
    )
    app = create_app(settings)
    database: Database = app.state.components.database
    try:
        logins = application_logins(settings)
        problems = [await login_problems(database.read_engine, logins[0])]
        problems.append(await login_problems(database.system_engine, logins[1]))
        assert problems == [[], []]
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=ISSUER
        ) as http:
            api = Api(http)
            created = await api.data(CREATE_ORDER, {"input": order_input()}, as_client="acme-shop")
            assert created["createOrder"]["userErrors"] == []  # type: ignore[index]
            listed = await api.data(ORDERS, {"first": 5}, as_client="acme-backend")
            assert len(listed["orders"]["edges"]) == 1  # type: ignore[index]
            assert (await api.token("globex-shop", secret=DEMO_SECRET)).count(".") == 2
    finally:
        await database.dispose()


async def test_db_upgrade_says_what_to_run_when_it_may_not_make_logins(
    owned_database_url: str,  # noqa: F811
    login_names: tuple[str, str],
    tmp_path: Path,
) -> None:
    owner = make_url(owned_database_url).username
    assert (await Cli(owned_database_url, tmp_path).call("db", "upgrade")).code == 0
    admin = await _admin()
    try:
        await admin.execute(f'ALTER ROLE "{owner}" NOCREATEROLE')
        env = _gateway_env(owned_database_url, login_names)

        refused = await Cli(env["OAAS_DATABASE_URL"], tmp_path, env).call("db", "upgrade")

        assert (refused.code, refused.out) == (2, ""), refused
        lines = refused.err_lines
        assert lines[:2] == [
            f"database at {head_revision()}",
            f"the application's logins are not ready and {owner} may not make them; "
            "as a role with CREATEROLE, run:",
        ], lines
        app_login = login_names[0]
        assert lines[2].startswith(
            f"  CREATE ROLE {app_login} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE "
            "NOREPLICATION PASSWORD '...';  -- OAAS_DATABASE_URL: "
        ), lines
        assert lines[3].startswith(f"  GRANT oaas_app TO {app_login};  -- OAAS_DATABASE_URL"), lines
        assert "app-" not in refused.err  # never the password
        for name in login_names:
            assert await admin.fetchrow(LOGIN_ATTRIBUTES, name) is None
    finally:
        await admin.close()


async def test_serve_in_production_refuses_a_login_that_reset_role_would_free(
    owned_database_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """One URL for everything: the owner's login, which may make roles and owns the tables."""
    owner = make_url(owned_database_url).username
    cli = Cli(owned_database_url, tmp_path, {"OAAS_ENV": "production"})

    refused = await cli.run("serve", "--port", "1")

    assert (refused.code, refused.out) == (2, ""), refused
    assert refused.err_lines == [
        f"OAAS_DATABASE_URL logs in as {owner}, which may make roles and owns the tables "
        "(and may turn row-level security off): RESET ROLE would undo row-level security",
        f"OAAS_DATABASE_URL logs in as {owner}, a member of oaas_system, which sees every "
        "tenant: RESET ROLE would undo row-level security",
        "give the gateway logins of its own: OAAS_DATABASE_URL as oaas_app, "
        "OAAS_SYSTEM_DATABASE_URL as oaas_system, OAAS_MIGRATION_DATABASE_URL as the "
        "tables' owner (README: Running it for real)",
    ]


async def test_serve_refuses_a_tenant_login_without_a_system_login(
    owned_database_url: str,  # noqa: F811
    login_names: tuple[str, str],
    tmp_path: Path,
) -> None:
    """The gateway's own work (token lookups, workers) cannot run as the tenant login."""
    env = _gateway_env(owned_database_url, login_names)
    del env["OAAS_SYSTEM_DATABASE_URL"]
    cli = Cli(env["OAAS_DATABASE_URL"], tmp_path, env)

    refused = await cli.run("serve", "--port", "1")

    assert (refused.code, refused.out) == (
        2,
        f"login {login_names[0]}: created\nlogin {login_names[0]}: member of oaas_app\n",
    ), refused
    assert refused.err_lines == [
        "OAAS_SYSTEM_DATABASE_URL (default OAAS_DATABASE_URL) cannot work as oaas_system: "
        'permission denied to set role "oaas_system"',
        "give the gateway logins of its own: OAAS_DATABASE_URL as oaas_app, "
        "OAAS_SYSTEM_DATABASE_URL as oaas_system, OAAS_MIGRATION_DATABASE_URL as the "
        "tables' owner (README: Running it for real)",
    ]
