"""Helpers for the authentication tests: raw token requests, JWT pieces, forged tokens."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from oaas.auth.keys import KeyStore
from oaas.settings import Settings
from tests.conftest import DEMO_SECRET, ISSUER, Api

VIEWER = "{ viewer { clientId tenant { handle } roles scopes } }"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_json(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def unb64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims of a compact JWT, without checking anything."""
    header, payload, _signature = token.split(".")
    return json.loads(unb64url(header)), json.loads(unb64url(payload))


def sign(header: dict[str, Any], claims: dict[str, Any], key: RSAKey) -> str:
    return jwt.encode(header, claims, key, algorithms=["RS256"])


async def request_token(
    api: Api,
    client_id: str | None = None,
    secret: str | None = DEMO_SECRET,
    *,
    form: dict[str, str] | None = None,
    post_credentials: bool = False,
) -> httpx.Response:
    """A raw client credentials request: HTTP Basic unless `post_credentials`."""
    data = {"grant_type": "client_credentials", **(form or {})}
    auth: tuple[str, str] | None = None
    if client_id is not None and post_credentials:
        data["client_id"] = client_id
        if secret is not None:
            data["client_secret"] = secret
    elif client_id is not None:
        auth = (client_id, secret or "")
    return await api.http.post("/oauth/token", data=data, auth=auth)


async def fresh_token(api: Api, client_id: str, secret: str = DEMO_SECRET) -> str:
    """A new token every call (`Api.token` caches)."""
    response = await request_token(api, client_id, secret)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def viewer(api: Api, token: str) -> httpx.Response:
    return await api.graphql(VIEWER, token=token)


def assert_invalid_token(response: httpx.Response) -> None:
    """HTTP 401 from the bearer check, before GraphQL ran."""
    assert response.status_code == 401, response.text
    challenge = response.headers.get("www-authenticate", "")
    assert challenge.startswith('Bearer error="invalid_token"'), challenge
    body = response.json()
    assert "data" not in body, body
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def assert_oauth_error(response: httpx.Response, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error, body
    assert "access_token" not in body
    assert response.headers["cache-control"] == "no-store"


@pytest.fixture
def key_file(settings: Settings) -> Path:
    assert settings.signing_key_file is not None
    return settings.signing_key_file


@pytest.fixture
def app_key(api: Api, key_file: Path) -> RSAKey:
    """The app's current signing key, read from its key file (the app made it)."""
    return KeyStore(key_file).signing_key()


@pytest.fixture
async def acme_shop_claims(api: Api) -> dict[str, Any]:
    """The claims of a real acme-shop token, as a template for forged ones."""
    _header, claims = jwt_parts(await fresh_token(api, "acme-shop"))
    return claims


def valid_claims_like(claims: dict[str, Any], **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    return {**claims, "iat": now, "exp": now + 600, "iss": ISSUER, "aud": ISSUER, **changes}
