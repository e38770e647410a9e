"""What happens to a pending authorization afterwards: reverse, increment, finalize,
the legacy approve/decline calls, metadata updates and listing.

Each action has the same shape: load and lock; ask the lifecycle
(``domain.issuing.lifecycle``) for a plan, which checks everything; move the
money (the one step that can still refuse, with ``InsufficientFunds``, before
anything is written); then carry out the plan and save.
"""

from __future__ import annotations

from typing import Any

from openissuing.domain import metadata
from openissuing.domain.errors import AmountNotPositive, InsufficientFunds, InvalidRequest
from openissuing.domain.issuing import authorizations as domain
from openissuing.domain.issuing import details, lifecycle, spending_controls
from openissuing.services import card_spend
from openissuing.services.authorizations import TYPE, carry_out, change_hold, expire, load, save
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


def reverse(uow: UnitOfWork, scope: Scope, auth_id: str, params: dict[str, Any]) -> dict[str, Any]:
    record = load(uow, scope, auth_id, for_update=True)
    plan = lifecycle.reverse(lifecycle.State.of(record), params.get("reverse_amount"))
    before = domain.snapshot(record)
    now = scope.now()
    change_hold(uow, scope, record, plan, now)
    carry_out(uow, scope, record, plan, now)
    save(uow, scope, before, record)
    return record


def increment(
    uow: UnitOfWork, scope: Scope, auth_id: str, params: dict[str, Any]
) -> dict[str, Any]:
    """An incremental request: approved if the controls allow it and the added amount is there."""
    record = load(uow, scope, auth_id, for_update=True)
    state, added = lifecycle.State.of(record), params["increment_amount"]
    lifecycle.increment(state, added, domain.APPROVED)  # the request's own checks first
    before = domain.snapshot(record)
    now = scope.now()
    decision = _increment_controls(uow, scope, record, added, now)
    plan = lifecycle.increment(state, added, decision)
    try:
        change_hold(uow, scope, record, plan, now)
    except InsufficientFunds:  # the ledger refused the grown hold and wrote nothing
        decision = domain.INSUFFICIENT_FUNDS
        plan = lifecycle.increment(state, added, decision)
    record["request_history"].append(
        domain.history_entry(
            decision,
            plan.amount if decision.approved else state.amount + added,
            record["currency"],
            state.merchant_amount + added,
            record["merchant_currency"],
            record["amount_details"],
            now,
        )
    )
    carry_out(uow, scope, record, plan, now)
    save(uow, scope, before, record)
    return record


def _increment_controls(
    uow: UnitOfWork, scope: Scope, record: dict[str, Any], added: int, now: int
) -> domain.Decision:
    """Spending controls see only the added amount: the authorized part is already spend."""
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
    return domain.APPROVED


def finalize_amount(
    uow: UnitOfWork, scope: Scope, auth_id: str, params: dict[str, Any]
) -> dict[str, Any]:
    """Fuel: the real amount replaces the estimate; the hold follows it."""
    record = load(uow, scope, auth_id, for_update=True)
    plan = lifecycle.finalize(lifecycle.State.of(record), params["final_amount"])
    before = domain.snapshot(record)
    now = scope.now()
    try:
        # A larger final amount holds more cash, which must be there (the hold never overdraws).
        change_hold(uow, scope, record, plan, now)
    except InsufficientFunds:
        raise InsufficientFunds(param="final_amount") from None
    carry_out(uow, scope, record, plan, now)
    # The pump's measurements update the authorization's fleet and fuel data, key by key.
    for key, template in (
        ("fleet", details.AUTHORIZATION_FLEET),
        ("fuel", details.AUTHORIZATION_FUEL),
    ):
        if key in params:
            record[key] = details.shape(template, params[key], record.get(key))
    save(uow, scope, before, record)
    return record


def record_api_decision(
    uow: UnitOfWork, scope: Scope, auth_id: str, approve: bool, params: dict[str, Any]
) -> dict[str, Any]:
    """The deprecated approve/decline calls: valid only while the request is in flight."""
    record = load(uow, scope, auth_id, for_update=True, param="authorization")
    if record.get("pending_request") is None:
        verb = "approved" if approve else "declined"
        raise InvalidRequest(
            f"This authorization has already been decided and cannot be {verb}. Approve or decline "
            "only while its issuing_authorization.request webhook is in flight.",
            param="authorization",
        )
    if record.get("_api_decision") is not None:
        raise InvalidRequest(
            "This authorization was already approved or declined by an API call.",
            param="authorization",
        )
    decision: dict[str, Any] = {"approved": approve, "metadata": params.get("metadata") or None}
    if approve and params.get("amount") is not None:
        AmountNotPositive.check(params["amount"], "amount")
        decision["amount"] = params["amount"]
    record["_api_decision"] = decision
    uow.docs.update(record)
    view = dict(record)
    view["approved"] = approve
    return view


__all__ = [
    "expire",
    "retrieve",
    "list_",
    "update",
    "reverse",
    "increment",
    "finalize_amount",
    "record_api_decision",
]
