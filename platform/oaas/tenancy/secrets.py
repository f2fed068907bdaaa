"""Client secrets: generated with enough entropy, stored only as argon2id hashes."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2id with the library's defaults (RFC 9106's second recommended option,
# about 50 ms and 64 MiB per hash): slow enough that a leaked table is no use.
_hasher = PasswordHasher()

MIN_SECRET_LENGTH = 12


def generate_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def verify_secret(secret_hash: str, secret: str) -> bool:
    try:
        return _hasher.verify(secret_hash, secret)
    except (VerificationError, InvalidHashError):
        return False
