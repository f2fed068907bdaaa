"""The first wall: oaas.db.scoping limits every statement, on SQLite and PostgreSQL.

The test database connects as its owner, so PostgreSQL's row-level security
does not apply here: what keeps tenants apart below is the application's own
scoping alone. A query with no tenant filter at all, through a scoped session,
returns only what the scope may see, for every tenant-owned table.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import Table, bindparam, delete, func, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from oaas.db import (
    SYSTEM_SCOPE,
    Database,
    PreparedQuery,
    RowScope,
    UnscopedStatementError,
    Visibility,
    entity_table,
    run_insert,
)
from oaas.db.base import metadata
from oaas.db.scoping import tenant_owned_models
from oaas.orders.models import Order, OrderEvent, OrderLine
from oaas.orders.repository import orders
from oaas.policy import Principal, TenantKind
from oaas.settings import Settings
from oaas.sharing.visibility import row_scope
from tests.conftest import Api
from tests.orders.documents import CREATE_ORDER, order_input
from tests.routing.documents import put_node, set_stock


def _principal(tenant_id: UUID, kind: TenantKind, roles: tuple[str, ...]) -> Principal:
    return Principal(
        tenant_id=tenant_id,
        tenant_handle="scoping-test",
        tenant_kind=kind,
        client_id="scoping-test",
        roles=frozenset(roles),
        scopes=frozenset({"orders:read"}),
    )


@pytest.fixture
async def database(api: Api, settings: Settings) -> Database:
    """Orders of acme (two) and globex (one), with nodes, stock, routing decisions, risk
    assessments and audit rows, made through the API."""
    for merchant, admin in (("ACME", "acme-backend"), ("GLOBEX", "globex-backend")):
        await put_node(api, f"{merchant}-1", as_client=admin)
        await set_stock(api, [(f"{merchant}-1", "KETTLE-1", 10)], as_client=admin)
    await put_node(api, "SWIFT-1", as_client="swiftship-admin", merchant="acme")
    for client in ("acme-shop", "globex-shop", "acme-shop"):
        data = await api.data(CREATE_ORDER, {"input": order_input()}, as_client=client)
        assert data["createOrder"]["userErrors"] == []  # type: ignore[index]
    return Database(settings.migrations_url)


async def _tenants(database: Database) -> dict[str, UUID]:
    async with database.session(write=False, scope=SYSTEM_SCOPE) as session:
        tenants = metadata.tables["tenants"]
        rows = await session.execute(select(tenants.c.handle, tenants.c.id))
        return {row.handle: row.id for row in rows}


async def _owners(session: AsyncSession, model: type[Any]) -> set[UUID]:
    rows = (await session.execute(select(model))).scalars()
    return {row.tenant_id for row in rows}


async def test_every_table_with_a_tenant_column_declares_its_visibility() -> None:
    declared = {model.__tablename__ for model, _ in tenant_owned_models()}
    with_tenant_column = {
        name for name, table in metadata.tables.items() if "tenant_id" in table.columns
    }
    assert with_tenant_column == declared


async def test_a_merchant_scope_sees_only_its_own_rows(database: Database) -> None:
    tenants = await _tenants(database)
    scope = RowScope("tenant", tenants["acme"])
    try:
        async with database.session(write=False, scope=scope) as session:
            for model, _ in tenant_owned_models():
                assert await _owners(session, model) <= {tenants["acme"]}, model
            assert await _owners(session, Order) == {tenants["acme"]}
            count = (await session.execute(select(func.count()).select_from(Order))).scalar()
            assert count == 2
    finally:
        await database.dispose()


async def test_a_partner_scope_sees_granted_order_data_and_its_own_rows(
    database: Database,
) -> None:
    tenants = await _tenants(database)
    partner = _principal(tenants["swiftship"], TenantKind.PARTNER, ("partner_operator",))
    try:
        async with database.session(write=False, scope=row_scope(partner)) as session:
            for model, visibility in tenant_owned_models():
                seen = await _owners(session, model)
                if visibility is Visibility.ORDER_DATA:
                    assert seen <= {tenants["acme"]}, model  # acme shares, globex does not
                elif visibility is Visibility.MERCHANT_AND_PARTNER:
                    assert seen <= {tenants["acme"]}, model  # the grant acme gave it
                else:
                    assert seen <= {tenants["swiftship"]}, model
            assert await _owners(session, Order) == {tenants["acme"]}
    finally:
        await database.dispose()


async def test_a_platform_scope_sees_every_tenant(database: Database) -> None:
    tenants = await _tenants(database)
    admin = _principal(tenants["ops"], TenantKind.PLATFORM, ("platform_admin",))
    try:
        async with database.session(write=False, scope=row_scope(admin)) as session:
            assert await _owners(session, Order) == {tenants["acme"], tenants["globex"]}
    finally:
        await database.dispose()


async def test_updates_and_deletes_cannot_reach_another_tenant(database: Database) -> None:
    tenants = await _tenants(database)
    try:
        async with database.session(write=True, scope=RowScope("tenant", tenants["globex"])) as s:
            changed = await s.execute(update(Order).values(cancel_reason="scoped"))
            assert changed.rowcount == 1  # type: ignore[attr-defined]
            removed = await s.execute(delete(OrderEvent).where(OrderEvent.type == "nothing"))
            assert removed.rowcount == 0  # type: ignore[attr-defined]
        async with database.session(write=False, scope=SYSTEM_SCOPE) as session:
            rows = await session.execute(select(orders.c.tenant_id, orders.c.cancel_reason))
            touched = {tenant for tenant, reason in rows if reason == "scoped"}
            assert touched == {tenants["globex"]}
    finally:
        await database.dispose()


async def test_a_scope_without_a_tenant_sees_nothing(database: Database) -> None:
    try:
        async with database.session(write=False, scope=RowScope("tenant", None)) as session:
            for model, _ in tenant_owned_models():
                assert await _owners(session, model) == set(), model
    finally:
        await database.dispose()


async def test_a_bare_core_query_on_a_tenant_owned_table_is_refused(database: Database) -> None:
    bare: Table = Order.__table__  # type: ignore[attr-defined]
    lines: Table = OrderLine.__table__  # type: ignore[attr-defined]
    # A bare subquery inside an otherwise scoped statement would escape too.
    with_bare_subquery = select(orders.c.id).where(orders.c.id.in_(select(lines.c.order_id)))
    try:
        async with database.session(write=False, scope=SYSTEM_SCOPE) as session:
            with pytest.raises(UnscopedStatementError, match="orders"):
                await session.execute(select(bare.c.id))
            with pytest.raises(UnscopedStatementError, match="order_lines"):
                await session.execute(with_bare_subquery)
            with pytest.raises(UnscopedStatementError, match="orders"):
                await session.execute(select(bare.alias().c.id))
    finally:
        await database.dispose()


async def test_an_aliased_model_is_refused(database: Database) -> None:
    """Joined, an alias would take the criteria of the model's own table, not its own."""
    other = aliased(Order)
    try:
        async with database.session(write=False, scope=SYSTEM_SCOPE) as session:
            with pytest.raises(UnscopedStatementError, match="an alias of orders"):
                await session.execute(select(other))
            with pytest.raises(UnscopedStatementError, match="an alias of orders"):
                await session.execute(select(orders.c.id).join(other, other.id != orders.c.id))
            with pytest.raises(UnscopedStatementError, match="an alias of orders"):
                PreparedQuery(select(other.id))
    finally:
        await database.dispose()


