"""SQL statements are noted for a possible export through the dialect's execute events."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

from oaas.telemetry.sql import SqlStatement, instrument_engine


async def test_statements_in_a_span_are_noted_with_their_times_and_errors() -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    noted: list[SqlStatement] = []
    instrument_engine(engine, noted.append)
    tracer = TracerProvider().get_tracer("test")
    try:
        async with engine.connect() as connection:
            with tracer.start_as_current_span("request") as span:
                await connection.execute(text("SELECT 1"))
                await connection.exec_driver_sql("CREATE TABLE t (a INTEGER)")
                await connection.exec_driver_sql("INSERT INTO t VALUES (?)", [(1,), (2,)])
                with pytest.raises(OperationalError):
                    await connection.execute(text("SELECT * FROM missing"))
            await connection.execute(text("SELECT 2"))  # no span around it: not noted
            rows = (await connection.exec_driver_sql("SELECT count(*) FROM t")).scalar()
    finally:
        await engine.dispose()
    assert rows == 2  # the statements ran, executemany included
    assert [(s.text, s.error) for s in noted] == [
        ("SELECT 1", None),
        ("CREATE TABLE t (a INTEGER)", None),
        ("INSERT INTO t VALUES (?)", None),
        ("SELECT * FROM missing", "OperationalError"),
    ]
    parent = span.get_span_context()
    assert all(s.parent == parent and s.start_ns <= s.end_ns for s in noted)
