"""Migration 0012: node codes that differ only in case are renamed deterministically, and
then a unique index on (tenant_id, lower(code)) keeps them apart, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from oaas.db.migrate import upgrade
from oaas.routing.models import FulfilmentNode
from oaas.tenancy.models import Tenant
from tests.manifests.conftest import blank_database_url, owned_database_url  # noqa: F401

BEFORE = "0011_client_credential_version"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
ACME, GLOBEX = UUID(int=1), UUID(int=2)


def _node(tenant: UUID, number: int, code: str, minutes: int) -> dict[str, Any]:
    at = T0 + timedelta(minutes=minutes)
    return {
        "tenant_id": tenant,
        "id": UUID(int=100 + number),
        "code": code,
        "name": code,
        "kind": "WAREHOUSE",
        "latitude": 0.0,
        "longitude": 0.0,
        "region": "DE",
        "regions_served": [],
        "regions_excluded": [],
        "daily_capacity": 1,
        "currency": "EUR",
        "base_cost_minor": 0,
        "cost_per_km_minor": 0,
        "region_rates_minor": {},
        "promise_hours": {},
        "default_promise_hours": 1.0,
        "active": True,
        "created_at": at,
        "updated_at": at,
    }


NODES = FulfilmentNode.__table__  # type: ignore[attr-defined]


async def _as_tenant(conn: AsyncConnection, tenant: UUID) -> None:
    """On PostgreSQL, the transaction acts for `tenant`: an owner that is no superuser
    reads and writes nothing else under row-level security."""
    if conn.dialect.name == "postgresql":
        await conn.execute(
            text("SELECT set_config('oaas.tenant_id', :tenant, true)"), {"tenant": str(tenant)}
        )


async def _insert_nodes(engine: AsyncEngine, nodes: list[dict[str, Any]]) -> None:
    for tenant in (ACME, GLOBEX):
        async with engine.begin() as conn:
            await _as_tenant(conn, tenant)
            mine = [node for node in nodes if node["tenant_id"] == tenant]
            if mine:
                await conn.execute(insert(NODES), mine)


async def _codes(engine: AsyncEngine) -> dict[tuple[UUID, UUID], str]:
    found: dict[tuple[UUID, UUID], str] = {}
    for tenant in (ACME, GLOBEX):
        async with engine.begin() as conn:
            await _as_tenant(conn, tenant)
            rows = await conn.execute(
                select(NODES.c.id, NODES.c.code).where(NODES.c.tenant_id == tenant)
            )
            found.update({(tenant, node): code for node, code in rows})
    return found


async def _renames_and_index(url: str) -> None:
    engine = create_async_engine(url)
    try:
        await upgrade(engine, BEFORE)
        async with engine.begin() as conn:
            await conn.execute(
                insert(Tenant.__table__),  # type: ignore[attr-defined]
                [
                    {
                        "id": tenant,
                        "handle": handle,
                        "name": handle,
                        "kind": "merchant",
                        "plan": "standard",
                        "status": "active",
                        "created_at": T0,
                        "updated_at": T0,
                    }
                    for tenant, handle in ((ACME, "acme"), (GLOBEX, "globex"))
                ],
            )
        await _insert_nodes(
            engine,
            [
                # The oldest of each group keeps its code.
                _node(ACME, 1, "HAMBURG-SWIFT", 3),
                _node(ACME, 2, "hamburg-swift", 1),
                _node(ACME, 3, "Hamburg-Swift", 2),
                _node(ACME, 4, "hamburg-swift-2", 0),  # holds the first suffix already
                _node(ACME, 5, "BERLIN-1", 0),
                _node(GLOBEX, 6, "berlin-1", 0),  # another merchant's: no conflict
                _node(ACME, 7, "X" * 64, 0),
                _node(ACME, 8, "x" * 64, 1),
            ],
        )
        await upgrade(engine)
        assert await _codes(engine) == {
            (ACME, UUID(int=101)): "HAMBURG-SWIFT-4",
            (ACME, UUID(int=102)): "hamburg-swift",
            (ACME, UUID(int=103)): "Hamburg-Swift-3",
            (ACME, UUID(int=104)): "hamburg-swift-2",
            (ACME, UUID(int=105)): "BERLIN-1",
            (GLOBEX, UUID(int=106)): "berlin-1",
            (ACME, UUID(int=107)): "X" * 64,
            (ACME, UUID(int=108)): "x" * 62 + "-2",
        }
        with pytest.raises(IntegrityError):
            await _insert_nodes(engine, [_node(ACME, 9, "berlin-1", 5)])
    finally:
        await engine.dispose()


async def test_codes_differing_in_case_are_renamed_then_kept_apart(
    blank_database_url: str,  # noqa: F811
) -> None:
    await _renames_and_index(blank_database_url)


async def test_the_renames_see_every_row_under_forced_row_level_security(
    owned_database_url: str,  # noqa: F811
) -> None:
    # An owner that is no superuser sees no row of a table with forced RLS.
    await _renames_and_index(owned_database_url)
