"""Opaque global IDs: base64 of `<Type>:<uuid>`, as Relay clients expect."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from uuid import UUID

from oaas.db.types import supported_instant


def to_global_id(type_name: str, value: UUID) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{value}".encode()).decode().rstrip("=")


def from_global_id(type_name: str, global_id: str) -> UUID | None:
    """The UUID inside, or None when the ID is malformed or names another type."""
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        decoded = base64.urlsafe_b64decode(padded.encode("ascii")).decode()
        prefix, _, raw = decoded.partition(":")
        if prefix != type_name:
            return None
        return UUID(raw)
    except (ValueError, UnicodeError, binascii.Error):
        return None


def encode_cursor(*parts: str) -> str:
    return base64.urlsafe_b64encode("\x1f".join(parts).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, count: int) -> list[str] | None:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        parts = base64.urlsafe_b64decode(padded.encode("ascii")).decode().split("\x1f")
    except (ValueError, UnicodeError, binascii.Error):
        return None
    return parts if len(parts) == count else None


def encode_keyset_cursor(at: datetime, row_id: UUID) -> str:
    """A cursor after the row at (`at`, `row_id`) in a list ordered by time, then id."""
    return encode_cursor(at.isoformat(), str(row_id))


def decode_keyset_cursor(cursor: str) -> tuple[datetime, UUID] | None:
    """What encode_keyset_cursor put in, or None for a cursor it did not make (an instant
    without an offset, or outside the supported range, is one it never makes)."""
    parts = decode_cursor(cursor, 2)
    if parts is None:
        return None
    try:
        at, row_id = datetime.fromisoformat(parts[0]), UUID(parts[1])
    except ValueError:
        return None
    if at.tzinfo is None:
        return None
    instant = supported_instant(at)
    return (instant, row_id) if instant is not None else None
