"""createOrder input: checked whole, one error per bad value with its path, nothing written."""

from __future__ import annotations

import hashlib
import json
from dataclasses import astuple, dataclass
from decimal import Decimal, InvalidOperation

from email_validator import EmailNotValidError, validate_email

from oaas.errors import ErrorCode, OaasError, ValidationFailed
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


def _invalid(message: str, *path: str | int) -> OaasError:
    return OaasError(ErrorCode.INVALID, message, ("input", *(str(p) for p in path)))


def _check_text(
    errors: list[OaasError], value: str | None, *path: str | int, required: bool = False
) -> None:
    name = str(path[-1])
    if value is None:
        return
    problem = text_problem(value, limit=TEXT_LIMITS.get(name, 255), required=required)
    if problem is not None:
        errors.append(_invalid(f"{name} {problem}", *path))


def validate_order(order: OrderInput) -> ValidOrder:
    errors: list[OaasError] = []
    exponent: int | None = None
    try:
        exponent = minor_unit_exponent(order.currency, ("input", "currency"))
    except OaasError as refused:
        errors.append(refused)
    if order.external_id is not None and not 1 <= len(order.external_id) <= MAX_EXTERNAL_ID:
        errors.append(
            _invalid(f"externalId must be 1 to {MAX_EXTERNAL_ID} characters", "externalId")
        )
    _check_text(errors, order.channel, "channel")
    email = _check_email(errors, order.customer_email)
    _check_address(errors, order.shipping_address)
    lines = _check_lines(errors, order.lines, exponent)
    if errors:
        raise ValidationFailed(errors)
    assert exponent is not None
    return ValidOrder(source=order, exponent=exponent, lines=lines, customer_email=email)


def _check_email(errors: list[OaasError], email: str | None) -> str | None:
    if email is None:
        return None
    if len(email) > TEXT_LIMITS["customerEmail"]:
        errors.append(_invalid("customerEmail must be at most 320 characters", "customerEmail"))
        return None
    try:
        checked = validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        errors.append(
            _invalid(f"customerEmail is not a valid email address: {exc}", "customerEmail")
        )
        return None
    normalized: str = checked.normalized
    return normalized


def _check_address(errors: list[OaasError], address: AddressInput) -> None:
    base = "shippingAddress"
    _check_text(errors, address.line1, base, "line1", required=True)
    _check_text(errors, address.city, base, "city", required=True)
    for name, value in (
        ("name", address.name),
        ("line2", address.line2),
        ("region", address.region),
        ("postalCode", address.postal_code),
    ):
        _check_text(errors, value, base, name)
    if not is_country(address.country):
        errors.append(
            _invalid(
                f"country {quote(address.country)} is not an ISO 3166-1 alpha-2 code",
                base,
                "country",
            )
        )


def _check_lines(
    errors: list[OaasError], lines: tuple[LineInput, ...], exponent: int | None
) -> tuple[ValidLine, ...]:
    if not 1 <= len(lines) <= MAX_LINES:
        errors.append(_invalid(f"an order has 1 to {MAX_LINES} lines, not {len(lines)}", "lines"))
        return ()
    valid: list[ValidLine] = []
    seen: dict[str, int] = {}
    for index, line in enumerate(lines):
        before = len(errors)
        if (
            not 1 <= len(line.sku) <= MAX_SKU_LENGTH
            or not line.sku.isprintable()
            or not line.sku.strip()
        ):
            errors.append(
                _invalid(
                    f"sku must be 1 to {MAX_SKU_LENGTH} printable characters", "lines", index, "sku"
                )
            )
        elif line.sku in seen:
            errors.append(
                _invalid(
                    f"sku {quote(line.sku)} is already on line {seen[line.sku]}: give one line per sku",
                    "lines",
                    index,
                    "sku",
                )
            )
        else:
            seen[line.sku] = index
        if not 1 <= line.quantity <= MAX_QUANTITY:
            errors.append(
                _invalid(f"quantity must be 1 to {MAX_QUANTITY}", "lines", index, "quantity")
            )
        minor = _check_price(errors, line.unit_price, exponent, index)
        if len(errors) == before and minor is not None:
            valid.append(ValidLine(sku=line.sku, quantity=line.quantity, unit_price_minor=minor))
    return tuple(valid)


def _check_price(
    errors: list[OaasError], price: Decimal, exponent: int | None, index: int
) -> int | None:
    path = ("lines", index, "unitPrice")
    try:
        finite = price.is_finite()
    except (InvalidOperation, AttributeError):
        finite = False
    if not finite:
        errors.append(_invalid("unitPrice must be a number", *path))
        return None
    if price < 0:
        errors.append(_invalid("unitPrice must not be negative", *path))
        return None
    if price > MAX_UNIT_PRICE:
        errors.append(_invalid(f"unitPrice must be at most {MAX_UNIT_PRICE}", *path))
        return None
    if exponent is None:
        return None  # the currency error already says why
    exponent_of_price = price.normalize().as_tuple().exponent
    assert isinstance(exponent_of_price, int)
    if -exponent_of_price > exponent:
        errors.append(
            _invalid(f"unitPrice has more decimals than the currency allows ({exponent})", *path)
        )
        return None
    return to_minor(price, exponent)


def check_idempotency_key(key: str | None) -> None:
    if key is not None and not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY:
        raise OaasError(
            ErrorCode.INVALID,
            f"idempotencyKey must be 1 to {MAX_IDEMPOTENCY_KEY} characters",
            ("idempotencyKey",),
        )
