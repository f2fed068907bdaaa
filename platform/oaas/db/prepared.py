"""Hot statements run as Core on the session's connection, scoped here too.

A SELECT through the ORM session costs about 240 us of Python more than the
same statement through its connection (measured on PostgreSQL: 425 against
182 us; raw asyncpg 68): the `do_orm_execute` hook, the criteria option that
makes a new statement and cache key on every call, the ORM compile state and
result. A request of `order(id)` runs four such statements, `createOrder`
more than a dozen. The statements every request runs are therefore built once
as a `PreparedQuery` or written with `run_insert`, which skip the ORM.

Tenant scoping stays in this package. A `PreparedQuery` adds the same criteria
as oaas.db.scoping (the tenant's own rows, or its own and its partner's where
a table is shared with a partner) as a WHERE clause with the tenant as a bound
parameter, so each statement compiles once per mode. It is refused when it is
built if a tenant-owned table it reaches is not a plain member of its FROM
(in a subquery, or on the optional side of an outer join), where a WHERE
clause would filter differently from the ORM's criteria. A partner's scope,
whose criteria hold the merchants that granted it access, runs through the
ORM session and its hook as before. On PostgreSQL row-level security is the
second wall, as for every statement.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Insert,
    Join,
    Result,
    Select,
    Table,
    bindparam,
    or_,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from oaas.db.scoping import (
    RowScope,
    UnscopedStatementError,
    Visibility,
    registered_model,
    tenant_tables_of,
)

# The bound parameter that carries the scope's tenant; no query of ours uses the name.
SCOPE_TENANT_PARAM = "oaas_scope_tenant_id"


def _required_tables(from_clause: Any) -> set[str]:
    """Tables whose rows every result row needs: not in a subquery, not outer-joined."""
    if isinstance(from_clause, Table):
        return {from_clause.name}
    if isinstance(from_clause, Join):
        required = _required_tables(from_clause.left)
        if not from_clause.isouter:
            required |= _required_tables(from_clause.right)
        return required
    return set()


def _tenant_criteria(model: Any, visibility: Visibility) -> ColumnElement[bool]:
    """oaas.db.scoping's criteria of a tenant scope, with the tenant as a parameter."""
    me: BindParameter[Any] = bindparam(SCOPE_TENANT_PARAM)
    own: ColumnElement[bool] = model.tenant_id == me
    if visibility is Visibility.MERCHANT_AND_PARTNER:
        return or_(own, model.partner_tenant_id == me)
    return own


class PreparedQuery:
    """A SELECT built once, limited to the session's `RowScope`, run without the ORM.

    Rows come back as from `session.execute`: `Row`s with the same names and
    types (Core applies the columns' types either way).
    """

    def __init__(self, statement: Select[*tuple[Any, ...]]) -> None:
        reached = tenant_tables_of(statement)
        required: set[str] = set()
        for from_clause in statement.get_final_froms():
            required |= _required_tables(from_clause)
        loose = sorted(reached - required)
        if loose:
            raise ValueError(
                f"{', '.join(loose)}: a prepared query scopes tenant tables in its FROM only "
                "(not in a subquery or outer-joined); run this one through the session"
            )
        self.statement = statement
        self._tenant_statement = statement
        for name in sorted(reached):
            model, visibility = registered_model(name)
            self._tenant_statement = self._tenant_statement.where(
                _tenant_criteria(model, visibility)
            )
        self._scoped = bool(reached)

    async def execute(
        self, session: AsyncSession, params: Mapping[str, Any] | None = None
    ) -> Result[Any]:
        scope: RowScope | None = session.info.get("row_scope")
        if scope is None:
            raise UnscopedStatementError("a session without a RowScope ran a query")
        values = dict(params) if params else {}
        if scope.mode == "all":
            statement = self.statement
        elif scope.mode == "tenant" and scope.tenant_id is not None:
            statement = self._tenant_statement
            if self._scoped:
                values[SCOPE_TENANT_PARAM] = scope.tenant_id
        else:  # a partner's grants (or a scope naming no tenant): the ORM hook's criteria
            return await session.execute(self.statement, values)  # type: ignore[no-any-return]
        connection = await _connection(session)
        result: Result[Any] = await connection.execute(statement, values)
        return result


async def run_insert(session: AsyncSession, statement: Insert, params: Any = None) -> Result[Any]:
    """An INSERT (or upsert) on the session's connection, in its transaction.

    Inserts are not filtered by scope (there is nothing to filter): the service
    that writes a row names its tenant, and row-level security checks it on
    PostgreSQL, whichever way the statement is sent.
    """
    if not isinstance(statement, Insert):
        raise TypeError("run_insert takes an INSERT; reads go through PreparedQuery")
    connection = await _connection(session)
    if params is None:
        return await connection.execute(statement)
    return await connection.execute(statement, params)


async def _connection(session: AsyncSession) -> AsyncConnection:
    """The session's connection, with anything the session holds unwritten flushed
    first, as `session.execute` would before a statement."""
    if session.new or session.dirty or session.deleted:
        await session.flush()
    return await session.connection()
