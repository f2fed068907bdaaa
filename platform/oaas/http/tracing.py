"""The server span of every HTTP request, W3C trace context in and `traceresponse` out."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oaas.telemetry.sli import (
    SLI_ATTRIBUTE,
    STATUS_ATTRIBUTE,
    TENANT_ID_ATTRIBUTE,
    UNEXPECTED_ATTRIBUTE,
)
from oaas.telemetry.tracing import traceresponse

_propagator = TraceContextTextMapPropagator()
# The API whose requests count towards SLAs; health probes and token requests do not.
SLI_PATHS = frozenset({"/graphql"})


class TracingMiddleware:
    def __init__(self, app: ASGIApp, tracer: Tracer) -> None:
        self.app = app
        self.tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        carrier = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope["headers"]
            if name in (b"traceparent", b"tracestate")
        }
        parent = _propagator.extract(carrier) if carrier else None
        method, path = scope["method"], scope["path"]
        with self.tracer.start_as_current_span(
            f"{method} {path}",
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": path},
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            header = traceresponse(span).encode("latin-1")
            status = 500

            async def send_traced(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    message["headers"] = [*message.get("headers", []), (b"traceresponse", header)]
                await send(message)

            try:
                await self.app(scope, receive, send_traced)
            except Exception as exc:
                span.set_attribute(UNEXPECTED_ATTRIBUTE, True)
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR))
                raise
            finally:
                state = scope.get("state", {})
                principal = state.get("principal")
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
                # One call: each attribute set alone takes the span's lock again.
                attributes: dict[str, str | int | bool] = {STATUS_ATTRIBUTE: status}
                if principal is not None:
                    attributes["oaas.tenant"] = principal.tenant_handle
                    attributes[TENANT_ID_ATTRIBUTE] = str(principal.tenant_id)
                    attributes["oaas.client"] = principal.client_id
                if path in SLI_PATHS:
                    attributes[SLI_ATTRIBUTE] = True
                span.set_attributes(attributes)


def current_span() -> trace.Span:
    return trace.get_current_span()
