"""Score an order's fraud risk from facts the caller has gathered; pure, no I/O.

The caller counts the merchant's earlier orders and reads its recent history;
`assess` turns those numbers into one `RiskFact` per signal, a score of 0..100
(the sum of the facts' weights, capped at 100) and a level. Every signal is
always reported, in the same order, with weight 0 when it was checked and found
normal, so customer service sees what was looked at and not only what fired.

Signals and weights, in the order they are reported (windows and limits are the
`RiskPolicy` defaults):

email_velocity_1h, email_velocity_24h, address_velocity_1h, address_velocity_24h
    Orders from the same email (or to the same shipping address) within the
    window, this one included, against the window's limit (3 in 1 h, 10 in 24 h).
    Over the limit: 20 points for the first order over, +5 for each further one,
    at most 35 per window (1 over: 20, 2: 25, 3: 30, 4 or more: 35). Email and
    address are scored separately, so a burst shows in both.
order_value
    Robust z-score of the order total against the merchant's recent totals in
    the same currency: z = (total - median) / (1.4826 x MAD), MAD being the
    median absolute deviation (1.4826 makes it comparable to a standard deviation
    for normal data). z >= 3.5 adds 25 points, +5 per whole unit of z above 3.5,
    at most 40 (3.5: 25, 4.5: 30, 5.5: 35, 6.5 or more: 40). Only unusually high
    values count; small orders are not a fraud pattern worth holding for.
    Fewer than 20 history orders: 0 points (cold start, nothing to compare with).
    MAD of 0 (more than half the orders share one value): the spread is
    1.2533 x the mean absolute deviation from the median instead, and the order
    must also exceed 3 x the median, because against a near-constant history any
    small difference has a huge z. All orders the same value: more than
    3 x the median adds 25 points.
addresses_per_email
    Distinct shipping addresses used with this email in 30 days, this order's
    included, over the limit (3): 20 points, +5 per further address, at most 35.
disposable_email
    The email's domain, or a parent of it (x.mailinator.com), is a known
    throwaway service (`oaas.risk.disposable` plus the policy's own): 25 points.
unusual_quantity
    A line's quantity over max(10, 3 x the 99th percentile of the merchant's
    recent line quantities), or over 20 with fewer than 50 such quantities:
    15 points.

Without a customer email the email signals (email velocity, addresses per email,
disposable email) are still listed, with weight 0. Level: HIGH at or above the
hold threshold (70), MEDIUM at or above 40, LOW below. Sentences never contain
the customer's email address, at most its domain.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from functools import lru_cache
from itertools import pairwise

from oaas.orders.money import minor_unit_exponent
from oaas.risk.disposable import DISPOSABLE_DOMAINS

MAX_SCORE = 100

VELOCITY_BASE = 20
VELOCITY_STEP = 5
VELOCITY_CAP = 35

VALUE_MIN_HISTORY = 20
VALUE_Z_THRESHOLD = Fraction(7, 2)
VALUE_BASE = 25
VALUE_STEP = 5
VALUE_CAP = 40
# Consistency constants: they scale the MAD (resp. the mean absolute deviation)
# to estimate the standard deviation of normally distributed data.
MAD_SCALE = Fraction("1.4826")
MEAN_AD_SCALE = Fraction("1.2533")
# With MAD 0 the order must also be this many times the median to count.
FLAT_HISTORY_MULTIPLE = 3

ADDRESSES_BASE = 20
ADDRESSES_STEP = 5
ADDRESSES_CAP = 35
ADDRESSES_WINDOW_DAYS = 30

DISPOSABLE_WEIGHT = 25

QUANTITY_WEIGHT = 15
QUANTITY_MIN_HISTORY = 50
QUANTITY_PERCENTILE = 99
QUANTITY_MULTIPLE = 3
QUANTITY_FLOOR = 10
QUANTITY_COLD_LIMIT = 20

NO_EMAIL = "No customer email given."


class RiskLevel(StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"


@dataclass(frozen=True, slots=True)
class RiskPolicy:
    """A merchant's tuning of the score; `version` is recorded with each assessment."""

    # Score at or over which the order is held (by the caller) and the level is HIGH.
    hold_threshold: int = 70
    medium_threshold: int = 40
    velocity_window_hours: tuple[int, ...] = (1, 24)
    # Orders per email (and per address) tolerated within each window, this one included.
    velocity_limits: tuple[int, ...] = (3, 10)
    # Distinct shipping addresses per email in 30 days.
    distinct_addresses_limit: int = 3
    extra_disposable_domains: frozenset[str] = frozenset()
    version: int = 0

    def __post_init__(self) -> None:
        # Checked here so a bad policy fails when it is loaded, not on some order later.
        if not 0 <= self.medium_threshold <= self.hold_threshold:
            raise ValueError("need 0 <= medium_threshold <= hold_threshold")
        if len(self.velocity_window_hours) != len(self.velocity_limits):
            raise ValueError("velocity_window_hours and velocity_limits differ in length")
        hours = self.velocity_window_hours
        if any(h < 1 for h in hours) or any(a >= b for a, b in pairwise(hours)):
            # Increasing and distinct, so signal names are unique and the order is stable.
            raise ValueError("velocity_window_hours must be positive and increasing")
        if any(limit < 1 for limit in self.velocity_limits):
            # The order itself counts, so a limit of 0 would flag every order.
            raise ValueError("velocity_limits must be at least 1")
        if self.distinct_addresses_limit < 1:
            raise ValueError("distinct_addresses_limit must be at least 1")


