"""The `oaas` command line (docs/reference.md): bad input is one line on stderr and exit status 2."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import sys
from collections.abc import Coroutine
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from oaas.auth import keys as signing_keys
from oaas.db import SYSTEM_SCOPE, Database
from oaas.db.migrate import migration_state, upgrade
from oaas.db.roles import LoginError, application_logins, login_problems, provision_logins
from oaas.db.types import SUPPORTED_INSTANTS, supported_instant
from oaas.errors import OaasError
from oaas.events.feed import Audience, FeedEvent, envelope, events_after
from oaas.events.sequencer import sequence
from oaas.manifests.apply import apply_manifest
from oaas.manifests.manifest import ManifestError, load_manifests
from oaas.manifests.stock_csv import ImportResult, StockFileError, import_stock, read_stock_csv
from oaas.policy import (
    Policy,
    PolicyError,
    SharePolicy,
    ShareProfile,
    TenantKind,
    system_principal,
)
from oaas.policy.enforcer import policies_dir
from oaas.settings import Settings
from oaas.sla.reports import SlaReport, sla_report
from oaas.sla.table import report_table
from oaas.tenancy.service import find_tenant
from oaas.text import quote

app = typer.Typer(
    name="oaas",
    help="Order-as-a-Service: the multi-tenant order platform.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
tenants_app = typer.Typer(help="Tenants as code.", no_args_is_help=True)
keys_app = typer.Typer(help="Access token signing keys.", no_args_is_help=True)
policies_app = typer.Typer(help="The Casbin policy files.", no_args_is_help=True)
sla_app = typer.Typer(help="Service level agreements.", no_args_is_help=True)
inventory_app = typer.Typer(help="Stock at fulfilment nodes.", no_args_is_help=True)
events_app = typer.Typer(help="The event outbox.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(tenants_app, name="tenants")
app.add_typer(keys_app, name="keys")
app.add_typer(policies_app, name="policies")
app.add_typer(sla_app, name="sla")
app.add_typer(inventory_app, name="inventory")
app.add_typer(events_app, name="events")

T = TypeVar("T")
# How often `oaas events tail` asks for new events.
TAIL_POLL_SECONDS = 1.0


class _Abort(Exception):
    def __init__(self, *lines: str) -> None:
        self.lines = lines


def fail(*lines: str) -> NoReturn:
    raise _Abort(*lines)


def _settings(**overrides: Any) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problem = exc.errors()[0]
        name = "OAAS_" + "_".join(str(p) for p in problem["loc"]).upper()
        fail(f"{name}: {problem['msg']}")


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


async def _reach(database: Database, *, create: bool = False) -> None:
    """One line, not a traceback, when the database cannot be reached (or does not exist).

    SQLite makes a missing file on connect: only `create` (migrating) may, so that a
    command pointed at the wrong place leaves nothing behind."""
    problem = "cannot reach the database (OAAS_DATABASE_URL)"
    path = make_url(database.url).database
    if database.is_sqlite and path and path != ":memory:":
        # Checked first: a failed aiosqlite connect leaves its worker thread posting to
        # the event loop after asyncio.run has closed it (omnilib/aiosqlite#241).
        _check_sqlite_file(Path(path), problem, create=create)
    try:
        await database.ping()
    except (OSError, DBAPIError) as exc:
        cause = getattr(exc, "orig", None) or exc
        reason = (str(cause).splitlines() or [type(cause).__name__])[0]
        fail(f"{problem}: {reason}")


def _check_sqlite_file(path: Path, problem: str, *, create: bool) -> None:
    if not path.parent.is_dir():
        fail(f"{problem}: no directory {path.parent}")
    if create or path.is_file():
        return
    line = f"no database at {path} (OAAS_DATABASE_URL): nothing was created"
    demo = DEMO_DIR / DEMO_DATABASE
    if demo.is_file() and path.resolve() != demo.resolve():
        fail(f"{line}; the running demo's is OAAS_DATABASE_URL={_demo_url(demo)}")
    fail(f"{line}; `oaas db upgrade` makes one")


async def _upgrade(settings: Settings) -> tuple[str, list[str]]:
    """Migrates as the tables' owner, then makes the application's logins (PostgreSQL):
    the revision reached and what changed."""
    database = Database(settings.migrations_url)
    try:
        await _reach(database, create=True)
        try:
            state = await upgrade(database.write_engine)
        except DBAPIError as exc:
            reason = (str(getattr(exc, "orig", exc)).splitlines() or [""])[0]
            fail(
                f"cannot migrate the database: {reason}",
                "migrations run as the tables' owner: OAAS_MIGRATION_DATABASE_URL "
                "(default OAAS_DATABASE_URL)",
            )
        revision = state.current or "base"
        if database.is_sqlite:
            return revision, []
        try:
            changes = await provision_logins(database.write_engine, application_logins(settings))
        except LoginError as exc:
            fail(f"database at {revision}", *exc.lines)
    finally:
        await database.dispose()
    return revision, changes


async def _login_problems(settings: Settings) -> list[str]:
    """What a caller running SQL on the gateway's connections could reach beyond its role;
    fails when a connection cannot work as its role at all."""
    database = Database.for_application(settings)
    try:
        if database.is_sqlite:
            return []
        tenant, system = application_logins(settings)
        problems = await login_problems(database.read_engine, tenant)
        if database.system_engine is not database.read_engine:
            found = await login_problems(database.system_engine, system)
            if system.url != tenant.url:  # else the same login, said once
                problems += found
        return problems
    except LoginError as exc:
        fail(*exc.lines, _OWN_LOGINS)
    finally:
        await database.dispose()


_OWN_LOGINS = (
    "give the gateway logins of its own: OAAS_DATABASE_URL as oaas_app, "
    "OAAS_SYSTEM_DATABASE_URL as oaas_system, OAAS_MIGRATION_DATABASE_URL as the tables' "
    "owner (README: Running it for real)"
)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema to the newest migration; make the application's logins."""
    settings = _settings()
    revision, changes = _run(_upgrade(settings))
    typer.echo(f"database at {revision}")
    for change in changes:
        typer.echo(change)


