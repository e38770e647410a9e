"""Authorizations: the real-time decision, the hold, and the merchant's later actions.

Everything one request does — decision, ledger hold, Treasury records, spend,
events — happens in the caller's single database transaction. The hold is a
pending ledger transfer from the financial account to the card network; the
ledger re-checks the available cash while holding the account's lock, so two
authorizations can never spend the same money.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from openissuing.domain.errors import AmountNotPositive, ParameterMissing, ResourceMissing
from openissuing.domain.issuing import authorizations as domain
from openissuing.domain.issuing import details, lifecycle
from openissuing.domain.issuing import realtime as realtime_rules
from openissuing.domain.ledger import money as movements
from openissuing.domain.ledger.money import Pair
from openissuing.services import (
    balances,
    card_lifecycle,
    card_spend,
    events,
    faults,
    issuing_balance,
    issuing_tokens,
    money,
)
from openissuing.services import realtime_authorizations as realtime
from openissuing.services.scope import Scope
from openissuing.storage.issuing_side import Expiries
from openissuing.storage.uow import UnitOfWork
from openissuing.wire import registry

TYPE = "issuing.authorization"
CARD = "issuing.card"
CARDHOLDER = "issuing.cardholder"
FA = "treasury.financial_account"


def load(
    uow: UnitOfWork,
    scope: Scope,
    auth_id: str,
    *,
    for_update: bool = False,
    param: str = "authorization",
) -> dict[str, Any]:
    return uow.docs.require(TYPE, auth_id, scope.account, param=param, for_update=for_update)


def _available(uow: UnitOfWork, fa_id: str | None, currency: str) -> int:
    return 0 if fa_id is None else balances.cash(uow, fa_id, currency)


def _funds(uow: UnitOfWork, scope: Scope, fa_id: str | None, currency: str) -> int:
    """The card's money: its financial account's cash, else its account's Issuing balance."""
    if fa_id is None:
        return issuing_balance.available(uow, scope.account, currency)
    return _available(uow, fa_id, currency)


def _request(
    params: dict[str, Any], card: dict[str, Any], merchant: dict[str, Any]
) -> domain.Request:
    amount = params.get("amount", params.get("merchant_amount"))
    if amount is None:
        raise ParameterMissing("amount")
    AmountNotPositive.check(amount, "amount")
    presence = (
        "not_present"
        if params.get("authorization_method", "online") in ("online", "keyed_in")
        else "present"
    )
    currency = (params.get("currency") or card["currency"]).lower()
    return domain.Request(amount, currency, merchant["category"], merchant.get("country"), presence)


def create(uow: UnitOfWork, scope: Scope, params: dict[str, Any]) -> dict[str, Any]:
    """The test-helper purchase: decide, hold, record — one transaction.

    Overdue holds were already released by the pipeline (``expire_due`` runs
    before every request), so they never count against the cash here.
    """
    now = scope.now()
    card = uow.docs.get(CARD, params["card"], scope.account)
    if card is None:
        raise ResourceMissing("issuing.card", params["card"], param="card")
    if card_lifecycle.counts(card):
        # Its payments are counted: lock it before the checks, so purchases racing on it are
        # counted and refused at the limit one after another (SQLite's write lock already
        # does this; on PostgreSQL the row lock does). Other cards are never locked here.
        card = uow.docs.get(CARD, card["id"], scope.account, for_update=True)
    cardholder = uow.docs.get(CARDHOLDER, card["cardholder"], scope.account)
    fa = (
        uow.docs.get(FA, card["financial_account"], scope.account)
        if card.get("financial_account")
        else None
    )
    merchant = domain.merchant_data(params.get("merchant_data"))
    request = _request(params, card, merchant)
    token = issuing_tokens.for_wallet(uow, scope, card, params.get("wallet"), now)
    fallback = faults.use(uow, scope.faults, "network_fallback") if scope.faults else None
    if fallback is not None:
        return _stand_in(uow, scope, params, card, merchant, request, fallback, now, token)
    decision = domain.decide(
        request,
        card,
        cardholder,
        fa,
        now=now,
        available=_funds(uow, scope, fa and fa["id"], request.currency),
        card_spent=lambda since, cats: card_spend.spent(
            uow, card=card["id"], since=since, categories=cats
        ),
        cardholder_spent=lambda since, cats: card_spend.spent(
            uow, cardholder=cardholder["id"], since=since, categories=cats
        ),
    )
    # After the built-in checks: the wallet's token, then the card's lifecycle controls.
    decision = issuing_tokens.rules.screen(token, decision)
    decision = card_lifecycle.screen(card, request.amount, decision)
    record = _new_record(scope, params, card, merchant, request, now, token)
    if decision.approved:
        # The platform's real-time decision, only for what the built-in checks approved.
        endpoint = realtime.find_endpoint(uow, scope)
        if endpoint is not None:
            slow = faults.use(uow, scope.faults, "realtime_slow") if scope.faults else None
            pending = realtime.begin(uow, scope, record, request, endpoint, now)
            return pending if slow is None else replace(pending, latency_seconds=slow.seconds)
    state = lifecycle.State.of(record, new=True)
    plan = lifecycle.decide(state, decision, request.amount, request.amount)
    record_decision(uow, scope, record, plan, now, insert=True)
    return record


