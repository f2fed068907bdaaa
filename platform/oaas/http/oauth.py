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
from oaas.policy import SCOPES

if TYPE_CHECKING:
    from oaas.http.routes import Components

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
FORM_TYPE = "application/x-www-form-urlencoded"


def _error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=status, headers=NO_STORE
    )


def _basic_client_id(header: str | None) -> str | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, _secret = decoded.partition(":")
    return unquote(client_id) if sep else None


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
    authorization = request.headers.get("authorization")
    basic_client = _basic_client_id(authorization)
    if basic_client is not None and ("client_secret" in form):
        return _error(400, "invalid_request", "use one way of client authentication, not two")
    client_id = basic_client or form.get("client_id")
    record = None
    if client_id:
        async with components.database.session(write=False) as session:
            record = await load_client(session, client_id)
    response = await anyio.to_thread.run_sync(
        components.token_issuer.issue, request.headers, form, record
    )
    headers = dict(response.headers)
    headers.update(NO_STORE)
    if response.status == 401 and authorization and authorization.lower().startswith("basic"):
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
