"""Who may do what in tenant administration: every operation as every demo client.

Outcomes:
- ALLOWED: the operation does what it says.
- FORBIDDEN: the role lacks the action entirely: one GraphQL error with
  extensions.code FORBIDDEN on the field, which is null, and nothing changes.
- NOT_FOUND: the role has the action but the object is another tenant's: the
  answer is exactly that for an object that does not exist, and nothing changes.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.conftest import DEMO_SECRET
from tests.tenancy.helpers import (
    API_CLIENTS,
    CREATE_API_CLIENT,
    CREATE_TENANT,
    DELETE_API_CLIENT,
    DEMO_CLIENTS,
    DEMO_TENANTS,
    PLATFORM_ADMIN,
    ROTATE_SECRET,
    TENANT,
    TENANTS,
    UPDATE_TENANT,
    VIEWER,
    Tenancy,
    demo_clients_of,
    only_error,
    root_field,
    tenant_of,
)

ALLOWED, FORBIDDEN, NOT_FOUND = "allowed", "FORBIDDEN", "NOT_FOUND"

MADE_UP_CLIENT = "no-such-client"
MADE_UP_TENANT = "no-such-tenant"

# A role each tenant kind may hold, for clients created in the matrix.
ROLE_FOR_TENANT = {
    "acme": "merchant_viewer",
    "globex": "merchant_viewer",
    "swiftship": "partner_operator",
    "ops": "platform_admin",
}
# A client of the caller's own tenant other than itself ("ops-spare" is made first).
OWN_CLIENT = {
    "acme-backend": "acme-reports",
    "acme-shop": "acme-reports",
    "acme-reports": "acme-shop",
    "globex-backend": "globex-shop",
    "globex-shop": "globex-backend",
    "swiftship-tms": "swiftship-admin",
    "swiftship-admin": "swiftship-tms",
    "ops-admin": "ops-spare",
}


def other_tenant(caller: str) -> str:
    return "acme" if tenant_of(caller) == "globex" else "globex"


def other_client(caller: str) -> str:
    return "acme-shop" if tenant_of(caller) == "globex" else "globex-shop"


ADMINS = frozenset({"acme-backend", "globex-backend", "swiftship-admin", "ops-admin"})
EVERYONE = frozenset(DEMO_CLIENTS)


def outcomes(allowed: frozenset[str], not_found: frozenset[str] = frozenset()) -> dict[str, str]:
    """Every demo client's expected outcome: the rest are FORBIDDEN."""
    return {
        client: ALLOWED if client in allowed else NOT_FOUND if client in not_found else FORBIDDEN
        for client in DEMO_CLIENTS
    }


MATRIX: dict[str, dict[str, str]] = {
    "viewer": outcomes(EVERYONE),
    "tenants": outcomes(frozenset({PLATFORM_ADMIN})),
    "tenant(handle)": outcomes(frozenset({PLATFORM_ADMIN})),
    "apiClients": outcomes(ADMINS),
    # globex-backend names its own tenant; other tenants' admins see an unknown one.
    'apiClients(tenant: "globex")': outcomes(
        frozenset({PLATFORM_ADMIN, "globex-backend"}),
        not_found=frozenset({"acme-backend", "swiftship-admin"}),
    ),
    "createTenant": outcomes(frozenset({PLATFORM_ADMIN})),
    "updateTenant": outcomes(frozenset({PLATFORM_ADMIN})),
    "createApiClient(own tenant)": outcomes(ADMINS),
    "createApiClient(other tenant)": outcomes(
        frozenset({PLATFORM_ADMIN}), not_found=ADMINS - {PLATFORM_ADMIN}
    ),
    "rotateApiClientSecret(own client)": outcomes(ADMINS),
    "rotateApiClientSecret(other tenant's client)": outcomes(
        frozenset({PLATFORM_ADMIN}), not_found=ADMINS - {PLATFORM_ADMIN}
    ),
    "deleteApiClient(own client)": outcomes(ADMINS),
    "deleteApiClient(other tenant's client)": outcomes(
        frozenset({PLATFORM_ADMIN}), not_found=ADMINS - {PLATFORM_ADMIN}
    ),
}


