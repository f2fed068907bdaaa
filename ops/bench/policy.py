"""Policy decisions do not grow with the number of tenants.

Casbin's policy holds role -> action lines only; tenants, ownership and grants
are data in SQL. This measures `oaas.policy.is_allowed` for principals spread
over 10 and over 20,000 tenants in one run and prints the ratio. Not a test:
figures move with the machine, the ratio is what matters (target: <= 1.1x).

    python -m ops.bench.policy
"""

from __future__ import annotations

import random
import statistics
import time
from uuid import UUID

from oaas.policy import Principal, TenantKind, default_policy, is_allowed

ACTIONS = (
    "order:read",
    "order:create",
    "order:cancel",
    "fulfillment:update",
    "grant:write",
    "client:admin",
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


def main() -> None:
    default_policy()
    runs: dict[int, list[float]] = {10: [], 20_000: []}
    for _round in range(5):  # interleaved, so drift hits both alike
        for tenants in runs:
            runs[tenants].append(decisions_per_second(tenants)[1])
    small = statistics.median(runs[10])
    large = statistics.median(runs[20_000])
    print(f"policy decision (principal built + is_allowed), median of 5 x {DECISIONS:,}")
    print(f"  10 tenants:     {small:6.2f} us")
    print(f"  20,000 tenants: {large:6.2f} us")
    print(f"  ratio 20,000 / 10: {large / small:.2f}x (target <= 1.10x)")


if __name__ == "__main__":
    main()
