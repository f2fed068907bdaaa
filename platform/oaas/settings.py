"""The one settings object: built once in `create_app` (or the CLI) and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


class Settings(BaseSettings):
    """`OAAS_*` environment variables, also read from `.env` (docs/reference.md)."""

    model_config = SettingsConfigDict(
        env_prefix="OAAS_", env_file=".env", extra="ignore", frozen=True
    )

    database_url: str = "sqlite+aiosqlite:///./oaas.db"
    # PostgreSQL: migrations run with this URL (the tables' owner); default: database_url.
    migration_database_url: str | None = None
    # PostgreSQL: the login of the platform's own work across tenants (token lookups,
    # workers, manifests, platform admins), which runs as oaas_system (oaas.db.roles);
    # default: database_url.
    system_database_url: str | None = None
    # PostgreSQL: the role tenant connections switch to (system connections switch to
    # oaas_system). Neither owns a table, so row-level security holds them. Empty:
    # connections keep their login roles.
    database_role: str = "oaas_app"
    issuer: str = "http://127.0.0.1:8000"
    signing_key_file: Path | None = None
    token_ttl_seconds: int = Field(default=3600, gt=0, le=86_400)
    env: Literal["development", "production"] = "development"
    otlp_endpoint: str | None = None
    # Of the traces no SLA report points at (those are always exported), the share
    # exported to `otlp_endpoint`; a caller's sampled `traceparent` is always honoured.
    trace_export_ratio: float = Field(default=0.1, ge=0.0, le=1.0)
    # Static limits on every GraphQL document (QUERY_REJECTED beyond them).
    max_query_depth: int = Field(default=12, ge=1)
    max_query_aliases: int = Field(default=30, ge=0)
    max_query_tokens: int = Field(default=5_000, ge=10)
    max_query_selections: int = Field(default=5_000, ge=10)
    max_query_chars: int = Field(default=32_768, ge=1_000)
    # Cost buckets and token endpoint failure counts shared by every worker and
    # host; unset: in process memory.
    redis_url: str | None = None
    redis_prefix: str = "oaas:bucket:"
    # NATS with JetStream: every event of the outbox is also published there
    # (oaas.events.relay); unset: nothing is published.
    nats_url: str | None = None
    # The token endpoint (oaas.auth.throttle, oaas.auth.credentials): failed client
    # authentications allowed per client id and per source address (IPv6: per /64)
    # in a moving window, then HTTP 429 before any hash; secret hashes computed at
    # once per worker, and how many more may wait (then 503); how long a verified
    # client secret is remembered so that fetching a token again hashes nothing (0: off).
    token_failures_per_client: int = Field(default=10, ge=1, le=10_000)
    token_failures_per_address: int = Field(default=30, ge=1, le=100_000)
    token_failure_window_seconds: int = Field(default=60, ge=1, le=86_400)
    token_hash_concurrency: int = Field(default=1, ge=1, le=32)
    token_hash_queue: int = Field(default=8, ge=0, le=1_000)
    token_remember_seconds: int = Field(default=7_200, ge=0, le=86_400)
    # Server and SQL spans, and the SLI recording fed by them. Off only to measure their cost.
    tracing: bool = True
    log_level: str = "INFO"
    log_format: Literal["console", "json"] | None = None
    # Risk and routing when an order is accepted: past the time limit, or after
    # `breaker_failures` failures in a row (then for `breaker_recovery_seconds`),
    # the order is accepted anyway and deferred to the intake queue.
    risk_timeout_ms: int = Field(default=500, gt=0)
    routing_timeout_ms: int = Field(default=500, gt=0)
    breaker_failures: int = Field(default=5, ge=1)
    breaker_recovery_seconds: float = Field(default=30.0, gt=0)
    # The intake worker: how often it looks for due work, how many orders it
    # takes at once, and how long a claim holds before another worker may retry.
    intake_poll_seconds: float = Field(default=1.0, gt=0)
    intake_batch: int = Field(default=20, ge=1, le=1000)
    intake_lease_seconds: float = Field(default=60.0, gt=0)

    @field_validator("database_url", "migration_database_url", "system_database_url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(f"not a database URL: {value!r}") from exc
        if url.drivername not in ("sqlite+aiosqlite", "postgresql+asyncpg"):
            raise ValueError(
                f"must use sqlite+aiosqlite:// or postgresql+asyncpg://, not {url.drivername}://"
            )
        return value

    @field_validator("issuer")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("database_role")
    @classmethod
    def _plain_role_name(cls, value: str) -> str:
        if value and not value.replace("_", "").isalnum():
            raise ValueError("must be a plain role name (letters, digits, _)")
        return value

    @property
    def migrations_url(self) -> str:
        return self.migration_database_url or self.database_url

    @property
    def system_url(self) -> str:
        return self.system_database_url or self.database_url

    @property
    def app_role(self) -> str | None:
        return self.database_role or None

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def is_sqlite(self) -> bool:
        return make_url(self.database_url).drivername.startswith("sqlite")

    @property
    def effective_log_format(self) -> Literal["console", "json"]:
        if self.log_format is not None:
            return self.log_format
        return "json" if self.is_production else "console"

    @property
    def audience(self) -> str:
        """The `aud` of access tokens: this gateway, named by its issuer URL."""
        return self.issuer

    def resolved_signing_key_file(self) -> Path:
        """Where the signing keys live: as configured, else beside the SQLite file."""
        if self.signing_key_file is not None:
            return self.signing_key_file
        url = make_url(self.database_url)
        if self.is_sqlite and url.database and url.database != ":memory:":
            db_path = Path(url.database)
            return db_path.with_name(db_path.name + ".signing-keys.json")
        return Path("oaas-signing-keys.json")
