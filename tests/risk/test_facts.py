"""The pure risk score: each signal on and off, the edge cases, and its invariants."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oaas.errors import OaasError
from oaas.risk.disposable import DISPOSABLE_DOMAINS
from oaas.risk.facts import (
    RiskAssessment,
    RiskFact,
    RiskInputs,
    RiskLevel,
    RiskPolicy,
    assess,
)

SIGNALS = (
    "email_velocity_1h",
    "email_velocity_24h",
    "address_velocity_1h",
    "address_velocity_24h",
    "order_value",
    "addresses_per_email",
    "disposable_email",
    "unusual_quantity",
)
EMAIL_SIGNALS = (
    "email_velocity_1h",
    "email_velocity_24h",
    "addresses_per_email",
    "disposable_email",
)

# 25 totals 30.00 .. 54.00 EUR in steps of 1.00: median 42.00, MAD 6.00, so the
# robust z of a total T (in cents) is (T - 4200) / (1.4826 * 600) = (T - 4200) / 889.56.
HISTORY_TOTALS = tuple(3000 + 100 * i for i in range(25))
# 60 quantities whose nearest-rank 99th percentile is 4: the line limit is max(10, 12) = 12.
HISTORY_QUANTITIES = (1,) * 30 + (2,) * 29 + (4,)
LOCAL_PART = "jane.doe+vip"


def inputs(**changes: object) -> RiskInputs:
    """An unremarkable order; each test changes what it looks at."""
    base = RiskInputs(
        total_minor=4500,
        currency="EUR",
        line_quantities=(1, 2),
        customer_email=f"{LOCAL_PART}@example.com",
        orders_by_email=(0, 0),
        orders_by_address=(0, 0),
        distinct_addresses_for_email=1,
        history_totals_minor=HISTORY_TOTALS,
        history_quantities=HISTORY_QUANTITIES,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def fact(assessment: RiskAssessment, signal: str) -> RiskFact:
    return next(f for f in assessment.facts if f.signal == signal)


def fired(assessment: RiskAssessment) -> dict[str, int]:
    return {f.signal: f.weight for f in assessment.facts if f.weight}


def test_an_ordinary_order_scores_zero_and_lists_every_signal() -> None:
    assessment = assess(inputs())
    assert assessment.score == 0
    assert assessment.level is RiskLevel.LOW
    assert not assessment.held
    assert tuple(f.signal for f in assessment.facts) == SIGNALS
    assert fired(assessment) == {}
    assert assessment.policy_version == 0
    assert assessment.hold_threshold == 70


def test_the_policy_version_and_hold_threshold_are_recorded() -> None:
    assessment = assess(inputs(), RiskPolicy(version=7, hold_threshold=80))
    assert assessment.policy_version == 7
    assert assessment.hold_threshold == 80


# Velocity -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("earlier", "weight"),
    [(0, 0), (2, 0), (3, 20), (4, 25), (5, 30), (6, 35), (7, 35), (50, 35)],
)
def test_email_velocity_in_the_last_hour(earlier: int, weight: int) -> None:
    assessment = assess(inputs(orders_by_email=(earlier, earlier)))
    assert fact(assessment, "email_velocity_1h").weight == weight
    assert assessment.score == weight + fact(assessment, "email_velocity_24h").weight


def test_email_velocity_sentences() -> None:
    over = assess(inputs(orders_by_email=(4, 4)))
    f = fact(over, "email_velocity_1h")
    assert f.observed == "5 orders in 1 h"
    assert f.sentence == "5 orders from this email in the last hour (more than 3 is unusual)."
    normal = fact(over, "email_velocity_24h")
    assert normal.weight == 0
    assert normal.observed == "5 orders in 24 h"
    assert normal.sentence == "5 orders from this email in the last 24 hours (up to 10 is normal)."
    first = fact(assess(inputs()), "email_velocity_1h")
    assert first.sentence == "1 order from this email in the last hour (up to 3 is normal)."


@pytest.mark.parametrize(("earlier", "weight"), [(9, 0), (10, 20), (11, 25), (14, 35), (99, 35)])
def test_email_velocity_over_a_day(earlier: int, weight: int) -> None:
    assessment = assess(inputs(orders_by_email=(0, earlier)))
    assert fired(assessment) == ({"email_velocity_24h": weight} if weight else {})


@pytest.mark.parametrize(
    ("earlier", "weights"),
    [
        ((2, 9), {}),
        ((3, 3), {"address_velocity_1h": 20}),
        ((0, 10), {"address_velocity_24h": 20}),
        ((5, 12), {"address_velocity_1h": 30, "address_velocity_24h": 30}),
    ],
)
def test_address_velocity(earlier: tuple[int, int], weights: dict[str, int]) -> None:
    assessment = assess(inputs(orders_by_address=earlier))
    assert fired(assessment) == weights
    assert assessment.score == sum(weights.values())


def test_address_velocity_sentence() -> None:
    f = fact(assess(inputs(orders_by_address=(3, 3))), "address_velocity_1h")
    assert f.observed == "4 orders in 1 h"
    assert f.sentence == (
        "4 orders from this shipping address in the last hour (more than 3 is unusual)."
    )


def test_email_and_address_velocity_add_up() -> None:
    assessment = assess(inputs(orders_by_email=(3, 3), orders_by_address=(3, 3)))
    assert fired(assessment) == {"email_velocity_1h": 20, "address_velocity_1h": 20}
    assert assessment.score == 40
    assert assessment.level is RiskLevel.MEDIUM


def test_other_velocity_windows_name_their_signals() -> None:
    policy = RiskPolicy(velocity_window_hours=(1, 6, 24), velocity_limits=(2, 4, 8))
    assessment = assess(inputs(orders_by_email=(0, 4, 4), orders_by_address=(0, 0, 0)), policy)
    assert [f.signal for f in assessment.facts][:6] == [
        "email_velocity_1h",
        "email_velocity_6h",
        "email_velocity_24h",
        "address_velocity_1h",
        "address_velocity_6h",
        "address_velocity_24h",
    ]
    assert fired(assessment) == {"email_velocity_6h": 20}
    assert fact(assessment, "email_velocity_6h").sentence == (
        "5 orders from this email in the last 6 hours (more than 4 is unusual)."
    )


# Order value ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "weight"),
    [
        (0, 0),  # far below the median: small orders never add points
        (4200, 0),
        (7313, 0),  # z = 3.4999
        (7314, 25),  # z = 3.5005
        (8203, 25),  # z = 4.4999
        (8204, 30),
        (9093, 35),  # z = 5.5006
        (9982, 35),  # z = 6.4999
        (9983, 40),
        (10_000_000, 40),
    ],
)
def test_order_value_grows_with_the_robust_z_score(total: int, weight: int) -> None:
    assert fact(assess(inputs(total_minor=total)), "order_value").weight == weight


def test_order_value_sentences() -> None:
    high = fact(assess(inputs(total_minor=125_000)), "order_value")
    assert high.observed == "z = 135.8 (EUR 1,250.00 vs median EUR 42.00)"
    assert high.sentence == (
        "The order value, EUR 1,250.00, is far above this shop's usual orders "
        "(median EUR 42.00; robust z-score 135.8, 3.5 or more is unusual)."
    )
    normal = fact(assess(inputs(total_minor=4500)), "order_value")
    assert normal.observed == "z = 0.3 (EUR 45.00 vs median EUR 42.00)"
    assert normal.sentence == (
        "The order value, EUR 45.00, is not unusually high for this shop (median EUR 42.00)."
    )


@pytest.mark.parametrize(
    ("currency", "observed"),
    [
        ("EUR", "z = 135.8 (EUR 1,250.00 vs median EUR 42.00)"),
        ("JPY", "z = 135.8 (JPY 125,000 vs median JPY 4,200)"),
        ("KWD", "z = 135.8 (KWD 125.000 vs median KWD 4.200)"),
        ("OMR", "z = 135.8 (OMR 125.000 vs median OMR 4.200)"),
    ],
)
def test_money_uses_the_currency_exponent(currency: str, observed: str) -> None:
    f = fact(assess(inputs(total_minor=125_000, currency=currency)), "order_value")
    assert f.observed == observed


def test_money_in_what_is_not_a_currency_is_refused_not_guessed() -> None:
    with pytest.raises(OaasError, match="'XYZ' is not an ISO 4217 currency"):
        assess(inputs(total_minor=125_000, currency="XYZ"))


def test_a_median_between_two_cents_is_rounded_half_even() -> None:
    history = (1000, 1001) * 10  # median 10.005 EUR, shown as 10.00 (half to even)
    f = fact(assess(inputs(total_minor=1000, history_totals_minor=history)), "order_value")
    assert "median EUR 10.00)" in f.observed


@pytest.mark.parametrize("count", [0, 1, 19])
def test_order_value_cold_start(count: int) -> None:
    assessment = assess(inputs(total_minor=10_000_000, history_totals_minor=HISTORY_TOTALS[:count]))
    f = fact(assessment, "order_value")
    assert f.weight == 0
    noun = "order" if count == 1 else "orders"
    assert f.sentence == f"Too little order history to judge the order value ({count} {noun})."
    assert assessment.score == 0


def test_twenty_orders_of_history_are_enough() -> None:
    history = tuple(3000 + 100 * i for i in range(20))
    f = fact(assess(inputs(total_minor=125_000, history_totals_minor=history)), "order_value")
    assert f.weight == 40


# 15 of 20 orders at 42.00: the MAD is 0; the mean absolute deviation is 1400 / 20 = 70.
MOSTLY_FLAT = (4200,) * 15 + (4000, 4100, 4300, 4400, 5000)


@pytest.mark.parametrize(
    ("total", "weight"),
    [
        (4500, 0),  # z = 3.4 on the mean absolute deviation, and not 3 x the median
        (5000, 0),  # z = 9.1, but only 1.2 x the median: a near-constant history exaggerates z
        (12_600, 0),  # exactly 3 x the median
        (12_601, 40),
        (125_000, 40),
    ],
)
def test_order_value_when_the_mad_is_zero(total: int, weight: int) -> None:
    history = MOSTLY_FLAT
    f = fact(assess(inputs(total_minor=total, history_totals_minor=history)), "order_value")
    assert f.weight == weight
    assert f.observed.startswith("z = ")


@pytest.mark.parametrize(("total", "weight"), [(4200, 0), (12_600, 0), (12_601, 25)])
def test_order_value_when_every_order_had_the_same_value(total: int, weight: int) -> None:
    history = (4200,) * 20
    f = fact(assess(inputs(total_minor=total, history_totals_minor=history)), "order_value")
    assert f.weight == weight
    assert "(all 20 recent orders were EUR 42.00)" in f.sentence
    if weight:
        assert "is more than 3 times this shop's usual order value" in f.sentence


def test_order_value_when_most_orders_were_free() -> None:
    # Median 0 and MAD 0: every paid order is "over 3 x the median", so the
    # mean absolute deviation decides.
    history = (0,) * 15 + (1000, 2000, 3000, 4000, 5000)
    assessment = assess(inputs(total_minor=2500, history_totals_minor=history))
    assert fact(assessment, "order_value").weight == 0
    assessment = assess(inputs(total_minor=100_000, history_totals_minor=history))
    assert fact(assessment, "order_value").weight == 40


# Addresses per email --------------------------------------------------------


@pytest.mark.parametrize(
    ("distinct", "weight"), [(0, 0), (1, 0), (3, 0), (4, 20), (5, 25), (6, 30), (7, 35), (40, 35)]
)
def test_addresses_per_email(distinct: int, weight: int) -> None:
    assessment = assess(inputs(distinct_addresses_for_email=distinct))
    assert fired(assessment) == ({"addresses_per_email": weight} if weight else {})


def test_addresses_per_email_sentences() -> None:
    over = fact(assess(inputs(distinct_addresses_for_email=5)), "addresses_per_email")
    assert over.observed == "5 addresses in 30 days"
    assert over.sentence == (
        "This email was used with 5 different shipping addresses in the last 30 days "
        "(more than 3 is unusual)."
    )
    one = fact(assess(inputs()), "addresses_per_email")
    assert one.observed == "1 address in 30 days"
    assert "(up to 3 is normal)" in one.sentence


def test_the_address_limit_comes_from_the_policy() -> None:
    policy = RiskPolicy(distinct_addresses_limit=5)
    assert assess(inputs(distinct_addresses_for_email=5), policy).score == 0
    assert assess(inputs(distinct_addresses_for_email=6), policy).score == 20


# Disposable email -----------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "listed"),
    [
        ("someone@mailinator.com", "mailinator.com"),
        ("Someone@MAILINATOR.COM", "mailinator.com"),
        ("someone@x.Mailinator.com", "mailinator.com"),
        ("someone@deep.sub.yopmail.fr", "yopmail.fr"),
        ("someone@mailinator.com.", "mailinator.com"),  # the DNS root dot
        ("  someone@guerrillamail.com  ", "guerrillamail.com"),
        ("someone@10minutemail.co.uk", "10minutemail.co.uk"),
        ("a@b@sharklasers.com", "sharklasers.com"),
    ],
)
def test_disposable_domains_and_their_subdomains(email: str, listed: str) -> None:
    assessment = assess(inputs(customer_email=email))
    f = fact(assessment, "disposable_email")
    assert (f.weight, f.observed) == (25, listed)
    assert f.sentence == f"The email uses {listed}, a throwaway (disposable) email service."
    assert assessment.score == 25


@pytest.mark.parametrize(
    "email",
    [
        "someone@example.com",
        "someone@mymailinator.com",  # a different domain that merely ends alike
        "someone@mailinator.com.example.org",  # the listed name inside, not as a suffix
        "mailinator.com@example.com",  # the local part is not the domain
        "someone@com",
    ],
)
def test_ordinary_domains_are_not_disposable(email: str) -> None:
    f = fact(assess(inputs(customer_email=email)), "disposable_email")
    assert f.weight == 0
    assert "not a known throwaway email service" in f.sentence


def test_merchants_add_their_own_disposable_domains() -> None:
    policy = RiskPolicy(extra_disposable_domains=frozenset({"@Shady.Example", " .burner.test. "}))
    for email, listed in [
        ("a@shady.example", "shady.example"),
        ("a@mx.SHADY.example", "shady.example"),
        ("a@burner.test", "burner.test"),
    ]:
        f = fact(assess(inputs(customer_email=email), policy), "disposable_email")
        assert (f.weight, f.observed) == (25, listed)
    assert fact(assess(inputs(customer_email="a@shady.example")), "disposable_email").weight == 0
    # The built-in list still applies alongside the merchant's.
    assert assess(inputs(customer_email="a@yopmail.com"), policy).score == 25


def test_an_email_without_a_domain_is_not_judged_disposable() -> None:
    for email in ("no-at-sign", "someone@", "someone@ ."):
        f = fact(assess(inputs(customer_email=email)), "disposable_email")
        assert (f.weight, f.observed) == (0, "no domain")
        assert f.sentence == "The customer email has no domain to check."


def test_the_built_in_list() -> None:
    assert len(DISPOSABLE_DOMAINS) >= 100
    for domain in ("mailinator.com", "guerrillamail.com", "10minutemail.com", "yopmail.com"):
        assert domain in DISPOSABLE_DOMAINS
    for domain in ("temp-mail.org", "trashmail.com", "sharklasers.com", "getnada.com"):
        assert domain in DISPOSABLE_DOMAINS
    for domain in ("dispostable.com", "maildrop.cc"):
        assert domain in DISPOSABLE_DOMAINS
    for domain in DISPOSABLE_DOMAINS:
        assert domain == domain.strip().lower()
        assert "." in domain
        assert not domain.startswith(".")
        assert not domain.endswith(".")
        assert "@" not in domain
    assert not {"gmail.com", "outlook.com", "yahoo.com", "example.com"} & DISPOSABLE_DOMAINS


# Unusual quantity -----------------------------------------------------------


@pytest.mark.parametrize(
    ("history", "lines", "weight", "limit"),
    [
        (HISTORY_QUANTITIES, (12,), 0, 12),
        (HISTORY_QUANTITIES, (1, 13), 15, 12),
        ((1,) * 50, (10,), 0, 10),  # 3 x 1 < 10: the floor applies
        ((1,) * 50, (11,), 15, 10),
        ((1,) * 49, (20,), 0, 20),  # too little history: the default 20
        ((1,) * 49, (21,), 15, 20),
        ((), (21,), 15, 20),
        ((50,) * 60, (150,), 0, 150),
        ((50,) * 60, (151,), 15, 150),
    ],
)
def test_unusual_quantity(
    history: tuple[int, ...], lines: tuple[int, ...], weight: int, limit: int
) -> None:
    assessment = assess(inputs(line_quantities=lines, history_quantities=history))
    f = fact(assessment, "unusual_quantity")
    assert f.weight == weight
    assert f.observed == f"{max(lines)} units on one line (limit {limit})"
    assert assessment.score == weight


def test_unusual_quantity_sentences() -> None:
    over = fact(assess(inputs(line_quantities=(2, 40))), "unusual_quantity")
    assert over.sentence == (
        "One line orders 40 units; more than 12 is unusual "
        "(3 times this shop's 99th percentile of 4, at least 10)."
    )
    cold = fact(assess(inputs(line_quantities=(21,), history_quantities=())), "unusual_quantity")
    assert cold.sentence.startswith("One line orders 21 units; more than 20 is unusual")
    assert "too little quantity history" in cold.sentence
    normal = fact(assess(inputs(line_quantities=(3,))), "unusual_quantity")
    assert normal.sentence.startswith("The largest line quantity, 3, is within the usual range")


def test_an_order_without_lines_has_no_quantity_to_judge() -> None:
    f = fact(assess(inputs(line_quantities=())), "unusual_quantity")
    assert (f.weight, f.observed) == (0, "no lines")


# No email -------------------------------------------------------------------


@pytest.mark.parametrize("email", [None, "", "   "])
def test_without_an_email_the_email_signals_are_listed_at_zero(email: str | None) -> None:
    assessment = assess(
        inputs(
            customer_email=email,
            orders_by_email=(50, 50),  # whatever the caller counted, there is no email to count
            distinct_addresses_for_email=9,
            orders_by_address=(3, 0),
        )
    )
    assert tuple(f.signal for f in assessment.facts) == SIGNALS
    for signal in EMAIL_SIGNALS:
        f = fact(assessment, signal)
        assert (f.weight, f.sentence) == (0, "No customer email given.")
    # The address is still judged.
    assert fired(assessment) == {"address_velocity_1h": 20}
    assert assessment.score == 20


# Score and level ------------------------------------------------------------


def test_the_score_is_capped_at_100() -> None:
    assessment = assess(
        inputs(
            customer_email="x@mailinator.com",
            orders_by_email=(20, 30),
            orders_by_address=(20, 30),
            distinct_addresses_for_email=12,
            total_minor=10_000_000,
            line_quantities=(500,),
        )
    )
    weights = {f.signal: f.weight for f in assessment.facts}
    assert weights == {
        "email_velocity_1h": 35,
        "email_velocity_24h": 35,
        "address_velocity_1h": 35,
        "address_velocity_24h": 35,
        "order_value": 40,
        "addresses_per_email": 35,
        "disposable_email": 25,
        "unusual_quantity": 15,
    }
    assert assessment.score == 100
    assert assessment.level is RiskLevel.HIGH
    assert assessment.held


# Orders scoring exactly 40 (disposable 25 + quantity 15) and 70 (velocity 35 + 35).
SCORE_40 = {"customer_email": "x@yopmail.com", "line_quantities": (13,)}
SCORE_70 = {"orders_by_email": (6, 0), "orders_by_address": (6, 0)}


@pytest.mark.parametrize(
    ("changes", "policy", "score", "level", "held"),
    [
        (SCORE_40, RiskPolicy(), 40, RiskLevel.MEDIUM, False),
        (SCORE_40, RiskPolicy(medium_threshold=41), 40, RiskLevel.LOW, False),
        (SCORE_40, RiskPolicy(medium_threshold=39), 40, RiskLevel.MEDIUM, False),
        (SCORE_40, RiskPolicy(medium_threshold=20, hold_threshold=40), 40, RiskLevel.HIGH, True),
        (SCORE_70, RiskPolicy(), 70, RiskLevel.HIGH, True),
        (SCORE_70, RiskPolicy(hold_threshold=71), 70, RiskLevel.MEDIUM, False),
        (SCORE_70, RiskPolicy(hold_threshold=69), 70, RiskLevel.HIGH, True),
        ({}, RiskPolicy(medium_threshold=0), 0, RiskLevel.MEDIUM, False),
        ({}, RiskPolicy(medium_threshold=0, hold_threshold=0), 0, RiskLevel.HIGH, True),
    ],
)
def test_levels_at_the_thresholds(
    changes: dict[str, object], policy: RiskPolicy, score: int, level: RiskLevel, held: bool
) -> None:
    assessment = assess(inputs(**changes), policy)
    assert (assessment.score, assessment.level, assessment.held) == (score, level, held)


# Validation -----------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"medium_threshold": 80},
        {"medium_threshold": -1},
        {"velocity_limits": (3,)},
        {"velocity_window_hours": (24, 1)},
        {"velocity_window_hours": (1, 1)},
        {"velocity_window_hours": (0, 24)},
        {"velocity_limits": (0, 10)},
        {"distinct_addresses_limit": 0},
    ],
)
def test_a_bad_policy_is_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"."):
        RiskPolicy(**changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "changes",
    [
        {"orders_by_email": (1,)},
        {"orders_by_address": (1, 2, 3)},
        {"orders_by_email": (-1, 0)},
        {"distinct_addresses_for_email": -1},
    ],
)
def test_inputs_that_do_not_fit_the_policy_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"."):
        assess(inputs(**changes))


# Properties -----------------------------------------------------------------

DOMAINS = ["example.com", "shop.example.org", "mailinator.com", "x.yopmail.com", "trashmail.de"]
LOCAL_PARTS = st.from_regex(r"zq[a-z0-9.+_-]{1,20}", fullmatch=True)


@st.composite
def emails(draw: st.DrawFn) -> str | None:
    if draw(st.booleans()) and draw(st.booleans()):
        return None
    return f"{draw(LOCAL_PARTS)}@{draw(st.sampled_from(DOMAINS))}"


@st.composite
def policies(draw: st.DrawFn) -> RiskPolicy:
    windows = draw(st.lists(st.integers(1, 24 * 30), min_size=1, max_size=4, unique=True))
    limits = draw(st.lists(st.integers(1, 30), min_size=len(windows), max_size=len(windows)))
    medium = draw(st.integers(0, 100))
    return RiskPolicy(
        hold_threshold=draw(st.integers(medium, 110)),
        medium_threshold=medium,
        velocity_window_hours=tuple(sorted(windows)),
        velocity_limits=tuple(limits),
        distinct_addresses_limit=draw(st.integers(1, 10)),
        extra_disposable_domains=draw(st.sampled_from([frozenset(), frozenset({"example.com"})])),
        version=draw(st.integers(0, 1000)),
    )


def counts(windows: int) -> st.SearchStrategy[tuple[int, ...]]:
    return st.tuples(*[st.integers(0, 60)] * windows)


@st.composite
def cases(draw: st.DrawFn) -> tuple[RiskPolicy, RiskInputs]:
    policy = draw(st.one_of(st.just(RiskPolicy()), policies()))
    windows = len(policy.velocity_window_hours)
    # Either a spread-out history or one with many repeats (MAD of 0).
    totals = st.one_of(st.integers(0, 10**9), st.sampled_from([0, 4200, 9999]))
    case = RiskInputs(
        total_minor=draw(st.integers(0, 10**10)),
        currency=draw(st.sampled_from(["EUR", "JPY", "KWD", "USD"])),
        line_quantities=tuple(draw(st.lists(st.integers(1, 10**5), max_size=5))),
        customer_email=draw(emails()),
        orders_by_email=draw(counts(windows)),
        orders_by_address=draw(counts(windows)),
        distinct_addresses_for_email=draw(st.integers(0, 20)),
        history_totals_minor=tuple(draw(st.lists(totals, max_size=80))),
        history_quantities=tuple(draw(st.lists(st.integers(1, 500), max_size=120))),
    )
    return policy, case


def signals_for(policy: RiskPolicy) -> tuple[str, ...]:
    hours = policy.velocity_window_hours
    return (
        *(f"email_velocity_{h}h" for h in hours),
        *(f"address_velocity_{h}h" for h in hours),
        "order_value",
        "addresses_per_email",
        "disposable_email",
        "unusual_quantity",
    )


@given(cases())
def test_the_score_is_the_capped_sum_and_the_level_follows(
    case: tuple[RiskPolicy, RiskInputs],
) -> None:
    policy, case_inputs = case
    assessment = assess(case_inputs, policy)
    assert 0 <= assessment.score <= 100
    assert all(f.weight >= 0 for f in assessment.facts)
    assert assessment.score == min(100, sum(f.weight for f in assessment.facts))
    if assessment.score >= policy.hold_threshold:
        assert assessment.level is RiskLevel.HIGH
        assert assessment.held
    elif assessment.score >= policy.medium_threshold:
        assert assessment.level is RiskLevel.MEDIUM
    else:
        assert assessment.level is RiskLevel.LOW
    assert assessment.held == (assessment.score >= policy.hold_threshold)
    assert assessment.policy_version == policy.version


@given(cases())
def test_the_facts_are_always_the_same_signals_in_the_same_order(
    case: tuple[RiskPolicy, RiskInputs],
) -> None:
    policy, case_inputs = case
    assessment = assess(case_inputs, policy)
    assert tuple(f.signal for f in assessment.facts) == signals_for(policy)
    assert all(f.observed and f.sentence for f in assessment.facts)


@given(cases(), st.data())
def test_more_velocity_never_lowers_the_score(
    case: tuple[RiskPolicy, RiskInputs], data: st.DataObject
) -> None:
    policy, case_inputs = case
    windows = len(policy.velocity_window_hours)
    more_email = data.draw(counts(windows))
    more_address = data.draw(counts(windows))
    busier = replace(
        case_inputs,
        orders_by_email=tuple(
            a + b for a, b in zip(case_inputs.orders_by_email, more_email, strict=True)
        ),
        orders_by_address=tuple(
            a + b for a, b in zip(case_inputs.orders_by_address, more_address, strict=True)
        ),
        distinct_addresses_for_email=case_inputs.distinct_addresses_for_email
        + data.draw(st.integers(0, 5)),
    )
    before, after = assess(case_inputs, policy), assess(busier, policy)
    assert after.score >= before.score
    for old, new in zip(before.facts, after.facts, strict=True):
        assert new.weight >= old.weight


@given(cases())
def test_assess_is_deterministic(case: tuple[RiskPolicy, RiskInputs]) -> None:
    policy, case_inputs = case
    copy = replace(
        case_inputs, history_totals_minor=tuple(reversed(case_inputs.history_totals_minor))
    )
    first = assess(case_inputs, policy)
    assert assess(case_inputs, policy) == first
    # The history is a sample, not a sequence: its order does not matter.
    assert assess(copy, policy) == first


@given(cases())
def test_sentences_never_show_the_email_address(case: tuple[RiskPolicy, RiskInputs]) -> None:
    policy, case_inputs = case
    assessment = assess(case_inputs, policy)
    if case_inputs.customer_email is None:
        return
    local = case_inputs.customer_email.split("@")[0]
    for f in assessment.facts:
        assert local not in f.sentence
        assert local not in f.observed
        assert "@" not in f.sentence


def _textbook_value_weight(total: int, history: tuple[int, ...]) -> tuple[int, str]:
    """The robust z-score as written in the books, in Fractions: the reference the
    whole-number arithmetic of `assess` must agree with."""
    from fractions import Fraction
    from statistics import median

    from oaas.risk.facts import MAD_SCALE, MEAN_AD_SCALE, _format_z, _value_points

    values = [Fraction(v) for v in history]
    centre = Fraction(median(values))
    deviations = [abs(v - centre) for v in values]
    mad = Fraction(median(deviations))
    if mad > 0:
        z = (total - centre) / (MAD_SCALE * mad)
        return _value_points(z), _format_z(z)
    mean_ad = sum(deviations, Fraction(0)) / len(deviations)
    if mean_ad == 0:
        return (25 if total > 3 * centre else 0), ""
    z = (total - centre) / (MEAN_AD_SCALE * mean_ad)
    return (_value_points(z) if total > 3 * centre else 0), _format_z(z)


@given(
    total=st.integers(min_value=0, max_value=10**9),
    history=st.lists(st.integers(min_value=0, max_value=10**7), min_size=20, max_size=120),
)
def test_order_value_matches_the_textbook_robust_z(total: int, history: list[int]) -> None:
    found = fact(
        assess(inputs(total_minor=total, history_totals_minor=tuple(history))), "order_value"
    )
    weight, z = _textbook_value_weight(total, tuple(history))
    assert found.weight == weight
    if z:
        assert found.observed.startswith(f"z = {z} ")
