"""order(id) and orders(first, after, filter): opaque IDs, keyset cursors, newest first, filters."""

from __future__ import annotations

import asyncio
import base64
import itertools
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID

from tests.conftest import Api
from tests.orders.conftest import order_uuid
from tests.orders.documents import (
    ORDER_PAGE,
    cancel,
    create_order,
    fulfil,
    get_order,
    list_orders,
)


async def create_many(api: Api, count: int, *, prefix: str, as_client: str = "acme-shop") -> None:
    await api.token(as_client)
    for start in range(0, count, 25):
        await asyncio.gather(
            *(
                create_order(api, as_client=as_client, externalId=f"{prefix}-{i}")
                for i in range(start, min(start + 25, count))
            )
        )


async def page(
    api: Api,
    *,
    first: int | None = None,
    after: str | None = None,
    filter: dict[str, Any] | None = None,
    as_client: str = "acme-shop",
) -> Any:
    variables: dict[str, object] = {"after": after, "filter": filter}
    if first is not None:
        variables["first"] = first
    data: Any = await api.data(ORDER_PAGE, variables, as_client=as_client)
    return data["orders"]


def sort_key(node: Any) -> tuple[datetime, UUID]:
    return (datetime.fromisoformat(node["createdAt"]), order_uuid(node["id"]))


def assert_newest_first(nodes: list[Any]) -> None:
    keys = [sort_key(n) for n in nodes]
    assert all(a > b for a, b in itertools.pairwise(keys)), "not strictly newest first"


async def test_pages_of_7_see_each_order_once_while_orders_arrive(api: Api) -> None:
    await create_many(api, 250, prefix="old")
    seen: list[Any] = []
    after: str | None = None
    pages = 0
    while True:
        connection = await page(api, first=7, after=after)
        pages += 1
        edges = connection["edges"]
        info = connection["pageInfo"]
        assert info["hasPreviousPage"] is (after is not None)
        if edges:
            assert info["startCursor"] == edges[0]["cursor"]
            assert info["endCursor"] == edges[-1]["cursor"]
        seen.extend(edge["node"] for edge in edges)
        if not info["hasNextPage"]:
            break
        assert len(edges) == 7
        after = info["endCursor"]
        # New orders arrive between pages: they are newer than every page still to come.
        await create_order(api, externalId=f"new-{pages}")
    assert pages == 36  # 35 full pages and one of 5
    external_ids = [n["externalId"] for n in seen]
    assert len(external_ids) == len(set(external_ids)) == 250
    assert set(external_ids) == {f"old-{i}" for i in range(250)}
    assert_newest_first(seen)
    # The newcomers are at the head of a fresh listing.
    everything = await list_orders(api)
    assert len(everything) == 250 + 35
    # Concurrent creates still hand out distinct order numbers.
    assert len({n["number"] for n in everything}) == 250 + 35
    assert {n["externalId"] for n in everything[:35]} == {f"new-{i}" for i in range(1, 36)}
    assert_newest_first(everything)


async def test_first_is_capped_at_100_and_defaults_to_20(api: Api) -> None:
    await create_many(api, 101, prefix="o")
    capped = await page(api, first=500)
    assert len(capped["edges"]) == 100
    assert capped["pageInfo"]["hasNextPage"] is True
    rest = await page(api, first=500, after=capped["pageInfo"]["endCursor"])
    assert len(rest["edges"]) == 1
    assert rest["pageInfo"]["hasNextPage"] is False
    default = await page(api)
    assert len(default["edges"]) == 20
    assert [e["node"]["id"] for e in default["edges"]] == [
        e["node"]["id"] for e in capped["edges"][:20]
    ]
    assert (await page(api, first=0))["edges"] == []
    assert (await page(api, first=-5))["edges"] == []


async def test_bad_cursors_give_an_empty_page(api: Api) -> None:
    await create_order(api)
    naive = base64.urlsafe_b64encode(
        b"2999-01-01T00:00:00\x1f00000000-0000-0000-0000-000000000000"
    ).decode()
    for cursor in ("garbage", "", "!!!", "eHgfeXk", naive, "T3JkZXI6eHl6"):
        response = await api.graphql(
            ORDER_PAGE, {"first": 5, "after": cursor}, as_client="acme-shop"
        )
        body = response.json()
        assert "errors" not in body, (cursor, body)
        assert body["data"]["orders"]["edges"] == [], cursor


async def test_cursor_past_the_end_and_opaque_ids(api: Api) -> None:
    order = await create_order(api)
    listing = await page(api, first=5)
    assert listing["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": False,
        "startCursor": listing["edges"][0]["cursor"],
        "endCursor": listing["edges"][0]["cursor"],
    }
    after_last = await page(api, first=5, after=listing["pageInfo"]["endCursor"])
    assert after_last["edges"] == []
    assert after_last["pageInfo"]["hasNextPage"] is False
    # IDs are opaque: not the bare database key, and malformed ones find nothing.
    uuid = order_uuid(order["id"])
    assert str(uuid) not in order["id"]
    assert (await get_order(api, order["id"]))["id"] == order["id"]
    tenant_id = base64.urlsafe_b64encode(f"Tenant:{uuid}".encode()).decode()
    for bad in (str(uuid), "garbage", "", tenant_id, order["id"][:-2]):
        assert await get_order(api, bad) is None, bad


