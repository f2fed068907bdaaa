"""Checking bearer access tokens (RFC 9068 profile) and turning them into a Principal."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any
from uuid import UUID

from authlib.oauth2.rfc6750.errors import InvalidTokenError
from authlib.oauth2.rfc9068 import JWTBearerTokenValidator
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from oaas.auth.clients import ClientRecord
from oaas.auth.keys import ALGORITHM, KeyStore
from oaas.policy import Principal, TenantKind

# The client's credential version when the token was issued (oaas.auth.clients).
CREDENTIAL_VERSION_CLAIM = "credential_version"


class TokenRejected(Exception):
    """The token is not one of ours, is expired, or its client or tenant is gone."""


class _Validator(JWTBearerTokenValidator):  # type: ignore[misc]
    def __init__(self, issuer: str, audience: str, keys: KeyStore) -> None:
        super().__init__(issuer=issuer, resource_server=audience)
        self.keys = keys

    def get_jwks(self) -> KeySet:
        return self.keys.verification_keys()


# Verified tokens remembered at once; a client reuses its token for its lifetime.
VERIFIED_CACHE_SIZE = 10_000


class TokenVerifier:
    """Checks signatures and standard claims, remembering tokens it verified.

    Verifying an RS256 signature is most of the cost of a small request; a
    remembered token is trusted until its `exp`, and only while the key file is
    the same one it was verified against (a rotation or a dropped key forgets
    them all). What a token grants is still checked against the client on every
    request (`principal_from`), so nothing taken away survives in the cache.
    """

    def __init__(self, *, issuer: str, audience: str, keys: KeyStore) -> None:
        self._validator = _Validator(issuer, audience, keys)
        self._keys = keys
        self._verified: OrderedDict[str, tuple[Any, float, dict[str, Any]]] = OrderedDict()

    def claims(self, token: str) -> dict[str, Any]:
        """The verified claims, or TokenRejected."""
        if not token or token.count(".") != 2:
            raise TokenRejected("not a JWT")
        version = self._keys.version()
        remembered = self._verified.get(token)
        if remembered is not None and remembered[0] == version and remembered[1] > time.time():
            self._verified.move_to_end(token)
            return dict(remembered[2])
        verified = self._verify(token)
        self._verified[token] = (version, float(verified["exp"]), verified)
        if len(self._verified) > VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)
        return dict(verified)

    def _verify(self, token: str) -> dict[str, Any]:
        claims = self._decode(token)
        if claims.header.get("typ") not in ("at+jwt", "application/at+jwt"):
            raise TokenRejected("not an access token (typ must be at+jwt)")
        if claims.header.get("alg") != ALGORITHM:
            raise TokenRejected("unexpected signing algorithm")
        try:
            claims.validate()
        except JoseError as exc:
            raise TokenRejected(str(exc)) from exc
        for name in ("exp", "client_uuid", "tenant_id", "tenant", "tenant_kind", "roles"):
            if name not in claims:
                raise TokenRejected(f"missing claim {name}")
        return dict(claims)

    def _decode(self, token: str) -> Any:
        try:
            return self._validator.authenticate_token(token)
        except (InvalidTokenError, JoseError, ValueError) as exc:
            raise TokenRejected("signature or format invalid") from exc


def claimed_tenant(claims: dict[str, Any]) -> UUID:
    """The tenant a verified token names."""
    try:
        return UUID(str(claims["tenant_id"]))
    except ValueError as exc:
        raise TokenRejected("malformed claims") from exc


def principal_from(claims: dict[str, Any], client: ClientRecord | None) -> Principal:
    """The caller as it stands now: a token outlives nothing that was taken away.

    The client the token was issued to must still exist (the same registration,
    not one created again under its id) in the tenant the token names, with the
    secret it had then (the same credential version), the tenant must be active,
    and the roles and scopes are cut back to what the client holds today.
    """
    roles, scope = claims["roles"], claims.get("scope") or ""
    if not isinstance(roles, list) or not isinstance(scope, str):
        raise TokenRejected("malformed claims: roles must be a list, scope a string")
    tenant_id = claimed_tenant(claims)
    try:
        client_uuid = UUID(str(claims["client_uuid"]))
    except ValueError as exc:
        raise TokenRejected("malformed claims") from exc
    token_roles = frozenset(str(r) for r in roles)
    token_scopes = frozenset(scope.split())
    if client is None or client.tenant_id != tenant_id or client.id != client_uuid:
        raise TokenRejected("client no longer exists")
    if _credential_version(claims) != client.credential_version:
        raise TokenRejected("the client's secret was replaced after the token was issued")
    if not client.tenant_active:
        raise TokenRejected("tenant suspended")
    roles = token_roles & client.roles
    return Principal(
        tenant_id=tenant_id,
        tenant_handle=client.tenant_handle,
        tenant_kind=TenantKind(client.tenant_kind),
        client_id=client.client_id,
        roles=roles,
        scopes=token_scopes & client.allowed_scopes,
    )


def _credential_version(claims: dict[str, Any]) -> int:
    """The version the token was issued under. A token without the claim counts
    as 0, the version every client starts at: such a token (issued by a gateway
    that kept no versions) lives out its lifetime unless the secret is replaced,
    rather than every client being logged out by an upgrade."""
    version = claims.get(CREDENTIAL_VERSION_CLAIM, 0)
    if type(version) is not int:  # bool is an int, and no version
        raise TokenRejected("malformed claims: credential_version must be an integer")
    return version
