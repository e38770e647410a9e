"""Issuing disputes: create, update, submit, list, and the test-mode network's answer.

The rules (evidence per reason, amounts, deadline, outcome) live in
``openissuing.domain.issuing.disputes``; here they meet storage, money and events.

* Disputable: ``capture`` transactions of the acting account only (another account's is 404),
  for at most the captured amount less the disputes already claiming part of it (any not
  expired), and never while another dispute on the same transaction is open.
  ``treasury[received_debit]`` names the transaction through its card received debit.
* Creating sets ``transaction.dispute`` (``issuing_transaction.updated``) and, for
  Treasury-backed cards (all of ours), ``dispute.treasury.received_debit``.
* **Submission is answered at once, deterministically** (test mode): the response is the
  dispute as submitted (``status=submitted``, as Stripe answers), and in the same database
  transaction the network decides — ``lost`` if the reason's ``explanation`` contains
  ``losing_evidence``, else ``won`` — so the next retrieve shows the outcome and the money
  has already moved. A won dispute credits the financial account through a
  ``treasury.debit_reversal`` (``services.debit_reversals``) linked to the dispute and the
  received debit, and fills ``dispute.treasury.debit_reversal``; a lost one moves nothing.
  Events: ``issuing_dispute.submitted``; then ``treasury.debit_reversal.created`` /
  ``.initial_credit_granted`` / ``.completed`` (won), ``issuing_dispute.updated``,
  ``issuing_dispute.closed`` and ``issuing_dispute.funds_reinstated`` (won). No provisional
  credit is ever granted, so nothing is rescinded (``issuing_dispute.funds_rescinded`` never fires).
* Expiry is lazy: every dispute call first expires the acting account's unsubmitted disputes
  whose deadline (transaction ``created`` + 110 days, by the injected clock) has passed
  (``issuing_dispute.updated`` + ``issuing_dispute.closed``).
* ``balance_transactions`` is ``[]`` for Treasury-backed cards (they move money through Treasury
  objects); a won dispute on a card without a financial account credits its account's Issuing
  balance and shows that ``issuing_dispute`` balance transaction here.
"""

from __future__ import annotations

from typing import Any

from openissuing.domain import metadata
from openissuing.domain.errors import (
    AlreadyDisputed,
    InvalidRequest,
    ParameterMissing,
    ResourceMissing,
)
from openissuing.domain.issuing import disputes as rules
from openissuing.services import (
    debit_reversals,
    events,
    issuing_balance,
    issuing_transactions,
    received_flows,
)
from openissuing.services.scope import Scope
from openissuing.storage.uow import UnitOfWork
from openissuing.wire import registry

TYPE = "issuing.dispute"
TXN = issuing_transactions.TYPE


def load(
    uow: UnitOfWork, scope: Scope, dispute_id: str, *, param: str = "id", for_update: bool = False
) -> dict:
    return uow.docs.require(TYPE, dispute_id, scope.account, param=param, for_update=for_update)


def _keys(record: dict[str, Any]) -> dict[str, str]:
    return {"status": record["status"], "transaction": record["transaction"]}


def _save(
    uow: UnitOfWork, scope: Scope, before: dict[str, Any], record: dict[str, Any], event: str
) -> None:
    uow.docs.update(record, _keys(record))
    changed = events.changed_attributes(before, record)
    events.record(uow, scope, event, TYPE, rules.snapshot(record), previous_attributes=changed)


# ------------------------------------------------------------------ create


