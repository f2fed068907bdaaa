"""Errors a caller can act on: a code, a message and the path of the bad value.

Validators collect every problem they find in a `Problems` collector, each named by
its path: a tuple of the API's field names (camelCase), list indices, and `Key`s for
text the caller chose as a key (a region code, an operation name). The API shows a
path as a userError's `field`; a manifest shows it dotted in snake_case
(`dotted_path`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum

from oaas.text import shorten


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

    def __init__(self, errors: Sequence[OaasError], problems: Sequence[Problem] = ()) -> None:
        first = errors[0]
        super().__init__(first.code, first.message, first.field)
        self.errors = list(errors)
        # The same problems as collected, when they were: paths as data, bare messages.
        self.problems = list(problems)


class NotFound(OaasError):
    def __init__(self, message: str, field: Sequence[str] | None = None) -> None:
        super().__init__(ErrorCode.NOT_FOUND, message, field)


class Forbidden(OaasError):
    def __init__(self, message: str, field: Sequence[str] | None = None) -> None:
        super().__init__(ErrorCode.FORBIDDEN, message, field)


class Key(str):
    """The caller's own text used as a key in a path (a region code, an operation name, a
    sku): shown as given, cut short, never renamed."""

    __slots__ = ()


PathPart = str | int
Path = tuple[PathPart, ...]


def field_of(path: Path) -> tuple[str, ...]:
    """`path` as a userError's `field`."""
    return tuple(shorten(part) if isinstance(part, Key) else str(part) for part in path)


def _snake(name: str) -> str:
    """`dailyCapacity` (the API's name for a field) as a manifest writes it."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def dotted_path(path: Path) -> str:
    """`path` as a manifest names it: `tenants[2].clients[0].client_id`,
    `routing[0].nodes[1].region_rates.DE-BY`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            name = shorten(part) if isinstance(part, Key) else _snake(part)
            text += f".{name}" if text else name
    return text


@dataclass(frozen=True)
class Problem:
    """One bad value: where it is, what is wrong with it (without the path), its code.

    `label_from`: the API's message starts with the path from this part on (the
    node and SLA inputs name their fields so); None: the message stands alone."""

    path: Path
    message: str
    code: ErrorCode = ErrorCode.INVALID
    label_from: int | None = None

    def error(self) -> OaasError:
        field = field_of(self.path)
        message = self.message
        if self.label_from is not None and (label := field[self.label_from :]):
            message = f"{'.'.join(label)}: {message}"
        return OaasError(self.code, message, field)


class Problems:
    """Every problem a validator finds, each with its path; `at()` is a view below a path
    that adds to the same collection."""

    def __init__(self, *prefix: PathPart) -> None:
        self.prefix: Path = prefix
        self._found: list[Problem] = []
        self._label_from: int | None = None

    def _view(self, prefix: Path, label_from: int | None) -> Problems:
        view = Problems(*prefix)
        view._found = self._found
        view._label_from = label_from
        return view

    def at(self, *parts: PathPart) -> Problems:
        """The problems below `parts` (relative to this view)."""
        return self._view((*self.prefix, *parts), self._label_from)

    def labelled(self) -> Problems:
        """A view whose problems name, in the API's message, their path below it."""
        return self._view(self.prefix, len(self.prefix))

    def add(self, path: Path, message: str, code: ErrorCode = ErrorCode.INVALID) -> None:
        self._found.append(Problem((*self.prefix, *path), message, code, self._label_from))

    def __len__(self) -> int:
        """How many problems the whole collection holds (every view shares them)."""
        return len(self._found)

    def __bool__(self) -> bool:
        return bool(self._found)

    def __iter__(self) -> Iterator[Problem]:
        return iter(list(self._found))

    def raise_if_any(self) -> None:
        if self._found:
            raise ValidationFailed([problem.error() for problem in self._found], self._found)
