"""The `routing:` and `risk:` sections of a manifest, one entry per merchant.

    routing:
    - merchant: acme
      profile: {cost_weight: 1, load_weight: 20, lateness_weight: 50, split_weight: 15,
                allow_split: true, max_split: 2, region_centroids: {DE-BY: [48.14, 11.58]}}
      nodes:
        - code: BERLIN-1
          name: Berlin warehouse
          latitude: 52.52
          longitude: 13.40
          region: DE-BE
          regions_served: [DE]
          daily_capacity: 500
          currency: EUR
          base_cost: "4.90"
          cost_per_km: "0.01"
          default_promise_hours: 48
          operator: swiftship          # a partner's node (it must hold a grant)
          stock: {KETTLE-01: 40}
    risk:
    - {merchant: acme, hold_threshold: 70, medium_threshold: 40, extra_disposable_domains: [...]}

Read with the same validation as the API (every problem named by path), and
applied through the same services.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oaas.errors import ErrorCode, OaasError, ValidationFailed
from oaas.lifecycle.changes import change_stock
from oaas.policy import Principal
from oaas.risk.facts import RiskPolicy
from oaas.risk.service import load_policy, risk_policy, set_risk_policy
from oaas.routing import nodes
from oaas.routing.planning import load_profile
from oaas.routing.profiles import set_routing_profile
from oaas.routing.validation import (
    NodeInput,
    ProfileInput,
    StockInput,
    validate_node,
    validate_profile,
    validate_stock,
)
from oaas.tenancy.models import Tenant
from oaas.tenancy.service import find_tenant

Problems = list[tuple[str, str]]
NODE_KEYS = (
    "code", "name", "kind", "latitude", "longitude", "region", "regions_served",
    "regions_excluded", "daily_capacity", "currency", "base_cost", "cost_per_km",
    "region_rates", "promise_hours", "default_promise_hours", "active", "operator", "stock",
)  # fmt: skip
PROFILE_KEYS = (
    "cost_weight", "load_weight", "lateness_weight", "split_weight", "allow_split",
    "max_split", "region_centroids",
)  # fmt: skip
RISK_KEYS = (
    "hold_threshold", "medium_threshold", "velocity_window_hours", "velocity_limits",
    "distinct_addresses_limit", "extra_disposable_domains",
)  # fmt: skip


@dataclass(frozen=True)
class NodeSpec:
    node: NodeInput
    operator: str | None
    stock: tuple[StockInput, ...]


@dataclass(frozen=True)
class RoutingSpec:
    merchant: str
    profile: ProfileInput | None
    nodes: tuple[NodeSpec, ...]
    origin: str


@dataclass(frozen=True)
class RiskSpec:
    merchant: str
    policy: RiskPolicy
    origin: str


def _merchant(data: dict[str, Any], path: str) -> tuple[str | None, Problems]:
    merchant = data.get("merchant")
    if not isinstance(merchant, str) or not merchant:
        return None, [(f"{path}.merchant", "is required: the merchant's handle")]
    return merchant, []


def _unknown(data: dict[str, Any], allowed: tuple[str, ...], path: str) -> Problems:
    return [
        (f"{path}.{key}", f"unknown key (expected one of {', '.join(sorted(allowed))})")
        for key in data
        if key not in allowed
    ]


def _domain_problems(error: OaasError, path: str) -> Problems:
    errors = error.errors if isinstance(error, ValidationFailed) else [error]
    found = []
    for e in errors:
        field = e.field or ()
        # API errors name the argument ("input", ...); here the path stands for it.
        where = ".".join((path, *field[1:])) if field[:1] == ("input",) else ".".join(field)
        found.append((where or path, e.message.split(": ", 1)[-1]))
    return found


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation as error:
        raise ValueError(f"{value!r} is not a number") from error


def _node(data: Any, path: str) -> tuple[NodeSpec | None, Problems]:
    if not isinstance(data, dict):
        return None, [(path, "must be a mapping")]
    problems = _unknown(data, NODE_KEYS, path)
    try:
        node = NodeInput(
            code=str(data["code"]),
            name=str(data["name"]),
            kind=str(data.get("kind", "WAREHOUSE")),
            latitude=float(data["latitude"]),
            longitude=float(data["longitude"]),
            region=str(data["region"]),
            regions_served=tuple(str(r) for r in data.get("regions_served", ())),
            regions_excluded=tuple(str(r) for r in data.get("regions_excluded", ())),
            daily_capacity=int(data["daily_capacity"]),
            currency=str(data["currency"]),
            base_cost=_decimal(data.get("base_cost", 0)),
            cost_per_km=_decimal(data.get("cost_per_km", 0)),
            region_rates={str(k): _decimal(v) for k, v in data.get("region_rates", {}).items()},
            promise_hours={str(k): float(v) for k, v in data.get("promise_hours", {}).items()},
            default_promise_hours=float(data["default_promise_hours"]),
            active=bool(data.get("active", True)),
        )
        stock = tuple(
            StockInput(node=node.code, sku=str(sku), on_hand=int(count))
            for sku, count in (data.get("stock") or {}).items()
        )
    except KeyError as missing:
        return None, [*problems, (f"{path}.{missing.args[0]}", "is required")]
    except (TypeError, ValueError, AttributeError) as error:
        return None, [*problems, (path, f"has a value of the wrong type ({error})")]
    try:
        validate_node(node, (path,))
        validate_stock(list(stock), (f"{path}.stock",))
    except OaasError as error:
        problems.extend(_domain_problems(error, path))
    operator = data.get("operator")
    if operator is not None and not isinstance(operator, str):
        problems.append((f"{path}.operator", "must be a partner's handle"))
    if problems:
        return None, problems
    return NodeSpec(node=node, operator=operator, stock=stock), []


def _profile(data: Any, path: str) -> tuple[ProfileInput | None, Problems]:
    if not isinstance(data, dict):
        return None, [(path, "must be a mapping")]
    problems = _unknown(data, PROFILE_KEYS, path)
    try:
        profile = ProfileInput(
            cost_weight=float(data.get("cost_weight", 1.0)),
            load_weight=float(data.get("load_weight", 20.0)),
            lateness_weight=float(data.get("lateness_weight", 50.0)),
            split_weight=float(data.get("split_weight", 15.0)),
            allow_split=bool(data.get("allow_split", True)),
            max_split=int(data.get("max_split", 2)),
            region_centroids={
                str(k): (float(v[0]), float(v[1]))
                for k, v in (data.get("region_centroids") or {}).items()
            },
        )
        validate_profile(profile, (path,))
    except (TypeError, ValueError, IndexError) as error:
        return None, [*problems, (path, f"has a value of the wrong type ({error})")]
    except OaasError as error:
        return None, [*problems, *_domain_problems(error, path)]
    return (None, problems) if problems else (profile, [])


def read_routing(data: Any, path: str, filename: str) -> tuple[RoutingSpec | None, Problems]:
    if not isinstance(data, dict):
        return None, [(path, "must be a mapping")]
    problems = _unknown(data, ("merchant", "profile", "nodes"), path)
    merchant, found = _merchant(data, path)
    problems.extend(found)
    profile = None
    if "profile" in data:
        profile, found = _profile(data["profile"], f"{path}.profile")
        problems.extend(found)
    specs: list[NodeSpec] = []
    raw_nodes = data.get("nodes", [])
    if not isinstance(raw_nodes, list):
        problems.append((f"{path}.nodes", "must be a list"))
        raw_nodes = []
    codes: set[str] = set()
    for index, raw in enumerate(raw_nodes):
        spec, found = _node(raw, f"{path}.nodes[{index}]")
        problems.extend(found)
        if spec is not None:
            if spec.node.code in codes:
                problems.append((f"{path}.nodes[{index}].code", f"{spec.node.code} appears twice"))
            codes.add(spec.node.code)
            specs.append(spec)
    if problems or merchant is None:
        return None, problems
    return RoutingSpec(merchant, profile, tuple(specs), f"{filename}: {path}"), []


def read_risk(data: Any, path: str, filename: str) -> tuple[RiskSpec | None, Problems]:
    if not isinstance(data, dict):
        return None, [(path, "must be a mapping")]
    problems = _unknown(data, ("merchant", *RISK_KEYS), path)
    merchant, found = _merchant(data, path)
    problems.extend(found)
    try:
        policy = risk_policy(
            int(data.get("hold_threshold", 70)),
            int(data.get("medium_threshold", 40)),
            [int(h) for h in data.get("velocity_window_hours", (1, 24))],
            [int(n) for n in data.get("velocity_limits", (3, 10))],
            int(data.get("distinct_addresses_limit", 3)),
            [str(d) for d in data.get("extra_disposable_domains", ())],
        )
    except (TypeError, ValueError) as error:
        return None, [*problems, (path, f"has a value of the wrong type ({error})")]
    except OaasError as error:
        return None, [*problems, *_domain_problems(error, path)]
    if problems or merchant is None:
        return None, problems
    return RiskSpec(merchant, policy, f"{filename}: {path}"), []


async def merchant_of(session: AsyncSession, handle: str, origin: str) -> Tenant:
    merchant = await find_tenant(session, handle)
    if merchant is None:
        raise OaasError(ErrorCode.NOT_FOUND, f"{origin}.merchant: no tenant {handle!r}")
    return merchant


async def apply_routing(
    session: AsyncSession, principal: Principal, spec: RoutingSpec
) -> list[tuple[str, str, str, str]]:
    """Applies profile, nodes and stock; answers (kind, name, outcome, detail) per change."""
    merchant = await merchant_of(session, spec.merchant, spec.origin)
    changes: list[tuple[str, str, str, str]] = []
    if spec.profile is not None:
        current, centroids = await load_profile(session, merchant.id)
        wanted = validate_profile(spec.profile)
        same = current.version > 0 and wanted == {
            "weights": {
                "cost": current.weights.cost,
                "load": current.weights.load,
                "lateness": current.weights.lateness,
                "split": current.weights.split,
            },
            "allow_split": current.allow_split,
            "max_split": current.max_split,
            "region_centroids": centroids,
        }
        if not same:
            await set_routing_profile(session, principal, merchant, spec.profile)
        changes.append(("routing profile", merchant.handle, "unchanged" if same else "updated", ""))
    for node_spec in spec.nodes:
        partner_id = None
        if node_spec.operator is not None:
            partner = await find_tenant(session, node_spec.operator)
            if partner is None:
                raise OaasError(
                    ErrorCode.NOT_FOUND,
                    f"{spec.origin}: node {node_spec.node.code}: no partner {node_spec.operator!r}",
                )
            partner_id = partner.id
        operation = nodes.Operation(merchant, partner_id)
        existing = await nodes.find_node(session, merchant.id, node_spec.node.code)
        valid = validate_node(node_spec.node)
        if existing is not None and all(
            getattr(existing, name) == value for name, value in valid.columns().items()
        ):
            outcome = "unchanged"
        else:
            _row, created = await nodes.put_node(session, principal, operation, node_spec.node)
            outcome = "created" if created else "updated"
        changes.append(("node", f"{merchant.handle}/{node_spec.node.code}", outcome, ""))
        if node_spec.stock:
            changed, _woken = await change_stock(
                session, principal, operation, list(node_spec.stock)
            )
            name = f"{merchant.handle}/{node_spec.node.code}"
            outcome = "updated" if changed else "unchanged"
            changes.append(("stock", name, outcome, f"{changed} levels set" if changed else ""))
    return changes


async def apply_risk(
    session: AsyncSession, principal: Principal, spec: RiskSpec
) -> tuple[str, str, str, str]:
    merchant = await merchant_of(session, spec.merchant, spec.origin)
    policy = spec.policy
    current = await load_policy(session, merchant.id)
    if current.version > 0 and current == replace(policy, version=current.version):
        return ("risk profile", merchant.handle, "unchanged", "")
    await set_risk_policy(session, principal, merchant, policy)
    return ("risk profile", merchant.handle, "updated", "")
