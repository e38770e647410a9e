"""Money arriving in (received credits) and pulled out of (received debits) financial accounts.

Each succeeded flow is one posted ledger transfer between the financial
account and the counterparty account of its network, one posted Treasury
transaction with one entry, and its events — all in the caller's transaction.
A received debit that the cash cannot cover fails with ``insufficient_funds``
and moves nothing (the ledger itself refuses it: the check and the debit are
one locked step).
"""

from __future__ import annotations

from typing import Any

from openissuing.domain.errors import (
    AmountNotPositive,
    InsufficientFunds,
    InvalidRequest,
)
from openissuing.domain.ledger import money as movements
from openissuing.domain.treasury import inbound
from openissuing.services import events, money
from openissuing.services.scope import Scope
from openissuing.storage.uow import UnitOfWork
from openissuing.wire import registry

CREDIT = "treasury.received_credit"
DEBIT = "treasury.received_debit"
FINANCIAL_ACCOUNT = "treasury.financial_account"


def load_financial_account(
    uow: UnitOfWork, scope: Scope, fa_id: str, *, param: str = "financial_account"
) -> dict[str, Any]:
    return uow.docs.require(FINANCIAL_ACCOUNT, fa_id, scope.account, param=param)


def _check_currency(fa: dict[str, Any], currency: str) -> str:
    currency = currency.lower()
    if currency not in fa.get("supported_currencies", []):
        raise InvalidRequest(
            f"The financial account does not support the currency '{currency}'.", param="currency"
        )
    return currency


_NO_ADDRESS = ("city", "country", "line1", "line2", "postal_code", "state")


def _initiating(params: dict[str, Any], issuing_card: str | None) -> dict[str, Any]:
    """Who sent or pulled the money: a card (Issuing flows) or a bank account (test helpers)."""
    bank = (params.get("initiating_payment_method_details") or {}).get("us_bank_account") or {}
    account_number = bank.get("account_number") or "000123456789"
    return {
        "balance": None,
        "billing_details": {
            "address": {k: None for k in _NO_ADDRESS},
            "email": None,
            "name": None if issuing_card else bank.get("account_holder_name"),
        },
        "financial_account": None,
        "issuing_card": issuing_card,
        "type": "issuing_card" if issuing_card else "us_bank_account",
        "us_bank_account": None
        if issuing_card
        else {
            "bank_name": "STRIPE TEST BANK",
            "last4": account_number[-4:],
            "routing_number": bank.get("routing_number") or "110000000",
        },
    }


def _base(
    object_type: str,
    params: dict[str, Any],
    fa: dict[str, Any],
    now: int,
    network: str,
    issuing_card: str | None = None,
) -> dict[str, Any]:
    return {
        "id": registry.id_for(object_type),
        "object": object_type,
        "amount": params["amount"],
        "created": now,
        "currency": params["currency"].lower(),
        "description": params.get("description")
        or ("Card transaction" if issuing_card else "Stripe Test"),
        "failure_code": None,
        "financial_account": fa["id"],
        "hosted_regulatory_receipt_url": None,
        "initiating_payment_method_details": _initiating(params, issuing_card),
        "livemode": False,
        "network": network,
        # Only ACH flows have a reversal deadline; card flows are reversed through disputes,
        # wires and RTP not at all (domain.treasury.inbound, "reversing received credits").
        "reversal_details": {
            "deadline": None
            if issuing_card or network != inbound.NETWORK
            else now + inbound.ACH_REVERSAL_WINDOW_SECONDS,
            "restricted_reason": None,
        },
        "status": "succeeded",
        "transaction": None,
    }


def create_credit(
    uow: UnitOfWork,
    scope: Scope,
    params: dict[str, Any],
    *,
    linked: dict | None = None,
    network: str | None = None,
    issuing_card: str | None = None,
    initiating: dict | None = None,
) -> dict[str, Any]:
    """A received credit; ``initiating`` overrides who sent it (a financial account on the
    stripe network, services.outbound_flows)."""
    AmountNotPositive.check(params["amount"], "amount")
    fa = load_financial_account(uow, scope, params["financial_account"])
    currency = _check_currency(fa, params["currency"])
    now = scope.now()
    network = network or params["network"]
    record = _base(CREDIT, params, fa, now, network, issuing_card)
    if initiating is not None:
        record["initiating_payment_method_details"] = initiating
    record["linked_flows"] = {
        "credit_reversal": None,
        "issuing_authorization": None,
        "issuing_transaction": None,
        "source_flow": None,
        "source_flow_details": None,
        "source_flow_type": None,
        **(linked or {}),
    }
    if fa["status"] != "open":
        record.update(status="failed", failure_code="account_closed")
    elif (fa.get("platform_restrictions") or {}).get("inbound_flows") == "restricted":
        record.update(status="failed", failure_code="account_frozen")
    else:
        record["transaction"] = _move(
            uow, scope, fa, currency, record, network, incoming=True, now=now
        )["id"]
    uow.docs.insert(
        CREDIT, scope.account, record, {"financial_account": fa["id"], "status": record["status"]}
    )
    events.record(uow, scope, "treasury.received_credit.created", CREDIT, record)
    events.record(uow, scope, f"treasury.received_credit.{record['status']}", CREDIT, record)
    return record


