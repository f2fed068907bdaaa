"""SLI recording from spans: every finished request span into per-minute aggregates.

`SliSpanProcessor.on_end` runs on the request's thread, so it does only
dictionary arithmetic; a background task (oaas.sla.recording) drains the
aggregates to the database every few seconds. The tracer samples every span
(export sampling happens downstream of this processor), so SLI data is never
dropped by sampling. It tells the export sampler (oaas.telemetry.export_sampling)
which traces the aggregates point at, so those are always exported.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from oaas.telemetry.histogram import Histogram

# Span attributes the HTTP layer sets on a request span that counts as an SLI event.
SLI_ATTRIBUTE = "oaas.sli"
TENANT_ID_ATTRIBUTE = "oaas.tenant_id"
OPERATION_ATTRIBUTE = "oaas.operation"
UNEXPECTED_ATTRIBUTE = "oaas.error.unexpected"
STATUS_ATTRIBUTE = "http.response.status_code"

SLOWEST_EXEMPLARS = 5
BAD_EXEMPLARS = 50


@dataclass
class MinuteAggregate:
    count: int = 0
    bad: int = 0
    histogram: Histogram = field(default_factory=Histogram)
    slowest: list[tuple[float, str]] = field(default_factory=list)  # min-heap of (ms, trace id)
    bad_traces: list[str] = field(default_factory=list)

    def add(self, duration_ms: float, bad: bool, trace_id: str) -> bool:
        """Counts a request; True when it is bad or among the minute's slowest so far."""
        self.count += 1
        self.histogram.add(duration_ms)
        slowest = True
        if len(self.slowest) < SLOWEST_EXEMPLARS:
            heapq.heappush(self.slowest, (duration_ms, trace_id))
        elif duration_ms > self.slowest[0][0]:
            heapq.heapreplace(self.slowest, (duration_ms, trace_id))
        else:
            slowest = False
        if bad:
            self.bad += 1
            if len(self.bad_traces) < BAD_EXEMPLARS:
                self.bad_traces.append(trace_id)
        return slowest or bad

    def exemplars(self) -> dict[str, list[str]]:
        slowest = [trace for _ms, trace in sorted(self.slowest, reverse=True)]
        return {"slowest": slowest, "bad": list(self.bad_traces)}


# (minute start in epoch seconds, tenant id, operation)
AggregateKey = tuple[int, str, str]


class SliAggregator:
    """Aggregates of the minutes not yet flushed; `drain` hands them over and starts afresh."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._minutes: dict[AggregateKey, MinuteAggregate] = {}

    def record(
        self,
        *,
        end_ns: int,
        tenant_id: str,
        operation: str,
        duration_ms: float,
        bad: bool,
        trace_id: str,
    ) -> bool:
        """True when the request's trace is an exemplar: bad, or among the slowest so far."""
        key = (end_ns // 60_000_000_000 * 60, tenant_id, operation)
        with self._lock:
            aggregate = self._minutes.get(key)
            if aggregate is None:
                aggregate = self._minutes[key] = MinuteAggregate()
            return aggregate.add(duration_ms, bad, trace_id)

    def drain(self) -> dict[AggregateKey, MinuteAggregate]:
        with self._lock:
            drained, self._minutes = self._minutes, {}
        return drained

    def restore(self, drained: dict[AggregateKey, MinuteAggregate]) -> None:
        """Puts back what a failed flush could not write, merged with what came since."""
        with self._lock:
            for key, old in drained.items():
                current = self._minutes.get(key)
                if current is None:
                    self._minutes[key] = old
                    continue
                current.count += old.count
                current.bad += old.bad
                current.histogram.merge(old.histogram.buckets)  # type: ignore[arg-type]
                for ms, trace in old.slowest:
                    current.slowest.append((ms, trace))
                current.slowest = heapq.nlargest(SLOWEST_EXEMPLARS, current.slowest)
                heapq.heapify(current.slowest)
                current.bad_traces = (current.bad_traces + old.bad_traces)[:BAD_EXEMPLARS]


class SliSpanProcessor(SpanProcessor):
    """Records SLI spans; `on_exemplar` hears of every trace an SLA report may point at."""

    def __init__(
        self, aggregator: SliAggregator, on_exemplar: Callable[[int], None] | None = None
    ) -> None:
        self.aggregator = aggregator
        self.on_exemplar = on_exemplar

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        attributes = span.attributes or {}
        if not attributes.get(SLI_ATTRIBUTE):
            return
        tenant_id = attributes.get(TENANT_ID_ATTRIBUTE)
        if (
            not tenant_id
            or span.start_time is None
            or span.end_time is None
            or span.context is None
        ):
            return  # not authenticated: a client error, and no tenant to charge it to
        status = attributes.get(STATUS_ATTRIBUTE, 500)
        bad = bool(attributes.get(UNEXPECTED_ATTRIBUTE)) or int(str(status)) >= 500
        exemplar = self.aggregator.record(
            end_ns=span.end_time,
            tenant_id=str(tenant_id),
            operation=str(attributes.get(OPERATION_ATTRIBUTE) or "unknown"),
            duration_ms=(span.end_time - span.start_time) / 1e6,
            bad=bad,
            trace_id=format(span.context.trace_id, "032x"),
        )
        if exemplar and self.on_exemplar is not None:
            self.on_exemplar(span.context.trace_id)

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
