"""createOrder input: checked whole, one error per bad value with its path, nothing written."""

from __future__ import annotations

import hashlib
import json
from dataclasses import astuple, dataclass
from decimal import Decimal, InvalidOperation

from email_validator import EmailNotValidError, validate_email

from oaas.errors import ErrorCode, OaasError, Problems
from oaas.orders.money import is_country, minor_unit_exponent, to_minor
from oaas.orders.records import AddressRecord
from oaas.text import quote, text_problem

MAX_LINES = 250
MAX_SKU_LENGTH = 64
MAX_QUANTITY = 100_000
MAX_UNIT_PRICE = Decimal(100_000_000)
MAX_EXTERNAL_ID = 255
MAX_IDEMPOTENCY_KEY = 255

# Lengths of the free-text fields (they match the columns).
TEXT_LIMITS = {
    "channel": 64,
    "customerEmail": 320,
    "name": 200,
    "line1": 200,
    "line2": 200,
    "city": 100,
    "region": 100,
    "postalCode": 20,
}


# An order is given its shipping address in the shape it is stored in.
AddressInput = AddressRecord


@dataclass(frozen=True)
class LineInput:
    sku: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class OrderInput:
    currency: str
    shipping_address: AddressInput
    lines: tuple[LineInput, ...]
    external_id: str | None = None
    channel: str | None = None
    customer_email: str | None = None


@dataclass(frozen=True)
class ValidLine:
    sku: str
    quantity: int
    unit_price_minor: int


@dataclass(frozen=True)
class ValidOrder:
    """An order input that passed every rule, amounts in minor units."""

    source: OrderInput
    exponent: int
    lines: tuple[ValidLine, ...]
    customer_email: str | None

    @property
    def total_minor(self) -> int:
        return sum(line.quantity * line.unit_price_minor for line in self.lines)

    def fingerprint(self) -> str:
        """Equal for inputs that mean the same order (e.g. "19.9" and "19.90")."""
        src, address = self.source, self.source.shipping_address
        canonical = {
            "currency": src.currency,
            "externalId": src.external_id,
            "channel": src.channel,
            "customerEmail": self.customer_email,
            # In the record's field order: another order would change every fingerprint.
            "address": list(astuple(address)),
            "lines": [[line.sku, line.quantity, line.unit_price_minor] for line in self.lines],
        }
        encoded = json.dumps(canonical, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(encoded.encode()).hexdigest()


def _check_text(
    problems: Problems, value: str | None, *path: str | int, required: bool = False
) -> None:
    name = str(path[-1])
    if value is None:
        return
    problem = text_problem(value, limit=TEXT_LIMITS.get(name, 255), required=required)
    if problem is not None:
        problems.add(path, f"{name} {problem}")


def validate_order(order: OrderInput) -> ValidOrder:
    problems = Problems("input")
    exponent: int | None = None
    try:
        exponent = minor_unit_exponent(order.currency)
    except OaasError as refused:
        problems.add(("currency",), refused.message)
    if order.external_id is not None and not 1 <= len(order.external_id) <= MAX_EXTERNAL_ID:
        problems.add(("externalId",), f"externalId must be 1 to {MAX_EXTERNAL_ID} characters")
    _check_text(problems, order.channel, "channel")
    email = _check_email(problems, order.customer_email)
    _check_address(problems.at("shippingAddress"), order.shipping_address)
    lines = _check_lines(problems.at("lines"), order.lines, exponent)
    problems.raise_if_any()
    assert exponent is not None
    return ValidOrder(source=order, exponent=exponent, lines=lines, customer_email=email)


def _check_email(problems: Problems, email: str | None) -> str | None:
    if email is None:
        return None
    if len(email) > TEXT_LIMITS["customerEmail"]:
        problems.add(("customerEmail",), "customerEmail must be at most 320 characters")
        return None
    try:
        checked = validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        problems.add(("customerEmail",), f"customerEmail is not a valid email address: {exc}")
        return None
    normalized: str = checked.normalized
    return normalized


def _check_address(problems: Problems, address: AddressInput) -> None:
    _check_text(problems, address.line1, "line1", required=True)
    _check_text(problems, address.city, "city", required=True)
    for name, value in (
        ("name", address.name),
        ("line2", address.line2),
        ("region", address.region),
        ("postalCode", address.postal_code),
    ):
        _check_text(problems, value, name)
    if not is_country(address.country):
        problems.add(
            ("country",), f"country {quote(address.country)} is not an ISO 3166-1 alpha-2 code"
        )


def _check_lines(
    problems: Problems, lines: tuple[LineInput, ...], exponent: int | None
) -> tuple[ValidLine, ...]:
    """`problems`: below the `lines` field."""
    if not 1 <= len(lines) <= MAX_LINES:
        problems.add((), f"an order has 1 to {MAX_LINES} lines, not {len(lines)}")
        return ()
    valid: list[ValidLine] = []
    seen: dict[str, int] = {}
    for index, line in enumerate(lines):
        before = len(problems)
        here = problems.at(index)
        if (
            not 1 <= len(line.sku) <= MAX_SKU_LENGTH
            or not line.sku.isprintable()
            or not line.sku.strip()
        ):
            here.add(("sku",), f"sku must be 1 to {MAX_SKU_LENGTH} printable characters")
        elif line.sku in seen:
            here.add(
                ("sku",),
                f"sku {quote(line.sku)} is already on line {seen[line.sku]}: give one line per sku",
            )
        else:
            seen[line.sku] = index
        if not 1 <= line.quantity <= MAX_QUANTITY:
            here.add(("quantity",), f"quantity must be 1 to {MAX_QUANTITY}")
        minor = _check_price(here.at("unitPrice"), line.unit_price, exponent)
        if len(problems) == before and minor is not None:
            valid.append(ValidLine(sku=line.sku, quantity=line.quantity, unit_price_minor=minor))
    return tuple(valid)


def _check_price(problems: Problems, price: Decimal, exponent: int | None) -> int | None:
    """`problems`: at the price's own field."""
    try:
        finite = price.is_finite()
    except (InvalidOperation, AttributeError):
        finite = False
    if not finite:
        problems.add((), "unitPrice must be a number")
        return None
    if price < 0:
        problems.add((), "unitPrice must not be negative")
        return None
    if price > MAX_UNIT_PRICE:
        problems.add((), f"unitPrice must be at most {MAX_UNIT_PRICE}")
        return None
    if exponent is None:
        return None  # the currency error already says why
    exponent_of_price = price.normalize().as_tuple().exponent
    assert isinstance(exponent_of_price, int)
    if -exponent_of_price > exponent:
        problems.add((), f"unitPrice has more decimals than the currency allows ({exponent})")
        return None
    return to_minor(price, exponent)


def check_idempotency_key(key: str | None) -> None:
    if key is not None and not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY:
        raise OaasError(
            ErrorCode.INVALID,
            f"idempotencyKey must be 1 to {MAX_IDEMPOTENCY_KEY} characters",
            ("idempotencyKey",),
        )
