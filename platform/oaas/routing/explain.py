"""The one sentence that explains a routing decision.

The sentences are read out by customer-service agents, so they name nodes by
code, items by SKU and money in major units, and give the real reason (the
blocking SKU, the region nobody serves) rather than scores alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Only for annotations: the engine imports this module at run time.
    from oaas.routing.engine import Assignment, Candidate

# Beyond this many SKUs a sentence counts items instead of naming them.
_MAX_NAMED = 3


@dataclass(frozen=True, slots=True)
class Shortage:
    sku: str
    available: int
    needed: int

    @property
    def reason(self) -> str:
        if self.available <= 0:
            return f"no {self.sku} in stock"
        return f"only {self.available} of {self.needed} {self.sku} in stock"

    @property
    def had(self) -> str:
        if self.available <= 0:
            return f"had no {self.sku}"
        return f"had only {self.available} of {self.needed} {self.sku}"


@dataclass(frozen=True, slots=True)
class NodeFacts:
    """Why a node can or cannot ship, kept structured so each sentence can phrase it."""

    code: str
    unavailable: str | None
    excluded: str | None  # the destination code (region or country) the node excludes
    not_served: str | None  # the destination label when the node serves elsewhere only
    full: tuple[int, int] | None  # (used today, daily capacity) when at capacity
    shortages: tuple[Shortage, ...]
    load_ratio: float
    lateness_risk: float

    @property
    def region_blocked(self) -> bool:
        return self.excluded is not None or self.not_served is not None

    @property
    def reasons(self) -> tuple[str, ...]:
        found: list[str] = []
        if self.unavailable is not None:
            found.append(self.unavailable)
        if self.excluded is not None:
            found.append(f"region {self.excluded} excluded")
        if self.not_served is not None:
            found.append(f"does not serve {self.not_served}")
        if self.full is not None:
            found.append(f"at daily capacity ({self.full[0]}/{self.full[1]})")
        found.extend(shortage.reason for shortage in self.shortages)
        return tuple(found)

    @property
    def but(self) -> str:
        """The first reason as the end of "X was cheaper but ..."."""
        if self.unavailable is not None:
            return f"was unavailable ({self.unavailable})"
        if self.excluded is not None:
            return f"excludes {self.excluded}"
        if self.not_served is not None:
            return f"does not serve {self.not_served}"
        if self.full is not None:
            return f"was at daily capacity ({self.full[0]}/{self.full[1]})"
        if self.shortages:
            return self.shortages[0].had
        return "could not ship the whole order"


@dataclass(frozen=True, slots=True)
class Context:
    destination: str  # the region code, or the country when there is none
    demand: Mapping[str, int]  # total quantity per SKU, sorted by SKU
    currency: str | None
    exponent: int

    def money(self, minor: int) -> str:
        amount = str(Decimal(minor).scaleb(-self.exponent))
        return f"{self.currency} {amount}" if self.currency else amount


def join_words(words: Sequence[str], conjunction: str = "and") -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {conjunction} {words[-1]}"


def _items(skus: Sequence[str]) -> str:
    if len(skus) > _MAX_NAMED:
        return f"all {len(skus)} items"
    return join_words(skus)


def _percent(value: float) -> int:
    return round(value * 100)


def _only_phrase(others: Sequence[NodeFacts], context: Context) -> str:
    if others and all(facts.shortages for facts in others):
        return f"the only node with {_items(list(context.demand))} in stock"
    if others and all(facts.region_blocked for facts in others):
        return f"the only node serving {context.destination}"
    if others and all(facts.full is not None for facts in others):
        return "the only node with capacity left today"
    return "the only node able to ship the whole order"


def single_only(
    chosen: Candidate, others: Sequence[tuple[Candidate, NodeFacts]], context: Context
) -> str:
    """The chosen node was the only eligible one: say why, and what a cheaper node lacked."""
    sentence = f"Shipped from {chosen.code}: {_only_phrase([f for _, f in others], context)}"
    # Nodes out of use are no real alternative, and naming them tells a customer nothing.
    cheaper = [
        (candidate, facts)
        for candidate, facts in others
        if facts.unavailable is None
        and candidate.transport_cost_minor < chosen.transport_cost_minor
    ]
    if cheaper:
        candidate, facts = min(cheaper, key=lambda pair: pair[0].transport_cost_minor)
        saving = 1 - candidate.transport_cost_minor / chosen.transport_cost_minor
        percent = _percent(saving)
        how = f"{percent}% cheaper" if percent >= 1 else "slightly cheaper"
        sentence += f"; {candidate.code} was {how} but {facts.but}"
    return sentence + "."


_COMPONENT_NAMES = {
    "transport": "higher transport cost",
    "load": "higher load",
    "lateness": "higher lateness risk",
}


def single_best(chosen: Candidate, facts: NodeFacts, runner_up: Candidate, context: Context) -> str:
    """Several nodes could ship: the chosen one scored lowest, against the runner-up."""
    ours, theirs = chosen.components, runner_up.components
    if ours is None or theirs is None:
        raise ValueError("only nodes that passed every constraint are compared by score")
    summary = (
        f"transport {context.money(chosen.transport_cost_minor)}, "
        f"load {_percent(facts.load_ratio)}%, lateness risk {_percent(facts.lateness_risk)}%"
    )
    differences = {
        "transport": theirs.transport - ours.transport,
        "load": theirs.load - ours.load,
        "lateness": theirs.lateness - ours.lateness,
    }
    # Ties go to the first listed component, so the wording does not depend on dict order.
    biggest = max(differences, key=lambda name: differences[name])
    gap = theirs.total - ours.total
    if gap > 0 and differences[biggest] > 0:
        because = _COMPONENT_NAMES[biggest]
        if ours.total > 0:
            percent = _percent(gap / ours.total)
            higher = f"{percent}% higher" if percent >= 1 else "slightly higher"
        else:
            higher = f"{gap:.1f} points higher"
        comparison = f"{runner_up.code} scored {higher} because of {because}"
    elif runner_up.transport_cost_minor > chosen.transport_cost_minor:
        comparison = f"{runner_up.code} scored the same but costs more to ship"
    else:
        comparison = f"{runner_up.code} scored the same and lost the tie on node code"
    return f"Shipped from {chosen.code}: lowest total score ({summary}); {comparison}."


def split(assignments: Sequence[Assignment], context: Context) -> str:
    parts: list[str] = []
    for assignment in assignments:
        if len(assignment.lines) > _MAX_NAMED:
            shipped = f"{len(assignment.lines)} items"
        else:
            shipped = ", ".join(
                sku
                if quantity == context.demand[sku]
                else f"{quantity} of {context.demand[sku]} {sku}"
                for sku, quantity in assignment.lines
            )
        parts.append(f"{assignment.code} ({shipped})")
    return f"Split across {join_words(parts)}: no single node had every item in stock."


def no_nodes(unavailable: Sequence[NodeFacts]) -> str:
    if not unavailable:
        return "Not routed: there are no fulfilment nodes to choose from."
    first = unavailable[0]
    more = f", and {len(unavailable) - 1} more" if len(unavailable) > 1 else ""
    return f"Not routed: no fulfilment node is available ({first.code}: {first.unavailable}{more})."


def no_region(context: Context) -> str:
    return f"Not routed: no node serves {context.destination}."


def no_capacity(context: Context) -> str:
    return f"Not routed: every node serving {context.destination} is at daily capacity."


def no_stock(
    available: Mapping[str, int], held_by_full_nodes: Mapping[str, int], context: Context
) -> str:
    """`available`: units of each SKU over every node that could ship; the full nodes' apart."""
    missing = [sku for sku, needed in context.demand.items() if available[sku] <= 0]
    short = [
        f"only {available[sku]} of {needed} {sku}"
        for sku, needed in context.demand.items()
        if 0 < available[sku] < needed
    ]
    blocking = [sku for sku, needed in context.demand.items() if available[sku] < needed]
    # Stock that sits at nodes with no capacity left is why, not a missing item.
    at_full_nodes = all(
        available[sku] + held_by_full_nodes.get(sku, 0) >= context.demand[sku] for sku in blocking
    )
    who = "no node with capacity left today" if at_full_nodes else "no node"

    clauses: list[str] = []
    if missing:
        clauses.append(f"{who} has {join_words(missing, 'or')} in stock")
    if short:
        where = "at nodes with capacity left today" if at_full_nodes else "across all nodes"
        singular = len(short) == 1 and short[0].startswith("only 1 of")
        clauses.append(f"{join_words(short)} {'is' if singular else 'are'} in stock {where}")
    return f"Not routed: {'; '.join(clauses)}."


