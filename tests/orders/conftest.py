"""Direct database access for what the API cannot do: age idempotency keys, put
orders in states no mutation reaches yet (ROUTED, ON_HOLD), count rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from uuid import UUID

import pytest
from sqlalchemy import func, select, update

from oaas.db import SYSTEM_SCOPE, Database
from oaas.graphql.ids import from_global_id
from oaas.orders.repository import idempotency_keys, orders
from oaas.settings import Settings


def order_uuid(global_id: str) -> UUID:
    value = from_global_id("Order", global_id)
    assert value is not None, global_id
    return value


class Db:
    """The test database, beside the app's own engines."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def set_status(self, order_id: str, status: str) -> None:
        async with self.database.session(write=True, scope=SYSTEM_SCOPE) as session:
            await session.execute(
                update(orders.model)
                .where(orders.c.id == order_uuid(order_id))
                .values(status=status)
            )

    async def set_key_expiry(self, key: str, expires_at: datetime) -> int:
        """Moves the expiry of every tenant's `key`; answers how many rows it touched."""
        async with self.database.session(write=True, scope=SYSTEM_SCOPE) as session:
            result = await session.execute(
                update(idempotency_keys.model)
                .where(idempotency_keys.c.key == key)
                .values(expires_at=expires_at)
            )
            count: int = result.rowcount  # type: ignore[attr-defined]
            return count

    async def keys(self) -> list[tuple[str, datetime, datetime]]:
        """(key, created_at, expires_at) of every stored idempotency key."""
        async with self.database.session(write=False, scope=SYSTEM_SCOPE) as session:
            rows = await session.execute(
                select(
                    idempotency_keys.c.key,
                    idempotency_keys.c.created_at,
                    idempotency_keys.c.expires_at,
                ).order_by(idempotency_keys.c.key)
            )
            return [(row.key, row.created_at, row.expires_at) for row in rows]

    async def order_count(self) -> int:
        async with self.database.session(write=False, scope=SYSTEM_SCOPE) as session:
            count = (
                await session.execute(select(func.count()).select_from(orders.model))
            ).scalar_one()
            return int(count)


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Db]:
    database = Database(settings.migrations_url)
    try:
        yield Db(database)
    finally:
        await database.dispose()
