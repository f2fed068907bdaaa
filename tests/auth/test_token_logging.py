"""A client's mistake at the token endpoint is no fault of the server: it shows as
the request's one info line, naming the OAuth error, with no traceback."""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.types import Message

from oaas.app import create_app
from oaas.settings import Settings
from tests.auth.conftest import request_token
from tests.conftest import DEMO_SECRET, Api

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _event(record: logging.LogRecord) -> dict[str, Any]:
    """structlog hands the standard library its event dict as the message."""
    if isinstance(record.msg, dict):
        return record.msg
    return {"event": record.getMessage()}


def _server_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if not r.name.startswith("httpx")]


def _assert_one_info_line(caplog: pytest.LogCaptureFixture, error: str) -> None:
    records = _server_records(caplog)
    assert all(r.levelno < logging.WARNING for r in records), [r.getMessage() for r in records]
    assert not [r for r in records if r.exc_info or r.exc_text], "a traceback was logged"
    assert len(records) == 1, [_event(r) for r in records]
    assert records[0].levelno == logging.INFO
    assert _event(records[0])["token_error"] == error


def _basic(value: str) -> str:
    return "Basic " + base64.b64encode(value.encode()).decode("ascii")


async def _post(api: Api, body: bytes, headers: dict[str, str]) -> int:
    return (await api.http.post("/oauth/token", content=body, headers=headers)).status_code


MISTAKES = [
    (b"grant_type=client_credentials", {"Authorization": _basic("acme-shop:wrong")}, 401, "invalid_client"),
    (b"grant_type=client_credentials", {"Authorization": _basic("nobody:wrong")}, 401, "invalid_client"),
    (b"grant_type=client_credentials", {"Authorization": "Basic %%%"}, 401, "invalid_client"),
    (b"grant_type=client_credentials&client_id=acme-shop", {}, 401, "invalid_client"),
    (b"grant_type=password", {"Authorization": _basic(f"acme-shop:{DEMO_SECRET}")}, 400, "unsupported_grant_type"),
    (b"grant_type=client_credentials&scope=admin", {"Authorization": _basic(f"acme-shop:{DEMO_SECRET}")}, 400, "invalid_scope"),
    (b"scope=orders:read", {}, 400, "invalid_request"),
    (b"grant_type=a&grant_type=b", {}, 400, "invalid_request"),
    (b"\xff\xfe", {}, 400, "invalid_request"),
    (b"&".join(b"f%d=" % i for i in range(50)), {}, 400, "invalid_request"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "headers", "status", "error"), MISTAKES)
async def test_a_client_mistake_is_one_info_line(
    api: Api,
    caplog: pytest.LogCaptureFixture,
    body: bytes,
    headers: dict[str, str],
    status: int,
    error: str,
) -> None:
    caplog.set_level(logging.INFO)
    assert await _post(api, body, {**FORM, **headers}) == status
    _assert_one_info_line(caplog, error)


async def test_a_json_body_is_one_info_line(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    response = await api.http.post("/oauth/token", json={"grant_type": "client_credentials"})
    assert response.status_code == 400
    _assert_one_info_line(caplog, "invalid_request")


async def test_a_good_request_names_no_error(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    assert (await request_token(api, "acme-shop")).status_code == 200
    records = _server_records(caplog)
    assert len(records) == 1
    assert "token_error" not in _event(records[0])


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    """The real app, made before the test so that its logging set-up comes first."""
    app = create_app(settings)
    yield app
    await app.state.components.database.dispose()


async def test_a_client_that_leaves_mid_body_is_one_info_line(
    app: Starlette, caplog: pytest.LogCaptureFixture
) -> None:
    """Its body cut short (a timeout, a dropped connection): nothing to answer, and
    no "Exception in ASGI application" with a traceback."""
    incoming: list[Message] = [
        {"type": "http.request", "body": b"grant_type=cli", "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/oauth/token",
        "raw_path": b"/oauth/token",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", b"100"),
        ],
        "client": ("192.0.2.10", 50_000),
        "server": ("127.0.0.1", 8000),
    }
    caplog.set_level(logging.INFO)
    await app(scope, receive, send)
    _assert_one_info_line(caplog, "client_disconnected")
