"""The routing decision: which node ships an order, scored and explained.

Pure (no database, clock or randomness), so a stored decision can be replayed.
The lowest score (points, see `Weights`) among nodes that can ship the whole
order wins; when none can, the cheapest combination of nodes that together hold
every item does, paying a penalty per extra node.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeAlias
from uuid import UUID

from oaas.routing import explain
from oaas.routing.explain import Context, NodeFacts, Shortage
from oaas.routing.geo import haversine_km

# Work (SKU look-ups) the split search may spend before it settles for the best
# combination found so far: keeps 200 nodes well under 50 ms whatever the stock.
SPLIT_SEARCH_BUDGET = 100_000
_DECIMALS = 4


@dataclass(frozen=True, slots=True)
class Weights:
    cost: float = 1.0  # points per major currency unit of transport cost
    load: float = 20.0  # points for a node at 100% of its daily capacity (scaled by load ratio)
    lateness: float = 50.0  # points for lateness risk 1.0 (expected hours 100% over the promise)
    split: float = 15.0  # points per extra node in a split shipment


@dataclass(frozen=True, slots=True)
class Profile:
    weights: Weights = field(default_factory=Weights)
    allow_split: bool = True
    max_split: int = 2  # at most this many nodes serve one order (>= 1)
    version: int = 0


@dataclass(frozen=True, slots=True)
class Node:
    id: UUID
    code: str  # e.g. "HANGZHOU-2", used in sentences
    region: str  # where the node is, e.g. "CN-ZJ"
    latitude: float
    longitude: float
    regions_served: frozenset[str]  # empty: everywhere; country ("DE") or subdivision ("DE-BY")
    regions_excluded: frozenset[str]
    daily_capacity: int  # shipments a day
    used_today: int  # shipments already assigned today
    base_cost_minor: int  # per shipment
    cost_per_km_minor: int  # per km of straight-line distance
    region_rates_minor: Mapping[str, int]  # flat rate per destination region/country
    promise_hours: Mapping[str, float]  # promised delivery hours per destination region/country
    default_promise_hours: float
    estimated_hours: float | None  # learned estimate to the destination; None: use the promise
    estimate_version: int  # 0 when cold
    stock: Mapping[str, int]  # available units per SKU (on hand minus reserved); missing = 0
    unavailable_reason: str | None = None  # set when the node may not be used at all


@dataclass(frozen=True, slots=True)
class Destination:
    country: str  # "DE"
    region: str | None  # "DE-BY" (subdivision) or None
    latitude: float | None = None  # centroid of the region; None: no per-km cost
    longitude: float | None = None


@dataclass(frozen=True, slots=True)
class RoutingRequest:
    lines: tuple[tuple[str, int], ...]  # (sku, quantity > 0); a SKU may repeat: quantities add up
    destination: Destination
    nodes: tuple[Node, ...]
    profile: Profile
    currency_exponent: int = 2  # minor units per major unit: 10**exponent
    currency: str | None = None  # ISO code for sentences; None: amounts without a code


@dataclass(frozen=True, slots=True)
class Components:  # points (see `Weights`), rounded to 4 decimals
    transport: float
    load: float
    lateness: float
    split: float

    @property
    def total(self) -> float:
        return round(self.transport + self.load + self.lateness + self.split, _DECIMALS)


@dataclass(frozen=True, slots=True)
class Candidate:
    node_id: UUID
    code: str
    eligible: bool  # may ship the whole order alone
    reasons: tuple[str, ...]  # why not eligible; empty when eligible
    # May take part in a split: passes every constraint but full stock and holds an
    # ordered SKU (so an eligible node with stock is partial too).
    partial: bool
    transport_cost_minor: int  # one shipment to the destination
    distance_km: float | None
    expected_hours: float  # the learned estimate, else the promise
    promised_hours: float
    estimate_version: int
    # None when a constraint other than stock fails. A split's nodes carry an equal
    # share of the split penalty each, so their scores add up to the shipment's.
    components: Components | None
    score: float | None  # components.total


@dataclass(frozen=True, slots=True)
class Assignment:
    node_id: UUID
    code: str
    lines: tuple[tuple[str, int], ...]  # (sku, quantity) shipped from this node, sorted by sku


@dataclass(frozen=True, slots=True)
class Decision:
    routed: bool
    assignments: tuple[Assignment, ...]  # empty when not routed
    candidates: tuple[Candidate, ...]  # every node, in the order of the request's nodes
    explanation: str  # one plain-language sentence
    reason_code: str | None  # why not routed; None when routed
    profile_version: int


@dataclass(frozen=True, slots=True)
class _Evaluated:
    index: int
    node: Node
    facts: NodeFacts
    candidate: Candidate
    held: Mapping[str, int]  # ordered SKUs this node has at least one unit of

    @property
    def key(self) -> tuple[float, int, str, int]:
        """Rank: score, then transport cost, then code; the index keeps equal codes apart."""
        score = float("inf") if self.candidate.score is None else self.candidate.score
        return (score, self.candidate.transport_cost_minor, self.node.code, self.index)


def _transport(
    node: Node, destination: Destination, keys: tuple[str, ...]
) -> tuple[int, float | None]:
    distance = None
    if destination.latitude is not None and destination.longitude is not None:
        distance = haversine_km(
            node.latitude, node.longitude, destination.latitude, destination.longitude
        )
    # A flat rate is what the carrier bills, whatever the distance.
    rate = next((node.region_rates_minor[k] for k in keys if k in node.region_rates_minor), None)
    if rate is not None:
        return rate, distance
    if distance is None:
        return node.base_cost_minor, None
    return node.base_cost_minor + round(node.cost_per_km_minor * distance), distance


def _lateness_risk(expected: float, promised: float) -> float:
    if promised <= 0:
        # A promise of "now" cannot be kept by any positive delay: count it as fully late.
        return 1.0 if expected > promised else 0.0
    return max(0.0, (expected - promised) / promised)


def _evaluate(
    index: int, node: Node, demand: Mapping[str, int], request: RoutingRequest
) -> _Evaluated:
    destination = request.destination
    keys = (
        (destination.region, destination.country) if destination.region else (destination.country,)
    )
    label = keys[0]
    weights = request.profile.weights

    excluded = next((key for key in keys if key in node.regions_excluded), None)
    served = not node.regions_served or any(key in node.regions_served for key in keys)
    full = node.used_today >= node.daily_capacity
    available = {sku: max(0, node.stock.get(sku, 0)) for sku in demand}
    cost, distance = _transport(node, destination, keys)
    promised = next(
        (node.promise_hours[k] for k in keys if k in node.promise_hours), node.default_promise_hours
    )
    expected = node.estimated_hours if node.estimated_hours is not None else promised
    load_ratio = node.used_today / node.daily_capacity if node.daily_capacity > 0 else 1.0
    facts = NodeFacts(
        code=node.code,
        unavailable=node.unavailable_reason,
        excluded=excluded,
        not_served=None if served else label,
        full=(node.used_today, node.daily_capacity) if full else None,
        shortages=tuple(
            Shortage(sku, available[sku], needed)
            for sku, needed in demand.items()
            if available[sku] < needed
        ),
        load_ratio=load_ratio,
        lateness_risk=_lateness_risk(expected, promised),
    )
    usable = node.unavailable_reason is None and excluded is None and served and not full
    components = None
    if usable:
        components = Components(
            transport=round(weights.cost * cost / 10**request.currency_exponent, _DECIMALS),
            load=round(weights.load * load_ratio, _DECIMALS),
            lateness=round(weights.lateness * facts.lateness_risk, _DECIMALS),
            split=0.0,
        )
    held = {sku: units for sku, units in available.items() if units > 0}
    candidate = Candidate(
        node_id=node.id,
        code=node.code,
        eligible=usable and not facts.shortages,
        reasons=facts.reasons,
        partial=usable and bool(held),
        transport_cost_minor=cost,
        distance_km=distance,
        expected_hours=expected,
        promised_hours=promised,
        estimate_version=node.estimate_version,
        components=components,
        score=components.total if components is not None else None,
    )
    return _Evaluated(index, node, facts, candidate, held)


def _demand(lines: tuple[tuple[str, int], ...]) -> dict[str, int]:
    if not lines:
        raise ValueError("a routing request needs at least one line")
    totals: dict[str, int] = {}
    for sku, quantity in lines:
        if quantity <= 0:
            raise ValueError(f"quantity of {sku} must be positive, got {quantity}")
        totals[sku] = totals.get(sku, 0) + quantity
    return dict(sorted(totals.items()))


# The nodes of a split shipment, cheapest first, with the units each one ships.
_Shipment: TypeAlias = list[tuple[_Evaluated, dict[str, int]]]


@dataclass(slots=True)
class _Search:
    """Branch and bound over nodes in rank order; each node takes what is still missing."""

    pool: list[_Evaluated]
    max_size: int
    split_weight: float
    prune: bool
    remaining: dict[str, int]  # the SKUs still missing, with the units missing
    # Over pool[i:]: the units of each SKU, and the most any one node holds; to drop
    # branches that cannot be completed with the slots left.
    suffix_sum: dict[str, list[int]]
    suffix_max: dict[str, list[int]]
    prefix_score: list[float]  # prefix_score[i]: the scores of pool[:i] added up
    holders: dict[str, list[int]]  # the pool indices holding each SKU, ascending
    work: int = 0
    chosen: _Shipment = field(default_factory=list)
    best: tuple[tuple[float, int, int, tuple[int, ...]], _Shipment] | None = None

    def can_finish(self, start: int, slots: int) -> bool:
        return all(
            self.suffix_sum[sku][start] >= need and self.suffix_max[sku][start] * slots >= need
            for sku, need in self.remaining.items()
        )

    def promising(self, start: int, slots: int, total: float) -> bool:
        """Whether pool[start:] can complete the shipment, and beat the best one so far."""
        if not self.can_finish(start, slots):
            return False
        if not self.prune or self.best is None:
            return True
        # Each node holds at most suffix_max units of a SKU: at least that many more
        # nodes, and none of them scores less than the next ones in the pool.
        more = max(
            -(-need // max(1, self.suffix_max[sku][start])) for sku, need in self.remaining.items()
        )
        end = min(len(self.pool), start + more)
        least = total + self.prefix_score[end] - self.prefix_score[start] + self.split_weight * more
        return round(least, _DECIMALS) <= self.best[0][0]

    def run(self, start: int, score: float, cost: int) -> None:
        size = len(self.chosen) + 1
        indices: Sequence[int] = range(start, len(self.pool))
        if size == self.max_size or len(self.remaining) == 1:
            # The next node must hold the rarest missing SKU: the last node must hold
            # everything missing, and with one SKU missing it has nothing else to ship.
            rarest = min(self.remaining, key=lambda sku: (len(self.holders[sku]), sku))
            holders = self.holders[rarest]
            indices = holders[bisect.bisect_left(holders, start) :]
        for i in indices:
            if not self.step(i, size, score, cost):
                return

    def step(self, i: int, size: int, score: float, cost: int) -> bool:
        """Try pool[i] as the next node; False when no later node is worth trying."""
        if self.work >= SPLIT_SEARCH_BUDGET:
            return False
        # A step costs about as much as six SKU look-ups besides its own.
        self.work += 6 + len(self.remaining)
        entry = self.pool[i]
        total = round(score + entry.key[0] + self.split_weight * (size - 1), _DECIMALS)
        # The pool is sorted by score, so every later node scores at least as much.
        if self.prune and self.best is not None and total > self.best[0][0]:
            return False
        held = entry.held
        if size == self.max_size and not all(
            held.get(sku, 0) >= need for sku, need in self.remaining.items()
        ):
            return True
        taken = {sku: min(held[sku], need) for sku, need in self.remaining.items() if sku in held}
        if not taken:
            return True  # a node that would ship nothing is no part of the shipment
        for sku, units in taken.items():
            self.remaining[sku] -= units
            if not self.remaining[sku]:
                del self.remaining[sku]
        self.chosen.append((entry, taken))
        shipping_cost = cost + entry.candidate.transport_cost_minor
        if not self.remaining:
            key = (total, shipping_cost, size, tuple(e.index for e, _ in self.chosen))
            if self.best is None or key < self.best[0]:
                self.best = (key, list(self.chosen))
        elif size < self.max_size and self.promising(i + 1, self.max_size - size, total):
            self.run(i + 1, score + entry.key[0], shipping_cost)
        self.chosen.pop()
        for sku, units in taken.items():
            self.remaining[sku] = self.remaining.get(sku, 0) + units
        return True


def _split(
    partials: list[_Evaluated], demand: Mapping[str, int], profile: Profile
) -> _Shipment | None:
    pool = sorted(partials, key=lambda entry: entry.key)
    suffix_sum: dict[str, list[int]] = {}
    suffix_max: dict[str, list[int]] = {}
    for sku in demand:
        backwards = [0, *(entry.held.get(sku, 0) for entry in reversed(pool))]
        suffix_sum[sku] = list(itertools.accumulate(backwards))[::-1]
        suffix_max[sku] = list(itertools.accumulate(backwards, max))[::-1]
    weights = profile.weights
    search = _Search(
        pool=pool,
        max_size=profile.max_split,
        split_weight=weights.split,
        # Pruning by score needs scores that only grow as nodes are added.
        prune=min(weights.cost, weights.load, weights.lateness, weights.split) >= 0,
        remaining=dict(demand),
        suffix_sum=suffix_sum,
        suffix_max=suffix_max,
        prefix_score=[0.0, *itertools.accumulate(entry.key[0] for entry in pool)],
        holders={sku: [i for i, e in enumerate(pool) if sku in e.held] for sku in demand},
    )
    if search.can_finish(0, profile.max_split):
        search.run(0, 0.0, 0)
    return None if search.best is None else search.best[1]


def decide(request: RoutingRequest) -> Decision:
    """Route one order; raises ValueError for an order with no lines or a quantity below 1."""
    demand = _demand(request.lines)
    profile = request.profile
    destination = request.destination
    label = destination.region or destination.country
    context = Context(label, demand, request.currency, request.currency_exponent)
    evaluated = [_evaluate(i, node, demand, request) for i, node in enumerate(request.nodes)]
    candidates = tuple(entry.candidate for entry in evaluated)

    def refuse(reason_code: str, explanation: str) -> Decision:
        return Decision(False, (), candidates, explanation, reason_code, profile.version)

    eligible = sorted((e for e in evaluated if e.candidate.eligible), key=lambda e: e.key)
    if eligible:
        chosen = eligible[0]
        assignment = Assignment(chosen.node.id, chosen.node.code, tuple(demand.items()))
        if len(eligible) > 1:
            sentence = explain.single_best(
                chosen.candidate, chosen.facts, eligible[1].candidate, context
            )
        else:
            others = [(e.candidate, e.facts) for e in evaluated if e is not chosen]
            sentence = explain.single_only(chosen.candidate, others, context)
        return Decision(True, (assignment,), candidates, sentence, None, profile.version)

    available = [e for e in evaluated if e.node.unavailable_reason is None]
    if not available:
        return refuse("NO_NODES", explain.no_nodes([e.facts for e in evaluated]))
    serving = [e for e in available if not e.facts.region_blocked]
    if not serving:
        return refuse("NO_NODE_SERVES_REGION", explain.no_region(context))
    open_nodes = [e for e in serving if e.facts.full is None]
    if not open_nodes:
        return refuse("NO_CAPACITY", explain.no_capacity(context))

    units = {sku: sum(e.held.get(sku, 0) for e in open_nodes) for sku in demand}
    if any(units[sku] < needed for sku, needed in demand.items()):
        at_full = {
            sku: sum(e.held.get(sku, 0) for e in serving if e.facts.full is not None)
            for sku in demand
        }
        return refuse("NO_STOCK", explain.no_stock(units, at_full, context))
    partials = [e for e in open_nodes if e.candidate.partial]
    if not profile.allow_split or profile.max_split < 2:
        closest = min(partials, key=lambda e: e.key).facts if partials else None
        return refuse("SPLIT_NOT_ALLOWED", explain.split_not_allowed(closest))
    found = _split(partials, demand, profile)
    if found is None:
        return refuse("SPLIT_TOO_WIDE", explain.split_too_wide(profile.max_split))
    return _split_decision(found, evaluated, profile, context)


def _split_decision(
    found: _Shipment, evaluated: list[_Evaluated], profile: Profile, context: Context
) -> Decision:
    # Each shipping node carries an equal share of the split penalty, so the chosen
    # candidates' scores add up to the score of the shipment as a whole.
    share = round(profile.weights.split * (len(found) - 1) / len(found), _DECIMALS)
    candidates = [entry.candidate for entry in evaluated]
    for entry, _ in found:
        assert entry.candidate.components is not None  # split nodes are partial: scored
        components = replace(entry.candidate.components, split=share)
        candidates[entry.index] = replace(
            entry.candidate, components=components, score=components.total
        )
    assignments = tuple(
        Assignment(entry.node.id, entry.node.code, tuple(sorted(taken.items())))
        for entry, taken in found
    )
    sentence = explain.split(assignments, context)
    return Decision(True, assignments, tuple(candidates), sentence, None, profile.version)
