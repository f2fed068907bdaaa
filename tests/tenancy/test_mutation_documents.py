"""Several mutation fields in one document: each commits or changes nothing on its own."""

from __future__ import annotations

from tests.conftest import DEMO_SECRET
from tests.tenancy.helpers import PLATFORM_ADMIN, TENANT, Tenancy

USER_ERRORS = "userErrors { field code }"


async def test_first_field_commits_when_the_second_fails(tenancy: Tenancy) -> None:
    # The second field renames ops before it finds that ops may not suspend itself:
    # that rename must not survive, while the first field's new tenant does.
    document = f"""
    mutation {{
      first: createTenant(input: {{handle: "first-co", name: "First Co", kind: MERCHANT}}) {{
        tenant {{ handle }} {USER_ERRORS}
      }}
      second: updateTenant(input: {{handle: "ops", name: "Renamed Ops", status: SUSPENDED}}) {{
        tenant {{ handle }} {USER_ERRORS}
      }}
    }}"""
    data = await tenancy.api.data(document, as_client=PLATFORM_ADMIN)
    assert data == {
        "first": {"tenant": {"handle": "first-co"}, "userErrors": []},
        "second": {
            "tenant": None,
            "userErrors": [{"field": ["input", "status"], "code": "INVALID"}],
        },
    }
    first = await tenancy.call(TENANT, {"handle": "first-co"}, as_client=PLATFORM_ADMIN)
    assert first["name"] == "First Co"
    ops = await tenancy.call(TENANT, {"handle": "ops"}, as_client=PLATFORM_ADMIN)
    assert (ops["name"], ops["status"]) == ("Platform Operations", "ACTIVE")


async def test_secret_rotation_commits_beside_a_failed_client_creation(tenancy: Tenancy) -> None:
    before = await tenancy.client_ids(as_client="acme-backend")
    document = f"""
    mutation {{
      rotate: rotateApiClientSecret(clientId: "acme-shop") {{ clientSecret {USER_ERRORS} }}
      create: createApiClient(input: {{clientId: "acme-extra", roles: ["partner_operator"]}}) {{
        apiClient {{ clientId }} clientSecret {USER_ERRORS}
      }}
      duplicate: createApiClient(input: {{clientId: "acme-reports", roles: ["merchant_viewer"]}}) {{
        apiClient {{ clientId }} clientSecret {USER_ERRORS}
      }}
    }}"""
    data = await tenancy.api.data(document, as_client="acme-backend")
    rotate, create, duplicate = data["rotate"], data["create"], data["duplicate"]
    assert rotate["userErrors"] == []  # type: ignore[index]
    assert create == {
        "apiClient": None,
        "clientSecret": None,
        "userErrors": [{"field": ["input", "roles", "0"], "code": "INVALID"}],
    }
    assert duplicate == {
        "apiClient": None,
        "clientSecret": None,
        "userErrors": [{"field": ["input", "clientId"], "code": "TAKEN"}],
    }
    # The rotation is committed: the demo secret is gone, the new one works.
    assert (await tenancy.token_response("acme-shop", DEMO_SECRET)).status_code == 401
    new_secret = rotate["clientSecret"]  # type: ignore[index]
    assert (await tenancy.token_response("acme-shop", new_secret)).status_code == 200
    # The failed creations left nothing.
    assert await tenancy.client_ids(as_client="acme-backend") == before


async def test_a_later_success_follows_an_earlier_failure(tenancy: Tenancy) -> None:
    document = f"""
    mutation {{
      bad: createTenant(input: {{handle: "acme", name: "Again", kind: MERCHANT}}) {{
        tenant {{ handle }} {USER_ERRORS}
      }}
      good: createTenant(input: {{handle: "second-co", name: "Second Co", kind: PARTNER}}) {{
        tenant {{ handle kind }} {USER_ERRORS}
      }}
    }}"""
    data = await tenancy.api.data(document, as_client=PLATFORM_ADMIN)
    assert data["bad"] == {
        "tenant": None,
        "userErrors": [{"field": ["input", "handle"], "code": "TAKEN"}],
    }
    assert data["good"] == {"tenant": {"handle": "second-co", "kind": "PARTNER"}, "userErrors": []}
    acme = await tenancy.call(TENANT, {"handle": "acme"}, as_client=PLATFORM_ADMIN)
    assert acme["name"] == "Acme Appliances"
    assert await tenancy.call(TENANT, {"handle": "second-co"}, as_client=PLATFORM_ADMIN)


async def test_a_forbidden_field_that_nulls_data_leaves_nothing_behind(tenancy: Tenancy) -> None:
    document = f"""
    mutation {{
      made: createApiClient(input: {{clientId: "acme-orphan", roles: ["merchant_viewer"]}}) {{
        clientSecret {USER_ERRORS}
      }}
      refused: createTenant(input: {{handle: "not-yours", name: "Nope", kind: MERCHANT}}) {{
        tenant {{ handle }} {USER_ERRORS}
      }}
    }}"""
    body = (await tenancy.api.graphql(document, as_client="acme-backend")).json()
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert "acme-orphan" not in await tenancy.client_ids(as_client="acme-backend")
