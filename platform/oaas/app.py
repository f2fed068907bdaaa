"""`create_app(settings)`: the one place that wires every layer together."""

from __future__ import annotations

from starlette.applications import Starlette

from oaas.auth.keys import KeyStore
from oaas.auth.server import TokenIssuer
from oaas.auth.tokens import TokenVerifier
from oaas.db import Database
from oaas.graphql.schema import build_schema
from oaas.http import Components, build_http_app
from oaas.policy import default_policy
from oaas.settings import Settings
from oaas.telemetry import configure_logging


def build_components(settings: Settings) -> Components:
    default_policy()  # fail at start-up, not on the first request, if the policy is broken
    keys = KeyStore(settings.resolved_signing_key_file())
    return Components(
        settings=settings,
        database=Database(settings.database_url),
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


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    configure_logging(settings.log_level, settings.effective_log_format)
    return build_http_app(build_components(settings))


def app_from_environment() -> Starlette:
    """The factory uvicorn workers call (`oaas serve --workers N`)."""
    return create_app(Settings())
