"""Bad input to any command: one clear line on stderr naming the problem, exit status 2."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from oaas.policy.enforcer import policies_dir
from tests.conftest import DEMO_MANIFEST
from tests.manifests.conftest import Cli


@pytest.fixture
def cli(workdir: Path) -> Cli:
    """No command here gets as far as the database."""
    return Cli(f"sqlite+aiosqlite:///{workdir / 'oaas.db'}", workdir)


def _one_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


async def test_an_unknown_command_over_a_real_process(cli: Cli) -> None:
    result = await cli.run("bogus")

    assert (result.code, result.out) == (2, ""), result
    assert "bogus" in _one_line(result.err)


USAGE = {
    "unknown command": (("frobnicate",), "frobnicate"),
    "unknown subcommand": (("db", "downgrade"), "downgrade"),
    "unknown option": (("tenants", "apply", "--force", "x.yaml"), "--force"),
    "no manifest file": (("tenants", "apply"), "files"),
    "port out of range": (("serve", "--port", "0"), "--port"),
    "workers not a number": (("serve", "--workers", "many"), "--workers"),
}


@pytest.mark.parametrize(("args", "named"), USAGE.values(), ids=USAGE.keys())
async def test_bad_usage_is_one_line_and_exit_status_2(
    cli: Cli, args: tuple[str, ...], named: str
) -> None:
    result = await cli.call(*args)

    assert (result.code, result.out) == (2, ""), result
    assert named in _one_line(result.err)
    assert not (cli.workdir / "oaas.db").exists()


async def test_a_manifest_that_does_not_exist(cli: Cli) -> None:
    missing = cli.workdir / "missing.yaml"

    result = await cli.call("tenants", "apply", DEMO_MANIFEST, missing)

    assert (result.code, result.out) == (2, ""), result
    assert _one_line(result.err) == f"{missing}: cannot read: No such file or directory"
    assert not (cli.workdir / "oaas.db").exists()


async def test_a_database_url_of_another_kind_over_a_real_process(cli: Cli) -> None:
    result = await cli.run(
        "db", "upgrade", env={"OAAS_DATABASE_URL": "mysql://root@localhost/oaas"}
    )

    assert (result.code, result.out) == (2, ""), result
    line = _one_line(result.err)
    assert line.startswith("OAAS_DATABASE_URL: "), line
    assert "mysql://" in line


BAD_SETTINGS = {
    "mysql url, tenants apply": (
        {"OAAS_DATABASE_URL": "mysql://root@localhost/oaas"},
        ("tenants", "apply", DEMO_MANIFEST),
        "OAAS_DATABASE_URL",
    ),
    "not a url": ({"OAAS_DATABASE_URL": "::nonsense::"}, ("db", "upgrade"), "OAAS_DATABASE_URL"),
    "token ttl": ({"OAAS_TOKEN_TTL_SECONDS": "0"}, ("keys", "rotate"), "OAAS_TOKEN_TTL_SECONDS"),
    "env": ({"OAAS_ENV": "staging"}, ("db", "upgrade"), "OAAS_ENV"),
}


@pytest.mark.parametrize(("env", "args", "named"), BAD_SETTINGS.values(), ids=BAD_SETTINGS.keys())
async def test_a_bad_setting_is_named(
    cli: Cli, env: dict[str, str], args: tuple[str, ...], named: str
) -> None:
    result = await cli.call(*args, env=env)

    assert (result.code, result.out) == (2, ""), result
    assert _one_line(result.err).startswith(f"{named}: ")
    assert not (cli.workdir / "oaas.db").exists()


async def test_policies_check_passes_on_the_shipped_policy(cli: Cli) -> None:
    result = await cli.run("policies", "check")

    assert (result.code, result.err) == (0, ""), result
    assert result.lines == [
        f"{policies_dir()}: ok (merchant_admin, merchant_operator, merchant_viewer, "
        "partner_admin, partner_operator, platform_admin; share profiles full, logistics)"
    ]


@pytest.fixture
def policies_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "policies"
    shutil.copytree(policies_dir(), folder)
    return folder


@pytest.fixture
def broken_policies(policies_copy: Path) -> Path:
    folder = policies_copy
    with (folder / "policy.csv").open("a", encoding="utf-8") as policy:
        policy.write("p, merchant_viewer, order:explode, own\n")
    return folder


async def test_policies_check_fails_on_an_unknown_action(cli: Cli, broken_policies: Path) -> None:
    result = await cli.run("policies", "check", "--directory", broken_policies)

    assert (result.code, result.out) == (2, ""), result
    assert _one_line(result.err) == (
        "policy.csv: unknown action 'order:explode' for role 'merchant_viewer'"
    )


async def test_policies_check_fails_on_a_share_profile_rule_outside_the_vocabulary(
    cli: Cli, policies_copy: Path
) -> None:
    with (policies_copy / "share_policy.csv").open("a", encoding="utf-8") as policy:
        policy.write("p, logistics, field, Order.internalNotes, hide\n")

    result = await cli.run("policies", "check", "--directory", policies_copy)

    assert (result.code, result.out) == (2, ""), result
    assert _one_line(result.err) == (
        "share_policy.csv: unknown field 'Order.internalNotes' for profile 'logistics'"
    )


async def test_policies_check_fails_on_a_missing_file(cli: Cli, broken_policies: Path) -> None:
    (broken_policies / "model.conf").unlink()

    result = await cli.call("policies", "check", "--directory", broken_policies)

    assert (result.code, result.out) == (2, ""), result
    assert _one_line(result.err) == f"{broken_policies / 'model.conf'}: missing"
