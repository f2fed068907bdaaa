"""`oaas inventory import FILE --merchant HANDLE [--operator PARTNER] [--batch N]`: stock
levels from a CSV file, checked whole first (every bad line named), then applied in
batches through the same service as the API, waking orders that wait for stock."""

from __future__ import annotations

import csv
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from oaas.lifecycle.worker import run_due_jobs
from tests.audit.test_audit_log import _entries
from tests.audit.test_stock_audit import level, stock_entries
from tests.conftest import Api
from tests.manifests.conftest import Cli, CliResult, rows, snapshot
from tests.manifests.test_fulfilment_sections import DEMO_VIEW, acme_view, apply_demo_fulfilment
from tests.routing.documents import ORDER, create

HEADER = ("node", "sku", "on_hand")
Line = Sequence[object]

# --- helpers ----------------------------------------------------------------------


def write_csv(workdir: Path, lines: Sequence[Line], header: Line = HEADER) -> Path:
    """stock.csv in the CLI's working folder (named relative to it, as a user would)."""
    with (workdir / "stock.csv").open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(lines)
    return Path("stock.csv")


async def import_stock(
    url: str, workdir: Path, lines: Sequence[Line], *options: str, header: Line = HEADER
) -> CliResult:
    """`oaas inventory import stock.csv --merchant acme OPTIONS`, in process."""
    path = write_csv(workdir, lines, header)
    return await Cli(url, workdir).call("inventory", "import", path, "--merchant", "acme", *options)


def summary(rows_read: int, changed: int, woken: int) -> str:
    return f"{rows_read} rows read, {changed} stock levels changed, {woken} waiting orders woken"


def assert_imported(result: CliResult, expected_summary: str) -> None:
    assert (result.code, result.err) == (0, ""), result
    assert result.lines == ["importing stock.csv", expected_summary], result


async def intake_jobs(url: str) -> list[tuple[str, bool]]:
    """(reason, due) of every intake job, read directly."""
    return [(job.reason, job.next_attempt_at is not None) for job in await rows(url, "intake_jobs")]


async def run_intake(api: Api) -> int:
    """One pass of the app's intake worker."""
    app: Any = api.http._transport.app  # type: ignore[attr-defined]
    return await run_due_jobs(app.state.components.database, app.state.components.engines)


async def order_of(api: Api, order_id: str) -> dict[str, Any]:
    data = await api.data(ORDER, {"id": order_id}, as_client="acme-shop")
    order: dict[str, Any] = data["order"]  # type: ignore[assignment]
    return order


@pytest.fixture
async def stocked(database_url: str, workdir: Path) -> str:
    """The demo database with acme's demo nodes and stock (demo-fulfilment.yaml)."""
    await apply_demo_fulfilment(database_url, workdir)
    return database_url


# --- importing --------------------------------------------------------------------


async def test_an_import_sets_levels_and_reports_a_summary(
    stocked: str, workdir: Path, api: Api
) -> None:
    # An extra column is ignored; MUNICH-1's KETTLE-1 is already 5.
    lines = [
        ("BERLIN-1", "KETTLE-1", 7, "recount"),
        ("BERLIN-1", "GRILL-3", 12, ""),
        ("MUNICH-1", "KETTLE-1", 5, ""),
    ]

    result = await import_stock(stocked, workdir, lines, header=(*HEADER, "note"))

    assert_imported(result, summary(3, 2, 0))
    berlin = (False, 500, {"KETTLE-1": 7, "TOASTER-2": 10, "GRILL-3": 12})
    assert await acme_view(api) == {**DEMO_VIEW, "BERLIN-1": berlin}


