"""Tenants and their API clients."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from sqlalchemy import JSON, CheckConstraint, Column, ForeignKey, Integer, String, Uuid
from sqlmodel import Field

from oaas.db.base import SQLModel
from oaas.db.scoping import Visibility, visibility_info
from oaas.db.types import UTCDateTime, new_id, utcnow
from oaas.policy import TenantKind


class TenantStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class Tenant(SQLModel, table=True):
    """A merchant, a logistics partner or the platform operator itself.

    Not tenant-owned: the platform owns this table, and `id` is the `tenant_id`
    that every tenant-owned row carries.
    """

    __tablename__ = "tenants"
    __table_args__ = (
        CheckConstraint("kind IN ('merchant', 'partner', 'platform')", name="kind"),
        CheckConstraint("status IN ('active', 'suspended')", name="status"),
    )

    id: UUID = Field(default_factory=new_id, primary_key=True)
    handle: str = Field(sa_column=Column(String(63), nullable=False, unique=True))
    name: str = Field(sa_column=Column(String(200), nullable=False))
    kind: TenantKind = Field(sa_column=Column(String(16), nullable=False))
    plan: str = Field(
        default="standard", sa_column=Column(String(63), nullable=False, server_default="standard")
    )
    status: TenantStatus = Field(
        default=TenantStatus.ACTIVE, sa_column=Column(String(16), nullable=False)
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class ApiClient(SQLModel, table=True):
    """OAuth 2.0 client credentials of one tenant.

    `client_id` is unique across the platform (the token endpoint gets nothing
    else to look a client up by); the secret is kept only as a slow salted hash.
    """

    __tablename__ = "api_clients"
    __table_args__ = (visibility_info(Visibility.OWN),)

    tenant_id: UUID = Field(
        sa_column=Column(
            Uuid, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    id: UUID = Field(default_factory=new_id, primary_key=True)
    client_id: str = Field(sa_column=Column(String(100), nullable=False, unique=True))
    secret_hash: str = Field(sa_column=Column(String(255), nullable=False))
    # Raised by every new secret; tokens carry it, so a rotation ends the older ones.
    credential_version: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default="0")
    )
    roles: list[str] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
