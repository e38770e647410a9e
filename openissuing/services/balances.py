"""Financial account balances, derived from the ledger and never stored.

The serializer (and any rule that needs "is this account empty?") asks here;
nothing reads a balance column, because there is none.
"""

from __future__ import annotations

from typing import Any

from openissuing.domain.treasury.financial_accounts import LedgerTotals, balance_from_totals
from openissuing.storage.uow import UnitOfWork

BALANCE_KINDS = ("cash", "inbound_pending", "outbound_pending")


def financial_account_balance(uow: UnitOfWork, fa_record: dict[str, Any]) -> dict[str, dict[str, int]]:
    """``{"cash": {"usd": 0}, "inbound_pending": {...}, "outbound_pending": {...}}``, one key per supported currency."""
    balance: dict[str, dict[str, int]] = {kind: {} for kind in BALANCE_KINDS}
    for currency in fa_record["supported_currencies"]:
        derived = balance_from_totals(_ledger_totals(uow, fa_record["id"], currency))
        for kind in BALANCE_KINDS:
            balance[kind][currency] = derived[kind]
    return balance


def _ledger_totals(uow: UnitOfWork, fa_id: str, currency: str) -> LedgerTotals:
    """No ledger yet, so every total is zero; the ledger milestone replaces this with a read of the FA's ledger account."""
    return LedgerTotals(debits_pending=0, debits_posted=0, credits_pending=0, credits_posted=0)