def create(uow: UnitOfWork, scope: Scope, params: dict[str, Any]) -> dict[str, Any]:
    expire_due(uow, scope)
    txn = _disputed_transaction(uow, scope, params)
    now = scope.now()
    if txn["type"] != "capture":
        raise InvalidRequest(
            f"Only capture transactions can be disputed; {txn['id']} is a {txn['type']}.",
            param="transaction",
        )
    if now >= rules.deadline(txn["created"]):
        raise InvalidRequest(
            "This transaction can no longer be disputed: disputes must be submitted within "
            "110 days of the transaction.",
            param="transaction",
        )
    others = uow.docs.find(TYPE, scope.account, "transaction", txn["id"])
    _refuse_open_dispute(others)
    disputable = rules.disputable_amount(-txn["amount"], others)
    if disputable == 0:
        raise AlreadyDisputed(f"Transaction {txn['id']} has already been disputed in full.")
    amount = params.get("amount", disputable)
    rules.check_amount(amount, disputable)
    evidence = rules.merge_evidence(None, params.get("evidence"), creating=True)
    meta = metadata.apply({}, params.get("metadata"))
    received_debit = (txn.get("treasury") or {}).get("received_debit")
    record = rules.new(registry.id_for(TYPE), now, txn, amount, evidence, meta, received_debit)
    # Everything is checked; from here on nothing can fail for a client reason.
    uow.docs.insert(TYPE, scope.account, record, _keys(record))
    events.record(uow, scope, "issuing_dispute.created", TYPE, rules.snapshot(record))
    _sync_transaction(uow, scope, txn, link=record["id"])
    return record


def _disputed_transaction(uow: UnitOfWork, scope: Scope, params: dict[str, Any]) -> dict[str, Any]:
    """The transaction named by ``transaction`` or by ``treasury[received_debit]`` (locked)."""
    txn_id = params.get("transaction")
    rd_id = (params.get("treasury") or {}).get("received_debit")
    if rd_id:
        received = uow.docs.get(received_flows.DEBIT, rd_id, scope.account)
        if received is None:
            raise ResourceMissing(received_flows.DEBIT, rd_id, param="treasury[received_debit]")
        linked = (received.get("linked_flows") or {}).get("issuing_transaction")
        if not linked:
            raise InvalidRequest(
                "Only received debits of Issuing card transactions can be disputed; reverse other "
                "received debits with POST /v1/treasury/debit_reversals.",
                param="treasury[received_debit]",
            )
        if txn_id and txn_id != linked:
            raise InvalidRequest(
                f"treasury[received_debit] {rd_id} belongs to transaction {linked}, not {txn_id}.",
                param="transaction",
            )
        txn_id = linked
    if not txn_id:
        raise ParameterMissing("transaction")
    return issuing_transactions.load(uow, scope, txn_id, param="transaction", for_update=True)


def _refuse_open_dispute(others: list[dict[str, Any]]) -> None:
    for other in others:
        if other["status"] in rules.OPEN:
            raise AlreadyDisputed(
                f"This transaction already has an open dispute ({other['id']}, {other['status']}); "
                "a transaction can have only one open dispute at a time."
            )


def _sync_transaction(
    uow: UnitOfWork, scope: Scope, txn: dict[str, Any], *, link: str | None = None
) -> None:
    """Keep the transaction's dispute link and its private ``_disputed`` total in step."""
    claims = uow.docs.find(TYPE, scope.account, "transaction", txn["id"])
    before = dict(txn)
    txn["_disputed"] = sum(d["amount"] for d in claims if d["status"] in rules.COUNTED)
    if link is not None:
        txn["dispute"] = link
    uow.docs.update(txn)
    if before.get("dispute") != txn["dispute"]:
        events.record(
            uow,
            scope,
            "issuing_transaction.updated",
            TXN,
            dict(txn),
            previous_attributes={"dispute": before.get("dispute")},
        )


# ------------------------------------------------------------------ read


def retrieve(uow: UnitOfWork, scope: Scope, dispute_id: str) -> dict[str, Any]:
    expire_due(uow, scope)
    return load(uow, scope, dispute_id)


def list_(uow: UnitOfWork, scope: Scope, params: dict[str, Any], **page: Any):
    expire_due(uow, scope)
    filters = {k: params[k] for k in ("status", "transaction") if params.get(k)}
    return uow.docs.list(TYPE, scope.account, filters=filters, **page)


# ------------------------------------------------------------------ update


