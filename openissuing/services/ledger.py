"""Executing transfers: all of a batch or none of it, inside the caller's transaction.

``execute`` locks every account the batch touches (sorted), checks each
transfer in order against the state the earlier ones leave, and writes only if
every check passed. Retried transfers (same id, same fields) are no-ops.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from openissuing import observability
from openissuing.domain import ledger
from openissuing.domain.ledger import Account, Kind, Result, Totals, Transfer
from openissuing.storage.ledger_store import LedgerStore
from openissuing.storage.uow import UnitOfWork

FINANCIAL_ACCOUNT = "financial_account"
CARD_NETWORK = "card_network"


def external(network: str) -> str:
    return f"external_{network}"


class LedgerRejected(Exception):
    """A batch could not be applied; nothing was written."""

    def __init__(self, transfer: Transfer, result: Result) -> None:
        super().__init__(f"transfer {transfer.id}: {result.value}")
        self.transfer = transfer
        self.result = result


@dataclass
class Outcome:
    results: list[Result]
    # The pending transfer each post/void resolved, for Treasury balance impacts.
    pendings: dict[str, Transfer] = field(default_factory=dict)

    def impact_on(self, account_id: str, batch: list[Transfer]) -> ledger.Impact:
        total = ledger.Impact()
        for transfer, result in zip(batch, self.results, strict=True):
            if result is Result.OK:
                total = total + ledger.impact_on(
                    account_id, transfer, self.pendings.get(transfer.pending_id or "")
                )
        return total


def store(uow: UnitOfWork) -> LedgerStore:
    return LedgerStore(uow.conn, uow.after_commit)


def account_id(uow: UnitOfWork, kind: str, reference: str, currency: str, now: int) -> str:
    return store(uow).ensure_account(kind, reference, currency.lower(), now)


def execute(uow: UnitOfWork, batch: list[Transfer], now: int) -> Outcome:
    """Apply the batch or raise LedgerRejected; nothing is written on rejection."""
    db = store(uow)
    accounts = db.lock({t.debit_account for t in batch} | {t.credit_account for t in batch})
    known = db.transfers([t.id for t in batch] + [t.pending_id for t in batch if t.pending_id])
    resolved = db.resolved([t.pending_id for t in batch if t.pending_id])
    written: list[Transfer] = []
    deltas: dict[str, Totals] = {}
    outcome = Outcome([])
    for transfer in batch:
        result = _apply_one(transfer, accounts, known, resolved, deltas)
        if result not in (Result.OK, Result.EXISTS):
            raise LedgerRejected(transfer, result)
        outcome.results.append(result)
        if result is Result.OK:
            written.append(transfer)
            known[transfer.id] = transfer
            if transfer.pending_id:
                resolved.add(transfer.pending_id)
                outcome.pendings[transfer.pending_id] = known[transfer.pending_id]
    db.write(written, deltas, now)
    observability.transfers_written(uow.after_commit, written)  # counted once committed
    return outcome


def _apply_one(
    transfer: Transfer,
    accounts: dict[str, Account],
    known: dict[str, Transfer],
    resolved: set[str],
    deltas: dict[str, Totals],
) -> Result:
    debit, credit = accounts.get(transfer.debit_account), accounts.get(transfer.credit_account)
    if debit is None or credit is None:
        raise LookupError(f"ledger account missing for transfer {transfer.id}")
    pending = known.get(transfer.pending_id) if transfer.pending_id else None
    result = ledger.check(
        transfer,
        debit,
        credit,
        known.get(transfer.id),
        pending,
        (transfer.pending_id or "") in resolved,
    )
    if result is not Result.OK:
        return result
    debit_delta, credit_delta = ledger.effect(transfer, pending)
    # Later transfers in the batch must see this one's effect (e.g. a hold then a check).
    accounts[debit.id] = Account(debit.id, debit.currency, ledger.add(debit.totals, debit_delta))
    accounts[credit.id] = Account(
        credit.id, credit.currency, ledger.add(credit.totals, credit_delta)
    )
    deltas[debit.id] = ledger.add(deltas.get(debit.id, Totals()), debit_delta)
    deltas[credit.id] = ledger.add(deltas.get(credit.id, Totals()), credit_delta)
    return Result.OK


__all__ = [
    "Kind",
    "Transfer",
    "execute",
    "LedgerRejected",
    "account_id",
    "external",
    "FINANCIAL_ACCOUNT",
    "CARD_NETWORK",
]
