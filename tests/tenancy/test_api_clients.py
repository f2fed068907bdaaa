"""API clients over GraphQL: creating (the secret shown once), rotating and deleting."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import DEMO_SECRET
from tests.tenancy.helpers import (
    API_CLIENTS,
    CREATE_API_CLIENT,
    DELETE_API_CLIENT,
    PLATFORM_ADMIN,
    ROTATE_SECRET,
    Tenancy,
    only_error,
)


async def test_created_secret_is_shown_once_and_works(tenancy: Tenancy) -> None:
    payload = await tenancy.create_client(
        "acme-warehouse",
        ["merchant_operator", "merchant_viewer", "merchant_operator"],
        as_client="acme-backend",
    )
    assert payload["userErrors"] == []
    client = payload["apiClient"]
    assert client["clientId"] == "acme-warehouse"
    assert client["roles"] == ["merchant_operator", "merchant_viewer"]
    assert client["tenant"] == {"handle": "acme"}
    secret = payload["clientSecret"]
    assert isinstance(secret, str)
    assert len(secret) >= 32

    response = await tenancy.token_response("acme-warehouse", secret)
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "fulfillment:write inventory:write orders:read orders:write"
    token = response.json()["access_token"]
    viewer = await tenancy.api.graphql(
        "{ viewer { clientId tenant { handle } roles } }", token=token
    )
    assert viewer.json()["data"]["viewer"] == {
        "clientId": "acme-warehouse",
        "tenant": {"handle": "acme"},
        "roles": ["merchant_operator", "merchant_viewer"],
    }

    # No later answer carries the secret: not the list, not the viewer, not the platform's view.
    later = [
        await tenancy.api.graphql(API_CLIENTS, {}, as_client="acme-backend"),
        await tenancy.api.graphql(API_CLIENTS, {"tenant": "acme"}, as_client=PLATFORM_ADMIN),
        viewer,
    ]
    for response in later:
        assert response.status_code == 200
        assert "acme-warehouse" in response.text
        assert secret not in response.text


async def test_no_type_but_the_mutation_payload_has_a_secret_field(tenancy: Tenancy) -> None:
    data = await tenancy.api.data(
        '{ __type(name: "ApiClient") { fields { name } } '
        "__schema { types { name kind fields { name } } } }",
        as_client="acme-backend",
    )
    api_client_fields = {f["name"] for f in data["__type"]["fields"]}  # type: ignore[index]
    assert "clientId" in api_client_fields
    assert not [f for f in api_client_fields if "secret" in f.lower()]
    secret_fields = {
        (t["name"], f["name"])
        for t in data["__schema"]["types"]  # type: ignore[index]
        if t["kind"] == "OBJECT" and t["name"] != "Mutation"
        for f in t["fields"] or []
        if "secret" in f["name"].lower()
    }
    assert secret_fields == {("ApiClientSecretPayload", "clientSecret")}


async def test_created_client_is_listed_without_secret(tenancy: Tenancy) -> None:
    await tenancy.create_client("acme-etl", ["merchant_viewer"], as_client="acme-backend")
    clients = await tenancy.call(API_CLIENTS, {}, as_client="acme-backend")
    listed = next(c for c in clients if c["clientId"] == "acme-etl")
    assert listed["roles"] == ["merchant_viewer"]
    assert listed["tenant"] == {"handle": "acme"}


# ---- userErrors: each one leaves the clients as they were ----


async def expect_create_error(
    tenancy: Tenancy,
    variables_input: dict[str, Any],
    *,
    as_client: str = "acme-backend",
    token: str | None = None,
) -> list[dict[str, Any]]:
    before = await tenancy.state()
    if token is None:
        payload = await tenancy.call(
            CREATE_API_CLIENT, {"input": variables_input}, as_client=as_client
        )
    else:
        response = await tenancy.api.graphql(
            CREATE_API_CLIENT, {"input": variables_input}, token=token
        )
        body = response.json()
        assert "errors" not in body, body
        payload = body["data"]["createApiClient"]
    assert payload["apiClient"] is None
    assert payload["clientSecret"] is None
    errors: list[dict[str, Any]] = payload["userErrors"]
    assert errors
    assert await tenancy.state() == before
    response = await tenancy.token_response(variables_input["clientId"], DEMO_SECRET)
    if variables_input["clientId"] not in {"acme-shop", "globex-shop"}:
        assert response.status_code == 401
    return errors


async def test_narrowed_admin_token_cannot_grant_roles_beyond_its_scopes(
    tenancy: Tenancy,
) -> None:
    narrowed = await tenancy.new_token("acme-backend", DEMO_SECRET, scope="admin")
    errors = await expect_create_error(
        tenancy, {"clientId": "acme-new", "roles": ["merchant_operator"]}, token=narrowed
    )
    assert [(e["code"], e["field"]) for e in errors] == [("FORBIDDEN", ["input", "roles"])]
    assert "orders:write" in errors[0]["message"]


async def test_narrowed_admin_token_may_grant_what_it_holds(tenancy: Tenancy) -> None:
    narrowed = await tenancy.new_token("acme-backend", DEMO_SECRET, scope="admin orders:read")
    response = await tenancy.api.graphql(
        CREATE_API_CLIENT,
        {"input": {"clientId": "acme-new", "roles": ["merchant_viewer"]}},
        token=narrowed,
    )
    payload = response.json()["data"]["createApiClient"]
    assert payload["userErrors"] == []
    assert payload["apiClient"]["roles"] == ["merchant_viewer"]


@pytest.mark.parametrize(
    ("caller", "roles", "bad_index"),
    [
        ("acme-backend", ["partner_operator"], 0),
        ("acme-backend", ["merchant_viewer", "partner_admin"], 1),
        ("acme-backend", ["platform_admin"], 0),
        ("acme-backend", ["superuser"], 0),
        ("swiftship-admin", ["merchant_admin"], 0),
        ("swiftship-admin", ["platform_admin"], 0),
    ],
)
async def test_roles_of_another_tenant_kind_are_invalid(
    tenancy: Tenancy, caller: str, roles: list[str], bad_index: int
) -> None:
    errors = await expect_create_error(
        tenancy, {"clientId": "escalated", "roles": roles}, as_client=caller
    )
    assert [(e["code"], e["field"]) for e in errors] == [
        ("INVALID", ["input", "roles", str(bad_index)])
    ]


async def test_platform_admin_cannot_give_a_merchant_partner_roles(tenancy: Tenancy) -> None:
    errors = await expect_create_error(
        tenancy,
        {"clientId": "odd-one", "roles": ["partner_operator"], "tenant": "acme"},
        as_client=PLATFORM_ADMIN,
    )
    assert [(e["code"], e["field"]) for e in errors] == [("INVALID", ["input", "roles", "0"])]


async def test_no_roles_is_invalid(tenancy: Tenancy) -> None:
    errors = await expect_create_error(tenancy, {"clientId": "role-less", "roles": []})
    assert [(e["code"], e["field"]) for e in errors] == [("INVALID", ["input", "roles"])]


@pytest.mark.parametrize("taken", ["acme-shop", "globex-shop"])
async def test_duplicate_client_id_is_taken(tenancy: Tenancy, taken: str) -> None:
    errors = await expect_create_error(tenancy, {"clientId": taken, "roles": ["merchant_viewer"]})
    assert [(e["code"], e["field"]) for e in errors] == [("TAKEN", ["input", "clientId"])]
    # The existing client is untouched: its secret still works.
    assert (await tenancy.token_response(taken)).status_code == 200


@pytest.mark.parametrize("bad", ["a", "-leading-dash", "has space", "x" * 101, "ünïcode", ""])
async def test_bad_client_id_is_invalid(tenancy: Tenancy, bad: str) -> None:
    errors = await expect_create_error(tenancy, {"clientId": bad, "roles": ["merchant_viewer"]})
    assert [(e["code"], e["field"]) for e in errors] == [("INVALID", ["input", "clientId"])]


async def test_token_without_admin_scope_is_forbidden(tenancy: Tenancy) -> None:
    narrowed = await tenancy.new_token("acme-backend", DEMO_SECRET, scope="orders:read")
    before = await tenancy.state()
    calls: list[tuple[str, dict[str, Any]]] = [
        (API_CLIENTS, {}),
        (CREATE_API_CLIENT, {"input": {"clientId": "acme-new", "roles": ["merchant_viewer"]}}),
        (ROTATE_SECRET, {"clientId": "acme-shop"}),
        (DELETE_API_CLIENT, {"clientId": "acme-shop"}),
    ]
    for document, variables in calls:
        await tenancy.forbidden(document, variables, token=narrowed)
    assert await tenancy.state() == before


# ---- rotation ----


async def test_rotation_retires_the_old_secret(tenancy: Tenancy) -> None:
    before = next(
        c
        for c in await tenancy.call(API_CLIENTS, {}, as_client="acme-backend")
        if c["clientId"] == "acme-shop"
    )
    payload = await tenancy.rotate("acme-shop", as_client="acme-backend")
    assert payload["userErrors"] == []
    assert payload["apiClient"]["clientId"] == "acme-shop"
    assert payload["apiClient"]["roles"] == ["merchant_operator"]
    assert payload["apiClient"]["updatedAt"] > before["updatedAt"]
    new_secret = payload["clientSecret"]
    assert new_secret
    assert new_secret != DEMO_SECRET

    old = await tenancy.token_response("acme-shop", DEMO_SECRET)
    assert old.status_code == 401
    assert old.json()["error"] == "invalid_client"
    token = await tenancy.new_token("acme-shop", new_secret)
    assert await tenancy.status_with(token) == 200

    # Rotating again retires the second secret too; each answer has a new one.
    again = await tenancy.rotate("acme-shop", as_client="acme-backend")
    assert again["clientSecret"] not in (new_secret, DEMO_SECRET)
    assert (await tenancy.token_response("acme-shop", new_secret)).status_code == 401
    # The list never shows any of them.
    listing = await tenancy.api.graphql(API_CLIENTS, {}, as_client="acme-backend")
    assert new_secret not in listing.text
    assert again["clientSecret"] not in listing.text


async def test_rotating_an_unknown_client_is_not_found(tenancy: Tenancy) -> None:
    error = only_error(await tenancy.rotate("no-such-client", as_client="acme-backend"))
    assert (error["code"], error["field"]) == ("NOT_FOUND", ["clientId"])


async def test_narrowed_admin_token_cannot_rotate_a_client_with_more_access(
    tenancy: Tenancy,
) -> None:
    """Rotating hands the caller the client's secret, hence all its access: a token
    narrowed to `admin` must not obtain `orders:write` that way."""
    narrowed = await tenancy.new_token("acme-backend", DEMO_SECRET, scope="admin")
    before = await tenancy.state()
    response = await tenancy.api.graphql(ROTATE_SECRET, {"clientId": "acme-shop"}, token=narrowed)
    body = response.json()
    assert "errors" not in body, body
    error = only_error(body["data"]["rotateApiClientSecret"])
    assert error["code"] == "FORBIDDEN"
    assert await tenancy.state() == before
    assert (await tenancy.token_response("acme-shop")).status_code == 200


# ---- deletion ----


async def test_deleted_clients_token_is_refused_on_the_next_request(tenancy: Tenancy) -> None:
    token = await tenancy.api.token("acme-shop")
    assert await tenancy.status_with(token) == 200

    payload = await tenancy.delete("acme-shop", as_client="acme-backend")
    assert payload == {"deletedClientId": "acme-shop", "userErrors": []}

    assert await tenancy.status_with(token) == 401
    refused = await tenancy.token_response("acme-shop")
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"
    assert "acme-shop" not in await tenancy.client_ids(as_client="acme-backend")
    # Gone: deleting again is NOT_FOUND, like any unknown client.
    error = only_error(await tenancy.delete("acme-shop", as_client="acme-backend"))
    assert (error["code"], error["field"]) == ("NOT_FOUND", ["clientId"])
    # The rest of the tenant is untouched.
    assert await tenancy.status_with(await tenancy.api.token("acme-reports")) == 200


async def test_platform_admin_deletes_another_tenants_client(tenancy: Tenancy) -> None:
    token = await tenancy.api.token("globex-shop")
    payload = await tenancy.delete("globex-shop", as_client=PLATFORM_ADMIN)
    assert payload == {"deletedClientId": "globex-shop", "userErrors": []}
    assert await tenancy.status_with(token) == 401


@pytest.mark.parametrize("caller", ["acme-backend", "swiftship-admin", PLATFORM_ADMIN])
async def test_a_client_cannot_delete_itself(tenancy: Tenancy, caller: str) -> None:
    before = await tenancy.state()
    error = only_error(await tenancy.delete(caller, as_client=caller))
    assert (error["code"], error["field"]) == ("INVALID", ["clientId"])
    assert await tenancy.state() == before
    assert await tenancy.status_with(await tenancy.api.token(caller)) == 200
