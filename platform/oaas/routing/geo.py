"""Great-circle distance between two points on the Earth."""

from __future__ import annotations

import math

# The mean Earth radius (IUGG): the error against the ellipsoid stays under 0.5%,
# far below what per-km transport pricing can tell apart.
EARTH_RADIUS_KM = 6371.0088


def haversine_km(latitude1: float, longitude1: float, latitude2: float, longitude2: float) -> float:
    """The straight-line (great-circle) distance in kilometres, coordinates in degrees."""
    phi1 = math.radians(latitude1)
    phi2 = math.radians(latitude2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(longitude2 - longitude1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    # Rounding can push `a` a hair past 1 for antipodal points; asin would then fail.
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, max(0.0, a))))
