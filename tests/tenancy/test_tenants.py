"""Tenants over GraphQL as a platform admin: creating, updating, suspending, listing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tenancy.helpers import (
    DEMO_TENANTS,
    PLATFORM_ADMIN,
    TENANT,
    TENANTS,
    Tenancy,
)


async def test_create_tenant(tenancy: Tenancy) -> None:
    payload = await tenancy.create_tenant("fastfreight", "Fast Freight", "PARTNER")
    tenant = {
        "handle": "fastfreight",
        "name": "Fast Freight",
        "kind": "PARTNER",
        "status": "ACTIVE",
    }
    assert payload == {"tenant": tenant, "userErrors": []}
    assert await tenancy.call(TENANT, {"handle": "fastfreight"}, as_client=PLATFORM_ADMIN) == tenant
    assert "fastfreight" in await tenancy.tenant_handles()
    # Its clients are managed like any tenant's.
    created = await tenancy.create_client(
        "fastfreight-tms", ["partner_operator"], tenant="fastfreight", as_client=PLATFORM_ADMIN
    )
    assert created["userErrors"] == []
    assert await tenancy.client_ids("fastfreight", as_client=PLATFORM_ADMIN) == ["fastfreight-tms"]


async def test_unknown_tenant_is_null(tenancy: Tenancy) -> None:
    assert await tenancy.call(TENANT, {"handle": "nobody"}, as_client=PLATFORM_ADMIN) is None


async def expect_tenant_errors(
    tenancy: Tenancy, make: bool, variables_input: dict[str, Any]
) -> list[tuple[str, list[str] | None]]:
    """The userErrors (code, field) of a createTenant (make) or updateTenant that changed nothing."""
    before = await tenancy.state()
    if make:
        payload = await tenancy.create_tenant(**variables_input)
    else:
        payload = await tenancy.update_tenant(**variables_input)
    assert payload["tenant"] is None
    assert payload["userErrors"]
    assert all(e["message"] for e in payload["userErrors"])
    assert await tenancy.state() == before
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


@pytest.mark.parametrize(
    "handle",
    ["Acme2", "has space", "-lead", "trail-", "under_score", "x" * 64, "", "ünï"],
)
async def test_bad_handle_is_invalid(tenancy: Tenancy, handle: str) -> None:
    errors = await expect_tenant_errors(tenancy, True, {"handle": handle, "name": "Some Name"})
    assert errors == [("INVALID", ["input", "handle"])]


@pytest.mark.parametrize("name", ["", "   ", "x" * 201, "tab\there"])
async def test_bad_name_is_invalid(tenancy: Tenancy, name: str) -> None:
    errors = await expect_tenant_errors(tenancy, True, {"handle": "newco", "name": name})
    assert errors == [("INVALID", ["input", "name"])]


async def test_every_bad_field_is_reported(tenancy: Tenancy) -> None:
    errors = await expect_tenant_errors(tenancy, True, {"handle": "Bad!", "name": " "})
    assert errors == [("INVALID", ["input", "handle"]), ("INVALID", ["input", "name"])]


@pytest.mark.parametrize("handle", ["acme", "ops"])
async def test_duplicate_handle_is_taken(tenancy: Tenancy, handle: str) -> None:
    errors = await expect_tenant_errors(
        tenancy, True, {"handle": handle, "name": "Copycat", "kind": "PARTNER"}
    )
    assert errors == [("TAKEN", ["input", "handle"])]


async def test_limits_are_accepted(tenancy: Tenancy) -> None:
    payload = await tenancy.create_tenant("a" * 63, "N" * 200)
    assert payload["userErrors"] == []
    assert payload["tenant"]["handle"] == "a" * 63
    single = await tenancy.create_tenant("z", "Z")
    assert single["userErrors"] == []


async def test_update_tenant_name(tenancy: Tenancy) -> None:
    payload = await tenancy.update_tenant("acme", name="Acme Appliances Ltd")
    assert payload["userErrors"] == []
    assert payload["tenant"] == {
        "handle": "acme",
        "name": "Acme Appliances Ltd",
        "kind": "MERCHANT",
        "status": "ACTIVE",
    }
    assert (await tenancy.call(TENANT, {"handle": "acme"}, as_client=PLATFORM_ADMIN))[
        "name"
    ] == "Acme Appliances Ltd"
    # Nothing to change is no error.
    same = await tenancy.update_tenant("acme", name="Acme Appliances Ltd")
    assert same["userErrors"] == []


@pytest.mark.parametrize("name", ["", "  ", "x" * 201])
async def test_update_with_bad_name_is_invalid(tenancy: Tenancy, name: str) -> None:
    errors = await expect_tenant_errors(tenancy, False, {"handle": "acme", "name": name})
    assert errors == [("INVALID", ["input", "name"])]


async def test_update_unknown_tenant_is_not_found(tenancy: Tenancy) -> None:
    errors = await expect_tenant_errors(tenancy, False, {"handle": "nobody", "name": "X"})
    assert errors == [("NOT_FOUND", ["input", "handle"])]


async def test_suspend_and_reactivate(tenancy: Tenancy) -> None:
    acme_token = await tenancy.api.token("acme-backend")
    shop_token = await tenancy.api.token("acme-shop")
    globex_token = await tenancy.api.token("globex-backend")
    assert await tenancy.status_with(acme_token) == 200

    payload = await tenancy.update_tenant("acme", status="SUSPENDED")
    assert payload["userErrors"] == []
    assert payload["tenant"]["status"] == "SUSPENDED"

    # Every token of the tenant is refused on the very next request; no new ones are issued.
    assert await tenancy.status_with(acme_token) == 401
    assert await tenancy.status_with(shop_token) == 401
    refused = await tenancy.token_response("acme-backend")
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"
    # Other tenants carry on, and the platform still sees the suspended tenant.
    assert await tenancy.status_with(globex_token) == 200
    tenant = await tenancy.call(TENANT, {"handle": "acme"}, as_client=PLATFORM_ADMIN)
    assert tenant["status"] == "SUSPENDED"

    payload = await tenancy.update_tenant("acme", status="ACTIVE")
    assert payload["userErrors"] == []
    assert payload["tenant"]["status"] == "ACTIVE"
    assert await tenancy.status_with(acme_token) == 200
    assert await tenancy.status_with(shop_token) == 200
    assert (await tenancy.token_response("acme-backend")).status_code == 200


async def test_platform_admin_cannot_suspend_its_own_tenant(tenancy: Tenancy) -> None:
    errors = await expect_tenant_errors(
        tenancy, False, {"handle": "ops", "status": "SUSPENDED", "name": "Renamed Ops"}
    )
    assert errors == [("INVALID", ["input", "status"])]
    assert await tenancy.status_with(await tenancy.api.token(PLATFORM_ADMIN)) == 200
    # Renaming it is fine.
    payload = await tenancy.update_tenant("ops", name="Platform Ops")
    assert payload["userErrors"] == []


async def test_tenants_pagination(tenancy: Tenancy) -> None:
    created = ["m-2", "b1", "zz-top", "m-10", "aaa"]
    for handle in created:
        payload = await tenancy.create_tenant(handle, f"Tenant {handle}")
        assert payload["userErrors"] == []
    expected = sorted([*DEMO_TENANTS, *created])

    seen: list[str] = []
    after: str | None = None
    pages = 0
    while True:
        page = await tenancy.call(TENANTS, {"first": 2, "after": after}, as_client=PLATFORM_ADMIN)
        pages += 1
        edges, info = page["edges"], page["pageInfo"]
        assert 1 <= len(edges) <= 2
        seen.extend(e["node"]["handle"] for e in edges)
        assert info["hasPreviousPage"] is (after is not None)
        assert info["startCursor"] == edges[0]["cursor"]
        assert info["endCursor"] == edges[-1]["cursor"]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
        assert pages < 10
    assert seen == expected
    assert pages == (len(expected) + 1) // 2

    # One page holding everything, and the page after the last one is empty.
    everything = await tenancy.call(TENANTS, {"first": 100}, as_client=PLATFORM_ADMIN)
    assert [e["node"]["handle"] for e in everything["edges"]] == expected
    assert everything["pageInfo"]["hasNextPage"] is False
    last = everything["pageInfo"]["endCursor"]
    beyond = await tenancy.call(TENANTS, {"first": 2, "after": last}, as_client=PLATFORM_ADMIN)
    assert beyond["edges"] == []
    assert beyond["pageInfo"]["hasNextPage"] is False


async def test_tenants_page_size_is_capped_and_bad_cursor_is_empty(tenancy: Tenancy) -> None:
    for index in range(3):
        assert (await tenancy.create_tenant(f"cap-{index}", "Cap"))["userErrors"] == []
    capped = await tenancy.call(TENANTS, {"first": 1000}, as_client=PLATFORM_ADMIN)
    assert len(capped["edges"]) == len(DEMO_TENANTS) + 3
    none = await tenancy.call(TENANTS, {"first": 0}, as_client=PLATFORM_ADMIN)
    assert none["edges"] == []
    assert none["pageInfo"]["hasNextPage"] is True
    garbage = await tenancy.call(
        TENANTS, {"first": 5, "after": "not a cursor!"}, as_client=PLATFORM_ADMIN
    )
    assert garbage["edges"] == []
