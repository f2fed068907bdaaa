"""DataLoaders, `<Entity>By<Key>Loader`: one query per batch, whatever the page size."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from uuid import UUID

from strawberry.dataloader import DataLoader

from oaas.graphql.context import Context
from oaas.orders.records import EventRecord, LineRecord, OrderRecord
from oaas.orders.repository import OrderRepository
from oaas.tenancy.models import Tenant
from oaas.tenancy.service import tenants_by_id


def _order_key(order: OrderRecord) -> tuple[UUID, UUID]:
    return order.key


def loader(
    context: Context,
    name: str,
    batch: Callable[[Sequence[Any]], Awaitable[Sequence[Any]]],
    cache_key: Callable[[Any], Any] | None = None,
) -> DataLoader[Any, Any]:
    loader = context.loaders.get(name)
    if loader is None:

        async def guarded(keys: list[Any]) -> Sequence[Any]:
            async with context.session_lock:
                return await batch(keys)

        loader = DataLoader(load_fn=guarded, cache_key_fn=cache_key)
        context.loaders[name] = loader
    return loader


def tenant_by_id_loader(context: Context) -> DataLoader[UUID, Tenant]:
    async def batch(ids: Sequence[UUID]) -> list[Tenant]:
        found = await tenants_by_id(context.session, ids)
        return [found[i] for i in ids]

    return loader(context, "TenantByIdLoader", batch)


def lines_by_order_loader(context: Context) -> DataLoader[OrderRecord, list[LineRecord]]:
    async def batch(orders: Sequence[OrderRecord]) -> list[list[LineRecord]]:
        repository = OrderRepository(context.session, context.principal)
        found = await repository.lines_of(orders)
        return [found.get(o.key, []) for o in orders]

    return loader(context, "LinesByOrderLoader", batch, _order_key)


def events_by_order_loader(context: Context) -> DataLoader[OrderRecord, list[EventRecord]]:
    async def batch(orders: Sequence[OrderRecord]) -> list[list[EventRecord]]:
        repository = OrderRepository(context.session, context.principal)
        keys = [o.key for o in orders]
        found = await repository.events_of(keys)
        return [found.get(k, []) for k in keys]

    return loader(context, "EventsByOrderLoader", batch, _order_key)
