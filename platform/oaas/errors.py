"""Errors a caller can act on: a code, a message and the path of the bad value."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum


class ErrorCode(StrEnum):
    INVALID = "INVALID"
    NOT_FOUND = "NOT_FOUND"
    INVALID_STATE = "INVALID_STATE"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    FORBIDDEN = "FORBIDDEN"
    TAKEN = "TAKEN"
    # A dependency (routing, risk) cannot answer now; nothing changed, retry later.
    UNAVAILABLE = "UNAVAILABLE"


class OaasError(Exception):
    """A domain error: becomes a `userError` on the API, a clear line on the CLI."""

    def __init__(self, code: ErrorCode, message: str, field: Sequence[str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field: tuple[str, ...] | None = tuple(field) if field is not None else None


class ValidationFailed(OaasError):
    """Several bad values at once: every one is reported, nothing is written."""

    def __init__(self, errors: Sequence[OaasError]) -> None:
        first = errors[0]
        super().__init__(first.code, first.message, first.field)
        self.errors = list(errors)


class NotFound(OaasError):
    def __init__(self, message: str, field: Sequence[str] | None = None) -> None:
        super().__init__(ErrorCode.NOT_FOUND, message, field)


class Forbidden(OaasError):
    def __init__(self, message: str, field: Sequence[str] | None = None) -> None:
        super().__init__(ErrorCode.FORBIDDEN, message, field)
