"""Top-ups and funding instructions: how money gets into the Stripe balance here.

* ``POST /v1/topups`` with ``destination_balance=issuing`` funds the Issuing balance (what
  cards without a financial account spend); without it (``payments``, Stripe's default) it
  funds the payments balance, shown in ``/v1/balance`` ``available``, which nothing here spends.
* A top-up is created ``pending`` (``topup.created``) and settles when due
  (``domain.balances``: at the account's next request in test mode): ``succeeded`` with its
  ``topup`` balance transaction, ``topup.succeeded`` and ``balance.available``; or ``failed``
  (a failing test bank token, ``topup.failed``), nothing moved. Cancel only while pending.
* The EU/UK way: funding instructions (a bank address per currency, the same on every call)
  and the test helper ``fund_balance``, a bank transfer to them, which arrives as a top-up
  that has already succeeded.
"""

from __future__ import annotations

from typing import Any

from openissuing.domain import balances as rules
from openissuing.domain import metadata
from openissuing.domain.errors import AmountNotPositive
from openissuing.services import events, issuing_balance
from openissuing.services.scope import Scope
from openissuing.storage.documents import CreatedRange, Page
from openissuing.storage.uow import UnitOfWork
from openissuing.wire import registry

TYPE = "topup"
FUNDING = "funding_instructions"
BALANCE = "balance"


def _keys(record: dict[str, Any]) -> dict[str, str]:
    return {"status": record["status"]}


def load(
    uow: UnitOfWork, scope: Scope, topup_id: str, *, for_update: bool = False
) -> dict[str, Any]:
    return uow.docs.require(TYPE, topup_id, scope.account, param="topup", for_update=for_update)


def create(uow: UnitOfWork, scope: Scope, params: dict[str, Any]) -> dict[str, Any]:
    AmountNotPositive.check(params["amount"], "amount")
    meta = metadata.apply({}, params.get("metadata"))
    record = rules.new_topup(registry.id_for(TYPE), params, scope.now(), meta)
    uow.docs.insert(TYPE, scope.account, record, _keys(record))
    events.record(uow, scope, "topup.created", TYPE, record)
    return record


def retrieve(uow: UnitOfWork, scope: Scope, topup_id: str) -> dict[str, Any]:
    return load(uow, scope, topup_id)


def update(uow: UnitOfWork, scope: Scope, topup_id: str, params: dict[str, Any]) -> dict[str, Any]:
    record = load(uow, scope, topup_id, for_update=True)
    before = dict(record)
    if "description" in params:
        record["description"] = params["description"] or None
    record["metadata"] = metadata.apply(record["metadata"], params.get("metadata"))
    if record != before:
        uow.docs.update(record, _keys(record))
    return record


def cancel(uow: UnitOfWork, scope: Scope, topup_id: str) -> dict[str, Any]:
    record = load(uow, scope, topup_id, for_update=True)
    rules.require_cancelable(record)
    before = dict(record)
    record["status"] = rules.CANCELED
    _save(uow, scope, before, record, "topup.canceled")
    return record


def list_(
    uow: UnitOfWork,
    scope: Scope,
    params: dict[str, Any],
    amounts: CreatedRange | None,
    page: dict[str, Any],
) -> Page:
    """``amounts``: the ``amount`` filter, read like ``created`` (an int or a gt/gte/lt/lte)."""
    filters = {"status": params["status"]} if params.get("status") else None
    if amounts is None:
        return uow.docs.list(TYPE, scope.account, filters=filters, **page)
    return _filtered(uow, scope, filters, amounts, page)


def _filtered(uow, scope, filters, amounts: CreatedRange, page: dict[str, Any]) -> Page:
    """``amount`` is a range over a number the key index cannot compare: filter, then page."""
    limit = page["limit"]
    everything = uow.docs.list(TYPE, scope.account, filters=filters, **{**page, "limit": None})
    rows = [r for r in everything.records if _within(r["amount"], amounts)]
    if page.get("ending_before") is not None:
        return Page(rows[-limit:], len(rows) > limit)
    return Page(rows[:limit], len(rows) > limit)


