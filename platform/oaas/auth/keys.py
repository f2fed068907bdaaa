"""Signing keys for access tokens, kept in one JSON file (mode 0600).

The newest key signs. `oaas keys rotate` adds a key and retires the previous
one; a retired key's public half stays in the JWKS until every token it signed
has expired, then a later rotation drops it. Workers notice a rotation by the
file's modification time, so no restart is needed.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from joserfc.jwk import KeySet, RSAKey

from oaas.db.types import new_id, utcnow

ALGORITHM = "RS256"
RSA_KEY_BITS = 2048


class KeyFileError(Exception):
    """The key file cannot be read or written."""


@dataclass(frozen=True)
class StoredKey:
    kid: str
    created_at: datetime
    retired_at: datetime | None
    verify_until: datetime | None
    private_jwk: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "kid": self.kid,
            "created_at": self.created_at.isoformat(),
            "retired_at": self.retired_at.isoformat() if self.retired_at else None,
            "verify_until": self.verify_until.isoformat() if self.verify_until else None,
            "private_jwk": self.private_jwk,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StoredKey:
        def when(value: str | None) -> datetime | None:
            return datetime.fromisoformat(value) if value else None

        created = when(data["created_at"])
        assert created is not None
        return cls(
            kid=data["kid"],
            created_at=created,
            retired_at=when(data.get("retired_at")),
            verify_until=when(data.get("verify_until")),
            private_jwk=data["private_jwk"],
        )


def _generate(kid: str | None = None) -> StoredKey:
    kid = kid or new_id().hex
    key = RSAKey.generate_key(
        RSA_KEY_BITS, parameters={"kid": kid, "alg": ALGORITHM, "use": "sig"}, private=True
    )
    return StoredKey(
        kid=kid,
        created_at=utcnow(),
        retired_at=None,
        verify_until=None,
        private_jwk=key.as_dict(private=True),
    )


def _write(path: Path, keys: list[StoredKey]) -> None:
    """Atomically, readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"keys": [k.to_json() for k in keys]}, handle, indent=2)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read(path: Path) -> list[StoredKey]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        keys = [StoredKey.from_json(item) for item in data["keys"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise KeyFileError(f"{path}: not a usable signing key file ({exc})") from exc
    if not keys:
        raise KeyFileError(f"{path}: holds no keys")
    return keys


def ensure_key_file(path: Path) -> None:
    """Generate the first signing key unless the file exists (safe for racing workers)."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"keys": [_generate().to_json()]}, handle, indent=2)


def rotate(path: Path, token_ttl: timedelta) -> StoredKey:
    """Add a new signing key; keep retired public keys while their tokens may live."""
    ensure_key_file(path)
    now = utcnow()
    kept: list[StoredKey] = []
    for key in _read(path):
        if key.retired_at is None:
            key = StoredKey(
                kid=key.kid,
                created_at=key.created_at,
                retired_at=now,
                verify_until=now + token_ttl,
                private_jwk=key.private_jwk,
            )
        if key.verify_until is None or key.verify_until > now:
            kept.append(key)
    new_key = _generate()
    _write(path, [*kept, new_key])
    return new_key


@lru_cache(maxsize=64)
def _import_jwk(canonical_jwk: str) -> RSAKey:
    return RSAKey.import_key(json.loads(canonical_jwk))


def _import(key: StoredKey) -> RSAKey:
    """An RSA import checks the key's arithmetic (tens of milliseconds), so each key is
    imported once per process, however often the file is re-read or stores are made."""
    return _import_jwk(json.dumps(key.private_jwk, sort_keys=True))


class KeyStore:
    """The keys of one file, reloaded when the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._file_version: tuple[int, int, int] | None = None
        self._signing: RSAKey | None = None
        self._verifying = KeySet([])
        self._public: list[dict[str, Any]] = []
        ensure_key_file(path)
        self.refresh()

    def refresh(self) -> None:
        try:
            st = self.path.stat()
        except OSError as exc:
            raise KeyFileError(f"{self.path}: {exc.strerror}") from exc
        # Every write replaces the file (a new inode), so a rotation shows even
        # where the clock behind modification times is coarse.
        version = (st.st_mtime_ns, st.st_ino, st.st_size)
        if version == self._file_version:
            return
        with self._lock:
            keys = _read(self.path)
            now = utcnow()
            live = [k for k in keys if k.verify_until is None or k.verify_until > now]
            active = [k for k in keys if k.retired_at is None]
            if not active:
                raise KeyFileError(f"{self.path}: no active signing key")
            imported = {k.kid: _import(k) for k in live}
            signing = max(active, key=lambda k: k.created_at)
            self._signing = imported.get(signing.kid) or _import(signing)
            self._verifying = KeySet(list(imported.values()))
            self._public = [key.as_dict(private=False) for key in imported.values()]
            self._file_version = version

    def version(self) -> tuple[int, int, int] | None:
        """Changes whenever the key file does (a rotation, a key dropped)."""
        self.refresh()
        return self._file_version

    def signing_key(self) -> RSAKey:
        self.refresh()
        assert self._signing is not None
        return self._signing

    def verification_keys(self) -> KeySet:
        """The keys valid now: one rotated in elsewhere verifies, one dropped no longer does."""
        self.refresh()
        return self._verifying

    def jwks(self) -> dict[str, Any]:
        self.refresh()
        return {"keys": list(self._public)}