async def test_filter_by_status(api: Api) -> None:
    pending = await create_order(api, externalId="pending")
    cancelled = await create_order(api, externalId="cancelled")
    shipped = await create_order(api, externalId="shipped")
    assert (await cancel(api, cancelled["id"]))["userErrors"] == []
    assert (await fulfil(api, shipped["id"], "SHIPPED"))["userErrors"] == []

    async def ids(statuses: list[str]) -> list[str]:
        return [n["externalId"] for n in await list_orders(api, filter={"status": statuses})]

    assert await ids(["CANCELLED"]) == ["cancelled"]
    assert await ids(["PENDING"]) == ["pending"]
    assert await ids(["PENDING", "SHIPPED"]) == ["shipped", "pending"]
    assert await ids(["SHIPPED", "CANCELLED", "PENDING"]) == ["shipped", "cancelled", "pending"]
    assert await ids(["DELIVERED", "ON_HOLD", "ROUTED", "FULFILLING"]) == []
    assert pending["status"] == "PENDING"


async def test_filter_by_merchant(api: Api) -> None:
    acme = await create_order(api)
    globex = await create_order(api, as_client="globex-shop")

    async def ids(client: str, merchant: str | None) -> list[str]:
        filter = {"merchant": merchant} if merchant is not None else None
        return [n["id"] for n in await list_orders(api, as_client=client, filter=filter)]

    assert await ids("acme-shop", "acme") == [acme["id"]]
    assert await ids("acme-shop", "globex") == []
    assert await ids("acme-shop", "no-such-merchant") == []
    assert await ids("globex-shop", "acme") == []
    assert await ids("ops-admin", None) == [globex["id"], acme["id"]]
    assert await ids("ops-admin", "acme") == [acme["id"]]
    assert await ids("ops-admin", "globex") == [globex["id"]]
    assert await ids("ops-admin", "swiftship") == []


async def test_filter_by_external_id(api: Api) -> None:
    await create_order(api, externalId="A-1")
    second = await create_order(api, externalId="A-2")
    third = await create_order(api, externalId="A-2")
    await create_order(api, as_client="globex-shop", externalId="A-2")
    found = await list_orders(api, filter={"externalId": "A-2"})
    assert [n["id"] for n in found] == [third["id"], second["id"]]
    assert await list_orders(api, filter={"externalId": "a-2"}) == []
    assert await list_orders(api, filter={"externalId": "A-"}) == []


async def test_filter_by_creation_time(api: Api) -> None:
    oldest = await create_order(api, externalId="oldest")
    middle = await create_order(api, externalId="middle")
    newest = await create_order(api, externalId="newest")

    async def ids(**filter: Any) -> list[str]:
        return [n["externalId"] for n in await list_orders(api, filter=filter)]

    assert await ids(createdAfter=middle["createdAt"]) == ["newest"]
    assert await ids(createdBefore=middle["createdAt"]) == ["oldest"]
    assert await ids(createdAfter=oldest["createdAt"], createdBefore=newest["createdAt"]) == [
        "middle"
    ]
    assert await ids(createdAfter=newest["createdAt"]) == []
    start = datetime.fromisoformat(oldest["createdAt"]) - timedelta(seconds=1)
    # "Z" and an explicit offset name the same instant; no offset is read as UTC.
    assert await ids(createdAfter=start.strftime("%Y-%m-%dT%H:%M:%S.%fZ")) == [
        "newest",
        "middle",
        "oldest",
    ]
    assert await ids(createdAfter=start.replace(tzinfo=None).isoformat()) == [
        "newest",
        "middle",
        "oldest",
    ]
    in_india = start.astimezone(timezone(timedelta(hours=5, minutes=30))).isoformat()
    assert len(await ids(createdAfter=in_india)) == 3
    assert await ids(createdBefore="2000-01-01T00:00:00") == []
    assert await ids(createdAfter="2000-01-01T00:00:00Z", status=["PENDING"]) == [
        "newest",
        "middle",
        "oldest",
    ]


async def test_platform_admin_pages_across_merchants(api: Api) -> None:
    await create_many(api, 12, prefix="acme")
    await create_many(api, 12, prefix="globex", as_client="globex-shop")
    seen: list[Any] = []
    after: str | None = None
    while True:
        connection = await page(api, first=5, after=after, as_client="ops-admin")
        seen.extend(e["node"] for e in connection["edges"])
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert len(seen) == len({n["id"] for n in seen}) == 24
    assert {n["merchant"]["handle"] for n in seen} == {"acme", "globex"}
    assert_newest_first(seen)
