"""A client span per SQL statement, child of whatever span is current."""

from __future__ import annotations

from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

_SPAN_KEY = "_oaas_span"
# Transaction bookkeeping, not work a trace reader looks for: a span each made up a
# third of a createOrder's spans (and of tracing's cost) while saying nothing the
# parent span's timing does not. BEGIN and COMMIT do not pass through here.
_UNTRACED_PREFIXES = ("SAVEPOINT", "RELEASE SAVEPOINT", "SELECT set_config('oaas.")


def instrument_engine(engine: AsyncEngine, tracer: Tracer) -> None:
    system = engine.dialect.name
    database = engine.url.database or ""

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _start(
        _conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        if not trace.get_current_span().is_recording():
            return  # no request around it: nothing to attach to
        if statement.startswith(_UNTRACED_PREFIXES):
            return
        verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
        span = tracer.start_span(
            f"SQL {verb}",
            kind=SpanKind.CLIENT,
            attributes={
                "db.system": system,
                "db.namespace": database,
                "db.query.text": statement[:500],
            },
        )
        if context is not None:
            setattr(context, _SPAN_KEY, span)

    @event.listens_for(engine.sync_engine, "after_cursor_execute")
    def _end(
        _conn: Any, _cursor: Any, _statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        span = getattr(context, _SPAN_KEY, None)
        if span is not None:
            span.end()
            setattr(context, _SPAN_KEY, None)

    @event.listens_for(engine.sync_engine, "handle_error")
    def _failed(exception_context: Any) -> None:
        context = exception_context.execution_context
        span = getattr(context, _SPAN_KEY, None) if context is not None else None
        if span is not None:
            span.set_status(
                Status(StatusCode.ERROR, type(exception_context.original_exception).__name__)
            )
            span.end()
            setattr(context, _SPAN_KEY, None)