def split_not_allowed(closest: NodeFacts | None) -> str:
    detail = f" ({closest.code}: {closest.reasons[0]})" if closest and closest.reasons else ""
    return (
        "Not routed: no single node has every item in stock"
        f"{detail} and split shipments are not allowed."
    )


def split_too_wide(max_split: int) -> str:
    return (
        f"Not routed: the items are spread over more than {max_split} nodes "
        f"and a shipment may be split across at most {max_split}."
    )


# ---- The sentence a partner reads: built from its own nodes' part of the decision
# only, so it names no other node, no other partner and no money.

_NOT_ROUTED = {
    "NO_NODES": "no fulfilment node is available",
    "NO_STOCK": "the items are not in stock",
    "NO_NODE_SERVES_REGION": "no node serves {destination}",
    "NO_CAPACITY": "every node serving {destination} is at daily capacity",
    "SPLIT_NOT_ALLOWED": "no single node has every item in stock "
    "and split shipments are not allowed",
    "SPLIT_TOO_WIDE": "the items are spread over more nodes than a shipment may be split across",
}


def not_routed_phrase(reason_code: str | None, destination: str) -> str:
    """Why an order was not routed, with no node named: safe for any reader of the order."""
    phrase = _NOT_ROUTED.get(reason_code or "", "no node could ship the order")
    return phrase.format(destination=destination)


