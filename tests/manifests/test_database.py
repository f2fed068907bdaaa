"""`oaas db upgrade`, `/readyz` and `/healthz`; the CLI on a database behind or unreachable."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from oaas.db import Database
from oaas.db.migrate import alembic_config, head_revision, upgrade
from tests.conftest import POSTGRES_URL, Backend
from tests.manifests.conftest import (
    Cli,
    gateway,
    rows,
    snapshot,
    token_response,
    write_manifest,
)

ONE_TENANT = {"tenants": [{"handle": "solo", "name": "Solo", "kind": "merchant"}]}


def _behind_line(current: str | None) -> str:
    return (
        f"the database is at {current or 'an empty schema'}, not {head_revision()}: "
        "run `oaas db upgrade` first"
    )


async def test_db_upgrade_brings_a_blank_database_to_head(
    blank_database_url: str, workdir: Path, tmp_path: Path
) -> None:
    head = head_revision()
    cli = Cli(blank_database_url, workdir)
    async with gateway(blank_database_url, tmp_path / "keys.json") as http:
        assert (await http.get("/healthz")).status_code == 200
        behind = await http.get("/readyz")
        assert behind.status_code == 503, behind.text
        assert behind.json() == {
            "status": "unavailable",
            "database": "behind",
            "revision": None,
            "head": head,
        }

        result = await cli.run("db", "upgrade")

        assert (result.code, result.err) == (0, ""), result
        assert result.lines == [f"database at {head}"]
        ready = await http.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json() == {"status": "ok", "database": "ok", "revision": head}
        assert (await http.get("/healthz")).status_code == 200

    again = await cli.call("db", "upgrade")
    assert (again.code, again.lines, again.err) == (0, [f"database at {head}"], "")

    applied = await cli.call("tenants", "apply", write_manifest(tmp_path / "t.yaml", ONE_TENANT))
    assert (applied.code, applied.lines, applied.err) == (0, ["tenant solo: created"], "")
    assert [row.handle for row in await rows(blank_database_url, "tenants")] == ["solo"]


async def test_tenants_apply_on_a_blank_database_says_to_upgrade(
    blank_database_url: str, workdir: Path, tmp_path: Path
) -> None:
    manifest = write_manifest(tmp_path / "t.yaml", ONE_TENANT)

    result = await Cli(blank_database_url, workdir).call("tenants", "apply", manifest)

    assert (result.code, result.out) == (2, ""), result
    assert result.err_lines == [_behind_line(None)]
    assert await snapshot(blank_database_url) == {}


async def test_a_database_one_migration_behind(
    blank_database_url: str, workdir: Path, tmp_path: Path
) -> None:
    script = ScriptDirectory.from_config(alembic_config())
    first = script.get_base()
    assert first is not None
    if first == head_revision():
        pytest.skip("only one migration: no database can be part way")
    database = Database(blank_database_url)
    try:
        await upgrade(database.write_engine, first)
    finally:
        await database.dispose()
    before = await snapshot(blank_database_url)
    manifest = write_manifest(tmp_path / "t.yaml", ONE_TENANT)

    async with gateway(blank_database_url, tmp_path / "keys.json") as http:
        behind = await http.get("/readyz")
        assert behind.status_code == 503, behind.text
        assert behind.json()["database"] == "behind", behind.text
        assert behind.json()["revision"] == first

        refused = await Cli(blank_database_url, workdir).call("tenants", "apply", manifest)
        assert (refused.code, refused.out) == (2, ""), refused
        assert refused.err_lines == [_behind_line(first)]
        assert await snapshot(blank_database_url) == before

        upgraded = await Cli(blank_database_url, workdir).call("db", "upgrade")
        assert upgraded.lines == [f"database at {head_revision()}"]
        assert (await http.get("/readyz")).status_code == 200


UNREACHABLE = {
    "postgres-closed-port": "postgresql+asyncpg://postgres@127.0.0.1:1/oaas",
    "sqlite-no-such-directory": "sqlite+aiosqlite:///{tmp}/no/such/directory/oaas.db",
}


@pytest.mark.parametrize("url", UNREACHABLE.values(), ids=UNREACHABLE.keys())
async def test_readyz_is_503_while_the_database_is_unreachable(url: str, tmp_path: Path) -> None:
    url = url.format(tmp=tmp_path)
    async with gateway(url, tmp_path / "keys.json") as http:
        health = await http.get("/healthz")
        assert (health.status_code, health.json()) == (200, {"status": "ok"})
        ready = await http.get("/readyz")
        assert ready.status_code == 503, ready.text
        assert ready.json()["status"] == "unavailable"
        assert ready.json()["database"] == "unreachable"
    assert not (tmp_path / "no").exists()


def _missing_database_url(backend: Backend, tmp_path: Path) -> str:
    if backend.name == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/no/such/directory/oaas.db"
    assert POSTGRES_URL is not None
    return make_url(POSTGRES_URL).set(database="oaas_no_such_database").render_as_string(False)


async def test_readyz_is_503_when_the_database_does_not_exist(
    backend: Backend, tmp_path: Path
) -> None:
    async with gateway(_missing_database_url(backend, tmp_path), tmp_path / "keys.json") as http:
        ready = await http.get("/readyz")
        assert ready.status_code == 503, ready.text
        assert ready.json()["database"] == "unreachable"


COMMANDS = {"db-upgrade": ("db", "upgrade"), "tenants-apply": ("tenants", "apply", "t.yaml")}


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
@pytest.mark.parametrize("url", UNREACHABLE.values(), ids=UNREACHABLE.keys())
async def test_the_cli_on_an_unreachable_database_fails_in_one_line(
    command: tuple[str, ...], url: str, workdir: Path
) -> None:
    write_manifest(workdir / "t.yaml", ONE_TENANT)
    cli = Cli(url.format(tmp=workdir), workdir)

    result = await cli.call(*command)

    assert (result.code, result.out) == (2, ""), result
    assert len(result.err_lines) == 1, result.err
    assert result.err.startswith("cannot reach the database"), result.err


async def test_the_cli_on_a_database_that_does_not_exist_fails_in_one_line(
    backend: Backend, workdir: Path, tmp_path: Path
) -> None:
    cli = Cli(_missing_database_url(backend, tmp_path), workdir)

    result = await cli.run("db", "upgrade")

    assert (result.code, result.out) == (2, ""), result
    assert len(result.err_lines) == 1, result.err
    assert result.err.startswith("cannot reach the database"), result.err


async def test_db_upgrade_migrates_through_the_migration_url(
    blank_database_url: str, workdir: Path
) -> None:
    """OAAS_MIGRATION_DATABASE_URL (the tables' owner) is what `db upgrade` connects to."""
    cli = Cli(UNREACHABLE["postgres-closed-port"], workdir)

    result = await cli.call(
        "db", "upgrade", env={"OAAS_MIGRATION_DATABASE_URL": blank_database_url}
    )

    assert (result.code, result.lines, result.err) == (0, [f"database at {head_revision()}"], "")


SHARED = {
    "tenants": [
        {
            "handle": "solo",
            "name": "Solo",
            "kind": "merchant",
            "clients": [
                {"client_id": "solo-shop", "secret": "solo-secret-123", "roles": ["merchant_admin"]}
            ],
        },
        {"handle": "haul", "name": "Haul", "kind": "partner"},
    ],
    "grants": [{"merchant": "solo", "partner": "haul", "profile": "full", "actions": ["read"]}],
}


async def test_tenants_apply_as_an_owner_held_by_row_level_security(
    owned_database_url: str, workdir: Path, tmp_path: Path
) -> None:
    """Not as a superuser (who bypasses RLS): the apply is the platform's own act and must
    see and write every tenant's clients and grants."""
    manifest = write_manifest(tmp_path / "shared.yaml", SHARED)
    cli = Cli(owned_database_url, workdir)
    assert (await cli.call("db", "upgrade")).code == 0

    created = await cli.call("tenants", "apply", manifest)

    assert (created.code, created.err) == (0, ""), created
    assert created.lines == [
        "tenant solo: created",
        "client solo/solo-shop: created",
        "tenant haul: created",
        "grant solo->haul: created",
    ]
    again = await cli.call("tenants", "apply", manifest)
    assert (again.code, again.err) == (0, ""), again
    assert all(line.endswith(": unchanged") for line in again.lines), again.lines
    async with gateway(owned_database_url, tmp_path / "keys.json") as http:
        assert (await http.get("/readyz")).status_code == 200
        response = await token_response(http, "solo-shop", "solo-secret-123")
        assert response.status_code == 200, response.text
