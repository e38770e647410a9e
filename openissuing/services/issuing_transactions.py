"""Issuing transactions: captures (negative amounts) and refunds (positive), each
moving the ledger through a Treasury received debit or received credit — or, for a card
without a financial account, debiting or crediting its account's Issuing balance with a
``balance_transaction`` (``services.issuing_balance``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from openissuing.domain import metadata
from openissuing.domain.errors import (
    AmountNotPositive,
    AmountTooLarge,
    InvalidRequest,
    ResourceMissing,
)
from openissuing.domain.issuing import authorizations as auth_domain
from openissuing.domain.issuing import details, lifecycle
from openissuing.services import (
    authorizations,
    card_lifecycle,
    card_spend,
    events,
    issuing_balance,
    received_flows,
)
from openissuing.services.scope import Scope
from openissuing.storage.uow import UnitOfWork
from openissuing.wire import registry

TYPE = "issuing.transaction"


def load(
    uow: UnitOfWork,
    scope: Scope,
    txn_id: str,
    *,
    param: str = "transaction",
    for_update: bool = False,
) -> dict[str, Any]:
    return uow.docs.require(TYPE, txn_id, scope.account, param=param, for_update=for_update)


def _record(
    card: dict,
    kind: str,
    amount: int,
    currency: str,
    merchant: dict,
    now: int,
    *,
    authorization: str | None,
    purchase_details: dict | None,
    auth_code: str | None,
) -> dict[str, Any]:
    signed = -amount if kind == "capture" else amount
    return {
        "id": registry.id_for(TYPE),
        "object": TYPE,
        "amount": signed,
        "amount_details": {"atm_fee": None, "cashback_amount": None},
        "authorization": authorization,
        "balance_transaction": None,
        "card": card["id"],
        "cardholder": card["cardholder"],
        "created": now,
        "currency": currency,
        "dispute": None,
        "livemode": False,
        "merchant_amount": signed,
        "merchant_currency": currency,
        "merchant_data": merchant,
        "metadata": {},
        "network_data": {
            "authorization_code": auth_code,
            "processing_date": dt.datetime.fromtimestamp(now, dt.UTC).strftime("%Y-%m-%d"),
            "transaction_id": None,
        },
        "purchase_details": details.shape(details.PURCHASE_DETAILS, purchase_details),
        "token": None,
        "treasury": {"received_credit": None, "received_debit": None},
        "type": kind,
        "wallet": None,
        "_disputed": 0,
    }


def _move_money(uow, scope, card, txn, amount: int, currency: str, linked: dict, now: int):
    """A capture is a received debit from the card's FA (overdraft allowed); a refund a credit.
    A card without a FA settles on the Issuing balance instead (no Treasury flow: None)."""
    if not card.get("financial_account"):
        issuing_balance.settle_transaction(uow, scope.account, txn, amount, currency, now)
        return None
    params = {
        "amount": amount,
        "currency": currency,
        "financial_account": card["financial_account"],
        "description": f"{txn['merchant_data'].get('name') or 'Card'} | Issuing {txn['type']}",
    }
    linked = {**linked, "issuing_transaction": txn["id"]}
    if txn["type"] == "capture":
        flow = received_flows.create_debit(
            uow,
            scope,
            params,
            linked=linked,
            network="card",
            allow_overdraft=True,
            issuing_card=card["id"],
        )
        txn["treasury"]["received_debit"] = flow["id"]
    else:
        flow = received_flows.create_credit(
            uow, scope, params, linked=linked, network="card", issuing_card=card["id"]
        )
        txn["treasury"]["received_credit"] = flow["id"]
    return flow


def _insert(uow, scope, txn) -> None:
    uow.docs.insert(
        TYPE,
        scope.account,
        txn,
        {
            "card": txn["card"],
            "cardholder": txn["cardholder"],
            "type": txn["type"],
            "authorization": txn["authorization"] or None,
        },
    )
    events.record(uow, scope, "issuing_transaction.created", TYPE, txn)


def capture(uow: UnitOfWork, scope: Scope, auth_id: str, params: dict[str, Any]) -> dict[str, Any]:
    record = authorizations.load(uow, scope, auth_id, for_update=True)
    close = params.get("close_authorization", True)
    plan = lifecycle.capture(lifecycle.State.of(record), params.get("capture_amount"), close)
    amount = plan.captured - record["_captured"]
    before = auth_domain.snapshot(record)
    now = scope.now()
    card = uow.docs.get("issuing.card", record["card"], scope.account)
    authorizations.change_hold(uow, scope, record, plan, now)
    code = next((h["authorization_code"] for h in record["request_history"] if h["approved"]), None)
    txn = _record(
        card,
        "capture",
        amount,
        record["currency"],
        record["merchant_data"],
        now,
        authorization=record["id"],
        purchase_details=params.get("purchase_details"),
        auth_code=code,
    )
    txn["token"], txn["wallet"] = record.get("token"), record.get("wallet")
    flow = _move_money(
        uow,
        scope,
        card,
        txn,
        amount,
        record["currency"],
        {"issuing_authorization": record["id"]},
        now,
    )
    _insert(uow, scope, txn)
    card_lifecycle.captured(uow, scope, card, record["id"])
    record.setdefault("_transactions", []).append(txn["id"])
    if flow is not None:
        record["treasury"]["received_debits"].append(flow["id"])
    authorizations.carry_out(uow, scope, record, plan, now)
    authorizations.save(uow, scope, before, record)
    return txn


def _card(uow, scope, card_id: str) -> dict[str, Any]:
    card = uow.docs.get("issuing.card", card_id, scope.account)
    if card is None:
        raise ResourceMissing("issuing.card", card_id, param="card")
    return card


def _unlinked(uow: UnitOfWork, scope: Scope, params: dict[str, Any], kind: str) -> dict[str, Any]:
    """Force captures and unlinked refunds: money moves with no authorization (nor its controls)."""
    card = _card(uow, scope, params["card"])
    amount = params["amount"]
    AmountNotPositive.check(amount, "amount")
    currency = (params.get("currency") or card["currency"]).lower()
    now = scope.now()
    merchant = auth_domain.merchant_data(params.get("merchant_data"))
    txn = _record(
        card,
        kind,
        amount,
        currency,
        merchant,
        now,
        authorization=None,
        purchase_details=params.get("purchase_details"),
        auth_code=None,
    )
    _move_money(uow, scope, card, txn, amount, currency, {}, now)
    signed = amount if kind == "capture" else -amount
    card_spend.add(uow, card["id"], card["cardholder"], merchant["category"], signed, now)
    _insert(uow, scope, txn)
    if kind == "capture":  # a force capture is a payment (lifecycle controls)
        card_lifecycle.captured(uow, scope, card, None)
    return txn


def force_capture(uow: UnitOfWork, scope: Scope, params: dict[str, Any]) -> dict[str, Any]:
    return _unlinked(uow, scope, params, "capture")


def unlinked_refund(uow: UnitOfWork, scope: Scope, params: dict[str, Any]) -> dict[str, Any]:
    return _unlinked(uow, scope, params, "refund")


def refund(uow: UnitOfWork, scope: Scope, txn_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """A refund of a capture, at most what is left unrefunded."""
    original = load(uow, scope, txn_id, param="transaction", for_update=True)
    if original["type"] != "capture":
        raise InvalidRequest("Only capture transactions can be refunded.", param="transaction")
    refunded = sum(
        t["amount"] for t in uow.docs.find(TYPE, scope.account, "refund_of", original["id"])
    )
    refundable = -original["amount"] - refunded
    amount = params.get("refund_amount", refundable)
    AmountNotPositive.check(amount, "refund_amount")
    if amount > refundable:
        raise AmountTooLarge("refund_amount", refundable)
    card = _card(uow, scope, original["card"])
    now = scope.now()
    txn = _record(
        card,
        "refund",
        amount,
        original["currency"],
        original["merchant_data"],
        now,
        authorization=original["authorization"],
        purchase_details=None,
        auth_code=original["network_data"]["authorization_code"],
    )
    linked = (
        {"issuing_authorization": original["authorization"]} if original["authorization"] else {}
    )
    flow = _move_money(uow, scope, card, txn, amount, original["currency"], linked, now)
    card_spend.add(
        uow, card["id"], card["cardholder"], original["merchant_data"]["category"], -amount, now
    )
    uow.docs.insert(
        TYPE,
        scope.account,
        txn,
        {
            "card": txn["card"],
            "cardholder": txn["cardholder"],
            "type": "refund",
            "authorization": txn["authorization"] or None,
            "refund_of": original["id"],
        },
    )
    events.record(uow, scope, "issuing_transaction.created", TYPE, txn)
    if original["authorization"]:
        auth = authorizations.load(uow, scope, original["authorization"], for_update=True)
        before = auth_domain.snapshot(auth)
        if flow is not None:
            auth["treasury"]["received_credits"].append(flow["id"])
        auth.setdefault("_transactions", []).append(txn["id"])
        authorizations.save(uow, scope, before, auth)
    return txn


def update(uow: UnitOfWork, scope: Scope, txn_id: str, params: dict[str, Any]) -> dict[str, Any]:
    record = load(uow, scope, txn_id, param="id", for_update=True)
    before = dict(record)
    record["metadata"] = metadata.apply(record["metadata"], params.get("metadata"))
    uow.docs.update(record)
    events.record(
        uow,
        scope,
        "issuing_transaction.updated",
        TYPE,
        record,
        previous_attributes=events.changed_attributes(before, record),
    )
    return record


def list_(uow: UnitOfWork, scope: Scope, params: dict[str, Any], **page: Any):
    filters = {k: params[k] for k in ("card", "cardholder", "type") if params.get(k)}
    return uow.docs.list(TYPE, scope.account, filters=filters, **page)
