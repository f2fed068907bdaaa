"""What tenant scoping relies on in SQLAlchemy, pinned so an upgrade that changes it fails here.

oaas.db.scoping and oaas.db.prepared keep tenants apart with SQLAlchemy's
`with_loader_criteria`, added by a `do_orm_execute` hook or built into a
prepared statement, and refuse a statement that names a tenant-owned table
through bare columns. Two things they read have no public API
(`_entity_of`, `_statement_shape`). Each test names the behaviour it
pins in its failure message: if one fails after an upgrade, the scoping must be
adapted before the upgrade ships, since on SQLite it is the only wall.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import Select, bindparam, event, inspect, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapper, ORMExecuteState, aliased, with_loader_criteria
from sqlalchemy.sql import visitors

from oaas.db import Database, PreparedQuery, RowScope, UnscopedStatementError, entity_table
from oaas.db.base import SQLModel, metadata
from oaas.db.scoping import (
    VISIBILITY_KEY,
    _entity_of,
    _statement_shape,
    scope_cache,
    tenant_tables_of,
)
from oaas.orders.models import Order, OrderLine

orders = entity_table(Order)
lines = entity_table(OrderLine)
bare_orders = metadata.tables["orders"]
PROBE = "probe_tenant"


@pytest.fixture(autouse=True)
def _fresh_scope_cache() -> Iterator[None]:
    """Each test reads SQLAlchemy afresh, not what an earlier statement left cached."""
    scope_cache.clear()
    yield
    scope_cache.clear()


def _gets_criteria(statement: Select[Any], dialect: Any) -> bool:
    """Whether SQLAlchemy applies a `with_loader_criteria` on Order when it compiles
    the statement (the criterion is the only mention of the probe parameter)."""
    option = with_loader_criteria(Order, Order.tenant_id == bindparam(PROBE), include_aliases=True)
    compiled = statement.options(option).compile(dialect=dialect)
    return PROBE in compiled.binds


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()], ids=["sqlite", "pg"])
def test_the_orm_applies_criteria_to_the_columns_it_marks_with_their_entity(dialect: Any) -> None:
    with_entity = {
        "entity_table column": select(orders.c.id),
        "model attribute": select(Order.id),
        "the model": select(Order),
        "in a subquery": select(lines.c.sku).where(
            lines.c.order_id.in_(select(orders.c.id).scalar_subquery())
        ),
        "outer-joined": select(lines.c.sku).outerjoin(Order, orders.c.id == lines.c.order_id),
    }
    for name, statement in with_entity.items():
        assert _gets_criteria(statement, dialect), (
            f"{name}: with_loader_criteria no longer reaches an ORM column at compile time; "
            "oaas.db.scoping's criteria would not filter it"
        )
        assert "orders" in tenant_tables_of(statement), (
            f"{name}: SQLAlchemy no longer marks ORM column expressions with their entity "
            "(the 'parententity' annotation in `_annotations`); oaas.db.scoping._entity_of "
            "cannot tell a scoped column from a bare one"
        )
    bare = select(bare_orders.c.id)
    assert not _gets_criteria(bare, dialect), "criteria reach bare Core columns now"
    assert all(_entity_of(element) is None for element in visitors.iterate(bare)), (
        "a bare Table column carries an entity annotation: oaas.db.scoping would take it "
        "for scoped while the ORM applies no criteria to it"
    )
    assert _entity_of(orders.c.id) is inspect(Order), "a column's entity is not Order's mapper"
    alias = _entity_of(aliased(Order).id)
    assert alias.is_aliased_class, "an alias's entity no longer says it is an alias"
    assert alias.mapper is inspect(Order), "an alias's entity no longer names Order's mapper"


def test_a_joined_alias_gets_the_models_criteria_unadapted() -> None:
    """Why oaas.db.scoping refuses aliases of tenant-owned models. When SQLAlchemy
    adapts fixed criteria to a joined alias, this fails: aliases could then be scoped."""
    other = aliased(Order)
    joined = select(orders.c.id).join(other, other.id != orders.c.id)
    option = with_loader_criteria(Order, Order.tenant_id == bindparam(PROBE), include_aliases=True)
    sql = str(joined.options(option).compile(dialect=sqlite.dialect()))
    on_clause = sql.split(" ON ", 1)[1].split(" WHERE ", 1)[0]
    assert "orders_1.tenant_id" not in on_clause, sql


def test_the_cache_key_tells_shapes_apart_and_ignores_bound_values() -> None:
    one, other = uuid4(), uuid4()
    by_id = select(orders.c.id).where(orders.c.id == one)
    same_shape = select(orders.c.id).where(orders.c.id == other)
    bare_shape = select(bare_orders.c.id).where(bare_orders.c.id == one)
    message = (
        "SQLAlchemy's cache key (`_generate_cache_key().key`, oaas.db.scoping._statement_shape)"
    )
    shape = _statement_shape(by_id)
    assert shape is not None, f"{message} is None for a plain select"
    assert hash(shape) == hash(_statement_shape(same_shape)), f"{message} is not hashable"
    assert shape == _statement_shape(same_shape), (
        f"{message} differs by bound value: every statement would be walked afresh (slow)"
    )
    assert shape != _statement_shape(bare_shape), (
        f"{message} no longer tells an entity column from a bare one: a bare statement "
        "could reuse a scoped shape's tables and escape the refusal"
    )
    assert by_id._generate_cache_key() is by_id._generate_cache_key(), (
        f"{message} is no longer memoized on the statement: the hook computes it again"
    )


def test_models_are_found_through_public_mapping_api() -> None:
    assert inspect(SQLModel, raiseerr=False) is None, "inspect() of an unmapped class changed"
    assert isinstance(inspect(Order), Mapper), "inspect() of a model is no longer its Mapper"
    declared = {name for name, table in metadata.tables.items() if VISIBILITY_KEY in table.info}
    assert set(scope_cache.models()) == declared, (
        "walking SQLModel.__subclasses__() with inspect() misses a tenant-owned model"
    )


def test_the_hook_reads_what_orm_execute_state_offers() -> None:
    for name in ("is_select", "is_update", "is_delete", "is_column_load", "is_relationship_load"):
        assert hasattr(ORMExecuteState, name), (
            f"ORMExecuteState.{name} is gone: oaas.db.scoping's do_orm_execute hook reads it"
        )


@contextmanager
def _statements_sent(database: Database) -> Iterator[list[str]]:
    """The SQL each engine sends meanwhile, transaction control left out."""
    sent: list[str] = []

    def _record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.startswith("BEGIN"):
            sent.append(statement)

    engines = [engine.sync_engine for engine in database.engines]
    for engine in engines:
        event.listen(engine, "before_cursor_execute", _record)
    try:
        yield sent
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", _record)


@pytest.fixture
async def database(empty_database_url: str) -> AsyncIterator[Database]:
    database = Database(empty_database_url)
    try:
        yield database
    finally:
        await database.dispose()


async def test_a_scoped_statement_is_sent_with_the_tenant_criterion(database: Database) -> None:
    """The statements select no tenant column: `tenant_id` in the SQL sent is the criterion."""
    scope = RowScope("tenant", UUID(int=7))
    outer_join = select(lines.c.sku).outerjoin(Order, orders.c.id == lines.c.order_id)
    prepared_where = PreparedQuery(select(orders.c.id))
    prepared_option = PreparedQuery(outer_join)
    async with database.session(write=False, scope=scope) as session:
        runs: list[tuple[str, Callable[[], Awaitable[Any]], bool]] = [
            (
                "session.execute (do_orm_execute adds with_loader_criteria)",
                lambda: session.execute(select(orders.c.id)),
                False,
            ),
            (
                "session.execute of an outer join",
                lambda: session.execute(outer_join),
                True,
            ),
            (
                "PreparedQuery as a WHERE on a Core connection",
                lambda: prepared_where.execute(session),
                False,
            ),
            (
                "PreparedQuery with the criteria option on a Core connection",
                lambda: prepared_option.execute(session),
                True,
            ),
        ]
        for name, run, in_on_clause in runs:
            with _statements_sent(database) as sent:
                await run()
            assert len(sent) == 1, name
            assert "tenant_id" in sent[0], f"{name}: the statement went out unscoped: {sent[0]}"
            if in_on_clause:
                # The criterion on the optional side of an outer join belongs in its ON clause.
                on_clause = sent[0].split(" ON ", 1)[1]
                assert "tenant_id" in on_clause, f"{name}: the criterion left the ON: {sent[0]}"


async def test_an_update_is_sent_with_the_tenant_criterion(database: Database) -> None:
    scope = RowScope("tenant", UUID(int=7))
    async with database.session(write=True, scope=scope) as session:
        with _statements_sent(database) as sent:
            await session.execute(update(Order).values(cancel_reason="x"))
        assert len(sent) == 1, sent
        assert "tenant_id" in sent[0].split("WHERE", 1)[-1], (
            f"an ORM UPDATE went out without with_loader_criteria: {sent[0]}"
        )


async def test_an_unscoped_statement_is_refused_every_time(database: Database) -> None:
    """A refused shape is never remembered as fine: the second try is refused as well."""
    scope = RowScope("tenant", UUID(int=7))
    async with database.session(write=False, scope=scope) as session:
        for _ in range(2):
            with pytest.raises(UnscopedStatementError, match=r"orders\.id"):
                await session.execute(select(bare_orders.c.id))
            with pytest.raises(UnscopedStatementError, match=r"orders\.id"):
                PreparedQuery(select(bare_orders.c.id))
            with pytest.raises(UnscopedStatementError, match=r"orders \(the table\)"):
                await session.execute(select(bare_orders.alias().c.id))
            with pytest.raises(UnscopedStatementError, match="an alias of orders"):
                await session.execute(select(aliased(Order).id))
    assert tenant_tables_of(select(orders.c.id)) == {"orders"}
