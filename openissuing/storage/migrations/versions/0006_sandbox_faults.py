"""faults on purpose: requests that answer 429/500 or hang; webhooks late, shuffled, duplicated

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _ident(length: int = 64) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "sandbox_faults",
        sa.Column("id", _ident(), primary_key=True),
        sa.Column(
            "sandbox_id",
            _ident(),
            sa.ForeignKey("sandboxes.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("method", sa.String(8), nullable=True),
        sa.Column("path", sa.String(255), nullable=True),
        sa.Column("event_type", sa.String(100), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("remaining", sa.Integer(), nullable=True),
        sa.Column("seconds", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("expires_at", sa.BigInteger(), nullable=True),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "remaining IS NULL OR remaining > 0", name="ck_sandbox_faults_remaining"
        ),
    )
    op.create_index("ix_sandbox_faults_sandbox", "sandbox_faults", ["sandbox_id", "id"])
    op.add_column(
        "webhook_deliveries",
        sa.Column("copies_left", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_column("copies_left")
    op.drop_index("ix_sandbox_faults_sandbox", table_name="sandbox_faults")
    op.drop_table("sandbox_faults")
