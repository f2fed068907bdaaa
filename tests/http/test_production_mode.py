"""Production mode: no introspection, no GraphiQL, no suggested names, and an
unexpected error answers INTERNAL_ERROR with the trace id, logged with it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from oaas.app import create_app
from oaas.settings import Settings
from tests.conftest import ISSUER, Api
from tests.orders.documents import ORDERS

INTROSPECTION = "query { __schema { queryType { name } types { name } } }"
TYPE_INTROSPECTION = '{ __type(name: "Order") { name fields { name } } }'


async def _api(settings: Settings) -> AsyncIterator[Api]:
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ISSUER) as http:
        yield Api(http)
    await app.state.components.database.dispose()


@pytest.fixture
async def production_api(settings: Settings) -> AsyncIterator[Api]:
    async for api in _api(settings.model_copy(update={"env": "production"})):
        yield api


class _Lines(logging.Handler):
    """Log records as the app's own formatter renders them (trace_id included)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        formatter = next(
            handler.formatter
            for handler in logging.getLogger().handlers
            if isinstance(handler.formatter, structlog.stdlib.ProcessorFormatter)
        )
        self.lines.append(formatter.format(record))


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    handler = _Lines()
    logger = logging.getLogger("strawberry.execution")
    logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)


@pytest.mark.parametrize("document", [INTROSPECTION, TYPE_INTROSPECTION])
async def test_introspection_is_refused(production_api: Api, document: str) -> None:
    response = await production_api.graphql(document, as_client="acme-shop")
    assert 400 <= response.status_code < 500, response.text
    body = response.json()
    assert body.get("data") is None, body
    assert body["errors"], body
    assert "Order" not in response.text
    assert "queryType" not in str(body.get("data"))


async def test_no_graphiql_page(production_api: Api) -> None:
    token = await production_api.token("acme-shop")
    for headers in ({}, {"Authorization": f"Bearer {token}"}):
        response = await production_api.http.get(
            "/graphql", headers={"Accept": "text/html", **headers}
        )
        assert 400 <= response.status_code < 500, response.text
        assert response.headers["content-type"].startswith("application/json")
        assert "graphiql" not in response.text.lower()
        assert "<html" not in response.text.lower()


async def test_no_field_suggestions(production_api: Api) -> None:
    response = await production_api.graphql(
        "{ viewer { clientid tenant { handel } } }", as_client="acme-shop"
    )
    assert 400 <= response.status_code < 500, response.text
    body = response.json()
    assert body["errors"], body
    assert "Did you mean" not in response.text
    assert "clientId" not in response.text
    assert "handle" not in response.text.replace("handel", "")


ORDERS_FILTERED = "query Q($f: OrderFilter) { orders(filter: $f) { edges { cursor } } }"
# Each mistake, what the error still says, and the name graphql-core would suggest.
MISTAKES: dict[str, tuple[str, dict[str, object], str, str]] = {
    "argument": (
        "query Q { orders(frist: 5) { edges { cursor } } }",
        {},
        "Unknown argument 'frist'",
        "first",
    ),
    "enum value": (
        "query Q { orders(filter: {status: [PENDNG]}) { edges { cursor } } }",
        {},
        "Value 'PENDNG' does not exist",
        "PENDING",
    ),
    "input field": (
        "query Q { orders(filter: {stauts: [PENDING]}) { edges { cursor } } }",
        {},
        "unknown field 'stauts'",
        "status",
    ),
    "variable type": (
        "query Q($f: OrderFiltr) { orders(filter: $f) { edges { cursor } } }",
        {},
        "Unknown type 'OrderFiltr'",
        "OrderFilter",
    ),
    "fragment type": (
        "query Q { viewer { ...F } } fragment F on Viewr { clientId }",
        {},
        "Unknown type 'Viewr'",
        "Viewer",
    ),
    "variable input field": (ORDERS_FILTERED, {"f": {"stauts": ["PENDING"]}}, "stauts", "status"),
    "variable enum value": (ORDERS_FILTERED, {"f": {"status": ["PENDNG"]}}, "PENDNG", "PENDING"),
}


@pytest.mark.parametrize("mistake", MISTAKES)
async def test_no_name_is_suggested(production_api: Api, api: Api, mistake: str) -> None:
    document, variables, still_said, suggested = MISTAKES[mistake]
    for mode, answer in (
        ("production", await production_api.graphql(document, variables, as_client="acme-shop")),
        ("development", await api.graphql(document, variables, as_client="acme-shop")),
    ):
        assert answer.status_code < 500, answer.text
        messages = [error["message"] for error in answer.json()["errors"]]
        assert len(messages) == 1, (mode, messages)
        assert still_said in messages[0], (mode, messages)
        if mode == "production":
            assert "Did you mean" not in answer.text, messages
            assert f"'{suggested}'" not in answer.text, messages
        else:
            assert f"Did you mean the enum value '{suggested}'?" in messages[0] or (
                f"Did you mean '{suggested}'" in messages[0]
            ), messages


async def test_an_unexpected_error_is_masked_with_the_trace_id_and_logged_with_it(
    production_api: Api, settings: Settings, log_lines: list[str]
) -> None:
    await production_api.token("acme-shop")
    engine = create_async_engine(settings.migrations_url)
    async with engine.begin() as conn:
        await conn.execute(text("ALTER TABLE orders RENAME TO orders_gone"))
    await engine.dispose()

    response = await production_api.graphql(
        ORDERS, {"first": 5}, as_client="acme-shop", headers={"X-Request-Id": "req-prod-1"}
    )

    assert response.status_code == 200, response.text
    trace_id = response.headers["traceresponse"].split("-")[1]
    assert len(trace_id) == 32
    body = response.json()
    assert body["errors"], body
    for error in body["errors"]:
        assert error["message"] == "Internal server error"
        assert error["extensions"] == {
            "code": "INTERNAL_ERROR",
            "requestId": "req-prod-1",
            "traceId": trace_id,
        }
    for leak in ("orders_gone", "SELECT", "Traceback", "sqlalchemy", "asyncpg", "sqlite", 'File "'):
        assert leak.lower() not in response.text.lower(), leak
    # The real error is logged, with the same trace id.
    logged = [line for line in log_lines if trace_id in line]
    assert logged, log_lines
    assert any("orders" in line and "Traceback" in line for line in logged), logged


async def test_development_serves_graphiql_and_introspection(api: Api) -> None:
    page = await api.http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "graphiql" in page.text.lower()
    response = await api.graphql(INTROSPECTION, as_client="acme-shop")
    assert response.status_code == 200, response.text
    assert response.json()["data"]["__schema"]["queryType"]["name"] == "Query"
    suggestion = await api.graphql("{ viewer { clientid } }", as_client="acme-shop")
    assert "Did you mean" in suggestion.text