async def test_a_partners_node_is_imported_with_its_operator(
    stocked: str, workdir: Path, api: Api
) -> None:
    levels = [("HAMBURG-SWIFT", "KETTLE-1", 60)]

    refused = await import_stock(stocked, workdir, levels)
    result = await import_stock(stocked, workdir, levels, "--operator", "swiftship")

    assert refused.code == 2, refused
    [problem] = refused.err_lines  # not the merchant's to count: named, whatever the words
    assert problem.startswith("stock.csv: line 2: "), problem
    assert "HAMBURG-SWIFT" in problem, problem
    assert_imported(result, summary(1, 1, 0))
    hamburg = (True, 1000, {"KETTLE-1": 60, "TOASTER-2": 100})
    assert await acme_view(api) == {**DEMO_VIEW, "HAMBURG-SWIFT": hamburg}


GOOD = ("BERLIN-1", "KETTLE-1", 7)
LATER_BATCH = [GOOD, ("MUNICH-1", "KETTLE-1", 3), ("BERLIN-1", "TOASTER-2", 1), ("NOWHERE", "X", 3)]
# name: (lines, the problems named on stderr, extra options (a second --merchant wins), header)
REFUSED: dict[str, tuple[list[Line], list[str], tuple[str, ...], Line]] = {
    "on_hand not a number": (
        [GOOD, ("BERLIN-1", "TOASTER-2", "lots"), ("MUNICH-1", "KETTLE-1", "-1")],
        [
            "stock.csv: line 3: on_hand must be a whole number >= 0",
            "stock.csv: line 4: on_hand must be a whole number >= 0",
        ],
        (),
        HEADER,
    ),
    "empty node": ([GOOD, ("", "KETTLE-1", 3)], ["stock.csv: line 3: node is empty"], (), HEADER),
    "node and sku twice": (
        [GOOD, ("MUNICH-1", "KETTLE-1", 3), ("BERLIN-1", "KETTLE-1", 9)],
        ["stock.csv: line 4: KETTLE-1 at BERLIN-1 appears twice"],
        (),
        HEADER,
    ),
    "missing column": (
        [GOOD],
        ["stock.csv: line 1: missing column(s) on_hand"],
        (),
        ("node", "sku", "qty"),
    ),
    "unknown node": (
        [GOOD, ("NOWHERE", "KETTLE-1", 3)],
        ["stock.csv: line 3: no node 'NOWHERE' of the merchant's own"],
        (),
        HEADER,
    ),
    "unknown merchant": ([GOOD], ["no merchant 'nobody'"], ("--merchant", "nobody"), HEADER),
    "unknown operator": ([GOOD], ["no partner 'nobody'"], ("--operator", "nobody"), HEADER),
}


async def refused(
    url: str, workdir: Path, lines: Sequence[Line], *options: str, header: Line = HEADER
) -> list[str]:
    """The import fails (exit status 2, no summary) and changes nothing: its problems."""
    before = await snapshot(url)

    result = await import_stock(url, workdir, lines, *options, header=header)

    assert result.code == 2, result
    assert "rows read" not in result.out, result
    assert await snapshot(url) == before
    return result.err_lines


async def test_bad_files_are_refused_naming_each_problem(stocked: str, workdir: Path) -> None:
    # One database for every case (on PostgreSQL each costs a CREATE and DROP DATABASE);
    # `refused` checks the database is unchanged after each.
    found = {
        name: await refused(stocked, workdir, lines, *options, header=header)
        for name, (lines, _problems, options, header) in REFUSED.items()
    }

    assert found == {name: problems for name, (_l, problems, _o, _h) in REFUSED.items()}


async def test_a_bad_line_in_a_later_batch_is_named_by_its_line(
    stocked: str, workdir: Path
) -> None:
    result = await import_stock(stocked, workdir, LATER_BATCH, "--batch", "3")

    assert (result.code, result.err_lines) == (
        2,
        [
            "stock.csv: line 5: no node 'NOWHERE' of the merchant's own",
        ],
    ), result


async def test_an_unknown_node_in_a_later_batch_changes_nothing(
    stocked: str, workdir: Path
) -> None:
    problems = await refused(stocked, workdir, LATER_BATCH, "--batch", "2")

    assert problems == ["stock.csv: line 5: no node 'NOWHERE' of the merchant's own"]


