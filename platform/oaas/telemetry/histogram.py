"""A mergeable latency histogram with logarithmic buckets (relative error about 1%).

Bucket i holds values in (GAMMA**(i-1), GAMMA**i] milliseconds, so a
percentile read as the bucket's geometric middle is within ~1% of the truth.
Histograms of different minutes, workers and hosts merge by adding counts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

GAMMA = 1.02
_LOG_GAMMA = math.log(GAMMA)
MIN_MS = 0.001  # values below are counted in the lowest bucket


def bucket_of(value_ms: float) -> int:
    return math.ceil(math.log(max(value_ms, MIN_MS)) / _LOG_GAMMA)


def bucket_value(index: int) -> float:
    """The bucket's representative value: the geometric middle of its bounds."""
    return float(GAMMA ** (index - 0.5))


class Histogram:
    __slots__ = ("buckets", "count")

    def __init__(self) -> None:
        self.buckets: dict[int, int] = {}
        self.count = 0

    def add(self, value_ms: float) -> None:
        index = bucket_of(value_ms)
        self.buckets[index] = self.buckets.get(index, 0) + 1
        self.count += 1

    def merge(self, buckets: Mapping[int | str, int]) -> None:
        for index, count in buckets.items():
            key = int(index)
            self.buckets[key] = self.buckets.get(key, 0) + count
            self.count += count

    def percentile(self, q: float) -> float | None:
        """The q-th percentile (0 < q <= 100) in milliseconds, None when empty."""
        if self.count == 0:
            return None
        rank = max(1, math.ceil(self.count * q / 100))
        seen = 0
        for index in sorted(self.buckets):
            seen += self.buckets[index]
            if seen >= rank:
                return bucket_value(index)
        return bucket_value(max(self.buckets))  # pragma: no cover - rank <= count

    def to_json(self) -> dict[str, int]:
        return {str(index): count for index, count in self.buckets.items()}

    @classmethod
    def merged(cls, parts: Iterable[Mapping[int | str, int]]) -> Histogram:
        histogram = cls()
        for part in parts:
            histogram.merge(part)
        return histogram
