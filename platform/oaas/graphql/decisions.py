"""Routing decisions and risk assessments as an order shows them (`order.routing`,
`order.routingHistory`, `order.risk`), loaded in one query per page of orders."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import strawberry
from strawberry.dataloader import DataLoader

from oaas.graphql.context import Context, Info
from oaas.graphql.loaders import loader
from oaas.graphql.shared_fields import require_shared
from oaas.lifecycle.placement import holds
from oaas.orders.money import from_minor, minor_unit_exponent
from oaas.orders.records import OrderRecord
from oaas.policy.shares import SharedField
from oaas.risk.facts import RiskAssessment as DomainAssessment
from oaas.risk.facts import RiskLevel
from oaas.risk.service import assessments_of
from oaas.routing.decisions import decisions_of
from oaas.routing.models import RoutingDecisionRow
from oaas.routing.views import SeenDecision

RiskLevelType = strawberry.enum(RiskLevel, name="RiskLevel")


@strawberry.type
class ScoreComponents:
    transport: float
    load: float
    lateness: float
    split: float
    total: float


@strawberry.type
class RoutingCandidate:
    node_code: str
    eligible: bool = strawberry.field(description="May ship the whole order alone.")
    partial: bool = strawberry.field(description="May take part in a split shipment.")
    reasons: list[str] = strawberry.field(description="Why it is not eligible.")
    transport_currency: str = strawberry.field(description="The currency of the nodes' costs.")
    distance_km: float | None
    expected_hours: float = strawberry.field(description="Learned estimate, else the promise.")
    promised_hours: float
    estimate_version: int
    cost: strawberry.Private[Decimal | None]
    score_value: strawberry.Private[float | None]
    score_components: strawberry.Private[ScoreComponents | None]
    merchant_id: strawberry.Private[UUID]

    @strawberry.field(description="Hidden by the LOGISTICS share profile.")
    def transport_cost(self, info: Info) -> Decimal | None:
        require_shared(info, self.merchant_id, SharedField.CANDIDATE_TRANSPORT_COST)
        return self.cost

    @strawberry.field(
        description="Lower is better; null when ruled out. Hidden by the LOGISTICS share profile."
    )
    def score(self, info: Info) -> float | None:
        require_shared(info, self.merchant_id, SharedField.CANDIDATE_SCORE)
        return self.score_value

    @strawberry.field(description="Hidden by the LOGISTICS share profile.")
    def components(self, info: Info) -> ScoreComponents | None:
        require_shared(info, self.merchant_id, SharedField.CANDIDATE_COMPONENTS)
        return self.score_components


@strawberry.type
class AssignedLine:
    sku: str
    quantity: int


@strawberry.type
class RoutingAssignment:
    node_code: str
    lines: list[AssignedLine]


@strawberry.type
class RoutingDecision:
    sequence: int = strawberry.field(description="1 for the first decision, then one per re-route.")
    trigger: str = strawberry.field(description="CREATED, RETRY, APPROVED or REROUTE.")
    decided_at: datetime
    routed: bool
    reason_code: str | None = strawberry.field(
        description="Why not routed: NO_NODES, NO_STOCK, NO_NODE_SERVES_REGION, NO_CAPACITY, "
        "SPLIT_NOT_ALLOWED, SPLIT_TOO_WIDE."
    )
    explanation: str = strawberry.field(
        description="One sentence for customer service. A partner whose share profile "
        "redacts it reads one built from its own nodes' part of the decision."
    )
    destination_region: str
    profile_version: int
    candidates: list[RoutingCandidate] = strawberry.field(
        description="Every candidate node; a partner's share profile may show only the "
        "nodes it operates."
    )
    assignments: list[RoutingAssignment] = strawberry.field(
        description="Where each line ships from; a partner's share profile may show only "
        "the nodes it operates."
    )
    settlement: str | None = strawberry.field(
        description="What became of the reservation: released (cancel, re-route) or shipped."
    )

    @classmethod
    def of(cls, row: SeenDecision, currency: str, merchant_id: UUID) -> RoutingDecision:
        return cls(
            sequence=row.sequence,
            trigger=row.trigger,
            decided_at=row.decided_at,
            routed=row.routed,
            reason_code=row.reason_code,
            explanation=row.explanation,
            destination_region=row.destination_region,
            profile_version=row.profile_version,
            candidates=[_candidate(c, currency, merchant_id) for c in row.candidates],
            assignments=[
                RoutingAssignment(
                    node_code=a["code"],
                    lines=[AssignedLine(sku=x["sku"], quantity=x["quantity"]) for x in a["lines"]],
                )
                for a in row.assignments
            ],
            settlement=row.settlement,
        )


def _candidate(data: dict[str, Any], order_currency: str, merchant_id: UUID) -> RoutingCandidate:
    """One candidate of a decision as the reader may see it: hidden values are not in `data`."""
    components = data.get("components")
    currency = data.get("currency", order_currency)
    cost_minor = data.get("transport_cost_minor")
    return RoutingCandidate(
        node_code=data["code"],
        eligible=data["eligible"],
        partial=data["partial"],
        reasons=list(data["reasons"]),
        cost=from_minor(int(cost_minor), minor_unit_exponent(currency))
        if cost_minor is not None
        else None,
        transport_currency=currency,
        distance_km=data.get("distance_km"),
        expected_hours=data["expected_hours"],
        promised_hours=data["promised_hours"],
        estimate_version=data["estimate_version"],
        score_value=data.get("score"),
        score_components=ScoreComponents(**components) if components else None,
        merchant_id=merchant_id,
    )


@strawberry.type
class RiskFact:
    signal: str
    observed: str
    weight: int = strawberry.field(description="Points this fact adds to the score.")
    sentence: str


@strawberry.type
class RiskAssessment:
    score: int = strawberry.field(description="0-100.")
    level: RiskLevelType  # type: ignore[valid-type]
    hold_threshold: int
    held: bool = strawberry.field(
        description="Whether this assessment held the order: the score reached the threshold "
        "of a policy the merchant set (until it sets one, orders are scored, never held)."
    )
    policy_version: int = strawberry.field(description="0: the built-in default policy.")
    facts: list[RiskFact]

    @classmethod
    def of(cls, assessment: DomainAssessment) -> RiskAssessment:
        return cls(
            score=assessment.score,
            level=assessment.level,
            hold_threshold=assessment.hold_threshold,
            held=holds(assessment),
            policy_version=assessment.policy_version,
            facts=[
                RiskFact(signal=f.signal, observed=f.observed, weight=f.weight, sentence=f.sentence)
                for f in assessment.facts
            ],
        )


def _order_key(order: OrderRecord) -> tuple[UUID, UUID]:
    return order.key


def decisions_by_order_loader(
    context: Context,
) -> DataLoader[OrderRecord, list[RoutingDecisionRow]]:
    async def batch(orders: Sequence[OrderRecord]) -> list[list[RoutingDecisionRow]]:
        found = await decisions_of(context.session, [o.key for o in orders])
        return [found.get(o.key, []) for o in orders]

    return loader(context, "RoutingDecisionsByOrderLoader", batch, _order_key)


def risk_by_order_loader(context: Context) -> DataLoader[OrderRecord, DomainAssessment | None]:
    async def batch(orders: Sequence[OrderRecord]) -> list[DomainAssessment | None]:
        found = await assessments_of(context.session, [o.key for o in orders])
        return [found.get(o.key) for o in orders]

    return loader(context, "RiskAssessmentByOrderLoader", batch, _order_key)
