"""Engines and the unit of work.

SQLite allows one writer at a time. A pool of writers that each start a deferred
transaction and later try to upgrade their lock fail with "database is locked"
under load (FIELD-NOTES.md), so on SQLite writes go through a second engine with
a single connection whose transactions start with `BEGIN IMMEDIATE`; other
processes wait on the busy timeout. Reads use a pool and WAL lets them run beside
the writer. PostgreSQL uses one pooled engine for both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

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


@dataclass(frozen=True, slots=True)
class RowScope:
    """Which tenants' rows a transaction may touch, for PostgreSQL's row-level security.

    `tenant`: the tenant's own rows; `partner`: its own plus those of merchants
    with an active grant to it; `all`: every row (platform admins, and the
    platform itself looking up a client to authenticate it).
    """

    mode: Literal["tenant", "partner", "all"]
    tenant_id: UUID | None = None


SYSTEM_SCOPE = RowScope("all")

_SET_SCOPE = text(
    "SELECT set_config('oaas.scope', :mode, true), set_config('oaas.tenant_id', :tenant_id, true)"
)


def _postgres_engine(url: str, *, role: str | None, echo: bool) -> AsyncEngine:
    engine = create_async_engine(
        url,
        pool_size=10,
        max_overflow=20,
        pool_pre_ping=True,
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
        self._readers = async_sessionmaker(self.read_engine, expire_on_commit=False)
        self._writers = async_sessionmaker(self.write_engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @asynccontextmanager
    async def session(
        self, *, write: bool, scope: RowScope | None = None
    ) -> AsyncIterator[AsyncSession]:
        """One unit of work: committed if the block succeeds, rolled back if it raises.

        On PostgreSQL the scope is set transaction-locally first, so a pooled
        connection never carries it into the next transaction; without one, row
        level security shows nothing.
        """
        factory = self._writers if write else self._readers
        async with factory() as session:
            try:
                if scope is not None and self.dialect == "postgresql":
                    await session.execute(
                        _SET_SCOPE,
                        {
                            "mode": scope.mode,
                            "tenant_id": str(scope.tenant_id) if scope.tenant_id else "",
                        },
                    )
                yield session
            except BaseException:
                await session.rollback()
                raise
            if write:
                await session.commit()
            else:
                await session.rollback()

    async def ping(self) -> None:
        async with self.read_engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.read_engine.dispose()
        if self.write_engine is not self.read_engine:
            await self.write_engine.dispose()
