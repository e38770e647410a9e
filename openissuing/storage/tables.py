"""The database schema (SQLAlchemy Core). Alembic migrations create exactly this.

Stripe objects are documents: one row per object in ``objects`` holding the
domain record as JSON, with the columns every query needs (type, owning
account, creation time) as real, indexed columns. List filters
(``cardholder=``, ``status=``…) go through ``object_keys``, one row per
filterable value, so a filter is an index lookup however many objects exist.
Money never lives in these documents: it lives in the ledger tables (next
milestone) and balances are derived from ledger entries.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()


def ident(length: int = 64) -> String:
    """An id column that sorts bytewise on PostgreSQL too (ids are time-ordered)."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


objects = Table(
    "objects",
    metadata,
    Column("id", ident(), primary_key=True),
    Column("type", String(64), nullable=False),
    # The account the object lives in (the platform's own id for platform objects).
    Column("owner", ident(), nullable=False),
    Column("created", BigInteger, nullable=False),
    Column("data", Text, nullable=False),
    Index("ix_objects_type_owner_id", "type", "owner", "id"),
    Index("ix_objects_type_owner_created", "type", "owner", "created"),
)

object_keys = Table(
    "object_keys",
    metadata,
    Column("object_id", ident(), ForeignKey("objects.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("value", String(255), nullable=False),
    Index("ix_object_keys_lookup", "name", "value", "object_id"),
)

card_secrets = Table(
    "card_secrets",
    metadata,
    Column("card_id", ident(), ForeignKey("objects.id", ondelete="CASCADE"), primary_key=True),
    Column("number_encrypted", LargeBinary, nullable=False),
    Column("cvc_encrypted", LargeBinary, nullable=False),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    # Keys are scoped to the acting account, as Stripe scopes them.
    Column("scope", ident(), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("created", BigInteger, nullable=False),
    # NULL while the first request is executing; set in the effect's transaction.
    Column("response_status", Integer, nullable=True),
    Column("response_body", Text, nullable=True),
    Index("ix_idempotency_keys_created", "created"),
)

server_settings = Table(
    "server_settings",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# ---------------------------------------------------------------- the ledger
# Accounts keep running totals (never negative); transfers are immutable rows
# (triggers refuse UPDATE and DELETE). A pending transfer is resolved at most
# once: the unique index on ``pending_id`` allows one post-or-void per hold.

ledger_accounts = Table(
    "ledger_accounts",
    metadata,
    Column("id", ident(), primary_key=True),
    # financial_account | external_ach | external_rtp | external_us_domestic_wire | card_network
    Column("kind", String(32), nullable=False),
    # The financial account id, or the platform id for the platform's system accounts.
    Column("reference", ident(), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("debits_pending", BigInteger, nullable=False, default=0),
    Column("debits_posted", BigInteger, nullable=False, default=0),
    Column("credits_pending", BigInteger, nullable=False, default=0),
    Column("credits_posted", BigInteger, nullable=False, default=0),
    Column("created", BigInteger, nullable=False),
    CheckConstraint(
        "debits_pending >= 0 AND debits_posted >= 0 AND credits_pending >= 0 AND credits_posted "
        ">= 0",
        name="ck_ledger_accounts_totals_not_negative",
    ),
    Index("ix_ledger_accounts_reference", "reference", "kind", "currency", unique=True),
)

ledger_transfers = Table(
    "ledger_transfers",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("debit_account_id", ident(), ForeignKey("ledger_accounts.id"), nullable=False),
    Column("credit_account_id", ident(), ForeignKey("ledger_accounts.id"), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("pending_id", String(128), ForeignKey("ledger_transfers.id"), nullable=True),
    Column("flow", ident(), nullable=True),
    Column("created", BigInteger, nullable=False),
    Column("seq", BigInteger, nullable=False),
    CheckConstraint("amount > 0", name="ck_ledger_transfers_amount_positive"),
    CheckConstraint(
        "debit_account_id <> credit_account_id", name="ck_ledger_transfers_two_accounts"
    ),
    CheckConstraint(
        "kind IN ('posted', 'pending', 'post_pending', 'void_pending')",
        name="ck_ledger_transfers_kind",
    ),
    CheckConstraint(
        "(kind IN ('post_pending', 'void_pending')) = (pending_id IS NOT NULL)",
        name="ck_ledger_transfers_pending_id",
    ),
    Index("ux_ledger_transfers_pending_id", "pending_id", unique=True),
    Index("ix_ledger_transfers_debit", "debit_account_id"),
    Index("ix_ledger_transfers_credit", "credit_account_id"),
    Index("ix_ledger_transfers_flow", "flow"),
)

# ------------------------------------------------- issuing: spend and expiry
# Spend rows feed spending limits: one signed row per change of an
# authorization's or transaction's counted amount, so a window's spend is an
# indexed range sum. Expiry rows list pending authorizations by deadline.

card_spend = Table(
    "card_spend",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("card_id", ident(), nullable=False),
    Column("cardholder_id", ident(), nullable=False),
    Column("category", String(96), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("at", BigInteger, nullable=False),
    Index("ix_card_spend_card_at", "card_id", "at"),
    Index("ix_card_spend_cardholder_at", "cardholder_id", "at"),
)

authorization_expiries = Table(
    "authorization_expiries",
    metadata,
    Column("authorization_id", ident(), primary_key=True),
    Column("owner", ident(), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_authorization_expiries_owner_due", "owner", "expires_at"),
)

# ------------------------------------------------------------ webhook delivery
# The outbox's second half (see openissuing.services.deliveries). ``events.record``
# fans each event out, in its own transaction, to one delivery row per matching
# endpoint; the unique (event_id, endpoint_id) index makes fan-out idempotent.
# Dispatchers claim due rows (FOR UPDATE SKIP LOCKED on PostgreSQL), lease them by
# moving ``next_attempt_at`` forward, send with no transaction open, then record
# the attempt. Times here are wall-clock milliseconds: delivery timing is real
# network time, not the API's injectable clock.

webhook_endpoint_secrets = Table(
    "webhook_endpoint_secrets",
    metadata,
    Column("endpoint_id", ident(), ForeignKey("objects.id", ondelete="CASCADE"), primary_key=True),
    # Sealed with the server's SecretBox, like card numbers: never in the JSON document.
    Column("secret_encrypted", LargeBinary, nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", ident(), primary_key=True),
    Column("event_id", ident(), ForeignKey("objects.id", ondelete="CASCADE"), nullable=False),
    Column("endpoint_id", ident(), ForeignKey("objects.id", ondelete="CASCADE"), nullable=False),
    # pending | succeeded | failed (schedule exhausted) | canceled (endpoint disabled first)
    Column("status", String(16), nullable=False),
    Column("attempt_count", Integer, nullable=False),
    # When a dispatcher may (re)claim it; NULL once the delivery is finished.
    Column("next_attempt_at", BigInteger, nullable=True),
    # Token of the dispatcher currently holding it: only that one records the result.
    Column("lease", String(32), nullable=True),
    Column("last_status_code", Integer, nullable=True),
    Column("created", BigInteger, nullable=False),
    # Extra copies still to send after a success (a sandbox's webhook_duplicate fault).
    Column("copies_left", Integer, nullable=False, default=0, server_default="0"),
    CheckConstraint(
        "status IN ('pending', 'succeeded', 'failed', 'canceled')",
        name="ck_webhook_deliveries_status",
    ),
    CheckConstraint(
        "(status = 'pending') = (next_attempt_at IS NOT NULL)",
        name="ck_webhook_deliveries_next_attempt",
    ),
    CheckConstraint("attempt_count >= 0", name="ck_webhook_deliveries_attempt_count"),
    Index("ux_webhook_deliveries_event_endpoint", "event_id", "endpoint_id", unique=True),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    Index("ix_webhook_deliveries_endpoint", "endpoint_id", "status"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", ident(), primary_key=True),
    Column(
        "delivery_id",
        ident(),
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("number", Integer, nullable=False),
    Column("started_at", BigInteger, nullable=False),
    Column("duration_ms", Integer, nullable=False),
    # NULL when there was no answer (timeout, refused connection): then ``error`` says why.
    Column("http_status", Integer, nullable=True),
    Column("error", String(255), nullable=True),
    # At most 1 KB of what the endpoint answered, for debugging from the CLI.
    Column("response_excerpt", Text, nullable=True),
    Index("ix_webhook_attempts_delivery", "delivery_id", "number"),
)

# ------------------------------------------------------------------ sandboxes
# Each sandbox is an isolated platform: its own platform account (the owner of
# its connected accounts and platform objects), secret key and clock. A reset
# points the sandbox at a fresh platform account, so nothing of the old one is
# reachable; the immutable ledger keeps its history.

sandboxes = Table(
    "sandboxes",
    metadata,
    Column("id", ident(), primary_key=True),
    Column("name", String(100), nullable=True),
    Column("platform_account_id", ident(), nullable=False, unique=True),
    Column("api_key", String(255), nullable=False, unique=True),
    Column("is_default", Integer, nullable=False, default=0),
    Column("clock_offset_seconds", BigInteger, nullable=False, default=0),
    Column("clock_frozen_at", BigInteger, nullable=True),
    Column("created", BigInteger, nullable=False),
    CheckConstraint("is_default IN (0, 1)", name="ck_sandboxes_is_default"),
)

# Faults a sandbox asked for on purpose (the control API): the next N requests that
# match answer 429/500 or hang; ``remaining`` NULL means until cleared or expired.
sandbox_faults = Table(
    "sandbox_faults",
    metadata,
    Column("id", ident(), primary_key=True),
    Column("sandbox_id", ident(), ForeignKey("sandboxes.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("method", String(8), nullable=True),
    Column("path", String(255), nullable=True),
    # For webhook faults: the event types they touch (``*`` wildcards), NULL for all.
    Column("event_type", String(100), nullable=True),
    Column("outcome", String(16), nullable=True),
    Column("remaining", Integer, nullable=True),
    Column("seconds", Integer, nullable=False, default=0),
    # Wall-clock unix seconds (faults steer real clients, whatever the sandbox's clock says).
    Column("expires_at", BigInteger, nullable=True),
    Column("created", BigInteger, nullable=False),
    CheckConstraint("remaining IS NULL OR remaining > 0", name="ck_sandbox_faults_remaining"),
    Index("ix_sandbox_faults_sandbox", "sandbox_id", "id"),
)
