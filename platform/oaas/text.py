"""Human-readable text: the one rule for names and free-text fields, and how a message
quotes what a caller sent.

Names (of tenants, nodes, the people and places on an order) follow the PRECIS
FreeformClass of RFC 8264, through the `precis-i18n` package: letters, digits,
symbols, punctuation and spaces of any script, but no control characters, no
invisible formatting characters (bidirectional overrides such as U+202E, zero-width
spaces), no private-use or unassigned code points. The text is stored as given.
"""

from __future__ import annotations

from precis_i18n import get_profile

_FREEFORM = get_profile("FreeFormClass")
QUOTE_LIMIT = 40


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """`value` for a message: quoted, and cut to its first `limit` characters.

    A message that echoed input whole would answer a megabyte for a megabyte."""
    text = value if isinstance(value, str) else repr(value)
    shown = repr(text[:limit]) if isinstance(value, str) else text[:limit]
    return shown if len(text) <= limit else f"{shown}... ({len(text)} characters)"


def shorten(text: str, limit: int = QUOTE_LIMIT) -> str:
    """`text` unquoted (a key in an error's path), cut to `limit` characters and marked."""
    return text if len(text) <= limit else f"{text[:limit]}..."


def text_problem(value: str, *, limit: int, required: bool = True) -> str | None:
    """Why `value` is not acceptable as a name or free text of at most `limit`
    characters, or None when it is. `required`: it must not be blank."""
    if required and not value.strip():
        return "must not be blank"
    if len(value) > limit:
        return f"must be at most {limit} characters"
    try:
        _FREEFORM.enforce(value)
    except UnicodeEncodeError as error:
        character = value[error.start]
        return (
            "must not contain control, invisible formatting or unassigned characters "
            f"(U+{ord(character):04X} at position {error.start})"
        )
    return None
