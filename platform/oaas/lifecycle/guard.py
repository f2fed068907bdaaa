"""Risk and routing behind a time limit and a circuit breaker.

The breaker is the `circuitbreaker` library's: after `failure_threshold` failures
in a row it opens and every call fails at once for `recovery_seconds`, then one
trial call decides whether it closes again. Any failure (an exception, the time
limit, the open breaker) becomes `Unavailable` with a reason a person can read;
the caller defers the order instead of failing it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from circuitbreaker import CircuitBreaker, CircuitBreakerError

from oaas.telemetry import get_logger

P = ParamSpec("P")
T = TypeVar("T")
log = get_logger("oaas.lifecycle")


class Unavailable(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Guarded:
    def __init__(
        self,
        name: str,
        *,
        timeout_seconds: float,
        failure_threshold: int,
        recovery_seconds: float,
    ) -> None:
        self.name = name
        self.timeout_seconds = timeout_seconds
        self.breaker = CircuitBreaker(
            failure_threshold=failure_threshold,
            recovery_timeout=recovery_seconds,
            expected_exception=Exception,
            name=name,
        )

    @property
    def is_open(self) -> bool:
        return bool(self.breaker.opened)

    async def _timed(self, call: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs) -> T:
        async with asyncio.timeout(self.timeout_seconds):
            return await call(*args, **kwargs)

    async def run(self, call: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs) -> T:
        if self.breaker.opened:
            # call_async only counts outcomes; refusing while open is the caller's part
            # (the library's decorator does the same). After recovery_seconds the breaker
            # reads half-open and one call goes through as the trial.
            raise Unavailable(f"{self.name} is paused after repeated failures")
        try:
            result: T = await self.breaker.call_async(self._timed, call, *args, **kwargs)
            return result
        except CircuitBreakerError as error:
            raise Unavailable(f"{self.name} is paused after repeated failures") from error
        except TimeoutError as error:
            raise Unavailable(
                f"{self.name} took longer than {self.timeout_seconds * 1000:.0f} ms"
            ) from error
        except Exception as error:
            log.warning("dependency failed", dependency=self.name, error=repr(error))
            raise Unavailable(f"{self.name} failed ({type(error).__name__})") from error