@tenants_app.command("apply")
def tenants_apply(
    files: Annotated[list[Path], typer.Argument(help="Manifest files (YAML).")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would change; write nothing.")
    ] = False,
    prune: Annotated[
        bool, typer.Option("--prune", help="Remove clients and grants no longer listed.")
    ] = False,
) -> None:
    """Create or update tenants, API clients and grants from manifests, in one transaction."""
    settings = _settings()
    try:
        manifest = load_manifests(files, inline_secrets=not settings.is_production)
    except ManifestError as exc:
        fail(*exc.problems)
    changes = _run(_apply(settings, manifest, dry_run=dry_run, prune=prune))
    for change in changes:
        typer.echo(str(change))
    if dry_run:
        typer.echo("dry run: nothing was written")


class _DryRun(Exception):
    pass


async def _apply(settings: Settings, manifest: Any, *, dry_run: bool, prune: bool) -> list[Any]:
    database = Database.for_application(settings)
    try:
        await _reach(database)
        state = await migration_state(database.read_engine)
        if not state.is_current:
            fail(
                f"the database is at {state.current or 'an empty schema'}, not {state.head}: run `oaas db upgrade` first"
            )
        changes: list[Any] = []
        try:
            # Tenants as code is the platform's own act: every tenant's rows (RLS).
            async with database.session(write=True, scope=SYSTEM_SCOPE) as session:
                changes = await apply_manifest(
                    session, system_principal("oaas-cli"), manifest, prune=prune
                )
                if dry_run:
                    raise _DryRun
        except _DryRun:
            pass
        except ManifestError as exc:
            fail(*exc.problems)
        return changes
    finally:
        await database.dispose()


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Add a new signing key; old public keys stay in the JWKS until their tokens expire."""
    settings = _settings()
    path = settings.resolved_signing_key_file()
    try:
        key = signing_keys.rotate(path, timedelta(seconds=settings.token_ttl_seconds))
    except signing_keys.KeyFileError as exc:
        fail(str(exc))
    typer.echo(f"new signing key {key.kid} in {path}")


@policies_app.command("check")
def policies_check(
    directory: Annotated[
        Path | None,
        typer.Option(
            help="Folder with model.conf, policy.csv, share_model.conf, share_policy.csv."
        ),
    ] = None,
) -> None:
    """Validate the Casbin models and policies: roles, and what share profiles show."""
    folder = directory or policies_dir()
    try:
        policy = Policy(folder)
        SharePolicy(folder)
    except PolicyError as exc:
        fail(str(exc))
    roles = ", ".join(sorted(policy.role_kinds()))
    profiles = ", ".join(profile.value for profile in ShareProfile)
    typer.echo(f"{folder}: ok ({roles}; share profiles {profiles})")


def _iso_time(option: str, value: str | None) -> datetime | None:
    """An ISO 8601 time; one without an offset is UTC."""
    if value is None:
        return None
    try:
        instant = supported_instant(datetime.fromisoformat(value))
    except ValueError:
        instant = None
    if instant is None:
        fail(
            f"{option}: not an ISO 8601 time: {quote(value)} "
            f"(e.g. 2026-11-28T09:00:00Z; accepted {SUPPORTED_INSTANTS})"
        )
    return instant


async def _report(
    settings: Settings, tenant: str | None, since: datetime | None, until: datetime | None
) -> SlaReport:
    database = Database.for_application(settings)
    try:
        await _reach(database)
        state = await migration_state(database.read_engine)
        if not state.is_current:
            fail(
                f"the database is at {state.current or 'an empty schema'}, not {state.head}: run `oaas db upgrade` first"
            )
        # The platform's own read across tenants (RLS), as a platform admin.
        async with database.session(write=False, scope=SYSTEM_SCOPE) as session:
            try:
                return await sla_report(
                    session, system_principal("oaas-cli"), tenant=tenant, since=since, until=until
                )
            except OaasError as exc:
                field = exc.field[0] if exc.field else ""
                fail(f"--{field}: {exc.message}" if field else exc.message)
    finally:
        await database.dispose()


@sla_app.command("report")
def sla_report_command(
    tenant: Annotated[
        str | None, typer.Option(help="A tenant handle; every tenant when omitted.")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Window start, ISO 8601 (default: 24 hours before until).")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Window end, ISO 8601 (default: now).")] = None,
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Availability, latency and fulfilment against each tenant's SLA."""
    if format not in ("table", "json"):
        fail(f"--format: must be table or json, not {format!r}")
    window = (_iso_time("--since", since), _iso_time("--until", until))
    settings = _settings()
    report = _run(_report(settings, tenant, *window))
    if format == "json":
        typer.echo(json.dumps(report.to_json(), indent=2))
    else:
        typer.echo(report_table(report))