def _within(value: int, bounds: CreatedRange) -> bool:
    return (
        (bounds.gt is None or value > bounds.gt)
        and (bounds.gte is None or value >= bounds.gte)
        and (bounds.lt is None or value < bounds.lt)
        and (bounds.lte is None or value <= bounds.lte)
    )


def _save(uow, scope, before: dict[str, Any], record: dict[str, Any], event: str) -> None:
    uow.docs.update(record, _keys(record))
    changed = events.changed_attributes(before, record)
    events.record(uow, scope, event, TYPE, record, previous_attributes=changed)


# ------------------------------------------------------------------ settlement (when due)


def settle_due(uow: UnitOfWork, scope: Scope, candidates: list[dict[str, Any]]) -> None:
    """Settle the acting account's pending top-ups whose time has come (``services.due``)."""
    now = scope.now()
    for candidate in candidates:
        if not rules.is_due(candidate, now):
            continue
        record = load(uow, scope, candidate["id"], for_update=True)
        if rules.is_due(record, now):  # a concurrent request may have settled it already
            settle(uow, scope, record, now)


def settle(uow: UnitOfWork, scope: Scope, record: dict[str, Any], now: int) -> None:
    before = dict(record)
    status, code, message = rules.outcome(record)
    record["status"], record["failure_code"], record["failure_message"] = status, code, message
    if status == rules.FAILED:
        _save(uow, scope, before, record, "topup.failed")
        return
    bt = issuing_balance.fund(
        uow,
        scope.account,
        record["_destination_balance"],
        record["currency"],
        record["amount"],
        record["id"],
        record["description"] or "Top-up",
        now,
    )
    record["balance_transaction"] = bt["id"]
    _save(uow, scope, before, record, "topup.succeeded")
    balance_available(uow, scope)


def balance_available(uow: UnitOfWork, scope: Scope) -> None:
    """``balance.available``: funds just became available (its object: the balance now)."""
    events.record(
        uow, scope, "balance.available", BALANCE, issuing_balance.balance(uow, scope.account)
    )


# ------------------------------------------------------------------ funding instructions


def _instructions(uow: UnitOfWork, scope: Scope, kind: str, currency: str) -> dict[str, Any]:
    """Create or retrieve: one set per (account, currency), the same on every call."""
    fresh = rules.funding_instructions(scope.account, kind, currency)  # checks the pair first
    for existing in uow.docs.find(FUNDING, scope.account, "currency", currency):
        return existing
    record = {"id": registry.id_for(FUNDING), "created": scope.now(), **fresh}
    uow.docs.insert(FUNDING, scope.account, record, {"currency": currency})
    return record


def create_funding_instructions(
    uow: UnitOfWork, scope: Scope, params: dict[str, Any]
) -> dict[str, Any]:
    currency = params["currency"].lower()
    return _instructions(uow, scope, params["bank_transfer"]["type"], currency)


def list_funding_instructions(uow: UnitOfWork, scope: Scope, page: dict[str, Any]) -> Page:
    return uow.docs.list(FUNDING, scope.account, **page)


def fund_balance(uow: UnitOfWork, scope: Scope, params: dict[str, Any]) -> dict[str, Any]:
    """Test helper: a bank transfer to the funding instructions arrives in the Issuing balance,
    as a top-up that has already succeeded; answers the funding instructions."""
    amount, currency = params["amount"], params["currency"].lower()
    AmountNotPositive.check(amount, "amount")
    instructions = _instructions(uow, scope, rules.bank_transfer_type_for(currency), currency)
    now = scope.now()
    description = "Bank transfer to your Issuing balance"
    record = rules.new_topup(
        registry.id_for(TYPE),
        {
            "amount": amount,
            "currency": currency,
            "description": description,
            "destination_balance": rules.ISSUING,
        },
        now,
        {},
    )
    uow.docs.insert(TYPE, scope.account, record, _keys(record))
    events.record(uow, scope, "topup.created", TYPE, record)
    settle(uow, scope, record, now)
    return instructions
