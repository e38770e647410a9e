"""The ledger's verification: the database's own answer to "do the books balance?".

Run by ``openissuing check-ledger`` and after test suites. ``audit`` returns
human-readable discrepancies; an empty list means the ledger is sound.

It must *report* whatever it finds, never crash on it: the database may hold
rows no correct code wrote (a SQLite column keeps whatever type it is given, so
an amount can be text or a float that overflowed 64 bits; a row can be hand-edited).
So the totals are recomputed here in Python, with exact integers, from one
streamed read of each table — a SQL ``SUM`` would raise "integer overflow" on
SQLite (or silently turn numeric on PostgreSQL) exactly when the books are most
wrong. Every value is checked to be an integer in range before it is used.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

# Every stored total and amount must fit a signed 64-bit column with room to spare
# (see migration 0004: the database refuses anything above this bound).
MAX_TOTAL = 2**62
TOTALS = ("debits_pending", "debits_posted", "credits_pending", "credits_posted")
KINDS = ("posted", "pending", "post_pending", "void_pending")

_ACCOUNTS = (
    "SELECT id, currency, debits_pending, debits_posted, credits_pending, credits_posted "
    "FROM ledger_accounts ORDER BY id"
)
_TRANSFERS = (
    "SELECT id, debit_account_id, credit_account_id, amount, currency, kind, pending_id "
    "FROM ledger_transfers"
)


@dataclass
class _Recomputed:
    """Totals per account and per currency rebuilt from the transfers."""

    accounts: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0] * 4))
    problems: list[str] = field(default_factory=list)


def _integer(value: object) -> int | None:
    """The value as an exact integer in range, or None (text, float, NULL, too large)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if -MAX_TOTAL <= value <= MAX_TOTAL else None


def audit(conn: Connection) -> list[str]:
    accounts = {}
    problems: list[str] = []
    for row in conn.execute(text(_ACCOUNTS)):
        account_id, currency, stored = row[0], row[1], row[2:6]
        values = []
        for name, value in zip(TOTALS, stored, strict=True):
            number = _integer(value)
            if number is None or number < 0:
                problems.append(
                    f"account {account_id}: stored {name}={value!r} is not an integer "
                    f"between 0 and {MAX_TOTAL}"
                )
            values.append(number)
        accounts[account_id] = (currency, values)
    recomputed = _recompute(conn, accounts)
    problems.extend(recomputed.problems)
    problems.extend(_compare(accounts, recomputed))
    return problems


def _recompute(conn: Connection, accounts: dict[str, Any]) -> _Recomputed:
    """One pass over the transfers: what each account's totals should be."""
    out = _Recomputed()
    transfers: dict[str, tuple[Any, ...]] = {}
    for row in conn.execute(text(_TRANSFERS)):
        transfer_id, debit, credit, amount, currency, kind, pending_id = row
        number = _integer(amount)
        if number is None or number <= 0:
            out.problems.append(
                f"transfer {transfer_id}: amount {amount!r} is not a positive integer "
                f"up to {MAX_TOTAL}"
            )
            continue
        if kind not in KINDS:
            out.problems.append(f"transfer {transfer_id}: unknown kind {kind!r}")
            continue
        if debit not in accounts or credit not in accounts:
            out.problems.append(f"transfer {transfer_id}: names an account that does not exist")
            continue
        if accounts[debit][0] != currency or accounts[credit][0] != currency:
            out.problems.append(f"transfer {transfer_id}: currency differs from its accounts'")
        transfers[transfer_id] = (debit, credit, number, kind, pending_id)
    resolved = {t[4] for t in transfers.values() if t[4] is not None}
    for transfer_id, (debit, credit, amount, kind, pending_id) in transfers.items():
        if kind in ("posted", "post_pending"):
            out.accounts[debit][1] += amount
            out.accounts[credit][3] += amount
        elif kind == "pending" and transfer_id not in resolved:
            out.accounts[debit][0] += amount
            out.accounts[credit][2] += amount
        if pending_id is not None:
            out.problems.extend(_resolution(transfer_id, transfers, pending_id))
    return out


def _resolution(
    transfer_id: str, transfers: dict[str, tuple[Any, ...]], pending_id: str
) -> list[str]:
    debit, credit, amount, kind, _ = transfers[transfer_id]
    pending = transfers.get(pending_id)
    if pending is None:
        return [f"transfer {transfer_id}: resolves {pending_id}, which is missing or malformed"]
    if (
        pending[3] != "pending"
        or (debit, credit) != pending[:2]
        or (kind == "post_pending" and amount > pending[2])
    ):
        return [f"transfer {transfer_id}: resolves a pending transfer it does not match"]
    return []


def _compare(accounts: dict[str, Any], recomputed: _Recomputed) -> list[str]:
    problems: list[str] = []
    per_currency: dict[str, list[int]] = defaultdict(lambda: [0] * 4)
    for account_id, (currency, stored) in accounts.items():
        want = recomputed.accounts.get(account_id, [0] * 4)
        for index, name in enumerate(TOTALS):
            # The stored totals must balance per currency too (as the old SQL checked).
            per_currency[currency][index] += stored[index] or 0
            if stored[index] is not None and stored[index] != want[index]:
                problems.append(
                    f"account {account_id}: stored {name}={stored[index]} "
                    f"but its transfers sum to {want[index]}"
                )
            elif want[index] > MAX_TOTAL:
                problems.append(
                    f"account {account_id}: its transfers sum {name} to {want[index]}, "
                    f"beyond the bound {MAX_TOTAL}"
                )
    for currency, (dp, dpo, cp, cpo) in sorted(per_currency.items()):
        if dp != cp:
            problems.append(f"{currency}: pending debits {dp} != pending credits {cp}")
        if dpo != cpo:
            problems.append(f"{currency}: posted debits {dpo} != posted credits {cpo}")
    return problems
