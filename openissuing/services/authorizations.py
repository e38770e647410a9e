"""Authorizations: the real-time decision, the hold, and the merchant's later actions.

Everything one request does — decision, ledger hold, Treasury records, spend,
events — happens in the caller's single database transaction. The hold is a
pending ledger transfer from the financial account to the card network; the
ledger re-checks the available cash while holding the account's lock, so two
authorizations can never spend the same money.
"""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import delete, insert

from openissuing.domain import ledger as rules
from openissuing.domain.errors import InvalidRequest, ResourceMissing
from openissuing.domain.issuing import authorizations as domain
from openissuing.services import balances, card_spend, events, ledger, treasury_records
from openissuing.services.scope import Scope
from openissuing.storage.tables import authorization_expiries
from openissuing.storage.uow import UnitOfWork
from openissuing.wire import registry

TYPE = "issuing.authorization"
CARD = "issuing.card"
CARDHOLDER = "issuing.cardholder"
FA = "treasury.financial_account"
_INSERT_EXPIRY = insert(authorization_expiries)


def load(
    uow: UnitOfWork,
    scope: Scope,
    auth_id: str,
    *,
    for_update: bool = False,
    param: str = "authorization",
) -> dict[str, Any]:
    record = uow.docs.get(TYPE, auth_id, scope.account, for_update=for_update)
    if record is None:
        raise ResourceMissing("issuing.authorization", auth_id, param=param)
    return record


def _ledger_accounts(
    uow: UnitOfWork, scope: Scope, fa_id: str, currency: str, now: int
) -> tuple[str, str]:
    fa_account = ledger.account_id(uow, ledger.FINANCIAL_ACCOUNT, fa_id, currency, now)
    network = ledger.account_id(uow, ledger.CARD_NETWORK, scope.account, currency, now)
    return fa_account, network


def _available(uow: UnitOfWork, fa_id: str | None, currency: str) -> int:
    return 0 if fa_id is None else balances.cash(uow, fa_id, currency)


def _request(
    params: dict[str, Any], card: dict[str, Any], merchant: dict[str, Any]
) -> domain.Request:
    amount = params.get("amount", params.get("merchant_amount"))
    if amount is None:
        raise InvalidRequest(
            "Missing required param: amount.", code="parameter_missing", param="amount"
        )
    if amount <= 0:
        raise InvalidRequest("The amount must be greater than 0.", param="amount")
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
    cardholder = uow.docs.get(CARDHOLDER, card["cardholder"], scope.account)
    fa = (
        uow.docs.get(FA, card["financial_account"], scope.account)
        if card.get("financial_account")
        else None
    )
    merchant = domain.merchant_data(params.get("merchant_data"))
    request = _request(params, card, merchant)
    decision = domain.decide(
        request,
        card,
        cardholder,
        fa,
        now=now,
        available=_available(uow, fa and fa["id"], request.currency),
        card_spent=lambda since, cats: card_spend.spent(
            uow, card=card["id"], since=since, categories=cats
        ),
        cardholder_spent=lambda since, cats: card_spend.spent(
            uow, cardholder=cardholder["id"], since=since, categories=cats
        ),
    )
    record = _new_record(scope, params, card, merchant, request, now)
    if decision.approved:
        # The platform's real-time decision, only for what the built-in checks approved.
        from openissuing.services import realtime_authorizations as realtime

        endpoint = realtime.find_endpoint(uow, scope)
        if endpoint is not None:
            return realtime.begin(uow, scope, record, request, endpoint, now)
        approve_with_hold_last(uow, scope, record, request.amount, now, decision, insert=True)
        return record
    finish(uow, scope, record, decision, request.amount, now, insert=True)
    return record


def _new_record(scope, params, card, merchant, request: domain.Request, now: int) -> dict[str, Any]:
    return {
        "id": registry.id_for(TYPE),
        "object": TYPE,
        "amount": request.amount,
        "amount_details": params.get("amount_details"),
        "approved": False,
        "authorization_method": params.get("authorization_method", "online"),
        "balance_transactions": [],
        "card": card["id"],
        "card_presence": request.card_presence,
        "cardholder": card["cardholder"],
        "created": now,
        "currency": request.currency,
        "fleet": params.get("fleet"),
        "fraud_challenges": [],
        "fuel": params.get("fuel"),
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
        "token": None,
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
    }


