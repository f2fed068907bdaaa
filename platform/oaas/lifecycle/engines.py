"""The two engines an accepted order goes through, and the guards around them.

Both are interfaces so a deployment can put a remote service behind them, and so
tests can inject faults; the built-in ones run the pure engines of oaas.routing
and oaas.risk.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

from oaas.lifecycle.guard import Guarded
from oaas.risk.facts import RiskAssessment, RiskInputs, RiskPolicy, assess
from oaas.routing.engine import Decision, RoutingRequest, decide
from oaas.settings import Settings


class Router(Protocol):
    async def decide(self, request: RoutingRequest) -> Decision: ...


class Assessor(Protocol):
    async def assess(self, inputs: RiskInputs, policy: RiskPolicy) -> RiskAssessment: ...


class LocalRouter:
    async def decide(self, request: RoutingRequest) -> Decision:
        # In a thread, so the time limit holds even for a very large node set.
        return await asyncio.to_thread(decide, request)


class LocalAssessor:
    async def assess(self, inputs: RiskInputs, policy: RiskPolicy) -> RiskAssessment:
        return assess(inputs, policy)


@dataclass
class Engines:
    router: Router
    assessor: Assessor
    routing_guard: Guarded
    risk_guard: Guarded

    @classmethod
    def from_settings(
        cls, settings: Settings, *, router: Router | None = None, assessor: Assessor | None = None
    ) -> Engines:
        return cls(
            router=router or LocalRouter(),
            assessor=assessor or LocalAssessor(),
            routing_guard=Guarded(
                "routing",
                timeout_seconds=settings.routing_timeout_ms / 1000,
                failure_threshold=settings.breaker_failures,
                recovery_seconds=settings.breaker_recovery_seconds,
            ),
            risk_guard=Guarded(
                "risk check",
                timeout_seconds=settings.risk_timeout_ms / 1000,
                failure_threshold=settings.breaker_failures,
                recovery_seconds=settings.breaker_recovery_seconds,
            ),
        )
