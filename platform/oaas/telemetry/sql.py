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
    """Hands every statement run inside a recording span to `ran`, as it ends.

    Through the dialect's `do_execute` events, which run the cursor themselves,
    rather than the connection's before/after_cursor_execute: a connection
    event makes SQLAlchemy walk its (empty) listener lists at every execute,
    begin and commit: about 50 calls a statement more than this (ops/bench/README.md).
    """
    system = engine.dialect.name
    database = engine.url.database or ""
    dialect = engine.sync_engine.dialect

    def _traced_parent(statement: str) -> SpanContext | None:
        if statement.startswith(_UNTRACED_PREFIXES):
            return None
        span = trace.get_current_span()
        if not span.is_recording():
            return None  # no request around it: nothing to attach to
        return span.get_span_context()

    def _run(execute: Callable[..., None], statement: str, *arguments: Any) -> bool:
        """Runs the cursor as the dialect would (the event's return says it ran)."""
        parent = _traced_parent(statement)
        if parent is None:
            execute(*arguments)
            return True
        start_ns = time.time_ns()
        error: str | None = None
        try:
            execute(*arguments)
        except Exception as failure:
            error = type(failure).__name__
            raise
        finally:
            ran(SqlStatement(parent, start_ns, time.time_ns(), statement, system, database, error))
        return True

    @event.listens_for(engine.sync_engine, "do_execute")
    def _execute(cursor: Any, statement: str, parameters: Any, context: Any) -> bool:
        return _run(dialect.do_execute, statement, cursor, statement, parameters, context)

    @event.listens_for(engine.sync_engine, "do_executemany")
    def _execute_many(cursor: Any, statement: str, parameters: Any, context: Any) -> bool:
        return _run(dialect.do_executemany, statement, cursor, statement, parameters, context)

    @event.listens_for(engine.sync_engine, "do_execute_no_params")
    def _execute_no_params(cursor: Any, statement: str, context: Any) -> bool:
        return _run(dialect.do_execute_no_params, statement, cursor, statement, context)
