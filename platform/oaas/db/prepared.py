"""Hot statements run as Core on the session's connection, scoped here too.

A SELECT through the ORM session costs about 240 us of Python more than the
same statement through its connection (measured on PostgreSQL: 425 against
182 us; raw asyncpg 68): the `do_orm_execute` hook, the criteria option that
makes a new statement and cache key on every call, the ORM compile state and
result. A request of `order(id)` runs four such statements, `createOrder`
more than a dozen. The statements every request runs are therefore built once
as a `PreparedQuery` or written with `run_insert`, which skip the ORM.

Tenant scoping stays in this package. A `PreparedQuery` carries the very
`with_loader_criteria` of oaas.db.scoping (the tenant's own rows, or its own
and its partner's where a table is shared with a partner), with the tenant as
a bound parameter: the ORM applies it when the statement compiles, wherever
the table appears (subqueries, outer joins), and the statement compiles once
for every tenant. Where every table is a plain member of the FROM (no
subquery anywhere, no outer join), the same criteria go in as a WHERE clause,
which filters alike and costs less. A partner's scope, whose criteria hold the
merchants that granted it access, runs through the ORM session and its hook
as before. On PostgreSQL row-level security is the second wall, as for every
statement.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Insert, Join, Result, Select, Table, Update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql import visitors
from sqlalchemy.sql.expression import FromClause, SelectBase

from oaas.db.scoping import session_scope, tenant_criteria_by_parameter, tenant_tables_of

# The bound parameter that carries the scope's tenant; no query of ours uses the name.
SCOPE_TENANT_PARAM = "oaas_scope_tenant_id"


def _required_tables(from_clause: Any) -> set[str]:
    """Tables whose rows every result row needs: not outer-joined."""
    if isinstance(from_clause, Table):
        return {from_clause.name}
    if isinstance(from_clause, Join):
        if from_clause.full:
            return set()
        required = _required_tables(from_clause.left)
        if not from_clause.isouter:
            required |= _required_tables(from_clause.right)
        return required
    return set()


def _holds_no_subquery(statement: Select[*tuple[Any, ...]] | Update) -> bool:
    """Whether no subquery, alias or CTE appears anywhere in the statement."""
    for element in visitors.iterate(statement):
        if element is statement:
            continue
        if isinstance(element, SelectBase | FromClause) and not isinstance(element, Table | Join):
            return False
    return True


def _where_filters_alike(statement: Select[*tuple[Any, ...]], tables: set[str]) -> bool:
    """Whether a WHERE clause on `tables` filters as the hook's criteria would: the
    statement holds no subquery, alias or CTE anywhere, and none of the tables is
    on the optional side of an outer join (the hook filters those in the ON clause)."""
    if not _holds_no_subquery(statement):
        return False
    required: set[str] = set()
    for from_clause in statement.get_final_froms():
        required |= _required_tables(from_clause)
    return tables <= required


class PreparedQuery:
    """A SELECT (or a plain UPDATE) built once, limited to the session's `RowScope`,
    run without the ORM.

    The scope comes from `session_scope`, as the hook's does; a tenant's scope is
    taken one way, as the bound parameter of `tenant_criteria_by_parameter`, in a
    WHERE clause where that filters as the hook would and as the hook's option
    otherwise. Rows come back as from `session.execute`: `Row`s with the same
    names and types (Core applies the columns' types either way). An UPDATE
    filters as the hook would only as a WHERE clause: one with a subquery is
    refused, and goes through the session.
    """

    def __init__(self, statement: Select[*tuple[Any, ...]] | Update) -> None:
        reached = sorted(tenant_tables_of(statement))  # refuses bare columns, as the hook does
        self.statement = statement
        self._scoped = bool(reached)
        if isinstance(statement, Update):
            # An UPDATE has no joins to miss; it takes the WHERE form or nothing.
            if not _holds_no_subquery(statement):
                raise TypeError("an UPDATE with a subquery goes through the session")
            where_form = True
        else:
            # No subquery, no outer-joined tenant table: a WHERE filters as the criteria
            # would, and costs less per call than the ORM option (50 calls).
            where_form = _where_filters_alike(statement, set(reached))
        criteria = [tenant_criteria_by_parameter(name, SCOPE_TENANT_PARAM) for name in reached]
        self._tenant_statement: Select[*tuple[Any, ...]] | Update = (
            statement.where(*(each.where for each in criteria))
            if where_form
            else statement.options(*(each.option for each in criteria))
        )

    async def execute(
        self, session: AsyncSession, params: Mapping[str, Any] | None = None
    ) -> Result[*tuple[Any, ...]]:
        scope = session_scope(session)
        values = dict(params) if params else {}
        if scope.mode == "all":
            statement = self.statement
        elif scope.mode == "tenant" and scope.tenant_id is not None:
            statement = self._tenant_statement
            if self._scoped:
                values[SCOPE_TENANT_PARAM] = scope.tenant_id
        else:  # a partner's grants (or a scope naming no tenant): the ORM hook's criteria
            return await session.execute(self.statement, values)
        connection = await _connection(session)
        return await connection.execute(statement, values)


async def run_insert(
    session: AsyncSession, statement: Insert, params: Any = None
) -> Result[*tuple[Any, ...]]:
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