def create_debit(
    uow: UnitOfWork,
    scope: Scope,
    params: dict[str, Any],
    *,
    linked: dict | None = None,
    network: str | None = None,
    allow_overdraft: bool = False,
    issuing_card: str | None = None,
    reversal_details: dict | None = None,
) -> dict[str, Any]:
    """A debit; card captures pass ``allow_overdraft`` (the platform covers a negative balance),
    and so do returned inbound transfers (the bank has taken the money back). A flow that may
    not be reversed passes its ``reversal_details``."""
    AmountNotPositive.check(params["amount"], "amount")
    fa = load_financial_account(uow, scope, params["financial_account"])
    currency = _check_currency(fa, params["currency"])
    now = scope.now()
    network = network or params["network"]
    record = _base(DEBIT, params, fa, now, network, issuing_card)
    record["linked_flows"] = {
        "debit_reversal": None,
        "inbound_transfer": None,
        "issuing_authorization": None,
        "issuing_transaction": None,
        "payout": None,
        "topup": None,
        **(linked or {}),
    }
    if reversal_details is not None:
        record["reversal_details"] = reversal_details
    if fa["status"] != "open":
        record.update(status="failed", failure_code="account_closed")
    else:
        try:
            trxn = _move(
                uow,
                scope,
                fa,
                currency,
                record,
                network,
                incoming=False,
                now=now,
                require_available=not allow_overdraft,
            )
            record["transaction"] = trxn["id"]
        except InsufficientFunds as refused:  # the ledger refused and moved nothing
            record.update(status="failed", failure_code=refused.code)
    uow.docs.insert(
        DEBIT, scope.account, record, {"financial_account": fa["id"], "status": record["status"]}
    )
    events.record(uow, scope, "treasury.received_debit.created", DEBIT, record)
    return record


def _move(
    uow,
    scope,
    fa,
    currency,
    record,
    network,
    *,
    incoming: bool,
    now: int,
    require_available: bool = False,
):
    flow_type = "received_credit" if incoming else "received_debit"
    return post(
        uow,
        scope,
        fa["id"],
        currency,
        record,
        network,
        flow_type,
        record["description"],
        incoming=incoming,
        now=now,
        require_available=require_available,
    )


def post(
    uow: UnitOfWork,
    scope: Scope,
    fa_id: str,
    currency: str,
    record: dict[str, Any],
    network: str,
    flow_type: str,
    description: str,
    *,
    incoming: bool,
    now: int,
    require_available: bool = False,
):
    """One posted transfer between the financial account and the network's counterparty account,
    and its posted Treasury transaction (flow ``record``); returns the transaction.

    Raises ``InsufficientFunds`` (nothing written) when ``require_available`` and the cash is short.
    """
    pair = money.pair(uow, scope.account, fa_id, currency, network, now)
    flow_id, amount = record["id"], record["amount"]
    batch = (
        movements.credit(pair, flow_id, amount, flow_id)
        if incoming
        else movements.debit(pair, flow_id, amount, flow_id, require_available=require_available)
    )
    trail = money.Trail(scope.account, fa_id, flow_type, flow_id, description, flow_type)
    return money.post(uow, trail, pair, batch, now)


def load(uow: UnitOfWork, scope: Scope, object_type: str, object_id: str) -> dict[str, Any]:
    return uow.docs.require(object_type, object_id, scope.account, param="id")


def list_(uow: UnitOfWork, scope: Scope, object_type: str, params: dict[str, Any], **page: Any):
    load_financial_account(uow, scope, params["financial_account"])
    # Every Treasury list is per financial account; status and transaction narrow it where given.
    filters = {"financial_account": params["financial_account"]}
    for name in ("status", "transaction"):
        if params.get(name):
            filters[name] = params[name]
    return uow.docs.list(object_type, scope.account, filters=filters, **page)
