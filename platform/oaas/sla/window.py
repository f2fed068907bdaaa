"""The time window a report or an alert looks at."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from oaas.db.types import utcnow
from oaas.errors import ErrorCode, OaasError

DEFAULT_WINDOW = timedelta(hours=24)
MAX_WINDOW = timedelta(days=366)


@dataclass(frozen=True)
class Window:
    since: datetime
    until: datetime


def resolve_window(
    since: datetime | None, until: datetime | None, now: datetime | None = None
) -> Window:
    """The window asked for; by default the 24 hours up to now."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise OaasError(ErrorCode.INVALID, f"{name} must carry a timezone (e.g. Z)", (name,))
    until = until or now or utcnow()
    since = since or until - DEFAULT_WINDOW
    if since >= until:
        raise OaasError(ErrorCode.INVALID, "since must be before until", ("since",))
    if until - since > MAX_WINDOW:
        raise OaasError(ErrorCode.INVALID, "the window may be at most 366 days", ("since",))
    return Window(since=since, until=until)
