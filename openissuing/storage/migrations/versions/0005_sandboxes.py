"""sandboxes: isolated platforms, each with its own secret key and clock

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _ident(length: int = 64) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "sandboxes",
        sa.Column("id", _ident(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=True),
        sa.Column("platform_account_id", _ident(), nullable=False, unique=True),
        sa.Column("api_key", sa.String(255), nullable=False, unique=True),
        sa.Column("is_default", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("clock_offset_seconds", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("clock_frozen_at", sa.BigInteger(), nullable=True),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("is_default IN (0, 1)", name="ck_sandboxes_is_default"),
    )


def downgrade() -> None:
    op.drop_table("sandboxes")
