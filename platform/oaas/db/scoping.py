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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any, Literal
from uuid import UUID

from sqlalchemy import ColumnElement, Table, bindparam, event, false, or_
from sqlalchemy.orm import Mapper, ORMExecuteState, Session, with_loader_criteria
from sqlalchemy.sql import visitors
from sqlalchemy.sql.base import ReadOnlyColumnCollection, WriteableColumnCollection
from sqlalchemy.sql.elements import ColumnClause

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


@dataclass(frozen=True, slots=True)
class EntityTable:
    """A tenant-owned table for Core-style queries, with columns that keep their entity.

    Select and filter with `c`; name `model` in UPDATE, DELETE and FROM so the
    criteria reach it; INSERT into `table` (a new row is checked by the service
    that writes it, and by row-level security on PostgreSQL).
    """

    name: str
    c: ReadOnlyColumnCollection[str, ColumnElement[Any]]
    model: type[Any]
    table: Table


def entity_table(model: type[SQLModel]) -> EntityTable:
    table: Table = model.__table__  # type: ignore[attr-defined]
    attributes: list[Any] = [getattr(model, column.key) for column in table.columns]
    columns: WriteableColumnCollection[str, ColumnElement[Any]] = WriteableColumnCollection(
        [(attribute.key, attribute.__clause_element__()) for attribute in attributes]
    )
    return EntityTable(table.name, columns.as_readonly(), model, table)


# Tenant-owned models and their visibility by table name, in name order.
_Registry = dict[str, tuple[type[Any], Visibility]]
_registry_seen: _Registry | None = None
# The tenant tables each statement shape reaches, by SQLAlchemy's cache key (which
# tells entity columns from bare ones): the walk costs 30-400 us a statement, the
# key is computed once per statement object anyway. Shapes are finite (the code's
# queries); the bound only guards against a caller building unbounded shapes.
_reached_by_shape: dict[Any, frozenset[str]] = {}
MAX_SHAPES = 4096
# Tenant scopes' criteria options kept across sessions: (tables x active tenants).
MAX_TENANT_OPTIONS = 16_384


@event.listens_for(Mapper, "instrument_class")
def _forget_registry(_mapper: Any, _class: Any) -> None:
    """A model mapped after the registry was read (a module imported late) is
    picked up on the next statement, never left out of the criteria."""
    global _registry_seen
    _registry_seen = None
    _reached_by_shape.clear()
    _tenant_option.cache_clear()


def _registry() -> _Registry:
    """Tenant-owned models and table names, read once per set of mapped models
    (the registry's own `mappers` builds a new set on every call)."""
    global _registry_seen
    if _registry_seen is None:
        found = []
        for mapper in SQLModel._sa_registry.mappers:
            table = mapper.local_table
            visibility = table.info.get(VISIBILITY_KEY) if isinstance(table, Table) else None
            if visibility is not None:
                found.append((mapper.class_, Visibility(visibility)))
        found.sort(key=lambda pair: pair[0].__tablename__)
        _registry_seen = {model.__tablename__: (model, visibility) for model, visibility in found}
    return _registry_seen


def tenant_owned_models() -> tuple[tuple[type[Any], Visibility], ...]:
    """Every mapped model whose table declares a visibility."""
    return tuple(_registry().values())


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


def tenant_tables_of(statement: Any) -> set[str]:
    """The tenant-owned tables a statement reaches through their entities.

    Refuses a statement that names a tenant-owned table only through bare columns.

    A table that also appears as an entity gets its criteria (ORM loads such as
    `session.get` mix the entity with bare primary-key columns of its table).
    """
    owned = _registry()
    as_entity: set[str] = set()
    bare: dict[str, str] = {}
    for element in visitors.iterate(statement):
        table = element if isinstance(element, Table) else getattr(element, "table", None)
        if not isinstance(table, Table) or table.name not in owned:
            continue
        if "parententity" in getattr(element, "_annotations", {}):
            as_entity.add(table.name)
        elif isinstance(element, ColumnClause):
            bare.setdefault(table.name, element.name)
    for name, column in bare.items():
        if name not in as_entity:
            raise UnscopedStatementError(
                f"{name}.{column} is used without its entity; "
                "build the query from entity_table() so tenant scoping applies"
            )
    return as_entity


def tenant_criteria_by_parameter(table_name: str, parameter: str) -> ColumnElement[bool]:
    """A tenant scope's criteria for one table with the tenant as a bound parameter, so
    one compiled statement serves every tenant."""
    model, visibility = _registry()[table_name]
    return _tenant_criteria(model, visibility, bindparam(parameter))


def tenant_option_by_parameter(table_name: str, parameter: str) -> Any:
    """`tenant_criteria_by_parameter` as the hook applies criteria: wherever the table
    appears (subqueries, the optional side of outer joins)."""
    model, _ = _registry()[table_name]
    criteria = tenant_criteria_by_parameter(table_name, parameter)
    return with_loader_criteria(model, criteria, include_aliases=True)


def _tenant_tables_reached(statement: Any) -> frozenset[str]:
    cache_key = statement._generate_cache_key()
    if cache_key is None:  # a statement SQLAlchemy cannot cache: walk it every time
        return frozenset(tenant_tables_of(statement))
    reached = _reached_by_shape.get(cache_key.key)
    if reached is None:
        reached = frozenset(tenant_tables_of(statement))
        if len(_reached_by_shape) < MAX_SHAPES:
            _reached_by_shape[cache_key.key] = reached
    return reached


def _option(model: Any, visibility: Visibility, scope: RowScope) -> Any:
    return with_loader_criteria(model, _criteria(model, visibility, scope), include_aliases=True)


@lru_cache(maxsize=MAX_TENANT_OPTIONS)
def _tenant_option(table_name: str, tenant_id: UUID) -> Any:
    """A tenant scope's option depends on the table and the tenant alone, so every
    session of the tenant shares it: building one cost 0.1-0.4 ms, three times a request."""
    model, visibility = _registry()[table_name]
    return _option(model, visibility, RowScope("tenant", tenant_id))


def _criteria_option(session: Session, scope: RowScope, table_name: str) -> Any:
    """The `with_loader_criteria` of one tenant-owned model: shared by every session of a
    tenant scope, built once per scope of a session otherwise (a partner's criteria
    hold its grants, which are read afresh for every request)."""
    if scope.mode == "tenant" and scope.tenant_id is not None:
        return _tenant_option(table_name, scope.tenant_id)
    cached = session.info.get("scope_criteria")
    if cached is None or cached[0] is not scope:
        cached = (scope, {})
        session.info["scope_criteria"] = cached
    options: dict[str, Any] = cached[1]
    option = options.get(table_name)
    if option is None:
        model, visibility = _registry()[table_name]
        option = _option(model, visibility, scope)
        options[table_name] = option
    return option


def _scope_statement(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        return  # criteria already travel with the statement that started the load
    reached = _tenant_tables_reached(state.statement)
    scope: RowScope | None = state.session.info.get("row_scope")
    if scope is None:
        raise UnscopedStatementError("a session without a RowScope ran a query")
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
