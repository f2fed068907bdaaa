"""Reading arguments the same way everywhere: times and order ids."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload
from uuid import UUID

from oaas.graphql.ids import from_global_id


@overload
def as_utc(value: datetime) -> datetime: ...
@overload
def as_utc(value: None) -> None: ...
def as_utc(value: datetime | None) -> datetime | None:
    """DateTime inputs are UTC (contract.graphql): one without an offset is read as UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def order_uuid(global_id: str) -> UUID | None:
    return from_global_id("Order", global_id)
