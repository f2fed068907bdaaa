"""Unexpected errors never reach the caller as they are.

A resolver that raises something other than a GraphQL error (a bug, a lost
database) answers `INTERNAL_ERROR` with the request id and the trace id; the
real error is logged with both (strawberry logs it before this runs, while the
request's server span is current, so the log line carries its `trace_id`; see
telemetry/logs.py). Errors we raise on
purpose (FORBIDDEN, FIELD_NOT_SHARED, ...) and GraphQL's own validation errors
pass unchanged.

In production no error suggests a name of the schema either: graphql-core adds
"Did you mean ...?" to errors about unknown fields, arguments, types, input
fields and enum values (in validation and in coercing variables), which would
let a caller without introspection read the schema out name by name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from graphql import GraphQLError
from opentelemetry import trace
from strawberry.extensions import MaskErrors

from oaas.graphql.context import Context


def current_trace_id() -> str | None:
    """The current span's trace id as 32 hex digits (as in `traceresponse`), if any."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


# graphql.pyutils.did_you_mean: " Did you mean " [sub-message] quoted names "?".
# Names never hold a "?", so the first one ends the suggestion (a "Found: ..."
# echo of the caller's input may follow it).
_SUGGESTION = re.compile(r" Did you mean [^?]*\?")


def remove_suggestions(errors: Iterable[GraphQLError]) -> None:
    """Cuts every "Did you mean ...?" out of the messages, in place (cached
    validation errors included: cutting twice changes nothing)."""
    for error in errors:
        if "Did you mean" in error.message:
            error.message = _SUGGESTION.sub("", error.message)


def is_unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


class MaskUnexpectedErrors(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected, error_message="Internal server error")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        context = self.execution_context.context
        request_id = context.request_id if isinstance(context, Context) else None
        return GraphQLError(
            message=self.error_message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=None,
            extensions={
                "code": "INTERNAL_ERROR",
                "requestId": request_id,
                "traceId": current_trace_id(),
            },
        )
