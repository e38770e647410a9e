"""Runtime settings, read from arguments or ``OPENISSUING_*`` environment variables.

Nothing here connects to anything: building a Settings object is free.
"""

from __future__ import annotations

from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SQLITE_URL = "sqlite:///openissuing.sqlite3"
STRIPE_API_VERSION = "2026-10-28.endive"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OPENISSUING_", extra="ignore")

    database_url: str = DEFAULT_SQLITE_URL
    # SQLite only (PRAGMA synchronous, with WAL): "normal" survives a process crash but may lose
    # the last commits on power loss; "full" also survives power loss (README, "Durability").
    sqlite_synchronous: Literal["normal", "full"] = "normal"
    # The platform's secret key. None: generate one on first start, keep it in the database.
    api_key: str | None = None
    # Fernet key (urlsafe base64, 32 bytes) for card numbers and CVCs at rest.
    # None: a key file beside the database (see openissuing.secrets_box).
    encryption_key: str | None = None
    encryption_key_file: str = "openissuing.key"
    host: str = "127.0.0.1"
    # Where client commands (`openissuing endpoints …`) find a running server.
    api_base: str = "http://127.0.0.1:12111"
    port: int = 12111
    api_version: str = STRIPE_API_VERSION
    # One line per request (method, path, status, ms, request id, account); `serve --quiet` off.
    access_log: bool = True
    idempotency_retention_seconds: int = 24 * 3600
    # Webhooks (openissuing.webhooks.dispatcher). The server runs a dispatcher thread unless
    # this is off (tests building their own; deployments running `openissuing dispatch` apart).
    webhook_dispatcher: bool = True
    # Seconds between delivery attempts, comma-separated ("1,1,2"); None: Stripe-like, ~3 days.
    webhook_retry_schedule: str | None = None
    webhook_timeout_seconds: float = 10.0
    # Real-time authorizations: how long to wait for the issuing_authorization.request
    # endpoint, and what a timeout (or an unusable answer) decides.
    realtime_deadline_seconds: float = 2.0
    realtime_timeout_decision: Literal["approve", "decline"] = "decline"
    webhook_poll_interval_seconds: float = 1.0
    # How PostgreSQL transactions run. read_committed: row locks (FOR UPDATE) in canonical order
    # plus advisory locks for fair queueing. serializable: every transaction SERIALIZABLE, retried
    # on serialization failures, no advisory locks (CockroachDB, YugabyteDB; docs/DISTRIBUTED.md).
    # SQLite ignores it (one writer at a time is serializable already).
    isolation: Literal["read_committed", "serializable"] = "read_committed"
    # `serve --workers N`: API processes sharing the listening socket and the database.
    workers: int = 1
    # Stripe-like rate limits per secret key (api.ratelimit): off, sandbox (25 operations/s)
    # or live (100/s). Each API process counts its own share.
    rate_limit: Literal["off", "sandbox", "live"] = "off"

    def sqlalchemy_url(self) -> str:
        """Users type ``postgresql://``; SQLAlchemy needs the psycopg 3 driver named."""
        url = self.database_url
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url
