"""userErrors: how domain errors reach the caller of a mutation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import strawberry

from oaas.errors import OaasError, ValidationFailed
from oaas.graphql.context import Info


@strawberry.type
class UserError:
    field: list[str] | None
    message: str
    code: str


def user_errors(error: OaasError) -> list[UserError]:
    errors = error.errors if isinstance(error, ValidationFailed) else [error]
    return [
        UserError(
            field=list(e.field) if e.field is not None else None,
            message=e.message,
            code=e.code.value,
        )
        for e in errors
    ]


T = TypeVar("T")


async def run(info: Info, work: Callable[[], Awaitable[T]]) -> T | list[UserError]:
    """Run one mutation field in a savepoint: on a domain error, nothing it did remains."""
    session = info.context.session
    try:
        async with session.begin_nested():
            return await work()
    except OaasError as error:
        return user_errors(error)
