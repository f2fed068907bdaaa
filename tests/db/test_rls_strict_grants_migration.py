"""Migration 0010 on PostgreSQL: upgraded, downgraded and upgraded again, the policies,
privileges and indexes are those of each revision, as an owner held by row-level
security (SQLite: tests/db/test_migrations_match_models.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from oaas.db import Database
from oaas.db.migrate import downgrade, upgrade
from tests.manifests.conftest import owned_database_url  # noqa: F401

BEFORE, AFTER = "0009_rls_settings_read_once", "0010_rls_strict_grants"


async def _state(database: Database) -> dict[str, Any]:
    async with database.read_engine.connect() as conn:
        policies = await conn.execute(
            text(
                "SELECT c.relname, p.polname, p.polcmd::text, pg_get_expr(p.polqual, p.polrelid), "
                "pg_get_expr(p.polwithcheck, p.polrelid) FROM pg_policy p "
                "JOIN pg_class c ON c.oid = p.polrelid ORDER BY 1, 2"
            )
        )
        privileges = await conn.execute(
            text(
                "SELECT relname, relacl::text FROM pg_class "
                "WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' ORDER BY 1"
            )
        )
        defaults = await conn.execute(text("SELECT defaclacl::text FROM pg_default_acl"))
        indexes = await conn.execute(
            text("SELECT indexdef FROM pg_indexes WHERE tablename = 'orders' ORDER BY 1")
        )
        return {
            "indexes": [row[0] for row in indexes],
            "policies": [tuple(row) for row in policies],
            "privileges": [tuple(row) for row in privileges],
            "defaults": sorted(str(row[0]) for row in defaults),
        }


async def test_0010_downgrades_to_0009_and_back(owned_database_url: str) -> None:  # noqa: F811
    database = Database(owned_database_url)
    try:
        await upgrade(database.write_engine, BEFORE)
        before = await _state(database)
        await upgrade(database.write_engine, AFTER)
        after = await _state(database)
        assert after != before
        grant_policies = {p[1]: p[2] for p in after["policies"] if p[0] == "order_access_grants"}
        assert grant_policies == {"partner_reads": "r", "tenant_rows": "*"}
        assert all("oaas_system" in p[3] for p in after["policies"] if p[1] == "tenant_rows")

        await downgrade(database.write_engine, BEFORE)
        assert await _state(database) == before
        await upgrade(database.write_engine, AFTER)
        assert await _state(database) == after
    finally:
        await database.dispose()
