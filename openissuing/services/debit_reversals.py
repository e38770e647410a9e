"""Treasury debit reversals: money a received debit took, put back into its financial account.

Two ways a reversal is made:

* a **won Issuing dispute** reverses (part of) the card received debit of the disputed capture:
  ``network=card``, ``linked_flows.issuing_dispute=idp_…`` (``services.disputes``);
* ``POST /v1/treasury/debit_reversals`` reverses an **ACH** received debit in full
  (``network=ach``). Card received debits are refused there: they come back only by disputing
  the transaction (``POST /v1/issuing/disputes`` with ``treasury[received_debit]``).

Each reversal mirrors a received credit (``services.received_flows``): one posted ledger transfer
from the counterparty account of its network (``card_network`` / ``external_ach``, per connected
account) to the financial account, one posted Treasury transaction ``flow_type=debit_reversal``
with one entry of type ``debit_reversal``, and the events ``treasury.debit_reversal.created`` →
``.initial_credit_granted`` → ``.completed``. In test mode a reversal completes at once
(``status=succeeded``, ``status_transitions.completed_at`` set). The received debit then links it
(``linked_flows.debit_reversal``) and, once reversed in full, says so
(``reversal_details.restricted_reason=already_reversed``).
"""

from __future__ import annotations

import copy
from typing import Any

from openissuing.domain import metadata
from openissuing.domain.errors import InvalidRequest, ResourceMissing
from openissuing.services import events, received_flows
from openissuing.services.scope import Scope
from openissuing.storage.uow import UnitOfWork
from openissuing.wire import registry

TYPE = "treasury.debit_reversal"
DEBIT = received_flows.DEBIT
# The list filter speaks of completed/canceled; the object of succeeded/failed
# (stripe-surface.md §5.8).
STATUS_FILTER = {"completed": "succeeded", "canceled": "failed", "processing": "processing"}


def load(uow: UnitOfWork, scope: Scope, reversal_id: str, *, param: str = "id") -> dict[str, Any]:
    return uow.docs.require(TYPE, reversal_id, scope.account, param=param)


def create(uow: UnitOfWork, scope: Scope, params: dict[str, Any]) -> dict[str, Any]:
    """POST /v1/treasury/debit_reversals: reverse an ACH received debit in full."""
    received = uow.docs.get(DEBIT, params["received_debit"], scope.account, for_update=True)
    if received is None:
        raise ResourceMissing(DEBIT, params["received_debit"], param="received_debit")
    _check_reversible(received, scope.now())
    meta = metadata.apply({}, params.get("metadata"))
    return reverse(uow, scope, received, received["amount"], meta=meta)


def _check_reversible(received: dict[str, Any], now: int) -> None:
    if received["network"] == "card":
        raise InvalidRequest(
            "Received debits from Issuing card transactions cannot be reversed directly; "
            "dispute the transaction instead (POST /v1/issuing/disputes with "
            "treasury[received_debit]).",
            param="received_debit",
        )
    if received["network"] != "ach":
        raise InvalidRequest(
            f"Received debits on the {received['network']} network cannot be reversed.",
            param="received_debit",
        )
    if (received.get("reversal_details") or {}).get("restricted_reason") == (
        "source_flow_restricted"
    ):
        raise InvalidRequest(
            "This received debit cannot be reversed: its source flow (e.g. a returned inbound "
            "transfer) is not reversible.",
            param="received_debit",
        )
    if received["status"] != "succeeded":
        raise InvalidRequest(
            "Only succeeded received debits can be reversed.", param="received_debit"
        )
    if received["linked_flows"].get("debit_reversal"):
        raise InvalidRequest(
            "This received debit has already been reversed "
            f"({received['linked_flows']['debit_reversal']}).",
            param="received_debit",
        )
    deadline = (received.get("reversal_details") or {}).get("deadline")
    if deadline is not None and now > deadline:
        raise InvalidRequest(
            "The deadline to reverse this received debit has passed.", param="received_debit"
        )


def reverse(
    uow: UnitOfWork,
    scope: Scope,
    received: dict[str, Any],
    amount: int,
    *,
    dispute: str | None = None,
    meta: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Credit ``amount`` of ``received`` back to its financial account (money, Treasury, events)."""
    fa = received_flows.load_financial_account(
        uow, scope, received["financial_account"], param="received_debit"
    )
    now = scope.now()
    record = {
        "id": registry.id_for(TYPE),
        "object": TYPE,
        "amount": amount,
        "created": now,
        "currency": received["currency"],
        "financial_account": fa["id"],
        "hosted_regulatory_receipt_url": None,
        "linked_flows": {"issuing_dispute": dispute},
        "livemode": False,
        "metadata": meta or {},
        "network": received["network"],
        "received_debit": received["id"],
        "status": "processing",
        "status_transitions": {"completed_at": None},
        "transaction": None,
    }
    trxn = _credit(uow, scope, fa["id"], record, f"Debit reversal | {received['description']}", now)
    record["transaction"] = trxn["id"]
    events.record(uow, scope, f"{TYPE}.created", TYPE, copy.deepcopy(record))
    events.record(uow, scope, f"{TYPE}.initial_credit_granted", TYPE, copy.deepcopy(record))
    record["status"] = "succeeded"
    record["status_transitions"]["completed_at"] = now
    uow.docs.insert(TYPE, scope.account, record, _keys(record))
    events.record(uow, scope, f"{TYPE}.completed", TYPE, copy.deepcopy(record))
    _link_received_debit(uow, scope, received, record)
    return record


def _credit(
    uow: UnitOfWork, scope: Scope, fa_id: str, record: dict[str, Any], description: str, now: int
) -> dict[str, Any]:
    """The money coming back from the network's counterparty account, as a received credit."""
    return received_flows.post(
        uow,
        scope,
        fa_id,
        record["currency"],
        record,
        record["network"],
        "debit_reversal",
        description,
        incoming=True,
        now=now,
    )


def _link_received_debit(
    uow: UnitOfWork, scope: Scope, received: dict[str, Any], record: dict[str, Any]
) -> None:
    received["linked_flows"]["debit_reversal"] = record["id"]
    reversals = uow.docs.find(TYPE, scope.account, "received_debit", received["id"])
    reversed_total = sum(r["amount"] for r in reversals if r["status"] == "succeeded")
    if reversed_total >= received["amount"]:
        details = received.get("reversal_details") or {"deadline": None, "restricted_reason": None}
        details["restricted_reason"] = "already_reversed"
        received["reversal_details"] = details
    uow.docs.update(received)


def _keys(record: dict[str, Any]) -> dict[str, str | None]:
    resolution = {"succeeded": "won", "failed": "lost"}.get(record["status"])
    return {
        "financial_account": record["financial_account"],
        "received_debit": record["received_debit"],
        "status": record["status"],
        "resolution": resolution,
    }


def list_(uow: UnitOfWork, scope: Scope, params: dict[str, Any], **page: Any):
    received_flows.load_financial_account(uow, scope, params["financial_account"])
    filters = {"financial_account": params["financial_account"]}
    if params.get("received_debit"):
        filters["received_debit"] = params["received_debit"]
    if params.get("status"):
        filters["status"] = STATUS_FILTER[params["status"]]
    if params.get("resolution"):
        filters["resolution"] = params["resolution"]
    return uow.docs.list(TYPE, scope.account, filters=filters, **page)
