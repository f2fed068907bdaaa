"""Taking access away: suspended tenants, deleted clients, rotated secrets.

A token is a self-contained JWT, yet the gateway checks the client and its
tenant as they stand on every request, so a change takes effect at once.
"""

from __future__ import annotations

from typing import Any

from tests.auth.conftest import (
    assert_invalid_token,
    assert_oauth_error,
    fresh_token,
    request_token,
    viewer,
)
from tests.conftest import DEMO_SECRET, Api

UPDATE_TENANT = """
mutation($handle: String!, $status: TenantStatus!) {
  updateTenant(input: {handle: $handle, status: $status}) {
    tenant { handle status }
    userErrors { field message code }
  }
}
"""
DELETE_CLIENT = """
mutation($clientId: String!) {
  deleteApiClient(clientId: $clientId) { deletedClientId userErrors { field message code } }
}
"""
ROTATE_SECRET = """
mutation($clientId: String!) {
  rotateApiClientSecret(clientId: $clientId) {
    apiClient { clientId roles }
    clientSecret
    userErrors { field message code }
  }
}
"""
CREATE_CLIENT = """
mutation($clientId: String!, $roles: [String!]!) {
  createApiClient(input: {clientId: $clientId, roles: $roles}) {
    apiClient { clientId }
    clientSecret
    userErrors { field message code }
  }
}
"""


async def _set_status(api: Api, handle: str, status: str, as_client: str = "ops-admin") -> Any:
    data = await api.data(UPDATE_TENANT, {"handle": handle, "status": status}, as_client=as_client)
    return data["updateTenant"]


async def _works(api: Api, token: str, client_id: str) -> None:
    response = await viewer(api, token)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["viewer"]["clientId"] == client_id


# -- suspended tenant ---------------------------------------------------------------


async def test_suspension_refuses_existing_tokens_at_once(api: Api) -> None:
    shop = await fresh_token(api, "acme-shop")
    backend = await fresh_token(api, "acme-backend")
    await _works(api, shop, "acme-shop")

    payload = await _set_status(api, "acme", "SUSPENDED")
    assert payload == {"tenant": {"handle": "acme", "status": "SUSPENDED"}, "userErrors": []}

    assert_invalid_token(await viewer(api, shop))
    assert_invalid_token(await viewer(api, backend))


async def test_suspended_tenant_gets_no_new_tokens(api: Api) -> None:
    await _set_status(api, "acme", "SUSPENDED")
    for client_id in ("acme-shop", "acme-backend", "acme-reports"):
        assert_oauth_error(await request_token(api, client_id), 401, "invalid_client")
        response = await request_token(api, client_id, post_credentials=True)
        assert_oauth_error(response, 401, "invalid_client")


async def test_suspended_looks_like_bad_credentials(api: Api) -> None:
    """The token endpoint does not tell a suspended tenant's clients apart."""
    await _set_status(api, "acme", "SUSPENDED")
    suspended = await request_token(api, "acme-shop")
    wrong = await request_token(api, "globex-shop", "wrong-secret")
    assert suspended.status_code == wrong.status_code == 401
    assert suspended.json() == wrong.json()


async def test_suspension_leaves_other_tenants_alone(api: Api) -> None:
    globex = await fresh_token(api, "globex-shop")
    swiftship = await fresh_token(api, "swiftship-tms")
    await _set_status(api, "acme", "SUSPENDED")
    await _works(api, globex, "globex-shop")
    await _works(api, swiftship, "swiftship-tms")
    assert (await request_token(api, "globex-backend")).status_code == 200


async def test_reactivation_restores_access(api: Api) -> None:
    shop = await fresh_token(api, "acme-shop")
    await _set_status(api, "acme", "SUSPENDED")
    assert_invalid_token(await viewer(api, shop))

    payload = await _set_status(api, "acme", "ACTIVE")
    assert payload["tenant"]["status"] == "ACTIVE"
    await _works(api, shop, "acme-shop")
    new = await request_token(api, "acme-shop")
    assert new.status_code == 200, new.text
    await _works(api, new.json()["access_token"], "acme-shop")


async def test_suspended_partner(api: Api) -> None:
    tms = await fresh_token(api, "swiftship-tms")
    await _set_status(api, "swiftship", "SUSPENDED")
    assert_invalid_token(await viewer(api, tms))
    assert_oauth_error(await request_token(api, "swiftship-admin"), 401, "invalid_client")


async def test_only_platform_admins_suspend(api: Api) -> None:
    response = await api.graphql(
        UPDATE_TENANT, {"handle": "globex", "status": "SUSPENDED"}, as_client="acme-backend"
    )
    assert response.status_code == 200, response.text
    assert response.json().get("errors"), response.json()
    assert (await request_token(api, "globex-shop")).status_code == 200


async def test_platform_tenant_cannot_suspend_itself(api: Api) -> None:
    payload = await _set_status(api, "ops", "SUSPENDED")
    assert payload["tenant"] is None
    assert payload["userErrors"][0]["code"] == "INVALID"
    assert (await request_token(api, "ops-admin")).status_code == 200


