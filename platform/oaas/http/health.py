"""Liveness and readiness."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from oaas.db.migrate import migration_state

# A probe answers in time even when the database host does not.
READINESS_TIMEOUT_SECONDS = 5.0

if TYPE_CHECKING:
    from oaas.http.routes import Components


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Ready when the database answers and its schema is at the newest migration."""
    components: Components = request.app.state.components
    try:
        state = await asyncio.wait_for(
            migration_state(components.database.read_engine), READINESS_TIMEOUT_SECONDS
        )
    except Exception as exc:
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable", "error": type(exc).__name__},
            status_code=503,
        )
    if not state.is_current:
        return JSONResponse(
            {
                "status": "unavailable",
                "database": "behind",
                "revision": state.current,
                "head": state.head,
            },
            status_code=503,
        )
    return JSONResponse({"status": "ok", "database": "ok", "revision": state.current})