def _stand_in(
    uow, scope, params, card, merchant, request, fault, now: int, token
) -> dict[str, Any]:
    """Stripe unreachable, the network decides alone: no built-in checks, no real-time call."""
    approve = fault.outcome != "decline"
    decision = domain.NETWORK_APPROVED if approve else domain.NETWORK_DECLINED
    record = _new_record(scope, params, card, merchant, request, now, token)
    plan = lifecycle.stand_in(lifecycle.State.of(record, new=True), request.amount, decision)
    record_decision(uow, scope, record, plan, now, insert=True)
    return record


def _new_record(
    scope, params, card, merchant, request: domain.Request, now: int, token=None
) -> dict[str, Any]:
    return {
        "id": registry.id_for(TYPE),
        "object": TYPE,
        "amount": request.amount,
        "amount_details": details.shape(details.AMOUNT_DETAILS, params.get("amount_details")),
        "approved": False,
        "authorization_method": params.get("authorization_method", "online"),
        "balance_transactions": [],
        "card": card["id"],
        "card_presence": request.card_presence,
        "cardholder": card["cardholder"],
        "created": now,
        "currency": request.currency,
        "fleet": details.shape(details.AUTHORIZATION_FLEET, params.get("fleet")),
        "fraud_challenges": [],
        "fuel": details.shape(details.AUTHORIZATION_FUEL, params.get("fuel")),
        "livemode": False,
        "merchant_amount": params.get("merchant_amount", request.amount),
        "merchant_currency": (params.get("merchant_currency") or request.currency).lower(),
        "merchant_data": merchant,
        "metadata": {},
        "network_data": {
            "acquiring_institution_id": (params.get("network_data") or {}).get(
                "acquiring_institution_id"
            ),
            "system_trace_audit_number": None,
            "transaction_id": None,
        },
        "pending_request": None,
        "request_history": [],
        "status": "closed",
        "token": token and token["id"],
        "transactions": [],
        "treasury": None,
        "verification_data": domain.verification_data(params.get("verification_data")),
        "verified_by_fraud_challenge": None,
        "wallet": params.get("wallet"),
        # Private bookkeeping, never on the wire: the live hold and what is counted as spend.
        "_financial_account": card.get("financial_account"),
        "_held": 0,
        "_hold_id": None,
        "_hold_seq": 0,
        "_captured": 0,
        "_transactions": [],
        "_is_amount_controllable": bool(params.get("is_amount_controllable", False)),
        # The card has lifecycle controls: its approvals are counted (card_lifecycle).
        "_counts_payments": card_lifecycle.counts(card),
    }


