"""Helpers for the tenants-as-code tests: the CLI (as a subprocess or in process),
database snapshots, blank databases and the ASGI app over httpx."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import io
import os
import sys
import uuid
import warnings
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import asyncpg
import httpx
import pytest
import yaml
from sqlalchemy import Connection, MetaData, Row, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from starlette.applications import Starlette

from oaas.app import create_app
from oaas.settings import Settings
from tests.conftest import DEMO_MANIFEST, ISSUER, POSTGRES_URL, Backend

Rows = dict[str, list[tuple[Any, ...]]]


# --- the command line -------------------------------------------------------------


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()

    @property
    def err_lines(self) -> list[str]:
        return self.err.splitlines()


@dataclass
class Cli:
    """`oaas` against one database, with a signing key file and a working folder of its own."""

    database_url: str
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)

    def environment(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        # Nothing from the caller's OAAS_* settings leaks in.
        env = {k: v for k, v in os.environ.items() if not k.startswith("OAAS_")}
        env["OAAS_DATABASE_URL"] = self.database_url
        env["OAAS_SIGNING_KEY_FILE"] = str(self.workdir / "signing-keys.json")
        env.update(self.env)
        env.update(extra or {})
        return env

    async def run(self, *args: str | Path, env: Mapping[str, str] | None = None) -> CliResult:
        """`python -m oaas ARGS` as a real process."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "oaas",
            *(str(a) for a in args),
            env=self.environment(env),
            cwd=self.workdir,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=120)
        assert process.returncode is not None
        return CliResult(process.returncode, out.decode(), err.decode())

    async def call(self, *args: str | Path, env: Mapping[str, str] | None = None) -> CliResult:
        """`oaas.cli.main()` in this process (on a thread of its own: it runs its own
        event loop), with argv, environment, working folder and output swapped in."""
        return await asyncio.to_thread(self._call, [str(a) for a in args], self.environment(env))

    def _call(self, args: list[str], env: dict[str, str]) -> CliResult:
        from oaas.cli import main

        out, err = io.StringIO(), io.StringIO()
        code = 0
        with (
            mock.patch.object(sys, "argv", ["oaas", *args]),
            mock.patch.dict(os.environ, env, clear=True),
            contextlib.chdir(self.workdir),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            try:
                main()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
        return CliResult(code, out.getvalue(), err.getvalue())


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


# --- manifests --------------------------------------------------------------------


def demo_manifest() -> dict[str, Any]:
    """tenants/demo.yaml as data, for tests to change."""
    data: dict[str, Any] = yaml.safe_load(DEMO_MANIFEST.read_text(encoding="utf-8"))
    return copy.deepcopy(data)


def write_manifest(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def created_lines(manifest: Mapping[str, Any], outcome: str = "created") -> list[str]:
    """The report `oaas tenants apply` prints for a manifest, every object with one outcome."""
    lines: list[str] = []
    for tenant in manifest.get("tenants", []):
        lines.append(f"tenant {tenant['handle']}: {outcome}")
        if "sla" in tenant:
            lines.append(f"sla {tenant['handle']}: {outcome}")
        lines.extend(
            f"client {tenant['handle']}/{client['client_id']}: {outcome}"
            for client in tenant.get("clients", [])
        )
    lines.extend(
        f"grant {grant['merchant']}->{grant['partner']}: {outcome}"
        for grant in manifest.get("grants", [])
    )
    return lines


# --- the database -----------------------------------------------------------------


def _dump(conn: Connection) -> Rows:
    meta = MetaData()
    with warnings.catch_warnings():
        # SQLite's expression indexes cannot be reflected; a dump of rows needs no index.
        warnings.filterwarnings(
            "ignore", "Skipped unsupported reflection of expression-based index"
        )
        meta.reflect(conn)
    return {
        name: sorted((tuple(row) for row in conn.execute(select(table))), key=repr)
        for name, table in sorted(meta.tables.items())
    }


async def snapshot(url: str) -> Rows:
    """Every row of every table (the schema as it is found, reflected)."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_dump)
    finally:
        await engine.dispose()


def all_text(rows: Rows) -> str:
    """Every value of every table as text, one per line."""
    return "\n".join(str(value) for table in rows.values() for row in table for value in row)


async def rows(url: str, table: str) -> list[Row[Any]]:
    """The rows of one table, with their columns as attributes."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            result = await conn.execute(text(f"SELECT * FROM {table}"))  # noqa: S608
            return list(result.all())
    finally:
        await engine.dispose()


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _pg_admin(sql: str) -> None:
    assert POSTGRES_URL is not None
    conn = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
async def blank_database_url(backend: Backend, tmp_path: Path) -> AsyncIterator[str]:
    """A database that exists but holds no schema at all (never migrated)."""
    if backend.name == "sqlite":
        (tmp_path / "blank.db").touch()  # an empty file is an empty SQLite database
        yield f"sqlite+aiosqlite:///{tmp_path / 'blank.db'}"
        return
    assert POSTGRES_URL is not None
    name = f"oaas_blank_{uuid.uuid4().hex[:12]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(False)
    finally:
        await backend.drop(name)


@pytest.fixture
async def owned_database_url() -> AsyncIterator[str]:
    """PostgreSQL only: a blank database owned by a login role that is no superuser, so
    row-level security holds it (CREATEROLE: migration 0004 makes the app role)."""
    if not POSTGRES_URL:
        pytest.skip("row-level security exists on PostgreSQL only: set OAAS_TEST_POSTGRES_URL")
    suffix = uuid.uuid4().hex[:12]
    role, name, password = f"oaas_owner_{suffix}", f"oaas_owned_{suffix}", uuid.uuid4().hex
    await _pg_admin(
        f"CREATE ROLE \"{role}\" LOGIN NOSUPERUSER NOBYPASSRLS CREATEROLE PASSWORD '{password}'"
    )
    try:
        await _pg_admin(f'CREATE DATABASE "{name}" OWNER "{role}"')
        try:
            url = make_url(POSTGRES_URL).set(username=role, password=password, database=name)
            yield url.render_as_string(hide_password=False)
        finally:
            await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await _pg_admin(f'DROP ROLE IF EXISTS "{role}"')


# --- the gateway ------------------------------------------------------------------


def make_settings(database_url: str, key_file: Path) -> Settings:
    return Settings(
        database_url=database_url,
        issuer=ISSUER,
        signing_key_file=key_file,
        _env_file=None,  # type: ignore[call-arg]
    )


@contextlib.asynccontextmanager
async def gateway(database_url: str, key_file: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The real ASGI app on this database, called in process."""
    app: Starlette = create_app(make_settings(database_url, key_file))
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=ISSUER
        ) as http:
            yield http
    finally:
        await app.state.components.database.dispose()


async def token_response(http: httpx.AsyncClient, client_id: str, secret: str) -> httpx.Response:
    return await http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )
