"""SLI recording from spans: every finished request span into per-minute aggregates.

`SliSpanProcessor.on_end` runs on the request's thread, so it does only
dictionary arithmetic; a background task (oaas.sla.recording) drains the
aggregates to the database every few seconds. The tracer samples every span
(export sampling happens downstream of this processor), so SLI data is never
dropped by sampling. An `ExemplarWatcher` (the export sampler) hears which traces
the aggregates take as exemplars, drop again and, at each drain, finally name.
"""

from __future__ import annotations

import heapq
import threading
from dataclasses import dataclass, field
from typing import Protocol

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

    def add(self, duration_ms: float, bad: bool, trace_id: str) -> tuple[bool, str | None]:
        """Counts a request; answers whether it is among the slowest so far, and which
        trace it pushed out of them."""
        self.count += 1
        self.histogram.add(duration_ms)
        taken, pushed_out = True, None
        if len(self.slowest) < SLOWEST_EXEMPLARS:
            heapq.heappush(self.slowest, (duration_ms, trace_id))
        elif duration_ms > self.slowest[0][0]:
            pushed_out = heapq.heapreplace(self.slowest, (duration_ms, trace_id))[1]
        else:
            taken = False
        if bad:
            self.bad += 1
            if len(self.bad_traces) < BAD_EXEMPLARS:
                self.bad_traces.append(trace_id)
        return taken, pushed_out

    def exemplars(self) -> dict[str, list[str]]:
        slowest = [trace for _ms, trace in sorted(self.slowest, reverse=True)]
        return {"slowest": slowest, "bad": list(self.bad_traces)}


# (minute start in epoch seconds, tenant id, operation)
AggregateKey = tuple[int, str, str]


class ExemplarWatcher(Protocol):
    """Told, under the aggregator's lock, what becomes of each request's trace."""

    def bad(self, trace_id: str) -> None: ...

    def slowest_taken(self, trace_id: str) -> None: ...

    def slowest_dropped(self, trace_id: str) -> None: ...

    def named(self, trace_ids: set[str]) -> None:
        """At a drain: the slowest exemplars of every drained aggregate, as written."""
        ...


class SliAggregator:
    """Aggregates of the minutes not yet flushed; `drain` hands them over and starts afresh."""

    def __init__(self, watcher: ExemplarWatcher | None = None) -> None:
        self._lock = threading.Lock()
        self._minutes: dict[AggregateKey, MinuteAggregate] = {}
        self._watcher = watcher

    def record(
        self,
        *,
        end_ns: int,
        tenant_id: str,
        operation: str,
        duration_ms: float,
        bad: bool,
        trace_id: str,
    ) -> None:
        key = (end_ns // 60_000_000_000 * 60, tenant_id, operation)
        with self._lock:
            aggregate = self._minutes.get(key)
            if aggregate is None:
                aggregate = self._minutes[key] = MinuteAggregate()
            taken, pushed_out = aggregate.add(duration_ms, bad, trace_id)
            watcher = self._watcher
            if watcher is not None:
                if bad:
                    watcher.bad(trace_id)
                if taken:
                    watcher.slowest_taken(trace_id)
                if pushed_out is not None:
                    watcher.slowest_dropped(pushed_out)

    def drain(self) -> dict[AggregateKey, MinuteAggregate]:
        with self._lock:
            drained, self._minutes = self._minutes, {}
            if self._watcher is not None:
                self._watcher.named(
                    {trace for aggregate in drained.values() for _ms, trace in aggregate.slowest}
                )
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
    def __init__(self, aggregator: SliAggregator) -> None:
        self.aggregator = aggregator

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
        self.aggregator.record(
            end_ns=span.end_time,
            tenant_id=str(tenant_id),
            operation=str(attributes.get(OPERATION_ATTRIBUTE) or "unknown"),
            duration_ms=(span.end_time - span.start_time) / 1e6,
            bad=bad,
            trace_id=format(span.context.trace_id, "032x"),
        )

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
