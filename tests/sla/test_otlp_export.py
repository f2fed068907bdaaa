"""OTLP/HTTP export: a receiver in the test decodes what the app sends."""

from __future__ import annotations

import asyncio
import gzip
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from oaas.app import create_app
from oaas.settings import Settings
from oaas.sla.recording import flush
from oaas.telemetry.sli import SLOWEST_EXEMPLARS
from tests.conftest import ISSUER, Api
from tests.orders.documents import ORDERS
from tests.sla.helpers import trace_id


class Receiver(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[tuple[str, ExportTraceServiceRequest]] = []

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        message = ExportTraceServiceRequest()
        message.ParseFromString(body)
        self.server.requests.append((self.path, message))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


async def test_request_spans_reach_an_otlp_receiver(
    settings: Settings, tmp_path: Path, receiver: Receiver
) -> None:
    exporting = settings.model_copy(update={"otlp_endpoint": receiver.endpoint})
    app = create_app(exporting)
    components = app.state.components
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=ISSUER
        ) as http:
            api = Api(http)
            response = await api.graphql(ORDERS, {"first": 1}, as_client="acme-shop")
            assert response.status_code == 200
        # The first of its minute is among the slowest: exported once the SLIs are written.
        await flush(components.database, components.tracing.aggregator)
        assert await asyncio.to_thread(components.tracing.provider.force_flush, 10_000)
    finally:
        components.tracing.shutdown()
        await components.database.dispose()

    wanted = trace_id(response)
    spans = [
        (resource.resource, span)
        for path, message in receiver.requests
        for resource in message.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]
    assert {path for path, _ in receiver.requests} == {"/v1/traces"}
    of_request = [(r, s) for r, s in spans if s.trace_id.hex() == wanted]
    names = {s.name for _, s in of_request}
    assert "POST /graphql" in names
    assert any(name.startswith("SQL ") for name in names)  # SQL spans are children
    traced_sql = [
        a.value.string_value
        for _, s in of_request
        for a in s.attributes
        if a.key == "db.query.text"
    ]
    # Transaction bookkeeping (the scope's set_config on PostgreSQL) makes no span.
    assert traced_sql
    assert not any("set_config" in text for text in traced_sql), traced_sql
    server = next(s for _, s in of_request if s.name == "POST /graphql")
    sql = [s for _, s in of_request if s.name.startswith("SQL ")]
    # Made from the statements noted while the request ran, once it was exported.
    assert all(s.parent_span_id == server.span_id for s in sql)
    assert all(s.kind == s.SPAN_KIND_CLIENT for s in sql)
    assert all(server.start_time_unix_nano <= s.start_time_unix_nano for s in sql)
    assert all(s.start_time_unix_nano <= s.end_time_unix_nano for s in sql)
    assert len({s.span_id for s in sql}) == len(sql)
    attributes = {a.key: a.value for a in server.attributes}
    assert attributes["oaas.tenant"].string_value == "acme"
    assert attributes["oaas.operation"].string_value == "orders"
    assert attributes["http.response.status_code"].int_value == 200
    resource = {a.key: a.value.string_value for a in of_request[0][0].attributes}
    assert resource["service.name"] == "oaas"


async def test_at_ratio_zero_only_traces_a_report_names_or_the_caller_samples_are_exported(
    settings: Settings, receiver: Receiver
) -> None:
    from oaas.db import SYSTEM_SCOPE
    from oaas.tenancy.service import find_tenant

    exporting = settings.model_copy(
        update={"otlp_endpoint": receiver.endpoint, "trace_export_ratio": 0.0}
    )
    app = create_app(exporting)
    components = app.state.components
    try:
        async with components.database.session(write=False, scope=SYSTEM_SCOPE) as session:
            acme = await find_tenant(session, "acme")
            assert acme is not None
            acme_id = str(acme.id)
        # This minute's and the next one's slowest are already far slower than a request.
        now_ns = time.time_ns()
        for minute in (0, 1):
            for index in range(SLOWEST_EXEMPLARS):
                components.tracing.aggregator.record(
                    end_ns=now_ns + minute * 60_000_000_000,
                    tenant_id=acme_id,
                    operation="orders",
                    duration_ms=60_000.0,
                    bad=False,
                    trace_id=f"{minute}{index:031x}",
                )
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=ISSUER
        ) as http:
            api = Api(http)
            await api.token("acme-shop")
            unsampled = await api.graphql(ORDERS, {"first": 1}, as_client="acme-shop")
            sampled = await api.graphql(
                ORDERS,
                {"first": 1},
                as_client="acme-shop",
                headers={"traceparent": f"00-{'ab' * 16}-00f067aa0ba902b7-01"},
            )
            # The first of its operation this minute: one of the slowest a report names.
            named = await api.graphql("{ viewer { clientId } }", as_client="acme-shop")
            assert (unsampled.status_code, sampled.status_code, named.status_code) == (200,) * 3
        await flush(components.database, components.tracing.aggregator)
        assert await asyncio.to_thread(components.tracing.provider.force_flush, 10_000)
    finally:
        components.tracing.shutdown()
        await components.database.dispose()

    exported = {
        span.trace_id.hex(): span.name
        for _path, message in receiver.requests
        for resource in message.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    }
    assert trace_id(sampled) == "ab" * 16
    assert trace_id(sampled) in exported
    assert trace_id(unsampled) not in exported
    assert trace_id(named) in exported
