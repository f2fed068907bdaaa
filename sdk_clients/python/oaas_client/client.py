"""OAuth 2.0 client credentials, then GraphQL calls with variables (so the gateway's
parse and validation caches hit), with userErrors and GraphQL errors as exceptions."""

from __future__ import annotations

import time
from typing import Any

import httpx

CREATE_ORDER = """
mutation Create($input: CreateOrderInput!, $key: String) {
  createOrder(input: $input, idempotencyKey: $key) {
    order { id number status total routing { explanation } }
    userErrors { field message code }
  }
}
"""

ORDER = """
query Order($id: ID!) {
  order(id: $id) { id number status total lines { sku quantity } routing { explanation } }
}
"""


class GraphQLFailed(Exception):
    """The answer carried GraphQL errors (FORBIDDEN, FIELD_NOT_SHARED, THROTTLED, ...)."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(str(e.get("message")) for e in errors))
        self.errors = errors


class UserErrors(Exception):
    """A mutation refused its input; nothing was changed."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(f"{e.get('field')}: {e.get('message')}" for e in errors))
        self.errors = errors


class OaasClient:
    """One API client of one tenant. Pass `http` to reuse a connection pool (or, in
    tests, an httpx client on the ASGI app)."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._http = http or httpx.AsyncClient(base_url=base_url, timeout=30)
        self._credentials = (client_id, client_secret)
        self._token: str | None = None
        self._token_expires = 0.0

    async def _bearer(self) -> str:
        # Renew a minute early so a call never starts with a token about to expire.
        if self._token is None or time.monotonic() > self._token_expires - 60:
            response = await self._http.post(
                "/oauth/token", data={"grant_type": "client_credentials"}, auth=self._credentials
            )
            response.raise_for_status()
            body = response.json()
            self._token = str(body["access_token"])
            self._token_expires = time.monotonic() + float(body.get("expires_in", 3600))
        return self._token

    async def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The `data` of the answer; GraphQLFailed when it carries errors."""
        response = await self._http.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {await self._bearer()}"},
        )
        if response.status_code == 401:
            self._token = None
        body = response.json()
        if body.get("errors"):
            raise GraphQLFailed(body["errors"])
        response.raise_for_status()
        data: dict[str, Any] = body["data"]
        return data

    async def create_order(
        self, order: dict[str, Any], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        data = await self.execute(CREATE_ORDER, {"input": order, "key": idempotency_key})
        payload: dict[str, Any] = data["createOrder"]
        if payload["userErrors"]:
            raise UserErrors(payload["userErrors"])
        created: dict[str, Any] = payload["order"]
        return created

    async def order(self, order_id: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = (await self.execute(ORDER, {"id": order_id}))["order"]
        return found

    async def close(self) -> None:
        await self._http.aclose()
