"""Random sequences of create / cancel / fulfil against the real app keep the invariants:
cancelled <= ordered, the status agrees with the lines, one event per successful change.

Hypothesis drives a synchronous state machine, so the async app runs on an event loop of
its own (pytest-asyncio's loop is never re-entered); the database is the `settings` one.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

import httpx
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from oaas.app import create_app
from oaas.settings import Settings
from tests.conftest import ISSUER, Api
from tests.orders.documents import cancel, create_payload, fulfil, line, order_input

T = TypeVar("T")

STATUSES = ["PENDING", "ON_HOLD", "ROUTED", "FULFILLING", "SHIPPED", "DELIVERED", "CANCELLED"]
FORWARD = ["PENDING", "ROUTED", "FULFILLING", "SHIPPED", "DELIVERED"]
FULFILMENT_TARGETS = {"FULFILLING", "SHIPPED", "DELIVERED"}
CANCELLABLE = {"PENDING", "ON_HOLD", "ROUTED", "FULFILLING"}
UNIT_PRICE = Decimal("2.50")
SKUS = ["A", "B", "C"]

MACHINE_ORDERS = """
query MachineOrders($filter: OrderFilter) {
  orders(first: 100, filter: $filter) {
    edges { node { id status total lines { sku quantity cancelledQuantity }
                   events { type actor } } }
  }
}
"""


class Driver:
    """The app and an HTTP client on a dedicated event loop, for synchronous callers."""

    def __init__(self, settings: Settings) -> None:
        self.loop = asyncio.new_event_loop()
        self.app = create_app(settings)
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=ISSUER)
        self.api = Api(self.http)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def close(self) -> None:
        try:
            self.run(self.http.aclose())
            self.run(self.app.state.components.database.dispose())
            self.run(self.loop.shutdown_asyncgens())
        finally:
            self.loop.close()


@dataclass
class ModelOrder:
    id: str
    quantities: dict[str, int]
    cancelled: dict[str, int]
    status: str = "PENDING"
    events: int = 1  # CREATED

    def remaining(self, sku: str) -> int:
        return self.quantities[sku] - self.cancelled[sku]


@dataclass
class KeyUse:
    quantities: tuple[int, ...]
    order_id: str


@dataclass
class Model:
    orders: dict[str, ModelOrder] = field(default_factory=dict)
    keys: dict[str, KeyUse] = field(default_factory=dict)


def codes(payload: Any) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


class OrderMachine(RuleBasedStateMachine):
    driver: Driver  # set by the test before the machine runs

    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        self.model = Model()
        # Every example shares the database: its orders and keys carry a tag of their own.
        self.tag = f"machine-{uuid.uuid4().hex[:12]}"

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.driver.run(coroutine)

    def check_order(self, payload: Any, order: ModelOrder) -> None:
        assert payload["userErrors"] == [], payload
        got = payload["order"]
        assert got["id"] == order.id
        assert got["status"] == order.status
        assert {x["sku"]: x["cancelledQuantity"] for x in got["lines"]} == order.cancelled
        assert len(got["events"]) == order.events

    def check_refused(self, payload: Any, code: str) -> None:
        assert payload["order"] is None, payload
        assert codes(payload) == [code], payload

    # -- rules ------------------------------------------------------------------

    def _create(
        self, quantities: tuple[int, ...], key: str | None, client: str
    ) -> Any:  # an order id, or multiple() when none was made
        lines = [line(sku, q, str(UNIT_PRICE)) for sku, q in zip(SKUS, quantities, strict=False)]
        full_key = f"{self.tag}-{key}" if key is not None else None
        payload = self.call(
            create_payload(
                self.driver.api,
                order_input(externalId=self.tag, lines=lines),
                as_client=client,
                key=full_key,
            )
        )
        used = self.model.keys.get(key) if key is not None else None
        if used is not None and used.quantities != quantities:
            self.check_refused(payload, "IDEMPOTENCY_CONFLICT")
            return multiple()
        if used is not None:
            self.check_order(payload, self.model.orders[used.order_id])  # replayed, unchanged
            return multiple()
        assert payload["userErrors"] == [], payload
        order_id: str = payload["order"]["id"]
        assert order_id not in self.model.orders
        skus = [x["sku"] for x in lines]
        self.model.orders[order_id] = ModelOrder(
            id=order_id,
            quantities={x["sku"]: x["quantity"] for x in lines},
            cancelled=dict.fromkeys(skus, 0),
        )
        if key is not None:
            self.model.keys[key] = KeyUse(quantities=quantities, order_id=order_id)
        self.check_order(payload, self.model.orders[order_id])
        assert payload["order"]["events"][0]["actor"] == f"acme/{client}"
        return order_id

    @initialize(target=orders)
    def first_order(self) -> Any:
        return self._create((2, 1), None, "acme-shop")

    @rule(
        target=orders,
        quantities=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
        key=st.one_of(st.none(), st.sampled_from(["k1", "k2"])),
        client=st.sampled_from(["acme-shop", "acme-backend"]),
    )
    def create(self, quantities: tuple[int, ...], key: str | None, client: str) -> Any:
        return self._create(quantities, key, client)

    @rule(order_id=orders, reason=st.one_of(st.none(), st.sampled_from(["fraud", "stock"])))
    def cancel_whole(self, order_id: str, reason: str | None) -> None:
        order = self.model.orders[order_id]
        payload = self.call(cancel(self.driver.api, order_id, reason=reason))
        if order.status not in CANCELLABLE:
            self.check_refused(payload, "INVALID_STATE")
            return
        order.cancelled = dict(order.quantities)
        order.status = "CANCELLED"
        order.events += 1
        self.check_order(payload, order)
        if reason is not None:
            assert payload["order"]["cancelReason"] == reason

    @rule(
        order_id=orders,
        picks=st.lists(st.tuples(st.integers(0, 2), st.integers(1, 5)), min_size=1, max_size=2),
    )
    def cancel_lines(self, order_id: str, picks: list[tuple[int, int]]) -> None:
        order = self.model.orders[order_id]
        skus = list(order.quantities)
        wanted = [(skus[i % len(skus)], q) for i, q in picks]
        payload = self.call(
            cancel(self.driver.api, order_id, lines=[{"sku": s, "quantity": q} for s, q in wanted])
        )
        if order.status not in CANCELLABLE:
            self.check_refused(payload, "INVALID_STATE")
            return
        named = [s for s, _ in wanted]
        if len(set(named)) != len(named) or any(q > order.remaining(s) for s, q in wanted):
            assert payload["order"] is None, payload
            assert set(codes(payload)) == {"INVALID"}, payload
            return
        for sku, quantity in wanted:
            order.cancelled[sku] += quantity
        if all(order.remaining(s) == 0 for s in skus):
            order.status = "CANCELLED"
        order.events += 1
        self.check_order(payload, order)

    @rule(order_id=orders, status=st.sampled_from(STATUSES))
    def update_fulfillment(self, order_id: str, status: str) -> None:
        order = self.model.orders[order_id]
        payload = self.call(fulfil(self.driver.api, order_id, status, tracking_number="T-1"))
        if status not in FULFILMENT_TARGETS:
            self.check_refused(payload, "INVALID")
        elif order.status not in FORWARD or FORWARD.index(status) <= FORWARD.index(order.status):
            self.check_refused(payload, "INVALID_STATE")
        else:
            order.status = status
            order.events += 1
            self.check_order(payload, order)

    @rule(order_id=orders, client=st.sampled_from(["globex-shop", "acme-reports"]))
    def outsider_tries(self, order_id: str, client: str) -> None:
        """Another tenant gets NOT_FOUND, a viewer FORBIDDEN; neither changes anything."""
        api = self.driver.api
        if client == "globex-shop":
            for payload in (
                self.call(cancel(api, order_id, as_client=client)),
                self.call(fulfil(api, order_id, "SHIPPED", as_client=client)),
            ):
                self.check_refused(payload, "NOT_FOUND")
        else:
            response = self.call(
                api.graphql(
                    "mutation($id: ID!) { cancelOrder(input: {orderId: $id}) { order { id } } }",
                    {"id": order_id},
                    as_client=client,
                )
            )
            errors = response.json()["errors"]
            assert [e["extensions"]["code"] for e in errors] == ["FORBIDDEN"]

    # -- invariants -------------------------------------------------------------

    @invariant()
    def stored_orders_keep_the_invariants(self) -> None:
        data: Any = self.call(
            self.driver.api.data(
                MACHINE_ORDERS, {"filter": {"externalId": self.tag}}, as_client="acme-reports"
            )
        )
        stored = {edge["node"]["id"]: edge["node"] for edge in data["orders"]["edges"]}
        assert set(stored) == set(self.model.orders)
        for order_id, node in stored.items():
            order = self.model.orders[order_id]
            for x in node["lines"]:
                assert 0 <= x["cancelledQuantity"] <= x["quantity"], node
            fully = all(x["cancelledQuantity"] == x["quantity"] for x in node["lines"])
            assert (node["status"] == "CANCELLED") == fully, node
            remaining = sum(x["quantity"] - x["cancelledQuantity"] for x in node["lines"])
            assert Decimal(node["total"]) == remaining * UNIT_PRICE, node
            assert len(node["events"]) == order.events, node
            assert node["events"][0]["type"] == "CREATED"
            assert all(e["actor"].startswith("acme/") for e in node["events"])
            assert node["status"] == order.status
            assert {x["sku"]: x["cancelledQuantity"] for x in node["lines"]} == order.cancelled


def test_random_sequences_keep_the_invariants(settings: Settings) -> None:
    driver = Driver(settings)
    OrderMachine.driver = driver
    try:
        run_state_machine_as_test(
            OrderMachine,
            settings=hypothesis_settings(
                max_examples=15,
                stateful_step_count=15,
                deadline=None,
                database=None,
                # Shrinking replays hundreds of sequences through the app: minutes, past the
                # test timeout. A failure shows its whole (at most 15 step) sequence instead.
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
    finally:
        driver.close()
