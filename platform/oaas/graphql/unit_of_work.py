"""One database transaction per GraphQL operation, committed at the request edge.

Queries run on a read transaction that is rolled back; mutations on a write
transaction that is committed after every mutation field has run, unless an
error nulled the whole answer, when it is rolled back. Events a mutation wrote
are numbered right after its commit (oaas.events.sequencer). Each mutation
field runs inside its own savepoint (see `errors.mutate`), so a field that
answers with userErrors leaves nothing behind while the others still commit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from oaas.events.payloads import COMMITTED
from oaas.events.sequencer import sequence
from oaas.graphql.context import Context
from oaas.sharing.visibility import row_scope


class UnitOfWork(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        assert isinstance(context, Context)
        write = self.execution_context.operation_type is OperationType.MUTATION
        scope = row_scope(context.principal)
        async with context.transaction.unit_of_work(write=write, scope=scope) as session:
            context._session = session
            try:
                yield
                result = self.execution_context.result
                if write and getattr(result, "data", None) is None:
                    # A failure nulled the whole answer (e.g. a FORBIDDEN field with a
                    # non-null payload): the caller sees no result, so nothing may stay.
                    await session.rollback()
            finally:
                context._session = None
        if session.info.pop(COMMITTED, False):
            # The mutation's events get their positions before the answer: the caller
            # reads them in the feed at once.
            await sequence(context.database)
