"""The Issuing balance: what cards without a Treasury financial account spend.

It is a ledger account per (account, currency), credit-normal like a financial account's
(``issuing_balance``, reference = the owning account): its ``available`` is the ledger's one
cash formula (posted credits less posted and pending debits). Money moves through the money
primitive, between it and the account's ``card_network`` counterparty (holds, captures,
refunds, won disputes) or ``external_topup`` (top-ups, bank transfers). Where a Treasury-backed
card writes Treasury transactions and entries, this balance writes ``balance_transaction``
documents (``balance_type=issuing``), one per movement, their amounts read off the impact of
the batch that executed — so the balance transactions always sum to the balance.

The payments balance (``payments_balance``) is the same kind of ledger account; only plain
top-ups fund it here, since there are no charges.
"""

from __future__ import annotations

from typing import Any

from openissuing.domain import balances as rules
from openissuing.domain.ledger import Impact
from openissuing.domain.ledger import money as movements
from openissuing.domain.ledger.money import Pair
from openissuing.services import ledger, money
from openissuing.storage import balances as balance_store
from openissuing.storage.uow import UnitOfWork
from openissuing.wire import registry

ISSUING_BALANCE = "issuing_balance"
PAYMENTS_BALANCE = "payments_balance"
TOPUP_SOURCE = ledger.external("topup")
BT = "balance_transaction"
_KIND_OF = {rules.ISSUING: ISSUING_BALANCE, rules.PAYMENTS: PAYMENTS_BALANCE}
DEFAULT_CURRENCY = "usd"


def pair(uow: UnitOfWork, owner: str, currency: str, now: int) -> Pair:
    """The Issuing balance of ``owner`` in ``currency`` and its card network counterparty."""
    currency = currency.lower()
    customer = ledger.account_id(uow, ISSUING_BALANCE, owner, currency, now)
    counterparty = ledger.account_id(uow, ledger.CARD_NETWORK, owner, currency, now)
    return Pair(customer, counterparty, currency)


def available(uow: UnitOfWork, owner: str, currency: str) -> int:
    """What the Issuing balance can spend now (holds excluded); unlocked, a pre-check."""
    account = ledger.store(uow).find_account(ISSUING_BALANCE, owner, currency.lower())
    return 0 if account is None else account.totals.available


def note(
    uow: UnitOfWork,
    owner: str,
    kind: str,
    impact: Impact,
    currency: str,
    source: str,
    description: str | None,
    now: int,
    *,
    balance_type: str = rules.ISSUING,
) -> dict[str, Any] | None:
    """The balance transaction of a movement that executed (None when it moved nothing)."""
    if impact.cash == 0:
        return None
    record = rules.balance_transaction(
        registry.id_for(BT), balance_type, kind, impact.cash, currency, source, description, now
    )
    uow.docs.insert(BT, owner, record, rules.bt_keys(record))
    return record


# ------------------------------------------------------------------ authorizations


def hold_description(record: dict[str, Any]) -> str:
    return f"{record['merchant_data'].get('name') or 'Card'} | Issuing authorization"


def note_hold(
    uow: UnitOfWork, owner: str, record: dict[str, Any], impact: Impact, now: int
) -> None:
    """An authorization's hold moved by ``impact``: its hold or release balance transaction,
    kept (whole, as Stripe shows it) in ``authorization.balance_transactions``."""
    kind = "issuing_authorization_hold" if impact.cash < 0 else "issuing_authorization_release"
    bt = note(
        uow, owner, kind, impact, record["currency"], record["id"], hold_description(record), now
    )
    if bt is not None:
        record["balance_transactions"].append(bt)


# ------------------------------------------------------------------ transactions and disputes


