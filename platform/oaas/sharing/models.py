"""Order access grants: what a merchant shares with a partner, as data in SQL."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import JSON, CheckConstraint, Column, ForeignKey, Index, String, Uuid
from sqlmodel import Field

from oaas.db.base import SQLModel
from oaas.db.scoping import Visibility, visibility_info
from oaas.db.types import UTCDateTime, new_id, utcnow
from oaas.policy.shares import ShareAction, ShareProfile

# The profiles and actions a grant may hold are the share policy's vocabulary.
__all__ = ["OrderAccessGrant", "ShareAction", "ShareProfile"]


class OrderAccessGrant(SQLModel, table=True):
    """Owned by the merchant (`tenant_id`); names the partner it shares with."""

    __tablename__ = "order_access_grants"
    __table_args__ = (
        CheckConstraint("profile IN ('full', 'logistics')", name="profile"),
        Index("ix_order_access_grants_partner", "partner_tenant_id", "revoked_at"),
        visibility_info(Visibility.MERCHANT_AND_PARTNER),
    )

    tenant_id: UUID = Field(
        sa_column=Column(
            Uuid, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    id: UUID = Field(default_factory=new_id, primary_key=True)
    partner_tenant_id: UUID = Field(
        sa_column=Column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False)
    )
    profile: ShareProfile = Field(sa_column=Column(String(16), nullable=False))
    actions: list[str] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))

    def is_active(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
