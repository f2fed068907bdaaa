"""Fragments that spread the previous one twice: 2^levels selections from a few KB.

Every static walk (the limits rule, both cost walks) must take time linear in the
document, and the gateway must refuse such a document at once, naming the limit,
while the event loop keeps serving other requests.
"""

from __future__ import annotations

import asyncio
import statistics
import time

from graphql import OperationDefinitionNode, parse

from oaas.graphql.cost import operation_cost
from oaas.graphql.fragments import fragments_of
from oaas.graphql.schema import build_schema
from oaas.settings import Settings
from tests.conftest import Api

LEVELS = 40


def fan_out(levels: int, *, prefix: str = "F", leaf: str = "clientId") -> str:
    """`fragment F1 on Viewer { ...F0 ...F0 }` ... up to `levels`, about 1.7 KB at 40."""
    parts = [f"fragment {prefix}0 on Viewer {{ {leaf} }}"]
    parts += [
        f"fragment {prefix}{i} on Viewer {{ ...{prefix}{i - 1} ...{prefix}{i - 1} }}"
        for i in range(1, levels + 1)
    ]
    return f"query FanOut {{ viewer {{ ...{prefix}{levels} }} }}\n" + "\n".join(parts)


def _errors(body: dict[str, object]) -> list[dict[str, object]]:
    errors = body.get("errors")
    assert isinstance(errors, list), body
    return errors


async def test_a_fragment_fan_out_is_refused_at_once_naming_the_limit(api: Api) -> None:
    token = await api.token("acme-reports")
    await api.graphql("query Warm { viewer { clientId } }", token=token)
    timings = []
    for attempt in range(3):
        # A new prefix each time: the document cache must not be what makes it fast.
        document = fan_out(LEVELS, prefix=f"R{attempt}x")
        assert len(document) < 2_500
        started = time.perf_counter()
        response = await api.graphql(document, token=token)
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200
        errors = _errors(response.json())
        assert [e["extensions"] for e in errors] == [{"code": "QUERY_REJECTED"}]
        # viewer, the spread of F40, and 2 x (the spread + what it holds) per level
        assert f"{3 * 2**LEVELS:,} selections" in str(errors[0]["message"])
        assert "the limit is 5,000" in str(errors[0]["message"])
    assert statistics.median(timings) < 0.05, timings


async def test_healthz_keeps_answering_while_fan_outs_arrive(api: Api) -> None:
    token = await api.token("acme-reports")
    stop = asyncio.Event()
    gaps: list[float] = []

    async def probe() -> None:
        while not stop.is_set():
            started = time.perf_counter()
            response = await api.http.get("/healthz")
            assert response.status_code == 200
            gaps.append(time.perf_counter() - started)
            await asyncio.sleep(0)

    async def attack() -> None:
        for attempt in range(5):
            response = await api.graphql(fan_out(LEVELS, prefix=f"H{attempt}x"), token=token)
            assert "QUERY_REJECTED" in response.text
        stop.set()

    await asyncio.gather(probe(), attack())
    assert gaps
    assert max(gaps) < 0.5, max(gaps)


async def test_fan_outs_of_aliases_and_depth_are_measured_not_walked(api: Api) -> None:
    token = await api.token("acme-reports")
    aliased = fan_out(30, prefix="A", leaf="a: clientId")
    errors = _errors((await api.graphql(aliased, token=token)).json())
    messages = " ".join(str(e["message"]) for e in errors)
    assert "1073741824 aliases; the limit is 30" in messages
    nested = (
        "query Deep { viewer { tenant { ...T30 } } }\n"
        "fragment T0 on Tenant { handle }\n"
        + "\n".join(f"fragment T{i} on Tenant {{ ...T{i - 1} ...T{i - 1} }}" for i in range(1, 31))
    )
    errors = _errors((await api.graphql(nested, token=token)).json())
    assert "selections" in str(errors[0]["message"])


def _chain(length: int) -> str:
    chain = ["fragment C0 on Viewer { clientId }"] + [
        f"fragment C{i} on Viewer {{ ...C{i - 1} }}" for i in range(1, length)
    ]
    return f"query Chain {{ viewer {{ ...C{length - 1} }} }}\n" + "\n".join(chain)