def approve_with_hold_last(
    uow, scope, record, amount: int, now: int, decision: domain.Decision, *, insert: bool
) -> domain.Decision:
    """Write everything an approval writes, then place the hold last; returns the final decision.

    The hold locks the financial account's ledger row until commit, so it comes
    last to keep that lock short (a busy account's purchases queue on it). Its
    funds check, under the lock, is the final one: if another purchase took the
    cash since the unlocked pre-check, the approval's writes are rolled back to
    a savepoint and the decline is recorded instead.
    """
    fa_account, network = _ledger_accounts(
        uow, scope, record["_financial_account"], record["currency"], now
    )
    hold = rules.Transfer(
        id=f"{record['id']}:hold:{record['_hold_seq'] + 1}",
        debit_account=fa_account,
        credit_account=network,
        amount=amount,
        currency=record["currency"],
        kind=rules.Kind.PENDING,
        flow=record["id"],
        require_available=True,
    )
    before = copy.deepcopy(record)
    savepoint = uow.conn.begin_nested()
    try:
        trxn = treasury_records.create(
            uow,
            scope.account,
            record["_financial_account"],
            record["currency"],
            "issuing_authorization",
            record["id"],
            f"{record['merchant_data']['name'] or 'Card'} | Issuing authorization",
            "issuing_authorization_hold",
            rules.impact_on(fa_account, hold, None),
            now,
        )
        record["treasury"] = {
            "received_credits": [],
            "received_debits": [],
            "transaction": trxn["id"],
        }
        record["_hold_seq"] += 1
        record["_hold_id"], record["_held"] = hold.id, amount
        finish(uow, scope, record, decision, amount, now, insert=insert)
        ledger.execute(uow, [hold], now)
        savepoint.commit()
        return decision
    except ledger.LedgerRejected as rejected:
        savepoint.rollback()
        if rejected.result is not rules.Result.EXCEEDS_AVAILABLE:
            raise
    record.clear()
    record.update(before)
    declined = domain.Decision(
        False, "insufficient_funds", "The financial account's cash balance is insufficient."
    )
    finish(uow, scope, record, declined, amount, now, insert=insert)
    return declined


def finish(
    uow, scope, record, decision: domain.Decision, amount: int, now: int, *, insert: bool
) -> None:
    """Record the decision: history, status, spend, expiry, and ``issuing_authorization.created``."""
    requested = record["amount"] if insert else record["_requested"]
    record["approved"] = decision.approved
    record["status"] = "pending" if decision.approved else "closed"
    record["amount"] = amount if decision.approved else requested
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
        uow.docs.insert(TYPE, scope.account, record, _keys(record))
    else:
        uow.docs.update(record, _keys(record))
    if decision.approved:
        category = record["merchant_data"]["category"]
        card_spend.add(uow, record["card"], record["cardholder"], category, amount, now)
        uow.conn.execute(
            _INSERT_EXPIRY,
            {
                "authorization_id": record["id"],
                "owner": scope.account,
                "expires_at": now + domain.expiry_seconds(category),
            },
        )
    events.record(uow, scope, "issuing_authorization.created", TYPE, record)


def _keys(record: dict[str, Any]) -> dict[str, str]:
    return {"card": record["card"], "cardholder": record["cardholder"], "status": record["status"]}


