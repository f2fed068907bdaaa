"""Signing key rotation: the key file, the JWKS, and which tokens still verify."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from oaas.app import create_app
from oaas.auth import keys
from oaas.settings import Settings
from tests.auth.conftest import assert_invalid_token, fresh_token, jwt_parts, viewer
from tests.conftest import ISSUER, Api

TTL = timedelta(seconds=3600)


async def _kids(api: Api) -> list[str]:
    response = await api.http.get("/.well-known/jwks.json")
    assert response.status_code == 200, response.text
    return [key["kid"] for key in response.json()["keys"]]


def _kid(token: str) -> str:
    kid: str = jwt_parts(token)[0]["kid"]
    return kid


async def _works(api: Api, token: str, client_id: str = "acme-shop") -> None:
    response = await viewer(api, token)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["viewer"]["clientId"] == client_id


@pytest.fixture
async def other_worker(settings: Settings) -> AsyncIterator[Api]:
    """A second gateway process on the same database and key file."""
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
        yield Api(http)
    await app.state.components.database.dispose()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _stat(path: Path) -> os.stat_result:
    return path.stat()


def _leftovers(path: Path) -> list[str]:
    """Temporary files of interrupted writes beside the key file."""
    return [p.name for p in path.parent.iterdir() if p.name.startswith(f".{path.name}")]


async def test_key_file_is_private(api: Api, key_file: Path) -> None:
    assert _mode(key_file) == 0o600
    keys.rotate(key_file, TTL)
    assert _mode(key_file) == 0o600
    keys.rotate(key_file, timedelta(0))
    assert _mode(key_file) == 0o600
    assert _leftovers(key_file) == []


def test_new_key_file_is_private_whatever_the_umask(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "keys.json"
    old = os.umask(0)
    try:
        keys.ensure_key_file(path)
    finally:
        os.umask(old)
    assert _mode(path) == 0o600
    stored = json.loads(path.read_text())["keys"]
    assert len(stored) == 1
    assert stored[0]["retired_at"] is None


async def test_kid_of_tokens_is_the_active_key(api: Api, key_file: Path) -> None:
    token = await fresh_token(api, "acme-shop")
    assert _kid(token) == keys.KeyStore(key_file).signing_key().kid
    assert await _kids(api) == [_kid(token)]


async def test_token_from_before_a_rotation_still_works(api: Api, key_file: Path) -> None:
    old = await fresh_token(api, "acme-shop")
    new_key = keys.rotate(key_file, TTL)
    await _works(api, old)
    new = await fresh_token(api, "acme-shop")
    assert _kid(new) == new_key.kid != _kid(old)
    await _works(api, new)
    await _works(api, old)
    assert sorted(await _kids(api)) == sorted([_kid(old), _kid(new)])


async def test_jwks_shows_the_new_key_right_after_rotation(api: Api, key_file: Path) -> None:
    (first,) = await _kids(api)
    second = keys.rotate(key_file, TTL).kid
    assert sorted(await _kids(api)) == sorted([first, second])
    third = keys.rotate(key_file, TTL).kid
    assert sorted(await _kids(api)) == sorted([first, second, third])
    assert _kid(await fresh_token(api, "acme-shop")) == third


async def test_rotation_is_noticed_even_within_one_mtime_tick(api: Api, key_file: Path) -> None:
    """Coarse file timestamps (1 s on some file systems) must not hide a rotation."""
    before = _stat(key_file)
    old = await fresh_token(api, "acme-shop")
    new_key = keys.rotate(key_file, TTL)
    os.utime(key_file, ns=(before.st_atime_ns, before.st_mtime_ns))
    new = await fresh_token(api, "acme-shop")
    assert _kid(new) == new_key.kid != _kid(old)
    await _works(api, new)


async def test_token_of_a_key_another_worker_rotated_in(
    api: Api, other_worker: Api, key_file: Path
) -> None:
    """Worker A verifies a token that worker B signed with a key A has not loaded yet."""
    await _works(api, await fresh_token(api, "acme-shop"))  # A has loaded the first key
    new_key = keys.rotate(key_file, TTL)
    token = await fresh_token(other_worker, "acme-shop")
    assert _kid(token) == new_key.kid
    await _works(api, token)


async def test_retired_key_drops_once_its_window_is_over(api: Api, key_file: Path) -> None:
    old = await fresh_token(api, "acme-shop")
    keys.rotate(key_file, timedelta(0))
    keys.rotate(key_file, timedelta(0))
    assert _kid(old) not in await _kids(api)
    assert len(await _kids(api)) == 1
    assert_invalid_token(await viewer(api, old))
    await _works(api, await fresh_token(api, "acme-shop"))


async def test_dropped_key_is_refused_on_the_very_next_request(api: Api, key_file: Path) -> None:
    """Rotating with no grace (a leaked key) refuses its tokens at once, even in a
    worker that has touched neither the JWKS nor the token endpoint since."""
    old = await fresh_token(api, "acme-shop")
    await _works(api, old)
    keys.rotate(key_file, timedelta(0))
    assert_invalid_token(await viewer(api, old))


async def test_dropped_key_in_another_worker(api: Api, other_worker: Api, key_file: Path) -> None:
    old = await fresh_token(api, "acme-shop")
    await _works(other_worker, old)
    keys.rotate(key_file, timedelta(0))
    assert_invalid_token(await viewer(other_worker, old))
    assert_invalid_token(await viewer(api, old))


async def test_retired_key_kept_while_its_tokens_may_live(api: Api, key_file: Path) -> None:
    first = await fresh_token(api, "acme-shop")
    keys.rotate(key_file, TTL)  # first retired, verifiable for an hour
    second = await fresh_token(api, "acme-shop")
    keys.rotate(key_file, timedelta(0))  # second retired with no grace: dropped
    third = await fresh_token(api, "acme-shop")
    assert sorted(await _kids(api)) == sorted([_kid(first), _kid(third)])
    await _works(api, first)
    assert_invalid_token(await viewer(api, second))
    await _works(api, third)