async def test_a_long_chain_of_fragments_is_answered_and_a_longer_one_refused(api: Api) -> None:
    """Fragments each spreading the next once: no walk recurses along the chain, and
    past graphql-core's nesting limit (200) the answer names the limit."""
    response = await api.graphql(_chain(150), as_client="acme-reports")
    body = response.json()
    assert body["data"] == {"viewer": {"clientId": "acme-reports"}}, body
    response = await api.graphql(_chain(400), as_client="acme-reports")
    errors = _errors(response.json())
    assert errors[0]["extensions"] == {"code": "QUERY_REJECTED"}
    assert "fragments nested more than 200 levels deep" in str(errors[0]["message"])


def _cost_inputs(document: str) -> tuple[object, OperationDefinitionNode, dict[str, object]]:
    settings = Settings(database_url="sqlite+aiosqlite://", _env_file=None)  # type: ignore[call-arg]
    schema = build_schema(settings)._schema
    parsed = parse(document)
    operation = next(d for d in parsed.definitions if isinstance(d, OperationDefinitionNode))
    return schema, operation, fragments_of(parsed)


def test_the_cost_meter_walks_a_fan_out_in_linear_time() -> None:
    schema, operation, fragments = _cost_inputs(fan_out(LEVELS))
    started = time.perf_counter()
    requested = operation_cost(schema, operation, fragments, {}, max_page=100)  # type: ignore[arg-type]
    actual = operation_cost(
        schema,  # type: ignore[arg-type]
        operation,
        fragments,
        {},
        max_page=100,
        data={"viewer": {"clientId": "acme-reports"}},
        actual=True,
    )
    assert time.perf_counter() - started < 0.05
    assert requested == 1
    assert actual == 1


def test_the_cost_meter_prices_connections_inside_a_fan_out_once_per_spread() -> None:
    document = (
        "query Pages { ...P20 }\n"
        "fragment P0 on Query { orders(first: 1) { edges { node { id merchant { handle } } } } }\n"
        + "\n".join(f"fragment P{i} on Query {{ ...P{i - 1} ...P{i - 1} }}" for i in range(1, 21))
    )
    schema, operation, fragments = _cost_inputs(document)
    started = time.perf_counter()
    requested = operation_cost(schema, operation, fragments, {}, max_page=100)  # type: ignore[arg-type]
    assert time.perf_counter() - started < 0.05
    # Every spread is priced (an upper bound), so the figure is as large as the
    # expansion, and the plan's single-query limit refuses it.
    assert requested == 2**20 * (2 + 1 * 2)


async def test_repeated_fields_are_compared_within_a_budget(api: Api) -> None:
    """graphql-core compares repeated fields in pairs: 400 x `tenant { handle }` took
    seconds with its default budget; here it stops at the budget, naming it."""
    token = await api.token("acme-reports")
    await api.graphql("query Warm { viewer { clientId } }", token=token)
    timings = []
    for attempt in range(3):
        document = f"query Repeat{attempt} {{ viewer {{ " + "tenant { handle } " * 400 + "} }"
        started = time.perf_counter()
        response = await api.graphql(document, token=token)
        timings.append(time.perf_counter() - started)
        errors = _errors(response.json())
        assert errors[0]["extensions"] == {"code": "QUERY_REJECTED"}
        assert "past 5,000 steps of comparing them" in str(errors[0]["message"])
    assert statistics.median(timings) < 0.25, timings


async def test_a_document_over_32_kib_is_refused_before_it_is_parsed(api: Api) -> None:
    token = await api.token("acme-reports")
    within = 'query Within { order(id: "' + "a" * 32_000 + '") { id } }'
    assert (await api.graphql(within, token=token)).json()["data"] == {"order": None}
    over = 'query Over { order(id: "' + "a" * 900_000 + '") { id } }'
    started = time.perf_counter()
    response = await api.graphql(over, token=token)
    assert time.perf_counter() - started < 0.05
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "message": "the query document has 900,035 characters; the limit is 32,768: "
            "send values as variables",
            "extensions": {"code": "QUERY_REJECTED"},
        }
    ]
