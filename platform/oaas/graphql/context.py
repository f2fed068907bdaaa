"""What every resolver gets: the caller, its unit of work, and the settings."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info as StrawberryInfo

from oaas.db import Database
from oaas.db.engine import RequestTransaction
from oaas.lifecycle.engines import Engines
from oaas.policy import Principal
from oaas.quotas.buckets import Buckets, MemoryBuckets
from oaas.quotas.plans import STANDARD, PlanLimits
from oaas.settings import Settings
from oaas.sharing.service import PartnerAccess
from oaas.sharing.views import Viewer


@dataclass
class Context:
    principal: Principal
    database: Database
    settings: Settings
    # The request's transaction (the bearer check's lookup ran in it on PostgreSQL).
    transaction: RequestTransaction
    request_id: str
    engines: Engines
    plan: PlanLimits = STANDARD
    buckets: Buckets = field(default_factory=MemoryBuckets)
    # strawberry's response stand-in: status code and headers of the HTTP answer.
    response: Any = None
    # Opened by the UnitOfWork extension once the operation type is known.
    _session: AsyncSession | None = None
    # DataLoader batches of one level may run at the same time; the session takes one at a time.
    session_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    loaders: dict[str, Any] = field(default_factory=dict)
    # A partner's grants by merchant, read once per request (graphql.shared_fields).
    partner_access: dict[UUID, PartnerAccess] | None = None
    # The nodes a partner operates (merchant -> node id -> code) and the partner as a
    # reader of each merchant's orders, made once per request (graphql.shared_fields).
    operated_nodes: dict[UUID, dict[UUID, str]] | None = None
    viewers: dict[UUID, Viewer] = field(default_factory=dict)

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("no unit of work: the UnitOfWork extension opens it")
        return self._session


Info = StrawberryInfo[Context, None]
