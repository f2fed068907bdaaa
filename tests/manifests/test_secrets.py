"""Client secrets are stored only as argon2id hashes: no plain secret anywhere in the database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from oaas.tenancy.secrets import verify_secret
from tests.conftest import DEMO_MANIFEST
from tests.manifests.conftest import (
    Cli,
    all_text,
    gateway,
    rows,
    snapshot,
    token_response,
    write_manifest,
)

INLINE_SECRET = "inline-plain-secret-7f3a9c"
ENV_SECRET = "env-plain-secret-b81d04e6"
ROTATED_SECRET = "rotated-plain-secret-55aa01"


def manifest(env_name: str = "HOOLI_SECRET") -> dict[str, Any]:
    return {
        "tenants": [
            {
                "handle": "hooli",
                "name": "Hooli",
                "kind": "merchant",
                "clients": [
                    {
                        "client_id": "hooli-shop",
                        "secret": INLINE_SECRET,
                        "roles": ["merchant_operator"],
                    },
                    {
                        "client_id": "hooli-backend",
                        "secret_env": env_name,
                        "roles": ["merchant_admin"],
                    },
                    # the same secret twice: salted, so two different hashes
                    {
                        "client_id": "hooli-reports",
                        "secret": INLINE_SECRET,
                        "roles": ["merchant_viewer"],
                    },
                ],
            }
        ]
    }


def _assert_nowhere(url: str, dump: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in dump
    database = make_url(url).database
    if make_url(url).get_backend_name() == "sqlite" and database:
        # not in the file's bytes either (nor in its write-ahead log)
        for path in (Path(database), Path(database + "-wal")):
            if path.exists():
                raw = path.read_bytes()
                for secret in secrets:
                    assert secret.encode() not in raw, path


async def test_no_plain_secret_is_stored_anywhere(
    empty_database_url: str, workdir: Path, tmp_path: Path
) -> None:
    path = write_manifest(tmp_path / "hooli.yaml", manifest())
    cli = Cli(empty_database_url, workdir, env={"HOOLI_SECRET": ENV_SECRET})

    result = await cli.call("tenants", "apply", path)

    assert (result.code, result.err) == (0, ""), result
    dump = all_text(await snapshot(empty_database_url))
    assert "hooli-backend" in dump  # the dump does hold the clients
    _assert_nowhere(empty_database_url, dump, INLINE_SECRET, ENV_SECRET)

    clients = {row.client_id: row for row in await rows(empty_database_url, "api_clients")}
    assert set(clients) == {"hooli-shop", "hooli-backend", "hooli-reports"}
    for client in clients.values():
        assert client.secret_hash.startswith("$argon2id$"), client.secret_hash
    assert clients["hooli-shop"].secret_hash != clients["hooli-reports"].secret_hash
    assert verify_secret(clients["hooli-shop"].secret_hash, INLINE_SECRET)
    assert verify_secret(clients["hooli-reports"].secret_hash, INLINE_SECRET)
    assert verify_secret(clients["hooli-backend"].secret_hash, ENV_SECRET)
    assert not verify_secret(clients["hooli-backend"].secret_hash, INLINE_SECRET)

    async with gateway(empty_database_url, tmp_path / "keys.json") as http:
        response = await token_response(http, "hooli-backend", ENV_SECRET)
        assert response.status_code == 200, response.text


async def test_a_rotated_secret_is_stored_only_as_a_hash_too(
    database_url: str, workdir: Path, tmp_path: Path
) -> None:
    path = write_manifest(tmp_path / "hooli.yaml", manifest())
    cli = Cli(database_url, workdir, env={"HOOLI_SECRET": ENV_SECRET})
    assert (await cli.call("tenants", "apply", path)).code == 0

    rotated = await cli.call("tenants", "apply", path, env={"HOOLI_SECRET": ROTATED_SECRET})

    assert (rotated.code, rotated.err) == (0, ""), rotated
    assert rotated.lines == [
        "tenant hooli: unchanged",
        "client hooli/hooli-shop: unchanged",
        "client hooli/hooli-backend: updated (secret)",
        "client hooli/hooli-reports: unchanged",
    ]
    dump = all_text(await snapshot(database_url))
    # the demo tenants' secret is no exception
    _assert_nowhere(database_url, dump, "demo-only-secret", INLINE_SECRET, ROTATED_SECRET)
    hashes = [row.secret_hash for row in await rows(database_url, "api_clients")]
    assert len(hashes) == 8 + 3
    assert all(h.startswith("$argon2id$") for h in hashes)


async def test_production_refuses_inline_secrets_and_applies_nothing(
    empty_database_url: str, workdir: Path, tmp_path: Path
) -> None:
    path = write_manifest(tmp_path / "hooli.yaml", manifest())
    cli = Cli(empty_database_url, workdir, env={"HOOLI_SECRET": ENV_SECRET})
    before = await snapshot(empty_database_url)

    result = await cli.call("tenants", "apply", path, env={"OAAS_ENV": "production"})

    refused = (
        "inline secrets are refused in production: "
        "name an environment variable holding it with secret_env"
    )
    assert (result.code, result.err_lines) == (
        2,
        [
            f"hooli.yaml: tenants[0].clients[0].secret: {refused}",
            f"hooli.yaml: tenants[0].clients[2].secret: {refused}",
        ],
    ), result
    assert INLINE_SECRET not in result.out + result.err
    assert await snapshot(empty_database_url) == before
    # The same manifest with every secret from the environment is applied.
    for client in manifest()["tenants"][0]["clients"]:
        assert client.get("secret_env") or client["secret"] == INLINE_SECRET
    from_env = manifest()
    for client in from_env["tenants"][0]["clients"]:
        client.pop("secret", None)
        client["secret_env"] = "HOOLI_SECRET"
    applied = await cli.call(
        "tenants",
        "apply",
        write_manifest(tmp_path / "hooli.yaml", from_env),
        env={"OAAS_ENV": "production"},
    )
    assert (applied.code, applied.err) == (0, ""), applied
    assert len(await rows(empty_database_url, "api_clients")) == 3


async def test_the_demo_manifest_applies_in_development(
    empty_database_url: str, workdir: Path
) -> None:
    """Development keeps inline secrets: tenants/demo.yaml uses one."""
    result = await Cli(empty_database_url, workdir).call(
        "tenants", "apply", DEMO_MANIFEST, env={"OAAS_ENV": "development"}
    )
    assert (result.code, result.err) == (0, ""), result
    refused = await Cli(empty_database_url, workdir).call(
        "tenants", "apply", DEMO_MANIFEST, "--dry-run", env={"OAAS_ENV": "production"}
    )
    assert refused.code == 2, refused
    assert "demo.yaml: tenants[0].clients[0].secret: inline secrets" in refused.err, refused
