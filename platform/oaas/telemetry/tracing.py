"""OpenTelemetry set-up: one tracer provider per app, every span sampled for SLIs.

Spans reach the SLI processor first; when `OAAS_OTLP_ENDPOINT` is set, whole
traces are also exported over OTLP/HTTP in batches, off the request path: every
trace the SLI aggregates point at, and `OAAS_TRACE_EXPORT_RATIO` of the rest
(oaas.telemetry.export_sampling). SQL statements become spans only in an
exported trace (oaas.telemetry.sql). The provider is
the app's own (not the process-global one), so several apps in one process
(tests) never mix their spans.
"""

from __future__ import annotations

from dataclasses import dataclass

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from opentelemetry.trace import Span, Tracer

from oaas.telemetry.export_sampling import DEFAULT_MAX_CANDIDATE_SPANS, TailSampler
from oaas.telemetry.sli import SliAggregator, SliSpanProcessor

SERVICE_NAME = "oaas"
# Room for a drain's release of candidates and as much again of ordinary traffic.
EXPORT_QUEUE_SPANS = 2 * DEFAULT_MAX_CANDIDATE_SPANS


@dataclass(frozen=True)
class Tracing:
    provider: TracerProvider
    tracer: Tracer
    aggregator: SliAggregator
    # What decides which traces are exported; None: nothing is (no OTLP endpoint).
    sampler: TailSampler | None = None

    def shutdown(self) -> None:
        self.provider.shutdown()


def setup_tracing(otlp_endpoint: str | None, *, version: str, export_ratio: float = 1.0) -> Tracing:
    provider = TracerProvider(
        sampler=ALWAYS_ON,
        resource=Resource.create({"service.name": SERVICE_NAME, "service.version": version}),
    )
    sampler = None
    if otlp_endpoint:
        exporter = OTLPSpanExporter(endpoint=f"{otlp_endpoint.rstrip('/')}/v1/traces")
        # A drain releases up to DEFAULT_MAX_CANDIDATE_SPANS at once; the default
        # queue (2,048) would drop the overflow, and with it traces a report names.
        export = BatchSpanProcessor(exporter, max_queue_size=EXPORT_QUEUE_SPANS)
        sampler = TailSampler(export, ratio=export_ratio, resource=provider.resource)
    return traced_by(provider, sampler)


def traced_by(provider: TracerProvider, sampler: TailSampler | None) -> Tracing:
    """Wires SLI recording and, given a `sampler`, the export of what it keeps."""
    aggregator = SliAggregator(watcher=sampler)
    # First: a root's SLI outcome reaches the sampler before the sampler sees the root end.
    provider.add_span_processor(SliSpanProcessor(aggregator))
    if sampler is not None:
        provider.add_span_processor(sampler)
    return Tracing(
        provider=provider,
        tracer=provider.get_tracer("oaas"),
        aggregator=aggregator,
        sampler=sampler,
    )


def traceresponse(span: Span) -> str:
    """W3C Trace Context Level 2 `traceresponse`: version, trace id, span id, flags."""
    context = span.get_span_context()
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"
