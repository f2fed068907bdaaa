"""The rules for tenant and client fields, shared by the manifest and the API."""

from __future__ import annotations

import re

from oaas.text import text_problem

HANDLE_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
CLIENT_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,99}$")
MAX_NAME_LENGTH = 200


def handle_problem(handle: str) -> str | None:
    if not HANDLE_PATTERN.fullmatch(handle):
        return (
            "must be 1 to 63 lowercase letters, digits and '-', "
            "starting and ending with a letter or digit"
        )
    return None


def name_problem(name: str) -> str | None:
    return text_problem(name, limit=MAX_NAME_LENGTH)


def client_id_problem(client_id: str) -> str | None:
    if not CLIENT_ID_PATTERN.fullmatch(client_id):
        return "must be 2 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit"
    return None
