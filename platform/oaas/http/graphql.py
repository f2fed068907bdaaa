"""`/graphql`: the bearer check in front of strawberry, so an unauthenticated
operation never reaches GraphQL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from oaas.auth.clients import load_client
from oaas.auth.tokens import TokenRejected, claimed_tenant, principal_from
from oaas.db import RowScope
from oaas.graphql.context import Context
from oaas.http.errors import error_response
from oaas.http.strict import StrictGraphQL
from oaas.quotas.plans import STANDARD

if TYPE_CHECKING:
    from oaas.http.routes import Components


class _GraphQLApp(StrictGraphQL):
    def __init__(self, components: Components) -> None:
        super().__init__(
            components.schema,
            graphql_ide=None if components.settings.is_production else "graphiql",
            allow_queries_via_get=True,
        )
        self.components = components
        self.max_document_chars = components.settings.max_query_chars

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        state = request.scope["state"]
        return Context(
            principal=state["principal"],
            database=self.components.database,
            settings=self.components.settings,
            transaction=state["transaction"],
            request_id=state.get("request_id", ""),
            plan=state["plan"],
            buckets=self.components.buckets,
            engines=self.components.engines,
            response=response,
        )


def _unauthorized(description: str) -> Response:
    challenge = f'Bearer error="invalid_token", error_description="{description}"'
    return error_response(401, description, "UNAUTHENTICATED", {"WWW-Authenticate": challenge})


class AuthenticatedGraphQL:
    """Verifies the bearer token and the client behind it, then hands over to strawberry."""

    def __init__(self, components: Components) -> None:
        self.components = components
        self.graphql = _GraphQLApp(components)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if self._wants_ide(request):
            # The page itself, straight away: strawberry's view would build a
            # context first, and there is no caller to build it for.
            await HTMLResponse(self.graphql.graphql_ide_html)(scope, receive, send)
            return
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            await _unauthorized("a bearer access token is required")(scope, receive, send)
            return
        async with self.components.database.request_transaction() as transaction:
            try:
                claims = self.components.token_verifier.claims(token.strip())
                # The client is looked up among its own tenant's: the token is verified.
                own_tenant = RowScope("tenant", claimed_tenant(claims))
                async with transaction.lookup(own_tenant) as session:
                    client = await load_client(session, str(claims.get("client_id", "")))
                principal = principal_from(claims, client)
            except TokenRejected:
                await _unauthorized("the access token is invalid, expired or revoked")(
                    scope, receive, send
                )
                return
            state = scope.setdefault("state", {})
            state["principal"] = principal
            state["plan"] = client.plan if client is not None else STANDARD
            state["tenant"] = principal.tenant_handle
            state["client"] = principal.client_id
            state["transaction"] = transaction
            await self.graphql(scope, receive, send)

    def _wants_ide(self, request: Request) -> bool:
        return (
            not self.components.settings.is_production
            and request.method == "GET"
            and "query" not in request.query_params
            and "text/html" in request.headers.get("accept", "")
        )
