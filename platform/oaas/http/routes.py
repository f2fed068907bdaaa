"""The Starlette application: routes and middleware around the components."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field

import strawberry
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from oaas.auth.credentials import ClientAuthenticator
from oaas.auth.keys import KeyStore
from oaas.auth.server import TokenIssuer
from oaas.auth.tokens import TokenVerifier
from oaas.db import Database
from oaas.http.graphql import AuthenticatedGraphQL
from oaas.http.health import healthz, readyz
from oaas.http.middleware import BodySizeLimitMiddleware, RequestIdMiddleware
from oaas.http.oauth import authorization_server_metadata, jwks, token_endpoint
from oaas.http.tracing import TracingMiddleware
from oaas.lifecycle.engines import Engines
from oaas.quotas.buckets import Buckets, MemoryBuckets
from oaas.settings import Settings
from oaas.telemetry.tracing import Tracing

MAX_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Components:
    settings: Settings
    database: Database
    keys: KeyStore
    token_issuer: TokenIssuer
    token_verifier: TokenVerifier
    schema: strawberry.Schema
    engines: Engines
    client_authenticator: ClientAuthenticator
    buckets: Buckets = field(default_factory=MemoryBuckets)
    tracing: Tracing | None = None


def build_http_app(
    components: Components,
    lifespan: Callable[[Starlette], AbstractAsyncContextManager[None]] | None = None,
) -> Starlette:
    @asynccontextmanager
    async def default_lifespan(_app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await components.database.dispose()

    graphql = AuthenticatedGraphQL(components)
    app = Starlette(
        routes=[
            Route("/oauth/token", token_endpoint, methods=["POST"]),
            Route("/.well-known/jwks.json", jwks, methods=["GET"]),
            Route(
                "/.well-known/oauth-authorization-server",
                authorization_server_metadata,
                methods=["GET"],
            ),
            # Every method: strawberry's view refuses the others with a JSON 405.
            Route("/graphql", graphql),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
        ],
        middleware=[
            *(
                [Middleware(TracingMiddleware, tracer=components.tracing.tracer)]
                if components.tracing
                else []
            ),
            Middleware(RequestIdMiddleware),
            Middleware(BodySizeLimitMiddleware, max_bytes=MAX_BODY_BYTES),
        ],
        lifespan=lifespan or default_lifespan,
    )
    app.state.components = components
    return app
