"""Column types and key generation shared by every table."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import uuid_utils.compat as uuid_compat
from sqlalchemy import DateTime, Dialect
from sqlalchemy.types import TypeDecorator


def new_id() -> UUID:
    """A UUIDv7: time-ordered, so new rows append to the end of the primary key index."""
    value: UUID = uuid_compat.uuid7()
    return value


def utcnow() -> datetime:
    return datetime.now(UTC)


# The instants the platform takes as input. Python's datetime ends at years 1 and 9999:
# converting an instant near those ends to UTC overflows, and so does a report stepping
# back from `until` (its default window, the fulfilment time: a few years at most). A range
# well inside datetime's leaves room for both.
EARLIEST_INSTANT = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_INSTANT = datetime(9000, 1, 1, tzinfo=UTC)  # excluded
SUPPORTED_INSTANTS = (
    f"from {EARLIEST_INSTANT:%Y-%m-%dT%H:%M:%SZ} "
    f"up to (not including) {LATEST_INSTANT:%Y-%m-%dT%H:%M:%SZ}"
)


def supported_instant(value: datetime) -> datetime | None:
    """`value` in UTC (one without an offset is read as UTC), or None when it lies outside
    EARLIEST_INSTANT..LATEST_INSTANT."""
    try:
        utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        return None
    return utc if EARLIEST_INSTANT <= utc < LATEST_INSTANT else None


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on both databases; SQLite stores it naive and gets it back aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: pass a timezone-aware UTC time")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
