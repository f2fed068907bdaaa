"""The velocity check reads the subject's own orders through an index, whatever the merchant's volume.

A statement the index cannot serve would still give the right counts, only by
reading every order of the merchant's last day for each new order; so the plan
itself is the thing to check, on a merchant with a busy day (2,000 orders, each
from its own customer to its own address) so that the planners weigh it as one.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import event, text

from oaas.db import Database
from oaas.orders.repository import orders
from oaas.settings import Settings
from tests.conftest import Api
from tests.orders.conftest import order_uuid
from tests.orders.documents import CREATE_ORDER, order_input

ADDRESS_INDEX = "ix_orders_tenant_address_created"
EMAIL_INDEX = "ix_orders_tenant_email_created"


BUSY_DAY = 2000
# Copies of one order, each its own customer and address, within the hour.
_COPIES = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count})
INSERT INTO orders ({columns})
SELECT {values} FROM n, orders AS o WHERE o.id = :id
"""


async def _busy_day(database: Any, order_id: UUID) -> None:
    """Copies the order BUSY_DAY times under new ids, numbers, emails and streets, as the
    tables' owner (the gateway's own logins are held by row-level security)."""
    postgres = database.dialect == "postgresql"
    changed = {
        "id": "gen_random_uuid()" if postgres else "lower(hex(randomblob(16)))",
        "number": "'BUSY-' || i",
        "customer_email": "'buyer' || i || '@example.com'",
        "ship_line1": "'Street ' || i",
    }
    async with database.write_engine.begin() as connection:
        columns = [c.name for c in orders.table.columns if c.computed is None]
        values = ", ".join(changed.get(c, f"o.{c}") for c in columns)
        await connection.execute(
            text(_COPIES.format(count=BUSY_DAY, columns=", ".join(columns), values=values)),
            {"id": order_id if postgres else order_id.hex},
        )
        if postgres:  # as autovacuum would; SQLite databases here never run ANALYZE
            await connection.exec_driver_sql("ANALYZE orders")


async def _velocity_plan(api: Api, settings: Settings, **order: Any) -> str:
    database = api.http._transport.app.state.components.database  # type: ignore[attr-defined]
    first = await api.data(CREATE_ORDER, {"input": order_input()}, as_client="acme-shop")
    owner = Database(settings.migrations_url)
    try:
        await _busy_day(owner, order_uuid(first["createOrder"]["order"]["id"]))  # type: ignore[index]
    finally:
        await owner.dispose()
    captured: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        if "orders.ship_line1_key" in statement and statement.lstrip().startswith("SELECT sum"):
            captured.append((statement, parameters))

    engines = {id(e): e for e in (database.read_engine, database.write_engine)}.values()
    for engine in engines:
        event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        data = await api.data(CREATE_ORDER, {"input": order_input(**order)}, as_client="acme-shop")
    finally:
        for engine in engines:
            event.remove(engine.sync_engine, "before_cursor_execute", record)
    assert data["createOrder"]["userErrors"] == []  # type: ignore[index]
    assert len(captured) == 1, captured
    statement, parameters = captured[0]
    async with database.read_engine.connect() as connection:
        if database.dialect == "postgresql":
            rows = await connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
        else:
            rows = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        return "\n".join(str(row[-1]) for row in rows)


async def test_without_an_email_the_address_index_serves_the_velocity(
    api: Api, settings: Settings
) -> None:
    plan = await _velocity_plan(api, settings, customerEmail=None)
    assert ADDRESS_INDEX in plan, plan


async def test_with_an_email_both_indexes_serve_the_velocity(api: Api, settings: Settings) -> None:
    plan = await _velocity_plan(api, settings, customerEmail="buyer@example.com")
    assert ADDRESS_INDEX in plan, plan
    assert EMAIL_INDEX in plan, plan
