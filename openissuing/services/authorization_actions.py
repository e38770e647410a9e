"""What happens to a pending authorization afterwards: reverse, increment, finalize,
the legacy approve/decline calls, metadata updates and listing."""

from __future__ import annotations

from typing import Any

from openissuing.domain import ledger as rules
from openissuing.domain import metadata
from openissuing.domain.errors import InvalidRequest
from openissuing.domain.issuing import authorizations as domain
from openissuing.domain.issuing import spending_controls
from openissuing.services import card_spend
from openissuing.services.authorizations import (
    TYPE,
    change_hold,
    end_pending,
    expire,
    load,
    require_pending,
    save,
)
from openissuing.services.ledger import LedgerRejected
from openissuing.services.scope import Scope
from openissuing.storage.uow import UnitOfWork


def retrieve(uow: UnitOfWork, scope: Scope, auth_id: str) -> dict[str, Any]:
    return load(uow, scope, auth_id, param="id")


def list_(uow: UnitOfWork, scope: Scope, params: dict[str, Any], **page: Any):
    filters = {k: params[k] for k in ("card", "cardholder", "status") if params.get(k)}
    return uow.docs.list(TYPE, scope.account, filters=filters, **page)


def update(uow: UnitOfWork, scope: Scope, auth_id: str, params: dict[str, Any]) -> dict[str, Any]:
    record = load(uow, scope, auth_id, for_update=True)
    before = domain.snapshot(record)
    record["metadata"] = metadata.apply(record["metadata"], params.get("metadata"))
    save(uow, scope, before, record)
    return record


def _pending(uow: UnitOfWork, scope: Scope, auth_id: str) -> dict[str, Any]:
    record = load(uow, scope, auth_id, for_update=True)
    require_pending(record)
    return record


def reverse(uow: UnitOfWork, scope: Scope, auth_id: str, params: dict[str, Any]) -> dict[str, Any]:
    record = _pending(uow, scope, auth_id)
    before = domain.snapshot(record)
    amount = params.get("reverse_amount", record["_held"])
    if amount <= 0 or amount > record["_held"]:
        raise InvalidRequest(
            f"The reverse_amount must be between 1 and the authorization's remaining amount ({record['_held']}).",
            param="reverse_amount",
        )
    now = scope.now()
    remaining = record["_held"] - amount
    change_hold(uow, scope, record, remaining, now, closing=remaining == 0)
    card_spend.add(
        uow, record["card"], record["cardholder"], record["merchant_data"]["category"], -amount, now
    )
    record["amount"] = record["_captured"] + remaining
    if remaining == 0:
        record["status"] = "reversed" if record["_captured"] == 0 else "closed"
        end_pending(uow, record)
    save(uow, scope, before, record)
    return record


def increment(
    uow: UnitOfWork, scope: Scope, auth_id: str, params: dict[str, Any]
) -> dict[str, Any]:
    """An incremental request: approved only if the added amount is available (and controls allow it)."""
    from openissuing.services import ledger

    record = _pending(uow, scope, auth_id)
    before = domain.snapshot(record)
    added = params["increment_amount"]
    if added <= 0:
        raise InvalidRequest(
            "The increment_amount must be greater than 0.", param="increment_amount"
        )
    now = scope.now()
    decision = _increment_controls(uow, scope, record, added, now)
    if decision.approved:
        try:
            change_hold(uow, scope, record, record["_held"] + added, now, require_available=True)
        except ledger.LedgerRejected:
            decision = domain.Decision(
                False, "insufficient_funds", "The financial account's cash balance is insufficient."
            )
    if decision.approved:
        record["amount"] += added
        card_spend.add(
            uow,
            record["card"],
            record["cardholder"],
            record["merchant_data"]["category"],
            added,
            now,
        )
    record["request_history"].append(
        domain.history_entry(
            decision,
            record["amount"] if decision.approved else record["amount"] + added,
            record["currency"],
            record["merchant_amount"] + added,
            record["merchant_currency"],
            record["amount_details"],
            now,
        )
    )
    if decision.approved:
        record["merchant_amount"] += added
    save(uow, scope, before, record)
    return record


def _increment_controls(
    uow: UnitOfWork, scope: Scope, record: dict[str, Any], added: int, now: int
) -> domain.Decision:
    """Spending controls see only the added amount: the authorized part is already counted as spend."""
    card = uow.docs.get("issuing.card", record["card"], scope.account)
    holder = uow.docs.get("issuing.cardholder", record["cardholder"], scope.account)
    merchant = record["merchant_data"]
    shared = dict(
        amount=added,
        category=merchant["category"],
        country=merchant.get("country"),
        card_presence=record["card_presence"] or "not_present",
        now=now,
    )
    for controls, key in (
        (card.get("spending_controls"), "card"),
        (holder.get("spending_controls"), "cardholder"),
    ):

        def spent(since, categories, key=key):
            return card_spend.spent(uow, **{key: record[key]}, since=since, categories=categories)

        if spending_controls.blocks(controls, spent=spent, **shared):
            return domain.Decision(
                False,
                "spending_controls",
                f"The {key}'s spending controls declined this increment.",
            )
    return domain.Decision(True, "card_active")


def finalize_amount(
    uow: UnitOfWork, scope: Scope, auth_id: str, params: dict[str, Any]
) -> dict[str, Any]:
    """Fuel: the real amount replaces the estimate; the hold follows it."""
    record = _pending(uow, scope, auth_id)
    before = domain.snapshot(record)
    final = params["final_amount"]
    if final <= 0:
        raise InvalidRequest("The final_amount must be greater than 0.", param="final_amount")
    now = scope.now()
    delta = final - record["_held"]
    try:
        # A larger final amount holds more cash, which must be there (the hold never overdraws).
        change_hold(uow, scope, record, final, now, require_available=delta > 0)
    except LedgerRejected as rejected:
        if rejected.result is not rules.Result.EXCEEDS_AVAILABLE:
            raise
        raise InvalidRequest(
            "The financial account's cash balance is insufficient for this final_amount.",
            param="final_amount",
            code="insufficient_funds",
        ) from None
    card_spend.add(
        uow, record["card"], record["cardholder"], record["merchant_data"]["category"], delta, now
    )
    record["amount"] = record["_captured"] + final
    record["merchant_amount"] = final
    for key in ("fleet", "fuel"):
        if params.get(key) is not None:
            record[key] = params[key]
    save(uow, scope, before, record)
    return record


__all__ = ["expire", "retrieve", "list_", "update", "reverse", "increment", "finalize_amount"]
