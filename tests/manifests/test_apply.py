"""`oaas tenants apply`: created, updated, unchanged; idempotent; --dry-run; --prune."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import DEMO_MANIFEST, DEMO_SECRET
from tests.manifests.conftest import (
    Cli,
    created_lines,
    demo_manifest,
    gateway,
    rows,
    snapshot,
    token_response,
    write_manifest,
)

NEW_SECRET = "a-brand-new-secret-for-acme"


def only(*handles: str) -> dict[str, Any]:
    """The demo manifest cut down to some tenants (argon2 makes every listed client cost
    a verification), keeping its grant; tenants left out are none of apply's business."""
    manifest = demo_manifest()
    manifest["tenants"] = [t for t in manifest["tenants"] if t["handle"] in handles]
    return manifest


def pair() -> dict[str, Any]:
    """acme and swiftship with one client each (acme-shop, swiftship-tms), and the grant."""
    manifest = only("acme", "swiftship")
    keep = {"acme-shop", "swiftship-tms"}
    for tenant in manifest["tenants"]:
        tenant["clients"] = [c for c in tenant["clients"] if c["client_id"] in keep]
    return manifest


async def test_apply_creates_everything_then_reports_everything_unchanged(
    empty_database_url: str, workdir: Path
) -> None:
    cli = Cli(empty_database_url, workdir)
    manifest = demo_manifest()

    first = await cli.run("tenants", "apply", DEMO_MANIFEST)

    assert (first.code, first.err) == (0, ""), first
    assert first.lines == created_lines(manifest)
    for line in (
        "tenant acme: created",
        "client acme/acme-backend: created",
        "grant acme->swiftship: created",
    ):
        assert line in first.lines
    after_first = await snapshot(empty_database_url)
    assert sorted(row.handle for row in await rows(empty_database_url, "tenants")) == sorted(
        t["handle"] for t in manifest["tenants"]
    )

    second = await cli.call("tenants", "apply", DEMO_MANIFEST)

    assert (second.code, second.err) == (0, ""), second
    assert second.lines == created_lines(manifest, "unchanged")
    assert await snapshot(empty_database_url) == after_first


async def test_the_demo_database_matches_the_demo_manifest(
    database_url: str, workdir: Path
) -> None:
    before = await snapshot(database_url)

    result = await Cli(database_url, workdir).call("tenants", "apply", DEMO_MANIFEST)

    assert (result.code, result.err) == (0, ""), result
    assert result.lines == created_lines(demo_manifest(), "unchanged")
    assert await snapshot(database_url) == before


def _lines_except(manifest: dict[str, Any], changed: dict[str, str]) -> list[str]:
    """The all-unchanged report, with some objects' lines replaced."""
    lines = created_lines(manifest, "unchanged")
    return [
        next((new for old, new in changed.items() if line.startswith(old + ":")), line)
        for line in lines
    ]


async def test_a_changed_name_is_updated(database_url: str, workdir: Path, tmp_path: Path) -> None:
    manifest = only("acme")
    manifest["tenants"][0]["name"] = "Acme Appliances International"
    path = write_manifest(tmp_path / "demo.yaml", manifest)
    cli = Cli(database_url, workdir)

    result = await cli.call("tenants", "apply", path)

    assert (result.code, result.err) == (0, ""), result
    assert result.lines == _lines_except(manifest, {"tenant acme": "tenant acme: updated (name)"})
    names = {row.handle: row.name for row in await rows(database_url, "tenants")}
    assert names["acme"] == "Acme Appliances International"
    assert names["globex"] == "Globex Corporation"

    again = await cli.call("tenants", "apply", path)
    assert again.lines == created_lines(manifest, "unchanged")


async def test_changed_roles_are_updated(database_url: str, workdir: Path, tmp_path: Path) -> None:
    manifest = only("acme")
    manifest["tenants"][0]["clients"][2]["roles"] = ["merchant_operator", "merchant_viewer"]
    path = write_manifest(tmp_path / "demo.yaml", manifest)

    result = await Cli(database_url, workdir).call("tenants", "apply", path)

    assert (result.code, result.err) == (0, ""), result
    assert result.lines == _lines_except(
        manifest, {"client acme/acme-reports": "client acme/acme-reports: updated (roles)"}
    )
    async with gateway(database_url, tmp_path / "keys.json") as http:
        response = await token_response(http, "acme-reports", DEMO_SECRET)
    assert response.status_code == 200, response.text
    assert "orders:write" in response.json()["scope"].split()


