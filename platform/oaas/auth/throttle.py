"""Failed client authentications counted per client id and per source address.

Every failed authentication at the token endpoint is recorded twice: against
the client id it named (known or not, so that the answer tells nothing about
which ids exist) and against the address it came from. Once either count
reaches its limit within the moving window, the endpoint answers 429 with
`Retry-After` before any secret is hashed. A success records nothing, so a
client that authenticates keeps its whole budget. Looking and counting are two
steps: attempts already being checked when the limit is reached still count,
so a burst may get past it by at most the hash queue's size (oaas.auth.credentials).

The counting is the `limits` package's moving window: exact (the N+1th
failure within any window of W seconds is refused, never the Nth) and with an
exact time until the oldest failure leaves the window. Counts live in process
memory, or in Redis when `OAAS_REDIS_URL` is set so that every worker and host
shares them. If Redis cannot be reached the limiter lets requests through and
logs it: the bound on hashes computed at once still holds.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from oaas.telemetry import get_logger

log = get_logger("oaas.auth")


class FailureLimiter(Protocol):
    async def retry_after(self, client_id: str, address: str) -> int | None:
        """Seconds to wait if the client id or the address has no failures left, else None."""
        ...

    async def failed(self, client_id: str, address: str) -> None:
        """Counts one failed authentication against both."""
        ...

    async def close(self) -> None: ...


def address_key(host: str) -> str:
    """What one source is: an IPv4 address, or an IPv6 /64 (one subscriber's prefix)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class MovingWindowLimiter:
    def __init__(
        self,
        storage: Storage,
        *,
        per_client: int,
        per_address: int,
        window_seconds: int,
        on_close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._limiter = MovingWindowRateLimiter(storage)
        self._client: RateLimitItem = RateLimitItemPerSecond(per_client, window_seconds)
        self._address: RateLimitItem = RateLimitItemPerSecond(per_address, window_seconds)
        self._on_close = on_close

    def _limits(self, client_id: str, address: str) -> list[tuple[RateLimitItem, str, str]]:
        return [
            (self._client, "client", client_id),
            (self._address, "address", address_key(address)),
        ]

    async def retry_after(self, client_id: str, address: str) -> int | None:
        blocked, wait = False, 0.0
        try:
            for item, kind, value in self._limits(client_id, address):
                if not await self._limiter.test(item, kind, value):
                    blocked = True
                    stats = await self._limiter.get_window_stats(item, kind, value)
                    wait = max(wait, stats.reset_time - time.time())
        except StorageError as exc:
            log.warning("token failure counts unavailable; not limiting", error=str(exc))
            return None
        return max(1, math.ceil(wait)) if blocked else None

    async def failed(self, client_id: str, address: str) -> None:
        try:
            for item, kind, value in self._limits(client_id, address):
                await self._limiter.hit(item, kind, value)
        except StorageError as exc:
            log.warning("token failure counts unavailable; not counted", error=str(exc))

    async def close(self) -> None:
        if self._on_close is not None:
            await self._on_close()


def make_failure_limiter(
    *,
    per_client: int,
    per_address: int,
    window_seconds: int,
    redis_url: str | None = None,
    redis_prefix: str = "oaas:",
) -> FailureLimiter:
    """Counts in Redis when configured (shared by every worker), else in this process."""
    if not redis_url:
        return MovingWindowLimiter(
            MemoryStorage(),
            per_client=per_client,
            per_address=per_address,
            window_seconds=window_seconds,
        )
    import redis.asyncio as redis

    # A Redis that does not answer must not hold token requests for long.
    pool = redis.ConnectionPool.from_url(redis_url, socket_connect_timeout=1, socket_timeout=1)
    # `limits` names its storages by URL scheme; the pool is what connects.
    connection: dict[str, Any] = {"connection_pool": pool}
    storage = RedisStorage(
        "async+redis://",
        implementation="redispy",
        key_prefix=redis_prefix + "token-failures",
        wrap_exceptions=True,
        **connection,
    )
    return MovingWindowLimiter(
        storage,
        per_client=per_client,
        per_address=per_address,
        window_seconds=window_seconds,
        on_close=pool.aclose,
    )
