"""The order state machine: every status change of every mutation goes through `transition`."""

from __future__ import annotations

from oaas.errors import ErrorCode, OaasError
from oaas.orders.models import OrderStatus as S

# From each status, the statuses an order may move to. Fulfilment moves forward
# only (skipping ahead is allowed); CANCELLED is reachable before SHIPPED.
TRANSITIONS: dict[S, frozenset[S]] = {
    S.PENDING: frozenset({S.ON_HOLD, S.ROUTED, S.FULFILLING, S.SHIPPED, S.DELIVERED, S.CANCELLED}),
    S.ON_HOLD: frozenset({S.PENDING, S.ROUTED, S.CANCELLED}),
    S.ROUTED: frozenset({S.PENDING, S.FULFILLING, S.SHIPPED, S.DELIVERED, S.CANCELLED}),
    S.FULFILLING: frozenset({S.SHIPPED, S.DELIVERED, S.CANCELLED}),
    S.SHIPPED: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset(),
    S.CANCELLED: frozenset(),
}

FULFILMENT_TARGETS = frozenset({S.FULFILLING, S.SHIPPED, S.DELIVERED})
# Fulfilment moves along this line; ON_HOLD must be released before it can start.
FULFILMENT_ORDER = (S.PENDING, S.ROUTED, S.FULFILLING, S.SHIPPED, S.DELIVERED)
CANCELLABLE = frozenset(s for s, targets in TRANSITIONS.items() if S.CANCELLED in targets)


def can_transition(current: S, target: S) -> bool:
    return target in TRANSITIONS[current]


def transition(current: S, target: S, field: tuple[str, ...]) -> S:
    """The new status, or INVALID_STATE naming both ends."""
    if not can_transition(current, target):
        raise OaasError(
            ErrorCode.INVALID_STATE,
            f"an order that is {current.value} cannot become {target.value}",
            field,
        )
    return target


def fulfilment_transition(current: S, target: S, field: tuple[str, ...]) -> S:
    if target not in FULFILMENT_TARGETS:
        raise OaasError(ErrorCode.INVALID, "status must be FULFILLING, SHIPPED or DELIVERED", field)
    if current not in FULFILMENT_ORDER or FULFILMENT_ORDER.index(target) <= FULFILMENT_ORDER.index(
        current
    ):
        raise OaasError(
            ErrorCode.INVALID_STATE,
            f"fulfilment moves forward only: an order that is {current.value} cannot become {target.value}",
            field,
        )
    return transition(current, target, field)