def _scopes(tenants: dict[str, UUID]) -> dict[str, RowScope]:
    """Every kind of scope a session runs in: two merchants, a partner that acme shares
    with, the platform, and a tenant scope naming no tenant."""
    return {
        "merchant": RowScope("tenant", tenants["acme"]),
        "other merchant": RowScope("tenant", tenants["globex"]),
        "partner": row_scope(
            _principal(tenants["swiftship"], TenantKind.PARTNER, ("partner_operator",))
        ),
        "platform": SYSTEM_SCOPE,
        "no tenant": RowScope("tenant", None),
    }


def _rows(result: Any) -> list[str]:
    return sorted(repr(tuple(row)) for row in result)


async def test_a_prepared_query_sees_what_the_session_sees_in_every_scope(
    database: Database,
) -> None:
    """PreparedQuery (Core, no ORM hook) must filter exactly as the hook does."""
    tenants = await _tenants(database)
    try:
        for name, scope in _scopes(tenants).items():
            async with database.session(write=False, scope=scope) as session:
                for model, _ in tenant_owned_models():
                    statement = select(*entity_table(model).c)
                    through_hook = _rows(await session.execute(statement))
                    prepared = _rows(await PreparedQuery(statement).execute(session))
                    assert prepared == through_hook, (name, model)
                    if name == "merchant" and model is Order:
                        assert len(prepared) == 2
    finally:
        await database.dispose()