DEFAULT_POLICY = RiskPolicy()


@dataclass(frozen=True, slots=True)
class RiskInputs:
    """What the caller read for one order; counts are of the merchant's own orders."""

    total_minor: int  # this order's total in minor units
    currency: str
    line_quantities: tuple[int, ...]  # this order's quantity per line
    customer_email: str | None
    # Earlier orders (this one not included), one count per policy.velocity_window_hours.
    orders_by_email: tuple[int, ...]
    orders_by_address: tuple[int, ...]
    # Distinct shipping addresses this email used in 30 days, this order's included.
    distinct_addresses_for_email: int
    # Totals of recent orders in the same currency (up to 500), for the robust z-score.
    history_totals_minor: tuple[int, ...]
    # Line quantities of recent orders (up to 2000).
    history_quantities: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class RiskFact:
    signal: str  # machine name, e.g. "email_velocity_1h"
    observed: str  # the observed value as text, e.g. "5 orders in 1 h"
    weight: int  # points added to the score; 0 when checked and normal
    sentence: str  # plain language for customer service


@dataclass(frozen=True, slots=True)
class RiskAssessment:
    score: int  # 0..100
    level: RiskLevel
    facts: tuple[RiskFact, ...]  # every signal checked, always in the same order
    policy_version: int
    hold_threshold: int

    @property
    def held(self) -> bool:
        return self.score >= self.hold_threshold


def assess(inputs: RiskInputs, policy: RiskPolicy = DEFAULT_POLICY) -> RiskAssessment:
    """The score, level and facts for one order under the merchant's policy."""
    _check(inputs, policy)
    domain = _email_domain(inputs.customer_email)
    has_email = inputs.customer_email is not None and inputs.customer_email.strip() != ""
    facts = (
        *_velocity("email", "this email", inputs.orders_by_email, policy, no_subject=not has_email),
        *_velocity(
            "address", "this shipping address", inputs.orders_by_address, policy, no_subject=False
        ),
        _order_value(inputs.total_minor, inputs.currency, inputs.history_totals_minor),
        _addresses_per_email(inputs.distinct_addresses_for_email, policy, has_email=has_email),
        _disposable(domain, policy, has_email=has_email),
        _quantity(inputs.line_quantities, inputs.history_quantities),
    )
    score = min(MAX_SCORE, sum(fact.weight for fact in facts))
    if score >= policy.hold_threshold:
        level = RiskLevel.HIGH
    elif score >= policy.medium_threshold:
        level = RiskLevel.MEDIUM
    else:
        level = RiskLevel.LOW
    return RiskAssessment(
        score=score,
        level=level,
        facts=facts,
        policy_version=policy.version,
        hold_threshold=policy.hold_threshold,
    )


def _check(inputs: RiskInputs, policy: RiskPolicy) -> None:
    # A count per window is the caller's side of the contract; a mismatch is a bug there.
    windows = len(policy.velocity_window_hours)
    for name, counts in (
        ("orders_by_email", inputs.orders_by_email),
        ("orders_by_address", inputs.orders_by_address),
    ):
        if len(counts) != windows:
            raise ValueError(f"{name} needs one count per velocity window ({windows})")
        if any(count < 0 for count in counts):
            raise ValueError(f"{name} holds a negative count")
    if inputs.distinct_addresses_for_email < 0:
        raise ValueError("distinct_addresses_for_email is negative")


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {plural or word + 's'}"


