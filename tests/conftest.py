"""Test databases and the real ASGI app.

Every database test runs twice: on SQLite and on PostgreSQL. PostgreSQL comes
from `OAAS_TEST_POSTGRES_URL` (e.g. postgresql+asyncpg://postgres@127.0.0.1/test);
without it those tests skip with that reason, and `.ci/run` sets it and turns
any skip into a failure. Each test gets a database of its own, copied from a
template that is migrated and holds the demo tenants, and dropped afterwards.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from oaas.app import create_app
from oaas.auth.keys import ensure_key_file
from oaas.db import SYSTEM_SCOPE, Database
from oaas.db.migrate import upgrade
from oaas.db.roles import APP_ROLE, SYSTEM_ROLE, application_logins, provision_logins
from oaas.manifests.apply import apply_manifest
from oaas.manifests.manifest import load_manifests
from oaas.policy import system_principal
from oaas.quotas.plans import PlanLimits
from oaas.quotas.service import put_plan
from oaas.settings import Settings

REPO = Path(__file__).resolve().parents[1]
DEMO_MANIFEST = REPO / "tenants" / "demo.yaml"
DEMO_SECRET = "demo-only-secret"
ISSUER = "http://127.0.0.1:8000"
POSTGRES_URL = os.environ.get("OAAS_TEST_POSTGRES_URL")
# Per process: each pytest-xdist worker names its PostgreSQL templates apart.
RUN_ID = uuid.uuid4().hex[:8]
# The advisory lock under which a template is seeded (any number the suite owns).
TEMPLATE_LOCK = 0x0AA5_7E57
TEST_PLAN = PlanLimits(
    name="test-unmetered", bucket_size=10_000_000, restore_rate=1_000_000.0, max_query_cost=100_000
)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    if os.environ.get("OAAS_TEST_NO_SKIPS") and skipped:
        terminalreporter.write_line(
            f"OAAS_TEST_NO_SKIPS is set and {len(skipped)} tests skipped: failing the run",
            red=True,
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or not os.environ.get("OAAS_TEST_NO_SKIPS"):
        return
    if reporter.stats.get("skipped"):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


async def _pg_admin(sql: str) -> None:
    assert POSTGRES_URL is not None
    conn = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def database_settings(url: str) -> dict[str, str]:
    """The gateway's database settings for a test database. PostgreSQL: logins of its
    own (oaas_app, oaas_system, as `oaas db upgrade` makes them), the URL's own login
    (the owner) for migrations; tests reach past the API with `migrations_url`."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return {"database_url": url}
    return {
        "database_url": parsed.set(username=APP_ROLE).render_as_string(hide_password=False),
        "system_database_url": parsed.set(username=SYSTEM_ROLE).render_as_string(
            hide_password=False
        ),
        "migration_database_url": url,
    }


async def _seed(url: str, *, demo: bool) -> None:
    database = Database(url)
    try:
        await upgrade(database.write_engine)
        if not database.is_sqlite:
            gateway = Settings(_env_file=None).model_copy(update=database_settings(url))  # type: ignore[call-arg]
            await provision_logins(database.write_engine, application_logins(gateway))
        if demo:
            manifest = load_manifests([DEMO_MANIFEST])
            async with database.session(write=True, scope=SYSTEM_SCOPE) as session:
                await apply_manifest(session, system_principal("tests"), manifest)
                # Tests fire bursts no real client would: the demo tenants get a bucket
                # that never runs dry (tests/quotas puts tenants on small plans itself).
                await put_plan(session, system_principal("tests"), TEST_PLAN)
                await session.execute(
                    text("UPDATE tenants SET plan = :plan"), {"plan": TEST_PLAN.name}
                )
    finally:
        await database.dispose()


@dataclass
class Backend:
    """One database engine's way of making throwaway databases from templates."""

    name: str
    workdir: Path
    templates: dict[str, str]

    async def template(self, kind: str) -> str:
        if kind in self.templates:
            return self.templates[kind]
        if self.name == "sqlite":
            path = self.workdir / f"template-{kind}.db"
            url = f"sqlite+aiosqlite:///{path}"
            await _seed(url, demo=kind == "demo")
            self.templates[kind] = str(path)
        else:
            assert POSTGRES_URL is not None
            name = f"oaas_tpl_{kind}_{RUN_ID}"
            # Parallel workers (pytest-xdist) each make their own templates: the
            # migrations and logins touch cluster-wide roles, so one seeds at a time.
            lock = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL))
            try:
                await lock.execute("SELECT pg_advisory_lock($1)", TEMPLATE_LOCK)
                await _pg_admin(f'DROP DATABASE IF EXISTS "{name}"')
                await _pg_admin(f'CREATE DATABASE "{name}"')
                await _seed(
                    make_url(POSTGRES_URL).set(database=name).render_as_string(False),
                    demo=kind == "demo",
                )
            finally:
                await lock.close()
            self.templates[kind] = name
        return self.templates[kind]

    async def fresh(self, kind: str, directory: Path) -> tuple[str, str | None]:
        """A new database copied from the template: (url, name to drop)."""
        template = await self.template(kind)
        if self.name == "sqlite":
            path = directory / "oaas.db"
            shutil.copyfile(template, path)
            return f"sqlite+aiosqlite:///{path}", None
        assert POSTGRES_URL is not None
        name = f"oaas_t_{uuid.uuid4().hex[:12]}"
        await _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return make_url(POSTGRES_URL).set(database=name).render_as_string(False), name

    async def drop(self, name: str | None) -> None:
        if name is not None:
            await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    async def drop_templates(self) -> None:
        if self.name == "postgres":
            for name in self.templates.values():
                await self.drop(name)


