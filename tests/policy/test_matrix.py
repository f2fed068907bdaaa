"""Runs every row of matrix.py through the API, and keeps the matrix complete.

One test per role-state (and database): it sets the state up once, runs all the
role-state's rows and reports every mismatch at once. Reads use shared objects;
every mutation row gets a fresh object (a new order, client, grant...) so rows
never interfere. A mutation that does not answer ALLOWED must change nothing,
and a NOT_FOUND must read exactly like the answer for a made-up object.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from graphql import GraphQLObjectType
from graphql import build_schema as parse_sdl
from sqlalchemy import update
from sqlalchemy.ext.asyncio import create_async_engine

from oaas.db.types import utcnow
from oaas.graphql.ids import from_global_id, to_global_id
from oaas.graphql.schema import build_schema
from oaas.settings import Settings
from oaas.sharing.visibility import grants
from tests.conftest import Api
from tests.orders.documents import order_input
from tests.policy.matrix import MATRIX, Obj, Outcome, RoleState, Row, rows_for
from tests.routing.documents import node_input

Json = Any
PLATFORM_ADMIN = "ops-admin"
NO_GRANT_CLIENT = "loner-tms"
MADE_UP_TENANT = "no-such-tenant"
MADE_UP_CLIENT = "no-such-client"

# The caller of each role-state: (client id, its role, tenant handle, tenant kind).
# The no-grant partner's tenant is made per test, its handle set then.
CALLERS: dict[RoleState, tuple[str, str, str, str]] = {
    RoleState.PLATFORM_ADMIN: (PLATFORM_ADMIN, "platform_admin", "ops", "platform"),
    RoleState.MERCHANT_ADMIN: ("acme-backend", "merchant_admin", "acme", "merchant"),
    RoleState.MERCHANT_OPERATOR: ("acme-shop", "merchant_operator", "acme", "merchant"),
    RoleState.MERCHANT_VIEWER: ("acme-reports", "merchant_viewer", "acme", "merchant"),
    RoleState.PARTNER_ADMIN: ("swiftship-admin", "partner_admin", "swiftship", "partner"),
    RoleState.PARTNER_NO_GRANT: (NO_GRANT_CLIENT, "partner_operator", "", "partner"),
    RoleState.PARTNER_LOGISTICS: ("swiftship-tms", "partner_operator", "swiftship", "partner"),
    RoleState.PARTNER_FULL: ("swiftship-tms", "partner_operator", "swiftship", "partner"),
    RoleState.PARTNER_READ_ONLY: ("swiftship-tms", "partner_operator", "swiftship", "partner"),
    RoleState.PARTNER_REVOKED: ("swiftship-tms", "partner_operator", "swiftship", "partner"),
    RoleState.PARTNER_EXPIRED: ("swiftship-tms", "partner_operator", "swiftship", "partner"),
}
# The demo tenants (tenants/demo.yaml) as the API shows them, and their clients.
DEMO_TENANTS: dict[str, Json] = {
    "acme": {"handle": "acme", "name": "Acme Appliances", "kind": "MERCHANT", "status": "ACTIVE"},
    "globex": {
        "handle": "globex",
        "name": "Globex Corporation",
        "kind": "MERCHANT",
        "status": "ACTIVE",
    },
    "ops": {"handle": "ops", "name": "Platform Operations", "kind": "PLATFORM", "status": "ACTIVE"},
    "swiftship": {
        "handle": "swiftship",
        "name": "SwiftShip Logistics",
        "kind": "PARTNER",
        "status": "ACTIVE",
    },
}
DEMO_CLIENTS: dict[str, list[str]] = {
    "acme": ["acme-backend", "acme-reports", "acme-shop"],
    "globex": ["globex-backend", "globex-shop"],
    "ops": [PLATFORM_ADMIN],
    "swiftship": ["swiftship-admin", "swiftship-tms"],
}
# A role a new client of each tenant kind gets.
ROLE_OF_KIND = {
    "merchant": "merchant_viewer",
    "partner": "partner_operator",
    "platform": "platform_admin",
}
# What order_input() makes, as the API shows it.
TOTAL, EMAIL, UNIT_PRICES = "88.80", "jane@example.com", ["19.90", "49.00"]
# The fulfilment nodes of every world: acme's own and globex's (stocking ROUTABLE_SKU,
# so an order of it is routed), and one swiftship operates for acme. Orders of
# order_input() find no stock and stay PENDING, with a decision saying why.
ACME_NODE, PARTNER_NODE, GLOBEX_NODE = "ACME-1", "SWIFT-1", "GLOBEX-1"
ROUTABLE_SKU, PARTNER_SKU = "MATRIX-ROUTABLE", "MATRIX-PARTNER"
MADE_UP_NODE = "NO-SUCH-NODE"
# Marks acme's risk profile, so that a reader can tell whose it is shown.
ACME_RISK_MARK = "acme-matrix.invalid"
# globex's routing profile's cost weight (acme keeps the default, 1).
GLOBEX_COST_WEIGHT = 3.0

USER_ERRORS = "userErrors { field message code }"
CREATE_ORDER = f"""mutation ($input: CreateOrderInput!) {{
  createOrder(input: $input) {{ order {{ id status merchant {{ handle }} }} {USER_ERRORS} }} }}"""
CANCEL_ORDER = f"""mutation ($input: CancelOrderInput!) {{
  cancelOrder(input: $input) {{ order {{ id status }} {USER_ERRORS} }} }}"""
UPDATE_FULFILLMENT = f"""mutation ($input: UpdateFulfillmentInput!) {{
  updateFulfillment(input: $input) {{ order {{ id status }} {USER_ERRORS} }} }}"""
GRANT = f"""mutation ($input: GrantOrderAccessInput!) {{
  grantOrderAccess(input: $input) {{
    grant {{ id merchant {{ handle }} partner {{ handle }} }} {USER_ERRORS} }} }}"""
REVOKE = f"""mutation ($grantId: ID!) {{
  revokeOrderAccess(grantId: $grantId) {{ grant {{ id revokedAt }} {USER_ERRORS} }} }}"""
CREATE_TENANT = f"""mutation ($input: CreateTenantInput!) {{
  createTenant(input: $input) {{ tenant {{ handle name kind status }} {USER_ERRORS} }} }}"""
UPDATE_TENANT = f"""mutation ($input: UpdateTenantInput!) {{
  updateTenant(input: $input) {{ tenant {{ handle name }} {USER_ERRORS} }} }}"""
CREATE_CLIENT = f"""mutation ($input: CreateApiClientInput!) {{
  createApiClient(input: $input) {{
    apiClient {{ clientId roles tenant {{ handle }} }} clientSecret {USER_ERRORS} }} }}"""
ROTATE_SECRET = f"""mutation ($clientId: String!) {{
  rotateApiClientSecret(clientId: $clientId) {{
    apiClient {{ clientId tenant {{ handle }} }} clientSecret {USER_ERRORS} }} }}"""
SET_SLA = f"""mutation ($input: SetTenantSlaInput!) {{
  setTenantSla(input: $input) {{ sla {{ tenant availability }} {USER_ERRORS} }} }}"""
DELETE_CLIENT = f"""mutation ($clientId: String!) {{
  deleteApiClient(clientId: $clientId) {{ deletedClientId {USER_ERRORS} }} }}"""

VIEWER = "{ viewer { clientId roles tenant { handle } } }"
ORDER = "query ($id: ID!) { order(id: $id) { id } }"
ORDERS = "{ orders(first: 50) { edges { node { id } } } }"
GRANTS = "{ orderAccessGrants { id } }"
FEED_EVENTS = "{ events(first: 100) { edges { node { orderId } } } }"
TENANTS = "{ tenants(first: 50) { edges { node { handle name kind status } } } }"
TENANT = "query ($handle: String!) { tenant(handle: $handle) { handle name kind status } }"
API_CLIENTS = (
    "query ($tenant: String) { apiClients(tenant: $tenant) { clientId tenant { handle } } }"
)
SLA_REPORT = "query ($tenant: String) { slaReport(tenant: $tenant) { tenants { tenant } } }"
SLA_ALERTS = "query ($tenant: String) { slaAlerts(tenant: $tenant) { tenant } }"
TENANT_SLA = "query ($tenant: String) { tenantSla(tenant: $tenant) { tenant availability } }"
AUDIT_LOG = """query ($tenant: String) {
  auditLog(first: 50, tenant: $tenant) { edges { node { act tenant { handle } } } } }"""
FULFILLMENT_NODES = """query ($merchant: String) {
  fulfillmentNodes(merchant: $merchant) { code name operatedByPartner stock { sku onHand } } }"""
ROUTING_PROFILE = """query ($merchant: String) {
  routingProfile(merchant: $merchant) { version costWeight } }"""
FAIRNESS = """query ($merchant: String, $since: DateTime!, $until: DateTime!) {
  routingFairnessReport(merchant: $merchant, since: $since, until: $until) {
    since until regions { region routed } } }"""
RISK_POLICY = """holdThreshold mediumThreshold velocityWindowHours velocityLimits
  distinctAddressesLimit extraDisposableDomains"""
RISK_PROFILE = f"{{ riskProfile {{ version {RISK_POLICY} }} }}"

PUT_NODE = f"""mutation ($input: FulfillmentNodeInput!) {{
  putFulfillmentNode(input: $input) {{
    node {{ code name operatedByPartner }} created {USER_ERRORS} }} }}"""
SET_STOCK = f"""mutation ($input: SetStockLevelsInput!) {{
  setStockLevels(input: $input) {{ changed ordersWoken {USER_ERRORS} }} }}"""
SET_ROUTING_PROFILE = f"""mutation ($input: RoutingProfileInput!) {{
  setRoutingProfile(input: $input) {{ profile {{ version costWeight }} {USER_ERRORS} }} }}"""
REROUTE = f"""mutation ($orderId: ID!) {{
  rerouteOrder(orderId: $orderId) {{ order {{ id status }} {USER_ERRORS} }} }}"""
APPROVE = f"""mutation ($orderId: ID!) {{
  approveOrder(orderId: $orderId) {{ order {{ id status }} {USER_ERRORS} }} }}"""
REJECT = f"""mutation ($input: RejectOrderInput!) {{
  rejectOrder(input: $input) {{ order {{ id status cancelReason }} {USER_ERRORS} }} }}"""
SET_RISK_PROFILE = f"""mutation ($input: RiskProfileInput!) {{
  setRiskProfile(input: $input) {{ profile {{ version {RISK_POLICY} }} {USER_ERRORS} }} }}"""

# What the platform admin sees of an object, before and after a mutation.
ORDER_STATE = "query ($id: ID!) { order(id: $id) { status updatedAt events { type } } }"
ROUTED_ORDER_STATE = """query ($id: ID!) { order(id: $id) {
  status updatedAt events { type } routingHistory { sequence routed settlement } } }"""
ALL_GRANTS = "{ orderAccessGrants { id profile actions revokedAt partner { handle } } }"
TENANTS_STATE = "tenants(first: 50) { edges { node { handle name kind status updatedAt } } }"
CLIENTS_STATE = "clientId roles updatedAt"


@dataclass(frozen=True)
class Seen:
    """What a row's call answered: an Outcome's value, or a word saying what went wrong."""

    outcome: str
    detail: str = ""


def unexpected(what: Json) -> Seen:
    return Seen("UNEXPECTED", json.dumps(what)[:600])


def errors_of(body: Json) -> list[Json]:
    return list(body.get("errors") or [])


def code_of(error: Json) -> str | None:
    return (error.get("extensions") or {}).get("code")


def is_forbidden(body: Json, root: str) -> bool:
    """The whole field refused: null, with one GraphQL error FORBIDDEN at its path."""
    errors, data = errors_of(body), body.get("data")
    return (
        len(errors) == 1
        and code_of(errors[0]) == "FORBIDDEN"
        and errors[0].get("path") == [root]
        and (data is None or data.get(root) is None)
    )


@dataclass
class World:
    """One role-state, set up on a fresh demo database, and the objects its rows use."""

    api: Api
    settings: Settings
    state: RoleState
    caller: str
    role: str
    tenant: str
    kind: str
    # Every tenant and its clients, as the platform admin should see them, and the
    # current secret of each client the world made.
    tenants: dict[str, Json] = field(
        default_factory=lambda: {h: dict(t) for h, t in DEMO_TENANTS.items()}
    )
    clients: dict[str, list[str]] = field(
        default_factory=lambda: {h: list(c) for h, c in DEMO_CLIENTS.items()}
    )
    secrets: dict[str, str] = field(default_factory=dict)
    orders: dict[Obj, str] = field(default_factory=dict)
    grants: dict[Obj, str] = field(default_factory=dict)
    # Routed orders, for the rows on routing decisions and events: acme's (own, shared)
    # and globex's (other), each shipped from its merchant's own node.
    routed: dict[Obj, str] = field(default_factory=dict)
    spare_clients: dict[str, list[str]] = field(default_factory=dict)
    _serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def serial(self) -> int:
        return next(self._serial)

    def name(self, prefix: str) -> str:
        return f"{prefix}-{self.serial()}"

    async def call(
        self,
        document: str,
        variables: dict[str, Any] | None = None,
        *,
        as_client: str | None = None,
    ) -> Json:
        response = await self.api.graphql(document, variables, as_client=as_client or self.caller)
        assert response.status_code == 200, response.text
        return response.json()

    async def setup(self, document: str, variables: dict[str, Any], *, as_client: str) -> Json:
        """A helper's call that must succeed: its payload (the one root field)."""
        body = await self.call(document, variables, as_client=as_client)
        assert not errors_of(body), body
        payload = next(iter(body["data"].values()))
        assert not payload["userErrors"], payload
        return payload

    async def new_order(self, merchant: str, *, delivered: bool = False) -> str:
        client = f"{merchant}-backend"
        created = await self.setup(CREATE_ORDER, {"input": order_input()}, as_client=client)
        order_id: str = created["order"]["id"]
        if delivered:
            fulfil = {"input": {"orderId": order_id, "status": "DELIVERED"}}
            await self.setup(UPDATE_FULFILLMENT, fulfil, as_client=client)
        return order_id

    def unique_order_input(self, *, sku: str | None = None, domain: str = "example.com") -> Json:
        """An order from a customer and to an address nobody used before, so that the
        risk check never holds it for velocity; `sku`: one line of it, else order_input's."""
        n = self.serial()
        data = order_input(customerEmail=f"buyer-{n}@{domain}")
        data["shippingAddress"]["line1"] = f"Matrixweg {n}"
        if sku is not None:
            data["lines"] = [{"sku": sku, "quantity": 1, "unitPrice": "10.00"}]
        return data

    async def new_unique_order(
        self, merchant: str, *, routed: bool = False, delivered: bool = False
    ) -> str:
        """A fresh order of `unique_order_input`: ROUTED (to the merchant's own node) when
        `routed`, else PENDING (no node stocks order_input's lines)."""
        client = f"{merchant}-backend"
        spec = self.unique_order_input(sku=ROUTABLE_SKU if routed else None)
        created = await self.setup(CREATE_ORDER, {"input": spec}, as_client=client)
        order_id: str = created["order"]["id"]
        assert created["order"]["status"] == ("ROUTED" if routed else "PENDING"), created
        if delivered:
            fulfil = {"input": {"orderId": order_id, "status": "DELIVERED"}}
            await self.setup(UPDATE_FULFILLMENT, fulfil, as_client=client)
        return order_id

    async def new_held_order(self) -> str:
        """An acme order ON_HOLD for risk review: from a throwaway email domain (25
        points) while acme holds from 1 point; acme's risk profile is put back after."""
        body = await self.call(RISK_PROFILE, as_client="acme-backend")
        policy = dict(body["data"]["riskProfile"])
        policy.pop("version")
        strict = {**policy, "holdThreshold": 1, "mediumThreshold": 0}
        await self.setup(SET_RISK_PROFILE, {"input": strict}, as_client="acme-backend")
        spec = self.unique_order_input(domain="mailinator.com")
        created = await self.setup(CREATE_ORDER, {"input": spec}, as_client="acme-backend")
        await self.setup(SET_RISK_PROFILE, {"input": policy}, as_client="acme-backend")
        assert created["order"]["status"] == "ON_HOLD", created
        order_id: str = created["order"]["id"]
        return order_id

    async def put_node(self, client: str, code: str, merchant: str | None = None) -> None:
        await self.setup(PUT_NODE, {"input": node_input(code, merchant=merchant)}, as_client=client)

    async def set_stock(
        self, client: str, node: str, sku: str, merchant: str | None = None
    ) -> None:
        levels = [{"node": node, "sku": sku, "onHand": 1000}]
        spec = {"merchant": merchant, "levels": levels}
        await self.setup(SET_STOCK, {"input": spec}, as_client=client)

    async def new_partner(self) -> str:
        handle = self.name("partner")
        tenant = {"handle": handle, "name": f"Partner {handle}", "kind": "PARTNER"}
        payload = await self.setup(CREATE_TENANT, {"input": tenant}, as_client=PLATFORM_ADMIN)
        self.tenants[handle] = payload["tenant"]
        return handle

    async def new_client(self, tenant: str, kind: str, client_id: str | None = None) -> Json:
        """A client made by the platform admin: the createApiClient payload."""
        made = client_id or self.name("client")
        spec = {"clientId": made, "roles": [ROLE_OF_KIND[kind]], "tenant": tenant}
        payload = await self.setup(CREATE_CLIENT, {"input": spec}, as_client=PLATFORM_ADMIN)
        self.clients.setdefault(tenant, []).append(made)
        self.secrets[made] = payload["clientSecret"]
        return payload

    async def secret_works(self, client_id: str, secret: str) -> bool:
        """A token fetched with this secret lets the client read `viewer` as itself."""
        response = await self.token_response(client_id, secret)
        if response.status_code != 200:
            return False
        me = await self.api.graphql(VIEWER, token=response.json()["access_token"])
        return me.status_code == 200 and me.json()["data"]["viewer"]["clientId"] == client_id

    async def secret_refused(self, client_id: str, secret: str) -> bool:
        return (await self.token_response(client_id, secret)).status_code == 401

    async def token_response(self, client_id: str, secret: str) -> httpx.Response:
        """A fresh token request (the Api's tokens are cached)."""
        form = {"grant_type": "client_credentials"}
        return await self.api.http.post("/oauth/token", data=form, auth=(client_id, secret))

    async def grant(self, merchant: str, partner: str, profile: str, actions: list[str]) -> str:
        spec = {"partner": partner, "profile": profile, "actions": actions}
        payload = await self.setup(GRANT, {"input": spec}, as_client=f"{merchant}-backend")
        grant_id: str = payload["grant"]["id"]
        return grant_id

    async def new_grant(self, merchant: str) -> str:
        return await self.grant(merchant, await self.new_partner(), "FULL", ["READ"])

    async def current_grant(self, merchant: str, partner: str) -> str:
        document = "{ orderAccessGrants { id revokedAt partner { handle } } }"
        body = await self.call(document, as_client=f"{merchant}-backend")
        found = [
            g["id"]
            for g in body["data"]["orderAccessGrants"]
            if g["partner"]["handle"] == partner and g["revokedAt"] is None
        ]
        assert len(found) == 1, body
        grant_id: str = found[0]
        return grant_id

    async def expire(self, grant_id: str) -> None:
        """What the API cannot do: move a grant's expiresAt into the past."""
        grant_uuid = from_global_id("OrderAccessGrant", grant_id)
        engine = create_async_engine(self.settings.migrations_url)
        try:
            async with engine.begin() as conn:
                result = await conn.execute(
                    update(grants.table)
                    .where(grants.c.id == grant_uuid)
                    .values(expires_at=utcnow() - timedelta(minutes=1))
                )
                assert result.rowcount == 1
        finally:
            await engine.dispose()

    # ---- what the platform admin sees of an object, to tell whether a mutation changed it

    async def snapshot(self, document: str, variables: dict[str, Any] | None = None) -> Json:
        body = await self.call(document, variables, as_client=PLATFORM_ADMIN)
        assert not errors_of(body), body
        return body["data"]


