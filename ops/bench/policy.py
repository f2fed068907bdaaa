"""Policy decisions do not grow with the number of tenants.

Casbin's policies hold role -> action lines and share profile -> what it shows
only; tenants, ownership and grants are data in SQL. This measures
`oaas.policy.is_allowed`, and what a partner reading a merchant's order asks of
the share policy (a `Viewer` made from its grant, then one field, one event and
one decision part), for principals spread over 10 and over 20,000 tenants in
one run and prints the ratios. Not a test: figures move with the machine, the
ratio is what matters (target: <= 1.1x).

    python -m ops.bench.policy
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from uuid import UUID

from oaas.policy import (
    Action,
    Principal,
    TenantKind,
    default_policy,
    default_share_policy,
    is_allowed,
)
from oaas.policy.shares import DecisionPart, SharedField, ShareKind, ShareProfile
from oaas.sharing.service import PartnerAccess
from oaas.sharing.views import viewer_of

ACTIONS = (
    Action.ORDER_READ,
    Action.ORDER_CREATE,
    Action.ORDER_CANCEL,
    Action.FULFILLMENT_UPDATE,
    Action.GRANT_WRITE,
    Action.CLIENT_ADMIN,
)
ROLES = (
    ("merchant_admin", TenantKind.MERCHANT),
    ("merchant_operator", TenantKind.MERCHANT),
    ("merchant_viewer", TenantKind.MERCHANT),
    ("partner_operator", TenantKind.PARTNER),
    ("platform_admin", TenantKind.PLATFORM),
)
SCOPES = frozenset({"orders:read", "orders:write", "fulfillment:write", "shares:write", "admin"})
DECISIONS = 200_000


def decisions_per_second(tenants: int, seed: int = 7) -> tuple[float, float]:
    """Each decision is a request's: the principal is built from its token, then asked."""
    rng = random.Random(seed)
    requests = [
        (rng.randrange(tenants), ACTIONS[rng.randrange(len(ACTIONS))], rng.randrange(tenants))
        for _ in range(DECISIONS)
    ]
    started = time.perf_counter()
    for tenant, action, resource in requests:
        role, kind = ROLES[tenant % len(ROLES)]
        principal = Principal(
            tenant_id=UUID(int=tenant + 10),
            tenant_handle="t",
            tenant_kind=kind,
            client_id="c",
            roles=frozenset((role,)),
            scopes=SCOPES,
        )
        is_allowed(principal, action, UUID(int=resource + 10))
    elapsed = time.perf_counter() - started
    return DECISIONS / elapsed, elapsed / DECISIONS * 1e6


def share_decisions_per_second(tenants: int, seed: int = 7) -> tuple[float, float]:
    """A partner of `tenants` reads an order of one of `tenants` merchants: its viewer is
    made from the grant, then asked about a field, an event and a decision part."""
    rng = random.Random(seed)
    profiles = list(ShareProfile)
    requests = [(rng.randrange(tenants), rng.randrange(tenants)) for _ in range(DECISIONS)]
    started = time.perf_counter()
    for partner, merchant in requests:
        principal = Principal(
            tenant_id=UUID(int=partner + 10),
            tenant_handle="p",
            tenant_kind=TenantKind.PARTNER,
            client_id="c",
            roles=frozenset(("partner_operator",)),
            scopes=SCOPES,
        )
        access = PartnerAccess(profile=profiles[merchant % 2], actions=frozenset())
        viewer = viewer_of(principal, access, merchant_handle="m")
        viewer.view(ShareKind.FIELD, SharedField.ORDER_TOTAL)
        viewer.view(ShareKind.EVENT, "HELD")
        viewer.view(ShareKind.DECISION, DecisionPart.OTHER_CANDIDATES)
    elapsed = time.perf_counter() - started
    return DECISIONS / elapsed, elapsed / DECISIONS * 1e6


def _compare(title: str, measure: Callable[[int], tuple[float, float]]) -> None:
    runs: dict[int, list[float]] = {10: [], 20_000: []}
    for _round in range(5):  # interleaved, so drift hits both alike
        for tenants in runs:
            runs[tenants].append(measure(tenants)[1])
    small = statistics.median(runs[10])
    large = statistics.median(runs[20_000])
    print(f"{title}, median of 5 x {DECISIONS:,}")
    print(f"  10 tenants:     {small:6.2f} us")
    print(f"  20,000 tenants: {large:6.2f} us")
    print(f"  ratio 20,000 / 10: {large / small:.2f}x (target <= 1.10x)")


def main() -> None:
    default_policy()
    default_share_policy()
    _compare("policy decision (principal built + is_allowed)", decisions_per_second)
    _compare(
        "share decision (principal and viewer built + 3 questions)", share_decisions_per_second
    )


if __name__ == "__main__":
    main()
