"""INSERT ... ON CONFLICT, which both databases speak but SQLAlchemy builds per dialect."""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite


def upsert_in(dialect: str, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into `table` for a dialect by name, taking `on_conflict_do_update` /
    `_do_nothing`: built once per dialect by the statements that use it.

    One statement where a lookup, a savepoint and an insert were three: the
    conflict is settled by the database under the unique key's lock."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
