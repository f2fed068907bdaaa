"""`oaas events tail`: a tenant's events as it sees them, then each new one as it happens."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from oaas.settings import Settings
from tests.conftest import Api
from tests.manifests.conftest import Cli
from tests.orders.documents import create_order


@pytest.fixture
def cli(settings: Settings, tmp_path: Path) -> Cli:
    workdir = tmp_path / "cli"
    workdir.mkdir()
    return Cli(settings.migrations_url, workdir)


async def test_tail_prints_a_tenants_events_and_no_one_elses(api: Api, cli: Cli) -> None:
    await create_order(api, as_client="globex-shop")
    await create_order(api)
    result = await cli.call("events", "tail", "--tenant", "acme", "--no-follow", "--format", "json")
    assert (result.code, result.err) == (0, ""), result
    events = [json.loads(line) for line in result.lines]
    assert {e["merchant"] for e in events} == {"acme"}
    assert [e["type"] for e in events if e["orderId"]] == ["CREATED"]
    later = await cli.call(
        "events", "tail", "--tenant", "acme", "--no-follow", "--after", str(events[0]["position"])
    )
    assert len(later.lines) == len(events) - 1
    unknown = await cli.call("events", "tail", "--tenant", "nobody", "--no-follow")
    assert (unknown.code, unknown.err.strip()) == (2, "--tenant: no tenant 'nobody'")


async def test_tail_follows_new_events(api: Api, cli: Cli) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "oaas",
        "events",
        "tail",
        "--tenant",
        "acme",
        env=cli.environment(),
        cwd=cli.workdir,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        await asyncio.sleep(2)  # it has printed what there was and waits
        order = await create_order(api, externalId="tailed-1")
        while True:
            line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
            assert line, "tail ended"
            if " CREATED order " in line:
                break
        assert line.split()[2] == "acme"
        assert order["id"]
    finally:
        process.kill()
        await process.wait()
