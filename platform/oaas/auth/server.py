"""The OAuth 2.0 authorization server: client credentials only (RFC 6749 §4.4).

authlib does the protocol (grant dispatch, client authentication methods,
scope checks, §5.2 errors). The slow part of client authentication, the argon2
check of the secret, is done before, with limits (oaas.auth.credentials); authlib
is handed the client that passed and the secret it passed with. authlib is
synchronous, so the HTTP layer runs it in a worker thread.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    ClientMixin,
    OAuth2Request,
)
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from joserfc.jwk import KeySet

from oaas.auth.clients import ClientRecord
from oaas.auth.keys import ALGORITHM, KeyStore
from oaas.auth.tokens import CREDENTIAL_VERSION_CLAIM
from oaas.policy import SCOPES

AUTH_METHODS = ("client_secret_basic", "client_secret_post")


class OAuthClient(ClientMixin):  # type: ignore[misc]
    """authlib's view of a client record whose secret was checked already."""

    def __init__(self, record: ClientRecord, verified_secret: str) -> None:
        self.record = record
        self._verified_secret = verified_secret

    def get_client_id(self) -> str:
        return self.record.client_id

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        allowed = self.record.allowed_scopes
        if not scope:
            return " ".join(sorted(allowed))
        requested = scope.split()
        if not set(requested) <= allowed:
            return None  # authlib answers invalid_scope
        return " ".join(sorted(set(requested)))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        # The secret authlib read from the request is the one that was verified.
        return hmac.compare_digest(
            client_secret.encode("utf-8", "surrogatepass"),
            self._verified_secret.encode("utf-8", "surrogatepass"),
        )

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"


class _ClientCredentials(ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = list(AUTH_METHODS)


class _FormRequest(OAuth2Request):  # type: ignore[misc]
    def __init__(self, uri: str, headers: Mapping[str, str], form: dict[str, str]) -> None:
        # authlib reads "Authorization" by exact name: keep the case-insensitive mapping.
        super().__init__(method="POST", uri=uri, headers=headers)
        self._form = form
        self.payload = BasicOAuth2Payload(form)

    @property
    def args(self) -> dict[str, str]:
        return {}

    @property
    def form(self) -> dict[str, str]:
        return self._form


class _TokenGenerator(JWTBearerTokenGenerator):  # type: ignore[misc]
    def __init__(self, issuer: str, audience: str, keys: KeyStore, ttl_seconds: int) -> None:
        super().__init__(
            issuer=issuer, alg=ALGORITHM, expires_generator=lambda _client, _grant: ttl_seconds
        )
        self.audience = audience
        self.keys = keys

    def get_jwks(self) -> KeySet:
        # A key set, not the bare key: joserfc then names the key in the header
        # (`kid`), which verification needs as soon as the JWKS holds two keys.
        return KeySet([self.keys.signing_key()])

    def get_audiences(self, client: OAuthClient, user: object, scope: str) -> str:
        return self.audience

    def get_extra_claims(
        self, client: OAuthClient, grant_type: str, user: object, scope: str
    ) -> dict[str, Any]:
        record = client.record
        return {
            "client_uuid": str(record.id),
            "tenant_id": str(record.tenant_id),
            "tenant": record.tenant_handle,
            "tenant_kind": record.tenant_kind.value,
            "roles": sorted(record.roles),
            CREDENTIAL_VERSION_CLAIM: record.credential_version,
        }


@dataclass(frozen=True)
class TokenResponse:
    status: int
    body: dict[str, Any]
    headers: list[tuple[str, str]]


class _Server(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, generator: _TokenGenerator) -> None:
        super().__init__(scopes_supported=list(SCOPES))
        self.register_grant(_ClientCredentials)
        self.register_token_generator("default", generator)
        self._client: OAuthClient | None = None

    def query_client(self, client_id: str) -> OAuthClient | None:
        client = self._client
        if client is None or client.get_client_id() != client_id:
            return None
        return client

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """Tokens are self-contained JWTs: nothing is stored."""

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None

    def create_oauth2_request(self, request: _FormRequest) -> _FormRequest:
        return request

    def handle_response(
        self, status: int, body: dict[str, Any], headers: list[tuple[str, str]]
    ) -> TokenResponse:
        return TokenResponse(status=status, body=body, headers=list(headers))


class TokenIssuer:
    """Answers one token request; thread-safe, since each call has its own server."""

    def __init__(self, *, issuer: str, audience: str, keys: KeyStore, ttl_seconds: int) -> None:
        self._generator = _TokenGenerator(issuer, audience, keys, ttl_seconds)
        self._token_uri = f"{issuer}/oauth/token"

    def issue(
        self,
        headers: Mapping[str, str],
        form: dict[str, str],
        client: ClientRecord | None,
        verified_secret: str | None,
    ) -> TokenResponse:
        """`client`: the one whose `verified_secret` was checked (oaas.auth.credentials),
        or None when no client authenticated (authlib then answers the request's error)."""
        server = _Server(self._generator)
        # A suspended tenant's clients do not exist as far as the token endpoint goes.
        server._client = (
            OAuthClient(client, verified_secret)
            if client is not None and client.tenant_active and verified_secret
            else None
        )
        response: TokenResponse = server.create_token_response(
            _FormRequest(self._token_uri, headers, form)
        )
        if response.body.get("error") == "invalid_client":
            # RFC 6749 §5.2 allows 400 when credentials came in the body; the
            # contract answers 401 whichever way the client authenticated. One
            # description for every cause, so that nobody can probe which
            # client ids exist (or belong to a suspended tenant).
            body = {"error": "invalid_client", "error_description": "client authentication failed"}
            response = TokenResponse(401, body, response.headers)
        return response
