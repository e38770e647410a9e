"""Treasury inbound transfers: money pulled by ACH from the user's own bank account.

Money (``domain.ledger.money``, the pair is the financial account and ``external_ach``):

* create: a pending credit of the amount (``expect``): the account's ``inbound_pending`` grows,
  its cash does not. One open Treasury transaction, ``flow_type=inbound_transfer``, first entry
  ``inbound_transfer`` (inbound_pending +amount).
* succeed (test helper): the pending credit is posted: cash +amount, inbound_pending -amount;
  a second ``inbound_transfer`` entry, and the transaction is posted.
* fail (test helper) / cancel: the pending credit is voided: inbound_pending -amount; the
  transaction comes back to 0 and is void.
* return (test helper, succeeded only, once): the bank took the money back. A ReceivedDebit
  (ACH, ``linked_flows.inbound_transfer``) debits the amount from cash, with its own posted
  Treasury transaction (``flow_type=received_debit``). The cash may go negative: an ACH return
  is not the user's to refuse. The inbound transfer keeps ``status=succeeded``, says
  ``returned=true`` and links the received debit.

The lifecycle's rules are pure (``domain.treasury.inbound``): plan, move the money, carry out,
save, record the event.
"""

from __future__ import annotations

from typing import Any

from openissuing.domain import metadata
from openissuing.domain.errors import AmountNotPositive, ResourceMissing
from openissuing.domain.ledger import money as movements
from openissuing.domain.treasury import inbound
from openissuing.services import events, money, received_flows
from openissuing.services.scope import Scope
from openissuing.storage.uow import UnitOfWork
from openissuing.wire import registry

TYPE = "treasury.inbound_transfer"
FLOW = "inbound_transfer"
EXTERNAL_BANK_ACCOUNT = "bank_account"
_NO_ADDRESS = ("city", "country", "line1", "line2", "postal_code", "state")
# Stripe's US test bank account (what its test PaymentMethods and SetupIntents give).
TEST_BANK = {
    "account_holder_name": None,
    "account_holder_type": "individual",
    "account_type": "checking",
    "bank_name": "STRIPE TEST BANK",
    "fingerprint": "OIsTESTbank6789ZZ",
    "last4": "6789",
    "routing_number": "110000000",
}


def origin_details(uow: UnitOfWork, scope: Scope, origin: str) -> dict[str, Any]:
    """``origin_payment_method_details`` for ``origin`` — the one place it is looked up.

    There is no PaymentMethods API here, so a PaymentMethod id (``pm_…``) stands for Stripe's
    US test bank account (STRIPE TEST BANK, routing 110000000, last4 6789). A bank account id
    (``ba_…``) must name a Connect external account (object type ``bank_account``) of the
    acting account, and is shown as that account; any other id is a 404 on
    ``origin_payment_method``.
    """
    bank: dict[str, Any] | None = None
    if origin.startswith("pm_"):
        bank = TEST_BANK
    elif origin.startswith("ba_"):
        bank = _own_bank_account(uow, scope, origin)
    if bank is None:
        kind = "bank account" if origin.startswith("ba_") else "PaymentMethod"
        raise ResourceMissing(kind, origin, param="origin_payment_method")
    return {
        "billing_details": {
            "address": {k: None for k in _NO_ADDRESS},
            "email": None,
            "name": bank.get("account_holder_name"),
        },
        "type": "us_bank_account",
        "us_bank_account": {
            "account_holder_type": bank.get("account_holder_type"),
            "account_type": bank.get("account_type") or "checking",
            "bank_name": bank.get("bank_name"),
            "fingerprint": bank.get("fingerprint"),
            "last4": bank.get("last4"),
            "mandate": None,
            "network": inbound.NETWORK,
            "routing_number": bank.get("routing_number"),
        },
    }


def _own_bank_account(uow: UnitOfWork, scope: Scope, bank_id: str) -> dict[str, Any] | None:
    """A bank account external account of the acting account, wherever it is stored (in the
    account itself, or by the platform that manages it with ``account`` naming the owner)."""
    record = uow.docs.get(EXTERNAL_BANK_ACCOUNT, bank_id, scope.account)
    if record is not None:
        return record
    found = uow.docs.owner_of(bank_id)
    if found is None or found[0] != EXTERNAL_BANK_ACCOUNT:
        return None
    record = uow.docs.get(EXTERNAL_BANK_ACCOUNT, bank_id, found[1])
    return record if record is not None and record.get("account") == scope.account else None


def _keys(record: dict[str, Any]) -> dict[str, str]:
    return {"financial_account": record["financial_account"], "status": record["status"]}


