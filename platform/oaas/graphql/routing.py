"""Fulfilment nodes, stock, routing profiles, re-routing and the fairness report over
GraphQL: thin resolvers over oaas.routing and oaas.lifecycle."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

import strawberry

from oaas.graphql.context import Info
from oaas.graphql.errors import UserError, answer, mutate
from oaas.graphql.ids import to_global_id
from oaas.graphql.inputs import as_utc, order_uuid
from oaas.graphql.node import Node
from oaas.graphql.orders import Order
from oaas.graphql.permissions import allowed
from oaas.lifecycle import changes, placement
from oaas.orders.money import from_minor, minor_unit_exponent
from oaas.policy import Action
from oaas.routing import fairness, nodes
from oaas.routing.models import FulfilmentNode as NodeRow
from oaas.routing.models import InventoryLevel
from oaas.routing.planning import load_profile
from oaas.routing.profiles import set_routing_profile_for
from oaas.routing.validation import NodeInput, ProfileInput, StockInput


@strawberry.type
class RegionAmount:
    region: str
    amount: Decimal


@strawberry.type
class RegionHours:
    region: str
    hours: float


@strawberry.type
class StockLevel:
    sku: str
    on_hand: int
    reserved: int = strawberry.field(description="Held for routed orders not yet shipped.")
    available: int


@strawberry.type
class FulfillmentNode(Node):
    code: str
    name: str
    kind: str = strawberry.field(description="WAREHOUSE or STORE.")
    latitude: float
    longitude: float
    region: str
    regions_served: list[str] = strawberry.field(description="Empty: everywhere.")
    regions_excluded: list[str]
    daily_capacity: int
    currency: str
    base_cost: Decimal
    cost_per_km: Decimal
    region_rates: list[RegionAmount]
    promise_hours: list[RegionHours]
    default_promise_hours: float
    active: bool
    operated_by_partner: bool
    stock: list[StockLevel]

    @classmethod
    def of(cls, row: NodeRow, levels: list[InventoryLevel]) -> FulfillmentNode:
        exponent = minor_unit_exponent(row.currency)
        return cls(
            id=strawberry.ID(to_global_id("FulfillmentNode", row.id)),
            code=row.code,
            name=row.name,
            kind=row.kind,
            latitude=row.latitude,
            longitude=row.longitude,
            region=row.region,
            regions_served=list(row.regions_served),
            regions_excluded=list(row.regions_excluded),
            daily_capacity=row.daily_capacity,
            currency=row.currency,
            base_cost=from_minor(row.base_cost_minor, exponent),
            cost_per_km=from_minor(row.cost_per_km_minor, exponent),
            region_rates=[
                RegionAmount(region=r, amount=from_minor(m, exponent))
                for r, m in sorted(row.region_rates_minor.items())
            ],
            promise_hours=[
                RegionHours(region=r, hours=h) for r, h in sorted(row.promise_hours.items())
            ],
            default_promise_hours=row.default_promise_hours,
            active=row.active,
            operated_by_partner=row.partner_tenant_id is not None,
            stock=[
                StockLevel(
                    sku=level.sku,
                    on_hand=level.on_hand,
                    reserved=level.reserved,
                    available=level.on_hand - level.reserved,
                )
                for level in levels
                if level.node_id == row.id
            ],
        )


@strawberry.input
class RegionAmountInput:
    region: str
    amount: Decimal


@strawberry.input
class RegionHoursInput:
    region: str
    hours: float


@strawberry.input
class FulfillmentNodeInput:
    merchant: str | None = strawberry.field(
        default=None, description="Partners: the merchant the node works for."
    )
    code: str
    name: str
    kind: str = "WAREHOUSE"
    latitude: float
    longitude: float
    region: str
    regions_served: list[str] = strawberry.field(default_factory=list)
    regions_excluded: list[str] = strawberry.field(default_factory=list)
    daily_capacity: int
    currency: str
    base_cost: Decimal = Decimal(0)
    cost_per_km: Decimal = Decimal(0)
    region_rates: list[RegionAmountInput] = strawberry.field(default_factory=list)
    promise_hours: list[RegionHoursInput] = strawberry.field(default_factory=list)
    default_promise_hours: float
    active: bool = True


@strawberry.type
class PutFulfillmentNodePayload:
    node: FulfillmentNode | None = None
    created: bool = False
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class StockLevelInput:
    node: str = strawberry.field(description="The node's code.")
    sku: str
    on_hand: int


@strawberry.input
class SetStockLevelsInput:
    merchant: str | None = None
    levels: list[StockLevelInput]


@strawberry.type
class SetStockLevelsPayload:
    changed: int = 0
    orders_woken: int = strawberry.field(
        default=0, description="Orders waiting for stock that will be routed again."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RegionCentroid:
    region: str
    latitude: float
    longitude: float


@strawberry.type
class RoutingProfile:
    version: int
    cost_weight: float
    load_weight: float
    lateness_weight: float
    split_weight: float
    allow_split: bool
    max_split: int
    region_centroids: list[RegionCentroid]


@strawberry.input
class RegionCentroidInput:
    region: str
    latitude: float
    longitude: float


@strawberry.input
class RoutingProfileInput:
    merchant: str | None = strawberry.field(
        default=None, description="Platform admins: the merchant whose profile this is."
    )
    cost_weight: float = 1.0
    load_weight: float = 20.0
    lateness_weight: float = 50.0
    split_weight: float = 15.0
    allow_split: bool = True
    max_split: int = 2
    region_centroids: list[RegionCentroidInput] = strawberry.field(default_factory=list)


@strawberry.type
class SetRoutingProfilePayload:
    profile: RoutingProfile | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RerouteOrderPayload:
    order: Order | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RegionFairness:
    region: str
    routed: int
    delivered: int
    promise_kept: int
    promise_kept_rate: float | None = strawberry.field(description="Of delivered orders, 0..1.")
    predicted_hours_mean: float | None
    actual_hours_mean: float | None
    split_shipments: int
    split_rate: float = strawberry.field(description="Of routed orders, 0..1.")


@strawberry.type
class RoutingFairnessReport:
    since: datetime
    until: datetime
    regions: list[RegionFairness]


def _node_input(data: FulfillmentNodeInput) -> NodeInput:
    return NodeInput(
        code=data.code,
        name=data.name,
        kind=data.kind,
        latitude=data.latitude,
        longitude=data.longitude,
        region=data.region,
        regions_served=tuple(data.regions_served),
        regions_excluded=tuple(data.regions_excluded),
        daily_capacity=data.daily_capacity,
        currency=data.currency,
        base_cost=data.base_cost,
        cost_per_km=data.cost_per_km,
        region_rates={r.region: r.amount for r in data.region_rates},
        promise_hours={r.region: r.hours for r in data.promise_hours},
        default_promise_hours=data.default_promise_hours,
        active=data.active,
    )


async def _profile(info: Info, merchant_id: UUID) -> RoutingProfile:
    profile, centroids = await load_profile(info.context.session, merchant_id)
    weights = profile.weights
    return RoutingProfile(
        version=profile.version,
        cost_weight=weights.cost,
        load_weight=weights.load,
        lateness_weight=weights.lateness,
        split_weight=weights.split,
        allow_split=profile.allow_split,
        max_split=profile.max_split,
        region_centroids=[
            RegionCentroid(region=r, latitude=p[0], longitude=p[1])
            for r, p in sorted(centroids.items())
        ],
    )


@strawberry.type
class RoutingQuery:
    @strawberry.field(
        permission_classes=[allowed(Action.ROUTING_READ)],
        description="The merchant's fulfilment nodes with their stock. Merchants: their own; "
        "partners: the nodes they operate for `merchant`; platform admins: any merchant's.",
    )
    async def fulfillment_nodes(
        self, info: Info, merchant: str | None = None
    ) -> list[FulfillmentNode]:
        session, principal = info.context.session, info.context.principal
        operation = await answer(
            nodes.operation_for(session, principal, merchant, Action.ROUTING_READ, ("merchant",))
        )
        rows = await nodes.list_nodes(session, principal, operation)
        levels = await nodes.stock_of(session, operation, [row.id for row in rows])
        return [FulfillmentNode.of(row, levels) for row in rows]

    @strawberry.field(permission_classes=[allowed(Action.ROUTING_READ)])
    async def routing_profile(self, info: Info, merchant: str | None = None) -> RoutingProfile:
        session, principal = info.context.session, info.context.principal
        operation = await answer(
            nodes.operation_for(session, principal, merchant, Action.ROUTING_READ, ("merchant",))
        )
        return await _profile(info, operation.merchant.id)

    @strawberry.field(
        permission_classes=[allowed(Action.ROUTING_READ)],
        description="Per destination region, for orders routed in the window: promises kept, "
        "predicted against actual delivery hours, and split shipments.",
    )
    async def routing_fairness_report(
        self, info: Info, since: datetime, until: datetime, merchant: str | None = None
    ) -> RoutingFairnessReport:
        session, principal = info.context.session, info.context.principal
        operation = await answer(
            nodes.operation_for(session, principal, merchant, Action.ROUTING_READ, ("merchant",))
        )
        report = await answer(
            fairness.fairness_report(session, operation.merchant.id, as_utc(since), as_utc(until))
        )
        return RoutingFairnessReport(
            since=report.since,
            until=report.until,
            regions=[RegionFairness(**region.__dict__) for region in report.regions],
        )


@strawberry.type
class RoutingMutation:
    @strawberry.mutation(
        permission_classes=[allowed(Action.ROUTING_WRITE)],
        description="Creates or replaces (by code) a fulfilment node.",
    )
    async def put_fulfillment_node(
        self, info: Info, input: FulfillmentNodeInput
    ) -> PutFulfillmentNodePayload:
        session, principal = info.context.session, info.context.principal

        async def work() -> tuple[FulfillmentNode, bool]:
            operation = await nodes.operation_for(
                session, principal, input.merchant, Action.ROUTING_WRITE
            )
            row, created = await nodes.put_node(session, principal, operation, _node_input(input))
            levels = await nodes.stock_of(session, operation, [row.id])
            return FulfillmentNode.of(row, levels), created

        return await mutate(
            info,
            PutFulfillmentNodePayload,
            work,
            lambda done: PutFulfillmentNodePayload(node=done[0], created=done[1]),
        )

    @strawberry.mutation(
        permission_classes=[allowed(Action.INVENTORY_WRITE)],
        description="Sets on-hand quantities (a stock take); all or nothing. Orders waiting "
        "for stock are routed again.",
    )
    async def set_stock_levels(
        self, info: Info, input: SetStockLevelsInput
    ) -> SetStockLevelsPayload:
        session, principal = info.context.session, info.context.principal

        async def work() -> tuple[int, int]:
            operation = await nodes.operation_for(
                session, principal, input.merchant, Action.INVENTORY_WRITE
            )
            rows = [StockInput(node=x.node, sku=x.sku, on_hand=x.on_hand) for x in input.levels]
            return await changes.change_stock(session, principal, operation, rows)

        return await mutate(
            info,
            SetStockLevelsPayload,
            work,
            lambda counts: SetStockLevelsPayload(changed=counts[0], orders_woken=counts[1]),
        )

    @strawberry.mutation(permission_classes=[allowed(Action.ROUTING_WRITE)])
    async def set_routing_profile(
        self, info: Info, input: RoutingProfileInput
    ) -> SetRoutingProfilePayload:
        session, principal = info.context.session, info.context.principal

        async def work() -> RoutingProfile:
            operation = await nodes.operation_for(
                session, principal, input.merchant, Action.ROUTING_WRITE
            )
            await set_routing_profile_for(
                session,
                principal,
                operation,
                ProfileInput(
                    cost_weight=input.cost_weight,
                    load_weight=input.load_weight,
                    lateness_weight=input.lateness_weight,
                    split_weight=input.split_weight,
                    allow_split=input.allow_split,
                    max_split=input.max_split,
                    region_centroids={
                        c.region: (c.latitude, c.longitude) for c in input.region_centroids
                    },
                ),
            )
            return await _profile(info, operation.merchant.id)

        return await mutate(
            info,
            SetRoutingProfilePayload,
            work,
            lambda profile: SetRoutingProfilePayload(profile=profile),
        )

    @strawberry.mutation(
        permission_classes=[allowed(Action.ROUTING_WRITE)],
        description="Gives back the order's reservation and routes it again on today's stock "
        "and load (merchant admins). A failure leaves the current route.",
    )
    async def reroute_order(self, info: Info, order_id: strawberry.ID) -> RerouteOrderPayload:
        return await mutate(
            info,
            RerouteOrderPayload,
            lambda: placement.reroute_order(
                info.context.session,
                info.context.principal,
                info.context.engines,
                order_uuid(order_id),
            ),
            lambda order: RerouteOrderPayload(order=Order.of(order)),
        )
