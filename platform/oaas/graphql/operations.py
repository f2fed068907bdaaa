"""A document with several operations needs `operationName` (GraphQL spec,
GetOperation). strawberry would run the first one instead; this refuses the
request before anything runs, as a request error."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import ExecutionResult, GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension


class RequireOperationName(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        # The name the request gave; `operation_name` falls back to the first operation's.
        provided = getattr(context, "_provided_operation_name", None)
        document = context.graphql_document
        if provided is None and document is not None:
            operations = sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)
            if operations > 1:
                context.result = ExecutionResult(
                    data=None,
                    errors=[
                        GraphQLError(
                            "Must provide operation name if query contains multiple operations."
                        )
                    ],
                )
        yield