async def build_world(api: Api, settings: Settings, state: RoleState) -> World:
    caller, role, tenant, kind = CALLERS[state]
    world = World(api, settings, state, caller, role, tenant, kind)
    # Routing and risk, set up while acme's grant to swiftship is as the demo made it.
    await world.put_node("acme-backend", ACME_NODE)
    await world.set_stock("acme-backend", ACME_NODE, ROUTABLE_SKU)
    await world.put_node("swiftship-admin", PARTNER_NODE, merchant="acme")
    await world.set_stock("swiftship-tms", PARTNER_NODE, PARTNER_SKU, merchant="acme")
    await world.put_node("globex-backend", GLOBEX_NODE)
    await world.set_stock("globex-backend", GLOBEX_NODE, ROUTABLE_SKU)
    profile = {"costWeight": GLOBEX_COST_WEIGHT}
    await world.setup(SET_ROUTING_PROFILE, {"input": profile}, as_client="globex-backend")
    marked = {"extraDisposableDomains": [ACME_RISK_MARK]}
    await world.setup(SET_RISK_PROFILE, {"input": marked}, as_client="acme-backend")
    acme_order = await world.new_order("acme")
    world.orders = {Obj.OWN: acme_order, Obj.SHARED: acme_order}
    world.orders[Obj.OTHER] = await world.new_order("globex")
    acme_routed = await world.new_unique_order("acme", routed=True)
    world.routed = {Obj.OWN: acme_routed, Obj.SHARED: acme_routed}
    world.routed[Obj.OTHER] = await world.new_unique_order("globex", routed=True)
    held = await world.new_held_order()
    world.routed.update({Obj.OWN_HELD: held, Obj.SHARED_HELD: held})
    # A grant nobody under test is party to: globex shares with a partner of its own.
    world.grants[Obj.OTHER] = await world.new_grant("globex")
    demo_grant = await world.current_grant("acme", "swiftship")
    if state is RoleState.PARTNER_NO_GRANT:
        world.tenant = await world.new_partner()
        made = await world.new_client(world.tenant, "partner", NO_GRANT_CLIENT)
        await api.token(NO_GRANT_CLIENT, secret=made["clientSecret"])
    elif state is RoleState.PARTNER_FULL:
        demo_grant = await world.grant("acme", "swiftship", "FULL", ["READ", "UPDATE_FULFILLMENT"])
    elif state is RoleState.PARTNER_READ_ONLY:
        demo_grant = await world.grant("acme", "swiftship", "LOGISTICS", ["READ"])
    elif state is RoleState.PARTNER_REVOKED:
        await world.setup(REVOKE, {"grantId": demo_grant}, as_client="acme-backend")
    elif state is RoleState.PARTNER_EXPIRED:
        await world.expire(demo_grant)
    if state is not RoleState.PARTNER_NO_GRANT and kind != "platform":
        world.grants[Obj.OWN] = demo_grant  # given by acme, received by swiftship
    return world


