"""How domain errors reach the caller: a mutation's userErrors, a query's coded error."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

import strawberry
from graphql import GraphQLError

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
P = TypeVar("P")
P_co = TypeVar("P_co", covariant=True)


class PayloadType(Protocol[P_co]):
    """A `<Name>Payload` class: made from userErrors alone, every result field at its
    default (null, or 0 / false where the schema says non-null)."""

    def __call__(self, *, user_errors: list[UserError]) -> P_co: ...


async def mutate(
    info: Info,
    payload: PayloadType[P],
    work: Callable[[], Awaitable[T]],
    build: Callable[[T], P],
) -> P:
    """Runs one mutation field's work in a savepoint and answers its payload.

    Done: `build` of the work's result. A domain error: the payload with only its
    userErrors, and nothing the work did remains, while the operation's other
    mutation fields still commit (graphql/unit_of_work.py).
    """
    session = info.context.session
    try:
        async with session.begin_nested():
            result = await work()
    except OaasError as error:
        return payload(user_errors=user_errors(error))
    return build(result)


async def answer(work: Awaitable[T]) -> T:
    """A query's domain error as a GraphQL error with its code (and `field`, the
    argument it is about), not an internal error; the field answers null."""
    try:
        return await work
    except OaasError as error:
        extensions: dict[str, object] = {"code": error.code.value}
        if error.field is not None:
            extensions["field"] = list(error.field)
        raise GraphQLError(error.message, extensions=extensions) from error