async def expect_forbidden(
    tenancy: Tenancy, caller: str, document: str, variables: dict[str, Any]
) -> None:
    before = await tenancy.state()
    await tenancy.forbidden(document, variables, as_client=caller)
    assert await tenancy.state() == before


async def expect_not_found(
    tenancy: Tenancy,
    caller: str,
    document: str,
    variables: Callable[[str], dict[str, Any]],
    name: str,
    made_up: str,
    field: list[str],
) -> None:
    """The answer for another tenant's `name` is that for a `made_up` one, word for word."""
    before = await tenancy.state()
    real = await tenancy.call(document, variables(name), as_client=caller)
    fake = await tenancy.call(document, variables(made_up), as_client=caller)
    error = only_error(real)
    assert (error["code"], error["field"]) == ("NOT_FOUND", field)
    assert json.dumps(real).replace(name, "<name>") == json.dumps(fake).replace(made_up, "<name>")
    assert await tenancy.state() == before


async def secret_works(tenancy: Tenancy, client_id: str, secret: str) -> None:
    assert secret
    token = await tenancy.new_token(client_id, secret)
    assert await tenancy.status_with(token) == 200


async def ensure_target(tenancy: Tenancy, target: str) -> str:
    """The target's current secret; "ops-spare" is made here, the demo clients exist."""
    if target != "ops-spare":
        return DEMO_SECRET
    payload = await tenancy.create_client("ops-spare", ["platform_admin"], as_client=PLATFORM_ADMIN)
    assert payload["userErrors"] == []
    secret: str = payload["clientSecret"]
    return secret


# ---- one function per operation: (tenancy, caller, expected) ----


async def op_viewer(tenancy: Tenancy, caller: str, expected: str) -> None:
    assert expected == ALLOWED
    viewer = await tenancy.call(VIEWER, {}, as_client=caller)
    tenant, role = DEMO_CLIENTS[caller]
    assert (viewer["clientId"], viewer["tenant"]["handle"], viewer["roles"]) == (
        caller,
        tenant,
        [role],
    )


async def op_tenants(tenancy: Tenancy, caller: str, expected: str) -> None:
    if expected == FORBIDDEN:
        await tenancy.forbidden(TENANTS, {"first": 10}, as_client=caller)
        return
    page = await tenancy.call(TENANTS, {"first": 10}, as_client=caller)
    assert [e["node"]["handle"] for e in page["edges"]] == list(DEMO_TENANTS)


async def op_tenant(tenancy: Tenancy, caller: str, expected: str) -> None:
    if expected == FORBIDDEN:
        await tenancy.forbidden(TENANT, {"handle": "globex"}, as_client=caller)
        return
    tenant = await tenancy.call(TENANT, {"handle": "globex"}, as_client=caller)
    assert tenant == {
        "handle": "globex",
        "name": "Globex Corporation",
        "kind": "MERCHANT",
        "status": "ACTIVE",
    }


async def op_api_clients(tenancy: Tenancy, caller: str, expected: str) -> None:
    if expected == FORBIDDEN:
        await tenancy.forbidden(API_CLIENTS, {}, as_client=caller)
        return
    clients = await tenancy.call(API_CLIENTS, {}, as_client=caller)
    own = tenant_of(caller)
    assert [c["clientId"] for c in clients] == demo_clients_of(own)
    assert {c["tenant"]["handle"] for c in clients} == {own}


async def op_api_clients_of_globex(tenancy: Tenancy, caller: str, expected: str) -> None:
    if expected == FORBIDDEN:
        await tenancy.forbidden(API_CLIENTS, {"tenant": "globex"}, as_client=caller)
        return
    if expected == ALLOWED:
        answer = await tenancy.call(API_CLIENTS, {"tenant": "globex"}, as_client=caller)
        assert [c["clientId"] for c in answer] == ["globex-backend", "globex-shop"]
        return
    # Another tenant's clients: NOT_FOUND naming the argument, the same answer as for a
    # tenant that does not exist.
    body = (await tenancy.api.graphql(API_CLIENTS, {"tenant": "globex"}, as_client=caller)).json()
    assert body["data"] == {"apiClients": None}, body
    assert [
        (e["path"], e["extensions"]["code"], e["extensions"]["field"]) for e in body["errors"]
    ] == [(["apiClients"], "NOT_FOUND", ["tenant"])], body
    made_up = await tenancy.api.graphql(API_CLIENTS, {"tenant": MADE_UP_TENANT}, as_client=caller)
    assert [e["message"] for e in made_up.json()["errors"]] == [
        e["message"] for e in body["errors"]
    ]


