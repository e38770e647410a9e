"""Treasury transactions and entries: the user-visible trail of every ledger movement.

One ``treasury.transaction`` per business flow on a financial account (a
received credit, an authorization's holds…); one entry per step of that flow,
whose ``balance_impact`` is read off the ledger transfers of that step. A
transaction's ``amount`` is the sum of its entries' cash impact and its
``balance_impact`` the sum of theirs, so the API's balances always equal the
sum of the Treasury transactions' impacts.
"""

from __future__ import annotations

from typing import Any

from openissuing.domain.ledger import Impact
from openissuing.storage.uow import UnitOfWork
from openissuing.wire import registry

TRANSACTION = "treasury.transaction"
ENTRY = "treasury.transaction_entry"


def _impact(impact: Impact) -> dict[str, int]:
    return {
        "cash": impact.cash,
        "inbound_pending": impact.inbound_pending,
        "outbound_pending": impact.outbound_pending,
    }


def create(
    uow: UnitOfWork,
    owner: str,
    fa_id: str,
    currency: str,
    flow_type: str,
    flow: str,
    description: str,
    entry_type: str,
    impact: Impact,
    now: int,
    *,
    settle: str | None = None,
) -> dict[str, Any]:
    """A new transaction together with its first entry (two inserts, no update)."""
    record = _new_transaction(fa_id, currency, flow_type, flow, description, now)
    entry = _apply_entry(record, entry_type, impact, now, settle)
    uow.docs.insert(TRANSACTION, owner, record, _transaction_keys(record))
    _insert_entry(uow, owner, entry)
    return record


def _new_transaction(
    fa_id: str, currency: str, flow_type: str, flow: str, description: str, now: int
) -> dict[str, Any]:
    return {
        "id": registry.id_for(TRANSACTION),
        "object": TRANSACTION,
        "amount": 0,
        "balance_impact": _impact(Impact()),
        "created": now,
        "currency": currency,
        "description": description,
        "entries": None,
        "financial_account": fa_id,
        "flow": flow,
        "flow_details": None,
        "flow_type": flow_type,
        "livemode": False,
        "status": "open",
        "status_transitions": {"posted_at": None, "void_at": None},
    }


def add_entry(
    uow: UnitOfWork,
    owner: str,
    transaction: dict[str, Any],
    entry_type: str,
    impact: Impact,
    now: int,
    *,
    settle: str | None = None,
) -> dict[str, Any]:
    """Append one entry and update the transaction; ``settle`` = "posted" | "void" closes it."""
    entry = _apply_entry(transaction, entry_type, impact, now, settle)
    _insert_entry(uow, owner, entry)
    uow.docs.update(transaction, _transaction_keys(transaction))
    return entry


def _insert_entry(uow: UnitOfWork, owner: str, entry: dict[str, Any]) -> None:
    uow.docs.insert(
        ENTRY,
        owner,
        entry,
        {
            "financial_account": entry["financial_account"],
            "transaction": entry["transaction"],
        },
    )


def _apply_entry(
    transaction: dict[str, Any], entry_type: str, impact: Impact, now: int, settle: str | None
) -> dict[str, Any]:
    """The entry record, and its effect folded into the transaction (in memory)."""
    entry = {
        "id": registry.id_for(ENTRY),
        "object": ENTRY,
        "balance_impact": _impact(impact),
        "created": now,
        "currency": transaction["currency"],
        "effective_at": now,
        "financial_account": transaction["financial_account"],
        "flow": transaction["flow"],
        "flow_details": None,
        "flow_type": transaction["flow_type"],
        "livemode": False,
        "transaction": transaction["id"],
        "type": entry_type,
    }
    total = transaction["balance_impact"]
    for field, value in _impact(impact).items():
        total[field] += value
    transaction["amount"] += impact.cash
    if settle == "posted":
        transaction["status"] = "posted"
        transaction["status_transitions"]["posted_at"] = now
    elif settle == "void":
        transaction["status"] = "void"
        transaction["status_transitions"]["void_at"] = now
    return entry


def load_transaction(uow: UnitOfWork, owner: str, transaction_id: str) -> dict[str, Any] | None:
    return uow.docs.get(TRANSACTION, transaction_id, owner)


def _transaction_keys(record: dict[str, Any]) -> dict[str, str]:
    return {
        "financial_account": record["financial_account"],
        "status": record["status"],
        "flow": record["flow"],
    }
