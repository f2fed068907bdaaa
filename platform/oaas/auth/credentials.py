"""Client authentication at the token endpoint, without letting the check be the attack.

A secret check is an argon2id hash (oaas.tenancy.secrets): tens of milliseconds
of a core and 19 MiB. Whoever can send requests can ask for one, so:

- **Failures are limited** per client id and per address (oaas.auth.throttle):
  past the limit the answer is 429 before anything is hashed.
- **Hashes are bounded**: at most `concurrency` run at once, each in a worker
  thread (never on the event loop), and at most `queue` more wait; beyond that
  the answer is 503 at once. Memory and cores spent on hashing have a ceiling
  whatever arrives.
- **Good clients skip the queue**: a client secret verified lately is
  remembered, by an HMAC of client id and secret under a key that lives only in
  this process, together with the stored hash it matched. A client that fetches
  a token again presents the same secret and gets its token without a hash,
  while an attacker fills the queue with bad attempts on other ids. The entry
  counts only while the client row still holds that very hash, so a rotation or
  a new secret (a new hash, a new salt) ends it on every worker at once.

Requests naming an unknown client id, or a client of a suspended tenant, check
the secret against a decoy hash through the same queue, so that neither the
answer nor its timing tells which ids exist.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from hashlib import sha256

import anyio
import anyio.to_thread

from oaas.auth.clients import ClientRecord
from oaas.auth.throttle import FailureLimiter, make_failure_limiter
from oaas.settings import Settings
from oaas.tenancy.secrets import hash_secret, needs_rehash, verify_decoy, verify_secret

# Client ids are at most this long (api_clients.client_id): a longer one names nobody.
MAX_CLIENT_ID_LENGTH = 100
# Verified credentials remembered at once (least recently used go first).
REMEMBERED_MAX = 10_000


@dataclass(frozen=True, slots=True)
class Authenticated:
    record: ClientRecord
    secret: str
    # The secret's hash with today's parameters, to store in place of the old one.
    new_hash: str | None = None


@dataclass(frozen=True, slots=True)
class Refused:
    """Bad credentials, an unknown client, or a suspended tenant: one answer for all."""


@dataclass(frozen=True, slots=True)
class Throttled:
    retry_after: int
    # True: the hash queue is full (503); False: the failure budget is spent (429).
    busy: bool = False


Outcome = Authenticated | Refused | Throttled
REFUSED = Refused()


class HashQueueFull(Exception):
    """As many secret checks are running and waiting as are allowed."""


@dataclass(frozen=True, slots=True)
class _Checked:
    ok: bool
    new_hash: str | None = None


class SecretChecks:
    """The bounded pool of secret checks and the memory of recently verified ones."""

    def __init__(self, *, concurrency: int, queue: int, remember_seconds: float) -> None:
        self._slots = anyio.CapacityLimiter(concurrency)
        self._admit_at_most = concurrency + queue
        self._admitted = 0
        self._key = secrets.token_bytes(32)
        self._remember_seconds = remember_seconds
        self._remembered: OrderedDict[bytes, tuple[str, float]] = OrderedDict()
        self._running: dict[tuple[bytes, str | None], asyncio.Future[_Checked | None]] = {}
        # How many argon2 hashes this process computed for secret checks.
        self.hashes = 0

    def _digest(self, client_id: str, secret: str) -> bytes:
        message = f"{len(client_id)}:{client_id}:{secret}".encode("utf-8", "surrogatepass")
        return hmac.digest(self._key, message, sha256)

    def remembered(self, client_id: str, secret: str) -> str | None:
        """The stored hash this secret was verified against lately, if it was."""
        digest = self._digest(client_id, secret)
        entry = self._remembered.get(digest)
        if entry is None:
            return None
        if entry[1] < time.monotonic():
            del self._remembered[digest]
            return None
        self._remembered.move_to_end(digest)
        return entry[0]

    def remember(self, client_id: str, secret: str, secret_hash: str) -> None:
        if self._remember_seconds <= 0:
            return
        digest = self._digest(client_id, secret)
        self._remembered[digest] = (secret_hash, time.monotonic() + self._remember_seconds)
        self._remembered.move_to_end(digest)
        while len(self._remembered) > REMEMBERED_MAX:
            self._remembered.popitem(last=False)

    def forget(self, client_id: str, secret: str) -> None:
        self._remembered.pop(self._digest(client_id, secret), None)

    async def check(self, client_id: str, secret_hash: str | None, secret: str) -> _Checked:
        """Checks `secret` against `secret_hash` (None: the decoy) in a worker thread.

        The same credentials presented again while their check runs (a client's
        workers all starting at once) wait for that check instead of queueing
        another. Raises HashQueueFull rather than wait behind a full queue."""
        key = (self._digest(client_id, secret), secret_hash)
        running = self._running.get(key)
        if running is not None:
            checked = await asyncio.shield(running)
            if checked is not None:
                return checked
        if self._admitted >= self._admit_at_most:
            raise HashQueueFull
        self._admitted += 1
        outcome: asyncio.Future[_Checked | None] = asyncio.get_running_loop().create_future()
        self._running[key] = outcome
        try:
            checked = await anyio.to_thread.run_sync(
                _check, secret_hash, secret, limiter=self._slots
            )
            outcome.set_result(checked)
        finally:
            self._admitted -= 1
            del self._running[key]
            if not outcome.done():  # the check failed: whoever waits checks for itself
                outcome.set_result(None)
        self.hashes += 2 if checked.new_hash else 1
        return checked


def _check(secret_hash: str | None, secret: str) -> _Checked:
    if secret_hash is None:
        verify_decoy()
        return _Checked(ok=False)
    if not verify_secret(secret_hash, secret):
        return _Checked(ok=False)
    if needs_rehash(secret_hash):
        return _Checked(ok=True, new_hash=hash_secret(secret))
    return _Checked(ok=True)


class ClientAuthenticator:
    def __init__(self, limiter: FailureLimiter, checks: SecretChecks) -> None:
        self.limiter = limiter
        self.checks = checks

    async def authenticate(
        self,
        client_id: str | None,
        secret: str | None,
        address: str,
        load: Callable[[str], Awaitable[ClientRecord | None]],
    ) -> Outcome:
        """Who presents `client_id` and `secret` from `address`; `load` reads the client."""
        if not client_id or len(client_id) > MAX_CLIENT_ID_LENGTH:
            return REFUSED  # names no client: nothing to hash, nobody to count against
        remembered = self.checks.remembered(client_id, secret) if secret else None
        if remembered is None and (wait := await self.limiter.retry_after(client_id, address)):
            return Throttled(wait)
        if not secret:
            # Answered without a hash whether the id exists or not: nothing to tell apart.
            await self.limiter.failed(client_id, address)
            return REFUSED
        loaded = await load(client_id)
        record = loaded if loaded is not None and loaded.tenant_active else None
        if remembered is not None:
            if record is not None and hmac.compare_digest(remembered, record.secret_hash):
                return Authenticated(record, secret)
            # Rotated, replaced, deleted or suspended since: check it like any other.
            self.checks.forget(client_id, secret)
            if wait := await self.limiter.retry_after(client_id, address):
                return Throttled(wait)
        try:
            checked = await self.checks.check(
                client_id, record.secret_hash if record is not None else None, secret
            )
        except HashQueueFull:
            return Throttled(1, busy=True)
        if record is None or not checked.ok:
            await self.limiter.failed(client_id, address)
            return REFUSED
        self.checks.remember(client_id, secret, checked.new_hash or record.secret_hash)
        return Authenticated(record, secret, checked.new_hash)

    async def close(self) -> None:
        await self.limiter.close()


def authenticator_from(settings: Settings) -> ClientAuthenticator:
    return ClientAuthenticator(
        make_failure_limiter(
            per_client=settings.token_failures_per_client,
            per_address=settings.token_failures_per_address,
            window_seconds=settings.token_failure_window_seconds,
            redis_url=settings.redis_url,
            redis_prefix=settings.redis_prefix,
        ),
        SecretChecks(
            concurrency=settings.token_hash_concurrency,
            queue=settings.token_hash_queue,
            remember_seconds=settings.token_remember_seconds,
        ),
    )
