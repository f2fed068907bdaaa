"""Query cost and per-tenant throttling, before anything runs.

Before execution: the requested cost of the operation (static analysis with
the variables). Over the plan's `max_query_cost`, QUERY_REJECTED at once; more
than the tenant's bucket holds, THROTTLED with HTTP 429 and Retry-After, and
nothing runs. After execution the bucket is settled at the actual cost: the
unused part (pages shorter than asked for) is refunded, and lists longer than
their declared size are charged. Every response carries
`extensions.cost` in Shopify's shape.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from typing import Any

from graphql import ExecutionResult, GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension

from oaas.graphql.context import Context
from oaas.graphql.cost import operation_cost
from oaas.graphql.fragments import fragments_of
from oaas.graphql.limits import REJECTED, Limits, oversized_lists

THROTTLED = "THROTTLED"


def _operation(execution_context: Any) -> OperationDefinitionNode | None:
    document = execution_context.graphql_document
    if document is None:
        return None
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and (
            execution_context.operation_name is None
            or (definition.name and definition.name.value == execution_context.operation_name)
        ):
            return definition
    return None


def make_cost_extension(limits: Limits) -> type[SchemaExtension]:
    class CostAndThrottle(SchemaExtension):
        cost: dict[str, Any] | None = None

        async def on_execute(self) -> AsyncIterator[None]:
            context = self.execution_context.context
            assert isinstance(context, Context)
            operation = _operation(self.execution_context)
            if operation is None:
                yield
                return
            variables = self.execution_context.variables or {}
            too_long = next(oversized_lists(variables, limits.max_list_items), None)
            if too_long is not None:
                self._refuse(f"{too_long}; the limit is {limits.max_list_items}", REJECTED)
                yield
                return
            schema = self.execution_context.schema._schema
            assert self.execution_context.graphql_document is not None
            fragments = fragments_of(self.execution_context.graphql_document)
            requested = operation_cost(
                schema, operation, fragments, variables, max_page=limits.max_page
            )
            plan = context.plan
            if requested > plan.max_query_cost:
                self._status(requested, 0, None, context)
                self._refuse(
                    f"query cost {requested} exceeds the single-query limit of {plan.max_query_cost}",
                    REJECTED,
                )
                yield
                return
            take = await context.buckets.take(str(context.principal.tenant_id), plan, requested)
            if not take.allowed:
                self._status(requested, 0, take.available, context)
                wait = math.ceil((requested - take.available) / plan.restore_rate)
                context.response.status_code = 429
                context.response.headers["Retry-After"] = str(max(1, wait))
                self._refuse(
                    f"throttled: the query costs {requested} and {math.floor(take.available)} "
                    f"of {plan.bucket_size} points are available; retry in {max(1, wait)} s",
                    THROTTLED,
                )
                yield
                return
            yield
            result = self.execution_context.result
            data = getattr(result, "data", None)
            actual = operation_cost(
                schema,
                operation,
                fragments,
                variables,
                max_page=limits.max_page,
                data=data,
                actual=True,
            )
            available = take.available
            if actual != requested:
                # Pages shorter than asked for are refunded; lists longer than their
                # declared size are paid for now, so no answer is free.
                settled = await context.buckets.take(
                    str(context.principal.tenant_id), plan, actual - requested, settle=True
                )
                available = settled.available
            self._status(requested, actual, available, context)

        def _refuse(self, message: str, code: str) -> None:
            self.execution_context.result = ExecutionResult(
                data=None, errors=[GraphQLError(message, extensions={"code": code})]
            )

        def _status(
            self, requested: int, actual: int, available: float | None, context: Context
        ) -> None:
            plan = context.plan
            self.cost = {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": {
                    "maximumAvailable": float(plan.bucket_size),
                    "currentlyAvailable": math.floor(
                        available if available is not None else plan.bucket_size
                    ),
                    "restoreRate": float(plan.restore_rate),
                },
            }

        def get_results(self) -> dict[str, Any]:
            return {"cost": self.cost} if self.cost is not None else {}

    return CostAndThrottle
