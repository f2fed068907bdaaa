"""The Relay `Node` interface: every object with a global ID."""

from __future__ import annotations

import strawberry


@strawberry.interface
class Node:
    id: strawberry.ID
