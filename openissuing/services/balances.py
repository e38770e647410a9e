"""Financial account balances, derived from the ledger and never stored.

The serializer (and any rule that needs "is this account empty?") asks here;
nothing reads a balance column, because there is none: the numbers are the
financial account's ledger account totals (see ``openissuing.domain.ledger``).
"""

from __future__ import annotations

from typing import Any

from openissuing.domain.ledger import Totals, balance_of
from openissuing.services import ledger
from openissuing.storage.uow import UnitOfWork

BALANCE_KINDS = ("cash", "inbound_pending", "outbound_pending")


def financial_account_balance(
    uow: UnitOfWork, fa_record: dict[str, Any]
) -> dict[str, dict[str, int]]:
    """``{"cash": {"usd": 0}, "inbound_pending": {...}, "outbound_pending": {...}}``.

    One key per supported currency.
    """
    balance: dict[str, dict[str, int]] = {kind: {} for kind in BALANCE_KINDS}
    for currency in fa_record["supported_currencies"]:
        derived = balance_of(_ledger_totals(uow, fa_record["id"], currency))
        for kind in BALANCE_KINDS:
            balance[kind][currency] = getattr(derived, kind)
    return balance


def cash(uow: UnitOfWork, fa_id: str, currency: str) -> int:
    """What the financial account can spend now (holds excluded)."""
    return balance_of(_ledger_totals(uow, fa_id, currency)).cash


def _ledger_totals(uow: UnitOfWork, fa_id: str, currency: str) -> Totals:
    account = ledger.store(uow).find_account(ledger.FINANCIAL_ACCOUNT, fa_id, currency)
    return Totals() if account is None else account.totals
