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