async def test_a_prepared_query_keeps_its_own_filter_and_parameters(database: Database) -> None:
    tenants = await _tenants(database)
    by_tenant = PreparedQuery(select(orders.c.id).where(orders.c.tenant_id == bindparam("owner")))
    try:
        async with database.session(write=False, scope=RowScope("tenant", tenants["acme"])) as s:
            assert len((await by_tenant.execute(s, {"owner": tenants["acme"]})).all()) == 2
            assert (await by_tenant.execute(s, {"owner": tenants["globex"]})).all() == []
        async with database.session(write=False, scope=SYSTEM_SCOPE) as s:
            assert len((await by_tenant.execute(s, {"owner": tenants["globex"]})).all()) == 1
    finally:
        await database.dispose()


async def test_a_prepared_query_scopes_subqueries_and_outer_joins_as_the_hook_does(
    database: Database,
) -> None:
    """Joined tables take a WHERE, tables in subqueries or outer-joined the ORM option."""
    tenants = await _tenants(database)
    line_rows = entity_table(OrderLine)
    every_line = select(line_rows.c.order_id, line_rows.c.sku)
    shapes = {
        "inner join": select(orders.c.id, line_rows.c.sku).join(
            line_rows.model, line_rows.c.order_id == orders.c.id
        ),
        "outer join": select(orders.c.id, line_rows.c.sku).outerjoin(
            line_rows.model, line_rows.c.order_id == orders.c.id
        ),
        # The table in the FROM and again in a subquery: both must be filtered.
        "FROM and subquery": select(
            orders.c.id, select(func.count()).select_from(orders.model).scalar_subquery()
        ),
        "IN subquery": select(orders.c.id).where(
            orders.c.id.in_(select(line_rows.c.order_id).scalar_subquery())
        ),
        "from a subquery": select(func.count()).select_from(every_line.subquery()),
        "union": select(func.count()).select_from(
            union_all(select(orders.c.id), select(line_rows.c.order_id)).subquery()
        ),
    }
    try:
        for scope in (RowScope("tenant", tenants["acme"]), SYSTEM_SCOPE):
            async with database.session(write=False, scope=scope) as session:
                for name, statement in shapes.items():
                    through_hook = _rows(await session.execute(statement))
                    prepared = _rows(await PreparedQuery(statement).execute(session))
                    assert prepared == through_hook, (scope.mode, name)
            with pytest.raises(UnscopedStatementError, match="orders"):
                PreparedQuery(select(Order.__table__.c.id))  # type: ignore[attr-defined]
    finally:
        await database.dispose()


async def test_a_prepared_update_changes_what_the_hook_would_in_every_scope(
    database: Database,
) -> None:
    tenants = await _tenants(database)
    mark = PreparedQuery(update(Order).values(cancel_reason=bindparam("mark")))
    try:
        for name, scope in _scopes(tenants).items():
            async with database.session(write=True, scope=scope) as session:
                through_hook = await session.execute(
                    update(Order).values(cancel_reason=f"hook {name}")
                )
                prepared = await mark.execute(session, {"mark": f"prepared {name}"})
                assert prepared.rowcount == through_hook.rowcount, name  # type: ignore[attr-defined]
            async with database.session(write=False, scope=SYSTEM_SCOPE) as session:
                rows = await session.execute(select(orders.c.tenant_id, orders.c.cancel_reason))
                marked = {tenant for tenant, reason in rows if reason == f"prepared {name}"}
            expected = {
                "merchant": {tenants["acme"]},
                "other merchant": {tenants["globex"]},
                "partner": {tenants["acme"]},  # acme shares its orders with swiftship
                "no tenant": set(),
                "platform": {tenants["acme"], tenants["globex"]},
            }[name]
            assert marked == expected, name
        with pytest.raises(TypeError, match="subquery"):
            PreparedQuery(
                update(Order)
                .where(orders.c.id.in_(select(orders.c.id).scalar_subquery()))
                .values(cancel_reason="x")
            )
    finally:
        await database.dispose()


async def test_prepared_statements_need_a_scope_and_inserts_take_only_inserts(
    database: Database,
) -> None:
    try:
        async with database.session(write=False, scope=SYSTEM_SCOPE) as session:
            with pytest.raises(TypeError, match="INSERT"):
                await run_insert(session, select(orders.c.id))  # type: ignore[arg-type]
            del session.info["row_scope"]
            with pytest.raises(UnscopedStatementError):
                await PreparedQuery(select(orders.c.id)).execute(session)
    finally:
        await database.dispose()
