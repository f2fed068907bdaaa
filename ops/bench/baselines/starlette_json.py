"""Baseline (a): a bare Starlette JSON endpoint, the ceiling of the HTTP stack alone."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route


async def graphql(request: Request) -> JSONResponse:
    await request.body()  # read like the others do, so the request is handled whole
    return JSONResponse(
        {"data": {"order": {"id": "T3JkZXI6MQ", "number": "ACME-1001", "status": "PENDING"}}}
    )


async def healthz(_request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


app = Starlette(routes=[Route("/graphql", graphql, methods=["POST"]), Route("/healthz", healthz)])