async def test_an_unknown_merchant_is_refused_for_an_empty_file(
    database_url: str, workdir: Path
) -> None:
    result = await import_stock(database_url, workdir, [], "--merchant", "nobody")

    assert (result.code, result.err_lines) == (2, ["no merchant 'nobody'"]), result


async def test_a_superscript_digit_is_a_bad_line(workdir: Path) -> None:
    cli = Cli(f"sqlite+aiosqlite:///{workdir / 'never-opened.db'}", workdir)
    path = write_csv(workdir, [("BERLIN-1", "KETTLE-1", "²")])

    result = await cli.call("inventory", "import", path, "--merchant", "acme")

    assert (result.code, result.err_lines) == (
        2,
        ["stock.csv: line 2: on_hand must be a whole number >= 0"],
    ), result


async def test_five_thousand_rows_in_batches_of_a_thousand(stocked: str, workdir: Path) -> None:
    lines = [
        (node, f"SKU-{index:04}", index)
        for node in ("BERLIN-1", "MUNICH-1")
        for index in range(2500)
    ]
    levels_before = len(await rows(stocked, "inventory_levels"))

    started = time.perf_counter()
    result = await import_stock(stocked, workdir, lines, "--batch", "1000")
    elapsed = time.perf_counter() - started

    assert_imported(result, summary(5000, 5000, 0))
    assert len(await rows(stocked, "inventory_levels")) == levels_before + 5000
    assert elapsed < 60, f"5,000 rows took {elapsed:.1f} s"


async def test_an_import_wakes_an_order_waiting_for_stock(
    stocked: str, workdir: Path, api: Api
) -> None:
    order = await create(api, [("GRILL-3", 2)])
    assert (order["status"], order["routing"]["reasonCode"]) == ("PENDING", "NO_STOCK")
    assert await intake_jobs(stocked) == [("AWAITING_STOCK", False)]

    result = await import_stock(stocked, workdir, [("BERLIN-1", "GRILL-3", 5)])

    assert_imported(result, summary(1, 1, 1))
    assert await intake_jobs(stocked) == [("AWAITING_STOCK", True)]
    assert await run_intake(api) == 1
    routed = await order_of(api, order["id"])
    assert routed["status"] == "ROUTED", routed["routing"]
    assert [(a["nodeCode"], a["lines"]) for a in routed["routing"]["assignments"]] == [
        ("BERLIN-1", [{"sku": "GRILL-3", "quantity": 2}])
    ]


async def test_a_csv_import_writes_one_entry_per_batch(
    stocked: str,
    workdir: Path,
    api: Api,
) -> None:
    lines = [
        ("BERLIN-1", "KETTLE-1", 7),
        ("BERLIN-1", "GRILL-3", 12),
        ("MUNICH-1", "KETTLE-1", 9),
    ]
    before = len(stock_entries(await _entries(api, "acme-backend")))

    result = await import_stock(stocked, workdir, lines, "--batch", "2")

    assert result.code == 0, result
    entries = stock_entries(await _entries(api, "acme-backend"))
    assert len(entries) == before + 2
    newest, older = entries[0], entries[1]
    assert (older["actor"], older["objectId"]) == ("system/oaas-cli", "acme")
    assert older["detail"] == {
        "changed": 2,
        "nodes": ["BERLIN-1"],
        "levels": [level("BERLIN-1", "KETTLE-1", 40, 7), level("BERLIN-1", "GRILL-3", None, 12)],
        "source": "lines 2-3 of stock.csv",
    }
    assert newest["detail"] == {
        "changed": 1,
        "nodes": ["MUNICH-1"],
        "levels": [level("MUNICH-1", "KETTLE-1", 5, 9)],
        "source": "lines 4-4 of stock.csv",
    }
    assert stock_entries(await _entries(api, "globex-backend")) == []
