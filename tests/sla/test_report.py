"""slaReport over the real app: counts, percentiles, exemplars, bad requests, restarts."""

from __future__ import annotations

import math
import time
from typing import Any

import httpx
from sqlalchemy import event

from oaas.app import create_app
from oaas.settings import Settings
from tests.conftest import ISSUER, Api
from tests.orders.documents import CREATE_ORDER, ORDERS, order_input
from tests.orders.test_statement_count import StatementLog
from tests.sla.helpers import (
    REPORT,
    components,
    execute,
    flush_sli,
    operation_entry,
    report,
    tenant_entry,
    trace_id,
)
from tests.sla.test_histogram import RELATIVE_ERROR, exact


async def test_counts_equal_the_requests_made_per_tenant_and_operation(api: Api) -> None:
    components(api).tracing.aggregator.drain()
    traces: dict[str, set[str]] = {"createOrder": set(), "orders": set()}
    for index in range(3):
        response = await api.graphql(
            CREATE_ORDER, {"input": order_input(externalId=f"c-{index}")}, as_client="acme-shop"
        )
        traces["createOrder"].add(trace_id(response))
    for _ in range(2):
        traces["orders"].add(
            trace_id(await api.graphql(ORDERS, {"first": 5}, as_client="acme-shop"))
        )
    globex = {trace_id(await api.graphql(ORDERS, {"first": 5}, as_client="globex-shop"))}
    assert (await api.graphql(ORDERS, {"first": 5})).status_code == 401  # no tenant: not counted
    await flush_sli(api)

    data = await report(api)

    acme = tenant_entry(data, "acme")
    assert acme["requests"] == 5
    assert acme["bad"] == 0
    assert acme["availability"] == 1.0
    assert acme["availabilityTarget"] == 0.999  # tenants/demo.yaml
    assert acme["met"] is True
    assert acme["burnRate"] == 0.0
    assert acme["errorBudgetRemaining"] == 1.0
    assert [o["operation"] for o in acme["operations"]] == ["createOrder", "orders"]
    for name, ids in traces.items():
        entry = operation_entry(acme, name)
        assert entry["count"] == len(ids)
        assert entry["bad"] == 0
        assert set(entry["exemplarTraceIds"]) == ids
        assert entry["p50Ms"] is not None
        assert entry["p50Ms"] <= entry["p95Ms"] <= entry["p99Ms"]
    assert operation_entry(acme, "createOrder")["targetP95Ms"] == 800  # per operation
    assert operation_entry(acme, "orders")["targetP95Ms"] == 300
    entry = tenant_entry(data, "globex")
    assert (entry["requests"], [o["operation"] for o in entry["operations"]]) == (1, ["orders"])
    assert set(operation_entry(entry, "orders")["exemplarTraceIds"]) == globex
    assert operation_entry(entry, "orders")["targetP95Ms"] == 500  # the platform default
    assert tenant_entry(data, "swiftship")["requests"] == 0


async def test_percentiles_match_a_known_set_of_latencies(api: Api) -> None:
    """Latencies recorded as spans would record them, read back through the report."""
    aggregator = components(api).tracing.aggregator
    aggregator.drain()
    acme_id = await _tenant_id(api, "acme")
    latencies = [float(v) for v in range(1, 401)] + [1500.0] * 10
    now_ns = time.time_ns()
    for index, ms in enumerate(latencies):
        aggregator.record(
            end_ns=now_ns,
            tenant_id=acme_id,
            operation="syntheticOp",
            duration_ms=ms,
            bad=False,
            trace_id=f"{index:032x}",
        )
    await flush_sli(api)

    entry = operation_entry(tenant_entry(await report(api, tenant="acme"), "acme"), "syntheticOp")

    assert entry["count"] == len(latencies)
    for field, q in (("p50Ms", 50), ("p95Ms", 95), ("p99Ms", 99)):
        truth = exact(latencies, q)
        assert abs(entry[field] - truth) / truth <= RELATIVE_ERROR, (field, entry[field], truth)
    assert entry["met"] is (entry["p95Ms"] <= 500)
    # the slowest requests are the exemplars
    assert set(entry["exemplarTraceIds"]) <= {f"{i:032x}" for i in range(400, 410)}