def settle_transaction(
    uow: UnitOfWork, owner: str, txn: dict[str, Any], amount: int, currency: str, now: int
) -> None:
    """A capture debits the Issuing balance (it may go negative, as on Stripe: the merchant is
    paid regardless); a refund credits it. Sets ``txn.balance_transaction``."""
    txn["treasury"] = None  # not Treasury-backed, as Stripe shows such a transaction
    money_pair = pair(uow, owner, currency, now)
    if txn["type"] == "capture":
        batch = movements.debit(
            money_pair, f"{txn['id']}:debit", amount, txn["id"], require_available=False
        )
    else:
        batch = movements.credit(money_pair, f"{txn['id']}:credit", amount, txn["id"])
    impact = money.execute(uow, money_pair, batch, now)
    name = txn["merchant_data"].get("name") or "Card"
    bt = note(
        uow,
        owner,
        "issuing_transaction",
        impact,
        currency,
        txn["id"],
        f"{name} | Issuing {txn['type']}",
        now,
    )
    txn["balance_transaction"] = None if bt is None else bt["id"]


def credit_won_dispute(uow: UnitOfWork, owner: str, dispute: dict[str, Any], now: int) -> None:
    """A won dispute gives the disputed amount back to the Issuing balance."""
    money_pair = pair(uow, owner, dispute["currency"], now)
    batch = movements.credit(money_pair, f"{dispute['id']}:won", dispute["amount"], dispute["id"])
    impact = money.execute(uow, money_pair, batch, now)
    bt = note(
        uow,
        owner,
        "issuing_dispute",
        impact,
        dispute["currency"],
        dispute["id"],
        "Issuing dispute won",
        now,
    )
    if bt is not None:
        dispute["balance_transactions"].append(bt)


# ------------------------------------------------------------------ top-ups


def fund(
    uow: UnitOfWork,
    owner: str,
    destination: str,
    currency: str,
    amount: int,
    source: str,
    description: str | None,
    now: int,
) -> dict[str, Any]:
    """Money from outside Stripe into ``destination`` (issuing | payments); its ``topup`` BT."""
    currency = currency.lower()
    customer = ledger.account_id(uow, _KIND_OF[destination], owner, currency, now)
    outside = ledger.account_id(uow, TOPUP_SOURCE, owner, currency, now)
    money_pair = Pair(customer, outside, currency)
    batch = movements.credit(money_pair, f"{source}:funds", amount, source)
    impact = money.execute(uow, money_pair, batch, now)
    bt = note(
        uow, owner, "topup", impact, currency, source, description, now, balance_type=destination
    )
    if bt is None:
        raise money.LedgerBug(f"top-up {source} moved nothing")
    return bt


# ------------------------------------------------------------------ /v1/balance


def _entry(amount: int, currency: str, source_types: bool = True) -> dict[str, Any]:
    entry: dict[str, Any] = {"amount": amount, "currency": currency}
    if source_types:
        entry["source_types"] = {"bank_account": amount, "card": 0, "fpx": 0}
    return entry


def balance(uow: UnitOfWork, owner: str) -> dict[str, Any]:
    """The ``balance`` object of ``owner``: one entry per currency it holds money in (at least
    the default currency), every amount read off the ledger."""
    found = balance_store.totals_of(uow.docs.raw, owner, (ISSUING_BALANCE, PAYMENTS_BALANCE))
    issuing: dict[str, int] = {}
    payments: dict[str, int] = {}
    for kind, currency, totals in found:
        (issuing if kind == ISSUING_BALANCE else payments)[currency] = totals.available
    currencies = sorted(set(issuing) | set(payments)) or [DEFAULT_CURRENCY]
    zero = [_entry(0, c) for c in currencies]
    return {
        "object": "balance",
        "available": [_entry(payments.get(c, 0), c) for c in currencies],
        "connect_reserved": [_entry(0, c) for c in currencies],
        "instant_available": [
            {**_entry(payments.get(c, 0), c), "net_available": []} for c in currencies
        ],
        "issuing": {"available": [_entry(issuing.get(c, 0), c) for c in currencies]},
        "livemode": False,
        "pending": zero,
        "refund_and_dispute_prefunding": {"available": zero, "pending": zero},
    }
