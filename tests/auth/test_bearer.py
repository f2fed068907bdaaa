"""The bearer check in front of `/graphql`: every bad token is HTTP 401 and GraphQL never runs."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from joserfc.jwk import RSAKey

from tests.auth.conftest import (
    VIEWER,
    assert_invalid_token,
    b64url,
    b64url_json,
    fresh_token,
    jwt_parts,
    sign,
    valid_claims_like,
    viewer,
)
from tests.conftest import ISSUER, Api

CREATE_CLIENT = """
mutation { createApiClient(input: {clientId: "sneaky", roles: ["merchant_viewer"]}) {
  apiClient { clientId } userErrors { code } } }
"""


def _header(key: RSAKey, **changes: Any) -> dict[str, Any]:
    return {"alg": "RS256", "typ": "at+jwt", "kid": key.kid, **changes}


async def _post_raw(api: Api, authorization: str | None) -> Any:
    headers = {} if authorization is None else {"Authorization": authorization}
    return await api.http.post("/graphql", json={"query": VIEWER}, headers=headers)


# -- what a good token looks like -------------------------------------------------


async def test_valid_token(api: Api) -> None:
    response = await viewer(api, await fresh_token(api, "acme-shop"))
    assert response.status_code == 200, response.text
    assert response.json()["data"]["viewer"]["clientId"] == "acme-shop"


async def test_scheme_is_case_insensitive(api: Api) -> None:
    token = await fresh_token(api, "acme-reports")
    for scheme in ("bearer", "BEARER", "Bearer"):
        response = await _post_raw(api, f"{scheme} {token}")
        assert response.status_code == 200, response.text


async def test_get_with_token(api: Api) -> None:
    token = await fresh_token(api, "acme-reports")
    response = await api.http.get(
        "/graphql", params={"query": VIEWER}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["viewer"]["clientId"] == "acme-reports"


async def test_self_signed_token_with_the_real_key_is_accepted(
    api: Api, app_key: RSAKey, acme_shop_claims: dict[str, Any]
) -> None:
    """The forging helpers make tokens the gateway accepts, so the refusals below are
    about the one thing each of them changes."""
    token = sign(_header(app_key), valid_claims_like(acme_shop_claims), app_key)
    response = await viewer(api, token)
    assert response.status_code == 200, response.text


# -- no token, or not a token ----------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer    ",
        "Basic YWNtZS1zaG9wOmRlbW8tb25seS1zZWNyZXQ=",
        "Token abc",
        "Bearer garbage",
        "Bearer a.b.c",
        "Bearer ..",
        "Bearer a.b.c.d.e",
        "Bearer eyJhbGciOiJSUzI1NiJ9.e30.",
        "Bearer %%%.%%%.%%%",
    ],
)
async def test_missing_or_malformed(api: Api, authorization: str | None) -> None:
    assert_invalid_token(await _post_raw(api, authorization))


async def test_token_in_the_query_string_is_not_accepted(api: Api) -> None:
    token = await fresh_token(api, "acme-shop")
    response = await api.http.get("/graphql", params={"query": VIEWER, "access_token": token})
    assert_invalid_token(response)
    response = await api.http.post(f"/graphql?access_token={token}", json={"query": VIEWER})
    assert_invalid_token(response)


async def test_get_without_token(api: Api) -> None:
    response = await api.http.get("/graphql", params={"query": VIEWER})
    assert_invalid_token(response)


async def test_www_authenticate_header(api: Api) -> None:
    response = await _post_raw(api, "Bearer garbage")
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer error="invalid_token"')
    assert "error_description=" in challenge


async def test_mutation_with_a_bad_token_never_runs(api: Api) -> None:
    response = await api.graphql(CREATE_CLIENT, token="not.a.token")
    assert_invalid_token(response)
    response = await api.graphql(CREATE_CLIENT)
    assert_invalid_token(response)
    clients = await api.data("{ apiClients { clientId } }", as_client="acme-backend")
    assert "sneaky" not in {c["clientId"] for c in clients["apiClients"]}  # type: ignore[attr-defined, index]


# -- forged and altered tokens --------------------------------------------------------


async def test_alg_none(api: Api, app_key: RSAKey, acme_shop_claims: dict[str, Any]) -> None:
    claims = valid_claims_like(acme_shop_claims)
    for alg in ("none", "None", "NONE"):
        header = _header(app_key, alg=alg)
        unsigned = f"{b64url_json(header)}.{b64url_json(claims)}."
        assert_invalid_token(await viewer(api, unsigned))
        # ...and with the real token's signature glued on.
        real_signature = (await fresh_token(api, "acme-shop")).split(".")[2]
        assert_invalid_token(await viewer(api, unsigned + real_signature))


async def test_hs256_with_the_public_key_as_secret(
    api: Api, app_key: RSAKey, acme_shop_claims: dict[str, Any]
) -> None:
    """The classic algorithm confusion: HMAC keyed with the published RSA key."""
    jwks = (await api.http.get("/.well-known/jwks.json")).json()
    public = app_key.as_pem(private=False)
    secrets = [public, json.dumps(jwks["keys"][0]).encode()]
    claims = valid_claims_like(acme_shop_claims)
    for secret in secrets:
        signing_input = f"{b64url_json(_header(app_key, alg='HS256'))}.{b64url_json(claims)}"
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        assert_invalid_token(await viewer(api, f"{signing_input}.{b64url(mac)}"))


@pytest.mark.parametrize(
    "changes",
    [
        {"scope": "admin fulfillment:write orders:read orders:write shares:write"},
        {"roles": ["merchant_admin"]},
        {"client_id": "acme-backend", "sub": "acme-backend"},
        {"tenant": "globex"},
        {"exp": 4102444800},
    ],
)
async def test_tampered_payload(api: Api, changes: dict[str, Any]) -> None:
    token = await fresh_token(api, "acme-shop")
    header, _payload, signature = token.split(".")
    _h, claims = jwt_parts(token)
    tampered = f"{header}.{b64url_json({**claims, **changes})}.{signature}"
    assert_invalid_token(await viewer(api, tampered))


async def test_tampered_header(api: Api) -> None:
    token = await fresh_token(api, "acme-shop")
    _header_part, payload, signature = token.split(".")
    header, _claims = jwt_parts(token)
    tampered = f"{b64url_json({**header, 'typ': 'application/at+jwt'})}.{payload}.{signature}"
    assert_invalid_token(await viewer(api, tampered))


async def test_truncated_or_swapped_signature(api: Api) -> None:
    token = await fresh_token(api, "acme-shop")
    other = await fresh_token(api, "acme-reports")
    head, payload, signature = token.split(".")
    assert_invalid_token(await viewer(api, f"{head}.{payload}.{signature[:-4]}"))
    assert_invalid_token(await viewer(api, f"{head}.{payload}.{other.split('.')[2]}"))
    assert_invalid_token(await viewer(api, f"{head}.{payload}."))


async def test_foreign_key_with_the_same_kid(
    api: Api, app_key: RSAKey, acme_shop_claims: dict[str, Any]
) -> None:
    foreign = RSAKey.generate_key(
        2048, parameters={"kid": app_key.kid, "alg": "RS256", "use": "sig"}, private=True
    )
    token = sign(_header(app_key), valid_claims_like(acme_shop_claims), foreign)
    assert jwt_parts(token)[0]["kid"] == app_key.kid
    assert_invalid_token(await viewer(api, token))


async def test_foreign_key_with_an_unknown_kid(
    api: Api, app_key: RSAKey, acme_shop_claims: dict[str, Any]
) -> None:
    foreign = RSAKey.generate_key(2048, parameters={"kid": "intruder"}, private=True)
    token = sign(_header(foreign), valid_claims_like(acme_shop_claims), foreign)
    assert_invalid_token(await viewer(api, token))


async def test_real_key_but_unknown_kid(
    api: Api, app_key: RSAKey, acme_shop_claims: dict[str, Any]
) -> None:
    token = sign(_header(app_key, kid="intruder"), valid_claims_like(acme_shop_claims), app_key)
    assert_invalid_token(await viewer(api, token))


async def test_expired(api: Api, app_key: RSAKey, acme_shop_claims: dict[str, Any]) -> None:
    now = int(time.time())
    claims = valid_claims_like(acme_shop_claims, iat=now - 7200, exp=now - 3600)
    assert_invalid_token(await viewer(api, sign(_header(app_key), claims, app_key)))


async def test_not_yet_valid(api: Api, app_key: RSAKey, acme_shop_claims: dict[str, Any]) -> None:
    now = int(time.time())
    claims = valid_claims_like(acme_shop_claims, nbf=now + 3600, exp=now + 7200)
    assert_invalid_token(await viewer(api, sign(_header(app_key), claims, app_key)))


@pytest.mark.parametrize(
    "changes",
    [
        {"iss": "https://evil.example"},
        {"iss": ISSUER + "/"},
        {"aud": "https://other-api.example"},
        {"aud": ["https://other-api.example"]},
        {"exp": "tomorrow"},
    ],
)
async def test_wrong_issuer_or_audience(
    api: Api, app_key: RSAKey, acme_shop_claims: dict[str, Any], changes: dict[str, Any]
) -> None:
    claims = valid_claims_like(acme_shop_claims, **changes)
    assert_invalid_token(await viewer(api, sign(_header(app_key), claims, app_key)))


@pytest.mark.parametrize("typ", ["JWT", "jwt", "at+JWT+x", None])
async def test_typ_other_than_at_jwt(
    api: Api, app_key: RSAKey, acme_shop_claims: dict[str, Any], typ: str | None
) -> None:
    header = _header(app_key, typ=typ)
    if typ is None:
        del header["typ"]
    claims = valid_claims_like(acme_shop_claims)
    assert_invalid_token(await viewer(api, sign(header, claims, app_key)))


@pytest.mark.parametrize(
    "missing",
    [
        "iss",
        "aud",
        "exp",
        "iat",
        "jti",
        "sub",
        "client_id",
        "client_uuid",
        "tenant_id",
        "tenant",
        "roles",
    ],
)
async def test_missing_claim(
    api: Api, app_key: RSAKey, acme_shop_claims: dict[str, Any], missing: str
) -> None:
    claims = valid_claims_like(acme_shop_claims)
    del claims[missing]
    assert_invalid_token(await viewer(api, sign(_header(app_key), claims, app_key)))


@pytest.mark.parametrize(
    "changes",
    [
        {"tenant_id": "not-a-uuid"},
        {"roles": "merchant_operator"},
        {"roles": None},
        {"roles": {"merchant_operator": True}},
        {"scope": ["orders:read"]},
        {"client_id": "nobody", "sub": "nobody"},
        {"client_uuid": "not-a-uuid"},
        {"client_uuid": "00000000-0000-0000-0000-000000000000"},
    ],
)
async def test_malformed_or_unknown_claims(
    api: Api, app_key: RSAKey, acme_shop_claims: dict[str, Any], changes: dict[str, Any]
) -> None:
    claims = valid_claims_like(acme_shop_claims, **changes)
    assert_invalid_token(await viewer(api, sign(_header(app_key), claims, app_key)))


async def test_client_moved_to_another_tenant(
    api: Api, app_key: RSAKey, acme_shop_claims: dict[str, Any]
) -> None:
    """A token naming a client with another tenant's id is refused."""
    globex = jwt_parts(await fresh_token(api, "globex-shop"))[1]
    claims = valid_claims_like(acme_shop_claims, tenant_id=globex["tenant_id"], tenant="globex")
    assert_invalid_token(await viewer(api, sign(_header(app_key), claims, app_key)))


async def test_roles_and_scopes_are_cut_to_what_the_client_holds(
    api: Api, app_key: RSAKey, acme_shop_claims: dict[str, Any]
) -> None:
    """Even a correctly signed token grants no more than the client holds today."""
    claims = valid_claims_like(
        acme_shop_claims,
        roles=["merchant_admin", "merchant_operator", "platform_admin"],
        scope="admin orders:read shares:write",
    )
    response = await viewer(api, sign(_header(app_key), claims, app_key))
    assert response.status_code == 200, response.text
    assert response.json()["data"]["viewer"]["roles"] == ["merchant_operator"]
    assert response.json()["data"]["viewer"]["scopes"] == ["orders:read"]
