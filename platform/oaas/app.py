"""`create_app(settings)`: the one place that wires every layer together."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette

from oaas.auth.keys import KeyStore
from oaas.auth.server import TokenIssuer
from oaas.auth.tokens import TokenVerifier
from oaas.db import SYSTEM_SCOPE, Database
from oaas.graphql.schema import build_schema
from oaas.http import Components, build_http_app
from oaas.orders.service import purge_expired_keys
from oaas.policy import default_policy
from oaas.settings import Settings
from oaas.telemetry import configure_logging, get_logger

# Idempotency keys live 24 hours; a sweep this often keeps the table near that size.
PURGE_INTERVAL_SECONDS = 600.0
log = get_logger("oaas.app")


def build_components(settings: Settings) -> Components:
    default_policy()  # fail at start-up, not on the first request, if the policy is broken
    keys = KeyStore(settings.resolved_signing_key_file())
    return Components(
        settings=settings,
        database=Database(settings.database_url, role=settings.app_role),
        keys=keys,
        token_issuer=TokenIssuer(
            issuer=settings.issuer,
            audience=settings.audience,
            keys=keys,
            ttl_seconds=settings.token_ttl_seconds,
        ),
        token_verifier=TokenVerifier(issuer=settings.issuer, audience=settings.audience, keys=keys),
        schema=build_schema(settings),
    )


async def _purge_idempotency_keys(components: Components) -> None:
    while True:
        await asyncio.sleep(PURGE_INTERVAL_SECONDS)
        try:
            purged = 1
            while purged:
                async with components.database.session(write=True, scope=SYSTEM_SCOPE) as session:
                    purged = await purge_expired_keys(session)
        except Exception:
            log.exception("purging expired idempotency keys failed; will retry")


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    configure_logging(settings.log_level, settings.effective_log_format)
    components = build_components(settings)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        sweeper = asyncio.create_task(_purge_idempotency_keys(components))
        try:
            yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            await components.database.dispose()

    return build_http_app(components, lifespan=lifespan)


def app_from_environment() -> Starlette:
    """The factory uvicorn workers call (`oaas serve --workers N`)."""
    return create_app(Settings())
