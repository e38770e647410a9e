"""The money primitive: every flow moves money through here, and only through here.

A flow builds its step as a value (``openissuing.domain.ledger.money``: hold,
resize, settle, release, debit, credit, reverse), then asks this module to
execute it — once, as one ledger batch — and to write the Treasury trail
(``services.treasury_records``) from the impact of the batch that executed.

Failures: the ledger's one *expected* rejection, a debit or hold the cash
cannot cover, becomes ``InsufficientFunds``; a flow that declines instead of
failing catches exactly that class. Any other rejection (a duplicate id with
different fields, a hold resolved twice…) is a bug in the flow, raised as
``LedgerBug``: the request answers a logged 500, never a customer decline.

The worked example of a new flow is in docs/ARCHITECTURE.md ("Money").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from openissuing.domain.errors import InsufficientFunds
from openissuing.domain.ledger import Impact, Result
from openissuing.domain.ledger.money import Batch, Pair
from openissuing.services import ledger, treasury_records
from openissuing.storage.uow import RunAgain, UnitOfWork

CARD = "card"


class LedgerBug(RuntimeError):
    """A ledger rejection no client can cause: a programming error (answers 500)."""


def pair(uow: UnitOfWork, owner: str, fa_id: str, currency: str, network: str, now: int) -> Pair:
    """The financial account's ledger account and its counterparty on ``network``.

    Counterparty accounts are per connected account (``owner``), so unrelated
    accounts never contend for one ledger row.
    """
    kind = ledger.CARD_NETWORK if network == CARD else ledger.external(network)
    customer = ledger.account_id(uow, ledger.FINANCIAL_ACCOUNT, fa_id, currency, now)
    counterparty = ledger.account_id(uow, kind, owner, currency, now)
    return Pair(customer, counterparty, currency.lower())


def execute(uow: UnitOfWork, money: Pair, batch: Batch, now: int) -> Impact:
    """Apply ``batch`` (all or nothing); returns the customer's impact of what was applied."""
    transfers = list(batch.transfers)
    if not transfers:
        return Impact()
    try:
        outcome = ledger.execute(uow, transfers, now)
    except ledger.LedgerRejected as rejected:
        if rejected.result is Result.EXCEEDS_AVAILABLE:
            raise InsufficientFunds() from None
        raise LedgerBug(str(rejected)) from rejected
    return outcome.impact_on(money.customer, transfers)


def execute_last(uow: UnitOfWork, money: Pair, batch: Batch, now: int) -> None:
    """Apply a batch whose effects the caller has already written (from ``batch.impact``).

    Used where the batch must run *last* so the financial account's ledger row
    lock (taken by the batch) is held only until the commit right after. The
    caller pre-checked the cash without the lock; if the locked check now says
    insufficient, a concurrent flow took the cash in between. Rather than undo
    the writes in place (a savepoint and a restored dict), the whole unit of
    work is rolled back and run again: the re-run's pre-check, seeing the other
    flow's committed hold, declines.
    """
    try:
        outcome = ledger.execute(uow, list(batch.transfers), now)
    except ledger.LedgerRejected as rejected:
        if rejected.result is Result.EXCEEDS_AVAILABLE:
            raise RunAgain("lost the race for the financial account's cash") from None
        raise LedgerBug(str(rejected)) from rejected
    if any(result is not Result.OK for result in outcome.results):
        raise LedgerBug(f"batch written from its impact was a retry: {outcome.results}")


@dataclass(frozen=True)
class Trail:
    """The Treasury transaction a flow opens: who, what, and its first entry's type."""

    owner: str
    fa_id: str
    flow_type: str
    flow: str
    description: str
    entry_type: str


def open_transaction(
    uow: UnitOfWork, trail: Trail, money: Pair, impact: Impact, now: int, *, posted: bool
) -> dict[str, Any]:
    """The flow's Treasury transaction with its first entry, for an impact already known."""
    return treasury_records.create(
        uow,
        trail.owner,
        trail.fa_id,
        money.currency,
        trail.flow_type,
        trail.flow,
        trail.description,
        trail.entry_type,
        impact,
        now,
        settle="posted" if posted else None,
    )


def post(uow: UnitOfWork, trail: Trail, money: Pair, batch: Batch, now: int) -> dict[str, Any]:
    """Execute a batch that completes a flow at once, and its posted Treasury transaction."""
    impact = execute(uow, money, batch, now)
    return open_transaction(uow, trail, money, impact, now, posted=True)


def step(
    uow: UnitOfWork,
    owner: str,
    transaction_id: str | None,
    money: Pair,
    batch: Batch,
    now: int,
    *,
    held: str,
    released: str,
    closing: bool = False,
    posting: bool = False,
) -> Impact:
    """Execute a later step of an open flow and add its entry to the flow's transaction.

    The entry is ``held`` when the step took cash, ``released`` when it gave
    cash back. ``posting`` (a settle) posts the transaction; a ``closing`` step
    that brings it back to 0 (everything released) voids it.
    """
    impact = execute(uow, money, batch, now)
    if transaction_id is None or impact == Impact():
        return impact
    trxn = treasury_records.load_transaction(uow, owner, transaction_id)
    if trxn is None:
        raise LedgerBug(f"treasury transaction {transaction_id} is missing")
    entry_type = held if impact.cash < 0 else released
    settle = None
    if posting:
        settle = "posted"
    elif closing and trxn["amount"] + impact.cash == 0:
        settle = "void"
    treasury_records.add_entry(uow, owner, trxn, entry_type, impact, now, settle=settle)
    return impact
