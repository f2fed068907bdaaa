"""GraphQL documents and a small client for tenant administration tests."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import DEMO_SECRET, Api

DEMO_TENANTS = ("acme", "globex", "ops", "swiftship")
PLATFORM_ADMIN = "ops-admin"


USER_ERRORS = "userErrors { field message code }"
API_CLIENT_FIELDS = "clientId roles tenant { handle } createdAt updatedAt"
TENANT_FIELDS = "handle name kind status"

VIEWER = "query { viewer { tenant { handle } clientId roles scopes } }"
TENANTS = f"""
query ($first: Int, $after: String) {{
  tenants(first: $first, after: $after) {{
    edges {{ cursor node {{ {TENANT_FIELDS} }} }}
    pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
  }}
}}"""
TENANT = f"query ($handle: String!) {{ tenant(handle: $handle) {{ {TENANT_FIELDS} }} }}"
API_CLIENTS = f"query ($tenant: String) {{ apiClients(tenant: $tenant) {{ {API_CLIENT_FIELDS} }} }}"

CREATE_TENANT = f"""
mutation ($input: CreateTenantInput!) {{
  createTenant(input: $input) {{ tenant {{ {TENANT_FIELDS} }} {USER_ERRORS} }}
}}"""
UPDATE_TENANT = f"""
mutation ($input: UpdateTenantInput!) {{
  updateTenant(input: $input) {{ tenant {{ {TENANT_FIELDS} }} {USER_ERRORS} }}
}}"""
CREATE_API_CLIENT = f"""
mutation ($input: CreateApiClientInput!) {{
  createApiClient(input: $input) {{
    apiClient {{ {API_CLIENT_FIELDS} }} clientSecret {USER_ERRORS}
  }}
}}"""
ROTATE_SECRET = f"""
mutation ($clientId: String!) {{
  rotateApiClientSecret(clientId: $clientId) {{
    apiClient {{ {API_CLIENT_FIELDS} }} clientSecret {USER_ERRORS}
  }}
}}"""
DELETE_API_CLIENT = f"""
mutation ($clientId: String!) {{
  deleteApiClient(clientId: $clientId) {{ deletedClientId {USER_ERRORS} }}
}}"""


def root_field(document: str) -> str:
    """The first root field a document selects (the helpers' documents have one)."""
    body = document.split("{", 1)[1].strip()
    name = ""
    for ch in body:
        if not (ch.isalnum() or ch == "_"):
            break
        name += ch
    return name


class Tenancy:
    """Tenant administration over the real HTTP app."""

    def __init__(self, api: Api) -> None:
        self.api = api

    async def call(self, document: str, variables: dict[str, Any], *, as_client: str) -> Any:
        """The one root field's answer of a call that must not raise GraphQL errors."""
        data = await self.api.data(document, variables, as_client=as_client)
        return data[root_field(document)]

    async def forbidden(
        self,
        document: str,
        variables: dict[str, Any],
        *,
        as_client: str | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        """Asserts the call fails as a whole with one FORBIDDEN error on its field."""
        field = root_field(document)
        response = await self.api.graphql(document, variables, as_client=as_client, token=token)
        assert response.status_code == 200, response.text
        body = response.json()
        errors = body.get("errors")
        assert errors, body
        assert [e.get("extensions", {}).get("code") for e in errors] == ["FORBIDDEN"], errors
        assert errors[0]["path"] == [field], errors
        if document.lstrip().startswith("mutation"):
            # Mutation payloads are non-null: the null reaches `data` itself.
            assert body["data"] is None, body
        else:
            assert body["data"] == {field: None}, body
        result: dict[str, Any] = body
        return result

    async def token_response(
        self, client_id: str, secret: str = DEMO_SECRET, scope: str | None = None
    ) -> httpx.Response:
        """A fresh token request, never cached."""
        form = {"grant_type": "client_credentials"}
        if scope is not None:
            form["scope"] = scope
        return await self.api.http.post("/oauth/token", data=form, auth=(client_id, secret))

    async def new_token(self, client_id: str, secret: str, scope: str | None = None) -> str:
        response = await self.token_response(client_id, secret, scope)
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    async def status_with(self, token: str) -> int:
        """The HTTP status of a `viewer` query made with this bearer token."""
        response = await self.api.graphql(VIEWER, token=token)
        if response.status_code == 401:
            assert "invalid_token" in response.headers["www-authenticate"]
        return response.status_code

    async def client_ids(self, tenant: str | None = None, *, as_client: str) -> list[str]:
        clients = await self.call(API_CLIENTS, {"tenant": tenant}, as_client=as_client)
        return [c["clientId"] for c in clients]

    async def tenant_handles(self) -> list[str]:
        page = await self.call(TENANTS, {"first": 100}, as_client=PLATFORM_ADMIN)
        return [edge["node"]["handle"] for edge in page["edges"]]

    async def state(self) -> dict[str, Any]:
        """Every tenant and every API client, as a platform admin sees them."""
        page = await self.call(TENANTS, {"first": 100}, as_client=PLATFORM_ADMIN)
        tenants = [edge["node"] for edge in page["edges"]]
        clients = {
            t["handle"]: await self.call(
                API_CLIENTS, {"tenant": t["handle"]}, as_client=PLATFORM_ADMIN
            )
            for t in tenants
        }
        return {"tenants": tenants, "clients": clients}

    async def create_client(
        self, client_id: str, roles: list[str], *, as_client: str, tenant: str | None = None
    ) -> dict[str, Any]:
        payload: dict[str, Any] = await self.call(
            CREATE_API_CLIENT,
            {"input": {"clientId": client_id, "roles": roles, "tenant": tenant}},
            as_client=as_client,
        )
        return payload

    async def create_tenant(
        self, handle: str, name: str, kind: str = "MERCHANT", *, as_client: str = PLATFORM_ADMIN
    ) -> dict[str, Any]:
        payload: dict[str, Any] = await self.call(
            CREATE_TENANT,
            {"input": {"handle": handle, "name": name, "kind": kind}},
            as_client=as_client,
        )
        return payload

    async def update_tenant(
        self, handle: str, *, as_client: str = PLATFORM_ADMIN, **changes: str
    ) -> dict[str, Any]:
        payload: dict[str, Any] = await self.call(
            UPDATE_TENANT, {"input": {"handle": handle, **changes}}, as_client=as_client
        )
        return payload

    async def rotate(self, client_id: str, *, as_client: str) -> dict[str, Any]:
        payload: dict[str, Any] = await self.call(
            ROTATE_SECRET, {"clientId": client_id}, as_client=as_client
        )
        return payload

    async def delete(self, client_id: str, *, as_client: str) -> dict[str, Any]:
        payload: dict[str, Any] = await self.call(
            DELETE_API_CLIENT, {"clientId": client_id}, as_client=as_client
        )
        return payload


def only_error(payload: dict[str, Any]) -> dict[str, Any]:
    """The single userError of a payload whose other fields are all null."""
    errors = payload["userErrors"]
    assert len(errors) == 1, payload
    assert all(value is None for key, value in payload.items() if key != "userErrors"), payload
    error: dict[str, Any] = errors[0]
    assert error["message"], error
    return error