async def test_an_operation_that_misses_its_latency_target_lends_its_slowest_traces(
    api: Api,
) -> None:
    aggregator = components(api).tracing.aggregator
    aggregator.drain()
    acme_id = await _tenant_id(api, "acme")
    now_ns = time.time_ns()
    slow = {f"{index:032x}": 1000.0 + index for index in range(8)}  # the target is 800 ms
    fast = {f"{100 + index:032x}": 5.0 for index in range(3)}  # within 300 ms
    for operation, traces in (("createOrder", slow), ("orders", fast)):
        for trace, ms in traces.items():
            aggregator.record(
                end_ns=now_ns,
                tenant_id=acme_id,
                operation=operation,
                duration_ms=ms,
                bad=False,
                trace_id=trace,
            )
    await flush_sli(api)

    acme = tenant_entry(await report(api, tenant="acme"), "acme")

    assert (acme["met"], acme["bad"]) == (True, 0)  # slow is not unavailable
    assert operation_entry(acme, "createOrder")["met"] is False
    assert operation_entry(acme, "orders")["met"] is True
    slowest_first = sorted(slow, key=slow.__getitem__, reverse=True)[:5]
    assert acme["exemplarTraceIds"] == slowest_first


async def test_bad_requests_are_server_failures_not_client_errors(
    api: Api, settings: Settings
) -> None:
    aggregator = components(api).tracing.aggregator
    await api.token("acme-backend")
    aggregator.drain()
    good = await api.graphql(ORDERS, {"first": 5}, as_client="acme-backend")
    assert good.status_code == 200
    # client errors: an invalid document, a userError, a forbidden field
    invalid = await api.graphql("{ orders { nope } }", as_client="acme-backend")
    assert invalid.status_code in (200, 400)
    user_error = await api.graphql(
        CREATE_ORDER, {"input": order_input(currency="XXX")}, as_client="acme-backend"
    )
    assert user_error.json()["data"]["createOrder"]["userErrors"]
    forbidden = await api.graphql(
        "{ tenants { edges { node { handle } } } }", as_client="acme-backend"
    )
    assert forbidden.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # a server failure: the database loses a table
    await execute(settings.migrations_url, "ALTER TABLE orders RENAME TO orders_gone")
    try:
        broken = await api.graphql(ORDERS, {"first": 5}, as_client="acme-backend")
    finally:
        await execute(settings.migrations_url, "ALTER TABLE orders_gone RENAME TO orders")
    assert broken.json()["errors"][0]["extensions"]["code"] == "INTERNAL_ERROR"
    await flush_sli(api)

    acme = tenant_entry(await report(api, tenant="acme"), "acme")

    assert acme["requests"] == 5
    assert acme["bad"] == 1
    assert acme["availability"] == 0.8
    assert acme["met"] is False
    assert math.isclose(acme["burnRate"], 0.2 / 0.001)
    assert math.isclose(acme["errorBudgetRemaining"], 1 - 0.2 / 0.001)
    assert operation_entry(acme, "orders")["bad"] == 1
    # The bad request leads the exemplars. After it come only the slowest requests of an
    # operation that missed its latency target: on a loaded machine one request may be slow.
    assert acme["exemplarTraceIds"][0] == trace_id(broken)
    slow_of_missed = {
        trace for o in acme["operations"] if not o["met"] for trace in o["exemplarTraceIds"]
    }
    assert set(acme["exemplarTraceIds"][1:]) <= slow_of_missed
    assert operation_entry(acme, "orders")["exemplarTraceIds"][0] == trace_id(broken)


