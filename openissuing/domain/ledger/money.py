"""Money movements as values (pure): the ledger batches every flow is made of.

A flow moves money between two ledger accounts, a ``Pair``: the customer's
(a financial account, credit-normal) and a counterparty's (the card network,
an external network). Each function here returns the transfers of one step —
Formance's "postings as values" — and nothing happens until the service layer
executes them (``openissuing.services.money``), once, as one batch:

=========  ===========================================================
hold       reserve ``amount`` of the customer's cash (a pending transfer)
expect     money on its way in: a pending credit (the customer's inbound_pending)
resize     replace the live hold by one of a new amount (0 releases it)
settle     post a hold, fully or partly; the rest of it is released
release    void a hold
           (``incoming=True``: the hold is an ``expect``, money coming in)
debit      move money out now (posted, customer -> counterparty)
credit     move money in now (posted, counterparty -> customer)
reverse    undo a posted transfer with a new one in the other direction
=========  ===========================================================

``require_available`` makes the ledger refuse a debit or hold the customer's
cash cannot cover (``Result.EXCEEDS_AVAILABLE``): the check and the movement
are one locked step, so two flows never spend the same money.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from openissuing.domain.ledger import Impact, Kind, Transfer, impact_on


@dataclass(frozen=True)
class Pair:
    customer: str  # the financial account's ledger account
    counterparty: str  # card_network / external_<network>
    currency: str


@dataclass(frozen=True)
class Hold:
    """A live hold, as a flow's record remembers it."""

    id: str
    amount: int


@dataclass(frozen=True)
class Batch:
    """Transfers to execute together, and the holds they resolve (for their impacts)."""

    transfers: tuple[Transfer, ...] = ()
    resolves: dict[str, Transfer] = field(default_factory=dict)

    def __add__(self, other: Batch) -> Batch:
        return Batch(self.transfers + other.transfers, {**self.resolves, **other.resolves})

    def impact(self, account_id: str) -> Impact:
        """The customer's Treasury impact if every transfer applies (none is a retry)."""
        total = Impact()
        for transfer in self.transfers:
            pending = self.resolves.get(transfer.pending_id or "")
            total = total + impact_on(account_id, transfer, pending)
        return total


def _direction(pair: Pair, incoming: bool) -> tuple[str, str]:
    """(debit account, credit account): money out of the customer, or into it."""
    return (pair.counterparty, pair.customer) if incoming else (pair.customer, pair.counterparty)


def _pending(pair: Pair, hold: Hold, flow: str, incoming: bool = False) -> Transfer:
    debit_account, credit_account = _direction(pair, incoming)
    return Transfer(
        hold.id,
        debit_account,
        credit_account,
        hold.amount,
        pair.currency,
        Kind.PENDING,
        None,
        flow,
    )


def hold(pair: Pair, hold_id: str, amount: int, flow: str, *, require_available: bool) -> Batch:
    transfer = Transfer(
        id=hold_id,
        debit_account=pair.customer,
        credit_account=pair.counterparty,
        amount=amount,
        currency=pair.currency,
        kind=Kind.PENDING,
        flow=flow,
        require_available=require_available,
    )
    return Batch((transfer,))


def expect(pair: Pair, hold_id: str, amount: int, flow: str) -> Batch:
    """Money announced but not arrived: a pending credit, the customer's ``inbound_pending``
    (not spendable). ``settle(..., incoming=True)`` makes it cash, ``release`` drops it."""
    return Batch((_pending(pair, Hold(hold_id, amount), flow, incoming=True),))


def release(pair: Pair, live: Hold, flow: str, *, incoming: bool = False) -> Batch:
    debit_account, credit_account = _direction(pair, incoming)
    transfer = Transfer(
        id=f"{live.id}:void",
        debit_account=debit_account,
        credit_account=credit_account,
        amount=live.amount,
        currency=pair.currency,
        kind=Kind.VOID_PENDING,
        pending_id=live.id,
        flow=flow,
    )
    return Batch((transfer,), {live.id: _pending(pair, live, flow, incoming)})


def settle(pair: Pair, live: Hold, amount: int, flow: str, *, incoming: bool = False) -> Batch:
    """Post ``amount`` (at most the hold) of a hold; the ledger releases the remainder."""
    debit_account, credit_account = _direction(pair, incoming)
    transfer = Transfer(
        id=f"{live.id}:post",
        debit_account=debit_account,
        credit_account=credit_account,
        amount=amount,
        currency=pair.currency,
        kind=Kind.POST_PENDING,
        pending_id=live.id,
        flow=flow,
    )
    return Batch((transfer,), {live.id: _pending(pair, live, flow, incoming)})


def resize(
    pair: Pair,
    live: Hold | None,
    new: Hold | None,
    flow: str,
    *,
    require_available: bool,
) -> Batch:
    """Void the live hold (if any) and place ``new`` (if any) in one batch.

    Void first: the new hold's funds check then sees the old one released, so
    growing a hold only needs the difference to be available.
    """
    batch = Batch() if live is None else release(pair, live, flow)
    if new is not None and new.amount > 0:
        batch = batch + hold(pair, new.id, new.amount, flow, require_available=require_available)
    return batch


def _posted(
    debit_account: str,
    credit_account: str,
    currency: str,
    transfer_id: str,
    amount: int,
    flow: str,
    *,
    require_available: bool = False,
) -> Batch:
    return Batch(
        (
            Transfer(
                id=transfer_id,
                debit_account=debit_account,
                credit_account=credit_account,
                amount=amount,
                currency=currency,
                kind=Kind.POSTED,
                flow=flow,
                require_available=require_available,
            ),
        )
    )


def debit(
    pair: Pair, transfer_id: str, amount: int, flow: str, *, require_available: bool
) -> Batch:
    """Money leaves the customer's account now (``require_available``: only if its cash has it)."""
    return _posted(
        pair.customer,
        pair.counterparty,
        pair.currency,
        transfer_id,
        amount,
        flow,
        require_available=require_available,
    )


def credit(pair: Pair, transfer_id: str, amount: int, flow: str) -> Batch:
    """Money arrives in the customer's account now."""
    return _posted(pair.counterparty, pair.customer, pair.currency, transfer_id, amount, flow)


def reverse(original: Transfer, transfer_id: str, amount: int, flow: str) -> Batch:
    """A new posted transfer undoing (part of) ``original``: transfers are never changed."""
    return _posted(
        original.credit_account,
        original.debit_account,
        original.currency,
        transfer_id,
        amount,
        flow,
    )