def record_decision(
    uow: UnitOfWork,
    scope: Scope,
    record: dict[str, Any],
    plan: lifecycle.Plan,
    now: int,
    *,
    insert: bool,
) -> None:
    """Store a decision's plan; an approval writes everything first and places the hold last.

    The hold locks the financial account's ledger row until commit, so it comes
    last to keep that lock short (a busy account's purchases queue on it). The
    unlocked pre-check approved; the hold's check under the lock is the final
    one, and if another purchase took the cash in between, the whole unit of
    work runs again (``money.execute_last``) and the re-run's pre-check
    declines. Nothing is undone in place: no savepoint, no restored record.
    """
    if plan.hold is None:
        finish(uow, scope, record, plan, now, insert=insert)
        return
    pair = _pair(uow, scope, record, now)
    batch = _hold_batch(pair, record, plan.hold)
    if record["_financial_account"] is None:  # the Issuing balance: a balance transaction
        issuing_balance.note_hold(uow, scope.account, record, batch.impact(pair.customer), now)
        finish(uow, scope, record, plan, now, insert=insert)
        money.execute_last(uow, pair, batch, now)
        return
    trxn = money.open_transaction(
        uow,
        money.Trail(
            scope.account,
            record["_financial_account"],
            "issuing_authorization",
            record["id"],
            f"{record['merchant_data']['name'] or 'Card'} | Issuing authorization",
            "issuing_authorization_hold",
        ),
        pair,
        batch.impact(pair.customer),
        now,
        posted=False,
    )
    record["treasury"] = {"received_credits": [], "received_debits": [], "transaction": trxn["id"]}
    finish(uow, scope, record, plan, now, insert=insert)
    money.execute_last(uow, pair, batch, now)


def _pair(uow: UnitOfWork, scope: Scope, record: dict[str, Any], now: int) -> Pair:
    if record["_financial_account"] is None:
        return issuing_balance.pair(uow, scope.account, record["currency"], now)
    return money.pair(
        uow, scope.account, record["_financial_account"], record["currency"], money.CARD, now
    )


def _hold_batch(pair: Pair, record: dict[str, Any], change: lifecycle.HoldChange | None):
    if change is None:
        return movements.Batch()
    return movements.resize(
        pair, change.live, change.new, record["id"], require_available=change.require_available
    )


def finish(
    uow: UnitOfWork,
    scope: Scope,
    record: dict[str, Any],
    plan: lifecycle.Plan,
    now: int,
    *,
    insert: bool,
) -> None:
    """Record a decision's plan: status, history, spend, expiry and the ``.created`` event."""
    decision = plan.decision or domain.APPROVED
    lifecycle.apply(record, plan)
    record["approved"] = decision.approved
    record["request_history"].append(
        domain.history_entry(
            decision,
            record["amount"],
            record["currency"],
            record["merchant_amount"],
            record["merchant_currency"],
            record["amount_details"],
            now,
        )
    )
    if insert:
        uow.docs.insert(TYPE, scope.account, record, domain.index_keys(record))
    else:
        uow.docs.update(record, domain.index_keys(record))
    category = record["merchant_data"]["category"]
    card_spend.add(uow, record["card"], record["cardholder"], category, plan.spend, now)
    if plan.status == lifecycle.PENDING:
        _expiries(uow).add(record["id"], scope.account, now + domain.expiry_seconds(category))
    events.record(uow, scope, "issuing_authorization.created", TYPE, record)
    if decision.approved and record.get("_counts_payments"):
        card_lifecycle.approved(uow, scope, record["card"], record["id"], record["amount"])


