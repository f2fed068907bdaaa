"""DateTime and Decimal, read strictly: a value the platform cannot use exactly is refused
where it enters, with a message naming the rule, before any resolver runs."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.types.scalar import ScalarDefinition

from oaas.db.types import SUPPORTED_INSTANTS, supported_instant
from oaas.orders.money import AMOUNT_RULE, parse_amount
from oaas.text import quote

# Longer than any ISO 8601 time with microseconds and an offset.
MAX_DATETIME_LENGTH = 64


def parse_datetime(value: Any) -> datetime:
    """An ISO 8601 time as an aware UTC datetime (one without an offset is UTC)."""
    if isinstance(value, str) and len(value) <= MAX_DATETIME_LENGTH:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and (instant := supported_instant(parsed)) is not None:
            return instant
    raise GraphQLError(
        f"{quote(value)} is not a DateTime: an ISO 8601 time such as "
        f'"2026-11-28T08:00:00Z", {SUPPORTED_INSTANTS}'
    )


def parse_decimal(value: Any) -> Decimal:
    """A Decimal from its text, or from an integer (exact); never from a float.

    A JSON number with a fraction has been rounded to a float before it gets here
    (19.999999999999999 arrives as 20.0), so it cannot be taken as exact."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    amount = parse_amount(value) if isinstance(value, str) else None
    if amount is None:
        raise GraphQLError(f"{quote(value)} is not a Decimal: give {AMOUNT_RULE}")
    return amount


DATETIME = strawberry.scalar(
    name="DateTime",
    description=f"An ISO 8601 time, e.g. 2026-11-28T08:00:00Z; read as UTC when it has no "
    f"offset, answered in UTC. Accepted {SUPPORTED_INSTANTS}.",
    serialize=datetime.isoformat,
    parse_value=parse_datetime,
)
DECIMAL = strawberry.scalar(
    name="Decimal",
    description=f"An exact decimal: {AMOUNT_RULE} (at most 20 digits either side of the "
    "point). An integer is accepted too; a number with a fraction is not (JSON has rounded "
    "it already).",
    serialize=str,
    parse_value=parse_decimal,
)
SCALARS: dict[object, ScalarDefinition] = {datetime: DATETIME, Decimal: DECIMAL}
