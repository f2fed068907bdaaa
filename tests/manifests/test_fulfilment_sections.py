"""The `routing:` and `risk:` sections of a tenants manifest (tenants/demo-fulfilment.yaml):
nodes, stock, a routing profile and a risk policy per merchant, applied by
`oaas tenants apply`; validated whole first, every problem named by file and path."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from oaas.manifests.manifest import ManifestError, load_manifests
from tests.conftest import DEMO_MANIFEST, REPO, Api
from tests.manifests.conftest import (
    Cli,
    CliResult,
    created_lines,
    demo_manifest,
    gateway,
    rows,
    snapshot,
    write_manifest,
)
from tests.routing.documents import NODES, create

FULFILMENT = REPO / "tenants" / "demo-fulfilment.yaml"
DEMO_NODES = ("BERLIN-1", "MUNICH-1", "HAMBURG-SWIFT")

# What the first apply of demo-fulfilment.yaml reports (a profile set for the first
# time is reported "updated", not "created").
FIRST_APPLY = [
    "routing profile acme: updated",
    "node acme/BERLIN-1: created",
    "stock acme/BERLIN-1: updated (2 levels set)",
    "node acme/MUNICH-1: created",
    "stock acme/MUNICH-1: updated (1 levels set)",
    "node acme/HAMBURG-SWIFT: created",
    "stock acme/HAMBURG-SWIFT: updated (2 levels set)",
    "risk profile acme: updated",
]

# (operated by a partner, daily capacity, {sku: on hand}) by node code, as acme sees them.
DEMO_VIEW = {
    "BERLIN-1": (False, 500, {"KETTLE-1": 40, "TOASTER-2": 10}),
    "MUNICH-1": (False, 50, {"KETTLE-1": 5}),
    "HAMBURG-SWIFT": (True, 1000, {"KETTLE-1": 100, "TOASTER-2": 100}),
}

PROFILES = """
{ routingProfile { version costWeight maxSplit allowSplit regionCentroids { region } }
  riskProfile { version holdThreshold mediumThreshold extraDisposableDomains } }
"""

# --- helpers ----------------------------------------------------------------------


def fulfilment_manifest() -> dict[str, Any]:
    """tenants/demo-fulfilment.yaml as data, for tests to change."""
    data: dict[str, Any] = yaml.safe_load(FULFILMENT.read_text(encoding="utf-8"))
    return copy.deepcopy(data)


def unchanged(lines: list[str], changed: Mapping[str, str] | None = None) -> list[str]:
    """The report with every object unchanged, except the outcomes in `changed`."""
    names = [line.split(": ", 1)[0] for line in lines]
    return [f"{name}: {(changed or {}).get(name, 'unchanged')}" for name in names]


async def apply(url: str, workdir: Path, *files: Path) -> CliResult:
    """`oaas tenants apply FILES` against the database at `url`."""
    return await Cli(url, workdir).call("tenants", "apply", *files)


async def apply_demo_fulfilment(url: str, workdir: Path) -> None:
    """acme's demo nodes, stock and profiles on a database holding the demo tenants."""
    result = await apply(url, workdir, FULFILMENT)
    assert (result.code, result.err, result.lines) == (0, "", FIRST_APPLY), result


DELETE = object()


def edit(data: dict[str, Any], where: str, value: object) -> None:
    """Sets (or with DELETE removes, or past a list's end appends) the value at a dotted
    path such as `routing.0.nodes.1.latitude`."""
    *parents, last = where.split(".")
    target: Any = data
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if isinstance(target, list) and int(last) == len(target):
        target.append(value)
    elif value is DELETE:
        del target[int(last) if isinstance(target, list) else last]
    else:
        target[int(last) if isinstance(target, list) else last] = value


def edited(*edits: tuple[str, object]) -> dict[str, Any]:
    data = fulfilment_manifest()
    for where, value in edits:
        edit(data, where, value)
    return data


def load_problems(tmp_path: Path, data: dict[str, Any]) -> list[str]:
    """What load_manifests finds wrong in `data` written to x.yaml (none: [])."""
    try:
        load_manifests([write_manifest(tmp_path / "x.yaml", data)])
    except ManifestError as error:
        return error.problems
    return []


async def nodes_seen(api: Api, client: str, merchant: str | None = None) -> list[dict[str, Any]]:
    data = await api.data(NODES, {"merchant": merchant}, as_client=client)
    nodes: list[dict[str, Any]] = data["fulfillmentNodes"]  # type: ignore[assignment]
    return nodes


