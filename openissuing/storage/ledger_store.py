"""SQL for the ledger: find-or-create accounts, lock them in id order, write transfers.

Locking: PostgreSQL rows are taken ``FOR UPDATE`` sorted by id, so two
transactions touching the same accounts queue instead of deadlocking; SQLite
already holds the database write lock (BEGIN IMMEDIATE).
"""

from __future__ import annotations

from typing import Iterable

import threading

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from openissuing import ids
from openissuing.domain.ledger import Account, Kind, Totals, Transfer
from openissuing.storage.tables import ledger_accounts as accounts
from openissuing.storage.tables import ledger_transfers as transfers

TOTAL_COLUMNS = ("debits_pending", "debits_posted", "credits_pending", "credits_posted")

_FIND_ID = select(accounts.c.id).where(
    accounts.c.reference == bindparam("reference"), accounts.c.kind == bindparam("kind"),
    accounts.c.currency == bindparam("currency"))
_FIND = select(accounts).where(
    accounts.c.reference == bindparam("reference"), accounts.c.kind == bindparam("kind"),
    accounts.c.currency == bindparam("currency"))
_READ = select(accounts).where(accounts.c.id.in_(bindparam("ids", expanding=True))).order_by(accounts.c.id)
_LOCK = _READ.with_for_update()
_TRANSFERS = select(transfers).where(transfers.c.id.in_(bindparam("ids", expanding=True)))
_RESOLVED = select(transfers.c.pending_id).where(transfers.c.pending_id.in_(bindparam("ids", expanding=True)))
_INSERT_TRANSFER = insert(transfers)
_ADD_TOTALS = update(accounts).where(accounts.c.id == bindparam("account_id")).values(
    **{c: getattr(accounts.c, c) + bindparam(f"d_{c}") for c in TOTAL_COLUMNS})

# Ledger account ids never change once committed, so lookups are cached per process.
_known_ids: dict[tuple[str, str, str, str], str] = {}
_known_lock = threading.Lock()


class LedgerStore:
    def __init__(self, conn: Connection, after_commit: list | None = None) -> None:
        self.conn = conn
        self._postgres = conn.dialect.name == "postgresql"
        self.after_commit = after_commit if after_commit is not None else []

    def ensure_account(self, kind: str, reference: str, currency: str, now: int) -> str:
        cache_key = (str(self.conn.engine.url), kind, reference, currency)
        cached = _known_ids.get(cache_key)
        if cached is not None:
            return cached
        found = self._account_id(kind, reference, currency)
        if found is not None:
            # Found by a read, it may still be this transaction's own insert: cache it
            # only once the transaction has committed.
            self._remember_after_commit(cache_key, found)
            return found
        dialect_insert = pg_insert if self._postgres else sqlite_insert
        statement = dialect_insert(accounts).values(
            id=ids.new_id("la"), kind=kind, reference=reference, currency=currency, created=now,
            **{column: 0 for column in TOTAL_COLUMNS},
        ).on_conflict_do_nothing(index_elements=["reference", "kind", "currency"])
        self.conn.execute(statement)
        # A concurrent creator may have won the race; either way, one row exists now.
        created = self._account_id(kind, reference, currency)
        self._remember_after_commit(cache_key, created)
        return created  # type: ignore[return-value]

    def _remember_after_commit(self, cache_key, account_id) -> None:
        def remember() -> None:
            with _known_lock:
                _known_ids[cache_key] = account_id

        self.after_commit.append(remember)

    def _account_id(self, kind: str, reference: str, currency: str) -> str | None:
        return self.conn.execute(
            _FIND_ID, {"reference": reference, "kind": kind, "currency": currency}).scalar_one_or_none()

    def lock(self, account_ids: Iterable[str]) -> dict[str, Account]:
        query = _LOCK if self._postgres else _READ
        return {row.id: _account(row) for row in self.conn.execute(query, {"ids": sorted(set(account_ids))})}

    def read(self, account_ids: Iterable[str]) -> dict[str, Account]:
        return {row.id: _account(row) for row in self.conn.execute(_READ, {"ids": list(account_ids)})}

    def find_account(self, kind: str, reference: str, currency: str) -> Account | None:
        row = self.conn.execute(_FIND, {"reference": reference, "kind": kind, "currency": currency}).first()
        return None if row is None else _account(row)

    def transfers(self, transfer_ids: Iterable[str]) -> dict[str, Transfer]:
        wanted = [t for t in set(transfer_ids) if t]
        if not wanted:
            return {}
        return {row.id: _transfer(row) for row in self.conn.execute(_TRANSFERS, {"ids": wanted})}

    def resolved(self, pending_ids: Iterable[str]) -> set[str]:
        wanted = [p for p in set(pending_ids) if p]
        if not wanted:
            return set()
        return {row[0] for row in self.conn.execute(_RESOLVED, {"ids": wanted})}

    def write(self, new_transfers: list[Transfer], deltas: dict[str, Totals], now: int) -> None:
        if new_transfers:
            self.conn.execute(
                _INSERT_TRANSFER,
                [
                    {
                        "id": t.id, "debit_account_id": t.debit_account, "credit_account_id": t.credit_account,
                        "amount": t.amount, "currency": t.currency, "kind": t.kind.value,
                        "pending_id": t.pending_id, "flow": t.flow, "created": now, "seq": ids.monotonic_micros(),
                    }
                    for t in new_transfers
                ],
            )
        changes = [
            {"account_id": account_id, **{f"d_{c}": getattr(delta, c) for c in TOTAL_COLUMNS}}
            for account_id, delta in sorted(deltas.items())
            if any(getattr(delta, c) for c in TOTAL_COLUMNS)
        ]
        if changes:
            self.conn.execute(_ADD_TOTALS, changes)

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
