"""Node, inventory and routing-profile input: checked whole, every bad value named."""

from __future__ import annotations

import math
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from oaas.errors import Key, OaasError, Path, Problems
from oaas.orders.money import minor_unit_exponent, to_minor
from oaas.routing.regions import is_region_code
from oaas.text import quote, shorten, text_problem

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
SKU = re.compile(r"^\S{1,64}$")
NODE_KINDS = ("WAREHOUSE", "STORE")
MAX_CAPACITY = 10_000_000
MAX_COST = Decimal(1_000_000)
MAX_HOURS = 24.0 * 365
MAX_STOCK = 1_000_000_000
MAX_REGIONS = 500
MAX_NAME_LENGTH = 200


def code_key(code: str) -> str:
    """What node codes are compared by: a merchant's codes are unique regardless of case
    (`hamburg-swift` is `HAMBURG-SWIFT`), and keep the spelling they were given.

    ASCII case folding, as SQL's lower() does on both databases for the ASCII codes
    CODE allows (SQLite folds nothing else)."""
    return code.translate(_ASCII_LOWER)


@dataclass(frozen=True)
class NodeInput:
    code: str
    name: str
    latitude: float
    longitude: float
    region: str
    daily_capacity: int
    currency: str
    default_promise_hours: float
    kind: str = "WAREHOUSE"
    regions_served: tuple[str, ...] = ()
    regions_excluded: tuple[str, ...] = ()
    base_cost: Decimal = Decimal(0)
    cost_per_km: Decimal = Decimal(0)
    region_rates: Mapping[str, Decimal] = field(default_factory=dict)
    promise_hours: Mapping[str, float] = field(default_factory=dict)
    active: bool = True


