"""Treasury credit reversals: a received credit's money sent back where it came from.

Rules (``domain.treasury.inbound``): a received credit can be reversed once, in full, while its
``reversal_details.restricted_reason`` is null — an ACH credit inside its deadline, or a
``stripe`` network credit from an OutboundPayment. The reversal needs the amount in cash
(``insufficient_funds`` otherwise; nothing is written).

Money (the pair is the financial account and the counterparty of the credit's network):

* ``processing``: the amount is held (cash -amount, outbound_pending +amount) — one open
  Treasury transaction, ``flow_type=credit_reversal``, first entry ``credit_reversal``;
* ``posted``: the hold is posted (outbound_pending -amount), a ``credit_reversal_posting``
  entry, and the transaction is posted.

In test mode the reversal posts at once, as debit reversals complete at once: the
``treasury.credit_reversal.created`` event shows it ``processing``, ``.posted`` and the response
show it ``posted``. The received credit then links it (``linked_flows.credit_reversal``) and says
``reversal_details.restricted_reason=already_reversed``.
"""

from __future__ import annotations

import copy
from typing import Any

from openissuing.domain import metadata
from openissuing.domain.errors import FinancialAccountNotOpen, InsufficientFunds, ResourceMissing
from openissuing.domain.ledger import money as movements
from openissuing.domain.treasury import inbound
from openissuing.services import events, money, outbound_flows, received_flows
from openissuing.services.scope import Scope
from openissuing.storage.uow import UnitOfWork
from openissuing.wire import registry

TYPE = "treasury.credit_reversal"
CREDIT = received_flows.CREDIT
FLOW = "credit_reversal"


def load(uow: UnitOfWork, scope: Scope, reversal_id: str) -> dict[str, Any]:
    return uow.docs.require(TYPE, reversal_id, scope.account)


def create(uow: UnitOfWork, scope: Scope, params: dict[str, Any]) -> dict[str, Any]:
    """POST /v1/treasury/credit_reversals: reverse a received credit in full."""
    credit = uow.docs.get(CREDIT, params["received_credit"], scope.account, for_update=True)
    if credit is None:
        raise ResourceMissing(CREDIT, params["received_credit"], param="received_credit")
    now = scope.now()
    inbound.check_reversible(credit, now)
    fa = received_flows.load_financial_account(
        uow, scope, credit["financial_account"], param="received_credit"
    )
    if fa["status"] != "open":
        raise FinancialAccountNotOpen(fa["id"], param="received_credit")
    meta = metadata.apply({}, params.get("metadata"))
    record: dict[str, Any] = {
        "id": registry.id_for(TYPE),
        "object": TYPE,
        "amount": credit["amount"],
        "created": now,
        "currency": credit["currency"],
        "financial_account": fa["id"],
        "hosted_regulatory_receipt_url": None,
        "livemode": False,
        "metadata": meta,
        "network": credit["network"],
        "received_credit": credit["id"],
        "status": "processing",
        "status_transitions": {"posted_at": None},
        "transaction": None,
    }
    pair = money.pair(uow, scope.account, fa["id"], record["currency"], record["network"], now)
    live = movements.Hold(f"{record['id']}:hold", record["amount"])
    try:  # the one step that can still refuse; nothing is written before it
        impact = money.execute(
            uow,
            pair,
            movements.hold(pair, live.id, live.amount, record["id"], require_available=True),
            now,
        )
    except InsufficientFunds:
        raise InsufficientFunds("received_credit") from None
    description = f"Credit reversal | {credit['description']}"
    trail = money.Trail(scope.account, fa["id"], FLOW, record["id"], description, FLOW)
    trxn = money.open_transaction(uow, trail, pair, impact, now, posted=False)
    record["transaction"] = trxn["id"]
    events.record(uow, scope, f"{TYPE}.created", TYPE, copy.deepcopy(record))
    _post(uow, scope, record, pair, live, now)
    uow.docs.insert(TYPE, scope.account, record, _keys(record))
    events.record(uow, scope, f"{TYPE}.posted", TYPE, copy.deepcopy(record))
    credit["linked_flows"]["credit_reversal"] = record["id"]
    uow.docs.update(credit)
    # A stripe-network credit from an OutboundPayment: the payment goes back to its sender.
    outbound_flows.return_reversed_credit(uow, scope, credit)
    return record


def _post(
    uow: UnitOfWork,
    scope: Scope,
    record: dict[str, Any],
    pair: movements.Pair,
    live: movements.Hold,
    now: int,
) -> None:
    """Test mode: the reversal reaches the network at once; its hold is posted."""
    batch = movements.settle(pair, live, live.amount, record["id"])
    money.step(
        uow,
        scope.account,
        record["transaction"],
        pair,
        batch,
        now,
        held=FLOW,
        released="credit_reversal_posting",
        posting=True,
    )
    record["status"] = "posted"
    record["status_transitions"]["posted_at"] = now


def _keys(record: dict[str, Any]) -> dict[str, str]:
    return {
        "financial_account": record["financial_account"],
        "received_credit": record["received_credit"],
        "status": record["status"],
    }


def list_(uow: UnitOfWork, scope: Scope, params: dict[str, Any], **page: Any):
    received_flows.load_financial_account(uow, scope, params["financial_account"])
    filters = {"financial_account": params["financial_account"]}
    for name in ("received_credit", "status"):
        if params.get(name):
            filters[name] = params[name]
    return uow.docs.list(TYPE, scope.account, filters=filters, **page)