def create(uow: UnitOfWork, scope: Scope, params: dict[str, Any]) -> dict[str, Any]:
    """POST /v1/treasury/inbound_transfers: validate everything, then expect the money."""
    amount = AmountNotPositive.check(params["amount"], "amount")
    fa = received_flows.load_financial_account(uow, scope, params["financial_account"])
    currency = inbound.check_can_receive(fa, params["currency"])
    descriptor = inbound.statement_descriptor(params.get("statement_descriptor"))
    meta = metadata.apply({}, params.get("metadata"))
    details = origin_details(uow, scope, params["origin_payment_method"])
    now = scope.now()
    record: dict[str, Any] = {
        "id": registry.id_for(TYPE),
        "object": TYPE,
        "amount": amount,
        "cancelable": True,
        "created": now,
        "currency": currency,
        "description": params.get("description") or None,
        "failure_details": None,
        "financial_account": fa["id"],
        "hosted_regulatory_receipt_url": None,
        "linked_flows": {"received_debit": None},
        "livemode": False,
        "metadata": meta,
        "origin_payment_method": params["origin_payment_method"],
        "origin_payment_method_details": details,
        "returned": False,
        "statement_descriptor": descriptor,
        "status": "processing",
        "status_transitions": {"canceled_at": None, "failed_at": None, "succeeded_at": None},
        "transaction": None,
    }
    pair = money.pair(uow, scope.account, fa["id"], currency, inbound.NETWORK, now)
    batch = movements.expect(pair, _hold_id(record), amount, record["id"])
    trail = money.Trail(scope.account, fa["id"], FLOW, record["id"], _description(record), FLOW)
    trxn = money.open_transaction(
        uow, trail, pair, money.execute(uow, pair, batch, now), now, posted=False
    )
    record["transaction"] = trxn["id"]
    uow.docs.insert(TYPE, scope.account, record, _keys(record))
    events.record(uow, scope, "treasury.inbound_transfer.created", TYPE, record)
    return record


def _hold_id(record: dict[str, Any]) -> str:
    return f"{record['id']}:in"


def _description(record: dict[str, Any]) -> str:
    return record["description"] or "Inbound transfer"


def load(uow: UnitOfWork, scope: Scope, transfer_id: str, *, for_update: bool = False):
    return uow.docs.require(TYPE, transfer_id, scope.account, for_update=for_update)


# Both steps' entries are ``inbound_transfer`` entries (Stripe has no other type for them).
_SETTLING: dict[str, Any] = {"held": FLOW, "released": FLOW, "posting": True}
_DROPPING: dict[str, Any] = {"held": FLOW, "released": FLOW, "closing": True}


def act(
    uow: UnitOfWork, scope: Scope, transfer_id: str, action: str, params: dict[str, Any]
) -> dict[str, Any]:
    """succeed / fail / cancel / return: plan, move the money, carry out, save, record."""
    record = load(uow, scope, transfer_id, for_update=True)
    step = inbound.plan(record, action)
    now = scope.now()
    pair = money.pair(
        uow, scope.account, record["financial_account"], record["currency"], inbound.NETWORK, now
    )
    live = movements.Hold(_hold_id(record), record["amount"])
    received_debit = None
    if step.money == "settle":
        batch = movements.settle(pair, live, record["amount"], record["id"], incoming=True)
        money.step(uow, scope.account, record["transaction"], pair, batch, now, **_SETTLING)
    elif step.money == "release":
        batch = movements.release(pair, live, record["id"], incoming=True)
        money.step(uow, scope.account, record["transaction"], pair, batch, now, **_DROPPING)
    else:
        received_debit = _return(uow, scope, record)["id"]
    failure_code = (params.get("failure_details") or {}).get("code")
    after = inbound.carry_out(
        record, step, now, failure_code=failure_code, received_debit=received_debit
    )
    uow.docs.update(after, _keys(after))
    if step.action != "return":  # Stripe has no event for a return but the received debit's
        events.record(uow, scope, f"treasury.inbound_transfer.{after['status']}", TYPE, after)
    return after


def _return(uow: UnitOfWork, scope: Scope, record: dict[str, Any]) -> dict[str, Any]:
    """The ACH return: a received debit of the amount, linked to the transfer, not reversible."""
    bank = record["origin_payment_method_details"]["us_bank_account"]
    params = {
        "financial_account": record["financial_account"],
        "amount": record["amount"],
        "currency": record["currency"],
        "description": f"Return of inbound transfer {record['id']}",
        "initiating_payment_method_details": {
            "type": "us_bank_account",
            "us_bank_account": {
                "account_holder_name": record["origin_payment_method_details"]["billing_details"][
                    "name"
                ],
                "account_number": bank["last4"],
                "routing_number": bank["routing_number"],
            },
        },
    }
    return received_flows.create_debit(
        uow,
        scope,
        params,
        linked={"inbound_transfer": record["id"]},
        network=inbound.NETWORK,
        allow_overdraft=True,
        reversal_details={"deadline": None, "restricted_reason": "source_flow_restricted"},
    )


def list_(uow: UnitOfWork, scope: Scope, params: dict[str, Any], **page: Any):
    received_flows.load_financial_account(uow, scope, params["financial_account"])
    filters = {"financial_account": params["financial_account"]}
    if params.get("status"):
        filters["status"] = params["status"]
    return uow.docs.list(TYPE, scope.account, filters=filters, **page)
