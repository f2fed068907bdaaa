"""`/oauth/token`, the JWKS and the authorization server metadata (RFC 8414)."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, unquote

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from oaas.auth.clients import load_client
from oaas.db import SYSTEM_SCOPE
from oaas.policy import SCOPES

if TYPE_CHECKING:
    from oaas.http.routes import Components

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
FORM_TYPE = "application/x-www-form-urlencoded"


def _error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=status, headers=NO_STORE
    )


def _uses_basic(header: str | None) -> bool:
    return header is not None and header.strip().split(" ", 1)[0].lower() == "basic"


def _basic_client_id(header: str | None) -> str | None:
    """The client id of well-formed HTTP Basic credentials, else None."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, _secret = decoded.partition(":")
    return unquote(client_id) if sep and client_id else None


async def token_endpoint(request: Request) -> Response:
    components: Components = request.app.state.components
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM_TYPE:
        return _error(400, "invalid_request", f"the body must be {FORM_TYPE}")
    try:
        multi = parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        return _error(400, "invalid_request", "the body is not a valid UTF-8 form")
    names = [name for name, _ in multi]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        return _error(400, "invalid_request", f"repeated parameter: {', '.join(repeated)}")
    form = {name: str(value) for name, value in multi}
    if not form.get("grant_type"):
        return _error(400, "invalid_request", "grant_type is required")
    authorization = request.headers.get("authorization")
    basic_client = _basic_client_id(authorization)
    if _uses_basic(authorization) and basic_client is None:
        refused = _error(401, "invalid_client", "malformed HTTP Basic credentials")
        refused.headers["WWW-Authenticate"] = 'Basic realm="oaas"'
        return refused
    if basic_client is not None and ("client_secret" in form):
        return _error(400, "invalid_request", "use one way of client authentication, not two")
    if basic_client is not None and form.get("client_id", basic_client) != basic_client:
        return _error(400, "invalid_request", "client_id differs from the HTTP Basic one")
    client_id = basic_client or form.get("client_id")
    record = None
    if client_id:
        async with components.database.session(write=False, scope=SYSTEM_SCOPE) as session:
            record = await load_client(session, client_id)
    response = await anyio.to_thread.run_sync(
        components.token_issuer.issue, request.headers, form, record
    )
    headers = dict(response.headers)
    headers.update(NO_STORE)
    if response.status == 401:
        # RFC 7235 §3.1: every 401 carries a challenge; the same one whatever failed.
        headers["WWW-Authenticate"] = 'Basic realm="oaas"'
    return JSONResponse(response.body, status_code=response.status, headers=headers)


async def jwks(request: Request) -> Response:
    components: Components = request.app.state.components
    return JSONResponse(components.keys.jwks(), headers={"Cache-Control": "public, max-age=300"})


async def authorization_server_metadata(request: Request) -> Response:
    issuer = request.app.state.components.settings.issuer
    return JSONResponse(
        {
            "issuer": issuer,
            "token_endpoint": f"{issuer}/oauth/token",
            "jwks_uri": f"{issuer}/.well-known/jwks.json",
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": list(SCOPES),
            "response_types_supported": [],
            "service_documentation": f"{issuer}/graphql",
        }
    )