def _set_hold(
    uow, scope, record, new_amount: int, now: int, *, require_available: bool
) -> rules.Impact:
    """Replace the live hold with one of ``new_amount`` (0 releases it); returns the FA impact.

    Void-then-pend in one ledger batch: the new hold's funds check sees the old
    hold released, so an increment only needs the difference to be available.
    """
    fa_account, network = _ledger_accounts(
        uow, scope, record["_financial_account"], record["currency"], now
    )
    batch: list[rules.Transfer] = []
    if record["_hold_id"]:
        batch.append(
            rules.Transfer(
                id=f"{record['_hold_id']}:void",
                debit_account=fa_account,
                credit_account=network,
                amount=record["_held"],
                currency=record["currency"],
                kind=rules.Kind.VOID_PENDING,
                pending_id=record["_hold_id"],
                flow=record["id"],
            )
        )
    hold_id = None
    if new_amount > 0:
        record["_hold_seq"] += 1
        hold_id = f"{record['id']}:hold:{record['_hold_seq']}"
        batch.append(
            rules.Transfer(
                id=hold_id,
                debit_account=fa_account,
                credit_account=network,
                amount=new_amount,
                currency=record["currency"],
                kind=rules.Kind.PENDING,
                flow=record["id"],
                require_available=require_available,
            )
        )
    if not batch:
        return rules.Impact()
    outcome = ledger.execute(uow, batch, now)
    record["_hold_id"], record["_held"] = hold_id, new_amount
    return outcome.impact_on(fa_account, batch)


def change_hold(
    uow,
    scope,
    record,
    new_amount: int,
    now: int,
    *,
    require_available: bool = False,
    closing: bool = False,
) -> None:
    """Move the hold and write the matching Treasury entry on the authorization's transaction."""
    impact = _set_hold(uow, scope, record, new_amount, now, require_available=require_available)
    trxn_id = (record.get("treasury") or {}).get("transaction")
    if trxn_id is None or impact == rules.Impact():
        return
    trxn = treasury_records.load_transaction(uow, scope.account, trxn_id)
    entry_type = (
        "issuing_authorization_hold" if impact.cash < 0 else "issuing_authorization_release"
    )
    settle = "void" if closing and trxn["amount"] + impact.cash == 0 else None
    treasury_records.add_entry(uow, scope.account, trxn, entry_type, impact, now, settle=settle)


def end_pending(uow: UnitOfWork, record: dict[str, Any]) -> None:
    uow.conn.execute(
        delete(authorization_expiries).where(
            authorization_expiries.c.authorization_id == record["id"]
        )
    )


def save(uow: UnitOfWork, scope: Scope, before: dict[str, Any], after: dict[str, Any]) -> None:
    uow.docs.update(after, _keys(after))
    changed = events.changed_attributes(_public(before), _public(after))
    events.record(
        uow, scope, "issuing_authorization.updated", TYPE, after, previous_attributes=changed
    )


def _public(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if not k.startswith("_")}


def require_pending(record: dict[str, Any]) -> None:
    if record["status"] != "pending":
        raise InvalidRequest(
            f"This authorization is {record['status']}; only pending authorizations can be changed.",
            param="authorization",
        )


def expire_due(uow: UnitOfWork, scope: Scope, limit: int = 100) -> None:
    """Expire this account's authorizations whose window has passed (by the injected clock).

    Called before every API request of the account: one indexed read when
    nothing is due, so expiry needs no background job and tests need no sleep.
    """
    now = scope.now()
    while True:  # in batches, until none is due: a later read must never see an overdue hold
        due = [
            row[0]
            for row in uow.docs.raw.all(
                "SELECT authorization_id FROM authorization_expiries WHERE owner = ? AND expires_at <= ? "
                "ORDER BY expires_at LIMIT ?",
                (scope.account, now, limit),
            )
        ]
        for auth_id in due:
            record = load(uow, scope, auth_id, for_update=True)
            if record["status"] == "pending":
                expire(uow, scope, record)
            else:
                end_pending(uow, record)
        if len(due) < limit:
            return


def expire(uow: UnitOfWork, scope: Scope, record: dict[str, Any]) -> dict[str, Any]:
    require_pending(record)
    before = domain.snapshot(record)
    now = scope.now()
    released = record["_held"]
    change_hold(uow, scope, record, 0, now, closing=True)
    card_spend.add(
        uow,
        record["card"],
        record["cardholder"],
        record["merchant_data"]["category"],
        -released,
        now,
    )
    record["status"] = "expired"
    end_pending(uow, record)
    save(uow, scope, before, record)
    return record
