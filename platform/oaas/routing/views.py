"""A routing decision as one reader may see it.

The merchant (and a platform admin) sees the decision as recorded. A partner
sees what its share profile shows (oaas.policy.shares): under LOGISTICS only
the candidates and assignments of the nodes it operates, no transport cost or
score, and a sentence built from that part instead of the merchant's, which
compares costs and names the other nodes (and the partners operating them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from oaas.policy.shares import DecisionPart, SharedField, ShareKind, View
from oaas.routing import explain
from oaas.routing.models import RoutingDecisionRow
from oaas.sharing.views import Viewer

# The stored candidate keys each hidden field takes out of the record.
_CANDIDATE_KEYS: dict[SharedField, tuple[str, ...]] = {
    SharedField.CANDIDATE_TRANSPORT_COST: ("transport_cost_minor",),
    SharedField.CANDIDATE_SCORE: ("score",),
    SharedField.CANDIDATE_COMPONENTS: ("components",),
}


@dataclass(frozen=True, slots=True)
class SeenDecision:
    """A decision record with only what the reader may see; hidden values are gone."""

    sequence: int
    trigger: str
    decided_at: datetime
    routed: bool
    reason_code: str | None
    explanation: str
    destination_region: str
    profile_version: int
    candidates: list[dict[str, Any]]
    assignments: list[dict[str, Any]]
    settlement: str | None


def _node_of(data: dict[str, Any]) -> UUID | None:
    try:
        return UUID(str(data["node_id"]))
    except (KeyError, ValueError):
        return None


def decision_seen_by(row: RoutingDecisionRow, viewer: Viewer) -> SeenDecision:
    if not viewer.partner:
        return _seen(row, row.candidates, row.assignments, row.explanation)
    own_candidates = [c for c in row.candidates if _node_of(c) in viewer.node_ids]
    own_assignments = [a for a in row.assignments if _node_of(a) in viewer.node_ids]
    candidates = (
        row.candidates
        if viewer.shows(ShareKind.DECISION, DecisionPart.OTHER_CANDIDATES)
        else own_candidates
    )
    assignments = (
        row.assignments
        if viewer.shows(ShareKind.DECISION, DecisionPart.OTHER_ASSIGNMENTS)
        else own_assignments
    )
    hidden = [
        key
        for field, keys in _CANDIDATE_KEYS.items()
        if not viewer.shows(ShareKind.FIELD, field)
        for key in keys
    ]
    if hidden:
        candidates = [{k: v for k, v in c.items() if k not in hidden} for c in candidates]
    explanation = row.explanation
    if viewer.view(ShareKind.DECISION, DecisionPart.EXPLANATION) is not View.SHOW:
        explanation = explain.for_partner(
            routed=row.routed,
            reason_code=row.reason_code,
            destination=row.destination_region,
            own_assignments=[
                (a["code"], [(x["sku"], int(x["quantity"])) for x in a["lines"]])
                for a in own_assignments
            ],
            other_assignments=len(row.assignments) - len(own_assignments),
            own_candidates=[
                (c["code"], bool(c["eligible"]), list(c["reasons"])) for c in own_candidates
            ],
        )
    return _seen(row, candidates, assignments, explanation)


def _seen(
    row: RoutingDecisionRow,
    candidates: list[dict[str, Any]],
    assignments: list[dict[str, Any]],
    explanation: str,
) -> SeenDecision:
    return SeenDecision(
        sequence=row.sequence,
        trigger=row.trigger,
        decided_at=row.decided_at,
        routed=row.routed,
        reason_code=row.reason_code,
        explanation=explanation,
        destination_region=row.destination_region,
        profile_version=row.profile_version,
        candidates=list(candidates),
        assignments=list(assignments),
        settlement=row.settlement,
    )
