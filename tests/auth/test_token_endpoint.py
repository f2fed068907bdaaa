"""`POST /oauth/token`: the client credentials grant and its RFC 6749 §5.2 errors."""

from __future__ import annotations

import base64

import pytest

from tests.auth.conftest import (
    VIEWER,
    assert_oauth_error,
    jwt_parts,
    request_token,
)
from tests.conftest import DEMO_SECRET, Api

ACME_SHOP_SCOPES = "fulfillment:write inventory:write orders:read orders:write"


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode("ascii")


# -- success ------------------------------------------------------------------


async def test_client_secret_basic(api: Api) -> None:
    response = await request_token(api, "acme-shop")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == ACME_SHOP_SCOPES
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    assert response.headers["content-type"].startswith("application/json")


async def test_client_secret_post(api: Api) -> None:
    response = await request_token(api, "acme-shop", post_credentials=True)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["scope"] == ACME_SHOP_SCOPES
    assert response.headers["cache-control"] == "no-store"
    _header, claims = jwt_parts(body["access_token"])
    assert claims["client_id"] == "acme-shop"


async def test_content_type_with_charset_is_accepted(api: Api) -> None:
    response = await api.http.post(
        "/oauth/token",
        content=b"grant_type=client_credentials",
        headers={
            "Content-Type": "application/x-www-form-urlencoded; charset=UTF-8",
            "Authorization": _basic("acme-reports", DEMO_SECRET),
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "orders:read"


async def test_token_works_at_graphql(api: Api) -> None:
    token = (await request_token(api, "acme-shop", post_credentials=True)).json()["access_token"]
    response = await api.graphql(VIEWER, token=token)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["viewer"]["clientId"] == "acme-shop"


@pytest.mark.parametrize(
    ("client_id", "scope"),
    [
        (
            "acme-backend",
            "admin fulfillment:write inventory:write orders:read orders:write settings:write "
            "shares:write",
        ),
        ("acme-shop", ACME_SHOP_SCOPES),
        ("acme-reports", "orders:read"),
        ("swiftship-tms", "fulfillment:write inventory:write orders:read"),
        ("swiftship-admin", "admin fulfillment:write inventory:write orders:read settings:write"),
        ("ops-admin", "admin inventory:write orders:read settings:write shares:write"),
    ],
)
async def test_default_scope_is_everything_the_roles_allow(
    api: Api, client_id: str, scope: str
) -> None:
    response = await request_token(api, client_id)
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == scope
    _header, claims = jwt_parts(response.json()["access_token"])
    assert claims["scope"] == scope


async def test_never_a_refresh_token(api: Api) -> None:
    for post in (False, True):
        response = await request_token(api, "acme-backend", post_credentials=post)
        assert response.status_code == 200
        assert "refresh_token" not in response.json()
    response = await request_token(api, "acme-backend", form={"scope": "orders:read"})
    assert "refresh_token" not in response.json()


# -- scope narrowing ------------------------------------------------------------


async def test_scope_narrows_the_token(api: Api) -> None:
    response = await request_token(api, "acme-backend", form={"scope": "orders:read"})
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "orders:read"
    token = response.json()["access_token"]
    assert jwt_parts(token)[1]["scope"] == "orders:read"
    viewer = await api.graphql(VIEWER, token=token)
    assert viewer.status_code == 200, viewer.text
    assert viewer.json()["data"]["viewer"]["scopes"] == ["orders:read"]
    assert viewer.json()["data"]["viewer"]["roles"] == ["merchant_admin"]


async def test_narrowed_token_cannot_use_the_scopes_left_out(api: Api) -> None:
    response = await request_token(api, "acme-backend", form={"scope": "orders:read"})
    token = response.json()["access_token"]
    answer = await api.graphql("{ apiClients { clientId } }", token=token)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body.get("errors"), body
    assert not (body.get("data") or {}).get("apiClients")
    # The same client with its full scope may.
    clients = await api.data("{ apiClients { clientId } }", as_client="acme-backend")
    assert {c["clientId"] for c in clients["apiClients"]} >= {"acme-shop", "acme-backend"}  # type: ignore[index, union-attr]


async def test_several_scopes_duplicates_and_extra_spaces(api: Api) -> None:
    response = await request_token(
        api, "acme-backend", form={"scope": "  orders:write orders:read  orders:read "}
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "orders:read orders:write"


async def test_empty_scope_parameter_means_default(api: Api) -> None:
    response = await request_token(api, "acme-reports", form={"scope": ""})
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "orders:read"


async def test_scope_with_post_credentials(api: Api) -> None:
    response = await request_token(api, "ops-admin", post_credentials=True, form={"scope": "admin"})
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "admin"


# -- invalid_client -----------------------------------------------------------------


async def test_unknown_client_basic(api: Api) -> None:
    response = await request_token(api, "nobody")
    assert_oauth_error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"].lower().startswith("basic")


async def test_unknown_client_post(api: Api) -> None:
    response = await request_token(api, "nobody", post_credentials=True)
    assert_oauth_error(response, 401, "invalid_client")


async def test_wrong_secret_basic(api: Api) -> None:
    response = await request_token(api, "acme-shop", "not-the-secret")
    assert_oauth_error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"].lower().startswith("basic")


async def test_wrong_secret_post(api: Api) -> None:
    response = await request_token(api, "acme-shop", "not-the-secret", post_credentials=True)
    assert_oauth_error(response, 401, "invalid_client")


@pytest.mark.parametrize("post", [False, True])
async def test_unknown_client_and_wrong_secret_look_the_same(api: Api, post: bool) -> None:
    """Nothing in the answer tells whether a client id exists."""
    unknown = await request_token(api, "nobody", "not-the-secret", post_credentials=post)
    wrong = await request_token(api, "acme-shop", "not-the-secret", post_credentials=post)
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()
    assert unknown.headers["www-authenticate"] == wrong.headers["www-authenticate"]


async def test_empty_secret(api: Api) -> None:
    assert_oauth_error(await request_token(api, "acme-shop", ""), 401, "invalid_client")
    response = await request_token(api, "acme-shop", "", post_credentials=True)
    assert_oauth_error(response, 401, "invalid_client")


async def test_client_id_without_secret_post(api: Api) -> None:
    response = await request_token(api, "acme-shop", None, post_credentials=True)
    assert_oauth_error(response, 401, "invalid_client")


async def test_no_credentials_at_all(api: Api) -> None:
    response = await request_token(api)
    assert_oauth_error(response, 401, "invalid_client")


@pytest.mark.parametrize(
    "authorization",
    [
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"no-colon-here").decode(),
        "Basic ",
        "Basic",
        "Basic " + base64.b64encode(b"\xff\xfe:\xfd").decode(),
        "Basic " + base64.b64encode(b":demo-only-secret").decode(),
        "Bearer something",
    ],
)
async def test_malformed_authorization_header(api: Api, authorization: str) -> None:
    response = await api.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": authorization},
    )
    assert_oauth_error(response, 401, "invalid_client")


async def test_secret_of_another_client(api: Api) -> None:
    """A valid secret does not lend itself to another client id."""
    rotated = await api.data(
        'mutation { rotateApiClientSecret(clientId: "acme-reports") { clientSecret } }',
        as_client="acme-backend",
    )
    secret = rotated["rotateApiClientSecret"]["clientSecret"]  # type: ignore[index]
    assert_oauth_error(await request_token(api, "acme-shop", secret), 401, "invalid_client")
    assert (await request_token(api, "acme-reports", secret)).status_code == 200


# -- two ways of client authentication at once ------------------------------------


async def test_basic_and_post_credentials_together(api: Api) -> None:
    response = await api.http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "acme-shop",
            "client_secret": DEMO_SECRET,
        },
        auth=("acme-shop", DEMO_SECRET),
    )
    assert_oauth_error(response, 400, "invalid_request")


