"""Per-tenant leaky buckets: a tenant on a tiny plan is throttled, others are not,
and with Redis every worker process shares the one bucket."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from oaas.settings import Settings
from tests.conftest import DEMO_SECRET, Api
from tests.servers import serve

# 20 aliases of viewer { tenant { handle } }: 2 points each, 40 in all.
HEAVY = "{ " + " ".join(f"v{i}: viewer {{ tenant {{ handle }} }}" for i in range(20)) + " }"
REDIS_URL = os.environ.get("OAAS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def _put_on_tiny_plan(database_url: str, tenant: str, restore_rate: float) -> None:
    engine = create_async_engine(database_url)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO plans (name, bucket_size, restore_rate, max_query_cost, updated_at) "
                "VALUES ('tiny', 50, :rate, 40, CURRENT_TIMESTAMP)"
            ),
            {"rate": restore_rate},
        )
        await conn.execute(
            text("UPDATE tenants SET plan = 'tiny' WHERE handle = :h"), {"h": tenant}
        )
    await engine.dispose()


async def test_a_tenant_over_its_bucket_is_throttled_and_others_are_not(
    api: Api, settings: Settings
) -> None:
    await _put_on_tiny_plan(settings.migrations_url, "acme", restore_rate=0.5)
    first = await api.graphql(HEAVY, as_client="acme-shop")
    assert first.status_code == 200
    assert first.json()["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 10
    second = await api.graphql(HEAVY, as_client="acme-shop")
    assert second.status_code == 429
    body = second.json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["THROTTLED"]
    assert int(second.headers["Retry-After"]) >= 60  # (40 - 10) / 0.5 points a second
    assert body["extensions"]["cost"]["throttleStatus"]["maximumAvailable"] == 50.0
    # Nothing ran: the throttled query has no data.
    assert body["data"] is None
    other = await api.graphql(HEAVY, as_client="globex-shop")
    assert other.status_code == 200
    assert "errors" not in other.json()


def _redis_available() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception:
        return False
    return True


@pytest.fixture
def two_workers(database_url: str, tmp_path: Path) -> Iterator[str]:
    if not _redis_available():
        pytest.skip(f"shared buckets need Redis at {REDIS_URL} (OAAS_TEST_REDIS_URL)")
    prefix = f"oaas-test:{uuid.uuid4().hex}:"
    with serve(
        database_url, tmp_path, env={"OAAS_REDIS_URL": REDIS_URL, "OAAS_REDIS_PREFIX": prefix}
    ) as base:
        yield base


async def test_two_workers_share_one_bucket_in_redis(database_url: str, two_workers: str) -> None:
    # Restoring one point in 100 s: the 50-point bucket allows exactly one 40-point query.
    await _put_on_tiny_plan(database_url, "acme", restore_rate=0.01)
    async with httpx.AsyncClient(base_url=two_workers, timeout=30) as http:
        token = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=("acme-shop", DEMO_SECRET),
        )
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}

        async def call() -> int:
            response = await http.post("/graphql", json={"query": HEAVY}, headers=headers)
            return response.status_code

        statuses: list[Any] = await asyncio.gather(*(call() for _ in range(20)))
    assert sorted(statuses) == [200] + [429] * 19


async def test_plans_come_from_the_manifest(empty_database_url: str, tmp_path: Path) -> None:
    manifest = tmp_path / "plans.yaml"
    manifest.write_text(
        "plans:\n"
        "  - {name: tiny, bucket_size: 50, restore_rate: 0.5, max_query_cost: 40}\n"
        "tenants:\n"
        "  - handle: shop\n    name: Shop\n    kind: merchant\n    plan: tiny\n"
        "    clients:\n      - {client_id: shop-app, secret: shop-app-secret-1, roles: [merchant_operator]}\n"
    )
    env = {**os.environ, "OAAS_DATABASE_URL": empty_database_url}

    def apply(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "oaas", "tenants", "apply", str(manifest), *extra],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    first = apply()
    assert first.returncode == 0, first.stderr
    assert "plan tiny: created" in first.stdout.splitlines()
    again = apply()
    assert "plan tiny: unchanged" in again.stdout.splitlines()
    manifest.write_text(manifest.read_text().replace("plan: tiny", "plan: huge"))
    missing = apply()
    assert missing.returncode == 2
    assert "plans.yaml: tenants[0].plan: no plan 'huge'" in missing.stderr
    manifest.write_text(manifest.read_text().replace("max_query_cost: 40", "max_query_cost: 99"))
    bad = apply()
    assert bad.returncode == 2
    assert "plans.yaml: plans[0].max_query_cost: must not exceed bucket_size" in bad.stderr