async def test_a_changed_secret_is_updated_and_only_the_new_one_gets_a_token(
    database_url: str, workdir: Path, tmp_path: Path
) -> None:
    manifest = only("acme")
    manifest["tenants"][0]["clients"][0].pop("secret")
    manifest["tenants"][0]["clients"][0]["secret_env"] = "ACME_BACKEND_SECRET"
    path = write_manifest(tmp_path / "demo.yaml", manifest)
    cli = Cli(database_url, workdir, env={"ACME_BACKEND_SECRET": NEW_SECRET})

    result = await cli.call("tenants", "apply", path)

    assert (result.code, result.err) == (0, ""), result
    assert result.lines == _lines_except(
        manifest, {"client acme/acme-backend": "client acme/acme-backend: updated (secret)"}
    )
    async with gateway(database_url, tmp_path / "keys.json") as http:
        old = await token_response(http, "acme-backend", DEMO_SECRET)
        assert old.status_code == 401, old.text
        assert old.json()["error"] == "invalid_client"
        new = await token_response(http, "acme-backend", NEW_SECRET)
        assert new.status_code == 200, new.text
        assert new.json()["token_type"] == "Bearer"
        # the other clients keep theirs
        other = await token_response(http, "acme-shop", DEMO_SECRET)
        assert other.status_code == 200, other.text

    again = await cli.call("tenants", "apply", path)
    assert again.lines == created_lines(manifest, "unchanged")


async def test_a_changed_grant_is_updated(database_url: str, workdir: Path, tmp_path: Path) -> None:
    manifest = only("acme")
    manifest["grants"][0].update(profile="full", actions=["read"])
    path = write_manifest(tmp_path / "demo.yaml", manifest)

    result = await Cli(database_url, workdir).call("tenants", "apply", path)

    assert (result.code, result.err) == (0, ""), result
    assert result.lines == _lines_except(
        manifest, {"grant acme->swiftship": "grant acme->swiftship: updated"}
    )
    grants = await rows(database_url, "order_access_grants")
    active = [g for g in grants if g.revoked_at is None]
    assert [g.profile for g in active] == ["full"]
    assert len(grants) == 2  # the old grant stays, revoked, as history


async def test_dry_run_prints_the_same_report_and_writes_nothing(
    empty_database_url: str, workdir: Path, tmp_path: Path
) -> None:
    manifest = pair()
    path = write_manifest(tmp_path / "demo.yaml", manifest)
    cli = Cli(empty_database_url, workdir)
    before = await snapshot(empty_database_url)

    dry = await cli.call("tenants", "apply", "--dry-run", path)

    assert (dry.code, dry.err) == (0, ""), dry
    assert dry.lines == [*created_lines(manifest), "dry run: nothing was written"]
    assert await snapshot(empty_database_url) == before

    real = await cli.call("tenants", "apply", path)
    assert real.lines == dry.lines[:-1]
    assert await snapshot(empty_database_url) != before


async def test_dry_run_of_changes_writes_nothing(
    database_url: str, workdir: Path, tmp_path: Path
) -> None:
    manifest = only("globex")
    manifest["tenants"][0]["name"] = "Globex Corp."
    manifest["tenants"][0]["status"] = "suspended"
    manifest["tenants"][0]["clients"][0]["secret"] = NEW_SECRET
    manifest["grants"][0].update(profile="full")
    path = write_manifest(tmp_path / "demo.yaml", manifest)
    before = await snapshot(database_url)

    result = await Cli(database_url, workdir).call("tenants", "apply", path, "--dry-run")

    assert (result.code, result.err) == (0, ""), result
    assert result.lines == [
        *_lines_except(
            manifest,
            {
                "tenant globex": "tenant globex: updated (name, status)",
                "client globex/globex-backend": "client globex/globex-backend: updated (secret)",
                "grant acme->swiftship": "grant acme->swiftship: updated",
            },
        ),
        "dry run: nothing was written",
    ]
    assert await snapshot(database_url) == before


async def test_prune_removes_clients_no_longer_listed(
    database_url: str, workdir: Path, tmp_path: Path
) -> None:
    manifest = only("acme")
    removed = manifest["tenants"][0]["clients"].pop(2)
    assert removed["client_id"] == "acme-reports"
    path = write_manifest(tmp_path / "demo.yaml", manifest)
    cli = Cli(database_url, workdir)
    unchanged = created_lines(manifest, "unchanged")
    where = unchanged.index("client acme/acme-shop: unchanged") + 1

    kept = await cli.call("tenants", "apply", path)

    assert (kept.code, kept.err) == (0, ""), kept
    assert kept.lines == [
        *unchanged[:where],
        "client acme/acme-reports: unchanged (not in the manifest; --prune removes it)",
        *unchanged[where:],
    ]
    assert "acme-reports" in await _client_ids(database_url)

    before = await snapshot(database_url)
    dry = await cli.call("tenants", "apply", "--prune", "--dry-run", path)
    assert dry.lines == [
        *unchanged[:where],
        "client acme/acme-reports: deleted",
        *unchanged[where:],
        "dry run: nothing was written",
    ]
    assert await snapshot(database_url) == before

    pruned = await cli.call("tenants", "apply", "--prune", path)

    assert (pruned.code, pruned.err) == (0, ""), pruned
    assert pruned.lines == dry.lines[:-1]
    client_ids = await _client_ids(database_url)
    assert "acme-reports" not in client_ids
    # --prune touches only the tenants the manifest lists
    assert {"acme-backend", "acme-shop", "globex-shop", "swiftship-tms"} <= client_ids

    again = await cli.call("tenants", "apply", "--prune", path)
    assert again.lines == unchanged


