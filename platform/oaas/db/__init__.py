"""Data layer: engine, unit of work, column types, migrations."""

from oaas.db.engine import Database, acting_for
from oaas.db.prepared import PreparedQuery, run_insert
from oaas.db.scoping import (
    SYSTEM_SCOPE,
    EntityTable,
    RowScope,
    UnscopedStatementError,
    Visibility,
    entity_table,
    visibility_info,
)
from oaas.db.types import UTCDateTime, new_id, utcnow

__all__ = [
    "SYSTEM_SCOPE",
    "Database",
    "EntityTable",
    "PreparedQuery",
    "RowScope",
    "UTCDateTime",
    "UnscopedStatementError",
    "Visibility",
    "acting_for",
    "entity_table",
    "new_id",
    "run_insert",
    "utcnow",
    "visibility_info",
]