async def acme_view(api: Api) -> dict[str, tuple[bool, int, dict[str, int]]]:
    """DEMO_VIEW's shape, from fulfillmentNodes as acme-backend calls it."""
    return {
        node["code"]: (
            node["operatedByPartner"],
            node["dailyCapacity"],
            {level["sku"]: level["onHand"] for level in node["stock"]},
        )
        for node in await nodes_seen(api, "acme-backend")
    }


async def operators(url: str) -> dict[str, str | None]:
    """Each node's operating partner's handle, read from the database directly."""
    handles = {tenant.id: tenant.handle for tenant in await rows(url, "tenants")}
    return {
        node.code: handles.get(node.partner_tenant_id)
        for node in await rows(url, "fulfilment_nodes")
    }


async def versions(url: str) -> tuple[list[int], list[int]]:
    """(routing profile versions, risk profile versions), read directly."""
    routing = [row.version for row in await rows(url, "routing_profiles")]
    risk = [row.version for row in await rows(url, "risk_profiles")]
    return routing, risk


@pytest.fixture
async def fulfilled(database_url: str, workdir: Path) -> str:
    """The demo database with demo-fulfilment.yaml applied."""
    await apply_demo_fulfilment(database_url, workdir)
    return database_url


# --- applying ---------------------------------------------------------------------


async def test_the_demo_manifests_create_nodes_stock_and_profiles(
    database_url: str, workdir: Path, tmp_path: Path
) -> None:
    url = database_url  # holds demo.yaml's tenants already: they are unchanged

    result = await apply(url, workdir, DEMO_MANIFEST, FULFILMENT)

    assert (result.code, result.err) == (0, ""), result
    assert result.lines == created_lines(demo_manifest(), "unchanged") + FIRST_APPLY
    assert await operators(url) == {
        "BERLIN-1": None,
        "MUNICH-1": None,
        "HAMBURG-SWIFT": "swiftship",
    }
    assert await versions(url) == ([1], [1])
    async with gateway(url, tmp_path / "keys.json") as http:
        api = Api(http)
        assert await acme_view(api) == DEMO_VIEW
        assert [n["code"] for n in await nodes_seen(api, "swiftship-tms", "acme")] == [
            "HAMBURG-SWIFT"
        ]
        profiles = await api.data(PROFILES, as_client="acme-backend")
    assert profiles == {
        "routingProfile": {
            "version": 1,
            "costWeight": 1.0,
            "maxSplit": 2,
            "allowSplit": True,
            "regionCentroids": [
                {"region": region} for region in ("DE", "DE-BE", "DE-BY", "DE-HH", "DE-NW")
            ],
        },
        "riskProfile": {
            "version": 1,
            "holdThreshold": 70,
            "mediumThreshold": 40,
            "extraDisposableDomains": ["throwaway.example"],
        },
    }


async def test_applying_again_changes_nothing(fulfilled: str, workdir: Path) -> None:
    before = await snapshot(fulfilled)

    result = await apply(fulfilled, workdir, FULFILMENT)

    assert (result.code, result.err) == (0, ""), result
    assert result.lines == unchanged(FIRST_APPLY)
    assert await versions(fulfilled) == ([1], [1])
    assert await snapshot(fulfilled) == before


async def test_a_changed_capacity_updates_that_node_only(
    fulfilled: str, workdir: Path, tmp_path: Path, api: Api
) -> None:
    path = write_manifest(
        tmp_path / "fulfilment.yaml", edited(("routing.0.nodes.1.daily_capacity", 80))
    )
    before = await snapshot(fulfilled)

    result = await apply(fulfilled, workdir, path)

    assert (result.code, result.err) == (0, ""), result
    assert result.lines == unchanged(FIRST_APPLY, {"node acme/MUNICH-1": "updated"})
    after = await snapshot(fulfilled)
    assert {name for name in after if after[name] != before[name]} == {
        "fulfilment_nodes",
        "audit_log",
    }
    assert await acme_view(api) == {**DEMO_VIEW, "MUNICH-1": (False, 80, {"KETTLE-1": 5})}
    assert await versions(fulfilled) == ([1], [1])


