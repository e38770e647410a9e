"""SQL for the ledger: find-or-create accounts, lock them in id order, write transfers.

Locking: PostgreSQL rows are taken ``FOR UPDATE`` sorted by id, so two
transactions touching the same accounts queue instead of deadlocking; SQLite
already holds the database write lock (BEGIN IMMEDIATE).
"""

from __future__ import annotations

from typing import Iterable

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from openissuing import ids
from openissuing.domain.ledger import Account, Kind, Totals, Transfer
from openissuing.storage.tables import ledger_accounts as accounts
from openissuing.storage.tables import ledger_transfers as transfers

TOTAL_COLUMNS = ("debits_pending", "debits_posted", "credits_pending", "credits_posted")


class LedgerStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._postgres = conn.dialect.name == "postgresql"

    def ensure_account(self, kind: str, reference: str, currency: str, now: int) -> str:
        found = self._account_id(kind, reference, currency)
        if found is not None:
            return found
        dialect_insert = pg_insert if self._postgres else sqlite_insert
        statement = dialect_insert(accounts).values(
            id=ids.new_id("la"), kind=kind, reference=reference, currency=currency, created=now,
            **{column: 0 for column in TOTAL_COLUMNS},
        ).on_conflict_do_nothing(index_elements=["reference", "kind", "currency"])
        self.conn.execute(statement)
        # A concurrent creator may have won the race; either way, one row exists now.
        return self._account_id(kind, reference, currency)  # type: ignore[return-value]

    def _account_id(self, kind: str, reference: str, currency: str) -> str | None:
        return self.conn.execute(
            select(accounts.c.id).where(
                accounts.c.reference == reference, accounts.c.kind == kind, accounts.c.currency == currency
            )
        ).scalar_one_or_none()

    def lock(self, account_ids: Iterable[str]) -> dict[str, Account]:
        query = select(accounts).where(accounts.c.id.in_(sorted(set(account_ids)))).order_by(accounts.c.id)
        if self._postgres:
            query = query.with_for_update()
        return {row.id: _account(row) for row in self.conn.execute(query)}

    def read(self, account_ids: Iterable[str]) -> dict[str, Account]:
        query = select(accounts).where(accounts.c.id.in_(list(account_ids)))
        return {row.id: _account(row) for row in self.conn.execute(query)}

    def find_account(self, kind: str, reference: str, currency: str) -> Account | None:
        row = self.conn.execute(
            select(accounts).where(
                accounts.c.reference == reference, accounts.c.kind == kind, accounts.c.currency == currency
            )
        ).first()
        return None if row is None else _account(row)

    def transfers(self, transfer_ids: Iterable[str]) -> dict[str, Transfer]:
        wanted = [t for t in set(transfer_ids) if t]
        if not wanted:
            return {}
        rows = self.conn.execute(select(transfers).where(transfers.c.id.in_(wanted)))
        return {row.id: _transfer(row) for row in rows}

    def resolved(self, pending_ids: Iterable[str]) -> set[str]:
        wanted = [p for p in set(pending_ids) if p]
        if not wanted:
            return set()
        rows = self.conn.execute(select(transfers.c.pending_id).where(transfers.c.pending_id.in_(wanted)))
        return {row[0] for row in rows}

    def write(self, new_transfers: list[Transfer], deltas: dict[str, Totals], now: int) -> None:
        if new_transfers:
            self.conn.execute(
                insert(transfers),
                [
                    {
                        "id": t.id, "debit_account_id": t.debit_account, "credit_account_id": t.credit_account,
                        "amount": t.amount, "currency": t.currency, "kind": t.kind.value,
                        "pending_id": t.pending_id, "flow": t.flow, "created": now, "seq": ids.monotonic_micros(),
                    }
                    for t in new_transfers
                ],
            )
        for account_id, delta in sorted(deltas.items()):
            values = {c: getattr(accounts.c, c) + getattr(delta, c) for c in TOTAL_COLUMNS if getattr(delta, c)}
            if values:
                self.conn.execute(update(accounts).where(accounts.c.id == account_id).values(**values))

    def flow_transfers(self, flow: str) -> list[Transfer]:
        rows = self.conn.execute(select(transfers).where(transfers.c.flow == flow).order_by(transfers.c.seq))
        return [_transfer(row) for row in rows]

    def count(self) -> int:
        return self.conn.execute(select(func.count()).select_from(transfers)).scalar_one()


def _account(row) -> Account:
    return Account(row.id, row.currency, Totals(*(getattr(row, c) for c in TOTAL_COLUMNS)))


def _transfer(row) -> Transfer:
    return Transfer(
        id=row.id, debit_account=row.debit_account_id, credit_account=row.credit_account_id,
        amount=row.amount, currency=row.currency, kind=Kind(row.kind), pending_id=row.pending_id, flow=row.flow,
    )