# -- deleted client ------------------------------------------------------------------


async def test_deleted_client_token_is_refused_on_the_next_request(api: Api) -> None:
    shop = await fresh_token(api, "acme-shop")
    await _works(api, shop, "acme-shop")

    data = await api.data(DELETE_CLIENT, {"clientId": "acme-shop"}, as_client="acme-backend")
    assert data["deleteApiClient"] == {"deletedClientId": "acme-shop", "userErrors": []}

    assert_invalid_token(await viewer(api, shop))
    assert_oauth_error(await request_token(api, "acme-shop"), 401, "invalid_client")
    # The rest of the tenant carries on.
    await _works(api, await fresh_token(api, "acme-reports"), "acme-reports")
    await _works(api, await api.token("acme-backend"), "acme-backend")


async def test_platform_admin_deletes_a_partner_client(api: Api) -> None:
    tms = await fresh_token(api, "swiftship-tms")
    data = await api.data(DELETE_CLIENT, {"clientId": "swiftship-tms"}, as_client="ops-admin")
    assert data["deleteApiClient"]["deletedClientId"] == "swiftship-tms"
    assert_invalid_token(await viewer(api, tms))


async def test_merchant_admin_cannot_delete_another_tenants_client(api: Api) -> None:
    globex = await fresh_token(api, "globex-shop")
    data = await api.data(DELETE_CLIENT, {"clientId": "globex-shop"}, as_client="acme-backend")
    assert data["deleteApiClient"]["deletedClientId"] is None
    assert data["deleteApiClient"]["userErrors"]
    await _works(api, globex, "globex-shop")


async def test_recreated_client_does_not_revive_old_tokens(api: Api) -> None:
    """Deleting a client kills its tokens for good, even if the id is used again."""
    old = await fresh_token(api, "acme-shop")
    await api.data(DELETE_CLIENT, {"clientId": "acme-shop"}, as_client="acme-backend")
    created = await api.data(
        CREATE_CLIENT,
        {"clientId": "acme-shop", "roles": ["merchant_operator"]},
        as_client="acme-backend",
    )
    secret = created["createApiClient"]["clientSecret"]  # type: ignore[index]
    assert secret
    assert_invalid_token(await viewer(api, old))
    new = await fresh_token(api, "acme-shop", secret)
    await _works(api, new, "acme-shop")


# -- rotated secret ------------------------------------------------------------------


async def test_rotated_secret(api: Api) -> None:
    data = await api.data(ROTATE_SECRET, {"clientId": "acme-shop"}, as_client="acme-backend")
    payload = data["rotateApiClientSecret"]
    assert payload["userErrors"] == []  # type: ignore[index]
    assert payload["apiClient"] == {"clientId": "acme-shop", "roles": ["merchant_operator"]}  # type: ignore[index]
    secret = payload["clientSecret"]  # type: ignore[index]
    assert isinstance(secret, str)
    assert len(secret) >= 32
    assert secret != DEMO_SECRET

    assert_oauth_error(await request_token(api, "acme-shop"), 401, "invalid_client")
    response = await request_token(api, "acme-shop", post_credentials=True)
    assert_oauth_error(response, 401, "invalid_client")

    for post in (False, True):
        response = await request_token(api, "acme-shop", secret, post_credentials=post)
        assert response.status_code == 200, response.text
        await _works(api, response.json()["access_token"], "acme-shop")


async def test_rotating_twice_retires_the_first_new_secret(api: Api) -> None:
    first = await api.data(ROTATE_SECRET, {"clientId": "acme-reports"}, as_client="acme-backend")
    second = await api.data(ROTATE_SECRET, {"clientId": "acme-reports"}, as_client="acme-backend")
    first_secret = first["rotateApiClientSecret"]["clientSecret"]  # type: ignore[index]
    second_secret = second["rotateApiClientSecret"]["clientSecret"]  # type: ignore[index]
    assert first_secret != second_secret
    response = await request_token(api, "acme-reports", first_secret)
    assert_oauth_error(response, 401, "invalid_client")
    assert (await request_token(api, "acme-reports", second_secret)).status_code == 200


async def test_rotating_another_tenants_secret_is_refused(api: Api) -> None:
    data = await api.data(ROTATE_SECRET, {"clientId": "globex-shop"}, as_client="acme-backend")
    assert data["rotateApiClientSecret"]["clientSecret"] is None  # type: ignore[index]
    assert data["rotateApiClientSecret"]["userErrors"]  # type: ignore[index]
    assert (await request_token(api, "globex-shop")).status_code == 200


async def test_platform_admin_rotates_any_secret(api: Api) -> None:
    data = await api.data(ROTATE_SECRET, {"clientId": "globex-shop"}, as_client="ops-admin")
    secret = data["rotateApiClientSecret"]["clientSecret"]  # type: ignore[index]
    assert_oauth_error(await request_token(api, "globex-shop"), 401, "invalid_client")
    assert (await request_token(api, "globex-shop", secret)).status_code == 200