async def op_create_tenant(tenancy: Tenancy, caller: str, expected: str) -> None:
    variables = {"input": {"handle": "newco", "name": "New Co", "kind": "MERCHANT"}}
    if expected == FORBIDDEN:
        await expect_forbidden(tenancy, caller, CREATE_TENANT, variables)
        return
    payload = await tenancy.call(CREATE_TENANT, variables, as_client=caller)
    expected_tenant = {"handle": "newco", "name": "New Co", "kind": "MERCHANT", "status": "ACTIVE"}
    assert payload == {"tenant": expected_tenant, "userErrors": []}
    assert await tenancy.call(TENANT, {"handle": "newco"}, as_client=caller) == expected_tenant


async def op_update_tenant(tenancy: Tenancy, caller: str, expected: str) -> None:
    variables = {"input": {"handle": "globex", "name": "Globex Renamed"}}
    if expected == FORBIDDEN:
        await expect_forbidden(tenancy, caller, UPDATE_TENANT, variables)
        return
    payload = await tenancy.call(UPDATE_TENANT, variables, as_client=caller)
    assert payload["userErrors"] == []
    assert payload["tenant"]["name"] == "Globex Renamed"
    tenant = await tenancy.call(TENANT, {"handle": "globex"}, as_client=caller)
    assert tenant["name"] == "Globex Renamed"


async def op_create_client_own(tenancy: Tenancy, caller: str, expected: str) -> None:
    own = tenant_of(caller)
    variables = {"input": {"clientId": f"{own}-new", "roles": [ROLE_FOR_TENANT[own]]}}
    if expected == FORBIDDEN:
        await expect_forbidden(tenancy, caller, CREATE_API_CLIENT, variables)
        return
    payload = await tenancy.call(CREATE_API_CLIENT, variables, as_client=caller)
    assert payload["userErrors"] == []
    client = payload["apiClient"]
    assert (client["clientId"], client["roles"], client["tenant"]["handle"]) == (
        f"{own}-new",
        [ROLE_FOR_TENANT[own]],
        own,
    )
    await secret_works(tenancy, f"{own}-new", payload["clientSecret"])
    assert f"{own}-new" in await tenancy.client_ids(as_client=caller)


async def op_create_client_other(tenancy: Tenancy, caller: str, expected: str) -> None:
    target = other_tenant(caller)

    def variables(tenant: str) -> dict[str, Any]:
        return {"input": {"clientId": "intruder", "roles": ["merchant_viewer"], "tenant": tenant}}

    if expected == FORBIDDEN:
        await expect_forbidden(tenancy, caller, CREATE_API_CLIENT, variables(target))
        return
    if expected == NOT_FOUND:
        await expect_not_found(
            tenancy,
            caller,
            CREATE_API_CLIENT,
            variables,
            target,
            MADE_UP_TENANT,
            ["input", "tenant"],
        )
        return
    payload = await tenancy.call(CREATE_API_CLIENT, variables(target), as_client=caller)
    assert payload["userErrors"] == []
    assert payload["apiClient"]["tenant"]["handle"] == target
    await secret_works(tenancy, "intruder", payload["clientSecret"])
    assert "intruder" in await tenancy.client_ids(target, as_client=caller)


async def _rotate_allowed(tenancy: Tenancy, caller: str, target: str) -> None:
    old_secret = await ensure_target(tenancy, target)
    assert (await tenancy.token_response(target, old_secret)).status_code == 200
    payload = await tenancy.call(ROTATE_SECRET, {"clientId": target}, as_client=caller)
    assert payload["userErrors"] == []
    assert payload["apiClient"]["clientId"] == target
    assert (await tenancy.token_response(target, old_secret)).status_code == 401
    await secret_works(tenancy, target, payload["clientSecret"])


