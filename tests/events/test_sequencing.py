"""Positions in commit order: a transaction that commits late is never skipped."""

from __future__ import annotations

import asyncio
from uuid import UUID

from sqlalchemy import select

from oaas.db import SYSTEM_SCOPE, Database
from oaas.db.base import metadata
from oaas.db.types import new_id, utcnow
from oaas.events.feed import PLATFORM, events_after
from oaas.events.sequencer import sequence
from oaas.outbox import append

TYPES = ["TEST_T1", "TEST_T2"]


async def _tenant(database: Database, handle: str) -> UUID:
    tenants = metadata.tables["tenants"]
    async with database.session(write=False, scope=SYSTEM_SCOPE) as session:
        found = await session.execute(select(tenants.c.id).where(tenants.c.handle == handle))
        return UUID(str(found.scalar_one()))


async def _write(database: Database, tenant: UUID, type: str) -> None:
    async with database.session(write=True, scope=SYSTEM_SCOPE) as session:
        await append(session, id=new_id(), tenant_id=tenant, type=type, at=utcnow(), actor="t")


async def test_a_transaction_that_commits_late_is_read_after_the_others(
    database_url: str,
) -> None:
    database = Database(database_url)
    concurrent_writers = not database.is_sqlite  # SQLite: one writer at a time
    read: list[tuple[str, int]] = []
    cursor = 0

    async def sequence_and_read(*, sequencing: bool = True) -> None:
        nonlocal cursor
        if sequencing:
            await sequence(database)
        async with database.session(write=False, scope=SYSTEM_SCOPE) as session:
            page = await events_after(session, PLATFORM, after=cursor, types=TYPES)
        cursor = page.end
        read.extend((event.type, event.position) for event in page.events)

    try:
        acme = await _tenant(database, "acme")
        async with database.session(write=True, scope=SYSTEM_SCOPE) as first:
            await append(first, id=new_id(), tenant_id=acme, type="TEST_T1", at=utcnow(), actor="t")
            second = asyncio.create_task(_write(database, acme, "TEST_T2"))
            if concurrent_writers:
                await second  # inserted after the first, committed before it
            else:
                await asyncio.sleep(0.2)
                assert not second.done()  # waits for the one writer
            # SQLite: no sequencer can run while the writer is held; a reader reads.
            await sequence_and_read(sequencing=concurrent_writers)
            assert [t for t, _ in read] == (["TEST_T2"] if concurrent_writers else [])
        await second
        await sequence_and_read()
        await sequence_and_read()
        types = [t for t, _ in read]
        positions = [p for _, p in read]
        assert sorted(types) == TYPES  # each once: nothing skipped, nothing twice
        assert positions == sorted(positions)
        # Positions follow the commits, not the inserts.
        assert types == (["TEST_T2", "TEST_T1"] if concurrent_writers else TYPES)
    finally:
        await database.dispose()