def change_hold(
    uow: UnitOfWork, scope: Scope, record: dict[str, Any], plan: lifecycle.Plan, now: int
) -> None:
    """Move the hold as ``plan`` says, with the matching entry on the authorization's
    Treasury transaction. Raises ``InsufficientFunds`` (nothing written) if a grown hold
    is not covered; the record itself is changed only by ``lifecycle.apply`` afterwards."""
    if plan.hold is None or (plan.hold.live is None and plan.hold.new is None):
        return
    pair = _pair(uow, scope, record, now)
    impact = money.step(
        uow,
        scope.account,
        (record.get("treasury") or {}).get("transaction"),
        pair,
        _hold_batch(pair, record, plan.hold),
        now,
        held="issuing_authorization_hold",
        released="issuing_authorization_release",
        closing=plan.closing,
    )
    if record["_financial_account"] is None:
        issuing_balance.note_hold(uow, scope.account, record, impact, now)


def carry_out(
    uow: UnitOfWork, scope: Scope, record: dict[str, Any], plan: lifecycle.Plan, now: int
) -> None:
    """Apply a lifecycle plan whose money already moved: spend, record, expiry row."""
    category = record["merchant_data"]["category"]
    card_spend.add(uow, record["card"], record["cardholder"], category, plan.spend, now)
    lifecycle.apply(record, plan)
    if lifecycle.ends_pending(plan):
        end_pending(uow, record)


def end_pending(uow: UnitOfWork, record: dict[str, Any]) -> None:
    _expiries(uow).remove(record["id"])


def _expiries(uow: UnitOfWork) -> Expiries:
    return Expiries(uow.conn, uow.docs.raw)


def conclude(
    uow: UnitOfWork,
    scope: Scope,
    pending: realtime.Pending,
    reply: realtime_rules.Reply,
    timeout_approves_default: bool,
) -> dict[str, Any]:
    """Step 3 of a real-time authorization (see ``services.realtime_authorizations``)."""
    record = load(uow, scope, pending.authorization_id, for_update=True)
    request = record["pending_request"]
    outcome = realtime_rules.decide(
        reply,
        record.pop("_api_decision", None),
        requested=record["_requested"],
        amount_controllable=request["is_amount_controllable"],
        timeout_approves=realtime.timeout_approves(uow, scope, timeout_approves_default),
    )
    now = scope.now()
    record["pending_request"] = None
    if outcome.metadata:
        record["metadata"] = {**record["metadata"], **outcome.metadata}
    decision = outcome.decision
    # Read only when it matters: a decline holds nothing.
    fa_id, currency = record["_financial_account"], record["currency"]
    available = _funds(uow, scope, fa_id, currency) if decision.approved else 0
    state = lifecycle.State.of(record)
    plan = lifecycle.conclude(state, decision, outcome.amount, record["_requested"], available)
    record_decision(uow, scope, record, plan, now, insert=False)
    return record


def save(uow: UnitOfWork, scope: Scope, before: dict[str, Any], after: dict[str, Any]) -> None:
    uow.docs.update(after, domain.index_keys(after))
    changed = events.changed_attributes(before, after)
    events.record(
        uow, scope, "issuing_authorization.updated", TYPE, after, previous_attributes=changed
    )


def require_pending(record: dict[str, Any]) -> None:
    lifecycle.require_pending(record["status"])


def expire_due(uow: UnitOfWork, scope: Scope, limit: int = 100) -> None:
    """Expire this account's authorizations whose window has passed (by the injected clock).

    Called before every API request of the account: one indexed read when
    nothing is due, so expiry needs no background job and tests need no sleep.
    """
    now = scope.now()
    while True:  # in batches, until none is due: a later read must never see an overdue hold
        due = _expiries(uow).due(scope.account, now, limit)
        for auth_id in due:
            record = load(uow, scope, auth_id, for_update=True)
            if record["status"] == lifecycle.PENDING:
                expire(uow, scope, record)
            else:
                end_pending(uow, record)
        if len(due) < limit:
            return


def expire(uow: UnitOfWork, scope: Scope, record: dict[str, Any]) -> dict[str, Any]:
    plan = lifecycle.expire(lifecycle.State.of(record))
    before = domain.snapshot(record)
    now = scope.now()
    change_hold(uow, scope, record, plan, now)
    carry_out(uow, scope, record, plan, now)
    save(uow, scope, before, record)
    return record
