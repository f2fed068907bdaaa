"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import oaas.app
import oaas.lifecycle.models
import oaas.risk.models
import oaas.routing.models  # noqa: F401
from oaas.db.base import metadata


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": False}
    )
    return [
        diff
        for diff in compare_metadata(context, metadata)
        # Alembic's own version table is not a model.
        if not (diff[0] == "remove_table" and diff[1].name == "alembic_version")
    ]


# SQLAlchemy cannot reflect SQLite's expression indexes, so there they are left out of
# the comparison; tests/risk/test_velocity_index.py sees the one we have in query plans.
@pytest.mark.filterwarnings(
    "ignore:Skipped unsupported reflection of expression-based index:sqlalchemy.exc.SAWarning"
)
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
async def test_the_migrated_schema_matches_the_models(empty_database_url: str) -> None:
    engine = create_async_engine(empty_database_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(_differences)
    finally:
        await engine.dispose()
    assert differences == []