async def test_an_acme_order_is_routed_to_a_demo_node(fulfilled: str, api: Api) -> None:
    order = await create(api, [("KETTLE-1", 2)])

    assert order["status"] == "ROUTED", order["routing"]
    assert order["routing"]["profileVersion"] == 1
    [assignment] = order["routing"]["assignments"]
    assert assignment["nodeCode"] in DEMO_NODES
    assert assignment["lines"] == [{"sku": "KETTLE-1", "quantity": 2}]


# --- validation: every problem named, nothing applied -----------------------------

NODE_KEYS = (
    "active, base_cost, code, cost_per_km, currency, daily_capacity, default_promise_hours, kind, "
    "latitude, longitude, name, operator, promise_hours, region, region_rates, "
    "regions_excluded, regions_served, stock"
)
# name: (an edit to demo-fulfilment.yaml, where the problem is, its message)
INVALID: dict[str, tuple[tuple[str, object], str, str]] = {
    "unknown node key": (
        ("routing.0.nodes.0.colour", "red"),
        "routing[0].nodes[0].colour",
        f"unknown key (expected one of {NODE_KEYS})",
    ),
    "bad region code": (
        ("routing.0.nodes.1.region", "ZZ-ZZ"),
        "routing[0].nodes[1].region",
        "'ZZ-ZZ' is not an ISO 3166 country or subdivision code",
    ),
    "no latitude": (
        ("routing.0.nodes.1.latitude", DELETE),
        "routing[0].nodes[1].latitude",
        "is required",
    ),
    "stock count not a number": (
        ("routing.0.nodes.0.stock.KETTLE-1", "lots"),
        "routing[0].nodes[0].stock.KETTLE-1",
        "must be a whole number",
    ),
    "duplicate node code": (
        ("routing.0.nodes.2.code", "BERLIN-1"),
        "routing[0].nodes[2].code",
        "BERLIN-1 appears twice",
    ),
    "routing without merchant": (
        ("routing.0.merchant", DELETE),
        "routing[0].merchant",
        "is required: the merchant's handle",
    ),
    # Found when applying, after acme's routing section went in: all of it rolls back.
    "unknown merchant": (
        ("risk.0.merchant", "nobody"),
        "risk[0].merchant",
        "no tenant 'nobody'",
    ),
    "unknown operator": (
        ("routing.0.nodes.2.operator", "nobody"),
        "routing[0].nodes[2].operator",
        "no partner 'nobody'",
    ),
    "hold threshold 0": (
        ("risk.0.hold_threshold", 0),
        "risk[0].hold_threshold",
        "must be between 1 and 100",
    ),
}


async def refused(url: str, workdir: Path, tmp_path: Path, data: dict[str, Any]) -> list[str]:
    """Applying `data` as x.yaml fails (exit status 2) and writes nothing: the problems."""
    path = write_manifest(tmp_path / "x.yaml", data)
    before = await snapshot(url)

    result = await apply(url, workdir, path)

    assert (result.code, result.out) == (2, ""), result
    assert await snapshot(url) == before
    return result.err_lines


def is_problem(lines: list[str], where: str, message: str) -> bool:
    """Whether `lines` are the one line `x.yaml: <where>...: <message>`."""
    return (
        len(lines) == 1
        and lines[0].startswith(f"x.yaml: {where}")
        and lines[0].endswith(f": {message}")
    )


async def test_each_problem_is_named_and_nothing_is_applied(
    database_url: str, workdir: Path, tmp_path: Path
) -> None:
    # One database for every case (on PostgreSQL each costs a CREATE and DROP DATABASE);
    # `refused` checks the database is unchanged after each.
    found = {
        name: await refused(database_url, workdir, tmp_path, edited(change))
        for name, (change, _where, _message) in INVALID.items()
    }

    wrong = {
        name: lines for name, lines in found.items() if not is_problem(lines, *INVALID[name][1:])
    }
    assert wrong == {}


