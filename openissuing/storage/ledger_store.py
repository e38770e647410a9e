"""SQL for the ledger: find-or-create accounts, lock them in id order, write transfers.

Locking: PostgreSQL rows are taken ``FOR UPDATE`` sorted by id, so two
transactions touching the same accounts queue instead of deadlocking; SQLite
already holds the database write lock (BEGIN IMMEDIATE).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from openissuing import ids
from openissuing.domain.ledger import Account, Kind, Totals, Transfer
from openissuing.storage.db import is_serializable
from openissuing.storage.raw import Raw, placeholders
from openissuing.storage.tables import ledger_accounts as accounts

TOTAL_COLUMNS = ("debits_pending", "debits_posted", "credits_pending", "credits_posted")

_ACCOUNT_COLUMNS = "id, currency, debits_pending, debits_posted, credits_pending, credits_posted"
_FIND_ID_SQL = "SELECT id FROM ledger_accounts WHERE reference = ? AND kind = ? AND currency = ?"
_FIND_SQL = (
    f"SELECT {_ACCOUNT_COLUMNS} FROM ledger_accounts WHERE reference = ? AND kind = ? AND currency "
    "= ?"
)
_READ_SQL = f"SELECT {_ACCOUNT_COLUMNS} FROM ledger_accounts WHERE id IN ({{}}) ORDER BY id"
_TRANSFER_COLUMNS = (
    "id, debit_account_id, credit_account_id, amount, currency, kind, pending_id, flow"
)
_TRANSFERS_SQL = f"SELECT {_TRANSFER_COLUMNS} FROM ledger_transfers WHERE id IN ({{}})"
_INSERT_TRANSFER_SQL = (
    "INSERT INTO ledger_transfers (id, debit_account_id, credit_account_id, amount, currency, "
    "kind, "
    "pending_id, flow, created, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_ADD_TOTALS_SQL = (
    "UPDATE ledger_accounts SET debits_pending = debits_pending + ?, debits_posted = "
    "debits_posted + ?, "
    "credits_pending = credits_pending + ?, credits_posted = credits_posted + ? WHERE id = ?"
)
_ADVISORY_LOCK_SQL = "SELECT pg_advisory_xact_lock(?)"
# Ledger account ids never change once committed, so lookups are cached per process.
_known_ids: dict[tuple[str, str, str, str], str] = {}
_known_lock = threading.Lock()


class LedgerStore:
    def __init__(
        self, conn: Connection, after_commit: list[Callable[[], None]] | None = None
    ) -> None:
        self.conn = conn
        self.raw = Raw(conn)
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
        statement = (
            dialect_insert(accounts)
            .values(
                id=ids.new_id("la"),
                kind=kind,
                reference=reference,
                currency=currency,
                created=now,
                **{column: 0 for column in TOTAL_COLUMNS},
            )
            .on_conflict_do_nothing(index_elements=["reference", "kind", "currency"])
        )
        self.conn.execute(statement)
        # A concurrent creator may have won the race; either way, one row exists now.
        created = self._account_id(kind, reference, currency)
        if created is None:  # the insert or the concurrent one committed a row: cannot happen
            raise RuntimeError(f"no ledger account for {kind} {reference} {currency}")
        self._remember_after_commit(cache_key, created)
        return created

    def _remember_after_commit(self, cache_key: tuple[str, str, str, str], account_id: str) -> None:
        def remember() -> None:
            with _known_lock:
                _known_ids[cache_key] = account_id

        self.after_commit.append(remember)

    def _account_id(self, kind: str, reference: str, currency: str) -> str | None:
        row = self.raw.one(_FIND_ID_SQL, (reference, kind, currency), independent=True)
        return None if row is None else row[0]

    def lock(self, account_ids: Iterable[str]) -> dict[str, Account]:
        wanted = sorted(set(account_ids))
        sql = _READ_SQL.format(placeholders(len(wanted))) + (
            " FOR UPDATE" if self._postgres else ""
        )
        if self._postgres and _fair_queueing(self.conn):
            # PostgreSQL queues row-lock waiters unfairly: under contention a newcomer can take a
            # freed row ahead of older waiters, and tails reach seconds. Advisory locks queue in
            # order, so taking one per account first (same sorted order) makes the wait fair; the
            # row lock below is what keeps the books correct either way. One round trip for
            # all of them (pipeline mode): the server still runs them one after the other.
            with self.raw.dbapi.pipeline():
                cursors = [
                    self.raw.execute(_ADVISORY_LOCK_SQL, (_lock_key(a),), independent=True)
                    for a in wanted
                ]
                cursor = self.raw.execute(sql, wanted, independent=True)
            rows = cursor.fetchall()
            for done in (*cursors, cursor):
                done.close()
        else:
            rows = self.raw.all(sql, wanted, independent=True)
        return {row[0]: _account_tuple(row) for row in rows}

    def read(self, account_ids: Iterable[str]) -> dict[str, Account]:
        """Accounts without locking them (reports and tests)."""
        wanted = list(account_ids)
        return {
            row[0]: _account_tuple(row)
            for row in self.raw.all(
                _READ_SQL.format(placeholders(len(wanted))), wanted, independent=True
            )
        }

    def count(self) -> int:
        row = self.raw.one("SELECT COUNT(*) FROM ledger_transfers")
        return 0 if row is None else int(row[0])

    def find_account(self, kind: str, reference: str, currency: str) -> Account | None:
        row = self.raw.one(_FIND_SQL, (reference, kind, currency), independent=True)
        return None if row is None else _account_tuple(row)

    def transfers(self, transfer_ids: Iterable[str]) -> dict[str, Transfer]:
        wanted = [t for t in set(transfer_ids) if t]
        if not wanted:
            return {}
        sql = _TRANSFERS_SQL.format(placeholders(len(wanted)))
        return {row[0]: _transfer_tuple(row) for row in self.raw.all(sql, wanted, independent=True)}

    def resolved(self, pending_ids: Iterable[str]) -> set[str]:
        wanted = [p for p in set(pending_ids) if p]
        if not wanted:
            return set()
        sql = (
            "SELECT pending_id FROM ledger_transfers WHERE pending_id IN "
            f"({placeholders(len(wanted))})"
        )
        return {row[0] for row in self.raw.all(sql, wanted, independent=True)}

    def write(self, new_transfers: list[Transfer], deltas: dict[str, Totals], now: int) -> None:
        if self._postgres:
            with self.raw.dbapi.pipeline():  # the transfers and the totals in one round trip
                self._write(new_transfers, deltas, now)
        else:
            self._write(new_transfers, deltas, now)

    def _write(self, new_transfers: list[Transfer], deltas: dict[str, Totals], now: int) -> None:
        if new_transfers:
            self.raw.executemany(
                _INSERT_TRANSFER_SQL,
                [
                    (
                        t.id,
                        t.debit_account,
                        t.credit_account,
                        t.amount,
                        t.currency,
                        t.kind.value,
                        t.pending_id,
                        t.flow,
                        now,
                        ids.monotonic_micros(),
                    )
                    for t in new_transfers
                ],
                independent=True,
            )
        changes = [
            (*(getattr(delta, c) for c in TOTAL_COLUMNS), account_id)
            for account_id, delta in sorted(deltas.items())
            if any(getattr(delta, c) for c in TOTAL_COLUMNS)
        ]
        if changes:
            self.raw.executemany(_ADD_TOTALS_SQL, changes, independent=True)

    def flow_transfers(self, flow: str) -> list[Transfer]:
        rows = self.raw.all(
            f"SELECT {_TRANSFER_COLUMNS} FROM ledger_transfers WHERE flow = ? ORDER BY seq", (flow,)
        )
        return [_transfer_tuple(row) for row in rows]


def _lock_key(account_id: str) -> int:
    """A stable signed 64-bit key for an account's advisory lock."""
    return int.from_bytes(
        hashlib.blake2b(account_id.encode(), digest_size=8).digest(), "big", signed=True
    )


def _fair_queueing(conn: Connection) -> bool:
    """Advisory locks exist on PostgreSQL proper, not on every Postgres-compatible engine; the
    SERIALIZABLE-only mode (``OPENISSUING_ISOLATION=serializable``) never takes them, so PostgreSQL
    in that mode runs what CockroachDB and YugabyteDB would."""
    if is_serializable(conn.engine):
        return False
    cached = _ADVISORY.get(id(conn.engine))
    if cached is None:
        banner = conn.exec_driver_sql("SELECT version()").scalar() or ""
        cached = _ADVISORY[id(conn.engine)] = "PostgreSQL" in banner and "Cockroach" not in banner
    return cached


_ADVISORY: dict[int, bool] = {}


def _account_tuple(row: tuple[Any, ...]) -> Account:
    return Account(row[0], row[1], Totals(*row[2:6]))


def _transfer_tuple(row: tuple[Any, ...]) -> Transfer:
    return Transfer(
        id=row[0],
        debit_account=row[1],
        credit_account=row[2],
        amount=row[3],
        currency=row[4],
        kind=Kind(row[5]),
        pending_id=row[6],
        flow=row[7],
    )
