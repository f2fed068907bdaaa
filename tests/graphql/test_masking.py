"""An unexpected failure answers INTERNAL_ERROR with the request id, never its details."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from oaas.settings import Settings
from tests.conftest import Api
from tests.orders.documents import ORDERS


async def test_a_broken_database_answers_internal_error_without_details(
    api: Api, settings: Settings
) -> None:
    await api.token("acme-backend")
    engine = create_async_engine(settings.migrations_url)
    async with engine.begin() as conn:
        await conn.execute(text("ALTER TABLE orders RENAME TO orders_gone"))
    await engine.dispose()
    response = await api.graphql(
        ORDERS, {"first": 5}, as_client="acme-backend", headers={"X-Request-Id": "req-42"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["errors"], body
    for error in body["errors"]:
        assert error["message"] == "Internal server error"
        assert error["extensions"]["code"] == "INTERNAL_ERROR"
        assert error["extensions"]["requestId"] == "req-42"
    assert "orders_gone" not in response.text
    assert "SELECT" not in response.text