def _serve(settings: Settings, host: str, port: int, workers: int) -> None:
    import uvicorn

    revision, changes = _run(_upgrade(settings))
    for change in changes:
        typer.echo(change)
    problems = _run(_login_problems(settings))
    if problems and settings.is_production:
        fail(*problems, _OWN_LOGINS)
    for problem in problems:
        typer.echo(f"warning: {problem}", err=True)
    if problems:
        typer.echo(f"warning: {_OWN_LOGINS}", err=True)
    signing_keys.ensure_key_file(settings.resolved_signing_key_file())
    typer.echo(f"database at {revision}; serving on http://{host}:{port}")
    uvicorn.run(
        "oaas.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
    )


@inventory_app.command("import")
def inventory_import(
    file: Annotated[Path, typer.Argument(help="CSV with columns node, sku, on_hand.")],
    merchant: Annotated[str, typer.Option(help="The merchant whose nodes these are.")],
    operator: Annotated[
        str | None, typer.Option(help="The partner operating these nodes, if any.")
    ] = None,
    batch: Annotated[int, typer.Option(min=1, max=50_000, help="Rows per transaction.")] = 1000,
) -> None:
    """Sets on-hand stock from a CSV file; orders waiting for stock are routed again."""
    try:
        rows = read_stock_csv(file)
    except StockFileError as exc:
        fail(*exc.problems)
    settings = _settings()

    async def run() -> ImportResult:
        database = Database.for_application(settings)
        try:
            await _reach(database)
            with typer.progressbar(length=len(rows), label=f"importing {file.name}") as bar:
                return await import_stock(
                    database,
                    system_principal("oaas-cli"),
                    merchant,
                    rows,
                    source=str(file),
                    operator_handle=operator,
                    batch=batch,
                    progress=bar.update,
                )
        finally:
            await database.dispose()

    try:
        result = _run(run())
    except StockFileError as exc:
        fail(*exc.problems)
    typer.echo(
        f"{result.rows} rows read, {result.changed} stock levels changed, "
        f"{result.orders_woken} waiting orders woken"
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64)] = 1,
) -> None:
    """Run the gateway; migrates the database first if it is behind."""
    _serve(_settings(), host, port, workers)