async def op_rotate_own(tenancy: Tenancy, caller: str, expected: str) -> None:
    target = OWN_CLIENT[caller]
    if expected == FORBIDDEN:
        await expect_forbidden(tenancy, caller, ROTATE_SECRET, {"clientId": target})
        return
    await _rotate_allowed(tenancy, caller, target)


async def op_rotate_other(tenancy: Tenancy, caller: str, expected: str) -> None:
    target = other_client(caller)
    if expected == FORBIDDEN:
        await expect_forbidden(tenancy, caller, ROTATE_SECRET, {"clientId": target})
        return
    if expected == NOT_FOUND:
        await expect_not_found(
            tenancy,
            caller,
            ROTATE_SECRET,
            lambda c: {"clientId": c},
            target,
            MADE_UP_CLIENT,
            ["clientId"],
        )
        # The target's demo secret still works.
        assert (await tenancy.token_response(target)).status_code == 200
        return
    await _rotate_allowed(tenancy, caller, target)


async def _delete_allowed(tenancy: Tenancy, caller: str, target: str) -> None:
    target_tenant = tenant_of(target) if target in DEMO_CLIENTS else "ops"
    payload = await tenancy.call(DELETE_API_CLIENT, {"clientId": target}, as_client=caller)
    assert payload == {"deletedClientId": target, "userErrors": []}
    assert target not in await tenancy.client_ids(target_tenant, as_client=PLATFORM_ADMIN)


async def op_delete_own(tenancy: Tenancy, caller: str, expected: str) -> None:
    target = OWN_CLIENT[caller]
    if expected == FORBIDDEN:
        await expect_forbidden(tenancy, caller, DELETE_API_CLIENT, {"clientId": target})
        return
    await ensure_target(tenancy, target)
    await _delete_allowed(tenancy, caller, target)


async def op_delete_other(tenancy: Tenancy, caller: str, expected: str) -> None:
    target = other_client(caller)
    if expected == FORBIDDEN:
        await expect_forbidden(tenancy, caller, DELETE_API_CLIENT, {"clientId": target})
        return
    if expected == NOT_FOUND:
        await expect_not_found(
            tenancy,
            caller,
            DELETE_API_CLIENT,
            lambda c: {"clientId": c},
            target,
            MADE_UP_CLIENT,
            ["clientId"],
        )
        return
    await _delete_allowed(tenancy, caller, target)


OPERATIONS: dict[str, Callable[[Tenancy, str, str], Awaitable[None]]] = {
    "viewer": op_viewer,
    "tenants": op_tenants,
    "tenant(handle)": op_tenant,
    "apiClients": op_api_clients,
    'apiClients(tenant: "globex")': op_api_clients_of_globex,
    "createTenant": op_create_tenant,
    "updateTenant": op_update_tenant,
    "createApiClient(own tenant)": op_create_client_own,
    "createApiClient(other tenant)": op_create_client_other,
    "rotateApiClientSecret(own client)": op_rotate_own,
    "rotateApiClientSecret(other tenant's client)": op_rotate_other,
    "deleteApiClient(own client)": op_delete_own,
    "deleteApiClient(other tenant's client)": op_delete_other,
}

CASES = [
    pytest.param(client, operation, expected, id=f"{operation}-{client}-{expected}")
    for operation, row in MATRIX.items()
    for client, expected in row.items()
]


def test_matrix_covers_every_operation_and_demo_role() -> None:
    assert set(MATRIX) == set(OPERATIONS)
    roles = {role for _tenant, role in DEMO_CLIENTS.values()}
    assert roles == {
        "merchant_admin",
        "merchant_operator",
        "merchant_viewer",
        "partner_operator",
        "partner_admin",
        "platform_admin",
    }
    for row in MATRIX.values():
        assert set(row) == set(DEMO_CLIENTS)
    # The documents the matrix sends name the fields under test.
    fields = {root_field(d) for d in (API_CLIENTS, CREATE_TENANT, UPDATE_TENANT, TENANTS, TENANT)}
    assert fields == {"apiClients", "createTenant", "updateTenant", "tenants", "tenant"}


@pytest.mark.parametrize(("client", "operation", "expected"), CASES)
async def test_role_matrix(tenancy: Tenancy, client: str, operation: str, expected: str) -> None:
    await OPERATIONS[operation](tenancy, client, expected)
