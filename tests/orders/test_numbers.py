"""Order numbers: unique per merchant, consecutive, taken last in the order's transaction."""

from __future__ import annotations

import asyncio

from oaas.orders.service import UNNUMBERED
from tests.conftest import Api
from tests.orders.documents import create_order, create_payload, order_input


def _sequence(numbers: list[str], handle: str) -> list[int]:
    assert all(n.startswith(f"{handle}-") for n in numbers), numbers
    return sorted(int(n.split("-", 1)[1]) for n in numbers)


async def test_concurrent_creates_of_one_merchant_take_consecutive_numbers(api: Api) -> None:
    await api.token("acme-shop")
    await api.token("globex-shop")
    created = await asyncio.gather(
        *(create_order(api, externalId=f"c-{i}") for i in range(12)),
        *(create_order(api, as_client="globex-shop", externalId=f"g-{i}") for i in range(4)),
    )
    assert _sequence([o["number"] for o in created[:12]], "ACME") == list(range(1001, 1013))
    assert _sequence([o["number"] for o in created[12:]], "GLOBEX") == list(range(1001, 1005))


async def test_a_refused_or_replayed_create_takes_no_number(api: Api) -> None:
    first = await create_order(api, key="numbers-1")
    assert first["number"] == "ACME-1001"
    refused = await create_payload(api, order_input(lines=[]), as_client="acme-shop")
    assert refused["order"] is None
    assert refused["userErrors"]
    replayed = await create_order(api, key="numbers-1")
    assert replayed["number"] == "ACME-1001"
    assert (await create_order(api))["number"] == "ACME-1002"


async def test_the_answer_and_the_stored_order_carry_the_final_number(api: Api) -> None:
    created = await create_order(api, externalId="stored")
    assert not created["number"].startswith(UNNUMBERED)
    listed = await api.data(
        "query($id: ID!) { order(id: $id) { number } }",
        {"id": created["id"]},
        as_client="acme-shop",
    )
    assert listed["order"]["number"] == created["number"]  # type: ignore[index]
