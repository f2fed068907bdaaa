"""A local OTLP/HTTP trace receiver, so the tracing-on gateway pays for export.

Without `OAAS_OTLP_ENDPOINT` the gateway makes its spans and keeps only the SLI
figures: a deployment that exports them to a collector pays more (encoding and
sending in the batch processor's thread). The sink answers like a collector and
counts what it was sent; `GET /count` reports the spans received, so a run can
show that export really happened. It is not a baseline: no load goes to it.
"""

from __future__ import annotations

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

_EMPTY_ANSWER = ExportTraceServiceResponse().SerializeToString()
received = {"requests": 0, "spans": 0, "bytes": 0}


async def traces(request: Request) -> Response:
    body = await request.body()
    export = ExportTraceServiceRequest.FromString(body)
    received["requests"] += 1
    received["bytes"] += len(body)
    received["spans"] += sum(
        len(scope.spans) for resource in export.resource_spans for scope in resource.scope_spans
    )
    return Response(_EMPTY_ANSWER, media_type="application/x-protobuf")


async def count(_request: Request) -> JSONResponse:
    return JSONResponse(received)


async def healthz(_request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


app = Starlette(
    routes=[
        Route("/v1/traces", traces, methods=["POST"]),
        Route("/count", count),
        Route("/healthz", healthz),
    ]
)