# ---------------------------------------------------------------- reads


def read(
    body: Json,
    root: str,
    allowed: Callable[[Json], bool],
    not_found: Callable[[Json], bool] = lambda _value: False,
    *,
    not_found_error: bool = False,
    invalid_error: bool = False,
) -> Seen:
    """Classifies a query's answer; `not_found_error`: NOT_FOUND comes as a GraphQL
    error with that code (queries with an argument naming a tenant, docs/graphql.md);
    `invalid_error`: so may INVALID (a query whose arguments this caller must give)."""
    if is_forbidden(body, root):
        return Seen(Outcome.FORBIDDEN)
    errors, data = errors_of(body), body.get("data")
    codes = {Outcome.NOT_FOUND} if not_found_error else set()
    if invalid_error:
        codes.add(Outcome.INVALID)
    if (
        len(errors) == 1
        and code_of(errors[0]) in codes
        and errors[0].get("path") == [root]
        and (data is None or data.get(root) is None)
    ):
        return Seen(Outcome(code_of(errors[0])))
    if errors or data is None:
        return unexpected(body)
    value = data[root]
    if allowed(value):
        return Seen(Outcome.ALLOWED)
    if not_found(value):
        return Seen(Outcome.NOT_FOUND)
    return unexpected(body)


async def as_made_up(
    world: World,
    seen: Seen,
    body: Json,
    document: str,
    made_up: dict[str, Any],
    names: tuple[str, str] | None = None,
) -> Seen:
    """A NOT_FOUND must read exactly like the answer about a made-up object
    (`names`: the real and the made-up name, which the answers may repeat)."""
    if seen.outcome != Outcome.NOT_FOUND:
        return seen
    fake_body = await world.call(document, made_up)
    real, fake = json.dumps(answer(body)), json.dumps(answer(fake_body))
    if names is not None:
        real, fake = real.replace(names[0], "<name>"), fake.replace(names[1], "<name>")
    if fake != real:
        return Seen("LEAKS", f"{real[:300]} vs made-up {fake[:300]}")
    return seen


def answer(body: Json) -> Json:
    """The answer proper, without extensions (query cost, throttle state)."""
    return {key: body.get(key) for key in ("data", "errors")}


def ids(connection: Json) -> list[str]:
    return [edge["node"]["id"] for edge in connection["edges"]]


async def q_viewer(world: World, obj: Obj) -> Seen:
    body = await world.call(VIEWER)
    me = {"clientId": world.caller, "roles": [world.role], "tenant": {"handle": world.tenant}}
    return read(body, "viewer", lambda v: v == me)


async def q_order(world: World, obj: Obj) -> Seen:
    target = world.orders[obj]
    body = await world.call(ORDER, {"id": target})
    seen = read(body, "order", lambda v: v == {"id": target}, lambda v: v is None)
    made_up = {"id": to_global_id("Order", uuid.uuid4())}
    return await as_made_up(world, seen, body, ORDER, made_up)


async def q_orders(world: World, obj: Obj) -> Seen:
    target = world.orders[obj]
    body = await world.call(ORDERS)
    return read(body, "orders", lambda v: target in ids(v), lambda v: target not in ids(v))


async def q_events(world: World, obj: Obj) -> Seen:
    target = world.orders[obj]
    body = await world.call(FEED_EVENTS)

    def listed(value: Json) -> bool:
        return target in [edge["node"]["orderId"] for edge in value["edges"]]

    return read(body, "events", listed, lambda v: not listed(v))


async def q_order_access_grants(world: World, obj: Obj) -> Seen:
    target = world.grants[obj]
    body = await world.call(GRANTS)

    def listed(value: Json) -> bool:
        return target in [g["id"] for g in value]

    return read(body, "orderAccessGrants", listed, lambda v: not listed(v))


async def q_tenants(world: World, obj: Obj) -> Seen:
    body = await world.call(TENANTS)
    every = [world.tenants[handle] for handle in sorted(world.tenants)]
    return read(body, "tenants", lambda v: [e["node"] for e in v["edges"]] == every)


def tenant_of(world: World, obj: Obj) -> str:
    return {Obj.OWN: world.tenant, Obj.OTHER: "globex"}[obj]


async def q_tenant(world: World, obj: Obj) -> Seen:
    handle = tenant_of(world, obj)
    body = await world.call(TENANT, {"handle": handle})
    seen = read(body, "tenant", lambda v: v == world.tenants[handle], lambda v: v is None)
    names = (handle, MADE_UP_TENANT)
    return await as_made_up(world, seen, body, TENANT, {"handle": MADE_UP_TENANT}, names)