def test_every_problem_in_a_file_is_named_at_once(tmp_path: Path) -> None:
    berlin, munich, _hamburg = fulfilment_manifest()["routing"][0]["nodes"]
    data = edited(
        ("routing.0.nodes.1.latitude", DELETE),
        ("routing.0.nodes.2.code", "BERLIN-1"),
        (
            "routing.1",
            {"nodes": [{**munich, "region": "ZZ-ZZ"}, {**berlin, "stock": {"X": "lots"}}]},
        ),
        ("risk.0.hold", 50),
    )

    problems = load_problems(tmp_path, data)

    assert problems == [
        "x.yaml: routing[0].nodes[1].latitude: is required",
        "x.yaml: routing[0].nodes[2].code: BERLIN-1 appears twice",
        "x.yaml: routing[1].merchant: is required: the merchant's handle",
        "x.yaml: routing[1].nodes[0].region: 'ZZ-ZZ' is not an ISO 3166 country or "
        "subdivision code",
        "x.yaml: routing[1].nodes[1].stock.X: must be a whole number",
        "x.yaml: risk[0].hold: unknown key (expected one of distinct_addresses_limit, "
        "extra_disposable_domains, hold_threshold, medium_threshold, merchant, "
        "velocity_limits, velocity_window_hours)",
    ]


# --- bugs ---------------------------------------------------------------------------

# (an edit, the path the problem should name): each is named, but not by that path.
PATHS: dict[str, tuple[tuple[str, object], str]] = {
    "hold threshold 0": (("risk.0.hold_threshold", 0), "risk[0].hold_threshold"),
    "negative capacity": (
        ("routing.0.nodes.0.daily_capacity", -1),
        "routing[0].nodes[0].daily_capacity",
    ),
    "negative stock": (
        ("routing.0.nodes.0.stock.KETTLE-1", -3),
        "routing[0].nodes[0].stock.KETTLE-1",
    ),
    "stock not a number": (
        ("routing.0.nodes.0.stock.KETTLE-1", "lots"),
        "routing[0].nodes[0].stock.KETTLE-1",
    ),
}


@pytest.mark.parametrize(("change", "where"), PATHS.values(), ids=PATHS.keys())
def test_a_problem_is_named_by_the_key_in_the_file(
    tmp_path: Path, change: tuple[str, object], where: str
) -> None:
    problems = load_problems(tmp_path, edited(change))

    assert [line.split(": ")[1] for line in problems] == [where], problems


WRONG_KIND: dict[str, tuple[tuple[str, object], str]] = {
    "a fraction of a unit": (("routing.0.nodes.0.stock.KETTLE-1", 2.5), "routing[0].nodes[0]"),
    "a node named null": (("routing.0.nodes.0.name", None), "routing[0].nodes[0]"),
}


@pytest.mark.parametrize(("change", "where"), WRONG_KIND.values(), ids=WRONG_KIND.keys())
def test_a_value_of_the_wrong_kind_is_refused(
    tmp_path: Path, change: tuple[str, object], where: str
) -> None:
    problems = load_problems(tmp_path, edited(change))

    assert len(problems) == 1, problems
    assert problems[0].startswith(f"x.yaml: {where}"), problems


def with_new_node(operator: str, *partners: str) -> dict[str, Any]:
    """demo-fulfilment.yaml with one more node, operated by `operator`, and new partner
    tenants (granted nothing) declared alongside."""
    data = fulfilment_manifest()
    nodes = data["routing"][0]["nodes"]
    nodes.append({**nodes[2], "code": "NEW-1", "operator": operator})
    data["tenants"] = [
        {"handle": handle, "name": handle.title(), "kind": "partner"} for handle in partners
    ]
    return data


OPERATORS = {
    "a merchant": with_new_node("globex"),
    "a partner without a grant": with_new_node("fastship", "fastship"),
}


@pytest.mark.parametrize("data", OPERATORS.values(), ids=OPERATORS.keys())
async def test_an_operator_is_a_partner_holding_a_grant(
    database_url: str, workdir: Path, tmp_path: Path, data: dict[str, Any]
) -> None:
    problems = await refused(database_url, workdir, tmp_path, data)

    assert problems[0].startswith("x.yaml: routing[0].nodes[3].operator: "), problems


UNNAMED = {
    "a partner as the merchant": (("routing.0.merchant", "swiftship"), "routing[0].merchant"),
    "a partner's node claimed": (("routing.0.nodes.2.operator", DELETE), "routing[0].nodes[2]"),
}


@pytest.mark.parametrize(("change", "where"), UNNAMED.values(), ids=UNNAMED.keys())
async def test_a_problem_found_while_applying_is_named_by_file_and_path(
    fulfilled: str, workdir: Path, tmp_path: Path, change: tuple[str, object], where: str
) -> None:
    [line] = await refused(fulfilled, workdir, tmp_path, edited(change))

    assert line.startswith(f"x.yaml: {where}"), line
