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
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from oaas.errors import ErrorCode, Key, OaasError, Problems
from oaas.lifecycle.changes import change_stock
from oaas.orders.money import AMOUNT_RULE, parse_amount
from oaas.policy import Principal, TenantKind
from oaas.risk.facts import RiskPolicy
from oaas.risk.service import check_risk_policy, load_policy, set_risk_policy
from oaas.routing import nodes
from oaas.routing.planning import load_profile
from oaas.routing.profiles import set_routing_profile
from oaas.routing.validation import (
    NodeInput,
    ProfileInput,
    StockInput,
    check_node,
    check_profile,
    check_stock,
    code_key,
    validate_node,
    validate_profile,
)
from oaas.sharing.service import partner_access
from oaas.tenancy.models import Tenant
from oaas.tenancy.service import find_tenant
from oaas.text import quote

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


def _merchant(data: dict[str, Any], problems: Problems) -> str | None:
    merchant = data.get("merchant")
    if not isinstance(merchant, str) or not merchant:
        problems.add(("merchant",), "is required: the merchant's handle")
        return None
    return merchant


def _unknown(data: dict[str, Any], allowed: tuple[str, ...], problems: Problems) -> None:
    for key in data:
        if key not in allowed:
            problems.add(
                (Key(str(key)),), f"unknown key (expected one of {', '.join(sorted(allowed))})"
            )


class _Fields:
    """Reads one mapping's values strictly: a wrong type is a problem at its own path,
    never converted (2.5 is not a count, ~ is not a name)."""

    def __init__(self, data: dict[str, Any], problems: Problems) -> None:
        self.data = data
        self.problems = problems

    def _get(self, key: str, default: Any, kinds: tuple[type, ...], what: str) -> Any:
        if key not in self.data:
            if default is _REQUIRED:
                self.problems.add((key,), "is required")
            return default
        value = self.data[key]
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            self.problems.add((key,), f"must be {what}")
            return _REQUIRED
        return value

    def text(self, key: str, default: Any = None) -> str:
        value = self._get(key, _REQUIRED if default is None else default, (str,), "a string")
        return value if isinstance(value, str) else ""

    def number(self, key: str, default: Any = None) -> float:
        value = self._get(key, _REQUIRED if default is None else default, (int, float), "a number")
        return float(value) if isinstance(value, int | float) else 0.0

    def count(self, key: str, default: Any = None) -> int:
        value = self._get(key, _REQUIRED if default is None else default, (int,), "a whole number")
        return value if isinstance(value, int) else 0

    def flag(self, key: str, default: bool) -> bool:
        value = self._get(key, default, (bool,), "true or false")
        return value if isinstance(value, bool) else default

    def money(self, key: str) -> Decimal:
        value = self._get(key, "0", (str, int), 'an amount such as "4.90"')
        return _decimal(value, self.problems.at(key))

    def texts(self, key: str) -> tuple[str, ...]:
        value = self._get(key, [], (list,), "a list of strings")
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            if isinstance(value, list):
                self.problems.add((key,), "must be a list of strings")
            return ()
        return tuple(value)

    def table(self, key: str) -> dict[str, Any]:
        value = self._get(key, {}, (dict,), "a mapping")
        return value if isinstance(value, dict) else {}


_REQUIRED: Any = object()


def _decimal(value: Any, problems: Problems) -> Decimal:
    """An amount as the API reads one: digits in a string, or a whole number (YAML's
    4.90 is a float, already rounded). `problems`: at the amount's own path."""
    exact = isinstance(value, str | int) and not isinstance(value, bool)
    amount = parse_amount(str(value)) if exact else None
    if amount is None:
        problems.add((), f"{quote(value)} is not an amount: give {AMOUNT_RULE}")
        return Decimal(0)
    return amount


def _node(data: Any, problems: Problems) -> NodeSpec | None:
    if not isinstance(data, dict):
        problems.add((), "must be a mapping")
        return None
    before = len(problems)
    _unknown(data, NODE_KEYS, problems)
    fields = _Fields(data, problems)
    rates = fields.table("region_rates")
    promises = fields.table("promise_hours")
    stock_table = fields.table("stock")
    node = NodeInput(
        code=fields.text("code"),
        name=fields.text("name"),
        kind=fields.text("kind", "WAREHOUSE"),
        latitude=fields.number("latitude"),
        longitude=fields.number("longitude"),
        region=fields.text("region"),
        regions_served=fields.texts("regions_served"),
        regions_excluded=fields.texts("regions_excluded"),
        daily_capacity=fields.count("daily_capacity"),
        currency=fields.text("currency"),
        base_cost=fields.money("base_cost"),
        cost_per_km=fields.money("cost_per_km"),
        region_rates={
            str(k): _decimal(v, problems.at("region_rates", Key(str(k)))) for k, v in rates.items()
        },
        promise_hours={str(k): v for k, v in promises.items()},
        default_promise_hours=fields.number("default_promise_hours"),
        active=fields.flag("active", True),
    )
    for region, hours in promises.items():
        if isinstance(hours, bool) or not isinstance(hours, int | float):
            problems.add(("promise_hours", Key(str(region))), "must be a number")
    stock: list[StockInput] = []
    for sku, count in stock_table.items():
        if isinstance(count, bool) or not isinstance(count, int):
            problems.add(("stock", Key(str(sku))), "must be a whole number")
        else:
            stock.append(StockInput(node=node.code, sku=str(sku), on_hand=count))
    operator = data.get("operator")
    if operator is not None and not isinstance(operator, str):
        problems.add(("operator",), "must be a partner's handle")
    if len(problems) > before:
        return None  # values of the wrong kind: the node's own rules would misread them
    check_node(node, problems)
    # The stock rules name a row by its index; a manifest names it by its sku.
    stock_problems = Problems()
    check_stock(stock, stock_problems)
    for problem in stock_problems:
        index = problem.path[0]
        assert isinstance(index, int)
        problems.add(("stock", Key(stock[index].sku)), problem.message, problem.code)
    if len(problems) > before:
        return None
    return NodeSpec(node=node, operator=operator, stock=tuple(stock))


