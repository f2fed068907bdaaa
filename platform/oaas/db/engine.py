"""Engines and the unit of work.

SQLite allows one writer at a time. A pool of writers that each start a deferred
transaction and later try to upgrade their lock fail with "database is locked"
under load (measured: 2 s lock timeouts with 32 writers on a pool of 15), so on SQLite writes go through a second engine with
a single connection whose transactions start with `BEGIN IMMEDIATE`; other
processes wait on the busy timeout. Reads use a pool and WAL lets them run beside
the writer. PostgreSQL uses one pooled engine for both, and a second, smaller one
for the platform's own work across tenants: the scope `all` is honoured only for
the role `oaas_system`, over a login of its own (oaas.db.roles).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from oaas.db.roles import SYSTEM_ROLE
from oaas.db.scoping import SYSTEM_SCOPE, RowScope, ScopedSession
from oaas.settings import Settings

SQLITE_BUSY_TIMEOUT_MS = 10_000
CONNECT_TIMEOUT_SECONDS = 5


def _sqlite_engine(url: str, *, begin: str, pool_size: int) -> AsyncEngine:
    engine = create_async_engine(
        url, pool_size=pool_size, max_overflow=0, pool_timeout=30, pool_pre_ping=False
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver so "begin" below decides.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)

    return engine


_SET_SCOPE = text(
    "SELECT set_config('oaas.scope', :mode, true), set_config('oaas.tenant_id', :tenant_id, true)"
)


def _postgres_engine(
    url: str, *, role: str | None, echo: bool, pool_size: int = 10, max_overflow: int = 20
) -> AsyncEngine:
    # Fail fast when the server does not answer (readiness probes, start-up).
    connect_args: dict[str, Any] = {"timeout": CONNECT_TIMEOUT_SECONDS}
    if role is not None:
        # The connection works as `role`, which owns no table and so is held by
        # row-level security. Set when the session starts, not by a statement: a
        # `SET ROLE` run in the driver's implicit first transaction is undone by that
        # transaction's rollback. When the login is the role itself (oaas.db.roles),
        # SET ROLE NONE or RESET ROLE gain nothing.
        connect_args["server_settings"] = {"role": role}
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        # No ping per checkout: it is a round trip (BEGIN; ROLLBACK) on every unit of
        # work. A connection the server dropped fails its statement instead, which
        # SQLAlchemy detects as a disconnect and answers by emptying the pool; the
        # request fails once (500, retryable) rather than every request paying.
        pool_pre_ping=False,
        pool_recycle=1800,
        echo=echo,
        connect_args=connect_args,
    )


async def _apply_scope(session: AsyncSession, scope: RowScope) -> None:
    session.info["row_scope"] = scope
    if session.get_bind().dialect.name == "postgresql":
        # On the connection, not through the ORM session: a plain statement, and the
        # ORM's execution path costs more than the statement itself (oaas.db.prepared).
        connection = await session.connection()
        await connection.execute(
            _SET_SCOPE,
            {"mode": scope.mode, "tenant_id": str(scope.tenant_id) if scope.tenant_id else ""},
        )


@asynccontextmanager
async def acting_for(session: AsyncSession, scope: RowScope) -> AsyncIterator[None]:
    """Runs the block under another scope in the same transaction, then restores the caller's.

    For the platform's own bookkeeping on a tenant's behalf (a partner ships an
    order: the merchant's stock and delivery estimates change), never for
    anything the caller reads back.
    """
    previous: RowScope = session.info["row_scope"]
    await _apply_scope(session, scope)
    try:
        yield
    except BaseException:
        session.info["row_scope"] = previous
        # An aborted transaction refuses the restore; the first error is the one to see.
        with contextlib.suppress(Exception):
            await _apply_scope(session, previous)
        raise
    await _apply_scope(session, previous)


@asynccontextmanager
async def _ended(session: AsyncSession, *, write: bool) -> AsyncIterator[None]:
    """The end of a unit of work: committed if the block succeeds and writes,
    rolled back if it only reads or raises."""
    try:
        yield
    except BaseException:
        await session.rollback()
        raise
    if write:
        await session.commit()
    else:
        await session.rollback()


class Database:
    """The engines of one database and the sessions made from them.

    `role`: on PostgreSQL, the role every connection works as from its start
    (see migration 0004); None keeps the login role's own privileges. Sessions of
    the scope `all` go to `system_url` as `system_role` (by default the same
    login and role: then nothing sees more than the login does).
    """

    def __init__(
        self,
        url: str,
        *,
        role: str | None = None,
        system_url: str | None = None,
        system_role: str | None = None,
        echo: bool = False,
    ) -> None:
        self.url = url
        self.dialect = make_url(url).get_backend_name()
        self.role = role if self.dialect == "postgresql" else None
        if self.dialect == "sqlite":
            self.read_engine = _sqlite_engine(url, begin="BEGIN", pool_size=8)
            self.write_engine = _sqlite_engine(url, begin="BEGIN IMMEDIATE", pool_size=1)
            self.system_engine = self.read_engine
            self._readers = self._sessions(self.read_engine)
            self._writers = self._sessions(self.write_engine)
            self._system_readers, self._system_writers = self._readers, self._writers
            return
        engine = _postgres_engine(url, role=self.role, echo=echo)
        self.read_engine = self.write_engine = engine
        self._readers = self._writers = self._sessions(engine)
        system_url = system_url or url
        if (system_url, system_role) == (url, self.role):
            self.system_engine = engine
            self._system_readers = self._system_writers = self._readers
            return
        # Token lookups, the intake worker, SLI flushes and platform admins: fewer at once.
        self.system_engine = _postgres_engine(
            system_url, role=system_role, echo=echo, pool_size=5, max_overflow=10
        )
        self._system_readers = self._system_writers = self._sessions(self.system_engine)

    @classmethod
    def for_application(cls, settings: Settings) -> Database:
        """Tenants' work as `settings.app_role` over OAAS_DATABASE_URL, the platform's
        own as oaas_system over OAAS_SYSTEM_DATABASE_URL (oaas.db.roles)."""
        return cls(
            settings.database_url,
            role=settings.app_role,
            system_url=settings.system_url,
            system_role=SYSTEM_ROLE if settings.app_role else None,
        )

    @staticmethod
    def _sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
        return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=ScopedSession)

    def _factory(self, *, write: bool, scope: RowScope) -> async_sessionmaker[AsyncSession]:
        if scope.mode == "all":
            return self._system_writers if write else self._system_readers
        return self._writers if write else self._readers

    @property
    def engines(self) -> tuple[AsyncEngine, ...]:
        """Each engine once."""
        found = (self.read_engine, self.write_engine, self.system_engine)
        return tuple({id(engine): engine for engine in found}.values())

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @asynccontextmanager
    async def session(self, *, write: bool, scope: RowScope) -> AsyncIterator[AsyncSession]:
        """One unit of work: committed if the block succeeds, rolled back if it raises.

        Every statement is limited to what `scope` may see (oaas.db.scoping). On
        PostgreSQL the scope is also set transaction-locally for row-level
        security, so a pooled connection never carries it into the next
        transaction.
        """
        factory = self._factory(write=write, scope=scope)
        async with factory(info={"row_scope": scope}) as session, _ended(session, write=write):
            if self.dialect == "postgresql":
                await _apply_scope(session, scope)
            yield session

    @property
    def reads_and_writes_share_an_engine(self) -> bool:
        return self.read_engine is self.write_engine

    @asynccontextmanager
    async def request_transaction(self) -> AsyncIterator[RequestTransaction]:
        """The transaction of one request; whatever is left open at its end is rolled back."""
        transaction = RequestTransaction(self)
        try:
            yield transaction
        finally:
            await transaction.close()

    async def ping(self) -> None:
        async with self.read_engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        for engine in self.engines:
            await engine.dispose()


class RequestTransaction:
    """One transaction for a whole request wherever the database allows it.

    The bearer check's client lookup (in the scope of the token's own tenant) and
    then the operation's unit of work (under the caller's scope) run in the same
    transaction: a separate one cost a session, a BEGIN and a ROLLBACK, about
    0.5 ms of CPU on every request. An operation that needs other connections
    lets the lookup's go and takes its own transaction: on SQLite a write (the one
    writer connection), on PostgreSQL a platform admin's (the system login).
    """

    def __init__(self, database: Database) -> None:
        self._database = database
        self._session: AsyncSession | None = None
        self._factory: async_sessionmaker[AsyncSession] | None = None
        # The scope the open transaction carries (RowScope equality is mode and tenant,
        # exactly what `_apply_scope` sets on PostgreSQL).
        self._scope_set: RowScope | None = None

    @asynccontextmanager
    async def lookup(self, scope: RowScope = SYSTEM_SCOPE) -> AsyncIterator[AsyncSession]:
        """A session for the platform's own lookups before the caller is known.

        `scope`: what the lookup may read. The bearer check passes the tenant its
        verified token names; a merchant's operation runs in that very scope, so
        it does not have to be set a second time.
        """
        factory = self._database._factory(write=False, scope=scope)
        if self._factory is not factory:
            await self.close()
        if self._session is None:
            self._session = factory(info={"row_scope": scope})
            self._factory = factory
        if self._scope_set != scope:
            await _apply_scope(self._session, scope)
            self._scope_set = scope
        yield self._session

    @asynccontextmanager
    async def unit_of_work(self, *, write: bool, scope: RowScope) -> AsyncIterator[AsyncSession]:
        """`Database.session`, in the lookup's transaction when there is one."""
        if self._factory is not self._database._factory(write=write, scope=scope):
            await self.close()
        session = self._session
        if session is None:
            async with self._database.session(write=write, scope=scope) as own:
                yield own
            return
        async with _ended(session, write=write):
            if self._scope_set == scope:
                session.info["row_scope"] = scope  # the transaction carries it already
            else:
                await _apply_scope(session, scope)
            self._scope_set = None  # the transaction ends with this unit of work
            yield session

    async def close(self) -> None:
        """Ends the request: whatever the unit of work left open is rolled back."""
        self._scope_set = None
        self._factory = None
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()
