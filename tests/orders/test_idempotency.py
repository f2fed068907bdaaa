"""createOrder idempotency keys, Stripe's semantics: per tenant, 24 hours, then purged."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from oaas.db import SYSTEM_SCOPE
from oaas.db.types import utcnow
from oaas.orders.service import purge_expired_keys
from tests.conftest import Api
from tests.orders.conftest import Db
from tests.orders.documents import create_payload, line, list_orders, order_input


async def test_same_key_same_input_returns_the_first_order(api: Api) -> None:
    first = await create_payload(api, order_input(), key="key-1")
    assert first["userErrors"] == []
    again = await create_payload(api, order_input(), key="key-1")
    assert again["userErrors"] == []
    assert again["order"]["id"] == first["order"]["id"]
    assert again["order"]["number"] == first["order"]["number"]
    assert len(again["order"]["events"]) == 1  # no second CREATED
    # The key belongs to the tenant, whichever of its clients retries.
    other_client = await create_payload(api, order_input(), key="key-1", as_client="acme-backend")
    assert other_client["order"]["id"] == first["order"]["id"]
    assert [o["id"] for o in await list_orders(api)] == [first["order"]["id"]]


async def test_equivalent_input_is_the_same_input(api: Api) -> None:
    first = await create_payload(api, order_input(lines=[line("A", 1, "19.90")]), key="k")
    again = await create_payload(api, order_input(lines=[line("A", 1, "19.9")]), key="k")
    assert again["userErrors"] == []
    assert again["order"]["id"] == first["order"]["id"]


async def test_same_key_other_input_is_a_conflict(api: Api) -> None:
    first = await create_payload(api, order_input(), key="key-1")
    changed = order_input()
    changed["lines"][0]["quantity"] = 3
    for other in (changed, order_input(externalId="web-2"), order_input(currency="USD")):
        conflict = await create_payload(api, other, key="key-1")
        assert conflict["order"] is None
        assert [(e["code"], e["field"]) for e in conflict["userErrors"]] == [
            ("IDEMPOTENCY_CONFLICT", ["idempotencyKey"])
        ]
    assert [o["id"] for o in await list_orders(api)] == [first["order"]["id"]]
    # The conflict did not replace the stored input: the first input still replays.
    again = await create_payload(api, order_input(), key="key-1")
    assert again["order"]["id"] == first["order"]["id"]


async def test_without_a_key_every_call_makes_an_order(api: Api) -> None:
    first = await create_payload(api, order_input())
    second = await create_payload(api, order_input())
    assert first["order"]["id"] != second["order"]["id"]
    assert len(await list_orders(api)) == 2


async def test_keys_are_scoped_per_tenant(api: Api) -> None:
    acme = await create_payload(api, order_input(), key="shared")
    globex = await create_payload(api, order_input(), key="shared", as_client="globex-shop")
    assert globex["userErrors"] == []
    assert globex["order"]["id"] != acme["order"]["id"]
    assert globex["order"]["merchant"] == {"handle": "globex"}
    # Another input under the same key is no conflict in the other tenant.
    other = await create_payload(
        api, order_input(currency="USD"), key="only-acme", as_client="globex-shop"
    )
    mine = await create_payload(api, order_input(), key="only-acme")
    assert other["userErrors"] == []
    assert mine["userErrors"] == []
    assert [o["id"] for o in await list_orders(api)] == [mine["order"]["id"], acme["order"]["id"]]


async def test_key_length(api: Api) -> None:
    longest = "k" * 255
    ok = await create_payload(api, order_input(), key=longest)
    assert ok["userErrors"] == []
    assert (await create_payload(api, order_input(), key=longest))["order"]["id"] == ok["order"][
        "id"
    ]
    for bad in ("k" * 256, ""):
        payload = await create_payload(api, order_input(), key=bad)
        assert payload["order"] is None
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
            ("INVALID", ["idempotencyKey"])
        ]
    assert len(await list_orders(api)) == 1


async def test_key_is_kept_24_hours(api: Api, db: Db) -> None:
    await create_payload(api, order_input(), key="ttl")
    [(key, created_at, expires_at)] = await db.keys()
    assert key == "ttl"
    assert expires_at - created_at == timedelta(hours=24)
    # A minute before it expires it still replays.
    first = (await list_orders(api))[0]
    assert await db.set_key_expiry("ttl", utcnow() + timedelta(minutes=1)) == 1
    again = await create_payload(api, order_input(), key="ttl")
    assert again["order"]["id"] == first["id"]


async def test_expired_key_makes_a_new_order(api: Api, db: Db) -> None:
    first = await create_payload(api, order_input(), key="old")
    assert await db.set_key_expiry("old", utcnow() - timedelta(seconds=1)) == 1
    second = await create_payload(api, order_input(), key="old")
    assert second["userErrors"] == []
    assert second["order"]["id"] != first["order"]["id"]
    # The key is claimed afresh for the new order, for another 24 hours.
    third = await create_payload(api, order_input(), key="old")
    assert third["order"]["id"] == second["order"]["id"]
    [(_, created_at, expires_at)] = await db.keys()
    assert expires_at - created_at == timedelta(hours=24)
    assert expires_at > utcnow() + timedelta(hours=23)
    # Once expired, another input under the key is no conflict either.
    assert await db.set_key_expiry("old", utcnow() - timedelta(hours=1)) == 1
    fourth = await create_payload(api, order_input(currency="USD"), key="old")
    assert fourth["userErrors"] == []
    assert len(await list_orders(api)) == 3


async def test_purge_expired_keys(api: Api, db: Db) -> None:
    for key in ("a", "b", "c", "d"):
        await create_payload(api, order_input(externalId=key), key=key)
    await create_payload(api, order_input(), key="a", as_client="globex-shop")
    past = utcnow() - timedelta(minutes=5)
    assert await db.set_key_expiry("a", past) == 2  # acme's and globex's
    assert await db.set_key_expiry("b", past) == 1
    async with db.database.session(write=True, scope=SYSTEM_SCOPE) as session:
        assert await purge_expired_keys(session, batch=2) == 2
    async with db.database.session(write=True, scope=SYSTEM_SCOPE) as session:
        assert await purge_expired_keys(session) == 1
    async with db.database.session(write=True, scope=SYSTEM_SCOPE) as session:
        assert await purge_expired_keys(session) == 0
    assert [k for k, _, _ in await db.keys()] == ["c", "d"]
    # Purged keys are free again; live ones still replay.
    orders_before = await list_orders(api)
    fresh = await create_payload(api, order_input(externalId="b"), key="b")
    assert fresh["order"]["id"] not in {o["id"] for o in orders_before}
    replay = await create_payload(api, order_input(externalId="c"), key="c")
    assert replay["order"]["id"] in {o["id"] for o in orders_before}


async def test_concurrent_retries_make_one_order(api: Api) -> None:
    await api.token("acme-shop")
    payloads = await asyncio.gather(
        *(create_payload(api, order_input(), key="race") for _ in range(10))
    )
    assert all(p["userErrors"] == [] for p in payloads), payloads
    assert len({p["order"]["id"] for p in payloads}) == 1
    [order] = await list_orders(api)
    assert order["id"] == payloads[0]["order"]["id"]


async def test_concurrent_conflicting_inputs_make_one_order(api: Api) -> None:
    await api.token("acme-shop")
    inputs = [order_input(externalId=f"race-{i % 2}") for i in range(8)]
    payloads = await asyncio.gather(*(create_payload(api, x, key="race") for x in inputs))
    winners = {p["order"]["id"] for p in payloads if p["order"] is not None}
    assert len(winners) == 1
    [order] = await list_orders(api)
    won = order["externalId"]
    for x, p in zip(inputs, payloads, strict=True):
        if x["externalId"] == won:
            assert p["order"]["id"] == order["id"]
        else:
            assert [e["code"] for e in p["userErrors"]] == ["IDEMPOTENCY_CONFLICT"]