def update(
    uow: UnitOfWork, scope: Scope, dispute_id: str, params: dict[str, Any]
) -> dict[str, Any]:
    expire_due(uow, scope)
    record = load(uow, scope, dispute_id, for_update=True)
    rules.check_editable(record, params)
    before = rules.snapshot(record)
    txn = None
    if "amount" in params:
        txn = issuing_transactions.load(uow, scope, record["transaction"], for_update=True)
        others = [
            d
            for d in uow.docs.find(TYPE, scope.account, "transaction", txn["id"])
            if d["id"] != record["id"]
        ]
        rules.check_amount(params["amount"], rules.disputable_amount(-txn["amount"], others))
        record["amount"] = params["amount"]
    if "evidence" in params:
        record["evidence"] = rules.merge_evidence(
            record["evidence"], params["evidence"], creating=False
        )
    record["metadata"] = metadata.apply(record["metadata"], params.get("metadata"))
    if record == before:
        return record
    _save(uow, scope, before, record, "issuing_dispute.updated")
    if txn is not None:
        _sync_transaction(uow, scope, txn)
    return record


# ------------------------------------------------------------------ submit and outcome


def submit(
    uow: UnitOfWork, scope: Scope, dispute_id: str, params: dict[str, Any]
) -> dict[str, Any]:
    """Submit, then let the test-mode network decide; answers the dispute as submitted."""
    expire_due(uow, scope)
    record = load(uow, scope, dispute_id, for_update=True)
    rules.check_submittable(record)
    if record["evidence"]["reason"] == "duplicate":
        _check_original_transaction(uow, scope, record)
    before = rules.snapshot(record)
    record["metadata"] = metadata.apply(record["metadata"], params.get("metadata"))
    record["status"] = rules.SUBMITTED
    record["_submitted_at"] = scope.now()
    _save(uow, scope, before, record, "issuing_dispute.submitted")
    answered = rules.snapshot(record)
    _resolve(uow, scope, record)
    return answered


def _check_original_transaction(uow: UnitOfWork, scope: Scope, record: dict[str, Any]) -> None:
    param = "evidence[duplicate][original_transaction]"
    original = record["evidence"]["duplicate"]["original_transaction"]
    if original == record["transaction"]:
        raise InvalidRequest(
            "The original transaction must be another transaction than the disputed one.",
            param=param,
        )
    if uow.docs.get(TXN, original, scope.account) is None:
        raise ResourceMissing(TXN, original, param=param)


def _resolve(uow: UnitOfWork, scope: Scope, record: dict[str, Any]) -> None:
    """The network's answer: won (money back through a debit reversal) or lost (nothing moves)."""
    before = rules.snapshot(record)
    status, loss_reason = rules.outcome(record["evidence"])
    record["status"], record["loss_reason"] = status, loss_reason
    treasury = record.get("treasury")
    if status == rules.WON and treasury is not None:
        received = uow.docs.get(
            received_flows.DEBIT, treasury["received_debit"], scope.account, for_update=True
        )
        reversal = debit_reversals.reverse(
            uow, scope, received, record["amount"], dispute=record["id"]
        )
        treasury["debit_reversal"] = reversal["id"]
    elif status == rules.WON:  # a card without a financial account: its Issuing balance
        issuing_balance.credit_won_dispute(uow, scope.account, record, scope.now())
    _save(uow, scope, before, record, "issuing_dispute.updated")
    events.record(uow, scope, "issuing_dispute.closed", TYPE, rules.snapshot(record))
    if status == rules.WON:
        events.record(uow, scope, "issuing_dispute.funds_reinstated", TYPE, rules.snapshot(record))


# ------------------------------------------------------------------ expiry


def expire_due(uow: UnitOfWork, scope: Scope) -> None:
    """Expire the acting account's unsubmitted disputes whose deadline has passed."""
    now = scope.now()
    for candidate in uow.docs.find(TYPE, scope.account, "status", rules.UNSUBMITTED):
        if not rules.is_past_deadline(candidate, now):
            continue
        record = load(uow, scope, candidate["id"], for_update=True)
        if not rules.is_past_deadline(record, now):
            continue  # a concurrent request got there first
        before = rules.snapshot(record)
        record["status"] = rules.EXPIRED
        _save(uow, scope, before, record, "issuing_dispute.updated")
        events.record(uow, scope, "issuing_dispute.closed", TYPE, rules.snapshot(record))
        txn = issuing_transactions.load(uow, scope, record["transaction"], for_update=True)
        _sync_transaction(uow, scope, txn)
