"""Data layer: engine, unit of work, column types, migrations."""

from oaas.db.engine import SYSTEM_SCOPE, Database, RowScope
from oaas.db.types import UTCDateTime, new_id, utcnow

__all__ = ["SYSTEM_SCOPE", "Database", "RowScope", "UTCDateTime", "new_id", "utcnow"]