async def test_prune_leaves_tenants_not_in_the_manifest_alone(
    database_url: str, workdir: Path, tmp_path: Path
) -> None:
    manifest = only("acme")
    path = write_manifest(tmp_path / "demo.yaml", manifest)
    before = await snapshot(database_url)

    result = await Cli(database_url, workdir).call("tenants", "apply", "--prune", path)

    assert (result.code, result.err) == (0, ""), result
    assert result.lines == created_lines(manifest, "unchanged")
    assert await snapshot(database_url) == before


async def test_prune_revokes_grants_no_longer_listed(
    database_url: str, workdir: Path, tmp_path: Path
) -> None:
    manifest = only("acme")
    manifest["grants"] = []
    path = write_manifest(tmp_path / "demo.yaml", manifest)
    cli = Cli(database_url, workdir)

    kept = await cli.call("tenants", "apply", path)
    assert kept.lines == created_lines(manifest, "unchanged")

    pruned = await cli.call("tenants", "apply", "--prune", path)

    assert (pruned.code, pruned.err) == (0, ""), pruned
    assert pruned.lines == [*created_lines(manifest, "unchanged"), "grant acme->swiftship: revoked"]
    grants = await rows(database_url, "order_access_grants")
    assert [g.revoked_at is not None for g in grants] == [True]


async def test_files_are_applied_together_whatever_their_order(
    empty_database_url: str, workdir: Path, tmp_path: Path
) -> None:
    manifest = pair()
    grants = write_manifest(tmp_path / "grants.yaml", {"grants": manifest.pop("grants")})
    tenants = write_manifest(tmp_path / "tenants.yaml", manifest)

    result = await Cli(empty_database_url, workdir).call("tenants", "apply", grants, tenants)

    assert (result.code, result.err) == (0, ""), result
    assert result.lines == [*created_lines(manifest), "grant acme->swiftship: created"]


async def test_a_suspended_tenants_clients_get_no_token(
    database_url: str, workdir: Path, tmp_path: Path
) -> None:
    manifest = only("acme")
    manifest["tenants"][0]["status"] = "suspended"
    path = write_manifest(tmp_path / "demo.yaml", manifest)
    cli = Cli(database_url, workdir)

    result = await cli.call("tenants", "apply", path)

    assert (result.code, result.err) == (0, ""), result
    assert "tenant acme: updated (status)" in result.lines
    async with gateway(database_url, tmp_path / "keys.json") as http:
        for client_id in ("acme-backend", "acme-shop", "acme-reports"):
            response = await token_response(http, client_id, DEMO_SECRET)
            assert response.status_code == 401, response.text
            assert response.json()["error"] == "invalid_client"
        other = await token_response(http, "globex-shop", DEMO_SECRET)
        assert other.status_code == 200, other.text

    manifest["tenants"][0]["status"] = "active"
    resumed = await cli.call("tenants", "apply", write_manifest(path, manifest))

    assert "tenant acme: updated (status)" in resumed.lines
    async with gateway(database_url, tmp_path / "keys.json") as http:
        response = await token_response(http, "acme-shop", DEMO_SECRET)
        assert response.status_code == 200, response.text


async def test_a_tenant_created_suspended_gets_no_token(
    empty_database_url: str, workdir: Path, tmp_path: Path
) -> None:
    manifest = pair()
    manifest["tenants"][1]["status"] = "suspended"  # swiftship
    path = write_manifest(tmp_path / "demo.yaml", manifest)

    result = await Cli(empty_database_url, workdir).call("tenants", "apply", path)

    assert (result.code, result.err) == (0, ""), result
    assert result.lines == created_lines(manifest)
    async with gateway(empty_database_url, tmp_path / "keys.json") as http:
        response = await token_response(http, "swiftship-tms", DEMO_SECRET)
        assert response.status_code == 401, response.text
        assert response.json()["error"] == "invalid_client"
        ok = await token_response(http, "acme-shop", DEMO_SECRET)
        assert ok.status_code == 200, ok.text


async def _client_ids(url: str) -> set[str]:
    return {row.client_id for row in await rows(url, "api_clients")}
