"""Leaky buckets of cost points, one per tenant.

In process memory by default; in Redis when `OAAS_REDIS_URL` is set, so every
worker and host shares one bucket per tenant. Redis runs one Lua script per
take (atomic, one round trip, the server's clock for every host). The `limits`
library was considered: it counts hits in fixed or moving windows, but cannot
express a bucket that refills continuously at a rate, nor refund the part of a
query's requested cost it did not use, which is how Shopify's throttle works.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Protocol

from oaas.quotas.plans import PlanLimits


@dataclass(frozen=True, slots=True)
class Take:
    allowed: bool
    available: float  # after this take (or the refusal)


class Buckets(Protocol):
    async def take(
        self, tenant: str, plan: PlanLimits, cost: float, *, settle: bool = False
    ) -> Take:
        """Takes `cost` points if that many are available; a negative cost refunds.
        `settle` takes them whatever is left: a query that cost more than it asked for
        pays the rest, and the bucket may go below zero until it refills."""
        ...

    async def close(self) -> None: ...


class MemoryBuckets:
    def __init__(self) -> None:
        self._state: dict[str, tuple[float, float]] = {}
        self._lock = asyncio.Lock()

    async def take(
        self, tenant: str, plan: PlanLimits, cost: float, *, settle: bool = False
    ) -> Take:
        now = time.monotonic()
        available, at = self._state.get(tenant, (float(plan.bucket_size), now))
        available = min(float(plan.bucket_size), available + (now - at) * plan.restore_rate)
        allowed = settle or cost <= available or cost <= 0
        if allowed:
            available = min(float(plan.bucket_size), available - cost)
        self._state[tenant] = (available, now)
        return Take(allowed=allowed, available=available)

    async def close(self) -> None:
        return None


_TAKE_SCRIPT = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local settle = ARGV[4] == '1'
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
local state = redis.call('HMGET', KEYS[1], 'available', 'at')
local available = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
available = math.min(capacity, available + math.max(0, now - at) / 1000 * rate)
local allowed = 0
if settle or cost <= available or cost <= 0 then
  available = math.min(capacity, available - cost)
  allowed = 1
end
redis.call('HSET', KEYS[1], 'available', tostring(available), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return {allowed, tostring(available)}
"""


class RedisBuckets:
    def __init__(self, url: str, prefix: str = "oaas:bucket:") -> None:
        import redis.asyncio as redis

        self._redis: Any = redis.from_url(url)
        self._script = self._redis.register_script(_TAKE_SCRIPT)
        self._prefix = prefix

    async def take(
        self, tenant: str, plan: PlanLimits, cost: float, *, settle: bool = False
    ) -> Take:
        allowed, available = await self._script(
            keys=[self._prefix + tenant],
            args=[plan.bucket_size, plan.restore_rate, cost, "1" if settle else "0"],
        )
        return Take(allowed=bool(int(allowed)), available=float(available))

    async def close(self) -> None:
        await self._redis.aclose()


def make_buckets(redis_url: str | None, prefix: str = "oaas:bucket:") -> Buckets:
    return RedisBuckets(redis_url, prefix) if redis_url else MemoryBuckets()