@dataclass(frozen=True)
class ValidNode:
    code: str
    name: str
    kind: str
    latitude: float
    longitude: float
    region: str
    regions_served: list[str]
    regions_excluded: list[str]
    daily_capacity: int
    currency: str
    base_cost_minor: int
    cost_per_km_minor: int
    region_rates_minor: dict[str, int]
    promise_hours: dict[str, float]
    default_promise_hours: float
    active: bool

    def columns(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _regions(problems: Problems, name: str, codes: tuple[str, ...]) -> list[str]:
    if len(codes) > MAX_REGIONS:
        problems.add((name,), f"at most {MAX_REGIONS} regions")
        return []
    found: list[str] = []
    for index, code in enumerate(codes):
        upper = code.strip().upper()
        if not is_region_code(upper):
            problems.add(
                (name, index), f"{quote(code)} is not an ISO 3166 country or subdivision code"
            )
        elif upper not in found:
            found.append(upper)
    return found


def _money(problems: Problems, path: Path, amount: Decimal, exponent: int | None) -> int:
    """The amount in minor units; its decimals are checked against a known currency only."""
    if not amount.is_finite() or amount < 0 or amount > MAX_COST:
        problems.add(path, f"must be between 0 and {MAX_COST}")
        return 0
    if exponent is None:
        return 0  # the currency's problem says why
    if amount != amount.quantize(Decimal(1).scaleb(-exponent)):
        problems.add(path, f"has more than {exponent} decimal places")
        return 0
    return to_minor(amount, exponent)


def _hours(problems: Problems, path: Path, hours: float) -> float:
    if not math.isfinite(hours) or hours <= 0 or hours > MAX_HOURS:
        problems.add(path, f"must be more than 0 and at most {MAX_HOURS:g} hours")
        return 1.0
    return float(hours)


def _labelled(prefix: tuple[str, ...]) -> Problems:
    """A collector for the API: each message starts with its field's dotted path."""
    return Problems().labelled().at(*prefix)


def validate_node(node: NodeInput, prefix: tuple[str, ...] = ("input",)) -> ValidNode:
    problems = _labelled(prefix)
    valid = check_node(node, problems)
    problems.raise_if_any()
    return valid


def check_node(node: NodeInput, problems: Problems) -> ValidNode:
    """The node as it would be stored, each bad value added to `problems` (use the
    node only when nothing was added)."""
    if not CODE.match(node.code):
        problems.add(
            ("code",), "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    if (problem := text_problem(node.name, limit=MAX_NAME_LENGTH)) is not None:
        problems.add(("name",), problem)
    if node.kind.upper() not in NODE_KINDS:
        problems.add(("kind",), f"must be one of {', '.join(NODE_KINDS)}")
    if not (math.isfinite(node.latitude) and -90 <= node.latitude <= 90):
        problems.add(("latitude",), "must be between -90 and 90")
    if not (math.isfinite(node.longitude) and -180 <= node.longitude <= 180):
        problems.add(("longitude",), "must be between -180 and 180")
    region = node.region.strip().upper()
    if not is_region_code(region):
        problems.add(
            ("region",), f"{quote(node.region)} is not an ISO 3166 country or subdivision code"
        )
    served = _regions(problems, "regionsServed", node.regions_served)
    excluded = _regions(problems, "regionsExcluded", node.regions_excluded)
    if not 0 <= node.daily_capacity <= MAX_CAPACITY:
        problems.add(("dailyCapacity",), f"must be between 0 and {MAX_CAPACITY}")
    currency = node.currency.strip().upper()
    exponent: int | None = None
    try:
        exponent = minor_unit_exponent(currency)
    except OaasError as refused:
        problems.add(("currency",), refused.message)
    base = _money(problems, ("baseCost",), node.base_cost, exponent)
    per_km = _money(problems, ("costPerKm",), node.cost_per_km, exponent)
    rates: dict[str, int] = {}
    for code, amount in node.region_rates.items():
        upper = code.strip().upper()
        if not is_region_code(upper):
            problems.add(("regionRates", Key(code)), "not an ISO 3166 country or subdivision code")
            continue
        rates[upper] = _money(problems, ("regionRates", Key(code)), amount, exponent)
    promises: dict[str, float] = {}
    for code, hours in node.promise_hours.items():
        upper = code.strip().upper()
        if not is_region_code(upper):
            problems.add(("promiseHours", Key(code)), "not an ISO 3166 country or subdivision code")
            continue
        promises[upper] = _hours(problems, ("promiseHours", Key(code)), hours)
    default_promise = _hours(problems, ("defaultPromiseHours",), node.default_promise_hours)
    return ValidNode(
        code=node.code,
        name=node.name.strip(),
        kind=node.kind.upper(),
        latitude=float(node.latitude),
        longitude=float(node.longitude),
        region=region,
        regions_served=served,
        regions_excluded=excluded,
        daily_capacity=node.daily_capacity,
        currency=currency,
        base_cost_minor=base,
        cost_per_km_minor=per_km,
        region_rates_minor=rates,
        promise_hours=promises,
        default_promise_hours=default_promise,
        active=node.active,
    )


@dataclass(frozen=True)
class StockInput:
    node: str  # node code
    sku: str
    on_hand: int


def validate_stock(
    rows: list[StockInput], prefix: tuple[str, ...] = ("input",)
) -> list[StockInput]:
    problems = _labelled(prefix)
    check_stock(rows, problems)
    problems.raise_if_any()
    return rows


def check_stock(rows: list[StockInput], problems: Problems) -> None:
    """Adds each bad row's problems, by the row's index."""
    seen: set[tuple[str, str]] = set()
    for index, row in enumerate(rows):
        if not SKU.match(row.sku):
            problems.add((index, "sku"), "1-64 characters without spaces")
        if not 0 <= row.on_hand <= MAX_STOCK:
            problems.add((index, "onHand"), f"must be between 0 and {MAX_STOCK}")
        key = (code_key(row.node), row.sku)
        if key in seen:
            problems.add((index, "sku"), f"{shorten(row.sku)} at {shorten(row.node)} appears twice")
        seen.add(key)


@dataclass(frozen=True)
class ProfileInput:
    cost_weight: float = 1.0
    load_weight: float = 20.0
    lateness_weight: float = 50.0
    split_weight: float = 15.0
    allow_split: bool = True
    max_split: int = 2
    region_centroids: Mapping[str, tuple[float, float]] = field(default_factory=dict)


def validate_profile(profile: ProfileInput, prefix: tuple[str, ...] = ("input",)) -> dict[str, Any]:
    problems = _labelled(prefix)
    values = check_profile(profile, problems)
    problems.raise_if_any()
    return values


def check_profile(profile: ProfileInput, problems: Problems) -> dict[str, Any]:
    """The profile's stored values, and each bad value added to `problems`."""
    weights = {
        "cost": profile.cost_weight,
        "load": profile.load_weight,
        "lateness": profile.lateness_weight,
        "split": profile.split_weight,
    }
    for name, value in weights.items():
        if not (math.isfinite(value) and 0 <= value <= 1_000_000):
            problems.add((f"{name}Weight",), "must be between 0 and 1000000")
    if not 1 <= profile.max_split <= 10:
        problems.add(("maxSplit",), "must be between 1 and 10")
    centroids: dict[str, list[float]] = {}
    for code, point in profile.region_centroids.items():
        upper = code.strip().upper()
        latitude, longitude = point
        if not is_region_code(upper):
            problems.add(
                ("regionCentroids", Key(code)), "not an ISO 3166 country or subdivision code"
            )
        elif not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            problems.add(("regionCentroids", Key(code)), "latitude -90..90, longitude -180..180")
        else:
            centroids[upper] = [float(latitude), float(longitude)]
    return {
        "weights": weights,
        "allow_split": profile.allow_split,
        "max_split": profile.max_split,
        "region_centroids": centroids,
    }
