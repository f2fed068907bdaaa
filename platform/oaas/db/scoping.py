"""Tenant scoping in one place: the first wall between tenants.

Every SELECT, UPDATE and DELETE a session runs on a tenant-owned table is
limited to the rows its `RowScope` may see, by one `do_orm_execute` hook that
adds `with_loader_criteria` for each tenant-owned model. Services never write
their own tenant filter to keep tenants apart (they may still narrow further).
The rules mirror the row-level security policies of migration 0004, which are
the second wall on PostgreSQL; on SQLite this is the only one.

A model declares how its rows are shared in its table's `info`:

- `ORDER_DATA`: a partner also sees the rows of merchants that granted it access;
- `OWN`: only the owning tenant (clients, counters, audit, SLAs, ...);
- `MERCHANT_AND_PARTNER`: rows a merchant keeps with a named partner
  (`partner_tenant_id`): grants, partner-operated nodes and their stock.

Criteria only reach columns that carry their ORM entity, so queries use
`entity_table(Model)` rather than `Model.__table__`; a statement that touches a
tenant-owned table through bare Core columns would escape the criteria and is
refused with `UnscopedStatementError` instead of running.

The scoping uses SQLAlchemy's public API but for two things it offers none for
(`_entity_of`, `_statement_shape`); tests/db/test_sqlalchemy_contract.py
fails, naming the behaviour, if an upgrade changes either.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any, Literal
from uuid import UUID

from sqlalchemy import (
    ColumnClause,
    ColumnCollection,
    ColumnElement,
    Table,
    bindparam,
    event,
    false,
    inspect,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapper, ORMExecuteState, Session, with_loader_criteria
from sqlalchemy.sql import visitors

from oaas.db.base import SQLModel

VISIBILITY_KEY = "tenant_visibility"


class Visibility(StrEnum):
    ORDER_DATA = "order_data"
    OWN = "own"
    MERCHANT_AND_PARTNER = "merchant_and_partner"


def visibility_info(visibility: Visibility) -> dict[str, Any]:
    """The `__table_args__` entry that declares a model tenant-owned."""
    return {"info": {VISIBILITY_KEY: visibility}}


@dataclass(frozen=True, slots=True)
class RowScope:
    """Which tenants' rows a transaction may touch.

    `tenant`: the tenant's own rows; `partner`: its own plus, for order data,
    those of merchants with an active grant to it (`granted_tenants`, a
    subquery of their ids, built by oaas.sharing); `all`: every row (platform
    admins, and the platform itself looking up a client to authenticate it).
    """

    mode: Literal["tenant", "partner", "all"]
    tenant_id: UUID | None = None
    granted_tenants: Any = field(default=None, compare=False)


SYSTEM_SCOPE = RowScope("all")


class UnscopedStatementError(RuntimeError):
    """A statement reached a tenant-owned table around the scoping hook."""


def session_scope(session: Session | AsyncSession) -> RowScope:
    """The scope every statement of the session is limited to (oaas.db.engine sets it).

    The one reader of it for the hook and for prepared statements: a session
    without one runs nothing.
    """
    scope: RowScope | None = session.info.get("row_scope")
    if scope is None:
        raise UnscopedStatementError("a session without a RowScope ran a query")
    return scope


@dataclass(frozen=True, slots=True)
class EntityTable:
    """A tenant-owned table for Core-style queries, with columns that keep their entity.

    Select and filter with `c`; name `model` in UPDATE, DELETE and FROM so the
    criteria reach it; INSERT into `table` (a new row is checked by the service
    that writes it, and by row-level security on PostgreSQL).
    """

    name: str
    c: ColumnCollection[str, ColumnElement[Any]]
    model: type[Any]
    table: Table


def entity_table(model: type[SQLModel]) -> EntityTable:
    table: Table = model.__table__  # type: ignore[attr-defined]
    # The model's attributes as selected columns: each keeps its entity, keyed by attribute.
    columns = select(*(getattr(model, column.key) for column in table.columns)).selected_columns
    return EntityTable(table.name, columns, model, table)


# What SQLAlchemy offers no public API for. Each is read in this one place only;
# tests/db/test_sqlalchemy_contract.py pins the behaviour relied upon.


def _entity_of(element: Any) -> Any:
    """The ORM entity a column or FROM element carries: the model's `Mapper` for
    `Order.id`, an `AliasedInsp` for an `aliased(Order)`, None for a bare column
    (`Order.__table__.c.id`). The ORM applies `with_loader_criteria` to exactly the
    entities it finds by this annotation, and no public attribute exposes it."""
    return getattr(element, "_annotations", {}).get("parententity")


def _statement_shape(statement: Any) -> Hashable | None:
    """SQLAlchemy's cache key of a statement: equal for statements that compile to the
    same SQL whatever their bound values, different for an entity column and a bare
    one; None for a statement it cannot cache. `_generate_cache_key` is the only way
    to it (the compiled cache uses it; it is memoized on the statement)."""
    cache_key = statement._generate_cache_key()
    return None if cache_key is None else cache_key.key


def _mapped_models() -> Iterator[Mapper[Any]]:
    """The mappers of every mapped SQLModel class, however deep its base."""
    pending: list[type[Any]] = [SQLModel]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        mapper = inspect(cls, raiseerr=False)
        if isinstance(mapper, Mapper):
            yield mapper


def tenant_tables_of(statement: Any) -> set[str]:
    """The tenant-owned tables a statement reaches through their entities.

    Refuses a statement that names a tenant-owned table only bare (its columns, or
    the table itself inside an alias or subquery), or through an `aliased()` model.

    A table that also appears as an entity gets its criteria (ORM loads such as
    `session.get` mix the entity with bare primary-key columns of its table).
    """
    owned = scope_cache.models()
    as_entity: set[str] = set()
    bare: dict[str, str] = {}
    for element in visitors.iterate(statement):
        entity = _entity_of(element)
        if entity is not None:
            table = entity.mapper.local_table
            if isinstance(table, Table) and table.name in owned:
                if entity.is_aliased_class:
                    # SQLAlchemy joins an alias with the criteria of the model's own
                    # table, not the alias's: the alias's rows would go unfiltered.
                    raise UnscopedStatementError(
                        f"an alias of {table.name} escapes tenant criteria once joined; "
                        "query the model itself"
                    )
                as_entity.add(table.name)
        elif isinstance(element, Table) and element.name in owned:
            bare.setdefault(element.name, f"{element.name} (the table)")
        elif (
            isinstance(element, ColumnClause)
            and isinstance(element.table, Table)
            and element.table.name in owned
        ):
            bare.setdefault(element.table.name, f"{element.table.name}.{element.name}")
    for name, what in bare.items():
        if name not in as_entity:
            raise UnscopedStatementError(
                f"{what} is used without its entity; "
                "build the query from entity_table() so tenant scoping applies"
            )
    return as_entity


def _tenant_criteria(model: Any, visibility: Visibility, me: Any) -> ColumnElement[bool]:
    """A tenant's own rows, and those kept with it as a partner: `me` is its id, or a
    bound parameter that carries it (oaas.db.prepared)."""
    own: ColumnElement[bool] = model.tenant_id == me
    if visibility is Visibility.MERCHANT_AND_PARTNER:
        return or_(own, model.partner_tenant_id == me)
    return own


def _criteria(model: Any, visibility: Visibility, scope: RowScope) -> ColumnElement[bool]:
    me = scope.tenant_id
    if me is None:
        return false()
    own = _tenant_criteria(model, visibility, me)
    if visibility is Visibility.ORDER_DATA and scope.mode == "partner":
        if scope.granted_tenants is None:
            return own
        return or_(own, model.tenant_id.in_(scope.granted_tenants))
    return own


def _option(model: Any, criteria: ColumnElement[bool]) -> Any:
    """Criteria as the hook applies them: wherever the model's table appears
    (subqueries, the optional side of outer joins)."""
    return with_loader_criteria(model, criteria, include_aliases=True)


# Tenant-owned models and their visibility by table name, in name order.
TenantModels = dict[str, tuple[type[Any], Visibility]]


class ScopeCache:
    """What tenant scoping keeps between statements, all of it rebuilt on demand after
    `clear()`: the tenant-owned models, the tenant tables each statement shape
    reaches, and a tenant scope's criteria options.

    The walk of a statement costs 30-400 us and a tenant's criteria option 0.1-0.4
    ms, several times a request. Shapes are finite (the code's queries) and the
    option depends on the table and the tenant alone; the bounds only guard
    against a caller building unbounded shapes, and against a very large number of
    active tenants.
    """

    MAX_SHAPES = 4096
    MAX_TENANT_OPTIONS = 16_384

    def __init__(self) -> None:
        self._models: TenantModels | None = None
        self._reached_by_shape: dict[Hashable, frozenset[str]] = {}
        self.tenant_option = lru_cache(maxsize=self.MAX_TENANT_OPTIONS)(self._build_tenant_option)

    def clear(self) -> None:
        self._models = None
        self._reached_by_shape.clear()
        self.tenant_option.cache_clear()

    def models(self) -> TenantModels:
        """Every mapped model whose table declares a visibility, by table name."""
        if self._models is None:
            found: TenantModels = {}
            for mapper in _mapped_models():
                table = mapper.local_table
                if isinstance(table, Table) and VISIBILITY_KEY in table.info:
                    visibility = Visibility(table.info[VISIBILITY_KEY])
                    found.setdefault(table.name, (mapper.class_, visibility))
            self._models = dict(sorted(found.items()))
        return self._models

    def tables_reached(self, statement: Any) -> frozenset[str]:
        """`tenant_tables_of(statement)`, walked once per statement shape."""
        shape = _statement_shape(statement)
        if shape is None:  # a statement SQLAlchemy cannot cache: walk it every time
            return frozenset(tenant_tables_of(statement))
        reached = self._reached_by_shape.get(shape)
        if reached is None:
            reached = frozenset(tenant_tables_of(statement))
            if len(self._reached_by_shape) < self.MAX_SHAPES:
                self._reached_by_shape[shape] = reached
        return reached

    def _build_tenant_option(self, table_name: str, tenant_id: UUID) -> Any:
        """A tenant scope's option is the same for every session of the tenant."""
        model, visibility = self.models()[table_name]
        return _option(model, _criteria(model, visibility, RowScope("tenant", tenant_id)))


scope_cache = ScopeCache()


@event.listens_for(Mapper, "instrument_class")
def _forget_on_mapping(_mapper: Any, _class: Any) -> None:
    """A model mapped after the cache was filled (a module imported late) is picked
    up on the next statement, never left out of the criteria."""
    scope_cache.clear()


def tenant_owned_models() -> tuple[tuple[type[Any], Visibility], ...]:
    """Every mapped model whose table declares a visibility."""
    return tuple(scope_cache.models().values())


@dataclass(frozen=True, slots=True)
class ParameterCriteria:
    """A tenant scope's criteria for one table with the tenant as a bound parameter, so
    one compiled statement serves every tenant: `where` filters the table as a plain
    member of the FROM, `option` wherever it appears, as the hook's criteria do."""

    where: ColumnElement[bool]
    option: Any


def tenant_criteria_by_parameter(table_name: str, parameter: str) -> ParameterCriteria:
    """How a prepared statement (oaas.db.prepared) takes a tenant's scope."""
    model, visibility = scope_cache.models()[table_name]
    criteria = _tenant_criteria(model, visibility, bindparam(parameter))
    return ParameterCriteria(criteria, _option(model, criteria))


def _criteria_option(session: Session, scope: RowScope, table_name: str) -> Any:
    """The `with_loader_criteria` of one tenant-owned model: shared by every session of a
    tenant scope, built once per scope of a session otherwise (a partner's criteria
    hold its grants, which are read afresh for every request)."""
    if scope.mode == "tenant" and scope.tenant_id is not None:
        return scope_cache.tenant_option(table_name, scope.tenant_id)
    cached = session.info.get("scope_criteria")
    if cached is None or cached[0] is not scope:
        cached = (scope, {})
        session.info["scope_criteria"] = cached
    options: dict[str, Any] = cached[1]
    option = options.get(table_name)
    if option is None:
        model, visibility = scope_cache.models()[table_name]
        option = _option(model, _criteria(model, visibility, scope))
        options[table_name] = option
    return option


def _scope_statement(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        return  # criteria already travel with the statement that started the load
    reached = scope_cache.tables_reached(state.statement)
    scope = session_scope(state.session)
    statement = state.statement
    if scope.mode != "all" and reached:
        statement = statement.options(
            *(_criteria_option(state.session, scope, name) for name in sorted(reached))
        )
    if state.is_update or state.is_delete:
        # Rows are never held as objects here, so there is nothing to synchronise.
        statement = statement.execution_options(synchronize_session=False)
    state.statement = statement


class ScopedSession(Session):
    """The session class every engine hands out: scoping cannot be forgotten."""


event.listen(ScopedSession, "do_orm_execute", _scope_statement)