def _profile(data: Any, problems: Problems) -> ProfileInput | None:
    if not isinstance(data, dict):
        problems.add((), "must be a mapping")
        return None
    before = len(problems)
    _unknown(data, PROFILE_KEYS, problems)
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
    except (TypeError, ValueError, IndexError) as error:
        problems.add((), f"has a value of the wrong type ({error})")
        return None
    check_profile(profile, problems)
    return profile if len(problems) == before else None


def read_routing(data: Any, problems: Problems, origin: str) -> RoutingSpec | None:
    """The routing entry `data`, or None with each problem added to `problems` (at the
    entry's path); `origin` names the entry in messages of the apply."""
    if not isinstance(data, dict):
        problems.add((), "must be a mapping")
        return None
    before = len(problems)
    _unknown(data, ("merchant", "profile", "nodes"), problems)
    merchant = _merchant(data, problems)
    profile = None
    if "profile" in data:
        profile = _profile(data["profile"], problems.at("profile"))
    specs: list[NodeSpec] = []
    raw_nodes = data.get("nodes", [])
    if not isinstance(raw_nodes, list):
        problems.add(("nodes",), "must be a list")
        raw_nodes = []
    codes: set[str] = set()
    for index, raw in enumerate(raw_nodes):
        spec = _node(raw, problems.at("nodes", index))
        if spec is not None:
            if code_key(spec.node.code) in codes:
                problems.add(("nodes", index, "code"), f"{spec.node.code} appears twice")
            codes.add(code_key(spec.node.code))
            specs.append(spec)
    if len(problems) > before or merchant is None:
        return None
    return RoutingSpec(merchant, profile, tuple(specs), origin)


def read_risk(data: Any, problems: Problems, origin: str) -> RiskSpec | None:
    """The risk entry `data`, or None with each problem added to `problems`."""
    if not isinstance(data, dict):
        problems.add((), "must be a mapping")
        return None
    before = len(problems)
    _unknown(data, ("merchant", *RISK_KEYS), problems)
    merchant = _merchant(data, problems)
    try:
        values = (
            int(data.get("hold_threshold", 70)),
            int(data.get("medium_threshold", 40)),
            [int(h) for h in data.get("velocity_window_hours", (1, 24))],
            [int(n) for n in data.get("velocity_limits", (3, 10))],
            int(data.get("distinct_addresses_limit", 3)),
            [str(d) for d in data.get("extra_disposable_domains", ())],
        )
    except (TypeError, ValueError) as error:
        problems.add((), f"has a value of the wrong type ({error})")
        return None
    policy = check_risk_policy(problems, *values)
    if len(problems) > before or merchant is None or policy is None:
        return None
    return RiskSpec(merchant, policy, origin)


async def merchant_of(session: AsyncSession, handle: str, origin: str) -> Tenant:
    merchant = await find_tenant(session, handle)
    if merchant is None:
        raise OaasError(ErrorCode.NOT_FOUND, f"{origin}.merchant: no tenant {handle!r}")
    if merchant.kind != TenantKind.MERCHANT:
        raise OaasError(ErrorCode.INVALID, f"{origin}.merchant: {handle!r} is not a merchant")
    return merchant


async def _operator_of(
    session: AsyncSession, merchant: Tenant, handle: str | None, where: str
) -> UUID | None:
    """The partner operating a node: one holding an active grant from the merchant."""
    if handle is None:
        return None
    partner = await find_tenant(session, handle)
    if partner is None or partner.kind != TenantKind.PARTNER:
        raise OaasError(ErrorCode.NOT_FOUND, f"{where}: no partner {handle!r}")
    if merchant.id not in await partner_access(session, partner.id):
        raise OaasError(
            ErrorCode.INVALID,
            f"{where}: {handle} holds no grant from {merchant.handle} (declare one under grants:)",
        )
    return partner.id


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
    for index, node_spec in enumerate(spec.nodes):
        where = f"{spec.origin}.nodes[{index}]"
        try:
            changes += await _apply_node(session, principal, merchant, node_spec, where)
        except OaasError as error:
            if error.message.startswith(where):
                raise
            raise OaasError(error.code, f"{where}: {error.message}") from error
    return changes


async def _apply_node(
    session: AsyncSession, principal: Principal, merchant: Tenant, spec: NodeSpec, where: str
) -> list[tuple[str, str, str, str]]:
    partner_id = await _operator_of(session, merchant, spec.operator, f"{where}.operator")
    operation = nodes.Operation(merchant, partner_id)
    existing = await nodes.find_node(session, merchant.id, spec.node.code)
    if existing is not None and existing.partner_tenant_id != partner_id:
        raise OaasError(
            ErrorCode.INVALID,
            f"{where}.operator: node {spec.node.code} is operated by "
            + ("another tenant" if existing.partner_tenant_id else "the merchant")
            + "; a node keeps its operator (declare a new code instead)",
        )
    valid = validate_node(spec.node)
    name = f"{merchant.handle}/{spec.node.code}"
    if existing is not None and all(
        getattr(existing, column) == value for column, value in valid.columns().items()
    ):
        outcome = "unchanged"
    else:
        _row, created = await nodes.put_node(session, principal, operation, spec.node)
        outcome = "created" if created else "updated"
    changes = [("node", name, outcome, "")]
    if spec.stock:
        changed, _woken = await change_stock(
            session, principal, operation, list(spec.stock), source=where
        )
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
