"""`oaas sla report`: json and table from the same numbers; bad input is one line, exit 2."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from oaas.db.types import utcnow
from oaas.settings import Settings
from tests.conftest import Api
from tests.manifests.conftest import Cli
from tests.orders.documents import ORDERS
from tests.sla.helpers import components, flush_sli, report, tenant_entry, trace_id


@pytest.fixture
def cli(settings: Settings, tmp_path: Path) -> Cli:
    workdir = tmp_path / "cli"
    workdir.mkdir()
    return Cli(settings.migrations_url, workdir)


async def test_json_report_equals_the_api_report(api: Api, cli: Cli) -> None:
    components(api).tracing.aggregator.drain()
    ids = {
        trace_id(await api.graphql(ORDERS, {"first": 1}, as_client="acme-shop")) for _ in range(3)
    }
    await flush_sli(api)

    since = (utcnow() - timedelta(hours=2)).replace(microsecond=0)
    result = await cli.call(
        "sla", "report", "--tenant", "acme", "--since", since.isoformat(), "--format", "json"
    )

    assert (result.code, result.err) == (0, ""), result
    data = json.loads(result.out)
    assert set(data) == {"since", "until", "tenants"}
    assert data["since"] == since.isoformat()
    [acme] = data["tenants"]
    assert acme["tenant"] == "acme"
    assert acme["requests"] == 3
    [orders] = acme["operations"]
    assert (orders["operation"], orders["count"], orders["bad"]) == ("orders", 3, 0)
    assert set(orders["exemplarTraceIds"]) == ids
    assert set(acme["fulfilment"]) == {
        "ordersDue",
        "shippedOnTime",
        "late",
        "deviationRate",
        "maxDeviationRate",
        "met",
        "orderToShipP50Hours",
        "orderToShipP95Hours",
    }
    api_view = tenant_entry(
        await report(api, tenant="acme", since=data["since"], until=data["until"]), "acme"
    )
    for key in ("requests", "bad", "availability", "availabilityTarget", "met", "burnRate"):
        assert api_view[key] == acme[key], key


async def test_table_report_marks_met_and_breached(api: Api, cli: Cli) -> None:
    components(api).tracing.aggregator.drain()
    await api.graphql(ORDERS, {"first": 1}, as_client="globex-shop")
    await flush_sli(api)

    result = await cli.call("sla", "report")

    assert (result.code, result.err) == (0, ""), result
    lines = result.lines
    assert lines[0].startswith("SLA report ")
    globex = next(line for line in lines if line.startswith("globex: "))
    assert "availability 100.000% (target 99.900%) met" in globex
    assert any(line.split()[:3] == ["orders", "1", "0"] and line.endswith("met") for line in lines)
    assert any(line.startswith("acme: ") for line in lines)
    assert any("fulfilment: due" in line for line in lines)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "xml"], "--format: must be table or json, not 'xml'"),
        (["--since", "yesterday"], "--since: not an ISO 8601 time: 'yesterday'"),
        (
            ["--until", "9999-12-31T23:59:59-14:00"],
            "--until: not an ISO 8601 time: '9999-12-31T23:59:59-14:00'",
        ),
        (["--tenant", "nobody"], "--tenant: no such tenant"),
        (
            ["--since", "2026-01-02T00:00:00Z", "--until", "2026-01-01T00:00:00Z"],
            "--since: since must be before until",
        ),
    ],
)
async def test_bad_input_is_one_line_and_exit_2(cli: Cli, args: list[str], message: str) -> None:
    result = await cli.call("sla", "report", *args)
    assert result.code == 2
    assert len(result.err_lines) == 1, result.err
    assert result.err_lines[0].startswith(message)
    assert result.out == ""


OPERATOR_COMMANDS = {
    "sla-report": ("sla", "report"),
    "tenants-apply-dry-run": ("tenants", "apply", "--dry-run", "t.yaml"),
    "tenants-apply": ("tenants", "apply", "t.yaml"),
    "inventory-import": ("inventory", "import", "stock.csv", "--merchant", "acme"),
}


@pytest.mark.parametrize("command", OPERATOR_COMMANDS.values(), ids=OPERATOR_COMMANDS.keys())
async def test_no_command_but_db_upgrade_creates_a_sqlite_database(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "t.yaml").write_text("tenants: [{handle: solo, name: Solo, kind: merchant}]\n")
    (workdir / "stock.csv").write_text("node,sku,on_hand\nBERLIN-1,KETTLE-01,5\n")
    missing = workdir / "oaas.db"
    cli = Cli(f"sqlite+aiosqlite:///{missing}", workdir)

    result = await cli.call(*command)

    assert (result.code, result.out) == (2, ""), result
    assert result.err_lines == [
        f"no database at {missing} (OAAS_DATABASE_URL): nothing was created; "
        "`oaas db upgrade` makes one"
    ]
    assert not missing.exists()

    # With the demo's database in the folder, the line names it (the demo prints it too).
    (workdir / ".oaas-demo").mkdir()
    (workdir / ".oaas-demo" / "oaas.db").touch()
    result = await cli.call(*command)
    demo = (workdir / ".oaas-demo" / "oaas.db").resolve()
    assert result.err_lines == [
        f"no database at {missing} (OAAS_DATABASE_URL): nothing was created; "
        f"the running demo's is OAAS_DATABASE_URL=sqlite+aiosqlite:///{demo}"
    ]
    assert not missing.exists()
