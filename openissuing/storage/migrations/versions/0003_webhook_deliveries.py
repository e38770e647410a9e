"""webhook delivery: endpoint secrets, one delivery per (event, endpoint), every attempt

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _ident(length: int = 64) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "webhook_endpoint_secrets",
        sa.Column("endpoint_id", _ident(), sa.ForeignKey("objects.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("secret_encrypted", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", _ident(), primary_key=True),
        sa.Column("event_id", _ident(), sa.ForeignKey("objects.id", ondelete="CASCADE"), nullable=False),
        sa.Column("endpoint_id", _ident(), sa.ForeignKey("objects.id", ondelete="CASCADE"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempt_count", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.BigInteger(), nullable=True),
        sa.Column("lease", sa.String(32), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'succeeded', 'failed', 'canceled')", name="ck_webhook_deliveries_status"
        ),
        sa.CheckConstraint(
            "(status = 'pending') = (next_attempt_at IS NOT NULL)", name="ck_webhook_deliveries_next_attempt"
        ),
        sa.CheckConstraint("attempt_count >= 0", name="ck_webhook_deliveries_attempt_count"),
    )
    op.create_index(
        "ux_webhook_deliveries_event_endpoint", "webhook_deliveries", ["event_id", "endpoint_id"], unique=True
    )
    op.create_index("ix_webhook_deliveries_due", "webhook_deliveries", ["status", "next_attempt_at"])
    op.create_index("ix_webhook_deliveries_endpoint", "webhook_deliveries", ["endpoint_id", "status"])
    op.create_table(
        "webhook_attempts",
        sa.Column("id", _ident(), primary_key=True),
        sa.Column(
            "delivery_id", _ident(), sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(255), nullable=True),
        sa.Column("response_excerpt", sa.Text(), nullable=True),
    )
    op.create_index("ix_webhook_attempts_delivery", "webhook_attempts", ["delivery_id", "number"])


def downgrade() -> None:
    op.drop_table("webhook_attempts")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_endpoint_secrets")
