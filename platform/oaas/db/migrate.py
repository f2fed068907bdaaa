"""Alembic, driven from code: the migrations ship inside the package."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_PACKAGE = "oaas.db.migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files(MIGRATIONS_PACKAGE)))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the package ships no migrations"
    return head


@dataclass(frozen=True)
class MigrationState:
    current: str | None
    head: str

    @property
    def is_current(self) -> bool:
        return self.current == self.head


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def migration_state(engine: AsyncEngine) -> MigrationState:
    async with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            # Read as the login role: the app role is granted its rights by a
            # migration, so a database that is behind may not let it look.
            await conn.execute(text("SET LOCAL ROLE NONE"))
        current = await conn.run_sync(_current)
    return MigrationState(current=current, head=head_revision())


def _run(connection: Connection, action: str, revision: str) -> None:
    config = alembic_config(connection)
    runner: Any = command.upgrade if action == "upgrade" else command.downgrade
    runner(config, revision)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> MigrationState:
    async with engine.begin() as conn:
        await conn.run_sync(_run, "upgrade", revision)
    return await migration_state(engine)


async def downgrade(engine: AsyncEngine, revision: str) -> MigrationState:
    async with engine.begin() as conn:
        await conn.run_sync(_run, "downgrade", revision)
    return await migration_state(engine)
