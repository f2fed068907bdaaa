"""SLA definitions: setTenantSla, tenantSla, the manifest's `sla:` and platform defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from oaas.errors import ValidationFailed
from oaas.manifests.apply import apply_manifest
from oaas.manifests.manifest import ManifestError, load_manifests
from oaas.policy import system_principal
from oaas.sla.definitions import PLATFORM_DEFAULT, parse_sla
from tests.conftest import DEMO_MANIFEST, Api
from tests.sla.helpers import SET_SLA, components, report, tenant_entry

TENANT_SLA = """
query Sla($tenant: String) {
  tenantSla(tenant: $tenant) {
    tenant availability latencyP95Ms { operation ms } fulfilmentHours maxDeviationRate
  }
}
"""


async def test_a_platform_admin_sets_a_tenants_sla(api: Api) -> None:
    data: Any = await api.data(
        SET_SLA,
        {
            "input": {
                "tenant": "globex",
                "availability": 99.5,
                "latencyP95Ms": [{"operation": "orders", "ms": 250}],
            }
        },
        as_client="ops-admin",
    )
    assert data["setTenantSla"] == {
        "sla": {
            "tenant": "globex",
            "availability": 99.5,
            "latencyP95Ms": [
                {"operation": "default", "ms": 500.0},
                {"operation": "orders", "ms": 250.0},
            ],
            "fulfilmentHours": 48.0,
            "maxDeviationRate": 5.0,
        },
        "userErrors": [],
    }
    entry = tenant_entry(await report(api, tenant="globex"), "globex")
    assert entry["availabilityTarget"] == 0.995
    own: Any = await api.data(TENANT_SLA, {}, as_client="globex-backend")
    assert own["tenantSla"]["availability"] == 99.5


async def test_tenants_without_an_sla_get_the_platform_defaults(api: Api) -> None:
    data: Any = await api.data(TENANT_SLA, {"tenant": "swiftship"}, as_client="ops-admin")
    assert data["tenantSla"]["availability"] == PLATFORM_DEFAULT.availability
    assert data["tenantSla"]["fulfilmentHours"] == PLATFORM_DEFAULT.fulfilment_hours
    acme: Any = await api.data(TENANT_SLA, {}, as_client="acme-backend")
    assert {"operation": "createOrder", "ms": 800.0} in acme["tenantSla"]["latencyP95Ms"]


async def test_bad_values_are_user_errors_naming_the_field(api: Api) -> None:
    data: Any = await api.data(
        SET_SLA,
        {
            "input": {
                "tenant": "globex",
                "availability": 120,
                "fulfilmentHours": 0,
                "latencyP95Ms": [{"operation": "orders", "ms": -1}],
            }
        },
        as_client="ops-admin",
    )
    payload = data["setTenantSla"]
    assert payload["sla"] is None
    assert sorted(tuple(e["field"]) for e in payload["userErrors"]) == [
        ("input", "availability"),
        ("input", "fulfilmentHours"),
        ("input", "latencyP95Ms", "orders"),
    ]
    assert {e["code"] for e in payload["userErrors"]} == {"INVALID"}
    unknown: Any = await api.data(
        SET_SLA, {"input": {"tenant": "nobody", "availability": 99}}, as_client="ops-admin"
    )
    assert unknown["setTenantSla"]["userErrors"][0]["code"] == "NOT_FOUND"


async def test_only_platform_admins_set_slas(api: Api) -> None:
    response = await api.graphql(
        SET_SLA, {"input": {"tenant": "acme", "availability": 90}}, as_client="acme-backend"
    )
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    other = await api.graphql(TENANT_SLA, {"tenant": "globex"}, as_client="acme-backend")
    assert other.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def _write(tmp_path: Path, sla: Any) -> Path:
    data = yaml.safe_load(DEMO_MANIFEST.read_text(encoding="utf-8"))
    data["tenants"][0]["sla"] = sla
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("sla", "problem"),
    [
        (
            {"availability": 100.5},
            "demo.yaml: tenants[0].sla.availability: must be a number between 0 and 100",
        ),
        (
            {"availability": "high"},
            "demo.yaml: tenants[0].sla.availability: must be a number between 0 and 100",
        ),
        (
            {"latency_p95_ms": {"orders": 0}},
            "demo.yaml: tenants[0].sla.latency_p95_ms.orders: must be a number of milliseconds above 0",
        ),
        (
            {"latency_p95_ms": [300]},
            "demo.yaml: tenants[0].sla.latency_p95_ms: must be a mapping of operation to milliseconds",
        ),
        (
            {"fulfilment_hours": -2},
            "demo.yaml: tenants[0].sla.fulfilment_hours: must be a number of hours above 0",
        ),
        (
            {"max_deviation_rate": 101},
            "demo.yaml: tenants[0].sla.max_deviation_rate: must be a number between 0 and 100",
        ),
        (
            {"uptime": 99},
            "demo.yaml: tenants[0].sla.uptime: unknown key (expected one of availability, "
            "latency_p95_ms, fulfilment_hours, max_deviation_rate)",
        ),
        ("gold", "demo.yaml: tenants[0].sla: must be a mapping"),
    ],
)
def test_manifest_sla_problems_name_file_and_path(tmp_path: Path, sla: Any, problem: str) -> None:
    with pytest.raises(ManifestError) as caught:
        load_manifests([_write(tmp_path, sla)])
    assert caught.value.problems == [problem]


def test_the_demo_manifest_gives_acme_an_sla() -> None:
    acme = load_manifests([DEMO_MANIFEST]).tenants[0]
    assert acme.handle == "acme"
    assert acme.sla is not None
    assert acme.sla.latency_target("createOrder") == 800
    assert acme.sla.latency_target("somethingElse") == 500


async def test_applying_a_manifest_creates_updates_or_leaves_the_sla(
    api: Api, tmp_path: Path
) -> None:
    database = components(api).database
    principal = system_principal("tests")

    async def apply(path: Path) -> list[str]:
        from oaas.db import SYSTEM_SCOPE

        async with database.session(write=True, scope=SYSTEM_SCOPE) as session:
            changes = await apply_manifest(session, principal, load_manifests([path]))
        return [str(c) for c in changes if c.kind == "sla"]

    # the test database was made from tenants/demo.yaml: acme has its SLA already
    assert await apply(DEMO_MANIFEST) == ["sla acme: unchanged"]
    assert await apply(_write(tmp_path, {"availability": 99.5})) == ["sla acme: updated"]
    entry = tenant_entry(await report(api, tenant="acme"), "acme")
    assert entry["availabilityTarget"] == 0.995


def test_parse_sla_names_every_bad_field() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_sla({"availability": 0, "max_deviation_rate": -1}, ("sla",))
    assert [(e.field, e.message) for e in caught.value.errors] == [
        (("sla", "availability"), "availability: must be a number between 0 and 100"),
        (("sla", "maxDeviationRate"), "maxDeviationRate: must be a number between 0 and 100"),
    ]
