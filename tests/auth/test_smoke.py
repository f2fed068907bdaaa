from tests.conftest import Api


async def test_viewer_over_http(api: Api) -> None:
    data = await api.data(
        "{ viewer { tenant { handle kind status } clientId roles scopes } }", as_client="acme-shop"
    )
    assert data["viewer"] == {
        "tenant": {"handle": "acme", "kind": "MERCHANT", "status": "ACTIVE"},
        "clientId": "acme-shop",
        "roles": ["merchant_operator"],
        "scopes": ["fulfillment:write", "inventory:write", "orders:read", "orders:write"],
    }
