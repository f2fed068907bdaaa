"""The token endpoint under attack: failed authentications are limited per client id
and per address before any secret is hashed, hashes computed at once are bounded, and
a good client keeps getting tokens while another id is attacked."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.applications import Starlette

from oaas.app import create_app
from oaas.auth.credentials import ClientAuthenticator
from oaas.auth.throttle import address_key
from oaas.settings import Settings
from oaas.tenancy.secrets import MEMORY_COST_KIB, needs_rehash, verify_secret
from tests.auth.conftest import assert_oauth_error, request_token, viewer
from tests.conftest import DEMO_SECRET, ISSUER, Api

ATTACKER = "203.0.113.7"
GOOD = "198.51.100.20"
REDIS_URL = os.environ.get("OAAS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


class Seen(Api):
    """The gateway as seen from one address."""

    def __init__(self, http: httpx.AsyncClient, app: Starlette) -> None:
        super().__init__(http)
        self.app = app


def _hashes(api: Seen) -> int:
    """Secret hashes the app computed so far."""
    authenticator: ClientAuthenticator = api.app.state.components.client_authenticator
    return authenticator.checks.hashes


OpenGateway = Callable[..., Awaitable[Seen]]


@pytest.fixture
async def gateway(settings: Settings) -> AsyncIterator[OpenGateway]:
    """Opens the real app with some settings changed, as seen from a given address."""
    apps: dict[str, Starlette] = {}
    async with AsyncExitStack() as stack:

        async def open_gateway(address: str, app_name: str = "one", **changes: Any) -> Seen:
            if app_name not in apps:
                app = create_app(settings.model_copy(update=changes))
                apps[app_name] = app
                stack.push_async_callback(app.state.components.database.dispose)
                stack.push_async_callback(app.state.components.client_authenticator.close)
            transport = httpx.ASGITransport(app=apps[app_name], client=(address, 50_000))
            http = await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url=ISSUER)
            )
            return Seen(http, apps[app_name])

        yield open_gateway


def _assert_throttled(response: httpx.Response) -> int:
    assert_oauth_error(response, 429, "temporarily_unavailable")
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 60
    return retry_after


async def _timed(call: Any) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = await call
    return response, time.perf_counter() - started


async def test_failures_for_one_client_id_are_limited_before_any_hash(
    gateway: OpenGateway,
) -> None:
    api = await gateway(ATTACKER, token_failures_per_client=5, token_failures_per_address=100)
    failed = []
    for _ in range(5):
        response, elapsed = await _timed(request_token(api, "acme-shop", "wrong-secret"))
        assert_oauth_error(response, 401, "invalid_client")
        failed.append(elapsed)
    hashes = _hashes(api)
    assert hashes == 5

    response, elapsed = await _timed(request_token(api, "acme-shop", "wrong-secret"))
    _assert_throttled(response)
    assert _hashes(api) == hashes, "a refused attempt computed a hash"
    assert elapsed < min(failed), (elapsed, failed)
    # The right secret is refused too while the id is locked: nothing tells it apart.
    _assert_throttled(await request_token(api, "acme-shop", DEMO_SECRET))
    _assert_throttled(await request_token(api, "acme-shop", post_credentials=True))
    assert _hashes(api) == hashes


async def test_unknown_client_ids_are_limited_like_known_ones(
    gateway: OpenGateway,
) -> None:
    api = await gateway(ATTACKER, token_failures_per_client=3, token_failures_per_address=100)
    for client_id in ("acme-shop", "no-such-client"):
        answers = [await request_token(api, client_id, "wrong-secret") for _ in range(4)]
        assert [a.status_code for a in answers] == [401, 401, 401, 429], client_id
    assert _hashes(api) == 6


async def test_failures_from_one_address_are_limited(gateway: OpenGateway) -> None:
    limits = {"token_failures_per_client": 100, "token_failures_per_address": 3}
    attacker = await gateway(ATTACKER, **limits)
    neighbour = await gateway(GOOD)
    for client_id in ("nobody-1", "nobody-2", "acme-shop"):
        assert_oauth_error(await request_token(attacker, client_id, "guess"), 401, "invalid_client")
    hashes = _hashes(attacker)

    response, _ = await _timed(request_token(attacker, "nobody-3", "guess"))
    _assert_throttled(response)
    # Good credentials from that address wait too (they cannot be known good unhashed).
    _assert_throttled(await request_token(attacker, "acme-reports"))
    assert _hashes(attacker) == hashes
    # Another address is not held back, whatever it asks for.
    assert (await request_token(neighbour, "acme-reports")).status_code == 200
    assert_oauth_error(await request_token(neighbour, "nobody-3", "guess"), 401, "invalid_client")


def test_an_ipv6_source_is_its_64() -> None:
    assert (
        address_key("2001:db8:1:2::1")
        == address_key("2001:db8:1:2:ffff::9")
        == ("2001:db8:1:2::/64")
    )
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert address_key("192.0.2.1") == "192.0.2.1"


async def test_success_does_not_spend_the_failure_budget(gateway: OpenGateway) -> None:
    api = await gateway(ATTACKER, token_failures_per_client=3, token_failures_per_address=3)
    for _ in range(2):
        assert_oauth_error(await request_token(api, "acme-shop", "wrong"), 401, "invalid_client")
    for post in (False, True, False, True, False):
        response = await request_token(api, "acme-shop", post_credentials=post)
        assert response.status_code == 200, response.text
    assert_oauth_error(await request_token(api, "acme-shop", "wrong"), 401, "invalid_client")
    _assert_throttled(await request_token(api, "acme-shop", "wrong"))


async def test_a_good_client_keeps_its_tokens_while_another_id_is_locked(
    gateway: OpenGateway,
) -> None:
    limits = {"token_failures_per_client": 3, "token_failures_per_address": 100}
    attacker = await gateway(ATTACKER, **limits)
    good = await gateway(GOOD)
    # acme-shop got a token before the attack; acme-reports asks during it.
    assert (await request_token(good, "acme-shop")).status_code == 200
    for _ in range(3):
        await request_token(attacker, "acme-shop", "wrong")
        await request_token(attacker, "globex-shop", "wrong")
    _assert_throttled(await request_token(attacker, "acme-shop", "wrong"))
    _assert_throttled(await request_token(attacker, "globex-shop", "wrong"))

    hashes = _hashes(good)
    for _ in range(3):
        response = await request_token(good, "acme-reports")
        assert response.status_code == 200, response.text
        assert (await viewer(good, response.json()["access_token"])).status_code == 200
    assert _hashes(good) == hashes + 1, "a repeated fetch of a verified secret hashed again"
    # The holder of the attacked id's secret, verified lately, is not locked out with it.
    assert (await request_token(good, "acme-shop")).status_code == 200
    assert _hashes(good) == hashes + 1


async def test_the_hash_queue_is_bounded_and_good_clients_skip_it(
    gateway: OpenGateway,
) -> None:
    settings = {"token_hash_concurrency": 1, "token_hash_queue": 0}
    good = await gateway(GOOD, **settings)
    assert (await request_token(good, "acme-reports")).status_code == 200
    attackers = [await gateway(f"203.0.113.{n}") for n in range(1, 9)]
    before = _hashes(good)

    answers = await asyncio.gather(
        *(request_token(a, f"nobody-{uuid.uuid4().hex[:8]}", "guess") for a in attackers),
        request_token(good, "acme-reports"),
    )
    *bad, mine = answers
    assert mine.status_code == 200, mine.text
    statuses = sorted(a.status_code for a in bad)
    assert 401 in statuses
    assert 503 in statuses, statuses
    for answer in bad:
        if answer.status_code == 503:
            assert_oauth_error(answer, 503, "temporarily_unavailable")
            assert answer.headers["retry-after"] == "1"
    assert _hashes(good) - before == statuses.count(401)


async def test_a_rotated_secret_is_not_remembered(gateway: OpenGateway) -> None:
    api = await gateway(GOOD)
    assert (await request_token(api, "acme-shop")).status_code == 200
    rotated = await api.data(
        'mutation { rotateApiClientSecret(clientId: "acme-shop") { clientSecret } }',
        as_client="acme-backend",
    )
    new_secret = rotated["rotateApiClientSecret"]["clientSecret"]  # type: ignore[index]
    assert_oauth_error(await request_token(api, "acme-shop"), 401, "invalid_client")
    assert (await request_token(api, "acme-shop", new_secret)).status_code == 200


async def test_an_old_hash_is_replaced_on_success(gateway: OpenGateway, settings: Settings) -> None:
    """Hashes made with argon2-cffi's defaults (64 MiB) still verify, and are stored
    again with today's parameters once the secret has been shown to be right."""
    old_hash = PasswordHasher().hash(DEMO_SECRET)
    assert needs_rehash(old_hash)
    engine = create_async_engine(settings.migrations_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE api_clients SET secret_hash = :h WHERE client_id = 'acme-shop'"),
                {"h": old_hash},
            )
        api = await gateway(GOOD)
        response = await request_token(api, "acme-shop")
        assert response.status_code == 200, response.text
        assert (await viewer(api, response.json()["access_token"])).status_code == 200
        async with engine.connect() as conn:
            stored = (
                await conn.execute(
                    text("SELECT secret_hash FROM api_clients WHERE client_id = 'acme-shop'")
                )
            ).scalar_one()
    finally:
        await engine.dispose()
    assert stored != old_hash
    assert f"m={MEMORY_COST_KIB}," in stored
    assert verify_secret(stored, DEMO_SECRET)
    assert not needs_rehash(stored)
    # Not a new secret: tokens issued with the old hash still work.
    assert (await viewer(api, response.json()["access_token"])).status_code == 200
    assert (await request_token(api, "acme-shop")).status_code == 200


