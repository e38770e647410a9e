"""A two-phase, double-entry ledger in TigerBeetle's model (pure rules, no I/O).

Accounts keep four running totals; transfers move an amount from a debit
account to a credit account, either posted at once, or pending (a hold) and
later posted (fully or partly) or voided. Every transfer debits and credits
the same amount in one currency, so per currency the books always balance.

Rejections are named results, checked in a fixed precedence, and nothing is
changed unless every check passes (validate everything, then mutate).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace


class Kind(str, enum.Enum):
    POSTED = "posted"  # moves money now
    PENDING = "pending"  # reserves money (a hold) until posted or voided
    POST_PENDING = "post_pending"  # settles a pending transfer, for at most its amount
    VOID_PENDING = "void_pending"  # releases a pending transfer


class Result(str, enum.Enum):
    OK = "ok"
    EXISTS = "exists"  # same id, same fields: an idempotent retry
    EXISTS_WITH_DIFFERENT_FIELDS = "exists_with_different_fields"
    AMOUNT_MUST_BE_POSITIVE = "amount_must_be_positive"
    ACCOUNTS_MUST_BE_DIFFERENT = "accounts_must_be_different"
    CURRENCY_MISMATCH = "currency_mismatch"
    PENDING_ID_REQUIRED = "pending_id_required"
    PENDING_TRANSFER_NOT_FOUND = "pending_transfer_not_found"
    PENDING_TRANSFER_NOT_PENDING = "pending_transfer_not_pending"
    PENDING_TRANSFER_ALREADY_RESOLVED = "pending_transfer_already_resolved"
    PENDING_TRANSFER_HAS_DIFFERENT_ACCOUNTS = "pending_transfer_has_different_accounts"
    EXCEEDS_PENDING_AMOUNT = "exceeds_pending_amount"
    EXCEEDS_AVAILABLE = "exceeds_available"


@dataclass(frozen=True)
class Totals:
    debits_pending: int = 0
    debits_posted: int = 0
    credits_pending: int = 0
    credits_posted: int = 0

    @property
    def available(self) -> int:
        """What a credit-normal account may still spend (its cash): posted credits less posted
        and pending debits. The one cash formula; ``balance_of`` reads it from here."""
        return self.credits_posted - self.debits_posted - self.debits_pending


@dataclass(frozen=True)
class Account:
    id: str
    currency: str
    totals: Totals = Totals()


@dataclass(frozen=True)
class Transfer:
    id: str
    debit_account: str
    credit_account: str
    amount: int
    currency: str
    kind: Kind
    pending_id: str | None = None
    flow: str | None = None
    # Reject unless the debit account's available balance covers the amount.
    require_available: bool = False

    def same_fields(self, other: Transfer) -> bool:
        return replace(self, require_available=False) == replace(other, require_available=False)


def check(
    transfer: Transfer,
    debit: Account,
    credit: Account,
    existing: Transfer | None,
    pending: Transfer | None,
    pending_resolved: bool,
) -> Result:
    """The precedence of checks for one transfer, first failure wins."""
    if existing is not None:
        return (
            Result.EXISTS if existing.same_fields(transfer) else Result.EXISTS_WITH_DIFFERENT_FIELDS
        )
    if transfer.amount <= 0:
        return Result.AMOUNT_MUST_BE_POSITIVE
    if transfer.debit_account == transfer.credit_account:
        return Result.ACCOUNTS_MUST_BE_DIFFERENT
    if not (transfer.currency == debit.currency == credit.currency):
        return Result.CURRENCY_MISMATCH
    if transfer.kind in (Kind.POST_PENDING, Kind.VOID_PENDING):
        result = _check_resolution(transfer, pending, pending_resolved)
        if result is not Result.OK:
            return result
    if transfer.require_available and transfer.kind in (Kind.POSTED, Kind.PENDING):
        if debit.totals.available < transfer.amount:
            return Result.EXCEEDS_AVAILABLE
    return Result.OK


def _check_resolution(transfer: Transfer, pending: Transfer | None, resolved: bool) -> Result:
    if transfer.pending_id is None:
        return Result.PENDING_ID_REQUIRED
    if pending is None:
        return Result.PENDING_TRANSFER_NOT_FOUND
    if pending.kind is not Kind.PENDING:
        return Result.PENDING_TRANSFER_NOT_PENDING
    if resolved:
        return Result.PENDING_TRANSFER_ALREADY_RESOLVED
    if (pending.debit_account, pending.credit_account) != (
        transfer.debit_account,
        transfer.credit_account,
    ):
        return Result.PENDING_TRANSFER_HAS_DIFFERENT_ACCOUNTS
    if transfer.kind is Kind.POST_PENDING and transfer.amount > pending.amount:
        return Result.EXCEEDS_PENDING_AMOUNT
    return Result.OK


def effect(transfer: Transfer, pending: Transfer | None) -> tuple[Totals, Totals]:
    """The change to (debit account, credit account) totals; call only after check() is OK.

    Posting a pending transfer releases all of its pending amount and posts
    ``transfer.amount`` (at most that): the remainder goes back, as in TigerBeetle.
    """
    amount = transfer.amount
    if transfer.kind is Kind.POSTED:
        return Totals(debits_posted=amount), Totals(credits_posted=amount)
    if transfer.kind is Kind.PENDING:
        return Totals(debits_pending=amount), Totals(credits_pending=amount)
    held = pending.amount if pending is not None else 0
    if transfer.kind is Kind.POST_PENDING:
        return (
            Totals(debits_pending=-held, debits_posted=amount),
            Totals(credits_pending=-held, credits_posted=amount),
        )
    return Totals(debits_pending=-held), Totals(credits_pending=-held)


def add(a: Totals, b: Totals) -> Totals:
    return Totals(
        a.debits_pending + b.debits_pending,
        a.debits_posted + b.debits_posted,
        a.credits_pending + b.credits_pending,
        a.credits_posted + b.credits_posted,
    )


@dataclass(frozen=True)
class Impact:
    """A transfer's effect on a credit-normal (customer) account, in Treasury's terms."""

    cash: int = 0
    inbound_pending: int = 0
    outbound_pending: int = 0

    def __add__(self, other: Impact) -> Impact:
        return Impact(
            self.cash + other.cash,
            self.inbound_pending + other.inbound_pending,
            self.outbound_pending + other.outbound_pending,
        )


def balance_of(totals: Totals) -> Impact:
    """Treasury balances of a customer account: cash excludes money on hold."""
    return Impact(
        cash=totals.available,
        inbound_pending=totals.credits_pending,
        outbound_pending=totals.debits_pending,
    )


def impact_on(account_id: str, transfer: Transfer, pending: Transfer | None) -> Impact:
    """How one transfer moves ``account_id``'s Treasury balances (zero if not involved)."""
    debit_delta, credit_delta = effect(transfer, pending)
    impact = Impact()
    if transfer.debit_account == account_id:
        impact = impact + _impact_of_delta(debit_delta)
    if transfer.credit_account == account_id:
        impact = impact + _impact_of_delta(credit_delta)
    return impact


def _impact_of_delta(delta: Totals) -> Impact:
    before = balance_of(Totals())
    after = balance_of(delta)
    return Impact(
        after.cash - before.cash,
        after.inbound_pending - before.inbound_pending,
        after.outbound_pending - before.outbound_pending,
    )
