"""Writing outbox rows with their change, and numbering them in commit order."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from oaas.db import entity_table, run_insert
from oaas.outbox.models import OutboxEvent

outbox = entity_table(OutboxEvent)

# The orders of this transaction whose events still wait for their payload
# (session.info key; oaas.events fills them just before the commit).
PENDING_PAYLOADS = "outbox_pending_payloads"
# pg_advisory_xact_lock key of the sequencer: "oaas" "seq" in ASCII.
# session.info key: the transaction wrote events (the sequencer is woken after its commit).
WRITTEN = "outbox_written"
SEQUENCER_LOCK = 0x6F616173_00736571
SEQUENCE_BATCH = 5000

_NEXT_ORDER_SEQ = (
    select(func.coalesce(func.max(outbox.c.order_seq), 0) + 1)
    .where(
        outbox.c.tenant_id == bindparam("of_tenant"),
        outbox.c.order_id == bindparam("of_order"),
    )
    .scalar_subquery()
)
_INSERT_ORDER_EVENT = insert(outbox.table).values(order_seq=_NEXT_ORDER_SEQ)
_UNSEQUENCED = (
    select(outbox.c.seq)
    .where(outbox.c.position.is_(None))
    .order_by(outbox.c.seq)
    .limit(bindparam("batch"))
)
_LAST_POSITION = select(func.coalesce(func.max(outbox.c.position), 0))
_NUMBER = (
    update(outbox.table)
    .where(outbox.table.c.seq == bindparam("row_seq"))
    .values(position=bindparam("new_position"))
)


async def append(
    session: AsyncSession,
    *,
    id: UUID,
    tenant_id: UUID,
    type: str,
    at: datetime,
    actor: str,
    order_id: UUID | None = None,
    partner_tenant_id: UUID | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """One event into the outbox, in the caller's transaction (its savepoint, if any:
    a change rolled back takes its event with it).

    An order event takes the order's next sequence number in the same statement;
    the caller holds the order's row lock (or made the order), so the order's
    events are numbered one at a time. Its payload is left to the end of the
    transaction, when the order is as the commit leaves it.
    """
    values = {
        "id": id,
        "tenant_id": tenant_id,
        "order_id": order_id,
        "partner_tenant_id": partner_tenant_id,
        "type": type,
        "at": at,
        "actor": actor,
        "payload": payload,
    }
    session.info[WRITTEN] = True
    if order_id is None:
        await run_insert(session, insert(outbox.table).values(order_seq=None), values)
        return
    await run_insert(
        session, _INSERT_ORDER_EVENT, {**values, "of_tenant": tenant_id, "of_order": order_id}
    )
    if payload is None:
        session.info.setdefault(PENDING_PAYLOADS, set()).add((tenant_id, order_id))


async def assign_positions(session: AsyncSession, *, batch: int = SEQUENCE_BATCH) -> int:
    """Numbers the committed rows without a position after the last one, in `seq` order;
    answers how many. Run in its own short transaction in the system scope.

    Only committed rows are seen, so a transaction that commits late is numbered
    late: a reader paging by position never passes a row that appears later. On
    PostgreSQL the advisory lock makes concurrent sequencers take turns; SQLite's
    single writer does the same.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEQUENCER_LOCK})
    seqs = list((await session.execute(_UNSEQUENCED, {"batch": batch})).scalars())
    if not seqs:
        return 0
    last = int((await session.execute(_LAST_POSITION)).scalar_one())
    connection = await session.connection()
    await connection.execute(
        _NUMBER,
        [{"row_seq": seq, "new_position": last + n} for n, seq in enumerate(seqs, start=1)],
    )
    return len(seqs)


async def unsequenced(session: AsyncSession) -> int:
    """How many committed rows wait for a position."""
    query = select(func.count()).select_from(outbox.model).where(outbox.c.position.is_(None))
    return int((await session.execute(query)).scalar_one())
