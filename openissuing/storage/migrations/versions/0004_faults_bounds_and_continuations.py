"""faults: ledger totals bounded in the database; two-phase requests in flight

Revision ID: 0004
Revises: 0003

* Every ledger total and transfer amount must be an integer of at most 2**62 (see
  ``openissuing.api.params.MAX_AMOUNT`` for why no realistic use gets near it): a bound
  checked by the database itself, so no code path can store a total that overflows
  64 bits. SQLite has no ALTER TABLE ... ADD CONSTRAINT, so there it is a pair of
  triggers (which also refuse a REAL or TEXT value, SQLite's dynamic typing); on
  PostgreSQL a CHECK added NOT VALID, so an existing database that already overflowed
  still upgrades and ``openissuing check-ledger`` names what is wrong.
* ``continuations``: one row per two-phase request between its two transactions
  (``openissuing.services.recovery``), so a server killed in between is concluded later.
"""
from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BOUND = 2**62
TOTALS = ("debits_pending", "debits_posted", "credits_pending", "credits_posted")


def _ident(length: int = 64) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def _out_of_range(column: str) -> str:
    return f"typeof(NEW.{column}) <> 'integer' OR NEW.{column} > {BOUND}"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        accounts = " OR ".join(_out_of_range(name) for name in TOTALS)
        for action in ("INSERT", "UPDATE"):
            op.execute(
                f"CREATE TRIGGER ledger_accounts_bounded_{action.lower()} BEFORE {action} "
                f"ON ledger_accounts WHEN {accounts} "
                "BEGIN SELECT RAISE(ABORT, 'ledger total out of range'); END"
            )
        op.execute(
            "CREATE TRIGGER ledger_transfers_bounded BEFORE INSERT ON ledger_transfers "
            f"WHEN {_out_of_range('amount')} "
            "BEGIN SELECT RAISE(ABORT, 'ledger amount out of range'); END"
        )
    else:
        bounded = " AND ".join(f"{name} <= {BOUND}" for name in TOTALS)
        op.execute(
            "ALTER TABLE ledger_accounts ADD CONSTRAINT ck_ledger_accounts_totals_bounded "
            f"CHECK ({bounded}) NOT VALID"
        )
        op.execute(
            "ALTER TABLE ledger_transfers ADD CONSTRAINT ck_ledger_transfers_amount_bounded "
            f"CHECK (amount <= {BOUND}) NOT VALID"
        )
    op.create_table(
        "continuations",
        sa.Column("object_id", _ident(), primary_key=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("owner", _ident(), nullable=False),
        sa.Column("conclude_after_ms", sa.BigInteger(), nullable=False),
        sa.Column("idempotency_scope", _ident(), nullable=True),
        sa.Column("idempotency_key", sa.String(255), nullable=True),
        sa.Column("expand", sa.Text(), nullable=False),
    )
    op.create_index("ix_continuations_due", "continuations", ["conclude_after_ms"])
    op.create_index("ix_continuations_key", "continuations", ["idempotency_scope", "idempotency_key"])


def downgrade() -> None:
    op.drop_table("continuations")
    if op.get_bind().dialect.name == "sqlite":
        for name in ("accounts_bounded_insert", "accounts_bounded_update", "transfers_bounded"):
            op.execute(f"DROP TRIGGER IF EXISTS ledger_{name}")
    else:
        op.execute("ALTER TABLE ledger_accounts DROP CONSTRAINT ck_ledger_accounts_totals_bounded")
        op.execute("ALTER TABLE ledger_transfers DROP CONSTRAINT ck_ledger_transfers_amount_bounded")
