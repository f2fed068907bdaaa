"""Data layer: engine, unit of work, column types, migrations."""

from oaas.db.engine import Database
from oaas.db.types import UTCDateTime, new_id, utcnow

__all__ = ["Database", "UTCDateTime", "new_id", "utcnow"]
