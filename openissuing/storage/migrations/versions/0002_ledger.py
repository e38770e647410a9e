"""the double-entry ledger (accounts with running totals, immutable transfers); card spend; authorization expiries

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _ident(length: int = 64) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "ledger_accounts",
        sa.Column("id", _ident(), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("reference", _ident(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("debits_pending", sa.BigInteger(), nullable=False),
        sa.Column("debits_posted", sa.BigInteger(), nullable=False),
        sa.Column("credits_pending", sa.BigInteger(), nullable=False),
        sa.Column("credits_posted", sa.BigInteger(), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "debits_pending >= 0 AND debits_posted >= 0 AND credits_pending >= 0 AND credits_posted >= 0",
            name="ck_ledger_accounts_totals_not_negative",
        ),
    )
    op.create_index("ix_ledger_accounts_reference", "ledger_accounts", ["reference", "kind", "currency"], unique=True)
    op.create_table(
        "ledger_transfers",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("debit_account_id", _ident(), sa.ForeignKey("ledger_accounts.id"), nullable=False),
        sa.Column("credit_account_id", _ident(), sa.ForeignKey("ledger_accounts.id"), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("pending_id", sa.String(128), sa.ForeignKey("ledger_transfers.id"), nullable=True),
        sa.Column("flow", _ident(), nullable=True),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount > 0", name="ck_ledger_transfers_amount_positive"),
        sa.CheckConstraint("debit_account_id <> credit_account_id", name="ck_ledger_transfers_two_accounts"),
        sa.CheckConstraint(
            "kind IN ('posted', 'pending', 'post_pending', 'void_pending')", name="ck_ledger_transfers_kind"
        ),
        sa.CheckConstraint(
            "(kind IN ('post_pending', 'void_pending')) = (pending_id IS NOT NULL)",
            name="ck_ledger_transfers_pending_id",
        ),
    )
    op.create_index("ux_ledger_transfers_pending_id", "ledger_transfers", ["pending_id"], unique=True)
    op.create_index("ix_ledger_transfers_debit", "ledger_transfers", ["debit_account_id"])
    op.create_index("ix_ledger_transfers_credit", "ledger_transfers", ["credit_account_id"])
    op.create_index("ix_ledger_transfers_flow", "ledger_transfers", ["flow"])
    _immutable_transfers()
    op.create_table(
        "card_spend",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("card_id", _ident(), nullable=False),
        sa.Column("cardholder_id", _ident(), nullable=False),
        sa.Column("category", sa.String(96), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_card_spend_card_at", "card_spend", ["card_id", "at"])
    op.create_index("ix_card_spend_cardholder_at", "card_spend", ["cardholder_id", "at"])
    op.create_table(
        "authorization_expiries",
        sa.Column("authorization_id", _ident(), primary_key=True),
        sa.Column("owner", _ident(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_authorization_expiries_owner_due", "authorization_expiries", ["owner", "expires_at"])


def _immutable_transfers() -> None:
    """Transfers are facts: the database itself refuses to change or delete one."""
    if op.get_bind().dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER ledger_transfers_no_{action.lower()} BEFORE {action} ON ledger_transfers "
                "BEGIN SELECT RAISE(ABORT, 'ledger transfers are immutable'); END"
            )
        return
    op.execute(
        "CREATE FUNCTION ledger_transfers_immutable() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'ledger transfers are immutable'; END $$"
    )
    op.execute(
        "CREATE TRIGGER ledger_transfers_immutable BEFORE UPDATE OR DELETE ON ledger_transfers "
        "FOR EACH ROW EXECUTE FUNCTION ledger_transfers_immutable()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP TRIGGER IF EXISTS ledger_transfers_immutable ON ledger_transfers")
        op.execute("DROP FUNCTION IF EXISTS ledger_transfers_immutable()")
    op.drop_table("authorization_expiries")
    op.drop_table("card_spend")
    op.drop_table("ledger_transfers")
    op.drop_table("ledger_accounts")
