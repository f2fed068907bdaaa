"""The PostgreSQL roles the application works as, and the logins behind them.

Row-level security (migrations 0004, 0009, 0010) knows two roles, neither of
which owns a table, bypasses row-level security or may make roles:

- `oaas_app`: tenants' own work (the requests of merchants and partners). Its
  scope is one tenant's or one partner's; setting the scope `all` shows it nothing.
- `oaas_system`: the platform's own work across tenants (token lookups, the
  intake worker, SLI recording, manifests, platform admins): the only role the
  scope `all` shows every row to.

A caller able to run SQL on a connection can always `RESET ROLE` to the
connection's login, so the wall is only as high as the login: each role gets
a login of its own that is nothing more (OAAS_DATABASE_URL for `oaas_app`,
OAAS_SYSTEM_DATABASE_URL for `oaas_system`). `oaas db upgrade` makes those
logins when its own login may make roles (`provision_logins`), and `oaas serve`
checks what each login could reach (`login_problems`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from oaas.settings import Settings

APP_ROLE = "oaas_app"
SYSTEM_ROLE = "oaas_system"
# A login this module makes is nothing more than a member of its role. It inherits the
# role's table privileges (a readiness check reads `alembic_version` as the login), but
# as itself it is not the role: the scope `all` is honoured for `oaas_system` by name.
_LOGIN_ATTRIBUTES = "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION"


@dataclass(frozen=True, slots=True)
class Login:
    """A login the application connects with (`url`), and the role it works as."""

    setting: str
    url: str
    role: str

    @property
    def name(self) -> str | None:
        return make_url(self.url).username

    @property
    def password(self) -> str | None:
        return make_url(self.url).password


def application_logins(settings: Settings) -> tuple[Login, Login]:
    """The tenant login, then the system login."""
    system = "OAAS_SYSTEM_DATABASE_URL"
    if settings.system_database_url is None:
        system += " (default OAAS_DATABASE_URL)"
    return (
        Login("OAAS_DATABASE_URL", settings.database_url, APP_ROLE),
        Login(system, settings.system_url, SYSTEM_ROLE),
    )


class LoginError(Exception):
    """A login the application needs is missing something the migrating login may not give."""

    def __init__(self, *lines: str) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


async def _format(conn: AsyncConnection, template: str, *values: str) -> str:
    """A statement with identifiers and literals quoted by the server (`format`)."""
    names = [f"v{i}" for i in range(len(values))]
    placeholders = "".join(f", CAST(:{name} AS text)" for name in names)
    statement = text(f"SELECT format(:template{placeholders})")
    quoted = await conn.execute(
        statement, {"template": template, **dict(zip(names, values, strict=True))}
    )
    return str(quoted.scalar_one())


async def _missing(conn: AsyncConnection, login: Login, name: str) -> list[tuple[str, str]]:
    """(template, what it does) of each statement the login still needs."""
    row = (
        await conn.execute(
            text(
                "SELECT rolcanlogin, pg_has_role(rolname, :role, 'MEMBER') AS member "
                "FROM pg_roles WHERE rolname = :name"
            ),
            {"name": name, "role": login.role},
        )
    ).one_or_none()
    password = " PASSWORD %L" if login.password is not None else ""
    needed: list[tuple[str, str]] = []
    if row is None:
        needed.append((f"CREATE ROLE %I {_LOGIN_ATTRIBUTES}{password}", "created"))
    elif not row.rolcanlogin:
        needed.append((f"ALTER ROLE %I LOGIN{password}", "may log in"))
    if name != login.role and (row is None or not row.member):
        needed.append((f"GRANT {login.role} TO %I", f"member of {login.role}"))
    return needed


async def provision_logins(owner: AsyncEngine, logins: Sequence[Login]) -> list[str]:
    """Makes each login able to connect and work as its role; answers what changed.

    Runs as the migrating login. A login that is that very login (one URL for
    everything, as in development) is left alone: `login_problems` says what it
    costs; so is a login named twice, which stays what its first role makes it
    (the tenant login never becomes a member of `oaas_system`). A password is set
    only on a login made or allowed to log in here; an operator who manages a
    login keeps managing it. Raises `LoginError` with the statements to run when
    a login lacks something this login may not give.
    """
    changes: list[str] = []
    refused: list[str] = []
    async with owner.connect() as conn:
        me = str((await conn.execute(text("SELECT session_user"))).scalar_one())
        seen = {me}
        for login in logins:
            name = login.name
            if name is None or name in seen:
                continue
            seen.add(name)
            for template, outcome in await _missing(conn, login, name):
                values = (name, login.password) if "%L" in template else (name,)
                statement = await _format(conn, template, *values)
                try:
                    await conn.execute(text(statement))
                    await conn.commit()
                except DBAPIError as exc:
                    await conn.rollback()
                    if any(t == template for t, _ in await _missing(conn, login, name)):
                        shown = template.replace("%I", name).replace("%L", "'...'")
                        reason = (str(getattr(exc, "orig", exc)).splitlines() or [""])[0]
                        refused.append(f"  {shown};  -- {login.setting}: {reason}")
                    # else another process migrating this cluster made it meanwhile
                    continue
                changes.append(f"login {name}: {outcome}")
        await conn.rollback()
    if refused:
        raise LoginError(
            f"the application's logins are not ready and {me} may not make them; "
            "as a role with CREATEROLE, run:",
            *refused,
        )
    return changes


async def login_problems(engine: AsyncEngine, login: Login) -> list[str]:
    """What a caller running SQL on this login's connections could reach beyond its role.

    Asked over the login's own connection (as the application makes it), through
    every role the login is a member of, itself included. Raises `LoginError` when
    the login cannot connect as its role at all.
    """
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT session_user AS login, r.rolname, r.rolsuper, r.rolbypassrls, "
                        "r.rolcreaterole, EXISTS (SELECT FROM pg_class c WHERE "
                        "c.relowner = r.oid AND c.relrowsecurity) AS owner "
                        "FROM pg_roles r WHERE pg_has_role(session_user, r.oid, 'MEMBER') "
                        "ORDER BY r.rolname"
                    )
                )
            ).all()
    except (OSError, DBAPIError) as exc:
        reason = (str(getattr(exc, "orig", exc)).splitlines() or [""])[0]
        raise LoginError(f"{login.setting} cannot work as {login.role}: {reason}") from exc
    problems: list[str] = []
    if any(row.rolsuper and row.rolname == row.login for row in rows):
        rows = [row for row in rows if row.rolname == row.login]  # a member of every role
    for row in rows:
        powers = [
            power
            for power, has in (
                ("is a superuser", row.rolsuper),
                ("bypasses row-level security", row.rolbypassrls),
                ("may make roles", row.rolcreaterole),
                ("owns the tables (and may turn row-level security off)", row.owner),
                ("sees every tenant", login.role == APP_ROLE and row.rolname == SYSTEM_ROLE),
            )
            if has
        ]
        if powers:
            who = (
                f"{row.login},"
                if row.rolname == row.login
                else f"{row.login}, a member of {row.rolname},"
            )
            problems.append(
                f"{login.setting} logs in as {who} which {' and '.join(powers)}: "
                "RESET ROLE would undo row-level security"
            )
    return problems
