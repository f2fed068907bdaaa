"""An order's events as one reader may see them.

The merchant's messages are written for the merchant: a hold names the risk
score and threshold, a routing event repeats the decision's sentence (costs,
the other nodes, the partners operating them). Where the reader's share
profile redacts an event type (oaas.policy.shares), its message is rendered
again from the event's structured detail with none of that, and its actor is
named only when it is the reader itself or the merchant.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from oaas.orders.events import EventType
from oaas.orders.records import EventRecord
from oaas.policy.shares import ShareKind, View, strictest
from oaas.routing import explain
from oaas.sharing.views import Viewer

# The actor of a redacted event whom the reader may not know.
SOMEONE_ELSE = "someone else"


def _lines(detail: dict[str, Any]) -> str:
    lines = detail.get("lines")
    if not isinstance(lines, list) or not lines:
        return ""
    return ": " + ", ".join(f"{line['quantity']} {line['sku']}" for line in lines)


def _routed(verb: str) -> Callable[[EventRecord, Viewer], str]:
    def render(event: EventRecord, viewer: Viewer) -> str:
        nodes = [str(code) for code in event.detail.get("nodes", [])]
        own = [code for code in nodes if viewer.operates(code)]
        others = len(nodes) - len(own)
        where = [*own] + (
            ["another node" if others == 1 else f"{others} other nodes"] if others else []
        )
        return f"{verb} {explain.join_words(where) or 'a node'}"

    return render


def _pending(event: EventRecord, viewer: Viewer) -> str:
    reason = event.detail.get("reason")
    phrase = explain.not_routed_phrase(
        reason if isinstance(reason, str) else None, "the order's region"
    )
    return f"not routed yet: {phrase}"


_PARTNER_MESSAGES: dict[str, Callable[[EventRecord, Viewer], str | None]] = {
    EventType.CREATED: lambda event, viewer: None,
    EventType.CANCELLED: lambda event, viewer: "cancelled",
    EventType.LINES_CANCELLED: lambda event, viewer: "lines cancelled" + _lines(event.detail),
    EventType.FULFILLMENT_UPDATED: lambda event, viewer: (
        f"{event.detail['from']} -> {event.detail['to']}"
        if "from" in event.detail and "to" in event.detail
        else "fulfilment updated"
    ),
    EventType.ROUTED: _routed("routed to"),
    EventType.REROUTED: _routed("re-routed to"),
    EventType.ROUTING_PENDING: _pending,
    EventType.ROUTING_DEFERRED: lambda event, viewer: (
        "accepted; routing will be retried automatically"
    ),
    EventType.HELD: lambda event, viewer: "held for review",
    EventType.APPROVED: lambda event, viewer: "released after review",
    EventType.REJECTED: lambda event, viewer: "rejected after review",
}


def events_seen_by(events: Sequence[EventRecord], viewer: Viewer) -> list[EventRecord]:
    if not viewer.partner:
        return list(events)
    seen: list[EventRecord] = []
    for event in events:
        render = _PARTNER_MESSAGES.get(event.type)
        try:
            view = viewer.view(ShareKind.EVENT, event.type)
        except KeyError:  # a type outside the vocabulary: as little as possible
            view = strictest(ShareKind.EVENT, event.type)
        if view is View.SHOW:
            seen.append(event)
        elif view is View.REDACT and render is not None:
            actor = event.actor if viewer.names(event.actor) else SOMEONE_ELSE
            seen.append(replace(event, actor=actor, message=render(event, viewer), detail={}))
    return seen
