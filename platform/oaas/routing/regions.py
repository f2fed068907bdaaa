"""Region codes: an ISO 3166-1 country ("DE") or an ISO 3166-2 subdivision ("DE-BY").

Nodes name the regions they serve and exclude in these codes; an order's
destination region is read from its shipping address, whose `region` is free
text, so a subdivision is recognised whether written "DE-BY", "BY" or "Bayern".
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import pycountry

from oaas.orders.money import is_country


def _subdivision(code: str) -> Any:
    return pycountry.subdivisions.get(code=code)  # type: ignore[no-untyped-call]


def _subdivisions_of(country: str) -> list[Any]:
    return list(pycountry.subdivisions.get(country_code=country) or ())  # type: ignore[no-untyped-call]


@lru_cache(maxsize=4096)
def is_region_code(code: str) -> bool:
    if is_country(code):
        return True
    return "-" in code and _subdivision(code) is not None


@lru_cache(maxsize=4096)
def destination_region(country: str, region: str | None) -> str:
    """The most precise code for an address: its subdivision when recognised, else its country."""
    country = country.upper()
    if region:
        text = region.strip()
        for candidate in (text.upper(), f"{country}-{text.upper()}"):
            found = _subdivision(candidate)
            if found is not None and found.country_code == country:
                return str(found.code)
        for subdivision in _subdivisions_of(country):
            if subdivision.name.casefold() == text.casefold():
                return str(subdivision.code)
    return country


def country_of(region: str) -> str:
    return region.split("-", 1)[0]
