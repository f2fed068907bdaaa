"""`/oauth/token`, the JWKS and the authorization server metadata (RFC 8414)."""

from __future__ import annotations

import base64
import binascii
from collections import Counter
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, unquote

import anyio.to_thread
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from oaas.auth.clients import ClientRecord, load_client, replace_secret_hash
from oaas.auth.credentials import Refused, Throttled
from oaas.db import SYSTEM_SCOPE, RowScope
from oaas.policy import SCOPES
from oaas.telemetry import get_logger

if TYPE_CHECKING:
    from oaas.http.routes import Components

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
FORM_TYPE = "application/x-www-form-urlencoded"
# A token request has a handful of parameters; more is not a token request, and
# parsing a megabyte of them is work nobody should be able to ask for.
MAX_FORM_FIELDS = 16
log = get_logger("oaas.http")
_LOGGED_ERROR = "token_error"


def _note_error(request: Request, error: str) -> None:
    """The request's one log line (oaas.http.middleware) names the error: a
    client's mistake is an info line like any request, without a trace."""
    request.scope.setdefault("state", {})[_LOGGED_ERROR] = error


def _error(request: Request, status: int, error: str, description: str) -> JSONResponse:
    _note_error(request, error)
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=status, headers=NO_STORE
    )


def _uses_basic(header: str | None) -> bool:
    return header is not None and header.strip().split(" ", 1)[0].lower() == "basic"


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    """The client id and secret of well-formed HTTP Basic credentials, else None.

    Decoded as authlib decodes them (RFC 6749 §2.3.1: form-encoded, then Basic)."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (unquote(client_id), unquote(secret)) if sep and client_id else None


def _client_address(request: Request) -> str:
    # Behind a proxy, uvicorn puts the forwarded address here (--forwarded-allow-ips).
    return request.client.host if request.client else "unknown"


async def _read_form(request: Request) -> dict[str, str] | Response:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM_TYPE:
        return _error(request, 400, "invalid_request", f"the body must be {FORM_TYPE}")
    try:
        body = await request.body()
    except ClientDisconnect:
        _note_error(request, "client_disconnected")
        return Response(status_code=400, headers=NO_STORE)  # nobody is left to read it
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return _error(request, 400, "invalid_request", "the body is not a valid UTF-8 form")
    try:
        multi = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except ValueError:
        return _error(request, 400, "invalid_request", f"more than {MAX_FORM_FIELDS} parameters")
    counts = Counter(name for name, _ in multi)
    repeated = sorted(name for name, count in counts.items() if count > 1)
    if repeated:
        return _error(request, 400, "invalid_request", f"repeated parameter: {', '.join(repeated)}")
    return {name: str(value) for name, value in multi}


async def token_endpoint(request: Request) -> Response:
    components: Components = request.app.state.components
    form = await _read_form(request)
    if isinstance(form, Response):
        return form
    if not form.get("grant_type"):
        return _error(request, 400, "invalid_request", "grant_type is required")
    authorization = request.headers.get("authorization")
    basic = _basic_credentials(authorization)
    if _uses_basic(authorization) and basic is None:
        refused = _error(request, 401, "invalid_client", "malformed HTTP Basic credentials")
        refused.headers["WWW-Authenticate"] = 'Basic realm="oaas"'
        return refused
    if basic is not None and ("client_secret" in form):
        return _error(
            request, 400, "invalid_request", "use one way of client authentication, not two"
        )
    if basic is not None and form.get("client_id", basic[0]) != basic[0]:
        return _error(request, 400, "invalid_request", "client_id differs from the HTTP Basic one")
    client_id, secret = basic or (form.get("client_id"), form.get("client_secret"))

    record, verified_secret = None, None
    # Another grant type is refused before any client authentication (authlib's
    # order): no secret is checked for it.
    if form["grant_type"] == "client_credentials":

        async def load(wanted: str) -> ClientRecord | None:
            async with components.database.session(write=False, scope=SYSTEM_SCOPE) as session:
                return await load_client(session, wanted)

        outcome = await components.client_authenticator.authenticate(
            client_id, secret, _client_address(request), load
        )
        if isinstance(outcome, Throttled):
            return _throttled(request, outcome)
        if isinstance(outcome, Refused):
            return _refused(request)
        record, verified_secret = outcome.record, outcome.secret
        if outcome.new_hash is not None:
            await _store_new_hash(components, record, outcome.new_hash)
    response = await anyio.to_thread.run_sync(
        components.token_issuer.issue, request.headers, form, record, verified_secret
    )
    headers = dict(response.headers)
    headers.update(NO_STORE)
    if response.status == 401:
        # RFC 7235 §3.1: every 401 carries a challenge; the same one whatever failed.
        headers["WWW-Authenticate"] = 'Basic realm="oaas"'
    if "error" in response.body:
        _note_error(request, str(response.body["error"]))
    return JSONResponse(response.body, status_code=response.status, headers=headers)


def _refused(request: Request) -> Response:
    # RFC 6749 §5.2 allows 400 when credentials came in the body; the contract
    # answers 401 whichever way the client authenticated. One description for
    # every cause, so that nobody can probe which client ids exist (or belong to
    # a suspended tenant).
    refused = _error(request, 401, "invalid_client", "client authentication failed")
    refused.headers["WWW-Authenticate"] = 'Basic realm="oaas"'
    return refused


def _throttled(request: Request, outcome: Throttled) -> Response:
    if outcome.busy:
        response = _error(
            request,
            503,
            "temporarily_unavailable",
            "too many client authentications in progress; retry shortly",
        )
    else:
        response = _error(
            request,
            429,
            "temporarily_unavailable",
            "too many failed client authentications for this client id or address",
        )
    response.headers["Retry-After"] = str(outcome.retry_after)
    return response


async def _store_new_hash(components: Components, record: ClientRecord, new_hash: str) -> None:
    """The secret was right and its hash old-fashioned: keep today's instead. A
    failure here costs the next request one slower check, never its token."""
    try:
        own_tenant = RowScope("tenant", record.tenant_id)
        async with components.database.session(write=True, scope=own_tenant) as session:
            await replace_secret_hash(session, record, new_hash)
    except SQLAlchemyError as exc:
        log.warning("storing a client secret's new hash failed", error=str(exc))


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
