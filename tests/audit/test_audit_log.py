"""Administrative acts land in the audit log of the tenant they concern."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api

AUDIT = """
query($tenant: String) { auditLog(first: 50, tenant: $tenant) {
  edges { node { actor act objectType objectId detail tenant { handle } } } } }"""
CREATE_CLIENT = """
mutation($input: CreateApiClientInput!) { createApiClient(input: $input) {
  apiClient { clientId } clientSecret userErrors { code } } }"""
ROTATE = "mutation($id: String!) { rotateApiClientSecret(clientId: $id) { clientSecret userErrors { code } } }"
DELETE = "mutation($id: String!) { deleteApiClient(clientId: $id) { deletedClientId userErrors { code } } }"
UPDATE_TENANT = """
mutation($input: UpdateTenantInput!) { updateTenant(input: $input) { tenant { name } userErrors { code } } }"""


async def _entries(api: Api, client: str, tenant: str | None = None) -> list[dict[str, Any]]:
    data = await api.data(AUDIT, {"tenant": tenant}, as_client=client)
    return [edge["node"] for edge in data["auditLog"]["edges"]]  # type: ignore[index]


async def test_client_and_tenant_changes_are_audited(api: Api) -> None:
    created = await api.data(
        CREATE_CLIENT,
        {"input": {"clientId": "acme-audit", "roles": ["merchant_viewer"]}},
        as_client="acme-backend",
    )
    secret = created["createApiClient"]["clientSecret"]  # type: ignore[index]
    await api.data(ROTATE, {"id": "acme-audit"}, as_client="acme-backend")
    await api.data(DELETE, {"id": "acme-audit"}, as_client="acme-backend")
    await api.data(
        UPDATE_TENANT,
        {"input": {"handle": "acme", "name": "Acme Appliances Ltd"}},
        as_client="ops-admin",
    )
    entries = await _entries(api, "acme-backend")
    acts = [(e["act"], e["objectId"], e["actor"]) for e in entries]
    assert acts[:4] == [
        ("tenant.updated", "acme", "ops/ops-admin"),
        ("client.deleted", "acme-audit", "acme/acme-backend"),
        ("client.updated", "acme-audit", "acme/acme-backend"),
        ("client.created", "acme-audit", "acme/acme-backend"),
    ]
    assert entries[0]["detail"] == {
        "name": {"from": "Acme Appliances", "to": "Acme Appliances Ltd"}
    }
    assert entries[3]["detail"] == {"roles": ["merchant_viewer"]}
    assert secret not in str(entries)
    # Another merchant sees none of it; the platform admin sees it all.
    assert all(e["tenant"]["handle"] == "globex" for e in await _entries(api, "globex-backend"))
    assert {e["tenant"]["handle"] for e in await _entries(api, "ops-admin", "acme")} == {"acme"}


async def test_another_tenants_log_is_not_found_as_an_unknown_one(api: Api) -> None:
    answers = [
        (await api.graphql(AUDIT, {"tenant": tenant}, as_client="acme-backend")).json()
        for tenant in ("globex", "nobody")
    ]
    for body in answers:
        assert body["data"] is None, body
        assert [(e["path"], e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
            (["auditLog"], "no such tenant", "NOT_FOUND")
        ], body
        assert body["errors"][0]["extensions"]["field"] == ["tenant"]