DEMO_DIR = Path(".oaas-demo")
DEMO_DATABASE = "oaas.db"
DEMO_CLIENT = ("acme-shop", "demo-only-secret")


DEMO_MANIFESTS = ("demo.yaml", "demo-fulfilment.yaml")


def _demo_manifests() -> list[Path]:
    """The demo tenants, then acme's nodes, stock and risk policy."""
    for directory in (Path("tenants"), Path(__file__).resolve().parents[2] / "tenants"):
        if (directory / DEMO_MANIFESTS[0]).is_file():
            return [directory / name for name in DEMO_MANIFESTS if (directory / name).is_file()]
    fail("tenants/demo.yaml not found: run `oaas demo` from the oaas checkout")


@app.command()
def demo(
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
) -> None:
    """A fresh SQLite database with the demo tenants, served on 127.0.0.1."""
    manifest_paths = _demo_manifests()
    if DEMO_DIR.exists():
        shutil.rmtree(DEMO_DIR)
    DEMO_DIR.mkdir()
    database_url = _demo_url(DEMO_DIR / DEMO_DATABASE)
    issuer = f"http://127.0.0.1:{port}"
    os.environ["OAAS_DATABASE_URL"] = database_url
    os.environ["OAAS_ISSUER"] = issuer
    settings = _settings()
    _run(_upgrade(settings))
    try:
        manifest = load_manifests(manifest_paths)
    except ManifestError as exc:
        fail(*exc.problems)
    changes = _run(_apply(settings, manifest, dry_run=False, prune=False))
    typer.echo(
        f"demo database: {DEMO_DIR / DEMO_DATABASE} ({len(changes)} objects from "
        f"{', '.join(str(p) for p in manifest_paths)})"
    )
    typer.echo(_demo_instructions(issuer, database_url))
    _serve(settings, "127.0.0.1", port, 1)


_CREATE_ORDER_BODY = (
    '{"query": "mutation Create($input: CreateOrderInput!, $key: String) '
    "{ createOrder(input: $input, idempotencyKey: $key) { order { id number status total "
    "routing { explanation } } "
    'userErrors { field message code } } }", '
    '"variables": {"key": "demo-1001", "input": {"externalId": "demo-1001", "currency": "EUR", '
    '"customerEmail": "jane@example.com", "shippingAddress": {"name": "Jane Doe", '
    '"line1": "Hauptstrasse 1", "city": "Berlin", "postalCode": "10115", "country": "DE"}, '
    '"lines": [{"sku": "KETTLE-1", "quantity": 2, "unitPrice": "19.90"}]}}}'
)
_LIST_ORDERS_BODY = (
    '{"query": "{ orders(first: 5) { edges { node { id number status total '
    'lines { sku quantity cancelledQuantity } } } } }"}'
)


