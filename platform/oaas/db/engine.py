"""Engines and the unit of work.

SQLite allows one writer at a time. A pool of writers that each start a deferred
transaction and later try to upgrade their lock fail with "database is locked"
under load (FIELD-NOTES.md), so on SQLite writes go through a second engine with
a single connection whose transactions start with `BEGIN IMMEDIATE`; other
processes wait on the busy timeout. Reads use a pool and WAL lets them run beside
the writer. PostgreSQL uses one pooled engine for both.
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

from oaas.db.scoping import SYSTEM_SCOPE, RowScope, ScopedSession

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


def _postgres_engine(url: str, *, role: str | None, echo: bool) -> AsyncEngine:
    engine = create_async_engine(
        url,
        pool_size=10,
        max_overflow=20,
        # No ping per checkout: it is a round trip (BEGIN; ROLLBACK) on every unit of
        # work. A connection the server dropped fails its statement instead, which
        # SQLAlchemy detects as a disconnect and answers by emptying the pool; the
        # request fails once (500, retryable) rather than every request paying.
        pool_pre_ping=False,
        pool_recycle=1800,
        echo=echo,
        # Fail fast when the server does not answer (readiness probes, start-up).
        connect_args={"timeout": CONNECT_TIMEOUT_SECONDS},
    )
    if role is not None:

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # From here on the connection has the privileges of `role`, which owns
            # no table and so is held by row-level security.
            cursor = dbapi_connection.cursor()
            cursor.execute(f'SET ROLE "{role}"')
            cursor.close()

    return engine


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

    `role`: on PostgreSQL, the role every connection switches to (see
    migration 0004); None keeps the login role's own privileges.
    """

    def __init__(self, url: str, *, role: str | None = None, echo: bool = False) -> None:
        self.url = url
        self.dialect = make_url(url).get_backend_name()
        self.role = role if self.dialect == "postgresql" else None
        if self.dialect == "sqlite":
            self.read_engine = _sqlite_engine(url, begin="BEGIN", pool_size=8)
            self.write_engine = _sqlite_engine(url, begin="BEGIN IMMEDIATE", pool_size=1)
        else:
            engine = _postgres_engine(url, role=self.role, echo=echo)
            self.read_engine = self.write_engine = engine
        self._readers = async_sessionmaker(
            self.read_engine, expire_on_commit=False, sync_session_class=ScopedSession
        )
        self._writers = async_sessionmaker(
            self.write_engine, expire_on_commit=False, sync_session_class=ScopedSession
        )

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
        factory = self._writers if write else self._readers
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
        await self.read_engine.dispose()
        if self.write_engine is not self.read_engine:
            await self.write_engine.dispose()


class RequestTransaction:
    """One transaction for a whole request wherever the database allows it.

    The bearer check's client lookup (in the scope of the token's own tenant) and
    then the operation's unit of work (under the caller's scope) run in the same
    transaction: a separate one cost a session, a BEGIN and a ROLLBACK, about
    0.5 ms of CPU on every request. On SQLite writes go to the one writer
    connection, so a writing operation lets the lookup's reader go and takes its
    own transaction there; reads stay in the lookup's.
    """

    def __init__(self, database: Database) -> None:
        self._database = database
        self._session: AsyncSession | None = None
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
        if self._session is None:
            self._session = self._database._readers(info={"row_scope": scope})
        if self._scope_set != scope:
            await _apply_scope(self._session, scope)
            self._scope_set = scope
        yield self._session

    @asynccontextmanager
    async def unit_of_work(self, *, write: bool, scope: RowScope) -> AsyncIterator[AsyncSession]:
        """`Database.session`, in the lookup's transaction when there is one."""
        if write and not self._database.reads_and_writes_share_an_engine:
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
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()