def _excess_points(excess: int, base: int, step: int, cap: int) -> int:
    """`base` for the first unit over a limit, `step` more per further unit, at most `cap`."""
    return 0 if excess <= 0 else min(cap, base + step * (excess - 1))


def _velocity(
    kind: str, subject: str, earlier: Sequence[int], policy: RiskPolicy, *, no_subject: bool
) -> list[RiskFact]:
    facts: list[RiskFact] = []
    for hours, limit, count in zip(
        policy.velocity_window_hours, policy.velocity_limits, earlier, strict=True
    ):
        signal = f"{kind}_velocity_{hours}h"
        if no_subject:
            facts.append(RiskFact(signal, "no email", 0, NO_EMAIL))
            continue
        total = count + 1  # this order counts towards its own window
        weight = _excess_points(total - limit, VELOCITY_BASE, VELOCITY_STEP, VELOCITY_CAP)
        window = "the last hour" if hours == 1 else f"the last {hours} hours"
        verdict = f"more than {limit} is unusual" if weight else f"up to {limit} is normal"
        facts.append(
            RiskFact(
                signal,
                f"{_plural(total, 'order')} in {hours} h",
                weight,
                f"{_plural(total, 'order')} from {subject} in {window} ({verdict}).",
            )
        )
    return facts


def _median(ordered: Sequence[int]) -> Fraction:
    """The median of sorted whole numbers."""
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return Fraction(ordered[middle])
    return Fraction(ordered[middle - 1] + ordered[middle], 2)


def _money(minor: Fraction | int, currency: str) -> str:
    """`EUR 1,250.00`: integer arithmetic on minor units, exact at any size."""
    exponent = minor_unit_exponent(currency)
    units = round(Fraction(minor))  # a median can fall on half a minor unit
    sign = "-" if units < 0 else ""
    major, rest = divmod(abs(units), 10**exponent)
    text = f"{major:,}" + (f".{rest:0{exponent}d}" if exponent else "")
    return f"{currency} {sign}{text}"


def _format_z(z: Fraction) -> str:
    text = f"{float(z):.1f}"
    return "0.0" if text == "-0.0" else text


def _value_points(z: Fraction) -> int:
    if z < VALUE_Z_THRESHOLD:
        return 0
    return min(VALUE_CAP, VALUE_BASE + VALUE_STEP * math.floor(z - VALUE_Z_THRESHOLD))


def _order_value(total_minor: int, currency: str, history: Sequence[int]) -> RiskFact:
    signal = "order_value"
    if len(history) < VALUE_MIN_HISTORY:
        return RiskFact(
            signal,
            f"{_plural(len(history), 'order')} of history",
            0,
            f"Too little order history to judge the order value ({_plural(len(history), 'order')}).",
        )
    # Exact, but in whole numbers: sorting 500 Fractions cost 8 ms an order. Doubled
    # values have a whole median (the mean of two even numbers is whole), so the
    # deviations from it are whole too; halving at the end gives the same figures.
    doubled = sorted(2 * value for value in history)
    doubled_median = int(_median(doubled))
    doubled_deviations = sorted(abs(value - doubled_median) for value in doubled)
    median = Fraction(doubled_median, 2)
    mad = _median(doubled_deviations) / 2
    total = Fraction(total_minor)
    amount, usual = _money(total, currency), _money(median, currency)
    if mad > 0:
        z = (total - median) / (MAD_SCALE * mad)
        weight = _value_points(z)
    else:
        mean_ad = Fraction(sum(doubled_deviations), 2 * len(doubled_deviations))
        above_multiple = total > FLAT_HISTORY_MULTIPLE * median
        if mean_ad == 0:
            # Every order had the same value: no spread to measure, only the multiple.
            weight = VALUE_BASE if above_multiple else 0
            verdict = (
                f"is more than {FLAT_HISTORY_MULTIPLE} times this shop's usual order value"
                if weight
                else "is not unusually high for this shop"
            )
            return RiskFact(
                signal,
                f"{amount} vs {usual} for all {len(history)} orders",
                weight,
                f"The order value, {amount}, {verdict} "
                f"(all {len(history)} recent orders were {usual}).",
            )
        z = (total - median) / (MEAN_AD_SCALE * mean_ad)
        weight = _value_points(z) if above_multiple else 0
    observed = f"z = {_format_z(z)} ({amount} vs median {usual})"
    if weight:
        sentence = (
            f"The order value, {amount}, is far above this shop's usual orders "
            f"(median {usual}; robust z-score {_format_z(z)}, 3.5 or more is unusual)."
        )
    else:
        sentence = (
            f"The order value, {amount}, is not unusually high for this shop (median {usual})."
        )
    return RiskFact(signal, observed, weight, sentence)


