"""Reading arguments the same way everywhere: times, order ids, and query errors."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import TypeVar, overload
from uuid import UUID

from graphql import GraphQLError

from oaas.errors import OaasError
from oaas.graphql.ids import from_global_id

T = TypeVar("T")


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


async def answer(work: Awaitable[T]) -> T:
    """A query's domain error as a GraphQL error with its code, not an internal error."""
    try:
        return await work
    except OaasError as error:
        extensions: dict[str, object] = {"code": error.code.value}
        if error.field is not None:
            extensions["field"] = list(error.field)
        raise GraphQLError(error.message, extensions=extensions) from error
