"""Client secrets: generated with enough entropy, stored only as argon2id hashes.

The parameters are OWASP's first argon2id choice: 19 MiB of memory, 2 passes,
1 lane (about 30 ms of one core here). The memory cost is what makes a leaked
table expensive to attack on GPUs, and it matters only for secrets chosen by
people (at least 12 characters, through a manifest or `secret:`); a generated
secret has 256 bits and no hash speed would help anyone guess it. The cost is
also paid by the server on every verification nobody has authenticated yet, so
it stays at that floor: argon2-cffi's default (64 MiB, 3 passes, 4 lanes) costs
150-200 ms and 64 MiB per attempt, so a few bad requests a second would saturate
the machine. The token endpoint bounds how many run at once
(oaas.auth.credentials), so memory is at most 19 MiB per slot.

Hashes made with other parameters still verify (argon2 reads them from the
hash); `needs_rehash` tells the caller to store a new one once the secret is
known to be right.
"""

from __future__ import annotations

import secrets
from functools import cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

MEMORY_COST_KIB = 19 * 1024
TIME_COST = 2
PARALLELISM = 1

_hasher = PasswordHasher(
    time_cost=TIME_COST,
    memory_cost=MEMORY_COST_KIB,
    parallelism=PARALLELISM,
    hash_len=32,
    salt_len=16,
    type=Type.ID,
)

MIN_SECRET_LENGTH = 12


def generate_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """Slow (tens of milliseconds): call it from a worker thread in the server."""
    return _hasher.hash(secret)


def verify_secret(secret_hash: str, secret: str) -> bool:
    """Slow (tens of milliseconds): call it from a worker thread in the server."""
    try:
        return _hasher.verify(secret_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(secret_hash: str) -> bool:
    """The hash was made with other parameters than today's."""
    try:
        return _hasher.check_needs_rehash(secret_hash)
    except (InvalidHashError, ValueError):
        return True


@cache
def _decoy_hash() -> str:
    return _hasher.hash(generate_secret())


def verify_decoy() -> None:
    """Spends the time of one real verification, for requests naming no usable client,
    so that response times do not tell which client ids exist."""
    verify_secret(_decoy_hash(), "not-the-secret")