async def q_api_clients(world: World, obj: Obj) -> Seen:
    """own: the caller's tenant's clients, the same whether it names its tenant or not;
    other: globex's, named."""
    named = None if obj is Obj.OWN else "globex"
    tenant = named or world.tenant
    every = [
        {"clientId": client, "tenant": {"handle": tenant}}
        for client in sorted(world.clients.get(tenant, []))
    ]
    body = await world.call(API_CLIENTS, {"tenant": named})
    seen = read(body, "apiClients", lambda v: v == every, not_found_error=True)
    if obj is Obj.OWN:
        itself = await world.call(API_CLIENTS, {"tenant": world.tenant})
        if answer(itself) != answer(body):
            return Seen("DIFFERS", f"naming itself: {answer(itself)}; naming none: {seen}")
        return seen
    names = ("globex", MADE_UP_TENANT)
    return await as_made_up(world, seen, body, API_CLIENTS, {"tenant": MADE_UP_TENANT}, names)


async def q_audit_log(world: World, obj: Obj) -> Seen:
    named = None if obj is Obj.OWN else "globex"

    def allowed(value: Json) -> bool:
        tenants = [e["node"]["tenant"]["handle"] for e in value["edges"]]
        if named is not None:
            return bool(tenants) and set(tenants) == {named}
        if world.kind == "platform":  # every tenant's acts: acme's and globex's grants at least
            return {"acme", "globex"} <= set(tenants)
        return set(tenants) <= {world.tenant}

    body = await world.call(AUDIT_LOG, {"tenant": named})
    seen = read(body, "auditLog", allowed, not_found_error=True)
    names = ("globex", MADE_UP_TENANT)
    return await as_made_up(world, seen, body, AUDIT_LOG, {"tenant": MADE_UP_TENANT}, names)


def sla_tenants_allowed(world: World, named: str | None, tenants: list[str]) -> bool:
    """Whose SLA an answer covers: the one named, else the caller's own (platform: every)."""
    if named is not None:
        return set(tenants) <= {named}
    if world.kind == "platform":
        return {"acme", "globex", "swiftship"} <= set(tenants)
    return set(tenants) <= {world.tenant}


async def sla_read(world: World, obj: Obj, root: str, document: str) -> Seen:
    named = None if obj is Obj.OWN else "globex"

    def allowed(value: Json) -> bool:
        if root == "slaReport":
            tenants = [t["tenant"] for t in value["tenants"]]
            return bool(tenants) and sla_tenants_allowed(world, named, tenants)
        if root == "tenantSla":
            return bool(value["tenant"] == (named or world.tenant))
        alerting = {a["tenant"] for a in value}  # often none: nothing is burning
        return world.kind == "platform" or alerting <= {named or world.tenant}

    body = await world.call(document, {"tenant": named})
    seen = read(body, root, allowed, not_found_error=True)
    names = ("globex", MADE_UP_TENANT)
    return await as_made_up(world, seen, body, document, {"tenant": MADE_UP_TENANT}, names)


async def q_sla_report(world: World, obj: Obj) -> Seen:
    return await sla_read(world, obj, "slaReport", SLA_REPORT)


async def q_sla_alerts(world: World, obj: Obj) -> Seen:
    return await sla_read(world, obj, "slaAlerts", SLA_ALERTS)


async def q_tenant_sla(world: World, obj: Obj) -> Seen:
    return await sla_read(world, obj, "tenantSla", TENANT_SLA)


async def merchant_read(
    world: World,
    obj: Obj,
    root: str,
    document: str,
    allowed: Callable[[Json, str], bool],
    variables: dict[str, Any] | None = None,
) -> Seen:
    """A routing read naming a merchant: none (own), "globex" (other), "acme" (shared).

    `allowed(value, merchant)`: the answer is that merchant's, as the caller may see it.
    A merchant's own reads the same whether it names itself or not.
    """
    named = {Obj.OWN: None, Obj.OTHER: "globex", Obj.SHARED: "acme"}[obj]
    merchant = named or world.tenant
    extra = variables or {}
    body = await world.call(document, {**extra, "merchant": named})

    def seen_of(answered: Json) -> Seen:
        return read(
            answered,
            root,
            lambda v: allowed(v, merchant),
            not_found_error=True,
            invalid_error=True,
        )

    seen = seen_of(body)
    if obj is Obj.OWN and world.kind == "merchant":
        itself = await world.call(document, {**extra, "merchant": world.tenant})
        if answer(itself) != answer(body):
            return Seen("DIFFERS", f"naming itself: {seen_of(itself)}; naming none: {seen}")
    if named is None:
        return seen
    made_up = {**extra, "merchant": MADE_UP_TENANT}
    return await as_made_up(world, seen, body, document, made_up, (named, MADE_UP_TENANT))


def nodes_seen_by(world: World, merchant: str) -> list[tuple[str, bool]]:
    """The nodes (code, operated by a partner) of `merchant` the caller should see."""
    every = {
        "acme": [(ACME_NODE, False), (PARTNER_NODE, True)],
        "globex": [(GLOBEX_NODE, False)],
    }[merchant]
    if world.kind == "partner":  # only the ones it operates
        return [(code, by_partner) for code, by_partner in every if by_partner]
    return every


async def q_fulfillment_nodes(world: World, obj: Obj) -> Seen:
    def allowed(value: Json, merchant: str) -> bool:
        shown = [(node["code"], node["operatedByPartner"]) for node in value]
        return shown == nodes_seen_by(world, merchant)

    return await merchant_read(world, obj, "fulfillmentNodes", FULFILLMENT_NODES, allowed)


async def q_routing_profile(world: World, obj: Obj) -> Seen:
    def allowed(value: Json, merchant: str) -> bool:
        weight = GLOBEX_COST_WEIGHT if merchant == "globex" else 1.0
        return bool(value["costWeight"] == weight)

    return await merchant_read(world, obj, "routingProfile", ROUTING_PROFILE, allowed)


async def q_routing_fairness_report(world: World, obj: Obj) -> Seen:
    now = datetime.now(UTC)
    window = {
        "since": (now - timedelta(days=1)).isoformat(),
        "until": (now + timedelta(hours=1)).isoformat(),
    }

    def allowed(value: Json, merchant: str) -> bool:
        return isinstance(value["regions"], list) and bool(value["since"])

    return await merchant_read(
        world, obj, "routingFairnessReport", FAIRNESS, allowed, variables=window
    )


async def q_risk_profile(world: World, obj: Obj) -> Seen:
    body = await world.call(RISK_PROFILE)

    def allowed(value: Json) -> bool:
        # acme's is marked; any other tenant's is the defaults.
        marked = ACME_RISK_MARK in value["extraDisposableDomains"]
        return marked == (world.tenant == "acme")

    return read(body, "riskProfile", allowed)


# ---------------------------------------------------------------- shared fields

# Stands for "the value as the platform admin reads it": the order's routing and
# risk depend on what the world set up, not on order_input() alone.
AS_PLATFORM_SEES = object()
DECISION = """sequence trigger routed reasonCode explanation destinationRegion profileVersion
  settlement assignments { nodeCode lines { sku quantity } }
  candidates { nodeCode eligible partial reasons transportCost promisedHours score }"""
RISK = "score level holdThreshold held policyVersion facts { signal observed weight sentence }"

# field name, selection, the value every order of order_input() shows
SHARED_FIELDS: dict[str, tuple[str, str, Json]] = {
    "Order.total": ("total", "total", TOTAL),
    "Order.customerEmail": ("customerEmail", "customerEmail", EMAIL),
    "OrderLine.unitPrice": ("unitPrice", "lines { unitPrice }", UNIT_PRICES),
    "Order.risk": ("risk", f"risk {{ {RISK} }}", AS_PLATFORM_SEES),
}


