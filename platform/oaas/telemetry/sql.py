"""A client span per SQL statement, child of whatever span is current: made only if exported.

A statement is noted as it runs (its parent span, start and end, text) and becomes
a span only when its trace is exported (oaas.telemetry.export_sampling): most
traces are not, and an SDK span made per statement cost a fifth of a request's
Python calls with tracing on (ops/bench/README.md). Without an exporter nothing
is noted at all: the SLIs need the server span alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

_START_KEY = "_oaas_sql_started"
# Transaction bookkeeping, not work a trace reader looks for: a span each made up a
# third of a createOrder's spans (and of tracing's cost) while saying nothing the
# parent span's timing does not. BEGIN and COMMIT do not pass through here.
_UNTRACED_PREFIXES = ("SAVEPOINT", "RELEASE SAVEPOINT", "SELECT set_config('oaas.")
MAX_STATEMENT_TEXT = 500
SQL_SCOPE = InstrumentationScope("oaas.sql")
_span_ids = RandomIdGenerator()


@dataclass(frozen=True, slots=True)
class SqlStatement:
    """A statement that ran inside a span, not yet a span itself."""

    parent: SpanContext
    start_ns: int
    end_ns: int
    text: str
    system: str
    database: str
    error: str | None = None

    @property
    def trace_id(self) -> int:
        return self.parent.trace_id

    def as_span(self, resource: Resource) -> ReadableSpan:
        text = self.text.lstrip()
        verb = text.split(None, 1)[0].upper() if text else "SQL"
        return ReadableSpan(
            name=f"SQL {verb}",
            context=SpanContext(
                self.parent.trace_id,
                _span_ids.generate_span_id(),
                is_remote=False,
                trace_flags=self.parent.trace_flags,
                trace_state=self.parent.trace_state,
            ),
            parent=self.parent,
            resource=resource,
            attributes={
                "db.system": self.system,
                "db.namespace": self.database,
                "db.query.text": self.text[:MAX_STATEMENT_TEXT],
            },
            kind=SpanKind.CLIENT,
            status=Status(StatusCode.ERROR, self.error) if self.error else Status(StatusCode.UNSET),
            start_time=self.start_ns,
            end_time=self.end_ns,
            instrumentation_scope=SQL_SCOPE,
        )


def instrument_engine(engine: AsyncEngine, ran: Callable[[SqlStatement], None]) -> None:
    """Hands every statement run inside a recording span to `ran`, as it ends."""
    system = engine.dialect.name
    database = engine.url.database or ""

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _start(
        _conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        if context is None or statement.startswith(_UNTRACED_PREFIXES):
            return
        span = trace.get_current_span()
        if not span.is_recording():
            return  # no request around it: nothing to attach to
        setattr(context, _START_KEY, (span.get_span_context(), time.time_ns()))

    def _finish(context: Any, statement: str, error: str | None) -> None:
        started = getattr(context, _START_KEY, None)
        if started is None:
            return
        setattr(context, _START_KEY, None)
        parent, start_ns = started
        ran(SqlStatement(parent, start_ns, time.time_ns(), statement, system, database, error))

    @event.listens_for(engine.sync_engine, "after_cursor_execute")
    def _end(
        _conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        _finish(context, statement, None)

    @event.listens_for(engine.sync_engine, "handle_error")
    def _failed(exception_context: Any) -> None:
        context = exception_context.execution_context
        if context is not None:
            _finish(
                context,
                exception_context.statement or "",
                type(exception_context.original_exception).__name__,
            )