async def test_basic_and_a_different_client_id_in_the_body(api: Api) -> None:
    """Two different client identities in one request are refused, not silently resolved."""
    response = await api.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "acme-backend"},
        auth=("acme-shop", DEMO_SECRET),
    )
    assert_oauth_error(response, 400, "invalid_request")


async def test_basic_and_the_same_client_id_in_the_body(api: Api) -> None:
    response = await api.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "acme-shop"},
        auth=("acme-shop", DEMO_SECRET),
    )
    assert response.status_code == 200, response.text
    assert jwt_parts(response.json()["access_token"])[1]["client_id"] == "acme-shop"


# -- unsupported_grant_type ---------------------------------------------------------


@pytest.mark.parametrize(
    "grant_type",
    [
        "password",
        "authorization_code",
        "refresh_token",
        "implicit",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "CLIENT_CREDENTIALS",
    ],
)
async def test_unsupported_grant_type(api: Api, grant_type: str) -> None:
    response = await request_token(
        api,
        "acme-shop",
        form={
            "grant_type": grant_type,
            "username": "u",
            "password": "p",
            "code": "c",
            "refresh_token": "r",
        },
    )
    assert_oauth_error(response, 400, "unsupported_grant_type")


# -- invalid_request ---------------------------------------------------------------


@pytest.mark.parametrize("body", [b"", b"scope=orders%3Aread", b"grant_type="])
async def test_missing_grant_type(api: Api, body: bytes) -> None:
    response = await api.http.post(
        "/oauth/token",
        content=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": _basic("acme-shop", DEMO_SECRET),
        },
    )
    assert_oauth_error(response, 400, "invalid_request")
    assert "grant_type" in response.json()["error_description"]


