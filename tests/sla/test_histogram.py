"""Percentiles of the log histogram against exact ones, for known sets of latencies."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from oaas.telemetry.histogram import GAMMA, Histogram

# A value read back is the geometric middle of its bucket: within sqrt(GAMMA) - 1 (~1%).
RELATIVE_ERROR = math.sqrt(GAMMA) - 1 + 1e-9


def exact(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(len(ordered) * q / 100)) - 1]


LATENCY_SETS = {
    "uniform 1..1000 ms": [float(v) for v in range(1, 1001)],
    "lognormal": [random.Random(7).lognormvariate(3, 1) for _ in range(5000)],
    "bimodal fast and slow": [2.5] * 900 + [850.0] * 100,
    "sub-millisecond": [0.2, 0.3, 0.4, 0.5, 0.9] * 40,
}


@pytest.mark.parametrize("name", sorted(LATENCY_SETS))
@pytest.mark.parametrize("q", [50, 90, 95, 99, 100])
def test_percentiles_are_within_the_histograms_error(name: str, q: float) -> None:
    values = LATENCY_SETS[name]
    histogram = Histogram()
    for value in values:
        histogram.add(value)
    got = histogram.percentile(q)
    assert got is not None
    truth = exact(values, q)
    assert abs(got - truth) / truth <= RELATIVE_ERROR, (got, truth)


def test_merged_parts_give_the_percentiles_of_the_whole() -> None:
    values = [random.Random(11).uniform(1, 2000) for _ in range(3000)]
    parts: list[Any] = []  # stored JSON: {"bucket": count}
    for start in range(0, len(values), 700):
        part = Histogram()
        for value in values[start : start + 700]:
            part.add(value)
        parts.append(part.to_json())  # as stored: string keys
    merged = Histogram.merged(parts)
    assert merged.count == len(values)
    for q in (50, 95, 99):
        got = merged.percentile(q)
        assert got is not None
        assert abs(got - exact(values, q)) / exact(values, q) <= RELATIVE_ERROR


def test_an_empty_histogram_has_no_percentiles() -> None:
    assert Histogram().percentile(95) is None
