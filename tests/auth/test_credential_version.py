"""A new secret ends every token issued before it: tokens carry the client's
credential version, and the bearer check compares it on every request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
import yaml
from joserfc.jwk import RSAKey

from oaas.db import SYSTEM_SCOPE, Database
from oaas.manifests.apply import apply_manifest
from oaas.manifests.manifest import load_manifests
from oaas.policy import system_principal
from oaas.settings import Settings
from tests.auth.conftest import (
    assert_invalid_token,
    fresh_token,
    jwt_parts,
    request_token,
    sign,
    valid_claims_like,
    viewer,
)
from tests.conftest import DEMO_MANIFEST, Api

ROTATE_SECRET = """
mutation($clientId: String!) {
  rotateApiClientSecret(clientId: $clientId) { clientSecret userErrors { field message code } }
}
"""


async def _works(api: Api, token: str) -> None:
    response = await viewer(api, token)
    assert response.status_code == 200, response.text
    assert "errors" not in response.json(), response.json()


async def _rotate(api: Api, client_id: str, as_client: str = "acme-backend") -> str:
    data = await api.data(ROTATE_SECRET, {"clientId": client_id}, as_client=as_client)
    payload: Any = data["rotateApiClientSecret"]
    assert payload["userErrors"] == [], payload
    secret: str = payload["clientSecret"]
    return secret


async def test_rotation_ends_the_tokens_issued_before_it(api: Api) -> None:
    before = await fresh_token(api, "acme-shop")
    await _works(api, before)
    assert jwt_parts(before)[1]["credential_version"] == 0

    secret = await _rotate(api, "acme-shop")
    assert_invalid_token(await viewer(api, before))

    after = await fresh_token(api, "acme-shop", secret)
    assert jwt_parts(after)[1]["credential_version"] == 1
    await _works(api, after)
    # Its neighbours are untouched.
    await _works(api, await fresh_token(api, "acme-reports"))


async def test_each_rotation_ends_the_previous_secrets_tokens(api: Api) -> None:
    first = await _rotate(api, "acme-reports")
    token = await fresh_token(api, "acme-reports", first)
    await _works(api, token)
    second = await _rotate(api, "acme-reports")
    assert_invalid_token(await viewer(api, token))
    await _works(api, await fresh_token(api, "acme-reports", second))


async def test_a_new_secret_from_a_manifest_ends_old_tokens_and_new_roles_do_not(
    api: Api, settings: Settings, tmp_path: Path
) -> None:
    """`oaas tenants apply` replaces a secret that differs from the manifest's."""
    token = await fresh_token(api, "acme-shop")
    demo = yaml.safe_load(DEMO_MANIFEST.read_text())
    acme = next(t for t in demo["tenants"] if t["handle"] == "acme")
    shop = next(c for c in acme["clients"] if c["client_id"] == "acme-shop")

    shop["roles"] = ["merchant_viewer"]
    await _apply(settings, demo, tmp_path / "roles.yaml")
    # Roles are cut back per request (to none here); the token itself is not refused.
    assert (await viewer(api, token)).status_code == 200

    shop["secret"] = new_secret = "a-new-secret-of-enough-length"
    await _apply(settings, demo, tmp_path / "secret.yaml")
    assert_invalid_token(await viewer(api, token))
    await _works(api, await fresh_token(api, "acme-shop", new_secret))


async def _apply(settings: Settings, manifest: dict[str, Any], path: Path) -> None:
    await anyio.Path(path).write_text(yaml.safe_dump(manifest))
    database = Database(settings.migrations_url)
    try:
        async with database.session(write=True, scope=SYSTEM_SCOPE) as session:
            await apply_manifest(session, system_principal("tests"), load_manifests([path]))
    finally:
        await database.dispose()


async def test_a_platform_admin_rotation_ends_a_partners_tokens(api: Api) -> None:
    token = await fresh_token(api, "swiftship-tms")
    secret = await _rotate(api, "swiftship-tms", as_client="ops-admin")
    assert_invalid_token(await viewer(api, token))
    await _works(api, await fresh_token(api, "swiftship-tms", secret))


async def test_a_token_without_the_claim_counts_as_version_0(
    api: Api, app_key: RSAKey, acme_shop_claims: dict[str, Any]
) -> None:
    """Tokens issued before versions were kept live out their lifetime until the
    client's secret is next replaced: an upgrade does not log every client out."""
    header = {"alg": "RS256", "typ": "at+jwt", "kid": app_key.kid}
    claims = valid_claims_like(acme_shop_claims)
    del claims["credential_version"]
    older_format = sign(header, claims, app_key)
    await _works(api, older_format)

    await _rotate(api, "acme-shop")
    assert_invalid_token(await viewer(api, older_format))


@pytest.mark.parametrize("version", ["0", 0.0, None, True, [0], -1, 1])
async def test_a_malformed_or_other_version_is_refused(
    api: Api, app_key: RSAKey, acme_shop_claims: dict[str, Any], version: Any
) -> None:
    header = {"alg": "RS256", "typ": "at+jwt", "kid": app_key.kid}
    claims = valid_claims_like(acme_shop_claims, credential_version=version)
    assert_invalid_token(await viewer(api, sign(header, claims, app_key)))


async def test_old_secret_gets_no_token_after_rotation(api: Api) -> None:
    await _rotate(api, "acme-shop")
    response = await request_token(api, "acme-shop")
    assert response.status_code == 401
