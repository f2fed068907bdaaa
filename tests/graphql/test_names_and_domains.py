"""One text rule for every name, and merchants' disposable domains checked as domain names.

Names follow the PRECIS FreeformClass (oaas.text): any script, but no control characters
and no invisible formatting characters such as U+202E (right-to-left override), which
would make "Acme‮cod.exe" read differently from what it is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Api
from tests.manifests.conftest import demo_manifest
from tests.manifests.test_fulfilment_sections import edited, load_problems
from tests.orders.documents import create_payload, order_input
from tests.routing.documents import PUT_NODE, node_input
from tests.tenancy.helpers import CREATE_TENANT, UPDATE_TENANT

RLO = "Acme\u202egpj.exe"
BAD_NAMES = {
    "right-to-left override": RLO,
    "zero-width space": "Acme\u200bShop",
    "a newline": "Acme\nShop",
    "private use": "Acme\ue000",
    "blank": "   ",
}
GOOD_NAMES = (
    "Müller & Söhne GmbH",
    "Café\u00a0Berlin",
    "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
    "東京ストア",
    "Acme (EU) #1",
)

RISK = """
mutation SetRisk($input: RiskProfileInput!) {
  setRiskProfile(input: $input) {
    profile { version extraDisposableDomains }
    userErrors { field message code }
  }
}"""
RISK_PROFILE = "query Risk { riskProfile { version extraDisposableDomains } }"


def _errors(body: dict[str, Any], mutation: str) -> list[tuple[str, ...]]:
    assert "errors" not in body, body
    return [tuple(e["field"]) for e in body["data"][mutation]["userErrors"]]


async def test_every_name_follows_one_rule(api: Api) -> None:
    for label, name in BAD_NAMES.items():
        body = (
            await api.graphql(
                CREATE_TENANT,
                {"input": {"handle": "newco", "name": name, "kind": "MERCHANT"}},
                as_client="ops-admin",
            )
        ).json()
        assert _errors(body, "createTenant") == [("input", "name")], label
        body = (
            await api.graphql(
                UPDATE_TENANT, {"input": {"handle": "acme", "name": name}}, as_client="ops-admin"
            )
        ).json()
        assert _errors(body, "updateTenant") == [("input", "name")], label
        body = (
            await api.graphql(
                PUT_NODE, {"input": node_input("BERLIN-1", name=name)}, as_client="acme-backend"
            )
        ).json()
        assert _errors(body, "putFulfillmentNode") == [("input", "name")], label
        bad_order = order_input()
        bad_order["shippingAddress"]["city"] = name  # the address name is optional: a city
        payload = await create_payload(api, bad_order, as_client="acme-backend")
        assert [tuple(e["field"]) for e in payload["userErrors"]] == [
            ("input", "shippingAddress", "city")
        ], label
    body = (
        await api.graphql('query T { tenant(handle: "acme") { name } }', as_client="ops-admin")
    ).json()
    assert body["data"]["tenant"]["name"] == "Acme Appliances"
    for index, name in enumerate(GOOD_NAMES):
        body = (
            await api.graphql(
                CREATE_TENANT,
                {"input": {"handle": f"newco-{index}", "name": name, "kind": "MERCHANT"}},
                as_client="ops-admin",
            )
        ).json()
        assert body["data"]["createTenant"]["tenant"]["name"] == name, body
        body = (
            await api.graphql(
                PUT_NODE, {"input": node_input(f"N-{index}", name=name)}, as_client="acme-backend"
            )
        ).json()
        assert body["data"]["putFulfillmentNode"]["node"]["name"] == name, body


def test_a_manifest_name_follows_the_same_rule(tmp_path: Path) -> None:
    data = demo_manifest()
    data["tenants"][0]["name"] = RLO
    problems = load_problems(tmp_path, data)
    assert len(problems) == 1, problems
    assert problems[0].startswith("x.yaml: tenants[0].name: "), problems
    assert "U+202E" in problems[0], problems
    problems = load_problems(tmp_path, edited(("routing.0.nodes.0.name", RLO)))
    assert len(problems) == 1, problems
    assert problems[0].startswith("x.yaml: routing[0].nodes[0].name: "), problems


BAD_DOMAINS = [
    "",
    "   ",
    "not a domain",
    "x" * 5000,
    "localhost",
    "a..b.com",
    "ex_ample.com",
    "1.2.3.4",
    "-a.com",
    "a" * 64 + ".com",
]


async def test_extra_disposable_domains_are_domain_names(api: Api) -> None:
    before = (await api.data(RISK_PROFILE, as_client="acme-backend"))["riskProfile"]
    domains = [*BAD_DOMAINS, "throwaway.example"]
    body = (
        await api.graphql(
            RISK, {"input": {"extraDisposableDomains": domains}}, as_client="acme-backend"
        )
    ).json()
    assert _errors(body, "setRiskProfile") == [
        ("input", "extraDisposableDomains", str(index)) for index in range(len(BAD_DOMAINS))
    ]
    messages = [e["message"] for e in body["data"]["setRiskProfile"]["userErrors"]]
    assert all(len(message) < 300 for message in messages), messages
    assert (await api.data(RISK_PROFILE, as_client="acme-backend"))["riskProfile"] == before
    good = ["@Example.COM", ".mail.example.org.", "BÜCHER.de", "xn--bcher-kva.de", "例え.テスト"]
    body = (
        await api.graphql(
            RISK, {"input": {"extraDisposableDomains": good}}, as_client="acme-backend"
        )
    ).json()
    assert _errors(body, "setRiskProfile") == []
    assert body["data"]["setRiskProfile"]["profile"]["extraDisposableDomains"] == [
        "bücher.de",
        "example.com",
        "mail.example.org",
        "例え.テスト",
    ]


@pytest.mark.parametrize("domain", ["", "not a domain", "x" * 5000, "localhost"])
def test_a_manifest_domain_is_a_domain_name(tmp_path: Path, domain: str) -> None:
    problems = load_problems(
        tmp_path, edited(("risk.0.extra_disposable_domains", ["throwaway.example", domain]))
    )
    assert len(problems) == 1, problems
    assert problems[0].startswith("x.yaml: risk[0].extra_disposable_domains[1]: "), problems
    assert len(problems[0]) < 300, problems
