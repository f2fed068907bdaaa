"""Tail sampling of what is exported: every trace an SLA report may name, a share of the rest.

Every span is still recorded (the SLI aggregates see every request); this decides
only which whole traces leave the process. A trace's spans are held until its
local root ends, then the trace is exported, dropped, or held on as a candidate:

- exported when the request was bad (every one, not only those a report names),
  when the caller's `traceparent` says it samples the trace, or when the trace
  id falls in `ratio`, by OpenTelemetry's `TraceIdRatioBased` rule so services
  sampling by ratio agree;
- held on while it is among the slowest so far of its tenant, operation and
  minute: dropped when a slower request pushes it out, exported when the SLI
  aggregates are drained with it still there (the drain is what writes the
  exemplars a report names). So exactly the named traces are exported, where
  "slowest so far" would export many more while latency climbs.

Why sample: a collector stores what it is sent, and the traces worth keeping
are the ones above. Work noted cheaply while its trace is open (`DeferredSpan`:
SQL statements) becomes a span only in a trace that is exported, which is most
of what tracing saves by sampling (ops/bench/README.md).

Memory is bounded: at most `max_open_traces` traces are held until their root
ends, `max_spans_per_trace` spans each, and `max_candidate_spans` spans of ended traces until a drain (a drain hands them to
the exporter's queue at once, so the queue must hold them: see
oaas.telemetry.tracing). A trace beyond the first limit is decided span by span
by the caller's flag and the ratio; spans beyond the second are dropped; a
candidate beyond the third is exported at once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Protocol

from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.sampling import TraceIdRatioBased

DEFAULT_MAX_OPEN_TRACES = 2_048
DEFAULT_MAX_SPANS_PER_TRACE = 512
DEFAULT_MAX_CANDIDATE_SPANS = 8_192


class DeferredSpan(Protocol):
    """Work noted cheaply while its trace is open, made a span only if exported
    (oaas.telemetry.sql: a statement)."""

    @property
    def trace_id(self) -> int: ...

    def as_span(self, resource: Resource) -> ReadableSpan: ...


@dataclass
class _OpenTrace:
    spans: list[ReadableSpan] = field(default_factory=list)
    deferred: list[DeferredSpan] = field(default_factory=list)
    keep: bool = False
    candidate: bool = False

    def size(self) -> int:
        return len(self.spans) + len(self.deferred)

    def finished(self, root: ReadableSpan) -> list[ReadableSpan]:
        resource = root.resource
        return [*self.spans, *(noted.as_span(resource) for noted in self.deferred), root]


@dataclass
class ExportCounts:
    exported_traces: int = 0
    dropped_traces: int = 0
    # Spans not held: their trace was beyond `max_open_traces`, or they were beyond
    # `max_spans_per_trace`.
    overflow_spans: int = 0


def _is_local_root(span: ReadableSpan) -> bool:
    return span.parent is None or span.parent.is_remote


def _caller_samples(span: ReadableSpan) -> bool:
    return span.parent is not None and span.parent.is_remote and span.parent.trace_flags.sampled


class TailSampler(SpanProcessor):
    """Holds each trace's spans until its local root ends; `export` gets the kept traces.

    It is also the SLI aggregator's `ExemplarWatcher` (oaas.telemetry.sli)."""

    def __init__(
        self,
        export: SpanProcessor,
        *,
        ratio: float,
        max_open_traces: int = DEFAULT_MAX_OPEN_TRACES,
        max_spans_per_trace: int = DEFAULT_MAX_SPANS_PER_TRACE,
        max_candidate_spans: int = DEFAULT_MAX_CANDIDATE_SPANS,
        resource: Resource | None = None,
    ) -> None:
        if not 0.0 <= ratio <= 1.0:
            raise ValueError(f"ratio must be within 0 and 1, not {ratio}")
        self.export = export
        self.ratio = ratio
        self._bound = TraceIdRatioBased.get_bound_for_rate(ratio)
        self.max_open_traces = max_open_traces
        self.max_spans_per_trace = max_spans_per_trace
        self.max_candidate_spans = max_candidate_spans
        self.counts = ExportCounts()
        self._lock = threading.Lock()
        self._open: dict[int, _OpenTrace] = {}
        self.resource = resource or Resource.get_empty()
        self._candidates: dict[int, tuple[_OpenTrace, ReadableSpan]] = {}
        self._candidate_spans = 0

    # The SLI aggregator's news, each about a trace whose SLI span just ended.

    def bad(self, trace_id: str) -> None:
        with self._lock:
            held = self._open.get(int(trace_id, 16))
            if held is not None:
                held.keep = True

    def slowest_taken(self, trace_id: str) -> None:
        with self._lock:
            held = self._open.get(int(trace_id, 16))
            if held is not None:
                held.candidate = True

    def slowest_dropped(self, trace_id: str) -> None:
        key = int(trace_id, 16)
        with self._lock:
            held = self._open.get(key)
            if held is not None:
                held.candidate = False
            dropped = self._candidates.pop(key, None)
            if dropped is not None:
                self._candidate_spans -= dropped[0].size() + 1
                self.counts.dropped_traces += 1

    def named(self, trace_ids: set[str]) -> None:
        keys = {int(trace_id, 16) for trace_id in trace_ids}
        with self._lock:
            candidates, self._candidates = self._candidates, {}
            self._candidate_spans = 0
            for key, held in self._open.items():
                if held.candidate:
                    held.candidate = False
                    held.keep = held.keep or key in keys
            released: list[tuple[_OpenTrace, ReadableSpan]] = []
            for key, candidate in candidates.items():
                if key in keys:
                    self.counts.exported_traces += 1
                    released.append(candidate)
                else:
                    self.counts.dropped_traces += 1
        for held, root in released:
            for span in held.finished(root):
                self.export.on_end(span)

    def deferred(self, noted: DeferredSpan) -> None:
        """Work inside an open trace; exported, as a span, with the trace if it is."""
        with self._lock:
            held = self._open.get(noted.trace_id)
            if held is not None:
                # As a span of a held trace: beyond the trace's limit, dropped.
                if held.size() < self.max_spans_per_trace:
                    held.deferred.append(noted)
                else:
                    self.counts.overflow_spans += 1
                return
            # Its trace is not held (beyond the limit, or its root has ended).
            self.counts.overflow_spans += 1
        if self._in_ratio(noted.trace_id):
            self.export.on_end(noted.as_span(self.resource))

    def open_traces(self) -> int:
        with self._lock:
            return len(self._open)

    def held_candidates(self) -> int:
        with self._lock:
            return len(self._candidates)

    def _in_ratio(self, trace_id: int) -> bool:
        return trace_id & TraceIdRatioBased.TRACE_ID_LIMIT < self._bound

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        if span.context is None or not _is_local_root(span):
            return
        with self._lock:
            if len(self._open) < self.max_open_traces:
                self._open[span.context.trace_id] = _OpenTrace()

    def on_end(self, span: ReadableSpan) -> None:
        if span.context is None:
            return
        trace_id = span.context.trace_id
        root = _is_local_root(span)
        kept: list[ReadableSpan] = []
        exported: _OpenTrace | None = None
        with self._lock:
            held = self._open.pop(trace_id, None) if root else self._open.get(trace_id)
            if held is not None and not root:
                if held.size() < self.max_spans_per_trace:
                    held.spans.append(span)
                else:
                    self.counts.overflow_spans += 1
                return
            if held is None:
                # Not held (beyond the limit, or ending after its root): decided alone.
                self.counts.overflow_spans += 1
                if _caller_samples(span) or self._in_ratio(trace_id):
                    kept = [span]
            elif held.keep or _caller_samples(span) or self._in_ratio(trace_id):
                self.counts.exported_traces += 1
                exported = held
            elif held.candidate and self._candidate_spans + held.size() < self.max_candidate_spans:
                self._candidates[trace_id] = (held, span)
                self._candidate_spans += held.size() + 1
            elif held.candidate:
                self.counts.exported_traces += 1
                exported = held
            else:
                self.counts.dropped_traces += 1
        if exported is not None:
            kept = exported.finished(span)
        for finished in kept:
            self.export.on_end(finished)

    def shutdown(self) -> None:
        self.export.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.export.force_flush(timeout_millis)
