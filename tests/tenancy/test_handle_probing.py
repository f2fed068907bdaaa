"""No answer tells a caller which tenant handles or client ids exist beyond what it may
see, nor what kind of tenant a handle names: each tenant (or client) it may not act on
gets, byte for byte, the answer of a made-up one."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.audit.test_audit_log import AUDIT
from tests.conftest import Api
from tests.routing.documents import (
    NODES,
    PUT_NODE,
    SET_RISK_PROFILE,
    SET_ROUTING_PROFILE,
    SET_STOCK,
    node_input,
)
from tests.sharing.test_partner_access import GRANT

MADE_UP = "nobody"
API_CLIENTS = "query Clients($tenant: String) { apiClients(tenant: $tenant) { clientId } }"
SLA_REPORT = "query Sla($tenant: String) { slaReport(tenant: $tenant) { tenants { tenant } } }"
USER_ERRORS = "userErrors { field message code }"
CREATE_CLIENT = f"""mutation Create($input: CreateApiClientInput!) {{
  createApiClient(input: $input) {{ apiClient {{ clientId }} clientSecret {USER_ERRORS} }} }}"""
ROTATE = f"""mutation Rotate($id: String!) {{
  rotateApiClientSecret(clientId: $id) {{ clientSecret {USER_ERRORS} }} }}"""
DELETE = f"""mutation Delete($id: String!) {{
  deleteApiClient(clientId: $id) {{ deletedClientId {USER_ERRORS} }} }}"""


def grant(partner: str) -> dict[str, Any]:
    return {"input": {"partner": partner, "profile": "LOGISTICS", "actions": ["READ"]}}


def stock(merchant: str) -> dict[str, Any]:
    return {"input": {"merchant": merchant, "levels": [{"node": "N-1", "sku": "S-1", "onHand": 1}]}}


def node(merchant: str) -> dict[str, Any]:
    return {"input": node_input("N-1", merchant=merchant)}


def merchant_input(merchant: str) -> dict[str, Any]:
    return {"input": {"merchant": merchant}}


def client_input(tenant: str) -> dict[str, Any]:
    return {"input": {"clientId": "probe-client", "roles": ["merchant_viewer"], "tenant": tenant}}


# (caller, document, variables for a handle, the real handles that must read as made up)
PROBES: dict[str, tuple[str, str, Any, tuple[str, ...]]] = {
    "grantOrderAccess partner": (
        "acme-backend",
        GRANT,
        grant,
        ("globex", "acme", "ops"),
    ),
    "setStockLevels merchant, by a merchant": (
        "acme-shop",
        SET_STOCK,
        stock,
        ("globex", "swiftship", "ops"),
    ),
    "setStockLevels merchant, by a partner": (
        "swiftship-tms",
        SET_STOCK,
        stock,
        ("globex", "swiftship", "ops"),
    ),
    "putFulfillmentNode merchant, by a merchant": (
        "acme-backend",
        PUT_NODE,
        node,
        ("globex", "swiftship", "ops"),
    ),
    "putFulfillmentNode merchant, by a partner": (
        "swiftship-admin",
        PUT_NODE,
        node,
        ("globex", "swiftship", "ops"),
    ),
    "setRoutingProfile merchant": (
        "acme-backend",
        SET_ROUTING_PROFILE,
        merchant_input,
        ("globex", "swiftship", "ops"),
    ),
    "setRiskProfile merchant": (
        "acme-backend",
        SET_RISK_PROFILE,
        merchant_input,
        ("globex", "swiftship", "ops"),
    ),
    "createApiClient tenant": (
        "acme-backend",
        CREATE_CLIENT,
        client_input,
        ("globex", "swiftship", "ops"),
    ),
    "rotateApiClientSecret": (
        "acme-backend",
        ROTATE,
        lambda client: {"id": client},
        ("globex-backend", "swiftship-tms", "ops-admin"),
    ),
    "deleteApiClient": (
        "acme-backend",
        DELETE,
        lambda client: {"id": client},
        ("globex-backend", "swiftship-tms", "ops-admin"),
    ),
    "fulfillmentNodes merchant": (
        "swiftship-tms",
        NODES,
        lambda merchant: {"merchant": merchant},
        ("globex", "swiftship", "ops"),
    ),
    "slaReport tenant": (
        "acme-backend",
        SLA_REPORT,
        lambda tenant: {"tenant": tenant},
        ("globex", "swiftship", "ops"),
    ),
    "apiClients tenant": (
        "acme-backend",
        API_CLIENTS,
        lambda tenant: {"tenant": tenant},
        ("globex", "swiftship", "ops"),
    ),
    "auditLog tenant": (
        "swiftship-admin",
        AUDIT,
        lambda tenant: {"tenant": tenant},
        ("acme", "globex", "ops"),
    ),
}


async def answer(api: Api, client: str, document: str, variables: dict[str, Any]) -> str:
    """The answer's data and errors as sent (the cost meter's extensions aside)."""
    response = await api.graphql(document, variables, as_client=client)
    assert response.status_code == 200, response.text
    body = response.json()
    return json.dumps({"data": body.get("data"), "errors": body.get("errors")})


@pytest.mark.parametrize("probe", PROBES)
async def test_a_handle_the_caller_may_not_see_reads_as_a_made_up_one(api: Api, probe: str) -> None:
    client, document, variables, real = PROBES[probe]
    made_up = await answer(api, client, document, variables(MADE_UP))
    assert MADE_UP not in made_up
    for handle in real:
        assert await answer(api, client, document, variables(handle)) == made_up, handle
