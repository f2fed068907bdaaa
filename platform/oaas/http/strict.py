"""Bad requests to `/graphql` answer 4xx with a JSON body, never 5xx.

strawberry's view answers its own refusals (malformed JSON, wrong content type,
a mutation over GET, ...) in plain text, and fails with 500 on a JSON body that
is not an object, on input nested deeper than the stack, or on integers over
Python's digit limit. This subclass makes all of those 4xx with GraphQL's error
shape, and answers a request error (the document or the variables refused
before execution: `data` null and errors without a path or a code) with 400,
as the GraphQL-over-HTTP spec does.
"""

from __future__ import annotations

import json
import math
from typing import Any

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData

from oaas.graphql.context import Context
from oaas.graphql.strings import first_unstorable
from oaas.http.errors import error_response

_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE"}


class RequestRefused(HTTPException):
    """A refusal with a GraphQL error code of its own."""

    def __init__(self, status_code: int, reason: str, code: str) -> None:
        super().__init__(status_code, reason)
        self.code = code


def _refusal(status: int, message: str, code: str | None = None) -> Response:
    code = code or _CODES.get(status, "BAD_REQUEST")
    headers = {"Allow": "GET, POST"} if status == 405 else None
    return error_response(status, message, code, headers)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number out of range: {text[:20]}")
    return value


def _no_constant(text: str) -> float:
    raise ValueError(f"{text} is not JSON")


def _is_request_error(data: GraphQLHTTPResponse) -> bool:
    errors: list[dict[str, Any]] = list(data.get("errors") or [])  # type: ignore[arg-type]
    return (
        data.get("data") is None
        and bool(errors)
        and all("path" not in e and "code" not in (e.get("extensions") or {}) for e in errors)
    )


class StrictGraphQL(GraphQL[Context, None]):
    """strawberry's ASGI view, refusing bad requests as above."""

    # Lexing is pure Python (about 0.2 ms a KB here): a document over this many
    # characters is refused before it is parsed. Values belong in variables.
    max_document_chars = 32_768

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            response = await self.run(Request(scope, receive))
        except HTTPException as e:
            code = e.code if isinstance(e, RequestRefused) else None
            response = _refusal(e.status_code, e.reason, code)
        await response(scope, receive, send)

    def decode_json(self, data: str | bytes) -> object:
        try:
            value = json.loads(data, parse_float=_finite, parse_constant=_no_constant)
        except (ValueError, RecursionError) as e:
            # ValueError covers bad JSON, bad UTF-8, non-finite numbers and
            # integers over the digit limit; RecursionError, nesting too deep.
            raise HTTPException(400, "Unable to parse request body as JSON") from e
        if not isinstance(value, (dict, list)):
            raise HTTPException(400, "The request must be a JSON object")
        return value

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        parsed = await super().parse_http_body(request)
        for item in parsed if isinstance(parsed, list) else [parsed]:
            if not isinstance(item.operation_name, (str, type(None))):
                raise HTTPException(400, "The `operationName` must be a string or null")
            if isinstance(item.query, str) and len(item.query) > self.max_document_chars:
                raise RequestRefused(
                    400,
                    f"the query document has {len(item.query):,} characters; the limit is "
                    f"{self.max_document_chars:,}: send values as variables",
                    "QUERY_REJECTED",
                )
            reason = first_unstorable([item.query, item.operation_name, item.variables])
            if reason is not None:
                raise HTTPException(400, f"A string in the request {reason}")
        return parsed

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        if (
            isinstance(response_data, dict)
            and response.status_code == 200
            and _is_request_error(response_data)
        ):
            response.status_code = 400
        return response