async def test_too_many_parameters_are_refused_at_once(gateway: OpenGateway) -> None:
    """A megabyte of form fields is refused before anything compares them (pairwise
    comparison took minutes of the event loop)."""
    api = await gateway(ATTACKER)
    body = "grant_type=client_credentials&" + "&".join(f"f{i}=" for i in range(100_000))
    response, elapsed = await _timed(
        api.http.post(
            "/oauth/token",
            content=body.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    )
    assert_oauth_error(response, 400, "invalid_request")
    assert "parameters" in response.json()["error_description"]
    assert elapsed < 0.5, elapsed


def _redis_available() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception:
        return False
    return True


async def test_workers_share_failure_counts_in_redis(gateway: OpenGateway) -> None:
    if not _redis_available():
        pytest.skip(f"shared failure counts need Redis at {REDIS_URL} (OAAS_TEST_REDIS_URL)")
    shared = {
        "redis_url": REDIS_URL,
        "redis_prefix": f"oaas:test:{uuid.uuid4().hex}:",
        "token_failures_per_client": 4,
    }
    first = await gateway(ATTACKER, "first", **shared)
    second = await gateway(ATTACKER, "second", **shared)
    for api in (first, second, first, second):
        assert_oauth_error(await request_token(api, "acme-shop", "wrong"), 401, "invalid_client")
    _assert_throttled(await request_token(first, "acme-shop", "wrong"))
    _assert_throttled(await request_token(second, "acme-shop", "wrong"))
    assert (await request_token(second, "acme-reports")).status_code == 200


async def test_a_burst_of_one_clients_token_requests_shares_one_check(api: Api) -> None:
    """A client's workers starting at once present the same secret together: one hash
    answers them all, and none is turned away by the hash queue."""
    answers = await asyncio.gather(
        *(
            api.http.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=("acme-backend", DEMO_SECRET),
            )
            for _ in range(24)
        )
    )
    assert [a.status_code for a in answers] == [200] * 24