def secrets_of(value: Json) -> list[str]:
    """The strings of a hidden value that must appear nowhere in the answer."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [secret for item in value for secret in secrets_of(item)]
    if isinstance(value, dict):  # an object: its sentences, not its short codes
        return [s for item in value.values() for s in secrets_of(item) if len(s) >= 12]
    return []


async def shared_value(world: World, operation: str, order_id: str) -> Json:
    """The value the shared field shows to whoever may see it."""
    name, selection, value = SHARED_FIELDS[operation]
    if value is not AS_PLATFORM_SEES:
        return value
    document = f"query ($id: ID!) {{ order(id: $id) {{ {selection} }} }}"
    seen = (await world.snapshot(document, {"id": order_id}))["order"][name]
    assert seen, f"{operation} of {order_id} is empty: the row would prove nothing"
    return seen


def field_seen(body: Json, node: Json, prefix: list[Any], operation: str, value: Json) -> Seen:
    """How one order node shows the shared field: `value`, or hidden as FIELD_NOT_SHARED."""
    name = SHARED_FIELDS[operation][0]
    errors = [e for e in errors_of(body) if e.get("path", [])[: len(prefix)] == prefix]
    if operation == "OrderLine.unitPrice":
        shown = [line["unitPrice"] for line in node["lines"]]
        paths = [[*prefix, "lines", i, "unitPrice"] for i in range(len(shown))]
        hidden = all(v is None for v in shown)
    else:
        shown, paths, hidden = node[name], [[*prefix, name]], node[name] is None
    if shown == value and not errors:
        return Seen(Outcome.ALLOWED)
    text = json.dumps(body)
    secrets = secrets_of(value)
    if (
        hidden
        and sorted(map(str, (e.get("path") for e in errors))) == sorted(map(str, paths))
        and {code_of(e) for e in errors} == {"FIELD_NOT_SHARED"}
        and not any(secret in text for secret in secrets)
    ):
        return Seen(Outcome.FIELD_NOT_SHARED)
    return unexpected(body)


async def shared_field(world: World, obj: Obj, operation: str) -> Seen:
    """Read through order(id) and through orders: both must answer alike."""
    target, selection = world.orders[obj], SHARED_FIELDS[operation][1]
    value = await shared_value(world, operation, target)
    single = await world.call(
        f"query ($id: ID!) {{ order(id: $id) {{ id {selection} }} }}", {"id": target}
    )
    if is_forbidden(single, "order"):
        one = Seen(Outcome.FORBIDDEN)
    elif single.get("data") is None:
        one = unexpected(single)
    elif single["data"]["order"] is None:
        one = Seen(Outcome.NOT_FOUND) if not errors_of(single) else unexpected(single)
    else:
        one = field_seen(single, single["data"]["order"], ["order"], operation, value)
    listing = await world.call(
        f"{{ orders(first: 50) {{ edges {{ node {{ id {selection} }} }} }} }}"
    )
    if is_forbidden(listing, "orders"):
        many = Seen(Outcome.FORBIDDEN)
    elif listing.get("data") is None:
        many = unexpected(listing)
    else:
        found = [
            i for i, e in enumerate(listing["data"]["orders"]["edges"]) if e["node"]["id"] == target
        ]
        if not found:
            many = Seen(Outcome.NOT_FOUND)
        else:
            node = listing["data"]["orders"]["edges"][found[0]]["node"]
            path = ["orders", "edges", found[0], "node"]
            many = field_seen(listing, node, path, operation, value)
    if one.outcome == many.outcome:
        return one
    return Seen(
        "DIFFERS", f"order(id): {one.outcome} {one.detail}; orders: {many.outcome} {many.detail}"
    )


def shared_field_probe(operation: str) -> Probe:
    async def probe(world: World, obj: Obj) -> Seen:
        return await shared_field(world, obj, operation)

    return probe


# ---------------------------------------------------------------- partner parts

# A routing decision in full, as the platform admin reads it: what the rows compare.
FULL_DECISION = """routed reasonCode explanation destinationRegion settlement
  assignments { nodeCode lines { sku quantity } }
  candidates { nodeCode eligible partial reasons transportCost transportCurrency score
               components { transport load lateness split total } }"""
EVENTS = "events { type actor message }"
# The candidate fields a profile may hide (policies/share_policy.csv, kind field).
MONEY = ("transportCost", "score", "components")

# operation: the order field it reads and the selection under it
PARTNER_PARTS: dict[str, tuple[str, str]] = {
    "Order.routing": ("routing", FULL_DECISION),
    "Order.routingHistory": ("routingHistory", FULL_DECISION),
    "Order.events": ("events", "type actor message"),
    "RoutingDecision.candidates": (
        "routing",
        "candidates { nodeCode eligible partial reasons promisedHours }",
    ),
    "RoutingDecision.assignments": ("routing", "assignments { nodeCode lines { sku quantity } }"),
    "RoutingDecision.explanation": ("routing", "routed explanation"),
    "RoutingCandidate.transportCost": ("routing", "candidates { nodeCode transportCost }"),
    "RoutingCandidate.score": ("routing", "candidates { nodeCode score }"),
    "RoutingCandidate.components": (
        "routing",
        "candidates { nodeCode components { transport load lateness split total } }",
    ),
}


@dataclass(frozen=True)
class Secrets:
    """What no partner part may show: anywhere in the answer (the merchant's sentences,
    its costs, the codes of nodes the partner does not operate), or in a sentence of it
    (the words of risk figures and cost comparisons)."""

    anywhere: list[str]
    in_sentences: list[str]


def partner_secrets(decision: Json, events: list[Json], operated: set[str]) -> Secrets:
    anywhere = [decision["explanation"]] if decision else []
    anywhere += [e["message"] for e in events if e["message"]]
    if decision:
        anywhere += [c["transportCost"] for c in decision["candidates"]]
        anywhere += [c["nodeCode"] for c in decision["candidates"] if c["nodeCode"] not in operated]
    return Secrets(anywhere, [*anywhere, "score", "hold at", "%", "EUR"])


def decision_part(decision: Json, operated: set[str], path: list[Any]) -> tuple[Json, list[Any]]:
    """The decision as a partner operating `operated` should see it (its explanation as
    given: checked against the secrets), and the FIELD_NOT_SHARED paths it should bring."""
    part = dict(decision)
    paths: list[Any] = []
    if "candidates" in decision:
        kept = [c for c in decision["candidates"] if c["nodeCode"] in operated]
        part["candidates"] = [{k: (None if k in MONEY else v) for k, v in c.items()} for c in kept]
        paths = [[*path, "candidates", i, k] for i, c in enumerate(kept) for k in c if k in MONEY]
    if "assignments" in decision:
        part["assignments"] = [a for a in decision["assignments"] if a["nodeCode"] in operated]
    return part, paths


def partner_part_seen(
    body: Json, node: Json, prefix: list[Any], operation: str, platform: Json, secrets: Secrets
) -> Seen:
    """ALLOWED when the node shows what the platform admin reads; PARTNER_PART (or, for a
    money field, FIELD_NOT_SHARED) when it shows exactly a partner's part of it."""
    name = PARTNER_PARTS[operation][0]
    errors = [e for e in errors_of(body) if e.get("path", [])[: len(prefix)] == prefix]
    value, expected = node[name], platform[name]
    if value == expected and not errors:
        return Seen(Outcome.ALLOWED)
    operated = {PARTNER_NODE}
    paths: list[Any] = []
    if name == "events":
        part = [{**e, "message": v["message"]} for e, v in zip(expected, value, strict=False)]
        if len(value) != len(expected):
            return unexpected(body)
        sentences = [v["message"] for v in value if v["message"]]
    else:
        decisions = expected if name == "routingHistory" else [expected]
        shown = value if name == "routingHistory" else [value]
        parts = []
        for i, decision in enumerate(decisions):
            where = [*prefix, name, i] if name == "routingHistory" else [*prefix, name]
            one, found = decision_part(decision, operated, where)
            if "explanation" in decision and i < len(shown):
                one["explanation"] = shown[i]["explanation"]
            parts.append(one)
            paths += found
        part = parts if name == "routingHistory" else parts[0]
        sentences = [d["explanation"] for d in shown if "explanation" in d]
    text = json.dumps(body)
    if (
        value == part
        and sorted(map(str, (e.get("path") for e in errors))) == sorted(map(str, paths))
        and {code_of(e) for e in errors} <= {"FIELD_NOT_SHARED"}
        and not any(s in sentence for s in secrets.in_sentences for sentence in sentences)
        and not any(secret in text for secret in secrets.anywhere)
    ):
        if operation.startswith("RoutingCandidate."):
            return Seen(Outcome.FIELD_NOT_SHARED)
        return Seen(Outcome.PARTNER_PART)
    return unexpected(body)


async def partner_part(world: World, obj: Obj, operation: str) -> Seen:
    """Read through order(id) and through orders: both must answer alike."""
    target = world.routed[obj]
    name, selection = PARTNER_PARTS[operation]
    full = f"query ($id: ID!) {{ order(id: $id) {{ routing {{ {FULL_DECISION} }} {EVENTS} }} }}"
    whole = (await world.snapshot(full, {"id": target}))["order"]
    platform_doc = f"query ($id: ID!) {{ order(id: $id) {{ {name} {{ {selection} }} }} }}"
    platform = (await world.snapshot(platform_doc, {"id": target}))["order"]
    assert platform[name], f"{operation} of {target} is empty: the row would prove nothing"
    secrets = partner_secrets(whole["routing"], whole["events"], {PARTNER_NODE})
    single = await world.call(
        f"query ($id: ID!) {{ order(id: $id) {{ id {name} {{ {selection} }} }} }}", {"id": target}
    )
    if is_forbidden(single, "order"):
        one = Seen(Outcome.FORBIDDEN)
    elif single.get("data") is None:
        one = unexpected(single)
    elif single["data"]["order"] is None:
        one = Seen(Outcome.NOT_FOUND) if not errors_of(single) else unexpected(single)
    else:
        one = partner_part_seen(
            single, single["data"]["order"], ["order"], operation, platform, secrets
        )
    # The world's five newest orders are the ones these rows read (reads run before the
    # mutations make more), and five decisions in full stay within the standard plan's
    # single-query cost, which the no-grant partner's new tenant is on.
    listing = await world.call(
        f"{{ orders(first: 5) {{ edges {{ node {{ id {name} {{ {selection} }} }} }} }} }}"
    )
    if is_forbidden(listing, "orders"):
        many = Seen(Outcome.FORBIDDEN)
    elif listing.get("data") is None:
        many = unexpected(listing)
    else:
        edges = listing["data"]["orders"]["edges"]
        found = [i for i, e in enumerate(edges) if e["node"]["id"] == target]
        if not found:
            many = Seen(Outcome.NOT_FOUND)
        else:
            path = ["orders", "edges", found[0], "node"]
            many = partner_part_seen(
                listing, edges[found[0]]["node"], path, operation, platform, secrets
            )
    if one.outcome == many.outcome:
        return one
    return Seen(
        "DIFFERS", f"order(id): {one.outcome} {one.detail}; orders: {many.outcome} {many.detail}"
    )


def partner_part_probe(operation: str) -> Probe:
    async def probe(world: World, obj: Obj) -> Seen:
        return await partner_part(world, obj, operation)

    return probe


# ---------------------------------------------------------------- mutations