def _demo_url(path: Path) -> str:
    """The demo database's URL with an absolute path: it works from any folder."""
    return f"sqlite+aiosqlite:///{path.resolve()}"


def _demo_instructions(issuer: str, database_url: str) -> str:
    client_id, secret = DEMO_CLIENT
    return f"""
Get a token for the merchant acme (client {client_id}):

  TOKEN=$(curl -s -u {client_id}:{secret} -d grant_type=client_credentials \\
    {issuer}/oauth/token | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

Create an order (run it twice: the idempotency key gives back the same order):

  curl -s {issuer}/graphql -H "Authorization: Bearer $TOKEN" \\
    -H 'Content-Type: application/json' \\
    -d '{_CREATE_ORDER_BODY}'

List the newest orders:

  curl -s {issuer}/graphql -H "Authorization: Bearer $TOKEN" \\
    -H 'Content-Type: application/json' \\
    -d '{_LIST_ORDERS_BODY}'

Operator commands on this database, from another terminal:

  OAAS_DATABASE_URL={database_url} oaas sla report

GraphiQL: {issuer}/graphql in a browser. Stop with Ctrl-C.
"""


def main() -> None:
    try:
        app(standalone_mode=False)
    except _Abort as abort:
        for line in abort.lines:
            print(line, file=sys.stderr)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(1)
    except typer.TyperException as exc:
        # A bad command, option or argument: typer raises its own (vendored) click's
        # exceptions, which `click.ClickException` does not catch.
        message = exc.format_message()
        ctx = getattr(exc, "ctx", None)
        if ctx is not None and "\n" not in message:
            message = f"{message} (see `{ctx.command_path} --help`)"
        print(message, file=sys.stderr)
        sys.exit(2)


def _event_line(event: FeedEvent) -> str:
    order = f" order {event.order_id} #{event.order_sequence}" if event.order_id else ""
    message = f": {event.message}" if event.message else ""
    return (
        f"{event.position} {event.at.isoformat()} {event.tenant_handle} {event.type}"
        f"{order} by {event.actor}{message}"
    )


async def _tail(settings: Settings, tenant: str, after: int, follow: bool, as_json: bool) -> None:
    database = Database.for_application(settings)
    try:
        await _reach(database)
        async with database.session(write=False, scope=SYSTEM_SCOPE) as session:
            found = await find_tenant(session, tenant)
            if found is None:
                fail(f"--tenant: no tenant {tenant!r}")
            audience = Audience(
                tenant_id=found.id, handle=found.handle, kind=TenantKind(found.kind)
            )
        while True:
            # Numbers what no server has numbered yet (none may be running).
            await sequence(database)
            async with database.session(write=False, scope=SYSTEM_SCOPE) as session:
                page = await events_after(session, audience, after=after)
            for event in page.events:
                line = json.dumps(envelope(event)) if as_json else _event_line(event)
                typer.echo(line)
            after = page.end
            if not page.more:
                if not follow:
                    return
                await asyncio.sleep(TAIL_POLL_SECONDS)
    finally:
        await database.dispose()


@events_app.command("tail")
def events_tail(
    tenant: Annotated[str, typer.Option(help="The tenant whose events to print, as it sees them.")],
    after: Annotated[int, typer.Option(help="Start after this position (0: the first).")] = 0,
    follow: Annotated[
        bool, typer.Option("--follow/--no-follow", help="Keep printing new events as they come.")
    ] = True,
    format: Annotated[
        str, typer.Option("--format", help="text or json (one object a line).")
    ] = "text",
) -> None:
    """Prints a tenant's events, then each new one as it happens (every second)."""
    if format not in ("text", "json"):
        fail("--format: text or json")
    with contextlib.suppress(KeyboardInterrupt):
        _run(_tail(_settings(), tenant, after, follow, format == "json"))
