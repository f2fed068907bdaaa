"""A page of orders with lines, events and merchant takes a constant number of SQL
statements, whatever the page size: the DataLoaders batch each level into one query."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from tests.conftest import Api
from tests.orders.documents import CREATE_ORDER, ORDER, ORDERS, order_input

# One to authenticate the bearer token's client, then one each for the orders,
# their lines, their events and their merchants.
STATEMENTS_PER_PAGE = 5


class StatementLog:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def data_statements(self) -> list[str]:
        """Everything but transaction control (BEGIN, SAVEPOINT, ...) and, on PostgreSQL,
        the one set_config per transaction that scopes row-level security."""
        control = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "SELECT SET_CONFIG(")
        return [s for s in self.statements if not s.lstrip().upper().startswith(control)]


@pytest.fixture
def statement_log(api: Api) -> Iterator[StatementLog]:
    app: Any = api.http._transport.app  # type: ignore[attr-defined]
    database = app.state.components.database
    log = StatementLog()

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        log.statements.append(statement)

    engines = database.engines
    for engine in engines:
        event.listen(engine.sync_engine, "before_cursor_execute", record)
    yield log
    for engine in engines:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def _create_orders(api: Api, count: int) -> None:
    async def one(index: int) -> None:
        data = await api.data(
            CREATE_ORDER, {"input": order_input(externalId=f"page-{index}")}, as_client="acme-shop"
        )
        assert data["createOrder"]["userErrors"] == []  # type: ignore[index]

    for start in range(0, count, 25):
        await asyncio.gather(*(one(i) for i in range(start, min(start + 25, count))))


async def _page_statements(api: Api, log: StatementLog, first: int) -> tuple[int, int]:
    await api.token("acme-backend")  # the token request is not part of the page
    log.statements.clear()
    data = await api.data(ORDERS, {"first": first}, as_client="acme-backend")
    edges = data["orders"]["edges"]  # type: ignore[index]
    assert all(len(e["node"]["lines"]) == 2 and e["node"]["events"] for e in edges)
    return len(edges), len(log.data_statements())


async def test_a_page_of_100_orders_takes_a_constant_number_of_statements(
    api: Api, statement_log: StatementLog
) -> None:
    await _create_orders(api, 100)
    small, small_statements = await _page_statements(api, statement_log, 10)
    large, large_statements = await _page_statements(api, statement_log, 100)
    assert (small, large) == (10, 100)
    assert small_statements == large_statements == STATEMENTS_PER_PAGE, statement_log.statements


# createOrder for a merchant without nodes: the client; the idempotency claim (an
# upsert); the order, its lines, its CREATED event and the event's outbox row; the
# risk policy, the velocity counts, the address count, the value and quantity
# histories and the stored assessment; whether the merchant has nodes; the number
# counter (an upsert) and the order's number; last, just before the commit, the
# outbox payload (the order and its lines as committed, and the update). Nothing
# else is read back.
STATEMENTS_PER_CREATE = 18
# After the commit, in a transaction of its own: the sequencer numbers the event.
SEQUENCER_STATEMENTS = ("SELECT EVENT_OUTBOX.SEQ", "SELECT COALESCE(MAX(EVENT_OUTBOX.POSITION)")


SMALL_CREATE = """
mutation Create($input: CreateOrderInput!, $key: String) {
  createOrder(input: $input, idempotencyKey: $key) {
    order { id number status total }
    userErrors { code }
  }
}
"""


async def test_create_order_reads_nothing_back(api: Api, statement_log: StatementLog) -> None:
    await api.data(SMALL_CREATE, {"input": order_input()}, as_client="acme-shop")  # the counter
    statement_log.statements.clear()
    data = await api.data(
        SMALL_CREATE, {"input": order_input(), "key": "count-1"}, as_client="acme-shop"
    )
    assert data["createOrder"]["userErrors"] == []  # type: ignore[index]
    logged = [" ".join(s.split()).upper() for s in statement_log.data_statements()]
    filled = next(
        i for i, s in enumerate(logged) if s.startswith("UPDATE EVENT_OUTBOX SET PAYLOAD")
    )
    statements, after_commit = logged[: filled + 1], logged[filled + 1 :]
    assert len(statements) == STATEMENTS_PER_CREATE, "\n".join(s[:90] for s in statements)
    if after_commit and after_commit[0].startswith("SELECT PG_ADVISORY_XACT_LOCK"):
        after_commit = after_commit[1:]  # PostgreSQL: sequencers take turns
    assert [s[: len(p)] for s, p in zip(after_commit, SEQUENCER_STATEMENTS, strict=False)] == list(
        SEQUENCER_STATEMENTS
    )
    # The counter row, which every create of the merchant locks until commit, comes
    # last but for the outbox payload.
    counter, numbering = statements[-5:-3]
    assert counter.startswith("INSERT INTO ORDER_NUMBER_COUNTERS"), counter
    assert numbering.startswith("UPDATE ORDERS SET NUMBER"), numbering


async def test_the_created_order_is_the_one_stored(api: Api) -> None:
    """The answer is built from what was written, not read back: it must equal a read."""
    created = await api.data(CREATE_ORDER, {"input": order_input()}, as_client="acme-shop")
    order = created["createOrder"]["order"]  # type: ignore[index]
    fetched = await api.data(ORDER, {"id": order["id"]}, as_client="acme-shop")
    assert fetched["order"] == order  # type: ignore[index]


async def test_one_transaction_per_request_but_a_write_on_sqlite(
    api: Api,
) -> None:
    """The bearer check's client lookup runs in the operation's own transaction, but
    for a write on SQLite (its writes go to a separate writer engine); after a write
    that made events, the sequencer numbers them in a transaction of its own."""
    app: Any = api.http._transport.app  # type: ignore[attr-defined]
    database = app.state.components.database
    begun: list[object] = []

    def record(connection: Any) -> None:
        begun.append(connection)

    engines = database.engines
    created = await api.data(CREATE_ORDER, {"input": order_input()}, as_client="acme-shop")
    order_id = created["createOrder"]["order"]["id"]  # type: ignore[index]
    await api.token("acme-reports")
    for engine in engines:
        event.listen(engine.sync_engine, "begin", record)
    try:
        fetched = await api.data(ORDER, {"id": order_id}, as_client="acme-reports")
        assert fetched["order"]["id"] == order_id  # type: ignore[index]
        reads = len(begun)
        begun.clear()
        await api.data(CREATE_ORDER, {"input": order_input()}, as_client="acme-shop")
        writes = len(begun)
    finally:
        for engine in engines:
            event.remove(engine.sync_engine, "begin", record)
    assert reads == 1
    assert writes == (1 if database.reads_and_writes_share_an_engine else 2) + 1


@pytest.mark.parametrize(("client", "scopes_set"), [("acme-reports", 1), ("ops-admin", 2)])
async def test_a_merchant_request_sets_its_scope_once(
    api: Api, statement_log: StatementLog, client: str, scopes_set: int
) -> None:
    """The client lookup runs in the scope of the tenant the verified token names, which
    is the merchant operation's own scope; an admin's operation sets its wider one."""
    created = await api.data(CREATE_ORDER, {"input": order_input()}, as_client="acme-shop")
    order_id = created["createOrder"]["order"]["id"]  # type: ignore[index]
    await api.token(client)
    statement_log.statements.clear()
    fetched = await api.data(ORDER, {"id": order_id}, as_client=client)
    assert fetched["order"]["id"] == order_id  # type: ignore[index]
    database = api.http._transport.app.state.components.database  # type: ignore[attr-defined]
    set_config = [s for s in statement_log.statements if "set_config('oaas.scope'" in s]
    assert len(set_config) == (scopes_set if database.dialect == "postgresql" else 0)