USER_ERROR_OUTCOMES = {
    "NOT_FOUND": Outcome.NOT_FOUND,
    "FORBIDDEN": Outcome.REFUSED,
    "INVALID_STATE": Outcome.INVALID_STATE,
    "INVALID": Outcome.INVALID,
}


def nothing_done(payload: Json) -> bool:
    """A refused payload: every result null."""
    return all(v is None for k, v in payload.items() if k != "userErrors")


def mutation_seen(
    body: Json,
    root: str,
    ok: Callable[[Json], bool],
    nothing: Callable[[Json], bool] = nothing_done,
) -> Seen:
    if is_forbidden(body, root):
        return Seen(Outcome.FORBIDDEN)
    if errors_of(body) or body.get("data") is None:
        return unexpected(body)
    payload = body["data"][root]
    user_errors = payload["userErrors"]
    if not user_errors:
        return Seen(Outcome.ALLOWED) if ok(payload) else unexpected(payload)
    if len(user_errors) == 1 and nothing(payload):
        outcome = USER_ERROR_OUTCOMES.get(user_errors[0]["code"])
        if outcome is not None:
            return Seen(outcome)
    return unexpected(payload)


def made_up_part(real: Json, made_up: Json, path: tuple[Any, ...] = ()) -> list[Json]:
    """Where made-up variables differ from the real ones: [path, real, made-up] each."""
    if isinstance(real, dict) and isinstance(made_up, dict):
        keys = sorted(real.keys() | made_up.keys())
        return [d for k in keys for d in made_up_part(real.get(k), made_up.get(k), (*path, k))]
    if isinstance(real, list) and isinstance(made_up, list) and len(real) == len(made_up):
        pairs = enumerate(zip(real, made_up, strict=True))
        return [d for i, (r, m) in pairs for d in made_up_part(r, m, (*path, i))]
    return [] if real == made_up else [[list(path), real, made_up]]


async def reads_as_made_up(
    world: World,
    body: Json,
    root: str,
    document: str,
    variables: Json,
    made_up: Json,
    field: list[Any] | None,
) -> Seen | None:
    """A mutation's NOT_FOUND reads word for word like the answer about a made-up object
    (its name aside), its userError naming `field` if given; None if it does."""
    parts = made_up_part(variables, made_up)
    assert len(parts) == 1, f"made-up variables must differ in one place: {parts}"
    [[_path, name, made_up_name]] = parts
    fake = await world.call(document, made_up)
    real_text, fake_text = json.dumps(answer(body)), json.dumps(answer(fake))
    if isinstance(name, str) and isinstance(made_up_name, str):
        real_text = real_text.replace(name, "<name>")
        fake_text = fake_text.replace(made_up_name, "<name>")
    if real_text != fake_text:
        return Seen("LEAKS", f"{real_text[:300]} vs made-up {fake_text[:300]}")
    named = [e["field"] for e in body["data"][root]["userErrors"]]
    if field is not None and named != [field]:
        return Seen("UNEXPECTED", f"the userError names {named}, not {field}")
    return None


# What must also show after an ALLOWED answer, given its payload and the snapshot after
# (and what the world records of it): False reads NO_EFFECT.
Effect = Callable[[Json, Json], Awaitable[bool]]


async def mutate(
    world: World,
    root: str,
    document: str,
    variables: dict[str, Any],
    *,
    ok: Callable[[Json], bool],
    snapshot: Callable[[], Awaitable[Json]],
    made_up: dict[str, Any] | None = None,
    not_found_field: list[Any] | None = None,
    nothing: Callable[[Json], bool] = nothing_done,
    effect: Effect | None = None,
) -> Seen:
    """Runs one mutation row: ALLOWED must change the object, anything else must not
    (`nothing`: how the payload reads when nothing was done, if not all null).
    A NOT_FOUND reads like the answer for `made_up` variables, and names
    `not_found_field` if given."""
    before = await snapshot()
    body = await world.call(document, variables)
    seen = mutation_seen(body, root, ok, nothing)
    after = await snapshot()
    if seen.outcome == Outcome.ALLOWED and after == before:
        return Seen("NO_EFFECT", f"answered ALLOWED but changed nothing: {before}")
    if (
        seen.outcome == Outcome.ALLOWED
        and effect is not None
        and not await effect(body["data"][root], after)
    ):
        return Seen("NO_EFFECT", f"answered ALLOWED but the change does not show: {after}")
    if seen.outcome != Outcome.ALLOWED and after != before:
        return Seen("CHANGED", f"answered {seen.outcome} yet {before} -> {after}")
    if seen.outcome == Outcome.NOT_FOUND and made_up is not None:
        found = await reads_as_made_up(
            world, body, root, document, variables, made_up, not_found_field
        )
        return found or seen
    return seen


async def fresh_order(world: World, obj: Obj) -> str:
    merchant = "globex" if obj is Obj.OTHER else "acme"
    return await world.new_order(
        merchant, delivered=obj in (Obj.OWN_DELIVERED, Obj.SHARED_DELIVERED)
    )


def order_snapshot(world: World, order_id: str) -> Callable[[], Awaitable[Json]]:
    return lambda: world.snapshot(ORDER_STATE, {"id": order_id})


MADE_UP_ORDER_ID = to_global_id("Order", uuid.UUID(int=7))


async def m_create_order(world: World, obj: Obj) -> Seen:
    return await mutate(
        world,
        "createOrder",
        CREATE_ORDER,
        {"input": order_input()},
        ok=lambda p: p["order"]["merchant"]["handle"] == world.tenant,
        snapshot=lambda: world.snapshot(ORDERS),
    )


async def m_cancel_order(world: World, obj: Obj) -> Seen:
    target = await fresh_order(world, obj)
    return await mutate(
        world,
        "cancelOrder",
        CANCEL_ORDER,
        {"input": {"orderId": target}},
        ok=lambda p: p["order"] == {"id": target, "status": "CANCELLED"},
        snapshot=order_snapshot(world, target),
        made_up={"input": {"orderId": MADE_UP_ORDER_ID}},
    )


async def m_update_fulfillment(world: World, obj: Obj) -> Seen:
    target = await fresh_order(world, obj)
    status = "DELIVERED" if obj in (Obj.OWN_DELIVERED, Obj.SHARED_DELIVERED) else "SHIPPED"
    return await mutate(
        world,
        "updateFulfillment",
        UPDATE_FULFILLMENT,
        {"input": {"orderId": target, "status": status}},
        ok=lambda p: p["order"] == {"id": target, "status": status},
        snapshot=order_snapshot(world, target),
        made_up={"input": {"orderId": MADE_UP_ORDER_ID, "status": status}},
    )


async def m_grant_order_access(world: World, obj: Obj) -> Seen:
    partner = await world.new_partner()
    spec = {"partner": partner, "profile": "FULL", "actions": ["READ"]}
    return await mutate(
        world,
        "grantOrderAccess",
        GRANT,
        {"input": spec},
        ok=lambda p: (
            (p["grant"]["merchant"]["handle"], p["grant"]["partner"]["handle"])
            == (world.tenant, partner)
        ),
        snapshot=lambda: world.snapshot(ALL_GRANTS),
    )


async def m_revoke_order_access(world: World, obj: Obj) -> Seen:
    if obj is Obj.OTHER:
        target = await world.new_grant("globex")
    elif world.kind == "partner":  # the grant it received: there is only the one
        target = world.grants[Obj.OWN]
    else:
        target = await world.new_grant("acme")

    async def snapshot() -> Json:
        data = await world.snapshot(ALL_GRANTS)
        return [g for g in data["orderAccessGrants"] if g["id"] == target]

    made_up = {"grantId": to_global_id("OrderAccessGrant", uuid.UUID(int=7))}
    return await mutate(
        world,
        "revokeOrderAccess",
        REVOKE,
        {"grantId": target},
        ok=lambda p: p["grant"]["id"] == target and p["grant"]["revokedAt"] is not None,
        snapshot=snapshot,
        made_up=made_up,
    )


def tenancy_snapshot(world: World) -> Callable[[], Awaitable[Json]]:
    """Every tenant and every API client: clients live in the demo tenants and the
    caller's (tenants made in the world have none)."""

    async def snapshot() -> Json:
        handles = sorted({*DEMO_CLIENTS, world.tenant})
        lists = " ".join(
            f'c{i}: apiClients(tenant: "{handle}") {{ {CLIENTS_STATE} }}'
            for i, handle in enumerate(handles)
        )
        data = await world.snapshot(f"{{ {TENANTS_STATE} {lists} }}")
        tenants = [edge["node"] for edge in data["tenants"]["edges"]]
        return {"tenants": tenants, "clients": {h: data[f"c{i}"] for i, h in enumerate(handles)}}

    return snapshot


def shown_tenant(snapshot: Json, handle: str) -> Json:
    """The tenant as a snapshot shows it, without its updatedAt (None: not there)."""
    for tenant in snapshot["tenants"]:
        if tenant["handle"] == handle:
            return {k: v for k, v in tenant.items() if k != "updatedAt"}
    return None


def shown_roles(snapshot: Json, tenant: str, client_id: str) -> list[str] | None:
    """The client's roles as a snapshot shows them (None: not there)."""
    for client in snapshot["clients"][tenant]:
        if client["clientId"] == client_id:
            roles: list[str] = client["roles"]
            return roles
    return None


