"""INSERT ... ON CONFLICT, which both databases speak but SQLAlchemy builds per dialect."""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def upsert(session: AsyncSession, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into `table` that takes `on_conflict_do_update` / `_do_nothing`.

    One statement where a lookup, a savepoint and an insert were three: the
    conflict is settled by the database under the unique key's lock."""
    return upsert_in(session.get_bind().dialect.name, table)


def upsert_in(dialect: str, table: Table) -> postgresql.Insert | sqlite.Insert:
    """`upsert` for a dialect by name: for statements built once per dialect."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
