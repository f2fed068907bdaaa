"""Risk review over GraphQL: releasing or rejecting held orders, and the risk policy."""

from __future__ import annotations

import strawberry

from oaas.graphql.context import Info
from oaas.graphql.errors import UserError, mutate
from oaas.graphql.inputs import order_uuid
from oaas.graphql.orders import Order
from oaas.graphql.permissions import allowed
from oaas.lifecycle import review
from oaas.orders.records import OrderRecord
from oaas.policy import Action
from oaas.risk.facts import RiskPolicy
from oaas.risk.service import load_policy, risk_policy, set_risk_policy
from oaas.tenancy.service import get_tenant


@strawberry.type
class RiskProfile:
    version: int
    hold_threshold: int = strawberry.field(description="Orders scoring this or more are held.")
    medium_threshold: int
    velocity_window_hours: list[int]
    velocity_limits: list[int] = strawberry.field(
        description="Orders per email (and per address) tolerated within each window."
    )
    distinct_addresses_limit: int
    extra_disposable_domains: list[str]

    @classmethod
    def of(cls, policy: RiskPolicy) -> RiskProfile:
        return cls(
            version=policy.version,
            hold_threshold=policy.hold_threshold,
            medium_threshold=policy.medium_threshold,
            velocity_window_hours=list(policy.velocity_window_hours),
            velocity_limits=list(policy.velocity_limits),
            distinct_addresses_limit=policy.distinct_addresses_limit,
            extra_disposable_domains=sorted(policy.extra_disposable_domains),
        )


@strawberry.input
class RiskProfileInput:
    merchant: str | None = strawberry.field(
        default=None, description="Platform admins: the merchant whose policy this is."
    )
    hold_threshold: int = 70
    medium_threshold: int = 40
    velocity_window_hours: list[int] = strawberry.field(default_factory=lambda: [1, 24])
    velocity_limits: list[int] = strawberry.field(default_factory=lambda: [3, 10])
    distinct_addresses_limit: int = 3
    extra_disposable_domains: list[str] = strawberry.field(default_factory=list)


@strawberry.type
class SetRiskProfilePayload:
    profile: RiskProfile | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class RejectOrderInput:
    order_id: strawberry.ID
    reason: str


@strawberry.type
class ReviewOrderPayload:
    order: Order | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _review_payload(order: OrderRecord) -> ReviewOrderPayload:
    return ReviewOrderPayload(order=Order.of(order))


@strawberry.type
class RiskQuery:
    @strawberry.field(permission_classes=[allowed(Action.ORDER_READ)])
    async def risk_profile(self, info: Info) -> RiskProfile:
        """The caller's own risk policy (the defaults until it sets one)."""
        return RiskProfile.of(
            await load_policy(info.context.session, info.context.principal.tenant_id)
        )


@strawberry.type
class RiskMutation:
    @strawberry.mutation(
        permission_classes=[allowed(Action.RISK_REVIEW)],
        description="Releases an ON_HOLD order and routes it.",
    )
    async def approve_order(self, info: Info, order_id: strawberry.ID) -> ReviewOrderPayload:
        return await mutate(
            info,
            ReviewOrderPayload,
            lambda: review.approve_order(
                info.context.session,
                info.context.principal,
                info.context.engines,
                order_uuid(order_id),
            ),
            _review_payload,
        )

    @strawberry.mutation(
        permission_classes=[allowed(Action.RISK_REVIEW)],
        description="Cancels an ON_HOLD order with the reviewer's reason.",
    )
    async def reject_order(self, info: Info, input: RejectOrderInput) -> ReviewOrderPayload:
        return await mutate(
            info,
            ReviewOrderPayload,
            lambda: review.reject_order(
                info.context.session,
                info.context.principal,
                order_uuid(input.order_id),
                input.reason,
            ),
            _review_payload,
        )

    @strawberry.mutation(permission_classes=[allowed(Action.RISK_WRITE)])
    async def set_risk_profile(self, info: Info, input: RiskProfileInput) -> SetRiskProfilePayload:
        session, principal = info.context.session, info.context.principal

        async def work() -> RiskPolicy:
            policy = risk_policy(
                input.hold_threshold,
                input.medium_threshold,
                input.velocity_window_hours,
                input.velocity_limits,
                input.distinct_addresses_limit,
                input.extra_disposable_domains,
            )
            merchant = await get_tenant(
                session, principal, input.merchant, ("input", "merchant"), action=Action.RISK_WRITE
            )
            return await set_risk_policy(session, principal, merchant, policy)

        return await mutate(
            info,
            SetRiskProfilePayload,
            work,
            lambda policy: SetRiskProfilePayload(profile=RiskProfile.of(policy)),
        )
