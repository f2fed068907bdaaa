"""Currencies (ISO 4217) and exact amounts in minor units.

Amounts are stored as integers of the currency's minor unit (cents for USD,
yen for JPY, fils for KWD): exact on both databases, where SQLite would store a
NUMERIC column as a float.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from functools import cache

import pycountry

from oaas.errors import ErrorCode, OaasError
from oaas.text import quote

# Minor-unit exponents that differ from the usual 2 (ISO 4217 list one, 2024).
_EXPONENTS = {
    **dict.fromkeys(
        (
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}
# Codes with no minor unit at all (precious metals, bond units, testing): not money to sell with.
_NOT_TENDER = frozenset(
    (
        "XAG",
        "XAU",
        "XPD",
        "XPT",
        "XBA",
        "XBB",
        "XBC",
        "XBD",
        "XDR",
        "XSU",
        "XTS",
        "XUA",
        "XXX",
        "XAD",
    )
)


def minor_unit_exponent(code: str, field: Sequence[str] = ("currency",)) -> int:
    """The decimals of the currency's minor unit (ISO 4217): 2 for EUR, 0 for JPY, 3 for KWD.

    Refuses (INVALID at `field`) a code that is not a currency to price in. Amounts are
    stored in minor units, so a guessed exponent would misstate them by powers of ten.
    """
    exponent = _exponent_of(code)
    if exponent is None:
        raise OaasError(
            ErrorCode.INVALID, f"currency {quote(code)} is not an ISO 4217 currency code", field
        )
    return exponent


@cache
def _exponent_of(code: str) -> int | None:
    if len(code) != 3 or not code.isascii() or not code.isupper() or code in _NOT_TENDER:
        return None
    if pycountry.currencies.get(alpha_3=code) is None:
        return None
    return _EXPONENTS.get(code, 2)


# An amount as text: ASCII digits, an optional leading "-" and one "." between digits. Not
# what Decimal() also reads: exponents, "NaN", "Infinity", "1_000", other scripts' digits.
AMOUNT = re.compile(r"-?[0-9]{1,20}(?:\.[0-9]{1,20})?", re.ASCII)
AMOUNT_RULE = 'a string of ASCII digits with an optional "-" and ".", such as "19.90"'


def parse_amount(text: str) -> Decimal | None:
    """The amount `text` spells (AMOUNT), or None when it spells none."""
    return Decimal(text) if AMOUNT.fullmatch(text) else None


def to_minor(amount: Decimal, exponent: int) -> int:
    """The amount in minor units; the caller has checked it has no more decimals than allowed."""
    return int(amount.scaleb(exponent))


def from_minor(minor: int, exponent: int) -> Decimal:
    return Decimal(minor).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))


@cache
def is_country(code: str) -> bool:
    """ISO 3166-1 alpha-2, upper case."""
    return (
        len(code) == 2
        and code.isascii()
        and code.isupper()
        and pycountry.countries.get(alpha_2=code) is not None
    )
