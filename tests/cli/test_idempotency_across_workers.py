"""Concurrent retries with one key, across worker processes: exactly one order per key.

Runs the real `oaas serve --workers 2` on each database and fires 200 createOrder
requests over 20 idempotency keys at it at once.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import DEMO_SECRET
from tests.orders.documents import CREATE_ORDER, ORDERS, order_input
from tests.servers import serve

KEYS = 20
REQUESTS = 200


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
    with serve(database_url, tmp_path) as base:
        yield base


async def test_two_workers_make_one_order_per_key(server: str) -> None:
    async with httpx.AsyncClient(base_url=server, timeout=60) as http:
        token_response = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=("acme-shop", DEMO_SECRET),
        )
        headers = {"Authorization": f"Bearer {token_response.json()['access_token']}"}

        async def create(index: int) -> tuple[str, str]:
            key = f"retry-{index % KEYS}"
            body = {
                "query": CREATE_ORDER,
                "variables": {"input": order_input(externalId=key), "key": key},
            }
            response = await http.post("/graphql", json=body, headers=headers)
            assert response.status_code == 200, response.text
            payload = response.json()["data"]["createOrder"]
            assert payload["userErrors"] == [], payload
            return key, payload["order"]["id"]

        results = await asyncio.gather(*(create(i) for i in range(REQUESTS)))
        order_of_key: dict[str, set[str]] = {}
        for key, order_id in results:
            order_of_key.setdefault(key, set()).add(order_id)
        assert len(order_of_key) == KEYS
        assert all(len(ids) == 1 for ids in order_of_key.values()), order_of_key

        listed = await http.post(
            "/graphql", json={"query": ORDERS, "variables": {"first": 100}}, headers=headers
        )
        edges = listed.json()["data"]["orders"]["edges"]
        assert len(edges) == KEYS
        assert Counter(e["node"]["externalId"] for e in edges) == Counter(
            f"retry-{i}" for i in range(KEYS)
        )
        numbers = {e["node"]["number"] for e in edges}
        assert len(numbers) == KEYS
