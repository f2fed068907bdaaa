"""Tail-sampled export: whole traces, every exemplar, a share of the rest, bounded memory."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from oaas.telemetry.export_sampling import TailSampler
from oaas.telemetry.sli import (
    BAD_EXEMPLARS,
    OPERATION_ATTRIBUTE,
    SLI_ATTRIBUTE,
    SLOWEST_EXEMPLARS,
    STATUS_ATTRIBUTE,
    TENANT_ID_ATTRIBUTE,
)
from oaas.telemetry.sql import SqlStatement
from oaas.telemetry.tracing import Tracing, traced_by

TENANT = "3f1c0f6e-0000-4000-8000-000000000001"


@dataclass
class Pipeline:
    tracing: Tracing
    sampler: TailSampler
    exported: InMemorySpanExporter
    clock_ns: int

    def exported_traces(self) -> dict[int, list[str]]:
        traces: dict[int, list[str]] = {}
        for span in self.exported.get_finished_spans():
            assert span.context is not None
            traces.setdefault(span.context.trace_id, []).append(span.name)
        return traces

    def request(
        self,
        ms: float,
        *,
        status: int = 200,
        children: int = 2,
        parent: Context | None = None,
        sli: bool = True,
    ) -> int:
        """One request span of `ms` with `children` SQL spans; returns its trace id."""
        tracer = self.tracing.tracer
        start = self.clock_ns
        self.clock_ns += int(ms * 1e6) + 1
        root = tracer.start_span("POST /graphql", context=parent, start_time=start)
        for index in range(children):
            child = tracer.start_span(
                f"SQL SELECT {index}", context=trace.set_span_in_context(root), start_time=start
            )
            child.end(end_time=start + 1000)
        if sli:
            root.set_attributes(
                {
                    SLI_ATTRIBUTE: True,
                    TENANT_ID_ATTRIBUTE: TENANT,
                    OPERATION_ATTRIBUTE: "orders",
                    STATUS_ATTRIBUTE: status,
                }
            )
        root.end(end_time=start + int(ms * 1e6))
        return root.get_span_context().trace_id


def _statement(parent: trace.Span, text: str, error: str | None = None) -> SqlStatement:
    now = time.time_ns()
    return SqlStatement(parent.get_span_context(), now, now + 1000, text, "sqlite", "oaas", error)


def _pipeline(ratio: float, **limits: int) -> Pipeline:
    exported = InMemorySpanExporter()
    sampler = TailSampler(SimpleSpanProcessor(exported), ratio=ratio, **limits)
    # The middle of a minute, so the synthetic requests share one.
    clock_ns = (time.time_ns() // 60_000_000_000 * 60 + 10) * 1_000_000_000
    # As the app's: every span recorded, whatever the caller's flag (SLIs see them all).
    provider = TracerProvider(sampler=ALWAYS_ON)
    return Pipeline(traced_by(provider, sampler), sampler, exported, clock_ns)


@pytest.fixture
def none_by_ratio() -> Iterator[Pipeline]:
    pipeline = _pipeline(0.0)
    yield pipeline
    pipeline.tracing.shutdown()


def _caller(trace_id: int, *, sampled: bool) -> Context:
    flags = TraceFlags(TraceFlags.SAMPLED if sampled else TraceFlags.DEFAULT)
    remote = SpanContext(trace_id, 0x00F067AA0BA902B7, is_remote=True, trace_flags=flags)
    return trace.set_span_in_context(NonRecordingSpan(remote))


def test_the_slowest_named_at_the_drain_are_exported_whole_and_the_rest_dropped(
    none_by_ratio: Pipeline,
) -> None:
    first = [none_by_ratio.request(100.0 + i) for i in range(SLOWEST_EXEMPLARS)]
    fast = [none_by_ratio.request(5.0) for _ in range(10)]
    slower = none_by_ratio.request(500.0)
    assert none_by_ratio.exported_traces() == {}  # candidates until the aggregates are written
    assert none_by_ratio.sampler.held_candidates() == SLOWEST_EXEMPLARS

    none_by_ratio.tracing.aggregator.drain()

    exported = none_by_ratio.exported_traces()
    assert set(exported) == {*first[1:], slower}  # the 100 ms one was pushed out
    assert all(
        sorted(names) == ["POST /graphql", "SQL SELECT 0", "SQL SELECT 1"]
        for names in exported.values()
    )
    assert not set(fast) & set(exported)
    assert none_by_ratio.sampler.counts.dropped_traces == len(fast) + 1
    assert none_by_ratio.sampler.open_traces() == 0
    assert none_by_ratio.sampler.held_candidates() == 0


def test_exactly_the_traces_the_aggregates_name_are_exported(none_by_ratio: Pipeline) -> None:
    climbing = [float(ms) for ms in range(1, 301)]  # latency climbing: each a new slowest
    for ms in climbing:
        none_by_ratio.request(ms)
    minutes = none_by_ratio.tracing.aggregator.drain()
    named = {trace for aggregate in minutes.values() for trace in aggregate.exemplars()["slowest"]}
    exported = {format(trace_id, "032x") for trace_id in none_by_ratio.exported_traces()}
    assert len(named) == SLOWEST_EXEMPLARS
    assert exported == named


def test_every_bad_request_is_exported_beyond_the_reports_exemplars(
    none_by_ratio: Pipeline,
) -> None:
    for _ in range(SLOWEST_EXEMPLARS):
        none_by_ratio.request(1000.0)
    bad = {none_by_ratio.request(1.0, status=503) for _ in range(BAD_EXEMPLARS + 5)}
    client_error = none_by_ratio.request(1.0, status=400)

    exported = set(none_by_ratio.exported_traces())
    assert exported == bad  # at once, not at the drain
    none_by_ratio.tracing.aggregator.drain()
    assert client_error not in set(
        none_by_ratio.exported_traces()
    )  # a client error is not the platform's failure


def test_a_callers_sampled_traceparent_is_honoured(none_by_ratio: Pipeline) -> None:
    for _ in range(SLOWEST_EXEMPLARS):
        none_by_ratio.request(1000.0)
    sampled = none_by_ratio.request(1.0, parent=_caller(0xA1, sampled=True))
    unsampled = none_by_ratio.request(1.0, parent=_caller(0xB2, sampled=False))
    assert (sampled, unsampled) == (0xA1, 0xB2)

    exported = none_by_ratio.exported_traces()
    assert len(exported.get(sampled, [])) == 3
    assert unsampled not in exported


def test_the_share_of_the_rest_follows_the_trace_id_like_ratio_based_sampling() -> None:
    pipeline = _pipeline(0.25)
    try:
        for _ in range(SLOWEST_EXEMPLARS):
            pipeline.request(1000.0, sli=True)
        spread = -(-(2**64) // 1000)  # rounded up: index 250 lands just past the bound
        ids = [0xC0FFEE << 64 | (index * spread) for index in range(1000)]
        for trace_id in ids:
            pipeline.request(1.0, parent=_caller(trace_id, sampled=False))
        exported = set(pipeline.exported_traces()) & set(ids)
        # The lowest quarter of the 64 low bits, as TraceIdRatioBased decides.
        assert exported == set(ids[:250])
    finally:
        pipeline.tracing.shutdown()


def test_at_ratio_one_every_trace_is_exported() -> None:
    pipeline = _pipeline(1.0)
    try:
        traces = {pipeline.request(1.0, sli=False) for _ in range(20)}
        assert set(pipeline.exported_traces()) == traces
    finally:
        pipeline.tracing.shutdown()


def test_traces_beyond_the_limits_are_not_held() -> None:
    pipeline = _pipeline(0.0, max_open_traces=3, max_spans_per_trace=4)
    tracer = pipeline.tracing.tracer
    try:
        roots = [tracer.start_span(f"root {index}") for index in range(5)]
        assert pipeline.sampler.open_traces() == 3
        for root in roots:
            for index in range(6):
                tracer.start_span(f"child {index}", context=trace.set_span_in_context(root)).end()
            pipeline.sampler.bad(format(root.get_span_context().trace_id, "032x"))
            root.end()
        exported = pipeline.exported_traces()
        held = [root.get_span_context().trace_id for root in roots[:3]]
        assert set(exported) == set(held)  # the two not held fell to the ratio: none
        assert all(len(exported[trace_id]) == 5 for trace_id in held)  # 4 children + root
        assert pipeline.sampler.open_traces() == 0
        assert pipeline.sampler.counts.overflow_spans == 3 * 2 + 2 * 7
    finally:
        pipeline.tracing.shutdown()


def test_a_span_ending_after_its_root_is_decided_alone(none_by_ratio: Pipeline) -> None:
    tracer = none_by_ratio.tracing.tracer
    root = tracer.start_span("root")
    late = tracer.start_span("late child", context=trace.set_span_in_context(root))
    none_by_ratio.sampler.bad(format(root.get_span_context().trace_id, "032x"))
    root.end()
    late.end()
    assert list(none_by_ratio.exported_traces().values()) == [["root"]]


@pytest.mark.parametrize("named", [True, False])
def test_a_drain_before_the_root_ends_decides_the_candidate(
    none_by_ratio: Pipeline, named: bool
) -> None:
    root = none_by_ratio.tracing.tracer.start_span("root")
    trace_id = format(root.get_span_context().trace_id, "032x")
    none_by_ratio.sampler.slowest_taken(trace_id)
    none_by_ratio.sampler.named({trace_id} if named else set())
    root.end()
    assert bool(none_by_ratio.exported_traces()) is named
    assert none_by_ratio.sampler.held_candidates() == 0


def test_candidates_beyond_their_span_budget_are_exported_at_once() -> None:
    pipeline = _pipeline(0.0, max_candidate_spans=7)
    try:
        traces = [pipeline.request(100.0 + index) for index in range(4)]  # 3 spans each
        assert pipeline.sampler.held_candidates() == 2
        assert set(pipeline.exported_traces()) == set(traces[2:])
        pipeline.tracing.aggregator.drain()
        assert set(pipeline.exported_traces()) == set(traces)
        assert len(pipeline.exported.get_finished_spans()) == 4 * 3
    finally:
        pipeline.tracing.shutdown()


def test_a_ratio_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match="ratio"):
        TailSampler(SimpleSpanProcessor(InMemorySpanExporter()), ratio=1.5)


def test_statements_become_spans_only_in_an_exported_trace(none_by_ratio: Pipeline) -> None:
    tracer = none_by_ratio.tracing.tracer
    kept, dropped = tracer.start_span("kept"), tracer.start_span("dropped")
    none_by_ratio.sampler.deferred(_statement(kept, "  select id from orders where id = ?"))
    none_by_ratio.sampler.deferred(_statement(kept, "UPDATE orders SET x = 1", "IntegrityError"))
    none_by_ratio.sampler.deferred(_statement(dropped, "SELECT 1"))
    none_by_ratio.sampler.bad(format(kept.get_span_context().trace_id, "032x"))
    kept.end()
    dropped.end()

    spans = {span.name: span for span in none_by_ratio.exported.get_finished_spans()}
    assert set(spans) == {"kept", "SQL SELECT", "SQL UPDATE"}
    select, update = spans["SQL SELECT"], spans["SQL UPDATE"]
    root = kept.get_span_context()
    for made in (select, update):
        assert made.parent == root
        assert made.context is not None
        assert made.context.trace_id == root.trace_id
        assert made.context.span_id != root.span_id
        assert made.kind == trace.SpanKind.CLIENT
        assert made.resource == spans["kept"].resource
    assert select.context.span_id != update.context.span_id  # type: ignore[union-attr]
    assert select.attributes == {
        "db.system": "sqlite",
        "db.namespace": "oaas",
        "db.query.text": "  select id from orders where id = ?",
    }
    assert select.status.status_code == trace.StatusCode.UNSET
    assert (update.status.status_code, update.status.description) == (
        trace.StatusCode.ERROR,
        "IntegrityError",
    )


def test_a_held_candidates_statements_are_exported_when_it_is_named(
    none_by_ratio: Pipeline,
) -> None:
    tracer = none_by_ratio.tracing.tracer
    root = tracer.start_span("root")
    none_by_ratio.sampler.deferred(_statement(root, "SELECT 1"))
    trace_id = format(root.get_span_context().trace_id, "032x")
    none_by_ratio.sampler.slowest_taken(trace_id)
    root.end()
    assert none_by_ratio.sampler.held_candidates() == 1
    assert none_by_ratio.exported_traces() == {}
    none_by_ratio.sampler.named({trace_id})
    assert sorted(none_by_ratio.exported_traces()[int(trace_id, 16)]) == ["SQL SELECT", "root"]


def test_a_statement_outside_a_held_trace_falls_to_the_ratio() -> None:
    for ratio, exported in ((0.0, 0), (1.0, 1)):
        pipeline = _pipeline(ratio)
        try:
            root = pipeline.tracing.tracer.start_span("root")
            root.end()
            pipeline.sampler.deferred(_statement(root, "SELECT 1"))  # after its root ended
            names = [span.name for span in pipeline.exported.get_finished_spans()]
            assert names.count("SQL SELECT") == exported
        finally:
            pipeline.tracing.shutdown()


def test_statements_beyond_a_held_traces_limit_are_dropped_whatever_the_ratio() -> None:
    pipeline = _pipeline(1.0, max_spans_per_trace=2)
    try:
        root = pipeline.tracing.tracer.start_span("root")
        for index in range(4):
            pipeline.sampler.deferred(_statement(root, f"SELECT {index}"))
        root.end()
        names = sorted(span.name for span in pipeline.exported.get_finished_spans())
        assert names == ["SQL SELECT", "SQL SELECT", "root"]
        assert pipeline.sampler.counts.overflow_spans == 2
    finally:
        pipeline.tracing.shutdown()
