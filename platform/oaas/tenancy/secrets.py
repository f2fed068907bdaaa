"""Client secrets: generated with enough entropy, stored only as argon2id hashes."""

from __future__ import annotations

import secrets
from functools import cache

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


@cache
def _decoy_hash() -> str:
    return _hasher.hash(generate_secret())


def verify_decoy() -> None:
    """Spends the time of one real verification, for requests naming no usable client,
    so that response times do not tell which client ids exist."""
    verify_secret(_decoy_hash(), "not-the-secret")