async def test_json_body_is_refused(api: Api) -> None:
    response = await api.http.post(
        "/oauth/token",
        json={"grant_type": "client_credentials"},
        auth=("acme-shop", DEMO_SECRET),
    )
    assert_oauth_error(response, 400, "invalid_request")


async def test_no_content_type(api: Api) -> None:
    response = await api.http.post(
        "/oauth/token",
        content=b"grant_type=client_credentials",
        headers={"Authorization": _basic("acme-shop", DEMO_SECRET)},
    )
    assert_oauth_error(response, 400, "invalid_request")


async def test_multipart_body_is_refused(api: Api) -> None:
    response = await api.http.post(
        "/oauth/token",
        files={"grant_type": (None, "client_credentials")},
        auth=("acme-shop", DEMO_SECRET),
    )
    assert_oauth_error(response, 400, "invalid_request")


@pytest.mark.parametrize(
    "body",
    [
        b"grant_type=client_credentials&grant_type=client_credentials",
        b"grant_type=client_credentials&scope=orders:read&scope=orders:write",
        b"grant_type=client_credentials&client_id=acme-shop&client_id=acme-shop",
    ],
)
async def test_repeated_parameter(api: Api, body: bytes) -> None:
    response = await api.http.post(
        "/oauth/token",
        content=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": _basic("acme-shop", DEMO_SECRET),
        },
    )
    assert_oauth_error(response, 400, "invalid_request")
    assert "repeated" in response.json()["error_description"]


async def test_body_not_utf8(api: Api) -> None:
    response = await api.http.post(
        "/oauth/token",
        content=b"grant_type=client_credentials&scope=\xff\xfe",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": _basic("acme-shop", DEMO_SECRET),
        },
    )
    assert_oauth_error(response, 400, "invalid_request")


async def test_get_is_not_allowed(api: Api) -> None:
    response = await api.http.get(
        "/oauth/token", params={"grant_type": "client_credentials"}, auth=("acme-shop", DEMO_SECRET)
    )
    assert response.status_code == 405


# -- invalid_scope -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("client_id", "scope"),
    [
        ("acme-shop", "admin"),
        ("acme-shop", "orders:read admin"),
        ("acme-reports", "orders:write"),
        ("swiftship-tms", "shares:write"),
        ("ops-admin", "orders:write"),
    ],
)
async def test_scope_beyond_the_clients(api: Api, client_id: str, scope: str) -> None:
    response = await request_token(api, client_id, form={"scope": scope})
    assert_oauth_error(response, 400, "invalid_scope")


@pytest.mark.parametrize("scope", ["orders:delete", "openid", "orders:read everything", "*"])
async def test_unknown_scope(api: Api, scope: str) -> None:
    response = await request_token(api, "acme-backend", form={"scope": scope})
    assert_oauth_error(response, 400, "invalid_scope")


async def test_invalid_scope_with_post_credentials(api: Api) -> None:
    response = await request_token(
        api, "acme-reports", post_credentials=True, form={"scope": "admin"}
    )
    assert_oauth_error(response, 400, "invalid_scope")


async def test_bad_credentials_win_over_bad_scope(api: Api) -> None:
    """An unauthenticated caller learns nothing about the client's scopes."""
    response = await request_token(api, "acme-shop", "wrong", form={"scope": "admin"})
    assert_oauth_error(response, 401, "invalid_client")


async def test_every_scope_a_token_carries_can_be_asked_for(api: Api) -> None:
    """A client may narrow its token to any scope its roles give it, settings:write and
    inventory:write included, and the metadata lists every one."""
    for scope in ("settings:write", "inventory:write"):
        response = await api.http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "scope": scope},
            auth=("acme-backend", DEMO_SECRET),
        )
        assert response.status_code == 200, response.text
        assert response.json()["scope"] == scope
    metadata = (await api.http.get("/.well-known/oauth-authorization-server")).json()
    assert {"settings:write", "inventory:write"} <= set(metadata["scopes_supported"])