@pytest.fixture(scope="session")
def _backends(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Backend]]:
    return {
        "sqlite": Backend("sqlite", tmp_path_factory.mktemp("sqlite-templates"), {}),
        "postgres": Backend("postgres", tmp_path_factory.mktemp("pg"), {}),
    }


@pytest.fixture(scope="session", autouse=True)
async def _drop_pg_templates(_backends: dict[str, Backend]) -> AsyncIterator[None]:
    yield
    if POSTGRES_URL:
        await _backends["postgres"].drop_templates()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, _backends: dict[str, Backend]) -> Backend:
    if request.param == "postgres" and not POSTGRES_URL:
        pytest.skip(
            "PostgreSQL tests need OAAS_TEST_POSTGRES_URL (e.g. postgresql+asyncpg://postgres@127.0.0.1/test)"
        )
    return _backends[request.param]


async def _database_url(backend: Backend, kind: str, tmp_path: Path) -> AsyncIterator[str]:
    url, name = await backend.fresh(kind, tmp_path)
    try:
        yield url
    finally:
        await backend.drop(name)


@pytest.fixture
async def database_url(backend: Backend, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated database holding the demo tenants."""
    async for url in _database_url(backend, "demo", tmp_path):
        yield url


@pytest.fixture
async def empty_database_url(backend: Backend, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated database with no tenants."""
    async for url in _database_url(backend, "empty", tmp_path):
        yield url


@pytest.fixture(scope="session")
def _session_key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "keys.json"
    ensure_key_file(path)
    return path


@pytest.fixture
def signing_key_file(_session_key_file: Path, tmp_path: Path) -> Path:
    """A test's own key file, holding a key made once per run (an RSA key costs
    tens of milliseconds to make; rotation tests write their own files)."""
    path = tmp_path / "keys.json"
    shutil.copy(_session_key_file, path)  # with its mode, 0600
    return path


@pytest.fixture
def settings(database_url: str, signing_key_file: Path) -> Settings:
    return Settings(
        issuer=ISSUER,
        signing_key_file=signing_key_file,
        _env_file=None,  # type: ignore[call-arg]
    ).model_copy(update=database_settings(database_url))


def assert_cost_within_request(response: httpx.Response) -> None:
    """Every query the suite sends is priced before it runs at no less than it
    actually cost: the static price bounds what an answer can spend."""
    if not response.headers.get("content-type", "").startswith("application/json"):
        return
    cost = (response.json().get("extensions") or {}).get("cost")
    if cost and cost["actualQueryCost"]:
        assert cost["requestedQueryCost"] >= cost["actualQueryCost"], cost


class Api:
    """The gateway over HTTP (in process, through the real ASGI app)."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self._tokens: dict[tuple[str, str | None], str] = {}

    async def token(
        self, client_id: str, scope: str | None = None, secret: str = DEMO_SECRET
    ) -> str:
        key = (client_id, scope)
        if key not in self._tokens:
            data = {"grant_type": "client_credentials"}
            if scope is not None:
                data["scope"] = scope
            response = await self.http.post("/oauth/token", data=data, auth=(client_id, secret))
            assert response.status_code == 200, response.text
            self._tokens[key] = response.json()["access_token"]
        return self._tokens[key]

    async def graphql(
        self,
        query: str,
        variables: dict[str, object] | None = None,
        *,
        as_client: str | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        lists_over_declared_size: bool = False,
    ) -> httpx.Response:
        """One call; `lists_over_declared_size` when the answer is meant to hold a list
        longer than the cost meter prices it at (oaas.graphql.cost.LIST_SIZES)."""
        if token is None and as_client is not None:
            token = await self.token(as_client)
        headers = dict(headers or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        if not lists_over_declared_size:
            assert_cost_within_request(response)
        return response

    async def data(
        self, query: str, variables: dict[str, object] | None = None, *, as_client: str
    ) -> dict[str, object]:
        """The `data` of a call that must succeed without GraphQL errors."""
        response = await self.graphql(query, variables, as_client=as_client)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        data: dict[str, object] = body["data"]
        return data


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
        yield Api(http)
    await app.state.components.database.dispose()