def _shipped(lines: Sequence[tuple[str, int]]) -> str:
    if len(lines) > _MAX_NAMED:
        return f"{len(lines)} items"
    return join_words([f"{quantity} {sku}" for sku, quantity in lines])


def _others(count: int) -> str:
    return "another node" if count == 1 else f"{count} other nodes"


def for_partner(
    *,
    routed: bool,
    reason_code: str | None,
    destination: str,
    own_assignments: Sequence[tuple[str, Sequence[tuple[str, int]]]],
    other_assignments: int,
    own_candidates: Sequence[tuple[str, bool, Sequence[str]]],
) -> str:
    """`own_assignments`: (node code, (sku, quantity) lines) of the partner's nodes;
    `other_assignments`: how many other nodes ship; `own_candidates`: (node code,
    eligible, reasons) of the partner's nodes."""
    if not routed:
        sentence = f"Not routed: {not_routed_phrase(reason_code, destination)}"
        ruled_out = [(code, reasons) for code, _eligible, reasons in own_candidates if reasons]
        if ruled_out:
            sentence += "; " + "; ".join(f"{code}: {', '.join(r)}" for code, r in ruled_out)
        return sentence + "."
    if own_assignments:
        parts = [f"{code} ({_shipped(lines)})" for code, lines in own_assignments]
        if other_assignments == 0 and len(parts) == 1:
            return f"Shipped from {own_assignments[0][0]}."
        if other_assignments == 0:
            return f"Split across {join_words(parts)}."
        return f"Split: {join_words(parts)}; the rest ships from {_others(other_assignments)}."
    sentence = f"Shipped from {_others(other_assignments)}"
    passed_over = [
        f"{code} ({', '.join(reasons) if reasons else 'not chosen'})"
        for code, _eligible, reasons in own_candidates
    ]
    if passed_over:
        sentence += f", not {join_words(passed_over, 'or')}"
    return sentence + "."