async def test_aggregates_survive_a_restart(api: Api, settings: Settings) -> None:
    components(api).tracing.aggregator.drain()
    for _ in range(4):
        await api.graphql(ORDERS, {"first": 1}, as_client="globex-shop")
    await flush_sli(api)
    before = tenant_entry(await report(api, tenant="globex"), "globex")
    await components(api).database.dispose()

    app = create_app(settings)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=ISSUER
        ) as http:
            fresh = Api(http)
            data = await fresh.data(REPORT, {"tenant": "globex"}, as_client="ops-admin")
    finally:
        await app.state.components.database.dispose()

    after = tenant_entry(data["slaReport"], "globex")  # type: ignore[arg-type]
    assert after["requests"] == before["requests"] == 4
    assert after["operations"] == before["operations"]


async def test_the_window_bounds_the_report(api: Api) -> None:
    components(api).tracing.aggregator.drain()
    await api.graphql(ORDERS, {"first": 1}, as_client="globex-shop")
    await flush_sli(api)
    empty = await report(
        api, tenant="globex", since="2020-01-01T00:00:00Z", until="2020-01-02T00:00:00Z"
    )
    assert (empty["since"], empty["until"]) == (
        "2020-01-01T00:00:00+00:00",
        "2020-01-02T00:00:00+00:00",
    )
    assert tenant_entry(empty, "globex")["requests"] == 0
    assert tenant_entry(await report(api, tenant="globex"), "globex")["requests"] == 1


async def test_who_may_read_which_report(api: Api) -> None:
    own = await report(api, as_client="acme-backend")
    assert [t["tenant"] for t in own["tenants"]] == ["acme"]
    partner = await report(api, as_client="swiftship-admin")
    assert [t["tenant"] for t in partner["tenants"]] == ["swiftship"]
    everyone = await report(api)
    assert {"acme", "globex", "swiftship", "ops"} <= {t["tenant"] for t in everyone["tenants"]}

    other = await api.graphql(REPORT, {"tenant": "globex"}, as_client="acme-backend")
    assert _codes(other) == ["NOT_FOUND"]  # another tenant's report does not exist for acme
    unknown = await api.graphql(REPORT, {"tenant": "nobody"}, as_client="ops-admin")
    assert _codes(unknown) == ["NOT_FOUND"]
    operator = await api.graphql(REPORT, {}, as_client="acme-shop")
    assert _codes(operator) == ["FORBIDDEN"]
    backwards = await api.graphql(
        REPORT,
        {"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
        as_client="ops-admin",
    )
    assert _codes(backwards) == ["INVALID"]


def _codes(response: httpx.Response) -> list[str]:
    body: dict[str, Any] = response.json()
    return [e["extensions"]["code"] for e in body.get("errors", [])]


async def _tenant_id(api: Api, handle: str) -> str:
    from oaas.db import SYSTEM_SCOPE
    from oaas.tenancy.service import find_tenant

    async with components(api).database.session(write=False, scope=SYSTEM_SCOPE) as session:
        tenant = await find_tenant(session, handle)
        assert tenant is not None
        return str(tenant.id)


CREATE_TENANT = """
mutation ($input: CreateTenantInput!) {
  createTenant(input: $input) { tenant { handle } userErrors { code } }
}
"""


async def test_a_report_of_every_tenant_takes_the_same_statements_however_many(
    api: Api,
) -> None:
    """Tenants' slas, SLI rows, grants and orders are each read in one batch."""
    log = StatementLog()
    database = components(api).database

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        log.statements.append(statement)

    await api.token("ops-admin")
    counts = []
    for extra in range(2):
        for index in range(3):
            kind = "MERCHANT" if index % 2 == 0 else "PARTNER"
            data: Any = await api.data(
                CREATE_TENANT,
                {
                    "input": {
                        "handle": f"t{extra}-{index}",
                        "name": f"T {extra} {index}",
                        "kind": kind,
                    }
                },
                as_client="ops-admin",
            )
            assert data["createTenant"]["userErrors"] == []
        log.statements.clear()
        event.listen(database.read_engine.sync_engine, "before_cursor_execute", record)
        try:
            tenants = (await report(api))["tenants"]
        finally:
            event.remove(database.read_engine.sync_engine, "before_cursor_execute", record)
        counts.append((len(tenants), len(log.data_statements())))
    assert counts[1][0] == counts[0][0] + 3
    assert counts[1][1] == counts[0][1], counts