async def m_create_tenant(world: World, obj: Obj) -> Seen:
    handle = world.name("made")
    spec = {"handle": handle, "name": "Made In The Matrix", "kind": "MERCHANT"}
    made = {**spec, "status": "ACTIVE"}

    async def effect(payload: Json, after: Json) -> bool:
        return shown_tenant(after, handle) == made

    seen = await mutate(
        world,
        "createTenant",
        CREATE_TENANT,
        {"input": spec},
        ok=lambda p: p["tenant"] == made,
        snapshot=tenancy_snapshot(world),
        effect=effect,
    )
    if seen.outcome == Outcome.ALLOWED:
        world.tenants[handle] = made
    return seen


async def m_update_tenant(world: World, obj: Obj) -> Seen:
    handle, name = tenant_of(world, obj), world.name("Renamed")
    renamed = {**world.tenants[handle], "name": name}

    async def effect(payload: Json, after: Json) -> bool:
        return shown_tenant(after, handle) == renamed

    seen = await mutate(
        world,
        "updateTenant",
        UPDATE_TENANT,
        {"input": {"handle": handle, "name": name}},
        ok=lambda p: p["tenant"] == {"handle": handle, "name": name},
        snapshot=tenancy_snapshot(world),
        made_up={"input": {"handle": MADE_UP_TENANT, "name": name}},
        effect=effect,
    )
    if seen.outcome == Outcome.ALLOWED:
        world.tenants[handle] = renamed
    return seen


async def m_create_api_client(world: World, obj: Obj) -> Seen:
    """own: a client of the caller's tenant, named by none; other: one of globex's."""
    client_id = world.name("new-client")
    if obj is Obj.OWN:
        tenant, named, roles = world.tenant, None, [ROLE_OF_KIND[world.kind]]
        spec = {"clientId": client_id, "roles": roles}
    else:
        tenant, named, roles = "globex", "globex", ["merchant_viewer"]
        spec = {"clientId": client_id, "roles": roles, "tenant": tenant}

    async def effect(payload: Json, after: Json) -> bool:
        """Listed, to the platform admin and to the caller, and its secret works."""
        world.secrets[client_id] = payload["clientSecret"]
        mine = await world.call(API_CLIENTS, {"tenant": named})
        return (
            shown_roles(after, tenant, client_id) == roles
            and client_id in [c["clientId"] for c in mine["data"]["apiClients"]]
            and await world.secret_works(client_id, payload["clientSecret"])
        )

    seen = await mutate(
        world,
        "createApiClient",
        CREATE_CLIENT,
        {"input": spec},
        ok=lambda p: (
            p["apiClient"] == {"clientId": client_id, "roles": roles, "tenant": {"handle": tenant}}
            and bool(p["clientSecret"])
        ),
        snapshot=tenancy_snapshot(world),
        made_up={"input": {**spec, "tenant": MADE_UP_TENANT}},
        not_found_field=["input", "tenant"],
        effect=effect,
    )
    if seen.outcome == Outcome.ALLOWED:
        world.clients.setdefault(tenant, []).append(client_id)
        world.spare_clients.setdefault(tenant, []).append(client_id)
    return seen


# An ALLOWED row's further checks: (payload, snapshot after, tenant, target client).
ClientEffect = Callable[[Json, Json, str, str], Awaitable[bool]]


async def client_row(
    world: World,
    obj: Obj,
    root: str,
    document: str,
    ok: Callable[[Json, str, str], bool],
    effect: ClientEffect,
) -> Seen:
    """A row acting on a fresh client of the caller's tenant (own) or globex's (other).

    Argon2 makes clients slow to make, so they are pooled: one made by createApiClient,
    or still there after a row that answered as the matrix can expect, serves the next
    row as well as a new one would. Its secret works before the row, and still works
    after any answer but ALLOWED.
    """
    tenant, kind = (world.tenant, world.kind) if obj is Obj.OWN else ("globex", "merchant")
    pool = world.spare_clients.setdefault(tenant, [])
    if pool:
        target = pool.pop()
    else:
        made = await world.new_client(tenant, kind)
        target = made["apiClient"]["clientId"]
    secret = world.secrets[target]
    assert await world.secret_works(target, secret), f"{target}'s secret fails before {root}"

    async def row_effect(payload: Json, after: Json) -> bool:
        return await effect(payload, after, tenant, target)

    seen = await mutate(
        world,
        root,
        document,
        {"clientId": target},
        ok=lambda p: ok(p, tenant, target),
        snapshot=tenancy_snapshot(world),
        made_up={"clientId": MADE_UP_CLIENT},
        not_found_field=["clientId"],
        effect=row_effect,
    )
    refused = seen.outcome in set(Outcome) - {Outcome.ALLOWED}
    if refused and not await world.secret_works(target, secret):
        return Seen("CHANGED", f"answered {seen.outcome} yet {target}'s secret fails")
    deleted = root == "deleteApiClient" and seen.outcome == Outcome.ALLOWED
    if deleted:
        world.clients[tenant].remove(target)
    elif seen.outcome in set(Outcome):
        pool.append(target)
    return seen


async def m_rotate_api_client_secret(world: World, obj: Obj) -> Seen:
    def ok(payload: Json, tenant: str, target: str) -> bool:
        shown = {"clientId": target, "tenant": {"handle": tenant}}
        return payload["apiClient"] == shown and bool(payload["clientSecret"])

    async def effect(payload: Json, after: Json, tenant: str, target: str) -> bool:
        """The old secret is refused, the new one works."""
        old, new = world.secrets[target], payload["clientSecret"]
        world.secrets[target] = new
        return await world.secret_refused(target, old) and await world.secret_works(target, new)

    return await client_row(world, obj, "rotateApiClientSecret", ROTATE_SECRET, ok, effect)


async def m_delete_api_client(world: World, obj: Obj) -> Seen:
    def ok(payload: Json, tenant: str, target: str) -> bool:
        return bool(payload["deletedClientId"] == target)

    async def effect(payload: Json, after: Json, tenant: str, target: str) -> bool:
        """Listed no more, and its secret is refused."""
        gone = shown_roles(after, tenant, target) is None
        return gone and await world.secret_refused(target, world.secrets[target])

    return await client_row(world, obj, "deleteApiClient", DELETE_CLIENT, ok, effect)


async def m_set_tenant_sla(world: World, obj: Obj) -> Seen:
    handle, availability = tenant_of(world, obj), 90 + world.serial() / 100
    spec = {"tenant": handle, "availability": availability}
    return await mutate(
        world,
        "setTenantSla",
        SET_SLA,
        {"input": spec},
        ok=lambda p: p["sla"] == spec,
        snapshot=lambda: world.snapshot(TENANT_SLA, {"tenant": handle}),
        made_up={"input": {**spec, "tenant": MADE_UP_TENANT}},
    )


# ---- routing and risk


def nodes_snapshot(world: World, merchant: str) -> Callable[[], Awaitable[Json]]:
    return lambda: world.snapshot(FULFILLMENT_NODES, {"merchant": merchant})


def node_merchant(world: World) -> str | None:
    """What the caller puts in `merchant` to act on acme's nodes: partners (and the
    platform admin) name acme, acme's own roles name nobody."""
    return None if world.kind == "merchant" else "acme"


async def node_of(world: World, obj: Obj) -> tuple[str, str]:
    """A fresh node (merchant, code) for a row to act on, as the matrix's objects say:
    own: the caller's side operates it; other: globex's; shared: acme's, operated by
    the other side. A partner whose grant is gone gets the one its side made before."""
    if obj is Obj.OTHER:
        code = world.name("GLOBEX").upper()
        await world.put_node("globex-backend", code)
        return "globex", code
    by_partner = (world.kind == "partner") == (obj is Obj.OWN)
    if not by_partner:
        code = world.name("ACME").upper()
        await world.put_node("acme-backend", code)
    elif world.state in (RoleState.PARTNER_REVOKED, RoleState.PARTNER_EXPIRED):
        code = PARTNER_NODE
    else:
        code = world.name("SWIFT").upper()
        await world.put_node("swiftship-admin", code, merchant="acme")
    return "acme", code


def put_nothing(payload: Json) -> bool:
    return payload["node"] is None and payload["created"] is False


async def m_put_fulfillment_node(world: World, obj: Obj) -> Seen:
    if obj is Obj.NEW:
        merchant, code, created = "acme", world.name("NEW").upper(), True
    else:
        (merchant, code), created = await node_of(world, obj), False
    named = "globex" if obj is Obj.OTHER else node_merchant(world)
    spec = node_input(code, merchant=named, name=world.name("Renamed"))
    by_partner = world.kind == "partner" if obj is Obj.NEW else None

    def ok(payload: Json) -> bool:
        node = payload["node"]
        return (
            payload["created"] is created
            and (node["code"], node["name"]) == (code, spec["name"])
            and by_partner in (None, node["operatedByPartner"])
        )

    return await mutate(
        world,
        "putFulfillmentNode",
        PUT_NODE,
        {"input": spec},
        ok=ok,
        snapshot=nodes_snapshot(world, merchant),
        made_up={"input": {**spec, "merchant": MADE_UP_TENANT}},
        nothing=put_nothing,
    )


