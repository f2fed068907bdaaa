"""The routing engine on hand-made node sets with known answers, plus properties."""

from __future__ import annotations

import itertools
import random
import time
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oaas.routing.engine import (
    Candidate,
    Components,
    Decision,
    Destination,
    Node,
    Profile,
    RoutingRequest,
    Weights,
    decide,
)
from oaas.routing.geo import haversine_km

BAVARIA = Destination("DE", "DE-BY", 48.14, 11.58)  # Munich
NO_COORDINATES = Destination("DE", "DE-BY")
BERLIN = (52.52, 13.40)
HAMBURG = (53.55, 9.99)


def node(
    code: str,
    stock: Mapping[str, int],
    *,
    at: tuple[float, float] = BERLIN,
    base: int = 500,
    per_km: int = 0,
    **fields: Any,
) -> Node:
    made = Node(
        id=uuid.uuid5(uuid.NAMESPACE_URL, f"node:{code}"),
        code=code,
        region="DE-BE",
        latitude=at[0],
        longitude=at[1],
        regions_served=frozenset(),
        regions_excluded=frozenset(),
        daily_capacity=100,
        used_today=0,
        base_cost_minor=base,
        cost_per_km_minor=per_km,
        region_rates_minor={},
        promise_hours={},
        default_promise_hours=48.0,
        estimated_hours=None,
        estimate_version=0,
        stock=dict(stock),
    )
    return replace(made, **fields)


def route(
    nodes: list[Node],
    lines: list[tuple[str, int]],
    *,
    profile: Profile | None = None,
    destination: Destination = BAVARIA,
) -> Decision:
    return decide(
        RoutingRequest(
            lines=tuple(lines),
            destination=destination,
            nodes=tuple(nodes),
            profile=profile or Profile(),
            currency="EUR",
        )
    )


def candidate(decision: Decision, code: str) -> Candidate:
    return next(c for c in decision.candidates if c.code == code)


def components(decision: Decision, code: str) -> Components:
    found = candidate(decision, code).components
    assert found is not None, f"{code} failed a constraint other than stock"
    return found


def shipped_from(decision: Decision) -> list[str]:
    return [assignment.code for assignment in decision.assignments]


# --- choosing one node ---------------------------------------------------------------------


def test_cheapest_eligible_node_wins() -> None:
    nodes = [
        node("BERLIN-1", {"KETTLE-01": 5}, base=700),
        node("MUNICH-2", {"KETTLE-01": 5}, base=490),
        node("HAMBURG-1", {"KETTLE-01": 5}, base=900),
    ]
    decision = route(nodes, [("KETTLE-01", 2)])
    assert decision.routed
    assert decision.reason_code is None
    assert shipped_from(decision) == ["MUNICH-2"]
    assert decision.assignments[0].lines == (("KETTLE-01", 2),)
    assert [c.code for c in decision.candidates] == ["BERLIN-1", "MUNICH-2", "HAMBURG-1"]
    assert all(c.eligible and c.reasons == () for c in decision.candidates)
    assert candidate(decision, "MUNICH-2").score == pytest.approx(4.9)
    assert decision.explanation == (
        "Shipped from MUNICH-2: lowest total score (transport EUR 4.90, load 0%, "
        "lateness risk 0%); BERLIN-1 scored 43% higher because of higher transport cost."
    )


def test_load_counts_against_a_busy_node() -> None:
    nodes = [
        node("BUSY-1", {"A": 1}, base=500, used_today=90),
        node("QUIET-1", {"A": 1}, base=600, used_today=10),
    ]
    decision = route(nodes, [("A", 1)])
    assert components(decision, "BUSY-1").load == pytest.approx(18.0)
    assert shipped_from(decision) == ["QUIET-1"]
    assert "BUSY-1 scored" in decision.explanation
    assert "because of higher load" in decision.explanation


def test_ties_break_on_transport_cost_then_code() -> None:
    # Same score: B-NODE's load makes up for its lower transport cost.
    nodes = [
        node("A-NODE", {"A": 1}, base=600),
        node("B-NODE", {"A": 1}, base=500, used_today=5),  # 5 + 1.0 load = 6.0 points
        node("C-NODE", {"A": 1}, base=600),
    ]
    decision = route(nodes, [("A", 1)])
    assert candidate(decision, "A-NODE").score == candidate(decision, "B-NODE").score
    assert shipped_from(decision) == ["B-NODE"]
    decision = route([nodes[2], nodes[0]], [("A", 1)])
    assert shipped_from(decision) == ["A-NODE"]
    assert "lost the tie on node code" in decision.explanation


def test_same_sku_on_two_lines_is_summed() -> None:
    nodes = [node("SMALL-1", {"A": 4}, base=100), node("BIG-1", {"A": 9}, base=900)]
    decision = route(nodes, [("A", 2), ("A", 3)])
    assert shipped_from(decision) == ["BIG-1"]
    assert decision.assignments[0].lines == (("A", 5),)
    assert candidate(decision, "SMALL-1").reasons == ("only 4 of 5 A in stock",)


# --- hard constraints ----------------------------------------------------------------------


def test_excluded_region_or_country_is_a_hard_failure() -> None:
    nodes = [
        node("CHEAP-1", {"A": 5}, base=100, regions_excluded=frozenset({"DE-BY"})),
        node("CHEAP-2", {"A": 5}, base=100, regions_excluded=frozenset({"DE"})),
        node("DEAR-1", {"A": 5}, base=900, regions_excluded=frozenset({"DE-BE"})),
    ]
    decision = route(nodes, [("A", 1)])
    assert shipped_from(decision) == ["DEAR-1"]
    first, second = candidate(decision, "CHEAP-1"), candidate(decision, "CHEAP-2")
    assert first.reasons == ("region DE-BY excluded",)
    assert second.reasons == ("region DE excluded",)
    assert not first.eligible
    assert not first.partial
    assert first.components is None
    assert first.score is None
    assert decision.explanation == (
        "Shipped from DEAR-1: the only node serving DE-BY; CHEAP-1 was 89% cheaper "
        "but excludes DE-BY."
    )


def test_a_node_serving_other_regions_only_is_not_eligible() -> None:
    nodes = [
        node("FRANCE-1", {"A": 5}, base=100, regions_served=frozenset({"FR"})),
        node("BAVARIA-1", {"A": 5}, base=300, regions_served=frozenset({"DE-BY"})),
        node("GERMANY-1", {"A": 5}, base=200, regions_served=frozenset({"DE", "AT"})),
    ]
    decision = route(nodes, [("A", 1)])
    assert candidate(decision, "FRANCE-1").reasons == ("does not serve DE-BY",)
    assert candidate(decision, "BAVARIA-1").eligible
    assert shipped_from(decision) == ["GERMANY-1"]
    # Without a subdivision, only the country counts.
    decision = route(nodes, [("A", 1)], destination=Destination("DE", None))
    assert not candidate(decision, "BAVARIA-1").eligible
    assert candidate(decision, "BAVARIA-1").reasons == ("does not serve DE",)


def test_a_node_at_daily_capacity_is_not_eligible() -> None:
    nodes = [
        node("FULL-1", {"A": 5}, base=100, daily_capacity=120, used_today=120),
        node("NONE-1", {"A": 5}, base=100, daily_capacity=0, used_today=0),
        node("OPEN-1", {"A": 5}, base=800, daily_capacity=120, used_today=119),
    ]
    decision = route(nodes, [("A", 1)])
    assert shipped_from(decision) == ["OPEN-1"]
    full = candidate(decision, "FULL-1")
    assert full.reasons == ("at daily capacity (120/120)",)
    assert full.components is None
    assert candidate(decision, "NONE-1").reasons == ("at daily capacity (0/0)",)
    assert "FULL-1 was 88% cheaper but was at daily capacity (120/120)" in decision.explanation


def test_stock_shortage_reasons_and_partial_nodes() -> None:
    nodes = [
        node("SHORT-1", {"KETTLE-01": 9, "KETTLE-02": 3}, base=100),
        node("EMPTY-1", {}, base=100),
        node("FULL-1", {"KETTLE-01": 9}, base=100, used_today=100),
        node("WHOLE-1", {"KETTLE-01": 9, "KETTLE-02": 9}, base=900),
    ]
    decision = route(nodes, [("KETTLE-02", 5), ("KETTLE-01", 2)])
    short = candidate(decision, "SHORT-1")
    assert short.reasons == ("only 3 of 5 KETTLE-02 in stock",)
    assert short.partial
    assert not short.eligible
    assert short.components is not None  # stock alone still gets a score
    empty = candidate(decision, "EMPTY-1")
    assert empty.reasons == ("no KETTLE-01 in stock", "no KETTLE-02 in stock")
    assert not empty.partial
    assert empty.components is not None
    full = candidate(decision, "FULL-1")
    assert full.reasons == ("at daily capacity (100/100)", "no KETTLE-02 in stock")
    assert not full.partial
    assert shipped_from(decision) == ["WHOLE-1"]
    assert decision.explanation == (
        "Shipped from WHOLE-1: the only node with KETTLE-01 and KETTLE-02 in stock; "
        "SHORT-1 was 89% cheaper but had only 3 of 5 KETTLE-02."
    )


def test_an_unavailable_node_is_never_used() -> None:
    nodes = [
        node("GONE-1", {"A": 5}, base=100, unavailable_reason="partner lost its grant"),
        node("HERE-1", {"A": 5}, base=500),
    ]
    decision = route(nodes, [("A", 1)])
    gone = candidate(decision, "GONE-1")
    assert gone.reasons == ("partner lost its grant",)
    assert gone.components is None
    assert not gone.partial
    assert shipped_from(decision) == ["HERE-1"]
    # An out-of-use node is not offered as the cheaper alternative.
    assert "GONE-1" not in decision.explanation


# --- transport cost ------------------------------------------------------------------------


def test_haversine_berlin_to_munich() -> None:
    assert haversine_km(*BERLIN, 48.14, 11.58) == pytest.approx(504, abs=3)
    assert haversine_km(*BERLIN, *BERLIN) == 0.0
    assert haversine_km(0, 0, 0, 180) == pytest.approx(20015, abs=1)


def test_per_km_cost_when_no_region_rate() -> None:
    nodes = [node("BERLIN-1", {"A": 1}, at=BERLIN, base=300, per_km=2)]
    decision = route(nodes, [("A", 1)])
    berlin = candidate(decision, "BERLIN-1")
    distance = haversine_km(*BERLIN, BAVARIA.latitude or 0, BAVARIA.longitude or 0)
    assert berlin.distance_km == pytest.approx(distance)
    assert berlin.transport_cost_minor == 300 + round(2 * distance)
    assert isinstance(berlin.transport_cost_minor, int)
    assert berlin.components is not None
    assert berlin.components.transport == pytest.approx(berlin.transport_cost_minor / 100)


def test_region_rate_wins_over_per_km_and_region_over_country() -> None:
    rates = {"DE": 650, "DE-BY": 420}
    nodes = [node("BERLIN-1", {"A": 1}, base=300, per_km=2, region_rates_minor=rates)]
    assert candidate(route(nodes, [("A", 1)]), "BERLIN-1").transport_cost_minor == 420
    decision = route(nodes, [("A", 1)], destination=Destination("DE", "DE-HH", 53.55, 9.99))
    assert candidate(decision, "BERLIN-1").transport_cost_minor == 650
    assert candidate(decision, "BERLIN-1").distance_km is not None


def test_without_destination_coordinates_only_the_base_cost_counts() -> None:
    nodes = [node("BERLIN-1", {"A": 1}, base=300, per_km=2)]
    berlin = candidate(route(nodes, [("A", 1)], destination=NO_COORDINATES), "BERLIN-1")
    assert berlin.transport_cost_minor == 300
    assert berlin.distance_km is None


def test_currency_exponent_scales_the_transport_points() -> None:
    nodes = [node("TOKYO-1", {"A": 1}, base=1500)]
    request = RoutingRequest(
        (("A", 1),), BAVARIA, tuple(nodes), Profile(), currency_exponent=0, currency="JPY"
    )
    decision = decide(request)
    assert candidate(decision, "TOKYO-1").score == pytest.approx(1500.0)
    nodes.append(node("OSAKA-1", {"A": 1}, base=1600))
    decision = decide(replace(request, nodes=tuple(nodes)))
    assert "transport JPY 1500," in decision.explanation


# --- lateness ------------------------------------------------------------------------------


def test_cold_start_uses_the_promise() -> None:
    promises = {"DE": 36.0, "DE-BY": 24.0}
    nodes = [node("COLD-1", {"A": 1}, promise_hours=promises, default_promise_hours=72.0)]
    cold = candidate(route(nodes, [("A", 1)]), "COLD-1")
    assert cold.promised_hours == 24.0
    assert cold.expected_hours == 24.0
    assert cold.estimate_version == 0
    assert cold.components is not None
    assert cold.components.lateness == 0.0
    hamburg = Destination("DE", "DE-HH")
    assert candidate(route(nodes, [("A", 1)], destination=hamburg), "COLD-1").promised_hours == 36
    france = Destination("FR", None)
    assert candidate(route(nodes, [("A", 1)], destination=france), "COLD-1").promised_hours == 72


def test_a_learned_slower_estimate_raises_lateness_and_flips_the_choice() -> None:
    fast = node("FAST-1", {"A": 1}, base=500)
    slow = node("SLOW-1", {"A": 1}, base=700)
    assert shipped_from(route([fast, slow], [("A", 1)])) == ["FAST-1"]

    late = replace(fast, estimated_hours=72.0, estimate_version=3)  # 50% over the 48 h promise
    decision = route([late, slow], [("A", 1)])
    learned = candidate(decision, "FAST-1")
    assert learned.expected_hours == 72.0
    assert learned.estimate_version == 3
    assert learned.components is not None
    assert learned.components.lateness == pytest.approx(25.0)
    assert shipped_from(decision) == ["SLOW-1"]
    assert "FAST-1 scored" in decision.explanation
    assert "because of higher lateness risk" in decision.explanation

    early = replace(fast, estimated_hours=20.0, estimate_version=4)  # early is not rewarded
    assert candidate(route([early, slow], [("A", 1)]), "FAST-1").score == pytest.approx(5.0)


# --- splitting -----------------------------------------------------------------------------


def test_split_when_no_single_node_has_everything() -> None:
    nodes = [
        node("BERLIN-1", {"KETTLE-01": 10}, base=400),
        node("HAMBURG-1", {"KETTLE-02": 10}, base=450),
        node("DEAR-1", {"KETTLE-02": 10}, base=2000),
    ]
    decision = route(nodes, [("KETTLE-01", 2), ("KETTLE-02", 3)])
    assert decision.routed
    assert shipped_from(decision) == ["BERLIN-1", "HAMBURG-1"]
    shipped = Counter[str]()
    for assignment in decision.assignments:
        shipped.update(dict(assignment.lines))
    assert shipped == {"KETTLE-01": 2, "KETTLE-02": 3}
    assert decision.explanation == (
        "Split across BERLIN-1 (KETTLE-01) and HAMBURG-1 (KETTLE-02): "
        "no single node had every item in stock."
    )
    # Each shipping node carries half the split penalty; the others none.
    berlin, hamburg = candidate(decision, "BERLIN-1"), candidate(decision, "HAMBURG-1")
    assert berlin.components is not None
    assert hamburg.components is not None
    assert berlin.components.split == hamburg.components.split == 7.5
    assert (berlin.score or 0) + (hamburg.score or 0) == pytest.approx(4 + 4.5 + 15)
    assert components(decision, "DEAR-1").split == 0.0


def test_a_single_eligible_node_beats_a_cheaper_split() -> None:
    nodes = [
        node("A-1", {"A": 1}, base=100),
        node("B-1", {"B": 1}, base=100),
        node("BOTH-1", {"A": 1, "B": 1}, base=5000),
    ]
    assert shipped_from(route(nodes, [("A", 1), ("B", 1)])) == ["BOTH-1"]


def test_split_not_allowed() -> None:
    nodes = [node("BERLIN-1", {"A": 1}), node("HAMBURG-1", {"B": 1})]
    for profile in (Profile(allow_split=False), Profile(max_split=1)):
        decision = route(nodes, [("A", 1), ("B", 1)], profile=profile)
        assert not decision.routed
        assert decision.assignments == ()
        assert decision.reason_code == "SPLIT_NOT_ALLOWED"
        assert "split shipments are not allowed" in decision.explanation


def test_max_split_is_respected() -> None:
    nodes = [node("N-1", {"A": 1}), node("N-2", {"B": 1}), node("N-3", {"C": 1})]
    lines = [("A", 1), ("B", 1), ("C", 1)]
    decision = route(nodes, lines, profile=Profile(max_split=2))
    assert not decision.routed
    assert decision.reason_code == "SPLIT_TOO_WIDE"
    assert "at most 2" in decision.explanation
    decision = route(nodes, lines, profile=Profile(max_split=3))
    assert sorted(shipped_from(decision)) == ["N-1", "N-2", "N-3"]


def test_a_sku_split_across_two_nodes_by_quantity() -> None:
    nodes = [
        node("DEAR-1", {"KETTLE-01": 4}, base=900),
        node("CHEAP-1", {"KETTLE-01": 3}, base=300),
    ]
    decision = route(nodes, [("KETTLE-01", 5)])
    assert [(a.code, a.lines) for a in decision.assignments] == [
        ("CHEAP-1", (("KETTLE-01", 3),)),  # cheapest node first takes all it has
        ("DEAR-1", (("KETTLE-01", 2),)),
    ]
    assert "CHEAP-1 (3 of 5 KETTLE-01) and DEAR-1 (2 of 5 KETTLE-01)" in decision.explanation


def test_split_picks_the_cheapest_combination() -> None:
    nodes = [
        node("A-CHEAP", {"A": 2}, base=100),
        node("A-DEAR", {"A": 2, "C": 1}, base=1000),
        node("BC-1", {"B": 2, "C": 1}, base=200),
        node("ABC-LOW", {"A": 1, "B": 1, "C": 1}, base=50),
    ]
    decision = route(nodes, [("A", 2), ("B", 2), ("C", 1)], profile=Profile(max_split=3))
    assert shipped_from(decision) == ["A-CHEAP", "BC-1"]


# --- not routed ----------------------------------------------------------------------------


def test_no_nodes() -> None:
    decision = route([], [("A", 1)])
    assert (decision.routed, decision.reason_code, decision.candidates) == (False, "NO_NODES", ())
    gone = node("GONE-1", {"A": 1}, unavailable_reason="inactive")
    decision = route([gone], [("A", 1)])
    assert decision.reason_code == "NO_NODES"
    assert "GONE-1: inactive" in decision.explanation


def test_no_node_serves_the_region() -> None:
    nodes = [
        node("FRANCE-1", {"A": 1}, regions_served=frozenset({"FR"})),
        node("NOT-BY-1", {"A": 1}, regions_excluded=frozenset({"DE-BY"})),
    ]
    decision = route(nodes, [("A", 1)])
    assert decision.reason_code == "NO_NODE_SERVES_REGION"
    assert decision.explanation == "Not routed: no node serves DE-BY."


def test_every_serving_node_at_capacity() -> None:
    nodes = [
        node("FRANCE-1", {"A": 1}, regions_served=frozenset({"FR"})),
        node("FULL-1", {"A": 1}, used_today=100),
    ]
    decision = route(nodes, [("A", 1)])
    assert decision.reason_code == "NO_CAPACITY"
    assert decision.explanation == "Not routed: every node serving DE-BY is at daily capacity."


def test_no_stock_names_the_missing_sku() -> None:
    nodes = [node("BERLIN-1", {"KETTLE-01": 5}), node("FULL-1", {"KETTLE-02": 5}, used_today=100)]
    decision = route(nodes, [("KETTLE-01", 1), ("KETTLE-02", 1)])
    assert decision.reason_code == "NO_STOCK"
    assert decision.explanation == (
        "Not routed: no node with capacity left today has KETTLE-02 in stock."
    )
    decision = route(nodes[:1], [("KETTLE-01", 1), ("KETTLE-02", 1)])
    assert decision.explanation == "Not routed: no node has KETTLE-02 in stock."
    decision = route(nodes[:1], [("KETTLE-01", 7)])
    assert decision.reason_code == "NO_STOCK"
    assert (
        decision.explanation == "Not routed: only 5 of 7 KETTLE-01 are in stock across all nodes."
    )


def test_the_sentence_names_the_chosen_node_and_the_blocking_sku() -> None:
    nodes = [
        node("SHANGHAI-1", {"KETTLE-01": 4}, base=200),
        node("HANGZHOU-2", {"KETTLE-01": 4, "KETTLE-02": 4}, base=300),
    ]
    decision = route(nodes, [("KETTLE-01", 1), ("KETTLE-02", 1)])
    assert decision.explanation == (
        "Shipped from HANGZHOU-2: the only node with KETTLE-01 and KETTLE-02 in stock; "
        "SHANGHAI-1 was 33% cheaper but had no KETTLE-02."
    )
    decision = route(nodes, [("KETTLE-02", 5)], profile=Profile(allow_split=False))
    assert decision.reason_code == "NO_STOCK"
    assert "KETTLE-02" in decision.explanation


def test_invalid_lines_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one line"):
        route([node("N-1", {"A": 1})], [])
    with pytest.raises(ValueError, match="positive"):
        route([node("N-1", {"A": 1})], [("A", 0)])


def test_the_profile_version_is_recorded() -> None:
    decision = route([node("N-1", {"A": 1})], [("A", 1)], profile=Profile(version=7))
    assert decision.profile_version == 7
    decision = route([], [("A", 1)], profile=Profile(version=8))
    assert decision.profile_version == 8


# --- properties ----------------------------------------------------------------------------

SKUS = ("A", "B", "C")


TROUBLES: dict[str, dict[str, Any]] = {
    "unavailable": {"unavailable_reason": "inactive"},
    "excluded": {"regions_excluded": frozenset({"DE-BY"})},
    "excluded country": {"regions_excluded": frozenset({"DE"})},
    "serves elsewhere": {"regions_served": frozenset({"FR", "DE-HH"})},
    "serves the country": {"regions_served": frozenset({"DE"})},
    "full": {"daily_capacity": 5, "used_today": 5},
    "no capacity": {"daily_capacity": 0},
}


@st.composite
def requests(draw: st.DrawFn, max_nodes: int = 7, clean: bool = False) -> RoutingRequest:
    """Mostly nodes that only stock can stop, now and then one with other trouble.

    `clean`: every node usable and holding something, so stock decides everything.
    """
    troubles = st.sampled_from([None] * 8 + ([] if clean else list(TROUBLES)))
    units = st.integers(1, 4) if clean else st.integers(-1, 5)
    nodes = []
    for index in range(draw(st.integers(1 if clean else 0, max_nodes))):
        trouble = draw(troubles)
        nodes.append(
            node(
                f"N-{index}",
                draw(st.dictionaries(st.sampled_from(SKUS), units, min_size=1, max_size=2)),
                at=(draw(st.floats(-60, 60)), draw(st.floats(-179, 179))),
                base=draw(st.integers(0, 2000)),
                per_km=draw(st.integers(0, 3)),
                region_rates_minor=draw(
                    st.dictionaries(st.sampled_from(("DE", "DE-BY")), st.integers(0, 900))
                ),
                estimated_hours=draw(st.none() | st.floats(1, 200)),
                **{"used_today": draw(st.integers(0, 99)), **TROUBLES.get(trouble or "", {})},
            )
        )
    line = st.tuples(st.sampled_from(SKUS), st.integers(1, 3))
    if clean:
        # Nodes hold two SKUs at most: three distinct ones need a split.
        lines = draw(st.lists(line, min_size=2, max_size=3, unique_by=lambda pair: pair[0]))
    else:
        lines = draw(st.lists(line, min_size=1, max_size=3))
    weights = Weights(
        cost=draw(st.floats(0, 5)),
        load=draw(st.floats(0, 50)),
        lateness=draw(st.floats(0, 100)),
        split=draw(st.floats(0, 40)),
    )
    profile = Profile(weights, draw(st.booleans()), draw(st.integers(1, 4)))
    destination = draw(
        st.sampled_from((BAVARIA, NO_COORDINATES, Destination("DE", None, 52.0, 10.0)))
    )
    return RoutingRequest(tuple(lines), destination, tuple(nodes), profile)


def _demand(request: RoutingRequest) -> Counter[str]:
    demand = Counter[str]()
    for sku, quantity in request.lines:
        demand[sku] += quantity
    return demand


@settings(max_examples=200, deadline=None)
@given(requests() | requests(clean=True))
def test_routing_properties(request: RoutingRequest) -> None:
    decision = decide(request)
    assert decision == decide(request)  # deterministic
    assert [c.node_id for c in decision.candidates] == [n.id for n in request.nodes]
    assert decision.explanation.endswith(".")
    if not decision.routed:
        assert decision.assignments == ()
        assert decision.reason_code in {
            "NO_NODES",
            "NO_STOCK",
            "NO_NODE_SERVES_REGION",
            "NO_CAPACITY",
            "SPLIT_NOT_ALLOWED",
            "SPLIT_TOO_WIDE",
        }
        assert not any(c.eligible for c in decision.candidates)
        return

    assert decision.reason_code is None
    nodes = {n.id: n for n in request.nodes}
    candidates = {c.node_id: c for c in decision.candidates}
    shipped = Counter[str]()
    for assignment in decision.assignments:
        source = nodes[assignment.node_id]
        assert source.unavailable_reason is None
        assert candidates[assignment.node_id].components is not None  # passes non-stock rules
        assert assignment.lines == tuple(sorted(assignment.lines))
        for sku, quantity in assignment.lines:
            assert 0 < quantity <= source.stock.get(sku, 0)
            shipped[sku] += quantity
    assert shipped == _demand(request)
    assert len({a.node_id for a in decision.assignments}) == len(decision.assignments)
    limit = request.profile.max_split if request.profile.allow_split else 1
    assert 1 <= len(decision.assignments) <= limit
    if any(c.eligible for c in decision.candidates):
        assert len(decision.assignments) == 1
        assert candidates[decision.assignments[0].node_id].eligible
        best = min(c.score or 0.0 for c in decision.candidates if c.eligible)
        assert candidates[decision.assignments[0].node_id].score == best


def _best_split_score(request: RoutingRequest, decision: Decision) -> float | None:
    """Every combination of partial nodes, allocated cheapest first: the lowest score."""
    demand = _demand(request)
    partial = sorted(
        (
            # The node's own score, without its share of the split penalty.
            (round(c.components.total - c.components.split, 4), c.transport_cost_minor, c.code, n)
            for c, n in zip(decision.candidates, request.nodes, strict=True)
            if c.partial and c.components is not None
        ),
        key=lambda entry: entry[:3],
    )
    best: float | None = None
    for size in range(2, request.profile.max_split + 1):
        for combination in itertools.combinations(partial, size):
            remaining = Counter(demand)
            every_node_ships = True
            for _, _, _, source in combination:
                shipped = False
                for sku in demand:
                    take = min(max(0, source.stock.get(sku, 0)), remaining[sku])
                    remaining[sku] -= take
                    shipped = shipped or take > 0
                every_node_ships = every_node_ships and shipped
            if every_node_ships and not +remaining:
                score = sum(entry[0] for entry in combination)
                score += request.profile.weights.split * (size - 1)
                best = score if best is None else min(best, score)
    return best


@settings(max_examples=200, deadline=None)
@given(requests(max_nodes=6, clean=True))
def test_a_split_is_the_cheapest_covering_combination(request: RoutingRequest) -> None:
    profile = replace(
        request.profile, allow_split=True, max_split=max(2, request.profile.max_split)
    )
    request = replace(request, profile=profile)
    decision = decide(request)
    if any(c.eligible for c in decision.candidates):
        return
    expected = _best_split_score(request, decision)
    if expected is None:
        assert not decision.routed
        return
    assert decision.routed
    chosen = {a.node_id for a in decision.assignments}
    # The chosen candidates carry the split penalty between them.
    score = sum(c.score or 0.0 for c in decision.candidates if c.node_id in chosen)
    assert score == pytest.approx(expected, abs=1e-3)


# --- speed ---------------------------------------------------------------------------------


def _random_nodes(count: int, seed: int, skus: tuple[str, ...]) -> list[Node]:
    rng = random.Random(seed)
    return [
        node(
            f"N-{index:03d}",
            {sku: rng.randint(0, 3) for sku in rng.sample(skus, k=rng.randint(1, len(skus) - 1))},
            at=(rng.uniform(35, 60), rng.uniform(-10, 30)),
            base=rng.randint(100, 1000),
            per_km=rng.randint(0, 3),
            regions_served=frozenset(rng.choice([(), ("DE",), ("DE-BY", "AT"), ("FR",)])),
            daily_capacity=200,
            used_today=rng.randint(0, 210),
            estimated_hours=rng.choice([None, rng.uniform(10, 90)]),
        )
        for index in range(count)
    ]


@pytest.mark.parametrize("max_split", [2, 4])
def test_two_hundred_nodes_decide_quickly(max_split: int) -> None:
    skus = tuple(f"SKU-{i}" for i in range(6))
    nodes = _random_nodes(200, seed=max_split, skus=skus)
    # No node holds every SKU, so this walks the split search too.
    lines = tuple((sku, 2) for sku in skus)
    request = RoutingRequest(lines, BAVARIA, tuple(nodes), Profile(max_split=max_split))
    started = time.perf_counter()
    decision = decide(request)
    elapsed = time.perf_counter() - started
    assert len(decision.candidates) == 200
    assert elapsed < 1.0, f"200 nodes took {elapsed * 1000:.1f} ms"


def test_a_rare_sku_at_the_dearest_of_200_nodes_is_still_found() -> None:
    common = [node(f"N-{i:03d}", {"A": 5}, base=100 + i) for i in range(199)]
    rare = node("RARE-1", {"B": 1}, base=5000)
    for max_split in (2, 5):
        decision = route(
            [*common, rare], [("A", 1), ("B", 1)], profile=Profile(max_split=max_split)
        )
        assert shipped_from(decision) == ["N-000", "RARE-1"]
