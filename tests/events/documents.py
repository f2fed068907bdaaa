"""The event feed's GraphQL documents and helpers."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api

EVENTS = """
query Events($after: String, $first: Int, $types: [String!]) {
  events(after: $after, first: $first, types: $types) {
    edges { cursor node { id position orderSequence type at actor merchant orderId message
      payload } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def feed(
    api: Api,
    *,
    as_client: str,
    after: str | None = None,
    first: int = 100,
    types: list[str] | None = None,
) -> dict[str, Any]:
    variables = {"after": after, "first": first, "types": types}
    data = await api.data(EVENTS, variables, as_client=as_client)
    events: dict[str, Any] = data["events"]  # type: ignore[assignment]
    return events


async def all_events(api: Api, *, as_client: str, page: int = 3) -> list[dict[str, Any]]:
    """Every event the client sees, paged `page` at a time."""
    found: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        events = await feed(api, as_client=as_client, after=after, first=page)
        found.extend(edge["node"] for edge in events["edges"])
        if not events["pageInfo"]["hasNextPage"]:
            return found
        after = events["pageInfo"]["endCursor"]