def _addresses_per_email(distinct: int, policy: RiskPolicy, *, has_email: bool) -> RiskFact:
    signal = "addresses_per_email"
    if not has_email:
        return RiskFact(signal, "no email", 0, NO_EMAIL)
    limit = policy.distinct_addresses_limit
    weight = _excess_points(distinct - limit, ADDRESSES_BASE, ADDRESSES_STEP, ADDRESSES_CAP)
    verdict = f"more than {limit} is unusual" if weight else f"up to {limit} is normal"
    return RiskFact(
        signal,
        f"{_plural(distinct, 'address', 'addresses')} in {ADDRESSES_WINDOW_DAYS} days",
        weight,
        f"This email was used with "
        f"{_plural(distinct, 'different shipping address', 'different shipping addresses')} in the last "
        f"{ADDRESSES_WINDOW_DAYS} days ({verdict}).",
    )


def _email_domain(email: str | None) -> str | None:
    """The domain in lower case, without a trailing dot; None when there is none."""
    if email is None or "@" not in email:
        return None
    domain = email.rsplit("@", 1)[1].strip().rstrip(".").lower()
    return domain or None


def _normalise_domain(domain: str) -> str:
    # Merchants type "@Example.com" or ".example.com" as often as "example.com".
    return domain.strip().lstrip("@.").rstrip(".").lower()


@lru_cache(maxsize=256)
def _disposable_domains(extra: frozenset[str]) -> frozenset[str]:
    return DISPOSABLE_DOMAINS | ({_normalise_domain(domain) for domain in extra} - {""})


def _disposable_match(domain: str, known: frozenset[str]) -> str | None:
    """The listed domain that `domain` is or lies under, checked from the longest suffix."""
    labels = domain.split(".")
    # Suffixes of at least two labels: a bare top-level domain is never a service.
    for start in range(len(labels) - 1):
        candidate = ".".join(labels[start:])
        if candidate in known:
            return candidate
    return None


def _disposable(domain: str | None, policy: RiskPolicy, *, has_email: bool) -> RiskFact:
    signal = "disposable_email"
    if not has_email:
        return RiskFact(signal, "no email", 0, NO_EMAIL)
    if domain is None:
        return RiskFact(signal, "no domain", 0, "The customer email has no domain to check.")
    match = _disposable_match(domain, _disposable_domains(policy.extra_disposable_domains))
    if match is None:
        return RiskFact(
            signal, domain, 0, f"The email domain {domain} is not a known throwaway email service."
        )
    # Only the listed domain is named: a subdomain may carry the customer's name.
    return RiskFact(
        signal,
        match,
        DISPOSABLE_WEIGHT,
        f"The email uses {match}, a throwaway (disposable) email service.",
    )


def _percentile(values: Sequence[int], percent: int) -> int:
    """Nearest-rank percentile: an observed value, no interpolation."""
    ordered = sorted(values)
    rank = -(-percent * len(ordered) // 100)  # ceil(percent / 100 * n) in integers
    return ordered[max(rank, 1) - 1]


def _quantity(lines: Sequence[int], history: Sequence[int]) -> RiskFact:
    signal = "unusual_quantity"
    if not lines:
        return RiskFact(signal, "no lines", 0, "The order has no lines to check.")
    if len(history) < QUANTITY_MIN_HISTORY:
        limit = QUANTITY_COLD_LIMIT
        basis = "the default, as there is too little quantity history"
    else:
        p99 = _percentile(history, QUANTITY_PERCENTILE)
        limit = max(QUANTITY_FLOOR, QUANTITY_MULTIPLE * p99)
        basis = f"{QUANTITY_MULTIPLE} times this shop's 99th percentile of {p99}, at least {QUANTITY_FLOOR}"
    largest = max(lines)
    weight = QUANTITY_WEIGHT if largest > limit else 0
    observed = f"{_plural(largest, 'unit')} on one line (limit {limit})"
    if weight:
        sentence = (
            f"One line orders {_plural(largest, 'unit')}; more than {limit} is unusual ({basis})."
        )
    else:
        sentence = f"The largest line quantity, {largest}, is within the usual range (up to {limit}; {basis})."
    return RiskFact(signal, observed, weight, sentence)
