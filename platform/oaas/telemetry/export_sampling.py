"""Tail sampling of what is exported: every trace an SLA report may point at, a share of the rest.

Every span is still recorded (the SLI processor sees them all); this decides only
which whole traces leave the process. A trace's spans are held until its local
root ends, then the trace is exported or dropped as one:

- kept when the SLI processor took it as an exemplar (`keep`): a bad request, or
  one among the slowest so far of its tenant, operation and minute. A trace in
  the minute's final top N was in the top N of every earlier part of the minute,
  so the exported set holds every trace the SLA report names;
- kept when the caller's `traceparent` says it samples the trace;
- otherwise kept when its trace id falls in `ratio`, by the same rule as
  OpenTelemetry's `TraceIdRatioBased`, so services sampling by ratio agree.

Encoding and sending a span costs about as much CPU as making it; under load, export
of every span cost a fifth to two fifths of the gateway's throughput
(ops/bench/README.md). Memory is bounded: at most `max_open_traces` traces are held,
`max_spans_per_trace` spans each; a trace beyond that is decided when its spans end,
by the caller's flag and the ratio alone, and spans beyond a trace's limit are dropped.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.sampling import TraceIdRatioBased

DEFAULT_MAX_OPEN_TRACES = 2_048
DEFAULT_MAX_SPANS_PER_TRACE = 512


@dataclass
class _OpenTrace:
    spans: list[ReadableSpan] = field(default_factory=list)
    keep: bool = False


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
    """Holds each trace's spans until its local root ends; `export` gets the kept traces."""

    def __init__(
        self,
        export: SpanProcessor,
        *,
        ratio: float,
        max_open_traces: int = DEFAULT_MAX_OPEN_TRACES,
        max_spans_per_trace: int = DEFAULT_MAX_SPANS_PER_TRACE,
    ) -> None:
        if not 0.0 <= ratio <= 1.0:
            raise ValueError(f"ratio must be within 0 and 1, not {ratio}")
        self.export = export
        self.ratio = ratio
        self._bound = TraceIdRatioBased.get_bound_for_rate(ratio)
        self.max_open_traces = max_open_traces
        self.max_spans_per_trace = max_spans_per_trace
        self.counts = ExportCounts()
        self._lock = threading.Lock()
        self._open: dict[int, _OpenTrace] = {}

    def keep(self, trace_id: int) -> None:
        """Exports the trace whatever the ratio says; called before its root span ends."""
        with self._lock:
            held = self._open.get(trace_id)
            if held is not None:
                held.keep = True

    def open_traces(self) -> int:
        with self._lock:
            return len(self._open)

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
        with self._lock:
            held = self._open.pop(trace_id, None) if root else self._open.get(trace_id)
            if held is not None and not root:
                if len(held.spans) < self.max_spans_per_trace:
                    held.spans.append(span)
                else:
                    self.counts.overflow_spans += 1
                return
            if held is None:
                # Not held (beyond the limit, or ending after its root): decided alone.
                self.counts.overflow_spans += 1
                kept = [span] if _caller_samples(span) or self._in_ratio(trace_id) else []
            elif held.keep or _caller_samples(span) or self._in_ratio(trace_id):
                self.counts.exported_traces += 1
                kept = [*held.spans, span]
            else:
                self.counts.dropped_traces += 1
                kept = []
        for finished in kept:
            self.export.on_end(finished)

    def shutdown(self) -> None:
        self.export.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.export.force_flush(timeout_millis)
