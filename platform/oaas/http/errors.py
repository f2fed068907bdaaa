"""The JSON body of every error the gateway answers before GraphQL runs: GraphQL's
error shape, one error with a message and `extensions.code`."""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.responses import Response


def error_body(message: str, code: str) -> bytes:
    """`{"errors": [{"message": ..., "extensions": {"code": ...}}]}`, as UTF-8 JSON."""
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def error_response(
    status: int, message: str, code: str, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        error_body(message, code),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )
