"""The sentences a LOGISTICS partner reads: built from its own nodes' part only."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest

from oaas.lifecycle.event_views import SOMEONE_ELSE, events_seen_by
from oaas.orders.records import EventRecord
from oaas.policy.shares import ShareProfile
from oaas.routing.explain import for_partner
from oaas.sharing.views import Viewer

SWIFT = "SWIFT-1"
VIEWER = Viewer(
    partner=True,
    profile=ShareProfile.LOGISTICS,
    handle="swiftship",
    merchant_handle="acme",
    node_ids=frozenset({UUID(int=5)}),
    node_codes=frozenset({SWIFT.casefold()}),
)

SENTENCES = {
    "shipped from its node": (
        {"routed": True, "own_assignments": [(SWIFT, [("KETTLE-01", 2)])], "other_assignments": 0},
        "Shipped from SWIFT-1.",
    ),
    "a split with another node": (
        {"routed": True, "own_assignments": [(SWIFT, [("KETTLE-01", 2)])], "other_assignments": 1},
        "Split: SWIFT-1 (2 KETTLE-01); the rest ships from another node.",
    ),
    "shipped elsewhere": (
        {
            "routed": True,
            "other_assignments": 2,
            "own_candidates": [(SWIFT, False, ["region DE-BY excluded"])],
        },
        "Shipped from 2 other nodes, not SWIFT-1 (region DE-BY excluded).",
    ),
    "not routed": (
        {
            "routed": False,
            "reason_code": "NO_NODE_SERVES_REGION",
            "own_candidates": [(SWIFT, False, ["does not serve DE-BY"])],
        },
        "Not routed: no node serves DE-BY; SWIFT-1: does not serve DE-BY.",
    ),
}


@pytest.mark.parametrize(("given", "sentence"), SENTENCES.values(), ids=SENTENCES.keys())
def test_a_partner_sentence_names_only_its_own_nodes(
    given: dict[str, object], sentence: str
) -> None:
    arguments: dict[str, object] = {
        "routed": True,
        "reason_code": None,
        "destination": "DE-BY",
        "own_assignments": [],
        "other_assignments": 0,
        "own_candidates": [],
        **given,
    }
    assert for_partner(**arguments) == sentence  # type: ignore[arg-type]


def event(type: str, actor: str, message: str | None, **detail: object) -> EventRecord:
    return EventRecord(
        type=type, at=datetime(2026, 1, 1, tzinfo=UTC), actor=actor, message=message, detail=detail
    )


def test_events_are_rendered_for_a_partner_from_their_detail() -> None:
    merchant_sentence = (
        "Split across ACME-1 (TOASTER-2) and SWIFT-1 (KETTLE-01): transport EUR 9.10"
    )
    seen = events_seen_by(
        [
            event("CREATED", "acme/acme-shop", None, lines=1, total_minor=8880),
            event(
                "HELD", "acme/acme-shop", "held for risk review: score 85 (hold at 70)", score=85
            ),
            event("APPROVED", "acme/acme-backend", "released after risk review"),
            event("ROUTED", "system/intake", merchant_sentence, nodes=["ACME-1", "swift-1"]),
            event("FULFILLMENT_UPDATED", "roadrun/roadrun-tms", "ROUTED -> SHIPPED", to="SHIPPED"),
            event(
                "FULFILLMENT_UPDATED", "swiftship/swiftship-tms", "x", **{"from": "A", "to": "B"}
            ),
        ],
        VIEWER,
    )
    assert [(e.type, e.actor, e.message) for e in seen] == [
        ("CREATED", "acme/acme-shop", None),
        ("HELD", "acme/acme-shop", "held for review"),
        ("APPROVED", "acme/acme-backend", "released after review"),
        ("ROUTED", SOMEONE_ELSE, "routed to swift-1 and another node"),
        ("FULFILLMENT_UPDATED", SOMEONE_ELSE, "fulfilment updated"),
        ("FULFILLMENT_UPDATED", "swiftship/swiftship-tms", "A -> B"),
    ]
    assert all(e.detail == {} for e in seen)
