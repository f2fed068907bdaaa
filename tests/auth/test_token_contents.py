"""What an access token holds (RFC 9068), the JWKS, and the server metadata (RFC 8414)."""

from __future__ import annotations

import time
from uuid import UUID

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.auth.conftest import fresh_token, jwt_parts, request_token
from tests.conftest import ISSUER, Api


async def _jwks(api: Api) -> KeySet:
    response = await api.http.get("/.well-known/jwks.json")
    assert response.status_code == 200, response.text
    return KeySet.import_key_set(response.json())


async def test_header(api: Api) -> None:
    header, _claims = jwt_parts(await fresh_token(api, "acme-shop"))
    assert header["typ"] == "at+jwt"
    assert header["alg"] == "RS256"
    assert header["kid"]
    response = await api.http.get("/.well-known/jwks.json")
    assert header["kid"] in [key["kid"] for key in response.json()["keys"]]


async def test_claims(api: Api) -> None:
    before = int(time.time())
    response = await request_token(api, "acme-shop")
    after = int(time.time())
    body = response.json()
    _header, claims = jwt_parts(body["access_token"])
    assert claims["iss"] == ISSUER == "http://127.0.0.1:8000"
    assert claims["sub"] == "acme-shop"
    assert claims["client_id"] == "acme-shop"
    assert claims["aud"] == ISSUER
    assert before <= claims["iat"] <= after
    assert claims["exp"] == claims["iat"] + body["expires_in"] == claims["iat"] + 3600
    assert isinstance(claims["jti"], str)
    assert len(claims["jti"]) >= 16
    assert (
        claims["scope"]
        == body["scope"]
        == "fulfillment:write inventory:write orders:read orders:write"
    )
    assert claims["tenant"] == "acme"
    assert claims["tenant_kind"] == "merchant"
    assert claims["roles"] == ["merchant_operator"]
    UUID(claims["tenant_id"])
    UUID(claims["client_uuid"])
    assert "refresh_token" not in claims


@pytest.mark.parametrize(
    ("client_id", "tenant", "kind", "roles"),
    [
        ("acme-backend", "acme", "merchant", ["merchant_admin"]),
        ("acme-reports", "acme", "merchant", ["merchant_viewer"]),
        ("globex-shop", "globex", "merchant", ["merchant_operator"]),
        ("swiftship-tms", "swiftship", "partner", ["partner_operator"]),
        ("swiftship-admin", "swiftship", "partner", ["partner_admin"]),
        ("ops-admin", "ops", "platform", ["platform_admin"]),
    ],
)
async def test_tenant_claims_per_client(
    api: Api, client_id: str, tenant: str, kind: str, roles: list[str]
) -> None:
    _header, claims = jwt_parts(await fresh_token(api, client_id))
    assert claims["sub"] == claims["client_id"] == client_id
    assert (claims["tenant"], claims["tenant_kind"], claims["roles"]) == (tenant, kind, roles)


async def test_tenant_id_is_the_same_for_clients_of_one_tenant(api: Api) -> None:
    shop = jwt_parts(await fresh_token(api, "acme-shop"))[1]
    backend = jwt_parts(await fresh_token(api, "acme-backend"))[1]
    globex = jwt_parts(await fresh_token(api, "globex-shop"))[1]
    assert shop["tenant_id"] == backend["tenant_id"] != globex["tenant_id"]


async def test_client_uuid_is_stable_per_client(api: Api) -> None:
    first = jwt_parts(await fresh_token(api, "acme-shop"))[1]
    again = jwt_parts(await fresh_token(api, "acme-shop"))[1]
    other = jwt_parts(await fresh_token(api, "acme-reports"))[1]
    assert first["client_uuid"] == again["client_uuid"] != other["client_uuid"]


async def test_every_token_has_its_own_jti(api: Api) -> None:
    tokens = [await fresh_token(api, "acme-shop") for _ in range(3)]
    assert len({jwt_parts(t)[1]["jti"] for t in tokens}) == 3


async def test_signature_verifies_with_the_published_jwks(api: Api) -> None:
    token = await fresh_token(api, "swiftship-tms")
    decoded = jwt.decode(token, await _jwks(api), algorithms=["RS256"])
    assert decoded.claims["client_id"] == "swiftship-tms"
    assert decoded.header["typ"] == "at+jwt"


async def test_jwks_holds_public_keys_only(api: Api) -> None:
    response = await api.http.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    keys = response.json()["keys"]
    assert len(keys) == 1
    for key in keys:
        assert key["kty"] == "RSA"
        assert key["kid"]
        assert key["alg"] == "RS256"
        assert key["use"] == "sig"
        assert {"n", "e"} <= set(key)
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key), key


async def test_jwks_needs_no_token(api: Api) -> None:
    assert (await api.http.get("/.well-known/jwks.json")).status_code == 200
    assert (await api.http.get("/.well-known/oauth-authorization-server")).status_code == 200


async def test_authorization_server_metadata(api: Api) -> None:
    response = await api.http.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    meta = response.json()
    assert meta["issuer"] == ISSUER
    assert meta["token_endpoint"] == f"{ISSUER}/oauth/token"
    assert meta["jwks_uri"] == f"{ISSUER}/.well-known/jwks.json"
    assert meta["grant_types_supported"] == ["client_credentials"]
    assert set(meta["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
    }
    assert set(meta["scopes_supported"]) == {
        "orders:read",
        "orders:write",
        "fulfillment:write",
        "shares:write",
        "admin",
        "settings:write",
        "inventory:write",
    }
    # RFC 8414 §2: no query or fragment in the issuer.
    assert "?" not in meta["issuer"]
    assert "#" not in meta["issuer"]


async def test_metadata_endpoints_are_reachable_by_their_advertised_paths(api: Api) -> None:
    meta = (await api.http.get("/.well-known/oauth-authorization-server")).json()
    jwks = await api.http.get(meta["jwks_uri"].removeprefix(ISSUER))
    assert jwks.status_code == 200
    token = await api.http.post(
        meta["token_endpoint"].removeprefix(ISSUER),
        data={"grant_type": "client_credentials"},
        auth=("acme-reports", "demo-only-secret"),
    )
    assert token.status_code == 200, token.text
    assert jwt_parts(token.json()["access_token"])[1]["iss"] == meta["issuer"]
