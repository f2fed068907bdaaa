"""GraphQL facts on the request's server span: operation name, type, root fields,
and whether anything unexpected went wrong (which makes the request bad for SLIs)."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import FieldNode, OperationDefinitionNode
from opentelemetry import trace
from strawberry.extensions import SchemaExtension

from oaas.graphql.masking import is_unexpected
from oaas.telemetry.sli import OPERATION_ATTRIBUTE, UNEXPECTED_ATTRIBUTE


class RequestTelemetry(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        span = trace.get_current_span()
        if not span.is_recording():
            return
        context = self.execution_context
        document = context.graphql_document
        operation: OperationDefinitionNode | None = None
        if document is not None:
            for definition in document.definitions:
                if isinstance(definition, OperationDefinitionNode) and (
                    context.operation_name is None
                    or (definition.name and definition.name.value == context.operation_name)
                ):
                    operation = definition
                    break
        if operation is not None:
            span.set_attribute("graphql.operation.type", operation.operation.value)
            roots = sorted(
                {
                    selection.name.value
                    for selection in operation.selection_set.selections
                    if isinstance(selection, FieldNode)
                    and not selection.name.value.startswith("__")
                }
            )
            span.set_attribute(OPERATION_ATTRIBUTE, "+".join(roots) or "introspection")
        if context.operation_name:
            span.set_attribute("graphql.operation.name", context.operation_name)
        result = context.result
        errors = getattr(result, "errors", None) or []
        # MaskUnexpectedErrors, listed after this extension, leaves on_operation first
        # (extensions exit in reverse): by now an unexpected error may be masked already.
        if any(
            is_unexpected(error) or (error.extensions or {}).get("code") == "INTERNAL_ERROR"
            for error in errors
        ):
            span.set_attribute(UNEXPECTED_ATTRIBUTE, True)
