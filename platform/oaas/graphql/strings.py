"""Strings no database can store never reach one.

PostgreSQL refuses text holding a NUL character, and neither database driver
can encode a lone UTF-16 surrogate: such a string in an argument would fail
deep in a resolver as an unexpected error. They are refused up front instead:
in the document by a validation rule, in variables by the HTTP view.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, StringValueNode, ValidationRule


def unstorable(value: str) -> str | None:
    """Why the string cannot be stored, or None when it can."""
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode (a lone surrogate)"
    return None


def first_unstorable(value: Any) -> str | None:
    """The problem with the first unstorable string inside JSON-like data, if any.

    Iterative, so arbitrarily deep input cannot exhaust the stack."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if (reason := unstorable(item)) is not None:
                return reason
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return None


class NoUnstorableStrings(ValidationRule):
    def enter_string_value(self, node: StringValueNode, *_args: Any) -> None:
        if (reason := unstorable(node.value)) is not None:
            self.report_error(GraphQLError(f"A string value {reason}.", node))