async def m_set_stock_levels(world: World, obj: Obj) -> Seen:
    if obj is Obj.OTHER:
        merchant, named, node = "globex", "globex", GLOBEX_NODE
    else:
        by_partner = (world.kind == "partner") == (obj is Obj.OWN)
        merchant, named = "acme", node_merchant(world)
        node = PARTNER_NODE if by_partner else ACME_NODE
    level = {"node": node, "sku": world.name("SKU"), "onHand": 7}
    spec = {"merchant": named, "levels": [level]}
    if obj is Obj.OTHER:
        made_up = {"input": {**spec, "merchant": MADE_UP_TENANT}}
    else:
        made_up = {"input": {**spec, "levels": [{**level, "node": MADE_UP_NODE}]}}
    return await mutate(
        world,
        "setStockLevels",
        SET_STOCK,
        {"input": spec},
        ok=lambda p: p["changed"] == 1,
        snapshot=nodes_snapshot(world, merchant),
        made_up=made_up,
        nothing=lambda p: p["changed"] == 0 and p["ordersWoken"] == 0,
    )


async def m_set_routing_profile(world: World, obj: Obj) -> Seen:
    named = {Obj.OWN: None, Obj.OTHER: "globex", Obj.SHARED: "acme"}[obj]
    merchant = named or "acme"  # whose profile must not change, when the caller has none
    weight = 1 + world.serial() / 100
    spec: dict[str, Any] = {"costWeight": weight}
    if named is not None:
        spec["merchant"] = named
    return await mutate(
        world,
        "setRoutingProfile",
        SET_ROUTING_PROFILE,
        {"input": spec},
        ok=lambda p: p["profile"]["costWeight"] == weight,
        snapshot=lambda: world.snapshot(ROUTING_PROFILE, {"merchant": merchant}),
        made_up={"input": {**spec, "merchant": MADE_UP_TENANT}},
    )


async def order_row(
    world: World,
    root: str,
    document: str,
    target: str,
    variables: dict[str, Any],
    made_up: dict[str, Any],
    ok: Callable[[Json], bool],
) -> Seen:
    return await mutate(
        world,
        root,
        document,
        variables,
        ok=lambda p: p["order"]["id"] == target and ok(p["order"]),
        snapshot=lambda: world.snapshot(ROUTED_ORDER_STATE, {"id": target}),
        made_up=made_up,
    )


async def m_reroute_order(world: World, obj: Obj) -> Seen:
    merchant = "globex" if obj is Obj.OTHER else "acme"
    delivered = obj is Obj.OWN_DELIVERED
    target = await world.new_unique_order(merchant, routed=True, delivered=delivered)
    return await order_row(
        world,
        "rerouteOrder",
        REROUTE,
        target,
        {"orderId": target},
        {"orderId": MADE_UP_ORDER_ID},
        # Routed again to the stocked node; a partner, routing on the nodes it operates
        # only, may leave the order PENDING (any answer from it is a mismatch anyway).
        ok=lambda order: order["status"] == "ROUTED" or world.kind == "partner",
    )


async def review_target(world: World, obj: Obj) -> str:
    if obj is Obj.OWN_HELD:
        return await world.new_held_order()
    return await world.new_unique_order("globex" if obj is Obj.OTHER else "acme")


async def m_approve_order(world: World, obj: Obj) -> Seen:
    target = await review_target(world, obj)
    return await order_row(
        world,
        "approveOrder",
        APPROVE,
        target,
        {"orderId": target},
        {"orderId": MADE_UP_ORDER_ID},
        ok=lambda order: order["status"] in ("PENDING", "ROUTED"),
    )


async def m_reject_order(world: World, obj: Obj) -> Seen:
    target = await review_target(world, obj)
    reason = "the matrix says no"
    return await order_row(
        world,
        "rejectOrder",
        REJECT,
        target,
        {"input": {"orderId": target, "reason": reason}},
        {"input": {"orderId": MADE_UP_ORDER_ID, "reason": reason}},
        ok=lambda order: (order["status"], order["cancelReason"]) == ("CANCELLED", reason),
    )


async def m_set_risk_profile(world: World, obj: Obj) -> Seen:
    """Sets the merchant's risk profile as it is (a new version): own is the caller's
    tenant's (acme's, for a caller with none), other is globex's, named."""
    merchant = "globex" if obj is Obj.OTHER else "acme"
    observer = f"{merchant}-backend"

    async def snapshot() -> Json:
        body = await world.call(RISK_PROFILE, as_client=observer)
        assert not errors_of(body), body
        return body["data"]

    policy = dict((await snapshot())["riskProfile"])
    policy.pop("version")
    spec = {**policy, "merchant": "globex"} if obj is Obj.OTHER else policy
    return await mutate(
        world,
        "setRiskProfile",
        SET_RISK_PROFILE,
        {"input": spec},
        ok=lambda p: {k: v for k, v in p["profile"].items() if k != "version"} == policy,
        snapshot=snapshot,
        made_up={"input": {**spec, "merchant": MADE_UP_TENANT}},
    )


Probe = Callable[[World, Obj], Awaitable[Seen]]

PROBES: dict[str, Probe] = {
    "Query.viewer": q_viewer,
    "Query.order": q_order,
    "Query.orders": q_orders,
    "Query.events": q_events,
    "Query.orderAccessGrants": q_order_access_grants,
    "Query.tenants": q_tenants,
    "Query.tenant": q_tenant,
    "Query.apiClients": q_api_clients,
    "Query.auditLog": q_audit_log,
    "Query.slaReport": q_sla_report,
    "Query.slaAlerts": q_sla_alerts,
    "Query.tenantSla": q_tenant_sla,
    "Query.fulfillmentNodes": q_fulfillment_nodes,
    "Query.routingProfile": q_routing_profile,
    "Query.routingFairnessReport": q_routing_fairness_report,
    "Query.riskProfile": q_risk_profile,
    **{operation: shared_field_probe(operation) for operation in SHARED_FIELDS},
    **{operation: partner_part_probe(operation) for operation in PARTNER_PARTS},
    "Mutation.createOrder": m_create_order,
    "Mutation.cancelOrder": m_cancel_order,
    "Mutation.updateFulfillment": m_update_fulfillment,
    "Mutation.grantOrderAccess": m_grant_order_access,
    "Mutation.revokeOrderAccess": m_revoke_order_access,
    "Mutation.createTenant": m_create_tenant,
    "Mutation.updateTenant": m_update_tenant,
    "Mutation.createApiClient": m_create_api_client,
    "Mutation.rotateApiClientSecret": m_rotate_api_client_secret,
    "Mutation.deleteApiClient": m_delete_api_client,
    "Mutation.setTenantSla": m_set_tenant_sla,
    "Mutation.putFulfillmentNode": m_put_fulfillment_node,
    "Mutation.setStockLevels": m_set_stock_levels,
    "Mutation.setRoutingProfile": m_set_routing_profile,
    "Mutation.rerouteOrder": m_reroute_order,
    "Mutation.approveOrder": m_approve_order,
    "Mutation.rejectOrder": m_reject_order,
    "Mutation.setRiskProfile": m_set_risk_profile,
}


async def run_row(world: World, row: Row) -> Seen:
    try:
        return await PROBES[row.operation](world, row.obj)
    except Exception as error:  # a broken answer is one mismatch, not the end of the run
        return Seen("ERROR", repr(error)[:600])


@pytest.mark.parametrize("state", list(RoleState), ids=str)
async def test_matrix(api: Api, settings: Settings, state: RoleState) -> None:
    world = await build_world(api, settings, state)
    mismatches = []
    for row in rows_for(state):
        seen = await run_row(world, row)
        if seen.outcome != row.expected:
            mismatches.append(
                f"{row.operation} on {row.obj}: expected {row.expected}, got {seen.outcome}"
                + (f"\n    {seen.detail}" if seen.detail else "")
            )
    assert not mismatches, f"{state} ({world.caller}):\n" + "\n".join(mismatches)


# ---------------------------------------------------------------- completeness


def schema_operations() -> set[str]:
    """Every query and mutation, and every field a share profile can hide."""
    sdl = build_schema(Settings(_env_file=None)).as_str()
    schema = parse_sdl(sdl)
    assert schema.query_type is not None
    assert schema.mutation_type is not None
    names = {f"Query.{name}" for name in schema.query_type.fields}
    names |= {f"Mutation.{name}" for name in schema.mutation_type.fields}
    names |= {"Order.total", "Order.customerEmail", "OrderLine.unitPrice"}
    names |= {"Order.routing", "Order.routingHistory"}  # shared with every reader
    for type_name, graphql_type in schema.type_map.items():
        if isinstance(graphql_type, GraphQLObjectType) and not type_name.startswith("__"):
            for name, graphql_field in graphql_type.fields.items():
                if "share profile" in (graphql_field.description or "").lower():
                    names.add(f"{type_name}.{name}")
    return names


def test_every_operation_and_shared_field_has_a_row_for_every_role_state() -> None:
    covered: dict[str, set[RoleState]] = {}
    for row in MATRIX:
        covered.setdefault(row.operation, set()).add(row.state)
    missing = {
        operation: sorted(str(state) for state in set(RoleState) - covered.get(operation, set()))
        for operation in sorted(schema_operations())
        if covered.get(operation, set()) != set(RoleState)
    }
    assert not missing, f"tests/policy/matrix.py lacks rows for: {missing}"


def test_every_row_names_a_real_operation_with_a_probe() -> None:
    operations = {row.operation for row in MATRIX}
    assert operations <= schema_operations(), operations - schema_operations()
    assert operations <= PROBES.keys(), operations - PROBES.keys()
